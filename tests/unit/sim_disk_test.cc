// Tests of SimDisk: the Disk contract (with and without latency), then what only the simulator
// can do: crashes that keep, drop or tear unsynced state, bit rot, injected faults. Also
// run_task() from net/sim/sim_run.h.
#include "net/sim/sim_disk.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/runtime/event.h"
#include "core/runtime/scope.h"
#include "net/sim/sim_loop.h"
#include "net/sim/sim_random.h"
#include "net/sim/sim_run.h"
#include "tests/unit/disk_contract.h"

namespace lafs::sim {
namespace {

using contract::DiskDriver;

class SimDiskRig : public contract::DiskTestRig {
 public:
  explicit SimDiskRig(SimDiskOptions options = {}, std::uint64_t seed = 1)
      : disk_(loop_, SimRandom(seed), options) {}

  Executor& executor() override { return loop_; }
  Disk& disk() override { return disk_; }
  void run_until_done(Task<void> task) override { run_task(loop_, std::move(task)); }
  bool set_capacity(std::uint64_t bytes) override {
    disk_.set_capacity(bytes);
    return true;
  }

  SimLoop& loop() { return loop_; }
  SimDisk& sim() { return disk_; }

 private:
  SimLoop loop_;
  SimDisk disk_;
};

// Every call suspends, so the contract also covers the paths that wait out a latency.
SimDiskOptions slow_options() {
  SimDiskOptions o;
  o.read_latency = microseconds(100);
  o.write_latency = microseconds(200);
  o.sync_latency = milliseconds(2);
  o.metadata_latency = microseconds(50);
  return o;
}

class SlowSimDiskRig : public SimDiskRig {
 public:
  SlowSimDiskRig() : SimDiskRig(slow_options()) {}
};

}  // namespace
}  // namespace lafs::sim

namespace lafs::contract {
using SimDiskRigs = ::testing::Types<sim::SimDiskRig, sim::SlowSimDiskRig>;
INSTANTIATE_TYPED_TEST_SUITE_P(Sim, DiskContract, SimDiskRigs);
INSTANTIATE_TYPED_TEST_SUITE_P(Sim, LimitedDiskContract, SimDiskRigs);
}  // namespace lafs::contract

namespace lafs::sim {
namespace {

SimDiskOptions weights(double keep, double drop, double tear) {
  SimDiskOptions o;
  o.crash_keep_weight = keep;
  o.crash_drop_weight = drop;
  o.crash_tear_weight = tear;
  return o;
}
SimDiskOptions keep_all() {
  return weights(1, 0, 0);
}
SimDiskOptions drop_all() {
  return weights(0, 1, 0);
}
SimDiskOptions tear_all() {
  return weights(0, 0, 1);
}

// A rig plus its driver, for tests outside the typed suite.
struct Fixture {
  explicit Fixture(SimDiskOptions options = {}, std::uint64_t seed = 1)
      : rig(options, seed), d(rig) {}
  SimDiskRig rig;
  DiskDriver d;
};

// ---- Crash: what survives ----

TEST(SimDiskCrash, SyncedDataAndNamesSurvive) {
  Fixture fx(drop_all());
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.mkdir("dir"));
  LAFS_ASSERT_OK(d.sync_dir(""));
  LAFS_ASSERT_OK(d.write_file("dir/f", "durable", /*durable=*/true));
  LAFS_ASSERT_OK(d.write_file("g", "also durable", /*durable=*/true));
  LAFS_ASSERT_OK(d.rename("g", "dir/h"));
  LAFS_ASSERT_OK(d.sync_dir(""));
  LAFS_ASSERT_OK(d.sync_dir("dir"));
  fx.rig.sim().crash();
  EXPECT_EQ(d.read_file("dir/f").value_or(""), "durable");
  EXPECT_EQ(d.read_file("dir/h").value_or(""), "also durable");
  EXPECT_EQ(d.list("").value_or({}), std::vector<std::string>{"dir"});
  EXPECT_EQ(fx.rig.sim().used_bytes(), 7u + 12u);
}

TEST(SimDiskCrash, DropAllLosesUnsyncedWrites) {
  Fixture fx(drop_all());
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.write_file("f", "synced", /*durable=*/true));
  auto f = d.open("f");
  LAFS_ASSERT_OK(f);
  LAFS_ASSERT_OK(d.write(**f, 0, "SYN"));
  LAFS_ASSERT_OK(d.write(**f, 6, " and more"));
  EXPECT_EQ(d.read_file("f").value_or(""), "SYNced and more");
  fx.rig.sim().crash();
  EXPECT_EQ(d.read_file("f").value_or(""), "synced");
}

