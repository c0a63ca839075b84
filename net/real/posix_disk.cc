// PosixDisk: Disk on *at() system calls relative to a descriptor of the root. Paths are validated
// first (validate_disk_path rules out '.', '..', empty components and absolute paths) and then
// walked one component at a time with O_NOFOLLOW, so a symbolic link anywhere is refused rather
// than followed. errno values become Status codes as disk.h documents them.
#include "net/real/posix_disk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <string_view>
#include <utility>

namespace lafs::real {

namespace {

// Modes of what we create: a node's storage is private to it (the umask may narrow them further).
constexpr mode_t kFileMode = 0600;
constexpr mode_t kDirMode = 0700;
// Offsets and sizes beyond this do not fit in off_t.
constexpr std::uint64_t kOffsetMax = static_cast<std::uint64_t>(std::numeric_limits<off_t>::max());

// An owned file descriptor, closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string quoted(std::string_view path) {
  return "'" + std::string(path) + "'";
}

std::string errno_text(int err) {
  char buf[256];
  return std::string(strerror_r(err, buf, sizeof buf));  // the GNU variant returns the text
}

// `what` names the operation, e.g. "open", "rename"; `path` is the Disk path (never the host's).
Status errno_status(int err, std::string_view what, std::string_view path) {
  std::string msg = std::string(what) + " " + quoted(path) + ": " + errno_text(err);
  switch (err) {
    case ENOENT:
      return not_found(std::move(msg));
    case EEXIST:
      return already_exists(std::move(msg));
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return no_space(std::move(msg));
    case ENOTEMPTY:
      return failed_precondition(std::move(msg));
    case EISDIR:
    case ENOTDIR:
    case ELOOP:
    case EINVAL:
    case ENAMETOOLONG:
      return invalid_argument(std::move(msg));
    case EACCES:
    case EPERM:
    case EROFS:
      return permission_denied(std::move(msg));
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return resource_exhausted(std::move(msg));
    case EBADMSG:
      return corruption(std::move(msg));
    default:
      return io_error(std::move(msg));
  }
}

// Opens directory `dir` (validated; "" is the root) beneath root_fd, refusing symbolic links.
// A component that is not a directory is NotFound when it is a parent on the way (as in the
// simulator) and InvalidArgument when it is `dir` itself, unless `parent_of_target` says that
// `dir` is itself only the parent of what the caller wants.
Result<Fd> open_dir(int root_fd, const std::string& dir, bool parent_of_target) {
  Fd cur(::openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (cur.get() < 0) return errno_status(errno, "open root of", dir);
  std::size_t start = 0;
  while (start < dir.size()) {
    std::size_t end = dir.find('/', start);
    if (end == std::string::npos) end = dir.size();
    const std::string name = dir.substr(start, end - start);
    const std::string so_far = dir.substr(0, end);
    Fd next(::openat(cur.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (next.get() < 0) {
      const int err = errno;
      if (err != ENOTDIR && err != ELOOP) return errno_status(err, "open directory", so_far);
      struct stat st;
      if (::fstatat(cur.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(st.st_mode)) {
        return invalid_argument(quoted(so_far) +
                                " is a symbolic link; the disk does not follow them");
      }
      if (end < dir.size() || parent_of_target) {
        return not_found(quoted(so_far) + " is not a directory");
      }
      return invalid_argument(quoted(so_far) + " is not a directory");
    }
    cur = std::move(next);
    start = end + 1;
  }
  return cur;
}

struct Parent {
  Fd dir;
  std::string name;
};

// The directory holding `path` (validated, not the root) and the last component's name.
Result<Parent> open_parent(int root_fd, const std::string& path) {
  const std::string parent = parent_dir(path);
  Result<Fd> dir = open_dir(root_fd, parent, /*parent_of_target=*/true);
  if (!dir.ok()) return dir.status();
  const std::size_t name_at = parent.empty() ? 0 : parent.size() + 1;
  return Parent{std::move(*dir), path.substr(name_at)};
}

// lstat of a name in a directory: nullopt-like false when it does not exist.
Status stat_at(const Parent& p, const std::string& path, struct stat* st, bool* exists) {
  if (::fstatat(p.dir.get(), p.name.c_str(), st, AT_SYMLINK_NOFOLLOW) == 0) {
    *exists = true;
    return Status{};
  }
  *exists = false;
  if (errno == ENOENT) return Status{};
  return errno_status(errno, "stat", path);
}

class PosixFile final : public File {
 public:
  PosixFile(Fd fd, bool read_only, std::string path, Compute* sync_pool)
      : fd_(std::move(fd)), read_only_(read_only), path_(std::move(path)), sync_pool_(sync_pool) {
    LAFS_ASSERT(fd_.get() >= 0);
  }

  Task<Result<std::size_t>> read_at(std::uint64_t offset, MutableByteView out) override {
    co_return read_now(offset, out);
  }
  Task<Status> write_at(std::uint64_t offset, ByteView data) override {
    co_return write_now(offset, data);
  }
  Task<Status> sync() override {
    if (sync_pool_ == nullptr) co_return sync_now();
    // On the pool. If this File is closed meanwhile, the kernel keeps the file for the call's
    // duration; a reused descriptor number would at worst be synced needlessly.
    const int fd = fd_.get();
    auto work = [fd] {
      while (::fdatasync(fd) != 0) {
        if (errno != EINTR) return errno;
      }
      return 0;
    };
    const int err = co_await offload(*sync_pool_, work);
    if (err != 0) co_return errno_status(err, "sync", path_);
    co_return Status{};
  }
  Task<Result<std::uint64_t>> size() override { co_return size_now(); }
  Task<Status> truncate(std::uint64_t size) override { co_return truncate_now(size); }

 private:
  Result<std::size_t> read_now(std::uint64_t offset, MutableByteView out) {
    if (out.empty() || offset >= kOffsetMax) return std::size_t{0};
    std::size_t done = 0;
    while (done < out.size()) {
      const std::uint64_t at = offset + done;
      if (at >= kOffsetMax) break;
      const ssize_t n =
          ::pread(fd_.get(), out.data() + done, out.size() - done, static_cast<off_t>(at));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_status(errno, "read", path_);
      }
      if (n == 0) break;  // end of file
      done += static_cast<std::size_t>(n);
    }
    return done;
  }

  Status write_now(std::uint64_t offset, ByteView data) {
    if (read_only_) return permission_denied(quoted(path_) + " was opened read-only");
    if (data.empty()) return Status{};
    if (offset > kOffsetMax || data.size() > kOffsetMax - offset) {
      return invalid_argument("write past the largest file size in " + quoted(path_));
    }
    std::size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::pwrite(fd_.get(), data.data() + done, data.size() - done,
                                 static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_status(errno, "write", path_);
      }
      LAFS_ASSERT(n > 0);  // pwrite of a non-empty buffer to a regular file makes progress
      done += static_cast<std::size_t>(n);
    }
    return Status{};
  }

  Status sync_now() {
    // After a failed fdatasync the kernel may have dropped the dirty pages: the data is suspect,
    // and retrying does not bring it back. Callers treat the write as failed.
    while (::fdatasync(fd_.get()) != 0) {
      if (errno != EINTR) return errno_status(errno, "sync", path_);
    }
    return Status{};
  }

  Result<std::uint64_t> size_now() {
    struct stat st;
    if (::fstat(fd_.get(), &st) != 0) return errno_status(errno, "stat", path_);
    return static_cast<std::uint64_t>(st.st_size);
  }

  Status truncate_now(std::uint64_t size) {
    if (read_only_) return permission_denied(quoted(path_) + " was opened read-only");
    if (size > kOffsetMax) return invalid_argument("truncate past the largest file size");
    while (::ftruncate(fd_.get(), static_cast<off_t>(size)) != 0) {
      if (errno != EINTR) return errno_status(errno, "truncate", path_);
    }
    return Status{};
  }

  Fd fd_;
  bool read_only_;
  std::string path_;
  Compute* sync_pool_;  // null: fsync on the calling thread
};

}  // namespace

Result<std::unique_ptr<PosixDisk>> PosixDisk::open_root(const std::string& root_dir, bool create) {
  if (root_dir.empty()) return invalid_argument("empty disk root directory");
  if (create && ::mkdir(root_dir.c_str(), kDirMode) != 0 && errno != EEXIST) {
    return errno_status(errno, "create disk root", root_dir);
  }
  Fd fd(::open(root_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return errno_status(errno, "open disk root", root_dir);
  return std::unique_ptr<PosixDisk>(new PosixDisk(root_dir, fd.release()));
}

PosixDisk::PosixDisk(std::string root_dir, int root_fd)
    : root_dir_(std::move(root_dir)), root_fd_(root_fd) {
  LAFS_ASSERT(root_fd_ >= 0);
}

PosixDisk::~PosixDisk() {
  ::close(root_fd_);
}

Task<Result<std::unique_ptr<File>>> PosixDisk::open(std::string path, OpenOptions options) {
  co_return open_now(path, options);
}
Task<Status> PosixDisk::rename(std::string from, std::string to) {
  co_return rename_now(from, to);
}
Task<Status> PosixDisk::remove(std::string path) {
  co_return remove_now(path);
}
Task<Status> PosixDisk::mkdir(std::string path) {
  co_return mkdir_now(path);
}
Task<Result<std::vector<std::string>>> PosixDisk::list(std::string dir) {
  co_return list_now(dir);
}
Task<Result<FileInfo>> PosixDisk::stat(std::string path) {
  co_return stat_now(path);
}
Task<Status> PosixDisk::sync_dir(std::string dir) {
  if (sync_pool_ == nullptr) co_return sync_dir_now(dir);
  LAFS_CO_RETURN_IF_ERROR(validate_disk_path(dir, /*allow_root=*/true));
  Result<Fd> fd = open_dir(root_fd_, dir, /*parent_of_target=*/false);
  if (!fd.ok()) co_return fd.status();
  // The pool's task owns the descriptor, so it stays open even if this call is abandoned.
  auto owned = std::make_shared<Fd>(std::move(*fd));
  // A named lambda, not a temporary in the co_await (docs/decisions/0016: g++ 12 destroys such
  // temporaries twice).
  auto work = [owned] {
    while (::fsync(owned->get()) != 0) {
      if (errno != EINTR) return errno;
    }
    return 0;
  };
  const int err = co_await offload(*sync_pool_, work);
  if (err != 0) co_return errno_status(err, "sync directory", dir);
  co_return Status{};
}
Task<Result<std::uint64_t>> PosixDisk::free_space() {
  co_return free_space_now();
}

Result<std::unique_ptr<File>> PosixDisk::open_now(const std::string& path, OpenOptions options) {
  LAFS_RETURN_IF_ERROR(validate_disk_path(path, /*allow_root=*/false));
  Result<Parent> parent = open_parent(root_fd_, path);
  if (!parent.ok()) return parent.status();
  // O_NONBLOCK only keeps open() of a FIFO planted in the tree from hanging; regular files
  // ignore it.
  int flags = O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | (options.read_only ? O_RDONLY : O_RDWR);
  if (options.create) flags |= O_CREAT;
  if (options.create && options.exclusive) flags |= O_EXCL;
  if (options.truncate) flags |= O_TRUNC;
  Fd fd(::openat(parent->dir.get(), parent->name.c_str(), flags, kFileMode));
  if (fd.get() < 0) {
    if (errno == ELOOP) return invalid_argument(quoted(path) + " is a symbolic link");
    if (errno == EISDIR) return invalid_argument(quoted(path) + " is a directory");
    return errno_status(errno, "open", path);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return errno_status(errno, "stat", path);
  if (S_ISDIR(st.st_mode)) return invalid_argument(quoted(path) + " is a directory");
  if (!S_ISREG(st.st_mode)) return invalid_argument(quoted(path) + " is not a regular file");
  return std::unique_ptr<File>(new PosixFile(std::move(fd), options.read_only, path, sync_pool_));
}

Status PosixDisk::rename_now(const std::string& from, const std::string& to) {
  LAFS_RETURN_IF_ERROR(validate_disk_path(from, /*allow_root=*/false));
  LAFS_RETURN_IF_ERROR(validate_disk_path(to, /*allow_root=*/false));
  Result<Parent> src = open_parent(root_fd_, from);
  if (!src.ok()) return src.status();
  struct stat src_st;
  bool src_exists;
  LAFS_RETURN_IF_ERROR(stat_at(*src, from, &src_st, &src_exists));
  if (!src_exists) return not_found("no such file: " + quoted(from));
  Result<Parent> dst = open_parent(root_fd_, to);
  if (!dst.ok()) return dst.status();
  struct stat dst_st;
  bool dst_exists;
  LAFS_RETURN_IF_ERROR(stat_at(*dst, to, &dst_st, &dst_exists));
  if (dst_exists) {
    // POSIX renames a directory over an empty one; the Disk contract (and SimDisk) refuse.
    if (dst_st.st_dev == src_st.st_dev && dst_st.st_ino == src_st.st_ino) return Status{};
    if (S_ISDIR(dst_st.st_mode)) return invalid_argument(quoted(to) + " is a directory");
    if (S_ISDIR(src_st.st_mode)) return invalid_argument("cannot replace a file with a directory");
  }
  if (::renameat(src->dir.get(), src->name.c_str(), dst->dir.get(), dst->name.c_str()) != 0) {
    return errno_status(errno, "rename to " + quoted(to) + " from", from);
  }
  return Status{};
}

Status PosixDisk::remove_now(const std::string& path) {
  LAFS_RETURN_IF_ERROR(validate_disk_path(path, /*allow_root=*/false));
  Result<Parent> parent = open_parent(root_fd_, path);
  if (!parent.ok()) return parent.status();
  struct stat st;
  bool exists;
  LAFS_RETURN_IF_ERROR(stat_at(*parent, path, &st, &exists));
  if (!exists) return not_found("no such file: " + quoted(path));
  const int flags = S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0;
  if (::unlinkat(parent->dir.get(), parent->name.c_str(), flags) != 0) {
    // rmdir(2) may report a non-empty directory as EEXIST as well as ENOTEMPTY.
    if (errno == EEXIST || errno == ENOTEMPTY) {
      return failed_precondition("directory " + quoted(path) + " is not empty");
    }
    return errno_status(errno, "remove", path);
  }
  return Status{};
}

Status PosixDisk::mkdir_now(const std::string& path) {
  LAFS_RETURN_IF_ERROR(validate_disk_path(path, /*allow_root=*/false));
  Result<Parent> parent = open_parent(root_fd_, path);
  if (!parent.ok()) return parent.status();
  if (::mkdirat(parent->dir.get(), parent->name.c_str(), kDirMode) != 0) {
    return errno_status(errno, "mkdir", path);
  }
  return Status{};
}

Result<std::vector<std::string>> PosixDisk::list_now(const std::string& dir) {
  LAFS_RETURN_IF_ERROR(validate_disk_path(dir, /*allow_root=*/true));
  Result<Fd> fd = open_dir(root_fd_, dir, /*parent_of_target=*/false);
  if (!fd.ok()) return fd.status();
  DIR* d = ::fdopendir(fd->get());
  if (d == nullptr) return errno_status(errno, "list", dir);
  fd->release();  // closedir() closes it now
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(d);
    if (e == nullptr) break;
    const std::string_view name(e->d_name);
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return errno_status(err, "list", dir);
  std::sort(names.begin(), names.end());  // std::string orders bytewise (as unsigned char)
  return names;
}

Result<FileInfo> PosixDisk::stat_now(const std::string& path) {
  LAFS_RETURN_IF_ERROR(validate_disk_path(path, /*allow_root=*/true));
  struct stat st;
  if (path.empty()) {
    if (::fstat(root_fd_, &st) != 0) return errno_status(errno, "stat", path);
  } else {
    Result<Parent> parent = open_parent(root_fd_, path);
    if (!parent.ok()) return parent.status();
    bool exists;
    LAFS_RETURN_IF_ERROR(stat_at(*parent, path, &st, &exists));
    if (!exists) return not_found("no such file or directory: " + quoted(path));
  }
  if (S_ISDIR(st.st_mode)) return FileInfo{true, 0};
  if (S_ISREG(st.st_mode)) return FileInfo{false, static_cast<std::uint64_t>(st.st_size)};
  return invalid_argument(quoted(path) + " is neither a regular file nor a directory");
}

Status PosixDisk::sync_dir_now(const std::string& dir) {
  LAFS_RETURN_IF_ERROR(validate_disk_path(dir, /*allow_root=*/true));
  Result<Fd> fd = open_dir(root_fd_, dir, /*parent_of_target=*/false);
  if (!fd.ok()) return fd.status();
  while (::fsync(fd->get()) != 0) {
    if (errno != EINTR) return errno_status(errno, "sync directory", dir);
  }
  return Status{};
}

Result<std::uint64_t> PosixDisk::free_space_now() {
  struct statvfs vfs;
  if (::fstatvfs(root_fd_, &vfs) != 0) return errno_status(errno, "statvfs", "");
  return static_cast<std::uint64_t>(vfs.f_bavail) * static_cast<std::uint64_t>(vfs.f_frsize);
}

}  // namespace lafs::real
