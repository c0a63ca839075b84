// Oneshot<T>: a slot one producer fills once and one coroutine awaits, with an optional
// deadline. set() never resumes the waiter inline (it schedules the wake-up), and destroying the
// waiting frame cancels everything, so it is safe under Scope cancellation.
#pragma once

#include <coroutine>
#include <optional>
#include <utility>

#include "core/runtime/executor.h"

namespace lafs {

template <typename T>
class Oneshot {
 public:
  explicit Oneshot(Executor& ex) : ex_(ex) {}
  Oneshot(const Oneshot&) = delete;
  Oneshot& operator=(const Oneshot&) = delete;
  ~Oneshot() {
    if (waiter_) waiter_->slot_ = nullptr;
  }

  bool has_value() const { return value_.has_value(); }

  // Fills the slot (the first value wins) and wakes the waiter.
  void set(T value) {
    if (value_) return;
    value_.emplace(std::move(value));
    if (waiter_) {
      waiter_->wakeup_.disarm();
      waiter_->wakeup_.arm(ex_, waiter_->handle_);
    }
  }

  class Awaiter {
   public:
    Awaiter(Oneshot* slot, std::optional<MonoTime> deadline) : slot_(slot), deadline_(deadline) {}
    Awaiter(Awaiter&&) = delete;
    ~Awaiter() {
      if (slot_ && slot_->waiter_ == this) slot_->waiter_ = nullptr;
    }
    bool await_ready() const noexcept { return slot_ == nullptr || slot_->value_.has_value(); }
    void await_suspend(std::coroutine_handle<> h) {
      LAFS_ASSERT(slot_->waiter_ == nullptr);  // one waiter
      handle_ = h;
      slot_->waiter_ = this;
      if (deadline_) wakeup_.arm_at(slot_->ex_, *deadline_, h);
    }
    // The value, or nullopt when the deadline passed first (or the slot went away).
    std::optional<T> await_resume() {
      if (slot_ == nullptr) return std::nullopt;
      slot_->waiter_ = nullptr;
      if (!slot_->value_) return std::nullopt;
      return std::move(slot_->value_);
    }

   private:
    friend class Oneshot;
    Oneshot* slot_;
    std::optional<MonoTime> deadline_;
    std::coroutine_handle<> handle_;
    Wakeup wakeup_;
  };

  Awaiter wait() { return Awaiter(this, std::nullopt); }
  Awaiter wait_until(MonoTime deadline) { return Awaiter(this, deadline); }

 private:
  Executor& ex_;
  std::optional<T> value_;
  Awaiter* waiter_ = nullptr;
};

}  // namespace lafs
