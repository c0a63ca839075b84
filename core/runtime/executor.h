// The scheduler seam: where callbacks and coroutine wake-ups run, and the monotonic clock they
// run against. One executor is single-threaded: every callback runs on its thread, one at a time,
// in (time, order of scheduling) order. The simulator implements it with virtual time; the real
// Env with an Asio io_context.
//
// Rule that makes cancellation safe: a coroutine is resumed only from the executor's top level
// (a scheduled callback), never inline from inside another coroutine's code, except for the
// structured parent/child hand-over of Task<T>. So destroying any suspended frame (Scope::cancel)
// never pulls the stack out from under running code.
#pragma once

#include <coroutine>
#include <cstdint>
#include <functional>

#include "core/runtime/assert.h"
#include "core/runtime/time.h"

namespace lafs {

// Names a scheduled callback so it can be cancelled. 0 is never a valid id.
using TimerId = std::uint64_t;

class Executor {
 public:
  using Callback = std::function<void()>;

  virtual ~Executor() = default;

  // The executor's monotonic time. Never decreases.
  virtual MonoTime now() const = 0;

  // Runs `fn` on the executor's thread at or after `when` (a time in the past means "now"),
  // after every callback already scheduled for an earlier or equal time. Returns an id for
  // cancel(). Thread-safety: only from the executor's own thread.
  virtual TimerId schedule_at(MonoTime when, Callback fn) = 0;

  // Runs `fn` soon: schedule_at(now(), fn).
  TimerId post(Callback fn) { return schedule_at(now(), std::move(fn)); }

  // Prevents a scheduled callback from running and destroys it. A no-op when it already ran or
  // was cancelled. Only from the executor's own thread.
  virtual void cancel(TimerId id) = 0;
};

// A pending resumption of one coroutine, cancelled if the owner (an awaiter living in the
// coroutine frame) is destroyed before it runs. This is the building block of every awaitable.
class Wakeup {
 public:
  Wakeup() = default;
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;
  ~Wakeup() { disarm(); }

  bool armed() const { return id_ != 0; }

  // Schedules h.resume() at `when`. At most one pending resumption at a time.
  void arm_at(Executor& ex, MonoTime when, std::coroutine_handle<> h) {
    LAFS_ASSERT(!armed());
    ex_ = &ex;
    id_ = ex.schedule_at(when, [this, h] {
      id_ = 0;
      h.resume();
    });
  }
  void arm(Executor& ex, std::coroutine_handle<> h) { arm_at(ex, ex.now(), h); }

  void disarm() {
    if (id_ != 0) {
      ex_->cancel(id_);
      id_ = 0;
    }
  }

 private:
  Executor* ex_ = nullptr;
  TimerId id_ = 0;
};

// co_await sleep_until(ex, t): resumes at t (or soon, if t has passed). Cancellation-safe.
class SleepAwaiter {
 public:
  SleepAwaiter(Executor& ex, MonoTime when) : ex_(ex), when_(when) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { wakeup_.arm_at(ex_, when_, h); }
  void await_resume() noexcept {}

 private:
  Executor& ex_;
  MonoTime when_;
  Wakeup wakeup_;
};

inline SleepAwaiter sleep_until(Executor& ex, MonoTime when) {
  return SleepAwaiter(ex, when);
}
inline SleepAwaiter sleep_for(Executor& ex, Duration d) {
  return SleepAwaiter(ex, ex.now() + d);
}
// Yields to other ready work scheduled at the current time.
inline SleepAwaiter yield_now(Executor& ex) {
  return SleepAwaiter(ex, ex.now());
}

}  // namespace lafs
