// Tests of SimKv: the KvStore contract (with and without latency), then what only the simulator
// can do: crashes that lose an unsynced suffix of batches, never part of a batch; injected faults.
#include "net/sim/sim_kv.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/runtime/scope.h"
#include "net/sim/sim_loop.h"
#include "net/sim/sim_random.h"
#include "net/sim/sim_run.h"
#include "tests/unit/kv_contract.h"

namespace lafs::sim {
namespace {

using contract::KvDriver;

class SimKvRig : public contract::KvTestRig {
 public:
  explicit SimKvRig(SimKvOptions options = {}, std::uint64_t seed = 1)
      : kv_(loop_, SimRandom(seed), options) {}

  Executor& executor() override { return loop_; }
  KvStore& kv() override { return kv_; }
  void run_until_done(Task<void> task) override { run_task(loop_, std::move(task)); }

  SimLoop& loop() { return loop_; }
  SimKv& sim() { return kv_; }

 private:
  SimLoop loop_;
  SimKv kv_;
};

SimKvOptions slow_options() {
  SimKvOptions o;
  o.read_latency = microseconds(20);
  o.write_latency = microseconds(50);
  o.sync_latency = milliseconds(1);
  return o;
}

// Every call suspends, so the contract also covers the paths that wait out a latency.
class SlowSimKvRig : public SimKvRig {
 public:
  SlowSimKvRig() : SimKvRig(slow_options()) {}
};

}  // namespace
}  // namespace lafs::sim

namespace lafs::contract {
using SimKvRigs = ::testing::Types<sim::SimKvRig, sim::SlowSimKvRig>;
INSTANTIATE_TYPED_TEST_SUITE_P(Sim, KvContract, SimKvRigs);
}  // namespace lafs::contract

namespace lafs::sim {
namespace {

SimKvOptions weights(double keep, double drop, double tear) {
  SimKvOptions o;
  o.crash_keep_weight = keep;
  o.crash_drop_weight = drop;
  o.crash_tear_weight = tear;
  return o;
}

struct Fixture {
  explicit Fixture(SimKvOptions options = {}, std::uint64_t seed = 1)
      : rig(options, seed), d(rig) {}
  SimKvRig rig;
  KvDriver d;
};

TEST(SimKvCrash, SyncedWritesSurvive) {
  Fixture fx(weights(0, 1, 0));
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.put("a", "1", /*sync=*/true));
  LAFS_ASSERT_OK(d.put("b", "2", /*sync=*/true));
  LAFS_ASSERT_OK(d.del("b", /*sync=*/true));
  fx.rig.sim().crash();
  EXPECT_EQ(d.value("a"), "1");
  EXPECT_EQ(d.value("b"), "<absent>");
}

TEST(SimKvCrash, DropAllLosesUnsyncedWritesAndRestoresOldValues) {
  Fixture fx(weights(0, 1, 0));
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.put("kept", "old", /*sync=*/true));
  LAFS_ASSERT_OK(d.put("deleted", "old", /*sync=*/true));
  LAFS_ASSERT_OK(d.put("kept", "new"));
  LAFS_ASSERT_OK(d.del("deleted"));
  LAFS_ASSERT_OK(d.put("added", "new"));
  EXPECT_EQ(fx.rig.sim().unsynced_batches(), 3u);
  fx.rig.sim().crash();
  EXPECT_EQ(d.value("kept"), "old");
  EXPECT_EQ(d.value("deleted"), "old");
  EXPECT_EQ(d.value("added"), "<absent>");
  EXPECT_EQ(fx.rig.sim().unsynced_batches(), 0u);
}

TEST(SimKvCrash, KeepAllKeepsUnsyncedWrites) {
  Fixture fx(weights(1, 0, 0));
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.put("a", "1"));
  LAFS_ASSERT_OK(d.del("a"));
  LAFS_ASSERT_OK(d.put("b", "2"));
  fx.rig.sim().crash();
  EXPECT_EQ(d.value("a"), "<absent>");
  EXPECT_EQ(d.value("b"), "2");
}

TEST(SimKvCrash, SyncedWriteMakesEarlierUnsyncedWritesDurable) {
  Fixture fx(weights(0, 1, 0));
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.put("early", "1"));
  LAFS_ASSERT_OK(d.put("sync", "2", /*sync=*/true));
  LAFS_ASSERT_OK(d.put("late", "3"));
  fx.rig.sim().crash();
  EXPECT_EQ(d.value("early"), "1");
  EXPECT_EQ(d.value("sync"), "2");
  EXPECT_EQ(d.value("late"), "<absent>");
}