TEST(SimDiskCrash, DropAllUndoesUnsyncedTruncate) {
  Fixture fx(drop_all());
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.write_file("f", "abcdef", /*durable=*/true));
  auto f = d.open("f", {.truncate = true});
  LAFS_ASSERT_OK(f);
  LAFS_ASSERT_OK(d.truncate(**f, 3));
  fx.rig.sim().crash();
  EXPECT_EQ(d.read_file("f").value_or(""), "abcdef");
}

TEST(SimDiskCrash, DropAllLosesUnsyncedCreateEvenWithSyncedData) {
  Fixture fx(drop_all());
  auto& d = fx.d;
  auto f = d.create("f");
  LAFS_ASSERT_OK(f);
  LAFS_ASSERT_OK(d.write(**f, 0, "data"));
  LAFS_ASSERT_OK(d.sync(**f));  // the bytes are durable, the name is not
  fx.rig.sim().crash();
  LAFS_EXPECT_CODE(d.stat("f"), ErrorCode::kNotFound);
  EXPECT_EQ(fx.rig.sim().used_bytes(), 0u);
}

TEST(SimDiskCrash, DropAllUndoesUnsyncedRenameAndRemove) {
  Fixture fx(drop_all());
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.write_file("a", "A", /*durable=*/true));
  LAFS_ASSERT_OK(d.write_file("b", "B", /*durable=*/true));
  LAFS_ASSERT_OK(d.write_file("c", "C", /*durable=*/true));
  LAFS_ASSERT_OK(d.rename("a", "b"));
  LAFS_ASSERT_OK(d.remove("c"));
  EXPECT_EQ(d.list("").value_or({}), std::vector<std::string>{"b"});
  fx.rig.sim().crash();
  EXPECT_EQ(d.list("").value_or({}), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(d.read_file("b").value_or(""), "B");
  EXPECT_EQ(d.read_file("c").value_or(""), "C");
}

TEST(SimDiskCrash, DropAllLosesDirectoryWhoseParentWasNotSynced) {
  Fixture fx(drop_all());
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.mkdir("dir"));
  LAFS_ASSERT_OK(d.write_file("dir/f", "data", /*durable=*/true));  // syncs "dir", not ""
  fx.rig.sim().crash();
  LAFS_EXPECT_CODE(d.stat("dir"), ErrorCode::kNotFound);
  EXPECT_EQ(d.list("").value_or({"?"}), std::vector<std::string>{});
}

TEST(SimDiskCrash, KeepAllKeepsEverything) {
  Fixture fx(keep_all());
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.write_file("old", "old", /*durable=*/true));
  LAFS_ASSERT_OK(d.mkdir("dir"));
  LAFS_ASSERT_OK(d.write_file("dir/f", "unsynced", /*durable=*/false));
  LAFS_ASSERT_OK(d.rename("old", "dir/g"));
  auto f = d.open("dir/f");
  LAFS_ASSERT_OK(f);
  LAFS_ASSERT_OK(d.write(**f, 8, " and more"));
  LAFS_ASSERT_OK(d.truncate(**f, 12));
  fx.rig.sim().crash();
  EXPECT_EQ(d.read_file("dir/f").value_or(""), "unsynced and");
  EXPECT_EQ(d.read_file("dir/g").value_or(""), "old");
  EXPECT_EQ(d.list("").value_or({}), std::vector<std::string>{"dir"});
}

