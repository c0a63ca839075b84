// Seeded, deterministic randomness for the simulator: xoshiro256** seeded through splitmix64.
// Not cryptographic, and it need not be: simulated keys only have to be reproducible. Each node
// and each fault source gets its own stream (fork()), so adding draws in one place does not
// shift every other.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/env/random.h"

namespace lafs::sim {

class SimRandom final : public Random {
 public:
  explicit SimRandom(std::uint64_t seed) { reseed(seed); }

  void reseed(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& s : s_) s = splitmix64(x);
  }

  std::uint64_t next_u64() override {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  void fill(std::span<std::uint8_t> out) override {
    std::size_t i = 0;
    while (i < out.size()) {
      std::uint64_t v = next_u64();
      std::size_t n = out.size() - i < 8 ? out.size() - i : 8;
      std::memcpy(out.data() + i, &v, n);
      i += n;
    }
  }

  // An independent stream derived from this one and a label.
  SimRandom fork(std::uint64_t label) {
    std::uint64_t x = next_u64() ^ (label * 0x9e3779b97f4a7c15ULL);
    return SimRandom(splitmix64(x));
  }

  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace lafs::sim
