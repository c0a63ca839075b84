// Ed25519 through libsodium, from seeds only (the purity test forbids crypto_sign_keypair).
#include "core/crypto/sign.h"

#include "core/runtime/assert.h"

namespace lafs::crypto {
namespace {

Bytes signed_bytes(HashTag purpose, ByteView message) {
  const auto block = tag_block(purpose);
  Bytes m;
  m.reserve(block.size() + message.size());
  m.insert(m.end(), block.begin(), block.end());
  m.insert(m.end(), message.begin(), message.end());
  return m;
}

}  // namespace

void ensure_sodium() {
  // A once-only initialisation flag (thread-safe static), not per-node state.
  static const bool initialised = sodium_init() >= 0;
  LAFS_ASSERT_MSG(initialised, "sodium_init failed");
}

SigningKey SigningKey::from_seed(const SigningSeed& seed) {
  ensure_sodium();
  SigningKey key;
  key.seed_ = seed;
  const int rc = crypto_sign_seed_keypair(key.verifying_key_.data(),
                                          key.expanded_.mutable_view().data(), seed.data());
  LAFS_ASSERT(rc == 0);
  return key;
}

SigningKey SigningKey::generate(Random& random) {
  return from_seed(random_secret<kSigningSeedBytes>(random));
}

Signature SigningKey::sign(HashTag purpose, ByteView message) const {
  const Bytes m = signed_bytes(purpose, message);
  Signature sig{};
  unsigned long long sig_len = 0;
  const int rc = crypto_sign_detached(sig.data(), &sig_len, m.data(), m.size(), expanded_.data());
  LAFS_ASSERT(rc == 0);
  LAFS_ASSERT(sig_len == sig.size());
  return sig;
}

Status verify_signature(const VerifyingKey& key, HashTag purpose, ByteView message,
                        const Signature& signature) {
  ensure_sodium();
  const Bytes m = signed_bytes(purpose, message);
  if (crypto_sign_verify_detached(signature.data(), m.data(), m.size(), key.data()) != 0) {
    return corruption(std::string("bad ") + std::string(hash_tag_name(purpose)) +
                      " signature by key " + to_hex(key));
  }
  return Status{};
}

}  // namespace lafs::crypto