TEST(SimDiskCrash, TornWriteLeavesPrefixOfItsBytes) {
  const std::string old_bytes(64, 'o');
  const std::string new_bytes(64, 'n');
  std::set<std::size_t> cuts;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    Fixture fx(tear_all(), seed);
    auto& d = fx.d;
    LAFS_ASSERT_OK(d.write_file("f", old_bytes, /*durable=*/true));
    auto f = d.open("f");
    LAFS_ASSERT_OK(f);
    LAFS_ASSERT_OK(d.write(**f, 0, new_bytes));
    fx.rig.sim().crash();
    const std::string got = d.read_file("f").value_or("");
    ASSERT_EQ(got.size(), old_bytes.size());
    const std::size_t cut = got.find('o') == std::string::npos ? got.size() : got.find('o');
    EXPECT_EQ(got, new_bytes.substr(0, cut) + old_bytes.substr(cut)) << "seed " << seed;
    cuts.insert(cut);
  }
  EXPECT_GT(cuts.size(), 10u);  // tears land at many places
  EXPECT_LT(*cuts.rbegin(), new_bytes.size());
}

TEST(SimDiskCrash, TornAppendShortensFile) {
  Fixture fx(tear_all(), 7);
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.write_file("f", "head", /*durable=*/true));
  auto f = d.open("f");
  LAFS_ASSERT_OK(f);
  LAFS_ASSERT_OK(d.write(**f, 4, std::string(100, 't')));
  fx.rig.sim().crash();
  const std::string got = d.read_file("f").value_or("");
  EXPECT_LT(got.size(), 104u);
  EXPECT_EQ(got, "head" + std::string(got.size() - 4, 't'));
}

TEST(SimDiskCrash, UnsyncedNameChangesSurviveAsPrefix) {
  const std::vector<std::string> order = {"a", "b", "c", "d"};
  std::set<std::size_t> seen;
  for (std::uint64_t seed = 0; seed < 60; ++seed) {
    Fixture fx({}, seed);
    auto& d = fx.d;
    for (const auto& name : order) LAFS_ASSERT_OK(d.create(name));
    fx.rig.sim().crash();
    const std::vector<std::string> left = d.list("").value_or({"?"});
    ASSERT_LE(left.size(), order.size());
    EXPECT_EQ(left, std::vector<std::string>(order.begin(), order.begin() + left.size()))
        << "seed " << seed;
    seen.insert(left.size());
  }
  EXPECT_EQ(seen.size(), order.size() + 1);  // every prefix happens
}

// The classic write-to-temp-then-rename: with the temp file synced, the destination holds the old
// or the new file after any crash, never a mix.
TEST(SimDiskCrash, RenameOfSyncedFileIsAtomic) {
  std::map<std::string, int> outcomes;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    Fixture fx({}, seed);
    auto& d = fx.d;
    LAFS_ASSERT_OK(d.write_file("f", "old contents", /*durable=*/true));
    auto tmp = d.create("f.tmp");
    LAFS_ASSERT_OK(tmp);
    LAFS_ASSERT_OK(d.write(**tmp, 0, "new contents, longer"));
    LAFS_ASSERT_OK(d.sync(**tmp));
    LAFS_ASSERT_OK(d.rename("f.tmp", "f"));
    fx.rig.sim().crash();
    const std::string got = d.read_file("f").value_or("<missing>");
    EXPECT_TRUE(got == "old contents" || got == "new contents, longer")
        << "seed " << seed << ": " << got;
    ++outcomes[got];
  }
  EXPECT_EQ(outcomes.size(), 2u);
}

