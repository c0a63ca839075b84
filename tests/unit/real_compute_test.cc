// Tests of ThreadPoolCompute: offload() runs work on a worker and resumes on the executor thread;
// many jobs at once (including the caller-runs path when the queue is full); a cancelled waiter is
// never resumed; destroying the pool with work queued.
#include "net/real/thread_pool_compute.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "core/env/compute.h"
#include "core/runtime/scope.h"
#include "net/real/real_executor.h"
#include "net/real/real_run.h"

namespace lafs::real {
namespace {

struct Ids {
  std::thread::id work;
  std::thread::id resumed;
  int value = 0;
};

Task<Ids> offload_once(Compute* compute) {
  Ids ids;
  ids.value = co_await offload(*compute, [&ids] {
    ids.work = std::this_thread::get_id();
    return 42;
  });
  ids.resumed = std::this_thread::get_id();
  co_return ids;
}

TEST(RealCompute, OffloadRunsOnAWorkerAndResumesOnTheExecutor) {
  RealExecutor ex;
  ThreadPoolCompute pool(ex, 2);
  EXPECT_EQ(pool.thread_count(), 2u);
  Ids ids = run_task(ex, offload_once(&pool));
  EXPECT_EQ(ids.value, 42);
  EXPECT_NE(ids.work, std::this_thread::get_id());
  EXPECT_EQ(ids.resumed, std::this_thread::get_id());
}

Task<void> sum_job(Compute* compute, int i, std::int64_t* total, int* finished) {
  const std::int64_t v = co_await offload(*compute, [i] {
    std::int64_t acc = 0;
    for (int k = 0; k <= i; ++k) acc += k;
    return acc;
  });
  *total += v;  // on the executor thread: no lock needed
  ++*finished;
}

TEST(RealCompute, ManyJobsIncludingAFullQueue) {
  RealExecutor ex;
  ThreadPoolCompute pool(ex, 2, /*queue_max=*/4);
  constexpr int kJobs = 500;
  std::int64_t total = 0;
  int finished = 0;
  Scope scope(ex);
  // Spawned tasks start one after another on the executor, so the queue fills up.
  for (int i = 0; i < kJobs; ++i) scope.spawn(sum_job(&pool, i, &total, &finished));
  ASSERT_TRUE(ex.run_until([&] { return finished == kJobs; }, seconds(60)));
  std::int64_t want = 0;
  for (int i = 0; i < kJobs; ++i) want += std::int64_t{i} * (i + 1) / 2;
  EXPECT_EQ(total, want);
  EXPECT_GT(pool.ran_on_caller(), 0u) << "the bounded queue never filled";
}

Task<void> slow_job(Compute* compute, std::atomic<bool>* release, bool* resumed) {
  co_await offload(*compute, [release] {
    while (!release->load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  *resumed = true;
}

TEST(RealCompute, CancelledWaiterIsNeverResumed) {
  RealExecutor ex;
  ThreadPoolCompute pool(ex, 1);
  std::atomic<bool> release{false};
  bool resumed = false;
  {
    Scope scope(ex);
    scope.spawn(slow_job(&pool, &release, &resumed));
    ex.run_until([] { return false; }, milliseconds(10));  // the job is now on the worker
  }                                                        // the scope destroys the waiting frame
  release = true;
  ex.run();  // the completion arrives and must find nobody to resume
  EXPECT_FALSE(resumed);
}

TEST(RealCompute, DestroyingThePoolDropsQueuedWork) {
  RealExecutor ex;
  std::atomic<bool> release{false};
  std::atomic<int> ran{0};
  int done = 0;
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    release = true;
  });
  {
    ThreadPoolCompute pool(ex, 1);
    auto blocker = [&] {
      while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      ++ran;
    };
    pool.submit(blocker, [&] { ++done; });
    for (int i = 0; i < 5; ++i) pool.submit([&] { ++ran; }, [&] { ++done; });
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }  // joins the worker after the job it is running; the queued ones are dropped
  releaser.join();
  ex.run();  // must return: dropped jobs end their outside work
  EXPECT_LE(ran.load(), 1);
  EXPECT_EQ(done, ran.load());
}

}  // namespace
}  // namespace lafs::real
