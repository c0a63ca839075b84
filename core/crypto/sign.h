// Ed25519 (libsodium) keys made from 32-byte seeds, and signatures bound to a purpose tag so that
// a signature made for one kind of message can never be replayed as another.
#pragma once

#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/crypto/hash.h"
#include "core/crypto/secret.h"
#include "core/env/bytes.h"
#include "core/env/random.h"
#include "core/runtime/status.h"

namespace lafs::crypto {

inline constexpr std::size_t kSigningSeedBytes = crypto_sign_SEEDBYTES;        // 32
inline constexpr std::size_t kVerifyingKeyBytes = crypto_sign_PUBLICKEYBYTES;  // 32
inline constexpr std::size_t kSignatureBytes = crypto_sign_BYTES;              // 64

// The seed is the whole private key: it is what a mutable share stores (encrypted under the
// write key) and what the write key is derived from.
using SigningSeed = SecretBytes<kSigningSeedBytes>;
using VerifyingKey = std::array<std::uint8_t, kVerifyingKeyBytes>;
using Signature = std::array<std::uint8_t, kSignatureBytes>;

class SigningKey {
 public:
  // Deterministic (crypto_sign_seed_keypair): the same seed always gives the same key pair.
  static SigningKey from_seed(const SigningSeed& seed);
  // A new key from a seed drawn from the Env's Random (never crypto_sign_keypair).
  static SigningKey generate(Random& random);

  const SigningSeed& seed() const { return seed_; }
  const VerifyingKey& verifying_key() const { return verifying_key_; }

  // Signs tag_block(purpose) || message (hash.h): the purpose is part of what is signed.
  Signature sign(HashTag purpose, ByteView message) const;

 private:
  SigningKey() = default;
  SigningSeed seed_;
  SecretBytes<crypto_sign_SECRETKEYBYTES> expanded_;  // libsodium's seed || public key form
  VerifyingKey verifying_key_{};
};

// OK if `signature` is `key`'s signature over (purpose, message); Corruption otherwise
// (including for a key that is not a valid curve point).
Status verify_signature(const VerifyingKey& key, HashTag purpose, ByteView message,
                        const Signature& signature);

// libsodium must be initialised before use; idempotent and cheap after the first call. Called
// by this module's entry points; other core/ code using libsodium directly may call it too.
void ensure_sodium();

}  // namespace lafs::crypto
