// RealClock: monotonic time is the executor's (steady_clock); wall time is the system clock, which
// may jump (NTP, an operator), so it is for stored and exchanged times only.
#pragma once

#include <chrono>

#include "core/env/clock.h"
#include "net/real/real_executor.h"

namespace lafs::real {

class RealClock final : public Clock {
 public:
  explicit RealClock(RealExecutor& ex) : ex_(ex) {}

  MonoTime monotonic_now() const override { return ex_.now(); }
  WallTime wall_now() const override {
    return WallTime(
        std::chrono::duration_cast<Duration>(std::chrono::system_clock::now().time_since_epoch()));
  }

 private:
  RealExecutor& ex_;
};

}  // namespace lafs::real