// Without the data sync the same pattern can expose an empty or torn file: the simulator must
// catch the bug that real file systems hide most of the time.
TEST(SimDiskCrash, RenameWithoutDataSyncCanExposeTornFile) {
  int broken = 0;
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    Fixture fx({}, seed);
    auto& d = fx.d;
    LAFS_ASSERT_OK(d.write_file("f", "old contents", /*durable=*/true));
    LAFS_ASSERT_OK(d.write_file("f.tmp", "new contents, longer", /*durable=*/false));
    LAFS_ASSERT_OK(d.rename("f.tmp", "f"));
    fx.rig.sim().crash();
    const std::string got = d.read_file("f").value_or("<missing>");
    if (got != "old contents" && got != "new contents, longer") ++broken;
  }
  EXPECT_GT(broken, 0);
}

TEST(SimDiskCrash, CrossDirectoryRenameNeedsBothParentsSynced) {
  for (bool sync_source : {false, true}) {
    SCOPED_TRACE(sync_source ? "both parents synced" : "only the destination synced");
    Fixture fx(drop_all());
    auto& d = fx.d;
    LAFS_ASSERT_OK(d.mkdir("x"));
    LAFS_ASSERT_OK(d.mkdir("y"));
    LAFS_ASSERT_OK(d.sync_dir(""));
    LAFS_ASSERT_OK(d.write_file("x/f", "data", /*durable=*/true));
    LAFS_ASSERT_OK(d.rename("x/f", "y/f"));
    LAFS_ASSERT_OK(d.sync_dir("y"));
    if (sync_source) LAFS_ASSERT_OK(d.sync_dir("x"));
    fx.rig.sim().crash();
    EXPECT_EQ(d.read_file("y/f").value_or(""), "data");
    // With only "y" synced, the removal of the old name was not durable: it comes back.
    EXPECT_EQ(d.list("x").value_or({"?"}).size(), sync_source ? 0u : 1u);
  }
}

TEST(SimDiskCrash, OpenFilesFailAfterCrash) {
  Fixture fx;
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.write_file("f", "data", /*durable=*/true));
  auto f = d.open("f");
  LAFS_ASSERT_OK(f);
  fx.rig.sim().crash();
  for (const Status& s : {d.write(**f, 0, "x"), d.sync(**f), d.truncate(**f, 0),
                          d.read(**f, 0, 1).status(), d.size(**f).status()}) {
    EXPECT_EQ(s.code(), ErrorCode::kIoError) << s.to_string();
    EXPECT_EQ(s.message(), "disk crashed");
  }
  f->reset();  // closing a stale handle is harmless
  EXPECT_EQ(d.read_file("f").value_or(""), "data");
  EXPECT_EQ(fx.rig.sim().crash_count(), 1u);
}

TEST(SimDiskCrash, CallWaitingOutLatencyFailsAndChangesNothing) {
  SimDiskOptions o = drop_all();
  o.write_latency = milliseconds(10);
  o.metadata_latency = milliseconds(10);
  Fixture fx(o);
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.write_file("f", "old", /*durable=*/true));
  auto f = d.open("f");
  LAFS_ASSERT_OK(f);
  SimLoop& loop = fx.rig.loop();
  Status write_status, mkdir_status;
  Scope scope(loop);
  scope.spawn([](File* file, Status* out) -> Task<void> {
    *out = co_await file->write_at(0, as_bytes("NEW"));
  }(f->get(), &write_status));
  scope.spawn([](Disk* disk, Status* out) -> Task<void> { *out = co_await disk->mkdir("dir"); }(
                                              &fx.rig.sim(), &mkdir_status));
  loop.run_until(loop.now() + milliseconds(5));
  fx.rig.sim().crash();
  loop.run();
  EXPECT_EQ(write_status.code(), ErrorCode::kIoError);
  EXPECT_EQ(mkdir_status.code(), ErrorCode::kIoError);
  EXPECT_EQ(d.read_file("f").value_or(""), "old");
  LAFS_EXPECT_CODE(d.stat("dir"), ErrorCode::kNotFound);
}

