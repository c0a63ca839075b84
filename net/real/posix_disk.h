// PosixDisk: the production Disk, on a directory of a POSIX file system. Every path is resolved
// component by component from an open descriptor of the root with O_NOFOLLOW, so no path (and no
// symbolic link planted in the tree) reaches outside the root.
//
// Calls are synchronous system calls: each Task completes before it first suspends, blocking the
// executor thread for the duration — except File::sync() and sync_dir() when a pool is set
// (sync_on): those fsyncs run on the pool's threads, so one slow fsync does not stall every
// other connection served by the executor.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/env/compute.h"
#include "core/env/disk.h"
#include "core/runtime/status.h"
#include "core/runtime/task.h"

namespace lafs::real {

class PosixDisk final : public Disk {
 public:
  // Opens the disk rooted at `root_dir` (absolute or relative to the working directory; symbolic
  // links in it are followed, it is the operator's choice). With `create`, makes the last
  // component when missing. Errors: NotFound, InvalidArgument (not a directory), IoError.
  static Result<std::unique_ptr<PosixDisk>> open_root(const std::string& root_dir, bool create);

  PosixDisk(const PosixDisk&) = delete;
  PosixDisk& operator=(const PosixDisk&) = delete;
  // Files opened from this disk stay usable after it is gone.
  ~PosixDisk() override;

  Task<Result<std::unique_ptr<File>>> open(std::string path, OpenOptions options) override;
  Task<Status> rename(std::string from, std::string to) override;
  Task<Status> remove(std::string path) override;
  Task<Status> mkdir(std::string path) override;
  Task<Result<std::vector<std::string>>> list(std::string dir) override;
  Task<Result<FileInfo>> stat(std::string path) override;
  Task<Status> sync_dir(std::string dir) override;
  Task<Result<std::uint64_t>> free_space() override;

  // The synchronous calls behind the Tasks above.
  Result<std::unique_ptr<File>> open_now(const std::string& path, OpenOptions options);
  Status rename_now(const std::string& from, const std::string& to);
  Status remove_now(const std::string& path);
  Status mkdir_now(const std::string& path);
  Result<std::vector<std::string>> list_now(const std::string& dir);
  Result<FileInfo> stat_now(const std::string& path);
  Status sync_dir_now(const std::string& dir);
  Result<std::uint64_t> free_space_now();

  const std::string& root_dir() const { return root_dir_; }

  // Runs fsyncs on `pool` from now on (it must outlive this disk and the files it opens).
  void sync_on(Compute* pool) { sync_pool_ = pool; }

 private:
  PosixDisk(std::string root_dir, int root_fd);

  std::string root_dir_;
  int root_fd_;  // O_DIRECTORY descriptor of the root, for every *at() call
  Compute* sync_pool_ = nullptr;
};

}  // namespace lafs::real
