// The derivation chains of derive.h: each a Hasher over fixed-length fields.
#include "core/crypto/derive.h"

// permuted_ring_positions uses libcrypto's low-level SHA-256 (deprecated in OpenSSL 3, still
// shipped): a copy of a prepared midstate instead of the EVP machinery is ~3x faster per
// position, and a client sorts hundreds of servers per file. Same bytes as the Hasher path
// (pinned by CryptoKat.RingPositionsMatchOneByOne).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <algorithm>

#include "core/runtime/assert.h"

namespace lafs::crypto {
namespace {

// Moves a digest into a secret and wipes the stack copy.
SecretBytes<kKeyBytes> to_secret(Digest d) {
  static_assert(kDigestBytes == kKeyBytes);
  SecretBytes<kKeyBytes> s{ByteView(d)};
  sodium_memzero(d.data(), d.size());
  return s;
}

StorageIndex truncate_to_storage_index(const Digest& d) {
  StorageIndex si;
  std::copy_n(d.begin(), si.size(), si.begin());
  return si;
}

Digest hash_secret(HashTag tag, ByteView secret) {
  return Hasher(tag).update(secret).finish();
}

Digest hash_secret_and(HashTag tag, ByteView secret, ByteView fixed) {
  return Hasher(tag).update(secret).update(fixed).finish();
}

}  // namespace

ConvergentKeyHasher::ConvergentKeyHasher(const ConvergenceSecret& secret,
                                         const ConvergenceParams& params)
    : hasher_(HashTag::kConvergentKey) {
  LAFS_ASSERT(params.k >= 1);
  LAFS_ASSERT(params.k <= params.n);
  LAFS_ASSERT(params.n <= 256);
  LAFS_ASSERT(params.segment_size_bytes > 0);
  hasher_.update(secret.view())
      .update_u32(params.k)
      .update_u32(params.n)
      .update_u64(params.segment_size_bytes);
}

FileKey ConvergentKeyHasher::finish() {
  return to_secret(hasher_.finish());
}

FileKey convergent_key(const ConvergenceSecret& secret, const ConvergenceParams& params,
                       ByteView plaintext) {
  return ConvergentKeyHasher(secret, params).update(plaintext).finish();
}

FileKey random_file_key(Random& random) {
  return random_secret<kStreamKeyBytes>(random);
}

StorageIndex immutable_storage_index(const FileKey& key) {
  return truncate_to_storage_index(hash_secret(HashTag::kImmutableStorageIndex, key.view()));
}

WriteKey mutable_write_key(const SigningSeed& seed) {
  return to_secret(hash_secret(HashTag::kMutableWriteKey, seed.view()));
}

ReadKey mutable_read_key(const WriteKey& write_key) {
  return to_secret(hash_secret(HashTag::kMutableReadKey, write_key.view()));
}

StorageIndex mutable_storage_index(const ReadKey& read_key) {
  return truncate_to_storage_index(hash_secret(HashTag::kMutableStorageIndex, read_key.view()));
}

Fingerprint verifying_key_fingerprint(const VerifyingKey& key) {
  return tagged_hash(HashTag::kVerifyingKeyFingerprint, key);
}

MutableKeys derive_mutable_keys(const SigningKey& signing_key) {
  MutableKeys keys;
  keys.write_key = mutable_write_key(signing_key.seed());
  keys.read_key = mutable_read_key(keys.write_key);
  keys.storage_index = mutable_storage_index(keys.read_key);
  keys.fingerprint = verifying_key_fingerprint(signing_key.verifying_key());
  return keys;
}

WriteEnabler write_enabler(const WriteKey& write_key, ServerIdView server_id) {
  return to_secret(hash_secret_and(HashTag::kWriteEnabler, write_key.view(), server_id));
}

StreamKey mutable_data_key(const ReadKey& read_key, const Salt& salt) {
  return to_secret(hash_secret_and(HashTag::kMutableDataKey, read_key.view(), salt));
}

StreamKey signing_key_wrap_key(const WriteKey& write_key) {
  return to_secret(hash_secret(HashTag::kSigningKeyWrap, write_key.view()));
}

StreamKey directory_entry_key(const WriteKey& directory_write_key, const Salt& entry_salt) {
  return to_secret(
      hash_secret_and(HashTag::kDirectoryEntryKey, directory_write_key.view(), entry_salt));
}

LeaseSecret file_renew_secret(const LeaseSecret& client_secret, const StorageIndex& si) {
  return to_secret(hash_secret_and(HashTag::kLeaseRenewFile, client_secret.view(), si));
}

LeaseSecret server_renew_secret(const LeaseSecret& file_renew_secret, ServerIdView server_id) {
  return to_secret(
      hash_secret_and(HashTag::kLeaseRenewServer, file_renew_secret.view(), server_id));
}

LeaseSecret file_cancel_secret(const LeaseSecret& client_secret, const StorageIndex& si) {
  return to_secret(hash_secret_and(HashTag::kLeaseCancelFile, client_secret.view(), si));
}

LeaseSecret server_cancel_secret(const LeaseSecret& file_cancel_secret, ServerIdView server_id) {
  return to_secret(
      hash_secret_and(HashTag::kLeaseCancelServer, file_cancel_secret.view(), server_id));
}

LeaseSecret lease_renew_secret(const LeaseSecret& client_secret, const StorageIndex& si,
                               ServerIdView server_id) {
  return server_renew_secret(file_renew_secret(client_secret, si), server_id);
}

LeaseSecret lease_cancel_secret(const LeaseSecret& client_secret, const StorageIndex& si,
                                ServerIdView server_id) {
  return server_cancel_secret(file_cancel_secret(client_secret, si), server_id);
}

Digest permuted_ring_position(const StorageIndex& si, ServerIdView server_id) {
  return Hasher(HashTag::kPermutedRing).update(si).update(server_id).finish();
}

std::vector<Digest> permuted_ring_positions(const StorageIndex& si,
                                            const std::vector<ServerIdView>& server_ids) {
  std::vector<Digest> out(server_ids.size());
  SHA256_CTX tagged;  // after the tag block and the storage index
  const auto block = tag_block(HashTag::kPermutedRing);
  LAFS_ASSERT(SHA256_Init(&tagged) == 1);
  LAFS_ASSERT(SHA256_Update(&tagged, block.data(), block.size()) == 1);
  LAFS_ASSERT(SHA256_Update(&tagged, si.data(), si.size()) == 1);
  for (std::size_t i = 0; i < server_ids.size(); ++i) {
    SHA256_CTX c = tagged;
    Digest inner;
    LAFS_ASSERT(SHA256_Update(&c, server_ids[i].data(), server_ids[i].size()) == 1);
    LAFS_ASSERT(SHA256_Final(inner.data(), &c) == 1);
    LAFS_ASSERT(SHA256_Init(&c) == 1);
    LAFS_ASSERT(SHA256_Update(&c, inner.data(), inner.size()) == 1);
    LAFS_ASSERT(SHA256_Final(out[i].data(), &c) == 1);
  }
  return out;
}

}  // namespace lafs::crypto
