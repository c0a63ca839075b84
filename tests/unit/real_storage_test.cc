// The storage server on the real Env (POSIX disk + RocksDB): a child process uploads shares and
// is killed with SIGKILL the moment the last close is acknowledged (no clean shutdown, no
// destructors); the parent then opens the same directories and reads every share back.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/storage/storage_server.h"
#include "net/real/real_env.h"
#include "net/real/real_run.h"
#include "net/real/temp_dir.h"

namespace lafs::storage {
namespace {

Bytes pattern(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed * 7 + i * 13);
  return b;
}
StorageIndex si_of(std::uint8_t b) {
  StorageIndex si;
  si.fill(b);
  return si;
}
LeaseSecretBytes secret_of(std::uint8_t b) {
  LeaseSecretBytes s;
  s.fill(b);
  return s;
}

constexpr int kFiles = 5;
constexpr std::size_t kShareBytes = 300'000;  // several writes per share

std::unique_ptr<real::RealEnv> open_env(const real::TempDir& dir) {
  real::RealEnvOptions o;
  o.data_dir = dir.sub("data");
  o.kv_dir = dir.sub("kv");
  o.compute_threads = 1;
  o.log_level_min = LogLevel::kError;
  auto env = real::RealEnv::open(o);
  LAFS_ASSERT_MSG(env.ok(), "cannot open the real env");
  return std::move(*env);
}

// In the child: upload, then die hard. Exit codes other than death by SIGKILL mean failure.
[[noreturn]] void child_uploads_then_dies(const real::TempDir& dir) {
  auto env = open_env(dir);
  auto& ex = env->real_executor();
  auto server = real::run_task(ex, StorageServer::open(env.get(), StorageOptions{}));
  if (!server.ok()) _exit(10);
  for (int f = 0; f < kFiles; ++f) {
    const StorageIndex si = si_of(static_cast<std::uint8_t>(f));
    auto a = real::run_task(
        ex, (*server)->allocate(si, {0, 1}, kShareBytes, secret_of(1), secret_of(2), "client"));
    if (!a.ok() || a->allocated.size() != 2) _exit(11);
    for (const Allocation& al : a->allocated) {
      const Bytes data = pattern(kShareBytes, static_cast<std::uint8_t>(f * 2 + al.share_number));
      for (std::size_t off = 0; off < kShareBytes; off += 65'536) {
        const std::size_t n = std::min<std::size_t>(65'536, kShareBytes - off);
        Bytes piece(data.begin() + off, data.begin() + off + n);
        if (!real::run_task(ex, (*server)->write(si, al.share_number, al.upload_id, off, piece))
                 .is_ok()) {
          _exit(12);
        }
      }
      if (!real::run_task(ex, (*server)->close(si, al.share_number, al.upload_id)).is_ok()) {
        _exit(13);
      }
    }
  }
  // One more upload left open: it must not appear after the restart.
  auto open_upload = real::run_task(
      ex, (*server)->allocate(si_of(99), {0}, 100, secret_of(1), secret_of(2), "client"));
  if (!open_upload.ok()) _exit(14);
  ::kill(::getpid(), SIGKILL);
  _exit(15);
}

TEST(RealStorage, AcknowledgedSharesSurviveSigkillAndRestart) {
  auto dir = real::TempDir::make("lafs-storage-");
  ASSERT_TRUE(dir.ok());
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) child_uploads_then_dies(*dir);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "child failed before the kill, exit code "
      << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);

  auto env = open_env(*dir);
  auto& ex = env->real_executor();
  auto server = real::run_task(ex, StorageServer::open(env.get(), StorageOptions{}));
  ASSERT_TRUE(server.ok()) << server.status().to_string();
  EXPECT_EQ((*server)->stats().shares, 2u * kFiles);
  for (int f = 0; f < kFiles; ++f) {
    const StorageIndex si = si_of(static_cast<std::uint8_t>(f));
    auto held = real::run_task(ex, (*server)->get_buckets(si));
    ASSERT_TRUE(held.ok());
    ASSERT_EQ(held->size(), 2u);
    for (std::uint32_t sh = 0; sh < 2; ++sh) {
      Bytes back;
      for (std::uint64_t off = 0; off < kShareBytes; off += kReadBytesMax) {
        auto r = real::run_task(ex, (*server)->read(si, sh, off, kReadBytesMax));
        ASSERT_TRUE(r.ok()) << r.status().to_string();
        back.insert(back.end(), r->begin(), r->end());
      }
      EXPECT_EQ(back, pattern(kShareBytes, static_cast<std::uint8_t>(f * 2 + sh)));
    }
  }
  EXPECT_TRUE(real::run_task(ex, (*server)->get_buckets(si_of(99)))->empty());
  EXPECT_EQ((*server)->open_uploads(), 0u);
  // And it keeps working: the open upload's share can be uploaded now.
  auto a = real::run_task(
      ex, (*server)->allocate(si_of(99), {0}, 10, secret_of(1), secret_of(2), "client"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->allocated.size(), 1u);
}

}  // namespace
}  // namespace lafs::storage
