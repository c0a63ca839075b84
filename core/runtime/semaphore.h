// Semaphore: a counting semaphore for coroutines, FIFO-fair. Bounds in-flight work (calls per
// connection, open buckets) and serialises access (a send lane is Semaphore(1)). acquire()
// yields a Permit that releases on destruction, so a cancelled frame never leaks a permit,
// whether it was still queued or had been granted but not yet resumed.
#pragma once

#include <coroutine>
#include <cstddef>
#include <utility>

#include "core/runtime/executor.h"
#include "core/runtime/intrusive_list.h"

namespace lafs {

class Semaphore {
 public:
  Semaphore(Executor& ex, std::size_t permits) : ex_(ex), available_(permits) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;
  ~Semaphore() { waiters_.clear(); }

  class Permit {
   public:
    Permit() = default;
    explicit Permit(Semaphore* s) : sem_(s) {}
    Permit(Permit&& o) noexcept : sem_(std::exchange(o.sem_, nullptr)) {}
    Permit& operator=(Permit&& o) noexcept {
      if (this != &o) {
        release();
        sem_ = std::exchange(o.sem_, nullptr);
      }
      return *this;
    }
    ~Permit() { release(); }
    void release() {
      if (sem_) std::exchange(sem_, nullptr)->release_one();
    }
    bool held() const { return sem_ != nullptr; }

   private:
    Semaphore* sem_ = nullptr;
  };

  class Awaiter : public IntrusiveListNode {
   public:
    explicit Awaiter(Semaphore& s) : sem_(&s) {}
    Awaiter(Awaiter&&) = delete;
    ~Awaiter() {
      if (linked()) sem_->waiters_.remove(this);
      if (granted_ && !resumed_) sem_->release_one();  // granted, then cancelled
    }
    bool await_ready() {
      if (sem_->available_ > 0 && sem_->waiters_.empty()) {
        --sem_->available_;
        granted_ = true;
        return true;
      }
      return false;
    }
    void await_suspend(std::coroutine_handle<> h) {
      handle_ = h;
      sem_->waiters_.push_back(this);
    }
    Permit await_resume() {
      LAFS_ASSERT(granted_);
      resumed_ = true;
      return Permit(sem_);
    }

   private:
    friend class Semaphore;
    Semaphore* sem_;
    std::coroutine_handle<> handle_;
    Wakeup wakeup_;
    bool granted_ = false;
    bool resumed_ = false;
  };

  Awaiter acquire() { return Awaiter(*this); }

  // A permit without waiting, if one is free and nobody queues.
  Permit try_acquire() {
    if (available_ == 0 || !waiters_.empty()) return Permit();
    --available_;
    return Permit(this);
  }

  std::size_t available() const { return available_; }
  std::size_t waiting() const { return waiters_.size(); }

 private:
  void release_one() {
    if (Awaiter* w = waiters_.pop_front()) {
      w->granted_ = true;  // hand the permit straight over: FIFO, no barging
      w->wakeup_.arm(ex_, w->handle_);
      return;
    }
    ++available_;
  }

  Executor& ex_;
  std::size_t available_;
  IntrusiveList<Awaiter> waiters_;
};

}  // namespace lafs
