// ThreadPoolCompute: a mutex-guarded bounded deque and N workers. Each queued job counts as
// outside work on the executor, so run() keeps going until its result has been handed back.
#include "net/real/thread_pool_compute.h"

#include <pthread.h>

#include <algorithm>

#include <utility>

namespace lafs::real {

ThreadPoolCompute::ThreadPoolCompute(RealExecutor& ex, std::size_t threads, std::size_t queue_max)
    : ex_(ex), queue_max_(queue_max) {
  LAFS_ASSERT(queue_max_ > 0);
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { worker_main(); });
}

ThreadPoolCompute::~ThreadPoolCompute() {
  std::deque<Job> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    dropped.swap(queue_);
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  for (std::size_t i = 0; i < dropped.size(); ++i) ex_.end_outside_work();
}

void ThreadPoolCompute::submit(std::function<void()> work, std::function<void()> done) {
  LAFS_ASSERT(work);
  LAFS_ASSERT(done);
  {
    std::lock_guard<std::mutex> lock(mu_);
    LAFS_ASSERT(!stopping_);
    if (queue_.size() < queue_max_) {
      ex_.begin_outside_work();
      queue_.push_back(Job{std::move(work), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  // Full: do the work here. `done` still runs from the top level, never inline.
  ++ran_on_caller_;
  work();
  ex_.post(std::move(done));
}

void ThreadPoolCompute::worker_main() {
  pthread_setname_np(pthread_self(), "lafs-compute");
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job.work();
    job.work = nullptr;  // release what the work captured here, not on the executor thread
    // Post before ending the outside work, so the executor never sees a moment with neither.
    ex_.post_from_any_thread(std::move(job.done));
    ex_.end_outside_work();
  }
}

}  // namespace lafs::real
