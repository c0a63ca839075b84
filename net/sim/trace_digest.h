// A running BLAKE2b-256 over everything the simulator does (event times, order, message sizes
// and prefixes). Two runs with the same code, scenario and seed give the same digest; a
// difference means nondeterminism crept in. Input is buffered so hashing stays cheap per event.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

namespace lafs::sim {

class TraceDigest {
 public:
  TraceDigest();

  void add_u64(std::uint64_t v) {
    if (used_ + sizeof v > buf_.size()) flush();
    std::memcpy(buf_.data() + used_, &v, sizeof v);
    used_ += sizeof v;
  }
  void add_bytes(const std::uint8_t* data, std::size_t n);

  // Hex of the digest of everything added so far. Does not disturb the running state.
  std::string hex() const;

 private:
  void flush();
  crypto_generichash_state state_;
  std::array<std::uint8_t, 8192> buf_{};
  std::size_t used_ = 0;
};

}  // namespace lafs::sim
