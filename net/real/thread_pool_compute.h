// ThreadPoolCompute: Compute on a fixed pool of worker threads, so that encryption, hashing and
// erasure coding use every core while the executor thread keeps doing I/O. Results come back to
// the executor thread as top-level callbacks.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/env/compute.h"
#include "net/real/real_executor.h"

namespace lafs::real {

// Jobs waiting for a worker. Past it, submit() runs the work on the calling (executor) thread:
// the submitter slows down instead of queueing without bound.
inline constexpr std::size_t kComputeQueueMax = 1024;

class ThreadPoolCompute final : public Compute {
 public:
  // `threads` 0 means std::thread::hardware_concurrency() (at least 1).
  explicit ThreadPoolCompute(RealExecutor& ex, std::size_t threads = 0,
                             std::size_t queue_max = kComputeQueueMax);
  ThreadPoolCompute(const ThreadPoolCompute&) = delete;
  ThreadPoolCompute& operator=(const ThreadPoolCompute&) = delete;
  // Waits for the jobs already running; drops the queued ones (their `done` never runs, so their
  // awaiting frames stay suspended until their scopes end). Destroy before the executor.
  ~ThreadPoolCompute() override;

  // `work` runs on a worker; `done` then runs on the executor thread via post_from_any_thread.
  // When the queue is full, `work` runs here and `done` is posted to the executor.
  // Only from the executor's thread.
  void submit(std::function<void()> work, std::function<void()> done) override;

  std::size_t thread_count() const { return workers_.size(); }
  // Jobs run on the submitting thread because the queue was full.
  std::uint64_t ran_on_caller() const { return ran_on_caller_; }

 private:
  struct Job {
    std::function<void()> work;
    std::function<void()> done;
  };
  void worker_main();

  RealExecutor& ex_;
  const std::size_t queue_max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::uint64_t ran_on_caller_ = 0;
  std::vector<std::thread> workers_;
};

}  // namespace lafs::real
