// Event: a one-shot signal that any number of coroutines can await. set() never resumes a waiter
// inline; it schedules each wake-up on the executor (see executor.h for why).
#pragma once

#include <coroutine>

#include "core/runtime/executor.h"
#include "core/runtime/intrusive_list.h"

namespace lafs {

class Event {
 public:
  explicit Event(Executor& ex) : ex_(ex) {}
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event() { waiters_.clear(); }  // Remaining waiters stay suspended until their scope ends.

  bool is_set() const { return set_; }

  void set() {
    if (set_) return;
    set_ = true;
    while (Awaiter* w = waiters_.pop_front()) w->wakeup_.arm(ex_, w->handle_);
  }

  // Makes the event unset again; waiters already woken stay woken.
  void reset() { set_ = false; }

  class Awaiter : public IntrusiveListNode {
   public:
    explicit Awaiter(Event& e) : event_(&e) {}
    Awaiter(Awaiter&&) = delete;
    ~Awaiter() {
      if (linked()) event_->waiters_.remove(this);
    }
    bool await_ready() const noexcept { return event_->set_; }
    void await_suspend(std::coroutine_handle<> h) {
      handle_ = h;
      event_->waiters_.push_back(this);
    }
    void await_resume() const noexcept {}

   private:
    friend class Event;
    Event* event_;
    std::coroutine_handle<> handle_;
    Wakeup wakeup_;
  };

  Awaiter wait() { return Awaiter(*this); }

 private:
  Executor& ex_;
  bool set_ = false;
  IntrusiveList<Awaiter> waiters_;
};

}  // namespace lafs
