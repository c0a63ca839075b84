// Tests of PosixDisk: the Disk contract (the same suite SimDisk passes), then what only a real file
// system shows: symbolic links are refused, data survives closing and reopening the disk, Files
// outlive their Disk, and opening the root.
#include "net/real/posix_disk.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/real/real_executor.h"
#include "net/real/real_run.h"
#include "net/real/temp_dir.h"
#include "net/real/thread_pool_compute.h"
#include "tests/unit/disk_contract.h"

namespace lafs::real {
namespace {

using contract::DiskDriver;
using contract::status_of;

TempDir make_temp_dir() {
  Result<TempDir> dir = TempDir::make("lafs-disk-");
  LAFS_ASSERT_MSG(dir.ok(), "cannot make a temporary directory");
  return std::move(*dir);
}

class PosixDiskRig : public contract::DiskTestRig {
 public:
  PosixDiskRig() : dir_(make_temp_dir()) { reopen(); }

  Executor& executor() override { return ex_; }
  Disk& disk() override { return *disk_; }
  void run_until_done(Task<void> task) override { run_task(ex_, std::move(task)); }

  // Closes the disk and opens it again on the same directory.
  void reopen() {
    disk_.reset();
    auto d = PosixDisk::open_root(root(), /*create=*/true);
    LAFS_ASSERT_MSG(d.ok(), "cannot open the disk root");
    disk_ = std::move(*d);
    if (pool_) disk_->sync_on(pool_.get());
  }
  // From now on fsyncs run on a thread pool, as in RealEnv.
  void use_sync_pool() {
    pool_ = std::make_unique<ThreadPoolCompute>(ex_, 2);
    disk_->sync_on(pool_.get());
  }
  std::unique_ptr<PosixDisk> take_disk() { return std::move(disk_); }
  std::string root() const { return dir_.sub("root"); }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  RealExecutor ex_;
  std::unique_ptr<ThreadPoolCompute> pool_;  // before disk_: files may still use it
  std::unique_ptr<PosixDisk> disk_;
};

// The same disk with its fsyncs on a thread pool.
class PooledPosixDiskRig : public PosixDiskRig {
 public:
  PooledPosixDiskRig() { use_sync_pool(); }
};

}  // namespace
}  // namespace lafs::real

namespace lafs::contract {
using PosixDiskRigs = ::testing::Types<real::PosixDiskRig, real::PooledPosixDiskRig>;
INSTANTIATE_TYPED_TEST_SUITE_P(Posix, DiskContract, PosixDiskRigs);
}  // namespace lafs::contract

namespace lafs::real {
namespace {

class PosixDiskTest : public ::testing::Test {
 protected:
  PosixDiskRig rig;
  DiskDriver d{rig};
};

TEST_F(PosixDiskTest, SymbolicLinksAreRefusedNotFollowed) {
  // A directory outside the root, and links to it and to a file in it, planted inside the root.
  const std::string outside = rig.dir().sub("outside");
  ASSERT_EQ(::mkdir(outside.c_str(), 0700), 0);
  const std::string secret = outside + "/secret";
  {
    int fd = ::open(secret.c_str(), O_CREAT | O_WRONLY, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "s", 1), 1);
    ::close(fd);
  }
  ASSERT_EQ(::symlink(outside.c_str(), (rig.root() + "/dirlink").c_str()), 0);
  ASSERT_EQ(::symlink(secret.c_str(), (rig.root() + "/filelink").c_str()), 0);

