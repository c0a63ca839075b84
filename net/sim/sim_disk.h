// SimDisk: the simulated Disk. An in-memory tree that keeps what is durable apart from what is only
// written, so that crash() can keep, drop or tear unsynced state as a POSIX file system may; it
// also rots bits at rest, fills up, and fails calls on demand.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/env/disk.h"
#include "core/runtime/status.h"
#include "core/runtime/task.h"
#include "core/runtime/time.h"
#include "net/sim/sim_loop.h"
#include "net/sim/sim_random.h"

namespace lafs::sim {

namespace detail {
struct DiskLife;
struct DiskInode;
struct NameChange;
struct PendingWrite;
}  // namespace detail

struct SimDiskOptions {
  std::uint64_t capacity_bytes = std::uint64_t{1} << 40;  // file bytes; directories are free

  // How long each call takes; zero completes it without suspending. A call whose disk crashes
  // while it waits fails with IoError and changes nothing.
  Duration read_latency{0};
  Duration write_latency{0};     // File::write_at, File::truncate
  Duration sync_latency{0};      // File::sync, sync_dir
  Duration metadata_latency{0};  // open, rename, remove, mkdir, list, stat, size, free_space

  // What crash() does with unsynced state, as relative weights (not all zero). Each unsynced
  // file write is independently kept, dropped or torn (a random prefix of its bytes lands). The
  // log of unsynced name changes is kept whole, dropped whole, or torn: a random prefix of it
  // survives, so that renames stay atomic and changes stay in order.
  double crash_keep_weight = 1;
  double crash_drop_weight = 1;
  double crash_tear_weight = 1;

  // Chance that a call fails with IoError and changes nothing.
  double io_error_probability = 0;

  // Bounds on unsynced state, standing in for the OS's background writeback: past them the oldest
  // unsynced write of a file (or the oldest name change) becomes durable without a sync.
  std::uint32_t unsynced_writes_per_file_max = 1024;
  std::uint32_t unsynced_name_changes_max = 4096;
};

class SimDisk final : public Disk {
 public:
  // `loop` times the calls (when latencies are set); `random` decides crash losses and faults.
  // Destroy the disk only when no call is in flight; Files may outlive it (they then fail).
  SimDisk(SimLoop& loop, SimRandom random, SimDiskOptions options = {});
  SimDisk(const SimDisk&) = delete;
  SimDisk& operator=(const SimDisk&) = delete;
  ~SimDisk() override;

  Task<Result<std::unique_ptr<File>>> open(std::string path, OpenOptions options) override;
  Task<Status> rename(std::string from, std::string to) override;
  Task<Status> remove(std::string path) override;
  Task<Status> mkdir(std::string path) override;
  Task<Result<std::vector<std::string>>> list(std::string dir) override;
  Task<Result<FileInfo>> stat(std::string path) override;
  Task<Status> sync_dir(std::string dir) override;
  Task<Result<std::uint64_t>> free_space() override;

  // Power loss: the disk keeps its durable state plus what the crash weights let through of the
  // unsynced state (see SimDiskOptions). Every File opened before fails from now on with IoError
  // "disk crashed", as do calls that were waiting out a latency. The node's process is gone: its
  // owner cancels its scope and restarts it on this disk.
  void crash();

  // Bit rot: flips bit `bit` (0..7) of the byte at `byte_offset`, in what reads return and in
  // what a crash reverts to. NotFound, or InvalidArgument (a directory, or past the end of both).
  Status corrupt(const std::string& path, std::uint64_t byte_offset, unsigned bit);

  // Bit rot somewhere: flips one random bit of one file chosen uniformly among the non-empty
  // files whose path starts with `prefix` (a walk of the tree). The path, or NotFound if there is
  // no such file.
  Result<std::string> rot_random_bit(const std::string& prefix);

  // A smaller capacity than used_bytes() makes every growing write fail with NoSpace.
  void set_capacity(std::uint64_t bytes) { capacity_bytes_ = bytes; }
  std::uint64_t capacity_bytes() const { return capacity_bytes_; }

  // Bytes in files that have a name or an open handle (an unlinked open file counts until closed).
  std::uint64_t used_bytes() const { return used_bytes_; }
  // Bytes handed to File::write_at since the disk was made (a benchmark's measure of writes).
  std::uint64_t bytes_written() const { return bytes_written_; }

  // The next `count` calls (of the Disk or of any File) fail with `code` and change nothing.
  void set_fail_next(std::uint32_t count, ErrorCode code);

  std::uint64_t crash_count() const;

 private:
  friend class SimFile;
  using Inode = detail::DiskInode;
  using InodePtr = std::shared_ptr<Inode>;
  enum class Fate : std::uint8_t { kKeep, kDrop, kTear };
  struct Parent {
    InodePtr dir;
    std::string name;
  };

  // Waits out `latency`, then fails if the disk crashed meanwhile or a fault is due.
  Task<Status> begin_call(Duration latency);
  Status check_call(std::uint64_t epoch);

  Result<InodePtr> lookup(const std::string& path) const;
  Result<Parent> lookup_parent(const std::string& path) const;
  InodePtr new_inode(bool is_dir);
  void change_names(detail::NameChange change);
  void make_oldest_durable(std::size_t n);
  void trim_name_log();
  void set_entry(Inode& dir, const std::string& name, InodePtr target);
  void add_live_ref(Inode& inode);
  void drop_live_ref(Inode& inode);

  Result<std::unique_ptr<File>> open_now(const std::string& path, OpenOptions options);
  Status rename_now(const std::string& from, const std::string& to);
  Status remove_now(const std::string& path);
  Status mkdir_now(const std::string& path);
  Result<std::vector<std::string>> list_now(const std::string& dir) const;
  Result<FileInfo> stat_now(const std::string& path) const;
  Status sync_dir_now(const std::string& dir);

  // File data, for SimFile. The file has a live reference (its handle).
  Status write_now(Inode& file, std::uint64_t offset, ByteView data);
  Status truncate_now(Inode& file, std::uint64_t size);
  Status change_file(Inode& file, detail::PendingWrite change, std::uint64_t new_size);

  Fate draw_fate();
  void recover_names();
  void recover_tree();
  void recover_file(Inode& file);

  SimLoop& loop_;
  SimRandom random_;
  SimDiskOptions options_;
  std::shared_ptr<detail::DiskLife> life_;
  InodePtr root_;
  // Name changes not yet durable, oldest first; the front one is number name_log_base_. Dead
  // changes (every part synced) may remain until trim_name_log(); name_log_live_ counts the rest.
  std::deque<detail::NameChange> name_log_;
  std::uint64_t name_log_base_ = 0;
  std::size_t name_log_live_ = 0;
  // Every directory made but the root, to break reference cycles at the end: a cycle can form
  // through stale durable entries when directories are moved into each other between syncs.
  std::vector<std::weak_ptr<Inode>> dirs_;
  std::size_t dirs_compact_at_ = 64;
  std::uint64_t capacity_bytes_;
  std::uint64_t used_bytes_ = 0;
  std::uint64_t bytes_written_ = 0;
  std::uint32_t fail_next_count_ = 0;
  ErrorCode fail_next_code_ = ErrorCode::kIoError;
};

}  // namespace lafs::sim
