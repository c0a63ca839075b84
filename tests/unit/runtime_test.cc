// Tests of the coroutine runtime (Task, Scope, Event, when_all, with_timeout) on the simulator's
// event loop, which gives exact, repeatable timing.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/runtime/event.h"
#include "core/runtime/scope.h"
#include "core/runtime/status.h"
#include "core/runtime/task.h"
#include "core/runtime/when.h"
#include "net/sim/sim_loop.h"

namespace lafs {
namespace {

using sim::SimLoop;

Task<int> add_one(int x) {
  co_return x + 1;
}

Task<int> chain(int depth) {
  int v = 0;
  for (int i = 0; i < depth; ++i) v = co_await add_one(v);
  co_return v;
}

Task<void> record(std::vector<std::string>* log, std::string what) {
  log->push_back(std::move(what));
  co_return;
}

Task<void> sleeper(Executor* ex, Duration d, std::vector<std::string>* log, std::string name) {
  co_await sleep_for(*ex, d);
  log->push_back(name);
}

TEST(Status, CarriesCodeAndMessage) {
  Status s = not_found("share 3");
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.to_string(), "NotFound: share 3");
  EXPECT_EQ(s.with_context("reading").to_string(), "NotFound: reading: share 3");
  EXPECT_TRUE(Status{}.is_ok());
  EXPECT_TRUE(is_retryable(ErrorCode::kTimeout));
  EXPECT_FALSE(is_retryable(ErrorCode::kCorruption));
}

TEST(Result, HoldsValueOrError) {
  Result<int> good = 7;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad = invalid_argument("nope");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.value_or(3), 3);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> bad = invalid_argument("nope");
  EXPECT_DEATH((void)bad.value(), "Result::ok");
}

TEST(Task, DeepSynchronousChainDoesNotGrowStack) {
  SimLoop loop;
  Scope scope(loop);
  int out = -1;
  scope.spawn([](int* o) -> Task<void> { *o = co_await chain(1'000'000); }(&out));
  loop.run();
  EXPECT_EQ(out, 1'000'000);
}

TEST(Scope, SpawnedTasksStartOnNextTurnInOrder) {
  SimLoop loop;
  Scope scope(loop);
  std::vector<std::string> log;
  scope.spawn(record(&log, "a"));
  scope.spawn(record(&log, "b"));
  EXPECT_TRUE(log.empty());  // lazy: nothing runs inside spawn()
  EXPECT_EQ(scope.size(), 2u);
  loop.run();
  EXPECT_EQ(log, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(scope.size(), 0u);
}

TEST(Scope, SleepsWakeInTimeOrderAndTiesInScheduleOrder) {
  SimLoop loop;
  Scope scope(loop);
  std::vector<std::string> log;
  scope.spawn(sleeper(&loop, milliseconds(30), &log, "30a"));
  scope.spawn(sleeper(&loop, milliseconds(10), &log, "10"));
  scope.spawn(sleeper(&loop, milliseconds(30), &log, "30b"));
  loop.run();
  EXPECT_EQ(log, (std::vector<std::string>{"10", "30a", "30b"}));
  EXPECT_EQ(loop.now(), MonoTime(milliseconds(30)));
}

struct DestroyFlag {
  bool* flag;
  ~DestroyFlag() { *flag = true; }
};

Task<void> hold_until_cancelled(Executor* ex, bool* destroyed, bool* finished) {
  DestroyFlag f{destroyed};
  co_await sleep_for(*ex, hours(1));
  *finished = true;
}

Task<void> nested_holder(Executor* ex, bool* destroyed, bool* finished) {
  co_await hold_until_cancelled(ex, destroyed, finished);
}

TEST(Scope, CancelDestroysNestedFramesAndTheirTimers) {
  SimLoop loop;
  bool destroyed = false, finished = false;
  {
    Scope scope(loop);
    scope.spawn(nested_holder(&loop, &destroyed, &finished));
    loop.run_until(MonoTime(seconds(1)));
    EXPECT_FALSE(destroyed);
    scope.cancel();
    EXPECT_TRUE(destroyed);
    EXPECT_EQ(scope.size(), 0u);
  }
  loop.run();
  EXPECT_FALSE(finished);
  EXPECT_EQ(loop.pending(), 0u);  // the sleeper's timer was cancelled, not left to fire
  EXPECT_LT(loop.now(), MonoTime(hours(1)));
}

TEST(Scope, CancelBeforeStartNeverRunsTask) {
  SimLoop loop;
  std::vector<std::string> log;
  Scope scope(loop);
  scope.spawn(record(&log, "x"));
  scope.cancel();
  loop.run();
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(loop.pending(), 0u);
}

Task<void> join_then(Scope* inner, std::vector<std::string>* log) {
  co_await inner->join();
  log->push_back("joined");
}

TEST(Scope, JoinWaitsForEveryTask) {
  SimLoop loop;
  Scope outer(loop), inner(loop);
  std::vector<std::string> log;
  inner.spawn(sleeper(&loop, milliseconds(5), &log, "a"));
  inner.spawn(sleeper(&loop, milliseconds(7), &log, "b"));
  outer.spawn(join_then(&inner, &log));
  loop.run();
  EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "joined"}));
}