TEST(SimKvCrash, UnsyncedWritesSurviveAsPrefix) {
  constexpr int kWrites = 6;
  std::set<int> survivors_seen;
  for (std::uint64_t seed = 0; seed < 80; ++seed) {
    Fixture fx({}, seed);
    auto& d = fx.d;
    for (int i = 0; i < kWrites; ++i) LAFS_ASSERT_OK(d.put("k" + std::to_string(i), "v"));
    fx.rig.sim().crash();
    int survivors = 0;
    while (survivors < kWrites && d.value("k" + std::to_string(survivors)) == "v") ++survivors;
    for (int i = survivors; i < kWrites; ++i) {
      EXPECT_EQ(d.value("k" + std::to_string(i)), "<absent>") << "seed " << seed << " key " << i;
    }
    survivors_seen.insert(survivors);
  }
  EXPECT_EQ(survivors_seen.size(), static_cast<std::size_t>(kWrites + 1));
}

TEST(SimKvCrash, BatchIsAllOrNothing) {
  std::set<std::string> outcomes;
  for (std::uint64_t seed = 0; seed < 80; ++seed) {
    Fixture fx({}, seed);
    auto& d = fx.d;
    LAFS_ASSERT_OK(d.put("x", "0", /*sync=*/true));
    LAFS_ASSERT_OK(d.put("y", "0", /*sync=*/true));
    for (int round = 1; round <= 3; ++round) {
      WriteBatch b;  // x and y move together; "gone<r>" replaces "gone<r-1>"
      b.put("x", std::to_string(round));
      b.del("gone" + std::to_string(round - 1));
      b.put("gone" + std::to_string(round), "g");
      b.put("y", std::to_string(round));
      LAFS_ASSERT_OK(d.write(std::move(b)));
    }
    fx.rig.sim().crash();
    const std::string x = d.value("x");
    EXPECT_EQ(d.value("y"), x) << "seed " << seed;
    const int round = std::stoi(x);
    for (int r = 1; r <= 3; ++r) {
      EXPECT_EQ(d.value("gone" + std::to_string(r)), r == round ? "g" : "<absent>")
          << "seed " << seed;
    }
    outcomes.insert(x);
  }
  EXPECT_EQ(outcomes.size(), 4u);
}

TEST(SimKvCrash, CallWaitingOutLatencyFailsAndChangesNothing) {
  Fixture fx(slow_options());
  SimLoop& loop = fx.rig.loop();
  Status status = internal_error("unset");
  Scope scope(loop);
  scope.spawn([](KvStore* kv, Status* out) -> Task<void> {
    *out = co_await kv->put("k", "v", /*sync=*/true);
  }(&fx.rig.sim(), &status));
  loop.run_until(loop.now() + microseconds(10));
  fx.rig.sim().crash();
  loop.run();
  EXPECT_EQ(status.code(), ErrorCode::kIoError) << status.to_string();
  EXPECT_EQ(fx.d.value("k"), "<absent>");
}

TEST(SimKvCrash, WritebackBoundMakesOldestBatchesDurable) {
  SimKvOptions o = weights(0, 1, 0);
  o.unsynced_batches_max = 2;
  Fixture fx(o);
  auto& d = fx.d;
  for (int i = 0; i < 3; ++i) LAFS_ASSERT_OK(d.put("k" + std::to_string(i), "v"));
  EXPECT_EQ(fx.rig.sim().unsynced_batches(), 2u);
  fx.rig.sim().crash();
  EXPECT_EQ(d.scan_keys("", ""), std::vector<std::string>{"k0"});
}

TEST(SimKvCrash, SameSeedSameOutcome) {
  auto run = [](std::uint64_t seed) {
    Fixture fx({}, seed);
    for (int i = 0; i < 10; ++i)
      EXPECT_TRUE(fx.d.put("k" + std::to_string(i), "v", i == 3).is_ok());
    fx.rig.sim().crash();
    return fx.d.scan_keys("", "");
  };
  EXPECT_EQ(run(5), run(5));
}

TEST(SimKv, FailNextInjectsErrorsThatChangeNothing) {
  Fixture fx;
  auto& d = fx.d;
  fx.rig.sim().set_fail_next(2, ErrorCode::kIoError);
  LAFS_EXPECT_CODE(d.put("k", "v"), ErrorCode::kIoError);
  LAFS_EXPECT_CODE(d.get("k"), ErrorCode::kIoError);
  EXPECT_EQ(d.value("k"), "<absent>");
  fx.rig.sim().set_fail_next(1, ErrorCode::kNoSpace);
  LAFS_EXPECT_CODE(d.put("k", "v", /*sync=*/true), ErrorCode::kNoSpace);
  LAFS_EXPECT_OK(d.put("k", "v"));
  EXPECT_EQ(fx.rig.sim().size(), 1u);
}

TEST(SimKv, IoErrorProbabilityFailsSomeCalls) {
  SimKvOptions o;
  o.io_error_probability = 0.3;
  Fixture fx(o);
  int failed = 0;
  for (int i = 0; i < 100; ++i) {
    if (!fx.d.get("k").ok()) ++failed;
  }
  EXPECT_GT(failed, 10);
  EXPECT_LT(failed, 50);
}

