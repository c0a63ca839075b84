// Key derivation chains: every key, storage index, fingerprint, write enabler and lease secret of
// a file, each one tagged hash of the step before (formats and test vectors: docs/specs/crypto.md).
// Caps (core/cap/) carry the outputs; nothing here is serialized except through them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/crypto/cipher.h"
#include "core/crypto/hash.h"
#include "core/crypto/secret.h"
#include "core/crypto/sign.h"
#include "core/env/bytes.h"
#include "core/env/random.h"

namespace lafs::crypto {

// 16 bytes (128 bits): storage indexes are public names, not secrets, so they need only be
// collision-free across a grid (birthday bound 2^64 files) and short in verify caps and paths.
inline constexpr std::size_t kStorageIndexBytes = 16;
// 32 bytes: keys in caps are full 256-bit keys (no multi-target margin lost to truncation).
inline constexpr std::size_t kKeyBytes = 32;
// Per-publish (mutable) or per-entry (directory) randomness; drawn from Random.
inline constexpr std::size_t kSaltBytes = 16;
// A server is named by its Ed25519 node key (core/net/node_key.h), 32 bytes.
inline constexpr std::size_t kServerIdBytes = 32;

using StorageIndex = std::array<std::uint8_t, kStorageIndexBytes>;
using ConvergenceSecret = SecretBytes<kKeyBytes>;
using FileKey = StreamKey;  // an immutable file's key is its stream key
using WriteKey = SecretBytes<kKeyBytes>;
using ReadKey = SecretBytes<kKeyBytes>;
using WriteEnabler = SecretBytes<kKeyBytes>;
using LeaseSecret = SecretBytes<kKeyBytes>;
using Fingerprint = Digest;
using Salt = std::array<std::uint8_t, kSaltBytes>;
using ServerIdView = std::span<const std::uint8_t, kServerIdBytes>;

// ---- Immutable files ----

// What goes into a convergent key besides the secret and the plaintext: the same plaintext
// encoded differently is a different file (different shares), so it gets a different key and
// storage index. 1 <= k <= n <= 256, segment_size_bytes > 0 (asserted: validate before).
struct ConvergenceParams {
  std::uint32_t k = 0;
  std::uint32_t n = 0;
  std::uint64_t segment_size_bytes = 0;
};

// key = H_convergent-key(secret || u32 k || u32 n || u64 segment_size || plaintext), streamed
// (the convergence pass reads the file once before encryption). The plaintext is the only
// variable-length field and comes last, so the encoding is injective.
class ConvergentKeyHasher {
 public:
  ConvergentKeyHasher(const ConvergenceSecret& secret, const ConvergenceParams& params);
  ConvergentKeyHasher& update(ByteView plaintext) {
    hasher_.update(plaintext);
    return *this;
  }
  FileKey finish();

 private:
  Hasher hasher_;
};

FileKey convergent_key(const ConvergenceSecret& secret, const ConvergenceParams& params,
                       ByteView plaintext);
// The alternative to convergence (no dedup, no confirmation-of-a-file attack): a fresh key.
FileKey random_file_key(Random& random);
// The first 16 bytes of H_immutable-storage-index(key).
StorageIndex immutable_storage_index(const FileKey& key);

// ---- Mutable files: signing seed -> write key -> read key -> storage index ----

WriteKey mutable_write_key(const SigningSeed& seed);
ReadKey mutable_read_key(const WriteKey& write_key);
// The first 16 bytes of H_mutable-storage-index(read key).
StorageIndex mutable_storage_index(const ReadKey& read_key);
// H_verifying-key-fingerprint(verifying key): pinned by every mutable cap, so a reader can
// check the verifying key a share carries.
Fingerprint verifying_key_fingerprint(const VerifyingKey& key);

struct MutableKeys {
  WriteKey write_key;
  ReadKey read_key;
  StorageIndex storage_index{};
  Fingerprint fingerprint{};
};
MutableKeys derive_mutable_keys(const SigningKey& signing_key);

// H_write-enabler(write key || server id): the shared secret a server checks on every mutable
// write. Different per server, so one server cannot use what it learns to write at another.
WriteEnabler write_enabler(const WriteKey& write_key, ServerIdView server_id);

// H_mutable-data-key(read key || salt): the stream key of one segment of one published version.
// The salt is fresh (from Random) per publish per segment, so no two plaintexts share a key;
// the nonce is zero.
StreamKey mutable_data_key(const ReadKey& read_key, const Salt& salt);

// H_signing-key-wrap(write key): encrypts the signing seed stored in shares (nonce zero, offset
// 0). One key per file, always the same plaintext (the seed), so keystream reuse reveals nothing.
StreamKey signing_key_wrap_key(const WriteKey& write_key);

// ---- Directories ----

// H_directory-entry-key(directory write key || entry salt): encrypts a child's write cap inside
// a directory, so read-only holders of the directory see only the child's read cap.
StreamKey directory_entry_key(const WriteKey& directory_write_key, const Salt& entry_salt);

// ---- Leases: client secret -> per-file secret -> per-server secret ----
// The per-file secrets can be handed to a helper (a repairer) to maintain one file's leases on
// every server without revealing the client secret or any other file's secrets; a server sees
// only its own per-server secret, useless at other servers.

LeaseSecret file_renew_secret(const LeaseSecret& client_secret, const StorageIndex& si);
LeaseSecret server_renew_secret(const LeaseSecret& file_renew_secret, ServerIdView server_id);
LeaseSecret file_cancel_secret(const LeaseSecret& client_secret, const StorageIndex& si);
LeaseSecret server_cancel_secret(const LeaseSecret& file_cancel_secret, ServerIdView server_id);
// Both steps at once: what the client sends to `server_id` for file `si`.
LeaseSecret lease_renew_secret(const LeaseSecret& client_secret, const StorageIndex& si,
                               ServerIdView server_id);
LeaseSecret lease_cancel_secret(const LeaseSecret& client_secret, const StorageIndex& si,
                                ServerIdView server_id);

// ---- Placement ----

// H_permuted-ring(storage index || server id): servers sorted by this are the file's ring.
Digest permuted_ring_position(const StorageIndex& si, ServerIdView server_id);
// The same for many servers, sharing one hash context (a ring of hundreds is sorted per file).
std::vector<Digest> permuted_ring_positions(const StorageIndex& si,
                                            const std::vector<ServerIdView>& server_ids);

}  // namespace lafs::crypto
