#include "core/net/node_key.h"

namespace lafs::net {

NodeKey NodeKey::from_seed(std::span<const std::uint8_t, kSeedBytes> seed) {
  LAFS_ASSERT(sodium_init() >= 0);
  NodeKey k;
  crypto_sign_seed_keypair(k.public_.data(), k.secret_.data(), seed.data());
  return k;
}

NodeKey NodeKey::generate(Random& random) {
  std::array<std::uint8_t, kSeedBytes> seed{};
  random.fill(seed);
  NodeKey k = from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return k;
}

Signature NodeKey::sign(ByteView message) const {
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.data());
  return sig;
}

bool verify_signature(const PublicKey& key, ByteView message, const Signature& signature) {
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     key.data()) == 0;
}

std::string to_hex(ByteView bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

Result<PublicKey> public_key_from_hex(std::string_view hex) {
  if (hex.size() != kPublicKeyBytes * 2) {
    return invalid_argument("public key must be " + std::to_string(kPublicKeyBytes * 2) +
                            " hex digits, got " + std::to_string(hex.size()));
  }
  PublicKey k{};
  for (std::size_t i = 0; i < k.size(); ++i) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return invalid_argument("public key has a non-hex (or uppercase) digit");
    k[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return k;
}

}  // namespace lafs::net
