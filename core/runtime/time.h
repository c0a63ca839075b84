// Time types. MonoTime is for timeouts and deadlines (never jumps, meaningless between nodes);
// WallTime is Unix time (may jump, may be skewed) for anything stored or compared between nodes,
// such as lease expiry. Both are nanosecond-resolution std::chrono time points on tag clocks that
// have no now(): the only way to read a clock is through the Env.
#pragma once

#include <chrono>
#include <cstdint>

namespace lafs {

using Duration = std::chrono::nanoseconds;
using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

struct MonoClockTag {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = Duration;
  using time_point = std::chrono::time_point<MonoClockTag, Duration>;
  static constexpr bool is_steady = true;
};

struct WallClockTag {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = Duration;
  using time_point = std::chrono::time_point<WallClockTag, Duration>;
  static constexpr bool is_steady = false;
};

using MonoTime = MonoClockTag::time_point;
using WallTime = WallClockTag::time_point;  // nanoseconds since the Unix epoch

inline std::int64_t to_unix_seconds(WallTime t) {
  return std::chrono::duration_cast<seconds>(t.time_since_epoch()).count();
}
inline WallTime from_unix_seconds(std::int64_t s) {
  return WallTime(seconds(s));
}

constexpr std::int64_t to_ns(Duration d) {
  return d.count();
}
inline double to_seconds_f(Duration d) {
  return static_cast<double>(d.count()) / 1e9;
}

}  // namespace lafs
