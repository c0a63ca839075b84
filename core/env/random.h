// Random: every random choice and every secret a node makes comes from here. In the simulator it
// is seeded and deterministic, so keys, nonces and choices replay exactly; in production it is
// the operating system's randomness (libsodium randombytes). Keys are derived from seeds drawn
// here (crypto_sign_seed_keypair and friends), never by library calls that draw their own.
#pragma once

#include <cstdint>
#include <span>

#include "core/runtime/assert.h"

namespace lafs {

class Random {
 public:
  virtual ~Random() = default;
  // Fills `out` with random bytes. Never fails.
  virtual void fill(std::span<std::uint8_t> out) = 0;
  virtual std::uint64_t next_u64() = 0;

  // Uniform in [0, bound), without modulo bias. bound > 0.
  std::uint64_t uniform(std::uint64_t bound) {
    LAFS_ASSERT(bound > 0);
    const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
    for (;;) {
      std::uint64_t x = next_u64();
      if (x < limit) return x % bound;
    }
  }
  // Uniform in [0, 1).
  double next_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return next_double() < p; }
};

}  // namespace lafs
