// Clock: the two times a node may read. monotonic_now() is for timeouts (it is the executor's
// time); wall_now() is Unix time for anything stored or compared between nodes (lease expiry).
// The wall clock may be skewed against other nodes and may jump, forwards or backwards: code
// that compares wall times must tolerate both (see docs/env.md).
#pragma once

#include "core/runtime/executor.h"
#include "core/runtime/time.h"

namespace lafs {

class Clock {
 public:
  virtual ~Clock() = default;
  // Never decreases; equal to executor().now().
  virtual MonoTime monotonic_now() const = 0;
  // Unix time in nanoseconds. May jump. Never use it for a timeout.
  virtual WallTime wall_now() const = 0;
};

}  // namespace lafs
