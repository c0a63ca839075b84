// run_task(): drives a SimLoop until one Task has finished and hands back its result, for tests and
// tools that call coroutine code from ordinary code.
#pragma once

#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "core/runtime/assert.h"
#include "core/runtime/scope.h"
#include "core/runtime/task.h"
#include "core/runtime/when.h"
#include "net/sim/sim_loop.h"

namespace lafs::sim {

namespace detail {

inline Task<void> run_task_mark(Task<void> task, bool* done) {
  co_await std::move(task);
  *done = true;
}

}  // namespace detail

// Spawns `task` and steps the loop until it has finished. Other events due before then run too;
// later ones stay queued, so a loop with periodic timers does not spin forever. Aborts when the
// loop runs dry (or `max_events` ran) first: the task waits for something that never comes.
template <typename T>
T run_task(SimLoop& loop, Task<T> task, std::uint64_t max_events = UINT64_MAX) {
  Scope scope(loop);
  if constexpr (std::is_void_v<T>) {
    bool done = false;
    scope.spawn(detail::run_task_mark(std::move(task), &done));
    loop.run_while_not([&done] { return done; }, max_events);
    LAFS_ASSERT_MSG(done, "run_task: the task did not finish");
  } else {
    std::optional<T> out;
    scope.spawn(lafs::detail::store_into(std::move(task), &out));
    loop.run_while_not([&out] { return out.has_value(); }, max_events);
    LAFS_ASSERT_MSG(out.has_value(), "run_task: the task did not finish");
    return std::move(*out);
  }
}

}  // namespace lafs::sim
