// RealExecutor: the production Executor. One thread runs an Asio io_context; callbacks scheduled
// here live in our own (time, sequence) heap driven by a single Asio timer, so that equal times run
// in scheduling order exactly as in the simulator, and thousands of timers cost one heap entry
// each.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "core/runtime/executor.h"
#include "core/runtime/time.h"

namespace lafs::real {

// How many scheduled callbacks one turn of the loop runs before letting I/O completions in.
inline constexpr std::size_t kCallbacksPerTurnMax = 1024;

class RealExecutor final : public Executor {
 public:
  RealExecutor();
  RealExecutor(const RealExecutor&) = delete;
  RealExecutor& operator=(const RealExecutor&) = delete;
  // Destroy every Scope, Connection and coroutine frame that uses this executor first: their
  // destructors cancel wake-ups here. Callbacks still scheduled are destroyed without running.
  ~RealExecutor() override;

  // steady_clock, in nanoseconds since its epoch. Thread-safe.
  MonoTime now() const override;
  TimerId schedule_at(MonoTime when, Callback fn) override;
  void cancel(TimerId id) override;

  // Runs `fn` on the executor's thread, at the top level, soon. The only method any thread may
  // call (the compute pool hands results back through it). Ordered after nothing in particular:
  // like an I/O completion, it races with scheduled callbacks.
  void post_from_any_thread(Callback fn);

  // Work done outside the loop that will end in post_from_any_thread(): while any is
  // outstanding, run() does not return for lack of work. Thread-safe; calls must balance.
  void begin_outside_work();
  void end_outside_work();

  // Runs callbacks and I/O on the calling thread until stop() or until nothing is scheduled and
  // no I/O, timer or outside work is pending. Not re-entrant.
  void run();

  // Runs until done() is true (checked after every event), nothing is pending, stop() was
  // called, or `timeout` of real time passed. Returns done().
  bool run_until(const std::function<bool()>& done, Duration timeout = Duration::max());

  // Makes a running run()/run_until() return after the event in progress. Thread-safe.
  void stop();

  // Callbacks scheduled and not yet run or cancelled.
  std::size_t pending() const;

 private:
  friend struct AsioAccess;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lafs::real
