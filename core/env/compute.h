// Compute: where CPU-heavy work (encryption, hashing, erasure coding) runs. Production uses a
// thread pool so that an upload uses every core; the simulator runs the work inline so it stays
// deterministic. The work function must only touch data it owns or that outlives the await
// (it may run on another thread); it must not touch the Env.
#pragma once

#include <coroutine>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "core/runtime/executor.h"
#include "core/runtime/task.h"

namespace lafs {

class Compute {
 public:
  virtual ~Compute() = default;

  // Runs `work` (possibly on another thread), then `done` from the executor's top level (a
  // scheduled callback, never inline inside a coroutine). The simulator runs both inline, before
  // submit() returns, which offload() below handles without suspending.
  // Thread-safety: call from the executor's thread.
  virtual void submit(std::function<void()> work, std::function<void()> done) = 0;
};

namespace detail {
// Shared between the awaiting frame and the in-flight work: the frame may be destroyed while the
// work runs, in which case `alive` is false and `done` does nothing.
struct OffloadState {
  bool alive = true;
  bool finished = false;
  std::coroutine_handle<> waiter;
};
}  // namespace detail

// co_await offload(compute, fn): runs fn() via Compute and returns its result.
template <typename F, typename R = std::invoke_result_t<F>>
Task<R> offload(Compute& compute, F fn) {
  auto state = std::make_shared<detail::OffloadState>();
  auto result = std::make_shared<std::optional<std::conditional_t<std::is_void_v<R>, bool, R>>>();
  struct Guard {
    std::shared_ptr<detail::OffloadState> s;
    ~Guard() { s->alive = false; }
  } guard{state};
  compute.submit(
      [fn = std::move(fn), result]() mutable {
        if constexpr (std::is_void_v<R>) {
          fn();
          result->emplace(true);
        } else {
          result->emplace(fn());
        }
      },
      [state] {
        if (!state->alive) return;
        state->finished = true;
        if (state->waiter) state->waiter.resume();
      });
  struct Awaiter {
    detail::OffloadState* s;
    bool await_ready() const noexcept { return s->finished; }
    void await_suspend(std::coroutine_handle<> h) noexcept { s->waiter = h; }
    void await_resume() const noexcept {}
  };
  co_await Awaiter{state.get()};
  if constexpr (!std::is_void_v<R>) co_return std::move(**result);
}

}  // namespace lafs
