// Internal to net/real/: how coroutines wait for Asio completions. A coroutine parks a Waiter
// (living in its own frame) in a slot of shared state; the completion handler calls wake(),
// which resumes it from the executor's top level through a Wakeup, never from inside the
// handler's call stack. Destroying the parked frame must clear the slot (the awaiters that use
// this do so in their destructors).
#pragma once

#include <coroutine>

#include "core/runtime/executor.h"

namespace lafs::real {

struct Waiter {
  std::coroutine_handle<> handle;
  Wakeup wakeup;
};

// Wakes the coroutine parked in `slot`, if any, and empties the slot.
inline void wake(Executor& ex, Waiter*& slot) {
  if (slot == nullptr) return;
  Waiter* w = slot;
  slot = nullptr;
  w->wakeup.disarm();
  w->wakeup.arm(ex, w->handle);
}

}  // namespace lafs::real
