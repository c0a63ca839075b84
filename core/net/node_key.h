// A node's long-term identity: an Ed25519 key pair made from a 32-byte seed. The public key is
// the node's id on the grid; connections prove it (secure_channel.h).
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "core/env/bytes.h"
#include "core/env/random.h"
#include "core/runtime/status.h"

namespace lafs::net {

inline constexpr std::size_t kPublicKeyBytes = 32;
inline constexpr std::size_t kSignatureBytes = 64;
inline constexpr std::size_t kSeedBytes = 32;

using PublicKey = std::array<std::uint8_t, kPublicKeyBytes>;
using Signature = std::array<std::uint8_t, kSignatureBytes>;

class NodeKey {
 public:
  // Deterministic: the same seed gives the same key.
  static NodeKey from_seed(std::span<const std::uint8_t, kSeedBytes> seed);
  // A fresh key from the Env's randomness (seeded in the simulator).
  static NodeKey generate(Random& random);

  NodeKey(const NodeKey& other) = default;
  NodeKey& operator=(const NodeKey& other) = default;
  ~NodeKey() { sodium_memzero(secret_.data(), secret_.size()); }

  const PublicKey& public_key() const { return public_; }
  Signature sign(ByteView message) const;

 private:
  NodeKey() = default;
  std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> secret_{};
  PublicKey public_{};
};

bool verify_signature(const PublicKey& key, ByteView message, const Signature& signature);

// Lowercase hex, for logs and addresses of record (a public key is not a secret).
std::string to_hex(ByteView bytes);
Result<PublicKey> public_key_from_hex(std::string_view hex);

}  // namespace lafs::net
