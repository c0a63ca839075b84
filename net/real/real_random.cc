// RealRandom on libsodium's randombytes_buf (getrandom(2) on Linux).
#include "net/real/real_random.h"

#include <sodium.h>

namespace lafs::real {

RealRandom::RealRandom() {
  // 0: initialised now, 1: already initialised, -1: failure (no usable entropy source).
  LAFS_ASSERT_MSG(sodium_init() >= 0, "sodium_init failed");
}

void RealRandom::fill(std::span<std::uint8_t> out) {
  if (!out.empty()) randombytes_buf(out.data(), out.size());
}

std::uint64_t RealRandom::next_u64() {
  std::uint64_t v;
  randombytes_buf(&v, sizeof v);
  return v;
}

}  // namespace lafs::real
