// A simulated node's clocks: monotonic time is the simulator's virtual time; wall time is that
// plus a per-node offset, so nodes can be skewed against each other and clocks can jump.
#pragma once

#include "core/env/clock.h"
#include "net/sim/sim_loop.h"

namespace lafs::sim {

// 2026-01-01T00:00:00Z: where simulated wall clocks start unless a scenario says otherwise.
inline constexpr WallTime kSimEpoch = WallTime(seconds(1767225600));

class SimClock final : public Clock {
 public:
  explicit SimClock(SimLoop& loop, WallTime epoch = kSimEpoch) : loop_(loop), epoch_(epoch) {}

  MonoTime monotonic_now() const override { return loop_.now(); }
  WallTime wall_now() const override { return epoch_ + loop_.now().time_since_epoch() + offset_; }

  // Skew against true simulated time (positive: this node's wall clock runs ahead).
  void set_offset(Duration offset) { offset_ = offset; }
  Duration offset() const { return offset_; }
  // A sudden jump (NTP step, operator error): forwards or backwards.
  void jump(Duration delta) { offset_ += delta; }

 private:
  SimLoop& loop_;
  WallTime epoch_;
  Duration offset_{0};
};

}  // namespace lafs::sim
