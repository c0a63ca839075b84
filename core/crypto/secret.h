// SecretBytes<N>: fixed-size key material that is wiped when freed and compared in constant time.
// Every secret in lafs (file keys, write/read keys, seeds, lease secrets) lives in one of these.
#pragma once

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/env/bytes.h"
#include "core/env/random.h"
#include "core/runtime/assert.h"
#include "core/runtime/status.h"

namespace lafs::crypto {

// Held inline, not in sodium_malloc'd guarded pages: a directory holds thousands of keys and
// sodium_malloc costs three pages and two mprotect calls each. What we do guarantee: no copy
// outlives its owner unwiped (destructor and moved-from sources are zeroed with sodium_memzero,
// which the compiler may not elide), and equality never leaks where two secrets first differ.
// There is deliberately no operator< and no implicit conversion to bytes.
template <std::size_t N>
class SecretBytes {
 public:
  static constexpr std::size_t kSize = N;

  SecretBytes() { bytes_.fill(0); }
  // `b` must be exactly N bytes (a programmer error otherwise; parse with from_bytes).
  explicit SecretBytes(ByteView b) {
    LAFS_ASSERT(b.size() == N);
    std::copy(b.begin(), b.end(), bytes_.begin());
  }
  SecretBytes(const SecretBytes&) = default;
  SecretBytes& operator=(const SecretBytes&) = default;
  SecretBytes(SecretBytes&& other) noexcept : bytes_(other.bytes_) { other.wipe(); }
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      bytes_ = other.bytes_;
      other.wipe();
    }
    return *this;
  }
  ~SecretBytes() { wipe(); }

  // For untrusted input (a parsed cap, a stored record): a clear error instead of an abort.
  static Result<SecretBytes> from_bytes(ByteView b) {
    if (b.size() != N) {
      return invalid_argument("secret must be " + std::to_string(N) + " bytes, got " +
                              std::to_string(b.size()));
    }
    return SecretBytes(b);
  }

  std::span<const std::uint8_t, N> view() const { return std::span<const std::uint8_t, N>(bytes_); }
  std::span<std::uint8_t, N> mutable_view() { return std::span<std::uint8_t, N>(bytes_); }
  const std::uint8_t* data() const { return bytes_.data(); }
  static constexpr std::size_t size() { return N; }

  void wipe() { sodium_memzero(bytes_.data(), N); }

  friend bool operator==(const SecretBytes& a, const SecretBytes& b) {
    return sodium_memcmp(a.bytes_.data(), b.bytes_.data(), N) == 0;
  }

 private:
  std::array<std::uint8_t, N> bytes_;
};

// A fresh secret from the Env's randomness (seeded, hence replayable, in the simulator). core/
// never draws randomness any other way.
template <std::size_t N>
SecretBytes<N> random_secret(Random& random) {
  SecretBytes<N> s;
  random.fill(s.mutable_view());
  return s;
}

}  // namespace lafs::crypto
