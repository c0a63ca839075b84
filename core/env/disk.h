// Disk: files and directories under one root (a node's storage directory). Paths are relative,
// '/'-separated, without '.', '..' or empty components; anything else is InvalidArgument.
//
// Durability (what survives a crash — power loss or kill -9 of the machine):
//  - bytes written to a file survive only after File::sync() returned OK;
//  - a created, renamed or removed name survives only after sync_dir() of its parent directory
//    returned OK (for a rename: of both parents);
//  - rename() is atomic: after a crash the destination names either the old or the new file;
//  - anything not yet synced may be lost, kept, or (file data) torn: partly written.
// The simulated disk implements exactly this, and nothing more generous; code that is correct on
// it is correct on a POSIX file system with fsync.
//
// All methods are called on the executor's thread. They return Tasks because the real disk may
// run them on a thread pool; the simulator may complete them at once or after a delay.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/env/bytes.h"
#include "core/runtime/status.h"
#include "core/runtime/task.h"

namespace lafs {

class File {
 public:
  // Destroying a File closes it (without syncing).
  virtual ~File() = default;

  // Reads up to out.size() bytes at `offset`; returns how many were read: fewer only at end of
  // file (0 at or past the end). Errors: IoError, Corruption (the medium reported bad data).
  virtual Task<Result<std::size_t>> read_at(std::uint64_t offset, MutableByteView out) = 0;

  // Writes all of `data` at `offset`, extending the file (with zeros in any gap) as needed.
  // Errors: NoSpace (nothing or part was written; the file size may have grown), IoError,
  // PermissionDenied (opened read-only).
  virtual Task<Status> write_at(std::uint64_t offset, ByteView data) = 0;

  // Makes every write so far durable (fdatasync + size). Errors: IoError.
  virtual Task<Status> sync() = 0;

  virtual Task<Result<std::uint64_t>> size() = 0;

  // Sets the size, cutting or zero-extending. Not durable until sync(). Errors: NoSpace, IoError.
  virtual Task<Status> truncate(std::uint64_t size) = 0;
};

struct OpenOptions {
  bool create = false;     // create when missing (the new name is durable after sync_dir)
  bool exclusive = false;  // with create: AlreadyExists when the file exists
  bool truncate = false;   // cut to zero length on open
  bool read_only = false;  // refuse writes with PermissionDenied
};

struct FileInfo {
  bool is_directory = false;
  std::uint64_t size_bytes = 0;  // 0 for directories
};

class Disk {
 public:
  virtual ~Disk() = default;

  // Errors: NotFound (missing and !create, or missing parent), AlreadyExists (exclusive),
  // InvalidArgument (bad path, or a directory), IoError.
  virtual Task<Result<std::unique_ptr<File>>> open(std::string path, OpenOptions options) = 0;

  // Atomically replaces `to` (a file, if any) with `from`. Errors: NotFound, InvalidArgument
  // (bad path, or `to` is a directory), IoError.
  virtual Task<Status> rename(std::string from, std::string to) = 0;

  // Removes a file or an empty directory. Errors: NotFound, FailedPrecondition (directory not
  // empty), IoError.
  virtual Task<Status> remove(std::string path) = 0;

  // Creates one directory; its parent must exist. Errors: AlreadyExists, NotFound (parent).
  virtual Task<Status> mkdir(std::string path) = 0;

  // Names in a directory, sorted bytewise. Errors: NotFound, InvalidArgument (not a directory).
  // "" is the root.
  virtual Task<Result<std::vector<std::string>>> list(std::string dir) = 0;

  virtual Task<Result<FileInfo>> stat(std::string path) = 0;

  // Makes the directory's entries (creates, renames, removes) durable. "" is the root.
  virtual Task<Status> sync_dir(std::string dir) = 0;

  // Bytes that can still be written.
  virtual Task<Result<std::uint64_t>> free_space() = 0;
};

// Checks a Disk path against the rules above; returns InvalidArgument naming the problem.
Status validate_disk_path(const std::string& path, bool allow_root);

// "a/b/c" -> "a/b"; "c" -> "".
std::string parent_dir(const std::string& path);

}  // namespace lafs
