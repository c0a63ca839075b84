// RealExecutor: a (time, sequence) heap of callbacks like SimLoop's, drained from Asio handlers.
// Due callbacks are run by one posted "drain" handler at a time; future ones by one steady_timer
// armed for the earliest. Cancelled entries are dropped lazily, as in SimLoop.
#include "net/real/real_executor.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <queue>
#include <utility>
#include <vector>

#include "net/real/asio_access.h"

namespace lafs::real {

namespace asio = boost::asio;

struct RealExecutor::Impl {
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

  // Declared first so that it is destroyed last: the timer and queued handlers need it.
  asio::io_context io{1};
  asio::steady_timer timer{io};
  std::priority_queue<Entry, std::vector<Entry>, Later> heap;
  std::vector<Slot> slots;
  std::vector<std::uint32_t> free_slots;
  std::uint64_t seq = 0;
  std::size_t live = 0;
  bool draining = false;
  bool drain_posted = false;
  bool timer_armed = false;
  std::int64_t timer_expiry_ns = 0;
  std::uint64_t timer_gen = 0;

  static std::int64_t clock_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  bool live_entry(const Entry& e) const { return slots[e.slot].gen == e.gen; }

  void drop_cancelled_top() {
    while (!heap.empty() && !live_entry(heap.top())) heap.pop();
  }

  void release(std::uint32_t slot) {
    Slot& s = slots[slot];
    s.fn = nullptr;
    ++s.gen;
    if (s.gen == 0) s.gen = 1;  // ids are never 0
    free_slots.push_back(slot);
    --live;
  }

  // Makes sure the earliest live entry will be run: by a posted drain when it is due, else by the
  // timer. Called whenever the head may have moved earlier, and after every drain.
  void rearm() {
    if (draining) return;  // drain() rearms when it finishes
    drop_cancelled_top();
    if (heap.empty()) {
      if (timer_armed) {
        timer_armed = false;
        ++timer_gen;
        timer.cancel();  // lets run() return when nothing else is pending
      }
      return;
    }
    const std::int64_t head_ns = heap.top().time_ns;
    if (head_ns <= clock_ns()) {
      if (!drain_posted) {
        drain_posted = true;
        asio::post(io, [this] {
          drain_posted = false;
          drain();
        });
      }
      return;
    }
    if (timer_armed && timer_expiry_ns <= head_ns) return;  // fires in time; drain re-arms then
    timer_armed = true;
    timer_expiry_ns = head_ns;
    const std::uint64_t gen = ++timer_gen;
    timer.expires_at(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(head_ns)));
    timer.async_wait([this, gen](const boost::system::error_code& ec) {
      if (ec || gen != timer_gen) return;  // cancelled or superseded by a newer arming
      timer_armed = false;
      drain();
    });
  }

  // Runs the callbacks due now, in (time, seq) order, at most kCallbacksPerTurnMax of them.
  void drain() {
    LAFS_ASSERT(!draining);
    draining = true;
    const std::int64_t t = clock_ns();
    std::size_t n = 0;
    while (n < kCallbacksPerTurnMax) {
      drop_cancelled_top();
      if (heap.empty() || heap.top().time_ns > t) break;
      const Entry e = heap.top();
      heap.pop();
      Callback fn = std::move(slots[e.slot].fn);
      release(e.slot);
      ++n;
      fn();
    }
    draining = false;
    rearm();
  }
};

asio::io_context& AsioAccess::io_context(RealExecutor& ex) {
  return ex.impl_->io;
}

RealExecutor::RealExecutor() : impl_(std::make_unique<Impl>()) {}

RealExecutor::~RealExecutor() = default;

MonoTime RealExecutor::now() const {
  return MonoTime(Duration(Impl::clock_ns()));
}

TimerId RealExecutor::schedule_at(MonoTime when, Callback fn) {
  LAFS_ASSERT(fn);
  Impl& m = *impl_;
  const std::int64_t now_ns = Impl::clock_ns();
  // A time in the past means now: it then runs after everything already due, as in SimLoop.
  const std::int64_t when_ns = std::max(when.time_since_epoch().count(), now_ns);
  std::uint32_t slot;
  if (!m.free_slots.empty()) {
    slot = m.free_slots.back();
    m.free_slots.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(m.slots.size());
    m.slots.emplace_back();
  }
  Impl::Slot& s = m.slots[slot];
  s.fn = std::move(fn);
  m.heap.push(Impl::Entry{when_ns, m.seq++, slot, s.gen});
  ++m.live;
  if (m.heap.top().slot == slot) m.rearm();  // a new head: it may need an earlier wake-up
  return (static_cast<std::uint64_t>(s.gen) << 32) | slot;
}

void RealExecutor::cancel(TimerId id) {
  Impl& m = *impl_;
  const auto slot = static_cast<std::uint32_t>(id & 0xffffffffu);
  const auto gen = static_cast<std::uint32_t>(id >> 32);
  if (slot >= m.slots.size() || m.slots[slot].gen != gen) return;  // already ran or cancelled
  m.release(slot);
  if (m.live == 0) m.rearm();  // drops the timer, so run() can return
}

void RealExecutor::post_from_any_thread(Callback fn) {
  LAFS_ASSERT(fn);
  asio::post(impl_->io, std::move(fn));
}

void RealExecutor::begin_outside_work() {
  impl_->io.get_executor().on_work_started();
}

void RealExecutor::end_outside_work() {
  impl_->io.get_executor().on_work_finished();
}

void RealExecutor::run() {
  Impl& m = *impl_;
  if (m.io.stopped()) m.io.restart();
  boost::system::error_code ec;
  m.io.run(ec);
  LAFS_ASSERT_MSG(!ec, "io_context::run failed");
}

bool RealExecutor::run_until(const std::function<bool()>& done, Duration timeout) {
  Impl& m = *impl_;
  if (m.io.stopped()) m.io.restart();
  const auto start = std::chrono::steady_clock::now();
  const bool bounded = timeout != Duration::max();
  while (!done()) {
    std::size_t ran;
    if (bounded) {
      const auto left = timeout - (std::chrono::steady_clock::now() - start);
      if (left <= Duration::zero()) return false;
      ran = m.io.run_one_for(left);
    } else {
      ran = m.io.run_one();
    }
    if (ran == 0 && m.io.stopped()) return done();  // stop(), or nothing left that could help
  }
  return true;
}

void RealExecutor::stop() {
  impl_->io.stop();
}

std::size_t RealExecutor::pending() const {
  return impl_->live;
}

}  // namespace lafs::real
