// run_task(): drives a RealExecutor until one Task has finished and hands back its result, for
// tests and main() functions that call coroutine code from ordinary code. The real-world twin of
// net/sim/sim_run.h.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "core/runtime/assert.h"
#include "core/runtime/scope.h"
#include "core/runtime/task.h"
#include "core/runtime/time.h"
#include "core/runtime/when.h"
#include "net/real/real_executor.h"

namespace lafs::real {

namespace detail {

inline Task<void> run_task_mark(Task<void> task, bool* done) {
  co_await std::move(task);
  *done = true;
}

}  // namespace detail

// Spawns `task` and runs the executor until it has finished. Aborts when it has not finished
// within `timeout` of real time, or when the executor runs out of work first (the task waits for
// something that never comes).
template <typename T>
T run_task(RealExecutor& ex, Task<T> task, Duration timeout = seconds(60)) {
  Scope scope(ex);
  if constexpr (std::is_void_v<T>) {
    bool done = false;
    scope.spawn(detail::run_task_mark(std::move(task), &done));
    ex.run_until([&done] { return done; }, timeout);
    LAFS_ASSERT_MSG(done, "run_task: the task did not finish");
  } else {
    std::optional<T> out;
    scope.spawn(lafs::detail::store_into(std::move(task), &out));
    ex.run_until([&out] { return out.has_value(); }, timeout);
    LAFS_ASSERT_MSG(out.has_value(), "run_task: the task did not finish");
    return std::move(*out);
  }
}

}  // namespace lafs::real
