// RealRandom: the operating system's randomness through libsodium's randombytes. Used for keys
// and nonces in production; the simulator's SimRandom replaces it to make runs replayable.
#pragma once

#include <cstdint>
#include <span>

#include "core/env/random.h"

namespace lafs::real {

class RealRandom final : public Random {
 public:
  // Initialises libsodium (idempotent and thread-safe); aborts if it cannot.
  RealRandom();

  void fill(std::span<std::uint8_t> out) override;
  std::uint64_t next_u64() override;
};

}  // namespace lafs::real