TEST(SimKv, LatencyAdvancesVirtualTime) {
  Fixture fx(slow_options());
  SimLoop& loop = fx.rig.loop();
  LAFS_ASSERT_OK(fx.d.put("k", "v"));
  EXPECT_EQ(loop.now(), MonoTime(microseconds(50)));
  LAFS_ASSERT_OK(fx.d.put("k", "v", /*sync=*/true));
  EXPECT_EQ(loop.now(), MonoTime(microseconds(1100)));
  LAFS_ASSERT_OK(fx.d.get("k"));
  EXPECT_EQ(loop.now(), MonoTime(microseconds(1120)));
}

TEST(SimKv, WithoutLoopCompletesAtOnce) {
  SimKv kv(SimRandom(3));
  SimLoop loop;  // only to drive the task; the store never schedules on it
  LAFS_EXPECT_OK(run_task(loop, kv.put("k", "v", /*sync=*/false)));
  auto got = run_task(loop, kv.get("k"));
  LAFS_ASSERT_OK(got);
  EXPECT_EQ(got->value_or(""), "v");
  EXPECT_EQ(loop.now(), MonoTime{});
}

}  // namespace
}  // namespace lafs::sim

namespace lafs::sim {
namespace {

// SimKv searches through an index of 8-byte key prefixes: random batches, deletes, scans, gets
// and crashes over keys built to collide in those prefixes (shared 8-byte heads, keys shorter
// than 8 bytes, zero bytes, prefixes of each other) agree with a std::map model. Crashes drop
// every unsynced batch (the model goes back to its state at the last synced write), so the
// roll-back path keeps the index too. Index blocks of 1, 3 and 128 entries: blocks split,
// join and empty.
void check_index_against_model(std::size_t block_entries) {
  SimKvOptions options = weights(0, 1, 0);
  options.index_block_entries = block_entries;
  Fixture fx(options, 3);
  SimRandom rng(11);
  std::map<std::string, std::string> model;
  std::map<std::string, std::string> durable;  // as of the last synced write
  const std::vector<std::string> heads = {"",
                                          "a",
                                          "ab",
                                          std::string("ab\0", 3),
                                          "abcdefgh",
                                          "abcdefgi",
                                          std::string("s\0\0\0\0\0\0\0", 8),
                                          "zz"};
  auto random_key = [&] {
    std::string k = heads[rng.uniform(heads.size())];
    const std::size_t tail = rng.uniform(4);
    for (std::size_t i = 0; i < tail; ++i) k.push_back(static_cast<char>(rng.uniform(3)));
    return k;
  };
  for (int step = 0; step < 3000; ++step) {
    SCOPED_TRACE(step);
    const std::uint64_t op = rng.uniform(10);
    if (op < 5) {
      WriteBatch b;
      const std::size_t n = 1 + rng.uniform(4);
      for (std::size_t i = 0; i < n; ++i) {
        const std::string k = random_key();
        if (rng.uniform(3) == 0) {
          b.del(k);
          model.erase(k);
        } else {
          const std::string v = std::to_string(step) + "/" + std::to_string(i);
          b.put(k, v);
          model[k] = v;
        }
      }
      const bool sync = rng.uniform(3) == 0;
      ASSERT_TRUE(fx.d.write(std::move(b), sync).is_ok());
      if (sync) durable = model;
    } else if (op < 7) {
      const std::string k = random_key();
      auto it = model.find(k);
      EXPECT_EQ(fx.d.value(k), it == model.end() ? "<absent>" : it->second);
    } else if (op < 9) {
      std::string a = random_key(), b = random_key();
      if (b < a) std::swap(a, b);
      if (rng.uniform(4) == 0) b.clear();  // to the end
      const std::size_t limit = 1 + rng.uniform(8);
      std::vector<std::string> want;
      for (auto it = model.lower_bound(a); it != model.end() && want.size() < limit; ++it) {
        if (!b.empty() && it->first >= b) break;
        want.push_back(it->first);
      }
      EXPECT_EQ(fx.d.scan_keys(a, b, limit), want);
    } else {
      fx.rig.sim().crash();
      model = durable;
    }
  }
  std::vector<std::string> all;
  for (const auto& [k, v] : model) all.push_back(k);
  EXPECT_EQ(fx.d.scan_keys("", ""), all);
  EXPECT_EQ(fx.rig.sim().size(), model.size());
}

TEST(SimKv, IndexedSearchMatchesAnOrderedMapModel) {
  for (std::size_t block_entries : {1, 3, 128}) {
    SCOPED_TRACE(block_entries);
    check_index_against_model(block_entries);
  }
}

}  // namespace
}  // namespace lafs::sim