Task<void> wait_event(Event* e, std::vector<std::string>* log, std::string name) {
  co_await e->wait();
  log->push_back(name);
}

TEST(Event, SetWakesAllWaitersViaExecutor) {
  SimLoop loop;
  Scope scope(loop);
  Event e(loop);
  std::vector<std::string> log;
  scope.spawn(wait_event(&e, &log, "1"));
  scope.spawn(wait_event(&e, &log, "2"));
  loop.run();
  EXPECT_TRUE(log.empty());
  e.set();
  EXPECT_TRUE(log.empty());  // never resumed inline
  loop.run();
  EXPECT_EQ(log, (std::vector<std::string>{"1", "2"}));
  scope.spawn(wait_event(&e, &log, "3"));  // already set: no suspension
  loop.run();
  EXPECT_EQ(log.back(), "3");
}

TEST(Event, CancelledWaiterIsNotResumed) {
  SimLoop loop;
  Event e(loop);
  std::vector<std::string> log;
  {
    Scope scope(loop);
    scope.spawn(wait_event(&e, &log, "gone"));
    loop.run();
    e.set();         // wake-up scheduled...
    scope.cancel();  // ...then the frame is destroyed: the wake-up must be dropped
  }
  loop.run();
  EXPECT_TRUE(log.empty());
}

Task<int> value_after(Executor* ex, Duration d, int v) {
  co_await sleep_for(*ex, d);
  co_return v;
}

TEST(WhenAll, GathersResultsInOrder) {
  SimLoop loop;
  Scope scope(loop);
  std::vector<int> out;
  scope.spawn([](Executor* ex, std::vector<int>* o) -> Task<void> {
    std::vector<Task<int>> ts;
    ts.push_back(value_after(ex, milliseconds(30), 1));
    ts.push_back(value_after(ex, milliseconds(10), 2));
    ts.push_back(value_after(ex, milliseconds(20), 3));
    *o = co_await when_all(*ex, std::move(ts));
  }(&loop, &out));
  loop.run();
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(loop.now(), MonoTime(milliseconds(30)));  // concurrent, not sequential
}

Task<Result<int>> result_after(Executor* ex, Duration d, int v, bool* destroyed) {
  DestroyFlag f{destroyed};
  co_await sleep_for(*ex, d);
  co_return v;
}

TEST(WithTimeout, FastTaskWins) {
  SimLoop loop;
  Scope scope(loop);
  bool destroyed = false;
  Result<int> out = internal_error("unset");
  scope.spawn([](Executor* ex, Result<int>* o, bool* d) -> Task<void> {
    *o = co_await with_timeout(*ex, seconds(1), result_after(ex, milliseconds(5), 42, d), "op");
  }(&loop, &out, &destroyed));
  loop.run();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, 42);
  EXPECT_EQ(loop.now(), MonoTime(milliseconds(5)));  // the timer was cancelled, not waited out
}

TEST(WithTimeout, SlowTaskIsCancelledWithTimeoutError) {
  SimLoop loop;
  Scope scope(loop);
  bool destroyed = false;
  Result<int> out = 0;
  scope.spawn([](Executor* ex, Result<int>* o, bool* d) -> Task<void> {
    *o = co_await with_timeout(*ex, milliseconds(10), result_after(ex, hours(1), 1, d), "slow op");
  }(&loop, &out, &destroyed));
  loop.run();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kTimeout);
  EXPECT_NE(out.status().message().find("slow op"), std::string::npos);
  EXPECT_TRUE(destroyed);
  EXPECT_EQ(loop.now(), MonoTime(milliseconds(10)));
}

TEST(SimLoop, CancelledEventsDoNotRunOrCount) {
  SimLoop loop;
  int ran = 0;
  TimerId a = loop.schedule_at(MonoTime(seconds(1)), [&] { ++ran; });
  loop.schedule_at(MonoTime(seconds(2)), [&] { ++ran; });
  loop.cancel(a);
  loop.cancel(a);  // idempotent
  EXPECT_EQ(loop.pending(), 1u);
  EXPECT_EQ(loop.run(), 1u);
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(loop.events_run(), 1u);
}

TEST(SimLoop, SameScheduleSameDigest) {
  auto digest = [](int n) {
    SimLoop loop;
    for (int i = 0; i < n; ++i) loop.schedule_at(MonoTime(milliseconds(i % 7)), [] {});
    loop.run();
    return loop.trace().hex();
  };
  EXPECT_EQ(digest(100), digest(100));
  EXPECT_NE(digest(100), digest(101));
}

}  // namespace
}  // namespace lafs
