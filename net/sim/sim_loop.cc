#include "net/sim/sim_loop.h"

#include <algorithm>
#include <utility>

namespace lafs::sim {

TimerId SimLoop::schedule_at(MonoTime when, Callback fn) {
  LAFS_ASSERT(fn);
  if (when < now_) when = now_;
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[slot];
  s.fn = std::move(fn);
  heap_.push_back(Entry{when.time_since_epoch().count(), seq_++, slot, s.gen});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  ++live_;
  return (static_cast<std::uint64_t>(s.gen) << 32) | slot;
}

void SimLoop::release(std::uint32_t slot) {
  Slot& s = slots_[slot];
  s.fn = nullptr;
  ++s.gen;
  if (s.gen == 0) s.gen = 1;  // ids are never 0
  free_slots_.push_back(slot);
  --live_;
}

void SimLoop::cancel(TimerId id) {
  const auto slot = static_cast<std::uint32_t>(id & 0xffffffffu);
  const auto gen = static_cast<std::uint32_t>(id >> 32);
  if (slot >= slots_.size() || slots_[slot].gen != gen) return;  // already ran or cancelled
  release(slot);
  if (heap_.size() > 2 * live_ + 1024) compact();
}

SimLoop::Entry SimLoop::pop_top() {
  std::pop_heap(heap_.begin(), heap_.end(), Later{});
  const Entry e = heap_.back();
  heap_.pop_back();
  return e;
}

// Drops cancelled entries. The order of events does not change: (time, seq) is a total order.
void SimLoop::compact() {
  std::erase_if(heap_, [this](const Entry& e) { return slots_[e.slot].gen != e.gen; });
  std::make_heap(heap_.begin(), heap_.end(), Later{});
}

bool SimLoop::step() {
  while (!heap_.empty()) {
    const Entry e = pop_top();
    Slot& s = slots_[e.slot];
    if (s.gen != e.gen) continue;  // cancelled
    LAFS_ASSERT(e.time_ns >= now_.time_since_epoch().count());
    now_ = MonoTime(Duration(e.time_ns));
    Callback fn = std::move(s.fn);
    release(e.slot);
    ++events_run_;
    trace_.add_u64(static_cast<std::uint64_t>(e.time_ns));
    trace_.add_u64(e.seq);
    fn();
    return true;
  }
  return false;
}

std::uint64_t SimLoop::run_until(MonoTime limit, std::uint64_t max_events) {
  std::uint64_t n = 0;
  while (n < max_events) {
    // Drop cancelled entries so the head is a live event.
    while (!heap_.empty() && slots_[heap_.front().slot].gen != heap_.front().gen) pop_top();
    if (heap_.empty() || heap_.front().time_ns > limit.time_since_epoch().count()) break;
    step();
    ++n;
  }
  if (n < max_events && now_ < limit) now_ = limit;
  return n;
}

std::uint64_t SimLoop::run(std::uint64_t max_events) {
  std::uint64_t n = 0;
  while (n < max_events && step()) ++n;
  return n;
}

}  // namespace lafs::sim