TEST(SimDiskCrash, UnlinkedOpenFileIsGoneAfterCrash) {
  Fixture fx;
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.write_file("f", "data", /*durable=*/true));
  auto f = d.open("f");
  LAFS_ASSERT_OK(f);
  LAFS_ASSERT_OK(d.remove("f"));
  LAFS_ASSERT_OK(d.sync_dir(""));
  EXPECT_EQ(fx.rig.sim().used_bytes(), 4u);  // still open
  fx.rig.sim().crash();
  LAFS_EXPECT_CODE(d.stat("f"), ErrorCode::kNotFound);
  EXPECT_EQ(fx.rig.sim().used_bytes(), 0u);
}

TEST(SimDiskCrash, SameSeedSameOutcome) {
  auto run = [](std::uint64_t seed) {
    Fixture fx({}, seed);
    auto& d = fx.d;
    std::string out;
    for (int i = 0; i < 8; ++i) {
      const std::string name = "f" + std::to_string(i);
      EXPECT_TRUE(
          d.write_file(name, std::string(40, static_cast<char>('a' + i)), i % 2 == 0).is_ok());
      if (i % 3 == 0) {
        EXPECT_TRUE(d.rename(name, "r" + std::to_string(i)).is_ok());
      }
    }
    fx.rig.sim().crash();
    for (const auto& name : d.list("").value_or({})) {
      out += name + "=" + d.read_file(name).value_or("?") + ";";
    }
    return out;
  };
  EXPECT_EQ(run(42), run(42));
  std::set<std::string> outcomes;
  for (std::uint64_t seed = 0; seed < 10; ++seed) outcomes.insert(run(seed));
  EXPECT_GT(outcomes.size(), 1u);
}

TEST(SimDiskCrash, WritebackBoundMakesOldestChangesDurable) {
  SimDiskOptions o = drop_all();
  o.unsynced_writes_per_file_max = 2;
  o.unsynced_name_changes_max = 4;
  Fixture fx(o);
  auto& d = fx.d;
  auto f = d.create("f");
  LAFS_ASSERT_OK(f);
  LAFS_ASSERT_OK(d.sync_dir(""));
  for (int i = 0; i < 3; ++i)
    LAFS_ASSERT_OK(d.write(**f, i, std::string(1, static_cast<char>('a' + i))));
  for (int i = 0; i < 5; ++i) LAFS_ASSERT_OK(d.create("n" + std::to_string(i)));
  fx.rig.sim().crash();
  EXPECT_EQ(d.read_file("f").value_or(""), "a");  // the first write was written back
  EXPECT_EQ(d.list("").value_or({}), (std::vector<std::string>{"f", "n0"}));
}

// Per-directory durability lets directories moved into each other between syncs form a cycle of
// durable entries. The disk must survive a crash into that state and free it at the end (ASan's
// leak checker watches this test).
TEST(SimDiskCrash, DirectoriesMovedIntoEachOtherDoNotBreakTheDisk) {
  Fixture fx(drop_all());
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.mkdir("a"));
  LAFS_ASSERT_OK(d.mkdir("a/b"));
  LAFS_ASSERT_OK(d.sync_dir(""));
  LAFS_ASSERT_OK(d.sync_dir("a"));  // durable: a/b
  LAFS_ASSERT_OK(d.rename("a/b", "b"));
  LAFS_ASSERT_OK(d.rename("a", "b/a"));
  LAFS_ASSERT_OK(d.sync_dir("b"));  // durable: b/a, and still a/b
  fx.rig.sim().crash();
  EXPECT_EQ(d.list("").value_or({}), std::vector<std::string>{"a"});
  EXPECT_TRUE(d.stat("a/b/a/b").value_or(FileInfo{}).is_directory);
  LAFS_EXPECT_OK(d.write_file("a/f", "still works", /*durable=*/true));
  EXPECT_EQ(d.read_file("a/b/a/f").value_or(""), "still works");
}

