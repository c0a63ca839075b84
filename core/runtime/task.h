// Task<T>: a lazy, move-only coroutine that produces a T. Nothing runs until it is awaited
// (or spawned into a Scope). Awaiting starts the child inline; if it finishes without suspending,
// the parent continues without suspending at all, so a loop over synchronously-completing tasks
// does not grow the stack even where the compiler does not turn symmetric transfer into a tail
// call (g++ at -O1 and under ASan does not). If the child suspends, its completion later hands
// control back to the parent directly (symmetric transfer); stack depth is then bounded by the
// nesting depth of awaits, not by the number of iterations.
//
// Ownership: a Task owns its frame. Destroying a Task that has not finished destroys the frame
// and, recursively, the frames of the tasks it is awaiting: that is how cancellation works.
// Every awaiter therefore cleans up in its destructor (see Wakeup in executor.h).
//
// Habits (clang-tidy cppcoreguidelines-avoid-reference-coroutine-parameters and
// -avoid-capturing-lambda-coroutines): coroutine parameters are taken by value; lambdas that are
// coroutines capture nothing.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

#include "core/runtime/assert.h"

namespace lafs {

template <typename T = void>
class Task;

namespace detail {

enum class TaskRunState : unsigned char { kNotStarted, kRunningInline, kCompletedInline, kAsync };

struct TaskFinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <typename Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) noexcept {
    auto& p = h.promise();
    if (p.state == TaskRunState::kRunningInline) {
      p.state = TaskRunState::kCompletedInline;  // the parent is still in await_suspend
      return std::noop_coroutine();
    }
    std::coroutine_handle<> next = p.continuation;
    return next ? next : std::noop_coroutine();
  }
  void await_resume() const noexcept {}
};

struct TaskPromiseBase {
  std::coroutine_handle<> continuation;
  TaskRunState state = TaskRunState::kNotStarted;
  std::suspend_always initial_suspend() const noexcept { return {}; }
  TaskFinalAwaiter final_suspend() const noexcept { return {}; }
  // Errors are values in lafs; an escaping exception is a bug.
  void unhandled_exception() const noexcept { std::terminate(); }
};

template <typename T>
struct TaskPromise : TaskPromiseBase {
  std::optional<T> value;
  Task<T> get_return_object() noexcept;
  void return_value(T v) { value.emplace(std::move(v)); }
  T take() {
    LAFS_ASSERT(value.has_value());
    return std::move(*value);
  }
};

template <>
struct TaskPromise<void> : TaskPromiseBase {
  Task<void> get_return_object() noexcept;
  void return_void() const noexcept {}
  void take() const noexcept {}
};

}  // namespace detail

template <typename T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() = default;
  explicit Task(Handle h) noexcept : h_(h) {}
  Task(Task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  bool valid() const { return static_cast<bool>(h_); }
  bool done() const { return h_ && h_.done(); }

  struct Awaiter {
    Handle h;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
      auto& p = h.promise();
      p.continuation = awaiting;
      p.state = detail::TaskRunState::kRunningInline;
      h.resume();
      if (p.state == detail::TaskRunState::kCompletedInline) return false;  // go on at once
      p.state = detail::TaskRunState::kAsync;
      return true;
    }
    T await_resume() { return h.promise().take(); }
  };

  // A task can be awaited once.
  Awaiter operator co_await() && noexcept {
    LAFS_ASSERT(h_ && !h_.done());
    return Awaiter{h_};
  }
  Awaiter operator co_await() & noexcept {
    LAFS_ASSERT(h_ && !h_.done());
    return Awaiter{h_};
  }

  // For the runtime: the frame, still owned by this Task.
  Handle handle() const { return h_; }

 private:
  void reset() {
    if (h_) {
      h_.destroy();
      h_ = {};
    }
  }
  Handle h_;
};

namespace detail {
template <typename T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace lafs
