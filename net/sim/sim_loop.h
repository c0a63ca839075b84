// The simulator's event loop: one thread, virtual time, events ordered by (time, sequence
// number) so that equal times run in the order they were scheduled. It is the Executor of every
// simulated node. Every executed event is folded into the trace digest.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/runtime/executor.h"
#include "net/sim/trace_digest.h"

namespace lafs::sim {

class SimLoop final : public Executor {
 public:
  SimLoop() = default;
  SimLoop(const SimLoop&) = delete;
  SimLoop& operator=(const SimLoop&) = delete;

  MonoTime now() const override { return now_; }
  TimerId schedule_at(MonoTime when, Callback fn) override;
  void cancel(TimerId id) override;

  // Runs the next event, advancing time to it. False when no event is pending.
  bool step();

  // Runs events due at or before `limit`, then sets the time to `limit` (if later). Stops early
  // after `max_events`. Returns the number run.
  std::uint64_t run_until(MonoTime limit, std::uint64_t max_events = UINT64_MAX);

  // Runs until no event is pending or `max_events` ran. Returns the number run.
  std::uint64_t run(std::uint64_t max_events = UINT64_MAX);

  // Runs until `done()` is true, no event is pending, or `max_events` ran.
  template <typename Pred>
  std::uint64_t run_while_not(Pred done, std::uint64_t max_events = UINT64_MAX) {
    std::uint64_t n = 0;
    while (!done() && n < max_events && step()) ++n;
    return n;
  }

  std::uint64_t events_run() const { return events_run_; }
  std::size_t pending() const { return live_; }
  TraceDigest& trace() { return trace_; }

 private:
  struct Entry {
    std::int64_t time_ns;
    std::uint64_t seq;
    std::uint32_t slot;
    std::uint32_t gen;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.time_ns != b.time_ns ? a.time_ns > b.time_ns : a.seq > b.seq;
    }
  };
  struct Slot {
    Callback fn;
    std::uint32_t gen = 1;
  };
  void release(std::uint32_t slot);
  Entry pop_top();
  void compact();

  MonoTime now_{};
  std::uint64_t seq_ = 0;
  std::uint64_t events_run_ = 0;
  std::size_t live_ = 0;
  // A binary heap (std::push_heap/pop_heap with Later). Cancelled entries stay until they reach
  // the top or a compaction: every RPC's deadline timer is cancelled when the call returns, and
  // without compaction the heap held all of them for their whole timeout.
  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  TraceDigest trace_;
};

}  // namespace lafs::sim
