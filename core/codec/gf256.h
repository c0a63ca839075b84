// Arithmetic in GF(2^8) with the polynomial x^8+x^4+x^3+x^2+1 (0x11d), the field that Jerasure
// (w = 8) and ISA-L both use. Tables are built at compile time: no state, no initialisation race.
#pragma once

#include <array>
#include <cstdint>

#include "core/runtime/assert.h"

namespace lafs::codec::gf256 {

inline constexpr unsigned kPolynomial = 0x11d;

struct Tables {
  std::array<std::uint8_t, 512> exp{};  // doubled so that exp[log a + log b] needs no modulo
  std::array<std::uint8_t, 256> log{};  // log[0] is unused
};

constexpr Tables make_tables() {
  Tables t;
  unsigned x = 1;
  for (int i = 0; i < 255; ++i) {
    t.exp[i] = static_cast<std::uint8_t>(x);
    t.exp[i + 255] = static_cast<std::uint8_t>(x);
    t.log[x] = static_cast<std::uint8_t>(i);
    x <<= 1;
    if (x & 0x100) x ^= kPolynomial;
  }
  t.exp[510] = t.exp[0];
  t.exp[511] = t.exp[1];
  return t;
}

inline constexpr Tables kTables = make_tables();

constexpr std::uint8_t mul(std::uint8_t a, std::uint8_t b) {
  if (a == 0 || b == 0) return 0;
  return kTables.exp[kTables.log[a] + kTables.log[b]];
}

constexpr std::uint8_t inv(std::uint8_t a) {
  LAFS_ASSERT_MSG(a != 0, "GF(2^8): zero has no inverse");
  return kTables.exp[255 - kTables.log[a]];
}

constexpr std::uint8_t div(std::uint8_t a, std::uint8_t b) {
  return mul(a, inv(b));
}

}  // namespace lafs::codec::gf256