  LAFS_EXPECT_CODE(d.open("filelink"), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(d.open("filelink", {.create = true}), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(d.open("dirlink/secret"), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(d.create("dirlink/new"), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(d.list("dirlink"), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(d.mkdir("dirlink/sub"), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(d.remove("dirlink/secret"), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(d.rename("dirlink/secret", "stolen"), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(d.stat("filelink"), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(d.sync_dir("dirlink"), ErrorCode::kInvalidArgument);
  // Nothing outside was touched; the links themselves can be removed.
  struct stat st;
  EXPECT_EQ(::stat(secret.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 1);
  EXPECT_NE(::access((outside + "/new").c_str(), F_OK), 0);
  LAFS_EXPECT_OK(d.remove("filelink"));
  LAFS_EXPECT_OK(d.remove("dirlink"));
  EXPECT_EQ(::stat(secret.c_str(), &st), 0);
}

TEST_F(PosixDiskTest, DataSurvivesReopening) {
  LAFS_ASSERT_OK(d.mkdir("dir"));
  LAFS_ASSERT_OK(d.write_file("dir/f", "durable", /*durable=*/true));
  LAFS_ASSERT_OK(d.sync_dir(""));
  rig.reopen();
  EXPECT_EQ(d.read_file("dir/f").value_or(""), "durable");
  EXPECT_EQ(d.list("").value_or({}), std::vector<std::string>{"dir"});
}

TEST_F(PosixDiskTest, FilesOutliveTheirDisk) {
  auto f = d.create("f");
  LAFS_ASSERT_OK(f);
  std::unique_ptr<PosixDisk> disk = rig.take_disk();
  disk.reset();
  LAFS_EXPECT_OK(d.write(**f, 0, "still here"));
  LAFS_EXPECT_OK(d.sync(**f));
  EXPECT_EQ(d.read(**f, 0, 100).value_or(""), "still here");
}

TEST_F(PosixDiskTest, LargeWritesAndReadsAtOffsets) {
  auto f = d.create("big");
  LAFS_ASSERT_OK(f);
  std::string block(1 << 20, '\0');
  for (std::size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>(i * 7);
  LAFS_ASSERT_OK(d.write(**f, 3 << 20, block));
  EXPECT_EQ(d.size(**f).value_or(0), 4u << 20);
  EXPECT_EQ(d.read(**f, 3 << 20, 1 << 20).value_or(""), block);
  EXPECT_EQ(d.read(**f, 0, 4).value_or("?"), std::string(4, '\0'));  // the gap reads as zeros
}

TEST_F(PosixDiskTest, FilesAndDirectoriesArePrivate) {
  LAFS_ASSERT_OK(d.mkdir("dir"));
  LAFS_ASSERT_OK(d.create("dir/f"));
  struct stat st;
  ASSERT_EQ(::stat((rig.root() + "/dir").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
  ASSERT_EQ(::stat((rig.root() + "/dir/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
}

// A test cannot set a real file system's free space, but it can set the process's file size
// limit: growing a file past it fails with EFBIG, which PosixDisk reports as kNoSpace like
// ENOSPC and EDQUOT, and the disk stays usable.
TEST_F(PosixDiskTest, WriteBeyondFileSizeLimitIsNoSpace) {
  auto f = d.create("f");
  LAFS_ASSERT_OK(f);
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a fatal signal
  struct rlimit limited = old;
  limited.rlim_cur = 100;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  Status at_limit = status_of(d.write(**f, 0, std::string(100, 'a')));
  Status past_limit = status_of(d.write(**f, 100, "b"));
  Status truncate_past = status_of(d.truncate(**f, 101));
  Status overwrite = status_of(d.write(**f, 0, "overwrite needs no growth"));
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  ::signal(SIGXFSZ, old_handler);
  LAFS_EXPECT_OK(at_limit);
  LAFS_EXPECT_CODE(past_limit, ErrorCode::kNoSpace);
  LAFS_EXPECT_CODE(truncate_past, ErrorCode::kNoSpace);
  LAFS_EXPECT_OK(overwrite);
  EXPECT_EQ(d.size(**f).value_or(0), 100u);
  LAFS_EXPECT_OK(d.write(**f, 100, "b"));  // with the limit lifted
}

TEST(PosixDiskRoot, MissingRootIsNotFoundUnlessCreated) {
  Result<TempDir> dir = TempDir::make("lafs-disk-");
  LAFS_ASSERT_OK(dir);
  LAFS_EXPECT_CODE(PosixDisk::open_root(dir->sub("missing"), false), ErrorCode::kNotFound);
  LAFS_EXPECT_OK(PosixDisk::open_root(dir->sub("made"), true));
  LAFS_EXPECT_OK(PosixDisk::open_root(dir->sub("made"), false));
  LAFS_EXPECT_CODE(PosixDisk::open_root("", true), ErrorCode::kInvalidArgument);
  const std::string file = dir->sub("file");
  int fd = ::open(file.c_str(), O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(fd, 0);
  ::close(fd);
  LAFS_EXPECT_CODE(PosixDisk::open_root(file, false), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace lafs::real
