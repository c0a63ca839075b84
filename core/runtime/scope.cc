#include "core/runtime/scope.h"

#include <utility>

namespace lafs {

namespace {

detail::ScopeTask run_in_scope(Task<void> task) {
  co_await std::move(task);
}

}  // namespace

void detail::ScopeTaskPromise::FinalAwaiter::await_suspend(ScopeTaskHandle h) noexcept {
  h.promise().scope->finished(h);
}

Scope::~Scope() {
  cancel();
  waiters_.clear();
}

void Scope::spawn(Task<void> task) {
  LAFS_ASSERT(task.valid());
  if (cancelling_) return;  // `task` is destroyed here without running.
  detail::ScopeTaskHandle h = run_in_scope(std::move(task)).handle;
  detail::ScopeTaskPromise& p = h.promise();
  p.scope = this;
  tasks_.push_back(&p);
  p.start_id = ex_.post([h] {
    h.promise().start_id = 0;
    h.resume();
  });
}

void Scope::finished(detail::ScopeTaskHandle h) {
  LAFS_ASSERT(h.promise().scope == this);
  tasks_.remove(&h.promise());
  h.destroy();
  wake_waiters();
}

void Scope::cancel() {
  if (cancelling_) return;
  cancelling_ = true;
  while (detail::ScopeTaskPromise* p = tasks_.pop_front()) {
    if (p->start_id != 0) ex_.cancel(p->start_id);
    detail::ScopeTaskHandle::from_promise(*p).destroy();
  }
  cancelling_ = false;
  wake_waiters();
}

void Scope::wake_waiters() {
  // Collect first: arming a wakeup never runs code inline, but keep the walk simple.
  IntrusiveList<SizeAwaiter> ready;
  while (SizeAwaiter* w = waiters_.pop_front()) ready.push_back(w);
  while (SizeAwaiter* w = ready.pop_front()) {
    if (size() <= w->at_most_) {
      w->wakeup_.arm(ex_, w->handle_);
    } else {
      waiters_.push_back(w);
    }
  }
}

Scope::SizeAwaiter::~SizeAwaiter() {
  if (linked()) scope_->waiters_.remove(this);
}

void Scope::SizeAwaiter::await_suspend(std::coroutine_handle<> h) {
  handle_ = h;
  scope_->waiters_.push_back(this);
}

}  // namespace lafs
