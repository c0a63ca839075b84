// Fan-out and deadlines built on Scope: when_all() runs tasks concurrently and gathers their
// results in order; with_timeout() races a task against a deadline and cancels the loser.
#pragma once

#include <concepts>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/runtime/scope.h"
#include "core/runtime/status.h"
#include "core/runtime/task.h"

namespace lafs {

namespace detail {

template <typename T>
Task<void> store_into(Task<T> task, std::optional<T>* out) {
  out->emplace(co_await std::move(task));
}

template <typename T>
Task<void> store_first(Task<T> task, std::optional<T>* out) {
  T v = co_await std::move(task);
  if (!out->has_value()) out->emplace(std::move(v));
}

template <typename T>
Task<void> store_after(Executor* ex, MonoTime deadline, std::optional<T>* out, Status status) {
  co_await sleep_until(*ex, deadline);
  if (!out->has_value()) out->emplace(T(std::move(status)));
}

}  // namespace detail

// Runs every task concurrently; returns their results in the order given. The caller bounds
// the fan-out (pass at most as many tasks as it allows in flight).
template <typename T>
Task<std::vector<T>> when_all(Executor& ex, std::vector<Task<T>> tasks) {
  std::vector<std::optional<T>> slots(tasks.size());
  {
    Scope scope(ex);
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      scope.spawn(detail::store_into(std::move(tasks[i]), &slots[i]));
    }
    co_await scope.join();
  }
  std::vector<T> out;
  out.reserve(slots.size());
  for (auto& s : slots) {
    LAFS_ASSERT(s.has_value());
    out.push_back(std::move(*s));
  }
  co_return out;
}

inline Task<void> when_all(Executor& ex, std::vector<Task<void>> tasks) {
  Scope scope(ex);
  for (auto& t : tasks) scope.spawn(std::move(t));
  co_await scope.join();
}

// Runs `task` until `deadline`; if it has not finished by then it is cancelled (its frame
// destroyed) and the result is a Timeout error naming `what`. T is Status or Result<U>.
template <typename T>
requires std::constructible_from<T, Status> Task<T> with_deadline(Executor& ex, MonoTime deadline,
                                                                  Task<T> task, std::string what) {
  std::optional<T> out;
  {
    Scope scope(ex);
    scope.spawn(detail::store_first(std::move(task), &out));
    scope.spawn(
        detail::store_after<T>(&ex, deadline, &out, timeout_error(what + ": deadline passed")));
    co_await scope.wait_until_at_most(1);
  }
  LAFS_ASSERT(out.has_value());
  co_return std::move(*out);
}

template <typename T>
requires std::constructible_from<T, Status> Task<T> with_timeout(Executor& ex, Duration timeout,
                                                                 Task<T> task, std::string what) {
  return with_deadline(ex, ex.now() + timeout, std::move(task), std::move(what));
}

}  // namespace lafs
