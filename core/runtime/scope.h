// Scope: owns spawned tasks. A node has one, a request may have one. Cancelling a scope (or
// destroying it) destroys the frame of every task it owns, and through them every task they were
// awaiting; destructors release what the frames held (timers, connections, buffers). A simulated
// node crash is exactly that: its scope is cancelled.
//
// Rules: spawn() and cancel() only on the executor's thread. A task must not cancel or destroy
// the scope that owns it (it would destroy its own running frame); ask its owner instead.
#pragma once

#include <coroutine>
#include <cstddef>

#include "core/runtime/executor.h"
#include "core/runtime/intrusive_list.h"
#include "core/runtime/task.h"

namespace lafs {

class Scope;

namespace detail {

struct ScopeTaskPromise;
using ScopeTaskHandle = std::coroutine_handle<ScopeTaskPromise>;

struct ScopeTask {
  using promise_type = ScopeTaskPromise;
  ScopeTaskHandle handle;
};

struct ScopeTaskPromise : IntrusiveListNode {
  Scope* scope = nullptr;
  TimerId start_id = 0;

  ScopeTask get_return_object() noexcept { return {ScopeTaskHandle::from_promise(*this)}; }
  std::suspend_always initial_suspend() const noexcept { return {}; }
  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    void await_suspend(ScopeTaskHandle h) noexcept;
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() const noexcept { return {}; }
  void return_void() const noexcept {}
  void unhandled_exception() const noexcept { std::terminate(); }
};

}  // namespace detail

class Scope {
 public:
  explicit Scope(Executor& ex) : ex_(ex) {}
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
  ~Scope();

  Executor& executor() const { return ex_; }

  // Takes ownership of `task` and starts it on the executor's next turn. During cancel() the
  // task is destroyed without running.
  void spawn(Task<void> task);

  // Destroys every task this scope owns. Idempotent. Waiters (join etc.) are woken.
  void cancel();

  // Number of tasks owned and not yet finished.
  std::size_t size() const { return tasks_.size(); }

  class SizeAwaiter : public IntrusiveListNode {
   public:
    SizeAwaiter(Scope& scope, std::size_t at_most) : scope_(&scope), at_most_(at_most) {}
    SizeAwaiter(SizeAwaiter&&) = delete;
    ~SizeAwaiter();
    bool await_ready() const noexcept { return scope_->size() <= at_most_; }
    void await_suspend(std::coroutine_handle<> h);
    void await_resume() const noexcept {}

   private:
    friend class Scope;
    Scope* scope_;
    std::size_t at_most_;
    std::coroutine_handle<> handle_;
    Wakeup wakeup_;
  };

  // co_await scope.wait_until_at_most(n): resumes once at most n tasks remain.
  SizeAwaiter wait_until_at_most(std::size_t n) { return SizeAwaiter(*this, n); }
  // co_await scope.join(): resumes once every task has finished. Not from a task of this scope.
  SizeAwaiter join() { return SizeAwaiter(*this, 0); }

 private:
  friend struct detail::ScopeTaskPromise::FinalAwaiter;
  void finished(detail::ScopeTaskHandle h);
  void wake_waiters();

  Executor& ex_;
  bool cancelling_ = false;
  IntrusiveList<detail::ScopeTaskPromise> tasks_;
  IntrusiveList<SizeAwaiter> waiters_;
};

}  // namespace lafs
