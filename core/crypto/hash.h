// Tagged hashes: the one hash function of lafs (SHA-256, chosen by measurement: docs/specs/
// crypto.md), with a distinct tag per purpose bound into every hash, and fixed 32-byte outputs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/env/bytes.h"

namespace lafs::crypto {

inline constexpr std::size_t kDigestBytes = 32;
using Digest = std::array<std::uint8_t, kDigestBytes>;

// One tag per purpose. The numeric values are never stored or sent; the tag *names* (below,
// and in docs/specs/crypto.md) are what is hashed, so renaming a tag changes formats and the
// known-answer tests catch it. A new purpose gets a new tag; a tag is never reused.
enum class HashTag : std::uint8_t {
  // Immutable files.
  kConvergentKey,          // convergence secret, encoding params, plaintext -> file key
  kImmutableStorageIndex,  // file key -> storage index
  kCiphertextSegment,      // a ciphertext segment -> ciphertext tree leaf
  kCiphertextTreeNode,     // ciphertext tree interior node
  kBlockLeaf,              // one erasure-coded block -> block tree leaf
  kBlockTreeNode,          // block tree interior node
  kShareTreeNode,          // share tree (leaves: the n block tree roots) interior node
  kExtensionBlock,         // the extension block -> the hash a cap pins
  // Mutable files.
  kMutableWriteKey,          // Ed25519 signing seed -> write key
  kMutableReadKey,           // write key -> read key
  kMutableStorageIndex,      // read key -> storage index
  kVerifyingKeyFingerprint,  // Ed25519 verifying key -> fingerprint
  kWriteEnabler,             // write key, server id -> per-server write enabler
  kMutableDataKey,           // read key, per-publish per-segment salt -> stream key
  kSigningKeyWrap,           // write key -> stream key that encrypts the signing seed in shares
  kMutableHeaderSignature,   // signature context: signed share header
  kMutableBlockLeaf,         // segment salt, one erasure-coded block -> mutable block tree leaf
  // Directories.
  kDirectoryEntryKey,  // directory write key, per-entry salt -> key for a child's write cap
  // Leases.
  kLeaseRenewFile,     // client lease secret, storage index -> file renew secret
  kLeaseRenewServer,   // file renew secret, server id -> renew secret sent to that server
  kLeaseCancelFile,    // client lease secret, storage index -> file cancel secret
  kLeaseCancelServer,  // file cancel secret, server id -> cancel secret sent to that server
  // Placement, network, introducer.
  kPermutedRing,           // storage index, server id -> position on the permuted ring
  kHandshake,              // connection handshake transcript
  kAnnouncementSignature,  // signature context: introducer announcement
  // Hash trees.
  kHashTreePadding,  // the leaf that pads a tree to a power-of-two width
};
inline constexpr std::size_t kHashTagCount =
    static_cast<std::size_t>(HashTag::kHashTreePadding) + 1;

// "lafs-v1/..." — at most kMaxTagNameBytes bytes, all distinct.
std::string_view hash_tag_name(HashTag tag);
inline constexpr std::size_t kMaxTagNameBytes = 63;

// The construction (docs/specs/crypto.md, "Tagged hash"):
//   tag_block = u8(len(name)) || name || zero bytes up to 64   (one SHA-256 block)
//   H_tag(m)  = SHA-256( SHA-256( tag_block || m ) )
// The tag is length-prefixed and fixed-size, so no (tag, m) pair collides with another without a
// SHA-256 collision. The outer hash is there because SHA-256 alone admits length extension: with
// a secret among the inputs (convergence secret, lease secret) anyone holding H(secret || m)
// could compute H(secret || m || pad || x) for a message of their choice.
//
// Hasher streams: update() any number of times, then finish(). Multi-field inputs use the
// update_u32/u64 (big-endian) and fixed-size secrets; a variable-length field followed by
// another uses update_field (u64 length prefix), so that every encoding is injective.
// Move-only; holds a SHA-256 state inline (no allocation), started from a prepared copy of the
// state after the tag block, so a short hash (a derivation, a tree node) costs its own blocks.
class Hasher {
 public:
  explicit Hasher(HashTag tag);
  ~Hasher();
  Hasher(Hasher&& other) noexcept;
  Hasher& operator=(Hasher&& other) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  Hasher& update(ByteView data);
  Hasher& update_u32(std::uint32_t v);
  Hasher& update_u64(std::uint64_t v);
  Hasher& update_field(ByteView data);

  // Returns H_tag(everything updated since construction or reset) and resets to the same tag.
  Digest finish();
  // Discards what was updated and starts a hash with `tag`.
  void reset(HashTag tag);
  HashTag tag() const { return tag_; }

 private:
  void begin_if_needed();

  // libcrypto's SHA256_CTX (112 bytes), kept opaque here; hash.cc checks the size.
  static constexpr std::size_t kStateBytes = 112;
  alignas(8) unsigned char state_[kStateBytes];
  HashTag tag_;
  // finish() leaves the state unstarted; the next update() or finish() starts it again.
  bool started_ = false;
  bool moved_from_ = false;
};

// One-shot forms.
Digest tagged_hash(HashTag tag, ByteView data);
// H_tag(a || b): the hash tree interior node, without copying the children together.
Digest tagged_hash2(HashTag tag, ByteView a, ByteView b);

// The 64-byte block that opens every hash with `tag` (also the signature context prefix).
std::array<std::uint8_t, 64> tag_block(HashTag tag);

// Lowercase hex, for known-answer tests, logs and error messages (never for secrets in logs).
std::string to_hex(ByteView bytes);
// Parses lowercase or uppercase hex; false on odd length or a non-hex character.
bool from_hex(std::string_view hex, Bytes* out);

}  // namespace lafs::crypto
