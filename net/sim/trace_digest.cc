#include "net/sim/trace_digest.h"

#include "core/runtime/assert.h"

namespace lafs::sim {

TraceDigest::TraceDigest() {
  LAFS_ASSERT(sodium_init() >= 0);
  crypto_generichash_init(&state_, nullptr, 0, 32);
}

void TraceDigest::add_bytes(const std::uint8_t* data, std::size_t n) {
  if (n == 0) return;
  if (n > buf_.size() / 2) {
    flush();
    crypto_generichash_update(&state_, data, n);
    return;
  }
  if (used_ + n > buf_.size()) flush();
  std::memcpy(buf_.data() + used_, data, n);
  used_ += n;
}

void TraceDigest::flush() {
  if (used_ == 0) return;
  crypto_generichash_update(&state_, buf_.data(), used_);
  used_ = 0;
}

std::string TraceDigest::hex() const {
  crypto_generichash_state copy = state_;
  crypto_generichash_update(&copy, buf_.data(), used_);
  std::array<std::uint8_t, 32> out{};
  crypto_generichash_final(&copy, out.data(), out.size());
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (std::uint8_t b : out) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

}  // namespace lafs::sim