// ---- Faults without a crash ----

TEST(SimDisk, CorruptFlipsBitInCurrentAndDurableState) {
  Fixture fx(drop_all());
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.write_file("f", "abc", /*durable=*/true));
  LAFS_ASSERT_OK(fx.rig.sim().corrupt("f", 1, 0));
  EXPECT_EQ(d.read_file("f").value_or(""), "acc");  // 'b' ^ 1 == 'c'
  fx.rig.sim().crash();
  EXPECT_EQ(d.read_file("f").value_or(""), "acc");
}

TEST(SimDisk, CorruptUnderUnsyncedWriteReachesDurableBytes) {
  Fixture fx(drop_all());
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.write_file("f", "abc", /*durable=*/true));
  auto f = d.open("f");
  LAFS_ASSERT_OK(f);
  LAFS_ASSERT_OK(d.write(**f, 0, "xyz"));
  LAFS_ASSERT_OK(d.write(**f, 1, "Q"));
  LAFS_ASSERT_OK(fx.rig.sim().corrupt("f", 1, 1));
  EXPECT_EQ(d.read(**f, 0, 3).value_or(""), "xSz");  // 'Q' ^ 2 == 'S'
  fx.rig.sim().crash();
  EXPECT_EQ(d.read_file("f").value_or(""), "a`c");  // 'b' ^ 2 == '`'
}

