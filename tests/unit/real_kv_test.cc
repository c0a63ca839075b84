// Tests of RocksKv: the KvStore contract (the same suite SimKv passes), then what only RocksDB on a
// real disk shows: synced writes survive closing and reopening, one process holds the lock, and
// scans page through many keys.
#include "net/real/rocks_kv.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "net/real/real_executor.h"
#include "net/real/real_run.h"
#include "net/real/temp_dir.h"
#include "tests/unit/kv_contract.h"

namespace lafs::real {
namespace {

using contract::KvDriver;

class RocksKvRig : public contract::KvTestRig {
 public:
  RocksKvRig() : dir_(make_dir()) { reopen(); }

  Executor& executor() override { return ex_; }
  KvStore& kv() override { return *kv_; }
  void run_until_done(Task<void> task) override { run_task(ex_, std::move(task)); }

  void reopen() {
    kv_.reset();
    auto kv = RocksKv::open(path());
    LAFS_ASSERT_MSG(kv.ok(), "cannot open RocksDB");
    kv_ = std::move(*kv);
  }
  std::string path() const { return dir_.sub("kv"); }

 private:
  static TempDir make_dir() {
    Result<TempDir> dir = TempDir::make("lafs-kv-");
    LAFS_ASSERT_MSG(dir.ok(), "cannot make a temporary directory");
    return std::move(*dir);
  }
  TempDir dir_;
  RealExecutor ex_;
  std::unique_ptr<RocksKv> kv_;
};

}  // namespace
}  // namespace lafs::real

namespace lafs::contract {
INSTANTIATE_TYPED_TEST_SUITE_P(Rocks, KvContract, ::testing::Types<real::RocksKvRig>);
}  // namespace lafs::contract

namespace lafs::real {
namespace {

class RocksKvTest : public ::testing::Test {
 protected:
  RocksKvRig rig;
  KvDriver d{rig};
};

TEST_F(RocksKvTest, SyncedWritesSurviveReopening) {
  LAFS_ASSERT_OK(d.put("a", "1", /*sync=*/true));
  WriteBatch b;
  b.put("b", "2");
  b.put("c", "3");
  b.del("a");
  LAFS_ASSERT_OK(d.write(std::move(b), /*sync=*/true));
  rig.reopen();
  EXPECT_EQ(d.value("a"), "<absent>");
  EXPECT_EQ(d.value("b"), "2");
  EXPECT_EQ(d.value("c"), "3");
}

TEST_F(RocksKvTest, SecondOpenOfTheSameDirectoryFails) {
  auto second = RocksKv::open(rig.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kIoError) << second.status().to_string();
}

TEST_F(RocksKvTest, ScanPagesThroughManyKeys) {
  constexpr int kKeys = 25'000;
  WriteBatch b;
  for (int i = 0; i < kKeys; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "k%08d", i);
    b.put(key, std::string(10, 'v'));
  }
  LAFS_ASSERT_OK(d.write(std::move(b)));
  std::string begin = "k";
  int seen = 0;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = d.scan(begin, prefix_end("k"), kKvScanLimitMax);
    LAFS_ASSERT_OK(page);
    seen += static_cast<int>(page->size());
    if (page->size() < kKvScanLimitMax) break;
    begin = page->back().first + '\0';
  }
  EXPECT_EQ(seen, kKeys);
}

TEST(RocksKvOpen, EmptyDirectoryNameIsInvalidArgument) {
  LAFS_EXPECT_CODE(RocksKv::open(""), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace lafs::real
