// Tests of the production executor (RealExecutor): (time, scheduling order), cancellation, timers
// against the real clock, many timers, cross-thread posts, run/run_until/stop; plus RealClock and
// RealRandom, and the coroutine runtime (sleep, Event, with_timeout) running on it.
#include "net/real/real_executor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "core/runtime/event.h"
#include "core/runtime/scope.h"
#include "core/runtime/when.h"
#include "net/real/real_clock.h"
#include "net/real/real_random.h"
#include "net/real/real_run.h"
#include "net/sim/sim_random.h"

namespace lafs::real {
namespace {

TEST(RealExecutor, EqualTimesRunInSchedulingOrder) {
  RealExecutor ex;
  const MonoTime at = ex.now() + milliseconds(5);
  std::vector<int> order;
  for (int i = 0; i < 100; ++i) ex.schedule_at(at, [&order, i] { order.push_back(i); });
  ex.run();
  ASSERT_EQ(order.size(), 100u);
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
}

TEST(RealExecutor, EarlierTimesRunFirstThenSchedulingOrder) {
  RealExecutor ex;
  // Far enough ahead that scheduling all 2000 finishes before the first is due, even on a
  // loaded CI machine under ASan (2 ms was not: a timer already past when scheduled runs as
  // "now", out of the order this test checks).
  const MonoTime base = ex.now() + milliseconds(300);
  sim::SimRandom rng(7);
  struct Ran {
    std::int64_t offset_us;
    int seq;
  };
  std::vector<Ran> ran;
  for (int i = 0; i < 2000; ++i) {
    const auto off = static_cast<std::int64_t>(rng.uniform(20)) * 500;  // many ties
    ex.schedule_at(base + microseconds(off), [&ran, off, i] { ran.push_back({off, i}); });
  }
  ex.run();
  ASSERT_EQ(ran.size(), 2000u);
  for (std::size_t i = 1; i < ran.size(); ++i) {
    const bool ordered = ran[i - 1].offset_us < ran[i].offset_us ||
                         (ran[i - 1].offset_us == ran[i].offset_us && ran[i - 1].seq < ran[i].seq);
    ASSERT_TRUE(ordered) << "at " << i;
  }
}

TEST(RealExecutor, PastTimesMeanNowAndRunAfterWhatIsDue) {
  RealExecutor ex;
  std::vector<int> order;
  ex.post([&] { order.push_back(1); });
  ex.schedule_at(MonoTime(), [&] { order.push_back(2); });  // long ago: runs as "now"
  ex.post([&] { order.push_back(3); });
  ex.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(RealExecutor, CancelPreventsRunAndIsNoopAfterRun) {
  RealExecutor ex;
  int a = 0, b = 0, c = 0;
  TimerId ia = ex.post([&] { ++a; });
  TimerId ib = ex.schedule_at(ex.now() + milliseconds(1), [&] { ++b; });
  ex.cancel(ib);
  ex.cancel(ib);  // twice: still a no-op
  EXPECT_EQ(ex.pending(), 1u);
  ex.run();
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 0);
  // The slots are reused; stale ids must not cancel the new occupants.
  TimerId ic = ex.post([&] { ++c; });
  ex.cancel(ia);
  ex.cancel(ib);
  ex.run();
  EXPECT_EQ(c, 1);
  ex.cancel(ic);
  EXPECT_EQ(ex.pending(), 0u);
}

TEST(RealExecutor, CallbackMayCancelALaterOne) {
  RealExecutor ex;
  int ran = 0;
  TimerId later = 0;
  ex.post([&] { ex.cancel(later); });
  later = ex.post([&] { ++ran; });
  ex.run();
  EXPECT_EQ(ran, 0);
}

TEST(RealExecutor, TimersFireNoEarlierThanTheirTime) {
  RealExecutor ex;
  std::vector<std::pair<MonoTime, MonoTime>> fired;  // (due, ran)
  const MonoTime start = ex.now();
  for (int ms : {30, 10, 20, 0, 5}) {
    const MonoTime due = start + milliseconds(ms);
    ex.schedule_at(due, [&fired, &ex, due] { fired.emplace_back(due, ex.now()); });
  }
  ex.run();
  ASSERT_EQ(fired.size(), 5u);
  for (auto& [due, ran] : fired) {
    EXPECT_GE(ran, due);
    EXPECT_LT(ran - due, milliseconds(500)) << "a timer fired far too late";
  }
  EXPECT_TRUE(std::is_sorted(fired.begin(), fired.end()));
}

TEST(RealExecutor, ManyTimersWithCancellations) {
  RealExecutor ex;
  constexpr int kTimers = 100'000;
  sim::SimRandom rng(3);
  // Far enough ahead that scheduling them all (slow under ASan) rarely overtakes their times.
  const MonoTime base = ex.now() + milliseconds(300);
  std::vector<TimerId> ids;
  std::vector<MonoTime> due(kTimers);
  std::vector<int> ran;
  ids.reserve(kTimers);
  ran.reserve(kTimers);
  for (int i = 0; i < kTimers; ++i) {
    due[i] = base + microseconds(rng.uniform(50'000));
    ids.push_back(ex.schedule_at(due[i], [&ran, i] { ran.push_back(i); }));
  }
  // A time that had passed while scheduling counts as "now" then; only later ones keep order.
  const MonoTime scheduled_by = ex.now();
  for (int i = 0; i < kTimers; i += 3) ex.cancel(ids[i]);
  ex.run();
  ASSERT_EQ(ran.size(), static_cast<std::size_t>(kTimers - (kTimers + 2) / 3));
  std::vector<char> seen(kTimers, 0);
  int prev = -1;
  for (int i : ran) {
    ASSERT_NE(i % 3, 0) << "cancelled timer " << i << " ran";
    seen[i] = 1;
    if (due[i] < scheduled_by) continue;
    if (prev >= 0) {
      ASSERT_TRUE(due[prev] < due[i] || (due[prev] == due[i] && prev < i)) << prev << " " << i;
    }
    prev = i;
  }
  for (int i = 0; i < kTimers; ++i) ASSERT_EQ(seen[i], i % 3 == 0 ? 0 : 1) << i;
  EXPECT_EQ(ex.pending(), 0u);
}

TEST(RealExecutor, RunReturnsOnceAFarTimerIsCancelled) {
  RealExecutor ex;
  TimerId far = ex.schedule_at(ex.now() + hours(1), [] { FAIL() << "must not run"; });
  ex.post([&] { ex.cancel(far); });
  const auto t0 = std::chrono::steady_clock::now();
  ex.run();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(RealExecutor, PostFromOtherThreads) {
  RealExecutor ex;
  constexpr int kThreads = 4;
  constexpr int kPosts = 2000;
  int count = 0;  // touched only on the executor thread
  for (int t = 0; t < kThreads; ++t) ex.begin_outside_work();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ex, &count] {
      for (int i = 0; i < kPosts; ++i) ex.post_from_any_thread([&count] { ++count; });
      ex.end_outside_work();
    });
  }
  ex.run();  // returns only after every thread finished and every post ran
  for (auto& th : threads) th.join();
  EXPECT_EQ(count, kThreads * kPosts);
}

TEST(RealExecutor, RunUntilStopsAtPredicateOrTimeout) {
  RealExecutor ex;
  bool flag = false;
  ex.schedule_at(ex.now() + milliseconds(5), [&] { flag = true; });
  ex.schedule_at(ex.now() + hours(1), [] {});
  EXPECT_TRUE(ex.run_until([&] { return flag; }, seconds(10)));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(ex.run_until([] { return false; }, milliseconds(50)));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, std::chrono::milliseconds(50));
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(RealExecutor, StopFromAnotherThread) {
  RealExecutor ex;
  ex.schedule_at(ex.now() + hours(1), [] {});
  std::thread stopper([&ex] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ex.stop();
  });
  ex.run();  // would take an hour without stop()
  stopper.join();
  EXPECT_EQ(ex.pending(), 1u);
}

Task<void> sleeper(Executor* ex, Duration d, std::vector<int>* log, int id) {
  co_await sleep_for(*ex, d);
  log->push_back(id);
}

TEST(RealExecutor, CoroutinesSleepAndCancel) {
  RealExecutor ex;
  std::vector<int> log;
  Scope keep(ex);
  auto cancelled = std::make_unique<Scope>(ex);
  keep.spawn(sleeper(&ex, milliseconds(20), &log, 2));
  keep.spawn(sleeper(&ex, milliseconds(5), &log, 1));
  cancelled->spawn(sleeper(&ex, milliseconds(10), &log, 99));
  ex.run_until([&] { return log.size() == 1; }, seconds(10));
  cancelled.reset();  // destroys the sleeping frame and its timer
  ex.run();
  EXPECT_EQ(log, (std::vector<int>{1, 2}));
}

Task<void> wait_event(Event* e, int* woken) {
  co_await e->wait();
  ++*woken;
}

TEST(RealExecutor, EventWakesEveryWaiter) {
  RealExecutor ex;
  Event e(ex);
  int woken = 0;
  Scope scope(ex);
  for (int i = 0; i < 10; ++i) scope.spawn(wait_event(&e, &woken));
  ex.schedule_at(ex.now() + milliseconds(2), [&e] { e.set(); });
  ex.run();
  EXPECT_EQ(woken, 10);
}

Task<Status> slow(Executor* ex) {
  co_await sleep_for(*ex, hours(1));
  co_return Status{};
}

TEST(RealExecutor, WithTimeoutCancelsTheSlowTask) {
  RealExecutor ex;
  const auto t0 = std::chrono::steady_clock::now();
  Status s = run_task(ex, with_timeout(ex, milliseconds(20), slow(&ex), "slow"));
  EXPECT_EQ(s.code(), ErrorCode::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(ex.pending(), 0u);  // the hour-long sleep went with its frame
}

TEST(RealClock, MonotonicIsTheExecutorsAndWallIsUnixTime) {
  RealExecutor ex;
  RealClock clock(ex);
  const MonoTime a = clock.monotonic_now();
  const MonoTime b = ex.now();
  EXPECT_LE(a, b);
  const auto sys =
      std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  EXPECT_NEAR(static_cast<double>(to_unix_seconds(clock.wall_now())), static_cast<double>(sys), 2);
  EXPECT_GT(to_unix_seconds(clock.wall_now()), 1'700'000'000);  // after 2023
}

TEST(RealRandom, FillsAndDiffers) {
  RealRandom r;
  std::array<std::uint8_t, 64> a{}, b{};
  r.fill(a);
  r.fill(b);
  EXPECT_NE(a, b);
  r.fill(std::span<std::uint8_t>());  // empty is fine
  std::uint64_t x = r.next_u64(), y = r.next_u64();
  EXPECT_NE(x, y);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(r.uniform(7), 7u);
}

}  // namespace
}  // namespace lafs::real