TEST(SimDisk, CorruptErrors) {
  Fixture fx;
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.mkdir("dir"));
  LAFS_ASSERT_OK(d.write_file("f", "abc", false));
  LAFS_EXPECT_CODE(fx.rig.sim().corrupt("missing", 0, 0), ErrorCode::kNotFound);
  LAFS_EXPECT_CODE(fx.rig.sim().corrupt("dir", 0, 0), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(fx.rig.sim().corrupt("f", 3, 0), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(fx.rig.sim().corrupt("/f", 0, 0), ErrorCode::kInvalidArgument);
  EXPECT_EQ(d.read_file("f").value_or(""), "abc");
}

TEST(SimDisk, UsedBytesCountsNamedAndOpenFiles) {
  Fixture fx;
  auto& d = fx.d;
  SimDisk& disk = fx.rig.sim();
  LAFS_ASSERT_OK(d.write_file("a", std::string(10, 'a'), false));
  LAFS_ASSERT_OK(d.mkdir("dir"));
  LAFS_ASSERT_OK(d.write_file("dir/b", std::string(5, 'b'), false));
  EXPECT_EQ(disk.used_bytes(), 15u);
  LAFS_ASSERT_OK(d.rename("a", "dir/b"));  // replaces b
  EXPECT_EQ(disk.used_bytes(), 10u);
  auto f = d.open("dir/b");
  LAFS_ASSERT_OK(f);
  LAFS_ASSERT_OK(d.remove("dir/b"));
  EXPECT_EQ(disk.used_bytes(), 10u);  // open: still counted
  LAFS_ASSERT_OK(d.truncate(**f, 4));
  EXPECT_EQ(disk.used_bytes(), 4u);
  f->reset();
  EXPECT_EQ(disk.used_bytes(), 0u);
  EXPECT_EQ(d.free_space().value_or(0), disk.capacity_bytes());
}

TEST(SimDisk, FailNextInjectsErrorsThatChangeNothing) {
  Fixture fx;
  auto& d = fx.d;
  LAFS_ASSERT_OK(d.write_file("f", "abc", false));
  auto f = d.open("f");
  LAFS_ASSERT_OK(f);
  fx.rig.sim().set_fail_next(3, ErrorCode::kIoError);
  LAFS_EXPECT_CODE(d.write(**f, 0, "xyz"), ErrorCode::kIoError);
  LAFS_EXPECT_CODE(d.mkdir("dir"), ErrorCode::kIoError);
  LAFS_EXPECT_CODE(d.read(**f, 0, 3), ErrorCode::kIoError);
  EXPECT_EQ(d.read(**f, 0, 3).value_or(""), "abc");
  LAFS_EXPECT_CODE(d.stat("dir"), ErrorCode::kNotFound);
  fx.rig.sim().set_fail_next(1, ErrorCode::kCorruption);
  LAFS_EXPECT_CODE(d.read(**f, 0, 3), ErrorCode::kCorruption);
}

TEST(SimDisk, IoErrorProbabilityFailsSomeCalls) {
  SimDiskOptions o;
  o.io_error_probability = 0.5;
  Fixture fx(o);
  int failed = 0;
  for (int i = 0; i < 100; ++i) {
    if (!fx.d.stat("").ok()) ++failed;
  }
  EXPECT_GT(failed, 20);
  EXPECT_LT(failed, 80);
}

TEST(SimDisk, LatencyAdvancesVirtualTime) {
  Fixture fx(slow_options());
  SimLoop& loop = fx.rig.loop();
  auto f = fx.d.create("f");
  LAFS_ASSERT_OK(f);
  EXPECT_EQ(loop.now(), MonoTime(microseconds(50)));
  LAFS_ASSERT_OK(fx.d.write(**f, 0, "x"));
  EXPECT_EQ(loop.now(), MonoTime(microseconds(250)));
  LAFS_ASSERT_OK(fx.d.sync(**f));
  EXPECT_EQ(loop.now(), MonoTime(microseconds(2250)));
}

TEST(SimDisk, ZeroLatencyCompletesWithoutSuspending) {
  SimLoop loop;
  SimDisk disk(loop, SimRandom(1));
  Task<Status> t = disk.mkdir("dir");
  bool done = false;
  Status status = internal_error("unset");
  Task<void> outer = [](Task<Status> inner, Status* out, bool* d) -> Task<void> {
    *out = co_await std::move(inner);
    *d = true;
  }(std::move(t), &status, &done);
  outer.handle().resume();  // run it inline: it must finish without going through the loop
  EXPECT_TRUE(done);
  LAFS_EXPECT_OK(status);
  EXPECT_EQ(loop.pending(), 0u);
}

TEST(SimDisk, FileOutlivingDiskFailsCleanly) {
  auto rig = std::make_unique<SimDiskRig>();
  DiskDriver d(*rig);
  auto f = d.create("f");
  LAFS_ASSERT_OK(f);
  SimLoop loop;
  rig.reset();
  Status s = run_task(loop, (*f)->sync());
  EXPECT_EQ(s.code(), ErrorCode::kIoError);
}

// ---- run_task ----

Task<int> answer_after(Executor* ex, Duration d) {
  co_await sleep_for(*ex, d);
  co_return 42;
}

TEST(SimRun, RunTaskReturnsResultAndLeavesLaterEventsQueued) {
  SimLoop loop;
  bool late_ran = false;
  loop.schedule_at(MonoTime(hours(1)), [&late_ran] { late_ran = true; });
  EXPECT_EQ(run_task(loop, answer_after(&loop, seconds(2))), 42);
  EXPECT_EQ(loop.now(), MonoTime(seconds(2)));
  EXPECT_FALSE(late_ran);
  run_task(loop, [](Executor* ex) -> Task<void> { co_await sleep_for(*ex, seconds(1)); }(&loop));
  EXPECT_EQ(loop.now(), MonoTime(seconds(3)));
}

TEST(SimRunDeathTest, TaskThatNeverFinishesAborts) {
  SimLoop loop;
  Event never(loop);
  EXPECT_DEATH(run_task(loop, [](Event* e) -> Task<void> { co_await e->wait(); }(&never)),
               "did not finish");
}

}  // namespace
}  // namespace lafs::sim
