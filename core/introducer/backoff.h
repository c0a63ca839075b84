// Bounded exponential backoff with jitter, shared by the publisher and the subscriber. Delays
// double from `initial` per consecutive failure and never exceed `max`; jitter (from the Env's
// Random, so the simulator replays it) spreads them over [delay/2, delay] so that clients of a
// restarted introducer do not all return at once.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/env/random.h"
#include "core/runtime/assert.h"
#include "core/runtime/time.h"

namespace lafs::introducer {

struct BackoffOptions {
  Duration initial = seconds(1);
  Duration max = minutes(5);
};

// The wait after the `failures`-th consecutive failure (failures >= 1).
inline Duration backoff_delay(Random& random, const BackoffOptions& o, std::uint32_t failures) {
  LAFS_ASSERT(failures >= 1);
  LAFS_ASSERT(o.initial > Duration(0) && o.initial <= o.max);
  Duration d = o.initial;
  for (std::uint32_t i = 1; i < failures && d < o.max; ++i) d = std::min(o.max, d * 2);
  const std::int64_t half = d.count() / 2;
  const Duration out = Duration(half + static_cast<std::int64_t>(random.uniform(
                                           static_cast<std::uint64_t>(d.count() - half) + 1)));
  LAFS_ASSERT(out <= o.max);
  return out;
}

}  // namespace lafs::introducer
