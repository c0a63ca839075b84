// The Disk contract (core/env/disk.h) as a GoogleTest type-parameterized suite, so that every Disk
// (simulated, POSIX) passes the same tests. Instantiate it with a rig type:
//   INSTANTIATE_TYPED_TEST_SUITE_P(Sim, DiskContract, ::testing::Types<SimDiskRig>);
// Crash behaviour is not here: only the simulated disk can crash on demand (sim_disk_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/env/bytes.h"
#include "core/env/disk.h"
#include "core/runtime/executor.h"
#include "core/runtime/status.h"
#include "core/runtime/task.h"

#ifndef LAFS_CONTRACT_STATUS_HELPERS
#define LAFS_CONTRACT_STATUS_HELPERS
namespace lafs::contract {
inline Status status_of(const Status& s) {
  return s;
}
template <typename T>
Status status_of(const Result<T>& r) {
  return r.status();
}
}  // namespace lafs::contract

// EXPECT that a Status or Result is OK / has the given code, printing the error when not.
#define LAFS_EXPECT_OK(expr)                                              \
  do {                                                                    \
    const ::lafs::Status lafs_s_ = ::lafs::contract::status_of(expr);     \
    EXPECT_TRUE(lafs_s_.is_ok()) << #expr << ": " << lafs_s_.to_string(); \
  } while (0)
#define LAFS_ASSERT_OK(expr)                                              \
  do {                                                                    \
    const ::lafs::Status lafs_s_ = ::lafs::contract::status_of(expr);     \
    ASSERT_TRUE(lafs_s_.is_ok()) << #expr << ": " << lafs_s_.to_string(); \
  } while (0)
#define LAFS_EXPECT_CODE(expr, want)                                                  \
  do {                                                                                \
    const ::lafs::Status lafs_s_ = ::lafs::contract::status_of(expr);                 \
    EXPECT_EQ(::lafs::error_code_name(lafs_s_.code()), ::lafs::error_code_name(want)) \
        << #expr << ": " << lafs_s_.to_string();                                      \
  } while (0)
#endif  // LAFS_CONTRACT_STATUS_HELPERS

namespace lafs::contract {

// What a Disk implementation provides to the suite: the disk, the executor its calls run on, and
// a way to drive that executor until a task has finished (the simulator steps its loop; a real
// Env runs its event loop). A rig must be default-constructible and start with an empty disk.
class DiskTestRig {
 public:
  virtual ~DiskTestRig() = default;
  virtual Executor& executor() = 0;
  virtual Disk& disk() = 0;
  // Runs the executor until `task` has finished.
  virtual void run_until_done(Task<void> task) = 0;
  // Limits the disk to `bytes` of file data; false where that is impossible (a real disk).
  virtual bool set_capacity(std::uint64_t bytes) { return false; }

  template <typename T>
  T run(Task<T> task) {
    std::optional<T> out;
    run_until_done(store(std::move(task), &out));
    LAFS_ASSERT(out.has_value());
    return std::move(*out);
  }

 private:
  template <typename T>
  static Task<void> store(Task<T> task, std::optional<T>* out) {
    out->emplace(co_await std::move(task));
  }
};

// Calls the Disk and its Files synchronously through a rig, so that tests read top to bottom.
class DiskDriver {
 public:
  explicit DiskDriver(DiskTestRig& rig) : rig_(rig) {}

  Disk& disk() { return rig_.disk(); }

  Result<std::unique_ptr<File>> open(std::string path, OpenOptions options = {}) {
    return rig_.run(disk().open(std::move(path), options));
  }
  Result<std::unique_ptr<File>> create(std::string path) {
    return open(std::move(path), OpenOptions{.create = true});
  }
  Status rename(std::string from, std::string to) {
    return rig_.run(disk().rename(std::move(from), std::move(to)));
  }
  Status remove(std::string path) { return rig_.run(disk().remove(std::move(path))); }
  Status mkdir(std::string path) { return rig_.run(disk().mkdir(std::move(path))); }
  Result<std::vector<std::string>> list(std::string dir) {
    return rig_.run(disk().list(std::move(dir)));
  }
  Result<FileInfo> stat(std::string path) { return rig_.run(disk().stat(std::move(path))); }
  Status sync_dir(std::string dir) { return rig_.run(disk().sync_dir(std::move(dir))); }
  Result<std::uint64_t> free_space() { return rig_.run(disk().free_space()); }

  Status write(File& f, std::uint64_t offset, std::string_view data) {
    return rig_.run(f.write_at(offset, as_bytes(data)));
  }
  // Up to `n` bytes at `offset`: fewer at the end of the file.
  Result<std::string> read(File& f, std::uint64_t offset, std::size_t n) {
    Bytes buf(n);
    Result<std::size_t> got = rig_.run(f.read_at(offset, MutableByteView(buf)));
    if (!got.ok()) return got.status();
    LAFS_ASSERT(*got <= n);
    return std::string(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*got));
  }
  Status sync(File& f) { return rig_.run(f.sync()); }
  Result<std::uint64_t> size(File& f) { return rig_.run(f.size()); }
  Status truncate(File& f, std::uint64_t size) { return rig_.run(f.truncate(size)); }

  // Replaces the file's contents; with `durable`, also syncs it and its directory.
  Status write_file(const std::string& path, std::string_view data, bool durable) {
    auto f = open(path, OpenOptions{.create = true, .truncate = true});
    if (!f.ok()) return f.status();
    LAFS_RETURN_IF_ERROR(write(**f, 0, data));
    if (!durable) return Status{};
    LAFS_RETURN_IF_ERROR(sync(**f));
    return sync_dir(parent_dir(path));
  }
  // The whole file (NotFound when missing).
  Result<std::string> read_file(const std::string& path) {
    auto f = open(path, OpenOptions{.read_only = true});
    if (!f.ok()) return f.status();
    Result<std::uint64_t> n = size(**f);
    if (!n.ok()) return n.status();
    return read(**f, 0, static_cast<std::size_t>(*n));
  }

 private:
  DiskTestRig& rig_;
};

template <typename Rig>
class DiskContract : public ::testing::Test {
  static_assert(std::is_base_of_v<DiskTestRig, Rig>, "a disk rig derives from DiskTestRig");

 protected:
  Rig rig;
  DiskDriver d{rig};
};

TYPED_TEST_SUITE_P(DiskContract);

TYPED_TEST_P(DiskContract, OpenMissingIsNotFound) {
  auto& d = this->d;
  LAFS_EXPECT_CODE(d.open("missing"), ErrorCode::kNotFound);
  LAFS_EXPECT_CODE(d.open("missing", {.read_only = true}), ErrorCode::kNotFound);
  LAFS_EXPECT_CODE(d.create("no_dir/file"), ErrorCode::kNotFound);
}

TYPED_TEST_P(DiskContract, CreateMakesEmptyFile) {
  auto& d = this->d;
  auto f = d.create("f");
  LAFS_ASSERT_OK(f);
  EXPECT_EQ(d.size(**f).value_or(99), 0u);
  auto info = d.stat("f");
  LAFS_ASSERT_OK(info);
  EXPECT_FALSE(info->is_directory);
  EXPECT_EQ(info->size_bytes, 0u);
  EXPECT_EQ(d.list("").value_or({}), std::vector<std::string>{"f"});
}

TYPED_TEST_P(DiskContract, WriteThenReadBack) {
  auto& d = this->d;
  auto f = d.create("f");
  LAFS_ASSERT_OK(f);
  LAFS_ASSERT_OK(d.write(**f, 0, "hello world"));
  EXPECT_EQ(d.read(**f, 0, 11).value_or(""), "hello world");
  EXPECT_EQ(d.read(**f, 6, 5).value_or(""), "world");
  EXPECT_EQ(d.size(**f).value_or(0), 11u);
  EXPECT_EQ(d.stat("f")->size_bytes, 11u);
  EXPECT_EQ(d.read_file("f").value_or(""), "hello world");
}

TYPED_TEST_P(DiskContract, ReadPastEndIsShortOrEmpty) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.write_file("f", "abc", false));
  auto f = d.open("f");
  LAFS_ASSERT_OK(f);
  EXPECT_EQ(d.read(**f, 1, 10).value_or("?"), "bc");
  EXPECT_EQ(d.read(**f, 3, 5).value_or("?"), "");
  EXPECT_EQ(d.read(**f, 1000, 5).value_or("?"), "");
  EXPECT_EQ(d.read(**f, 0, 0).value_or("?"), "");
}

TYPED_TEST_P(DiskContract, WriteBeyondEndZeroFillsGap) {
  auto& d = this->d;
  auto f = d.create("f");
  LAFS_ASSERT_OK(f);
  LAFS_ASSERT_OK(d.write(**f, 5, "xy"));
  EXPECT_EQ(d.size(**f).value_or(0), 7u);
  EXPECT_EQ(d.read(**f, 0, 100).value_or(""), std::string("\0\0\0\0\0xy", 7));
}

TYPED_TEST_P(DiskContract, OverwriteKeepsOtherBytes) {
  auto& d = this->d;
  auto f = d.create("f");
  LAFS_ASSERT_OK(f);
  LAFS_ASSERT_OK(d.write(**f, 0, "abcdef"));
  LAFS_ASSERT_OK(d.write(**f, 2, "XY"));
  EXPECT_EQ(d.read(**f, 0, 100).value_or(""), "abXYef");
  LAFS_ASSERT_OK(d.write(**f, 5, "123"));
  EXPECT_EQ(d.read(**f, 0, 100).value_or(""), "abXYe123");
  LAFS_ASSERT_OK(d.write(**f, 3, ""));  // an empty write changes nothing
  EXPECT_EQ(d.size(**f).value_or(0), 8u);
}

TYPED_TEST_P(DiskContract, ExclusiveCreateOfExistingIsAlreadyExists) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.write_file("f", "keep", false));
  LAFS_EXPECT_CODE(d.open("f", {.create = true, .exclusive = true}), ErrorCode::kAlreadyExists);
  LAFS_EXPECT_OK(d.open("g", {.create = true, .exclusive = true}));
  // Without `exclusive`, create opens the existing file as it is.
  auto f = d.create("f");
  LAFS_ASSERT_OK(f);
  EXPECT_EQ(d.read(**f, 0, 100).value_or(""), "keep");
}

TYPED_TEST_P(DiskContract, OpenWithTruncateEmptiesFile) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.write_file("f", "contents", false));
  auto f = d.open("f", {.truncate = true});
  LAFS_ASSERT_OK(f);
  EXPECT_EQ(d.size(**f).value_or(99), 0u);
  EXPECT_EQ(d.read_file("f").value_or("?"), "");
}

TYPED_TEST_P(DiskContract, ReadOnlyRefusesWrites) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.write_file("f", "abc", false));
  auto f = d.open("f", {.read_only = true});
  LAFS_ASSERT_OK(f);
  LAFS_EXPECT_CODE(d.write(**f, 0, "x"), ErrorCode::kPermissionDenied);
  LAFS_EXPECT_CODE(d.truncate(**f, 0), ErrorCode::kPermissionDenied);
  EXPECT_EQ(d.read(**f, 0, 10).value_or(""), "abc");
}

TYPED_TEST_P(DiskContract, TruncateShrinksAndZeroExtends) {
  auto& d = this->d;
  auto f = d.create("f");
  LAFS_ASSERT_OK(f);
  LAFS_ASSERT_OK(d.write(**f, 0, "abcdef"));
  LAFS_ASSERT_OK(d.truncate(**f, 3));
  EXPECT_EQ(d.read(**f, 0, 100).value_or(""), "abc");
  LAFS_ASSERT_OK(d.truncate(**f, 6));
  EXPECT_EQ(d.read(**f, 0, 100).value_or(""), std::string("abc\0\0\0", 6));
  LAFS_ASSERT_OK(d.truncate(**f, 6));  // same size: nothing changes
  EXPECT_EQ(d.size(**f).value_or(0), 6u);
}

TYPED_TEST_P(DiskContract, OpenDirectoryIsInvalidArgument) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.mkdir("dir"));
  LAFS_EXPECT_CODE(d.open("dir"), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(d.create("dir"), ErrorCode::kInvalidArgument);
}

TYPED_TEST_P(DiskContract, BadPathsAreInvalidArgument) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.mkdir("a"));
  const std::vector<std::string> bad = {
      "/a",
      "a//b",
      "a/",
      "./a",
      "a/.",
      "..",
      "a/../a",
      std::string("a\0b", 3),
      std::string(256, 'x'),
  };
  for (const std::string& p : bad) {
    SCOPED_TRACE("path '" + p + "'");
    LAFS_EXPECT_CODE(d.create(p), ErrorCode::kInvalidArgument);
    LAFS_EXPECT_CODE(d.rename(p, "b"), ErrorCode::kInvalidArgument);
    LAFS_EXPECT_CODE(d.rename("a", p), ErrorCode::kInvalidArgument);
    LAFS_EXPECT_CODE(d.remove(p), ErrorCode::kInvalidArgument);
    LAFS_EXPECT_CODE(d.mkdir(p), ErrorCode::kInvalidArgument);
    LAFS_EXPECT_CODE(d.list(p), ErrorCode::kInvalidArgument);
    LAFS_EXPECT_CODE(d.stat(p), ErrorCode::kInvalidArgument);
    LAFS_EXPECT_CODE(d.sync_dir(p), ErrorCode::kInvalidArgument);
  }
  // The root ("") is a directory one may list, stat and sync, but not open, move or remove.
  LAFS_EXPECT_CODE(d.create(""), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(d.rename("", "b"), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(d.rename("a", ""), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(d.remove(""), ErrorCode::kInvalidArgument);
  LAFS_EXPECT_CODE(d.mkdir(""), ErrorCode::kInvalidArgument);
  EXPECT_EQ(d.list("").value_or({}), std::vector<std::string>{"a"});  // nothing was made
  LAFS_EXPECT_OK(d.create(std::string(255, 'x')));                    // the longest name
}

TYPED_TEST_P(DiskContract, MkdirMakesDirectory) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.mkdir("a"));
  LAFS_ASSERT_OK(d.mkdir("a/b"));
  auto info = d.stat("a/b");
  LAFS_ASSERT_OK(info);
  EXPECT_TRUE(info->is_directory);
  EXPECT_EQ(info->size_bytes, 0u);
  EXPECT_EQ(d.list("a/b").value_or({"?"}), std::vector<std::string>{});
  LAFS_EXPECT_OK(d.create("a/b/f"));
  EXPECT_EQ(d.list("a/b").value_or({}), std::vector<std::string>{"f"});
}

TYPED_TEST_P(DiskContract, MkdirErrors) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.mkdir("a"));
  LAFS_ASSERT_OK(d.write_file("f", "x", false));
  LAFS_EXPECT_CODE(d.mkdir("a"), ErrorCode::kAlreadyExists);
  LAFS_EXPECT_CODE(d.mkdir("f"), ErrorCode::kAlreadyExists);
  LAFS_EXPECT_CODE(d.mkdir("missing/b"), ErrorCode::kNotFound);
  LAFS_EXPECT_CODE(d.mkdir("missing/b/c"), ErrorCode::kNotFound);
}

TYPED_TEST_P(DiskContract, ListIsSortedBytewise) {
  auto& d = this->d;
  for (const char* name : {"b", "a0", "\xc3\xa9", "B", "a"}) LAFS_ASSERT_OK(d.create(name));
  LAFS_ASSERT_OK(d.mkdir("c"));
  LAFS_ASSERT_OK(d.create("c/z"));
  LAFS_ASSERT_OK(d.create("c/y"));
  EXPECT_EQ(d.list("").value_or({}),
            (std::vector<std::string>{"B", "a", "a0", "b", "c", "\xc3\xa9"}));
  EXPECT_EQ(d.list("c").value_or({}), (std::vector<std::string>{"y", "z"}));
}

TYPED_TEST_P(DiskContract, ListErrors) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.create("f"));
  LAFS_EXPECT_CODE(d.list("missing"), ErrorCode::kNotFound);
  LAFS_EXPECT_CODE(d.list("f"), ErrorCode::kInvalidArgument);
}

TYPED_TEST_P(DiskContract, StatReportsFilesAndDirectories) {
  auto& d = this->d;
  auto root = d.stat("");
  LAFS_ASSERT_OK(root);
  EXPECT_TRUE(root->is_directory);
  LAFS_ASSERT_OK(d.mkdir("dir"));
  LAFS_ASSERT_OK(d.write_file("dir/f", "12345", false));
  auto f = d.stat("dir/f");
  LAFS_ASSERT_OK(f);
  EXPECT_FALSE(f->is_directory);
  EXPECT_EQ(f->size_bytes, 5u);
  LAFS_EXPECT_CODE(d.stat("missing"), ErrorCode::kNotFound);
  LAFS_EXPECT_CODE(d.stat("dir/missing"), ErrorCode::kNotFound);
}

TYPED_TEST_P(DiskContract, RenameMovesFile) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.write_file("a", "contents", false));
  LAFS_ASSERT_OK(d.rename("a", "b"));
  EXPECT_EQ(d.read_file("b").value_or(""), "contents");
  LAFS_EXPECT_CODE(d.stat("a"), ErrorCode::kNotFound);
  EXPECT_EQ(d.list("").value_or({}), std::vector<std::string>{"b"});
}

TYPED_TEST_P(DiskContract, RenameReplacesExistingFile) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.write_file("new", "new contents", false));
  LAFS_ASSERT_OK(d.write_file("old", "old", false));
  LAFS_ASSERT_OK(d.rename("new", "old"));
  EXPECT_EQ(d.read_file("old").value_or(""), "new contents");
  EXPECT_EQ(d.list("").value_or({}), std::vector<std::string>{"old"});
}

TYPED_TEST_P(DiskContract, RenameAcrossDirectories) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.mkdir("x"));
  LAFS_ASSERT_OK(d.mkdir("y"));
  LAFS_ASSERT_OK(d.write_file("x/f", "data", false));
  LAFS_ASSERT_OK(d.rename("x/f", "y/g"));
  EXPECT_EQ(d.read_file("y/g").value_or(""), "data");
  EXPECT_EQ(d.list("x").value_or({"?"}), std::vector<std::string>{});
}

TYPED_TEST_P(DiskContract, RenameDirectoryMovesItsChildren) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.mkdir("a"));
  LAFS_ASSERT_OK(d.mkdir("a/sub"));
  LAFS_ASSERT_OK(d.write_file("a/sub/f", "deep", false));
  LAFS_ASSERT_OK(d.rename("a", "b"));
  EXPECT_EQ(d.read_file("b/sub/f").value_or(""), "deep");
  LAFS_EXPECT_CODE(d.stat("a"), ErrorCode::kNotFound);
}

TYPED_TEST_P(DiskContract, RenameErrors) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.mkdir("dir"));
  LAFS_ASSERT_OK(d.write_file("f", "x", false));
  LAFS_EXPECT_CODE(d.rename("missing", "g"), ErrorCode::kNotFound);
  LAFS_EXPECT_CODE(d.rename("f", "missing_dir/g"), ErrorCode::kNotFound);
  LAFS_EXPECT_CODE(d.rename("f", "dir"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(d.read_file("f").value_or(""), "x");  // failed renames change nothing
}

TYPED_TEST_P(DiskContract, RenameOntoItselfChangesNothing) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.write_file("f", "same", false));
  LAFS_EXPECT_OK(d.rename("f", "f"));
  EXPECT_EQ(d.read_file("f").value_or(""), "same");
}

TYPED_TEST_P(DiskContract, RemoveFileAndEmptyDirectory) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.write_file("f", "x", false));
  LAFS_ASSERT_OK(d.mkdir("dir"));
  LAFS_EXPECT_OK(d.remove("f"));
  LAFS_EXPECT_OK(d.remove("dir"));
  EXPECT_EQ(d.list("").value_or({"?"}), std::vector<std::string>{});
  LAFS_EXPECT_CODE(d.stat("f"), ErrorCode::kNotFound);
}

TYPED_TEST_P(DiskContract, RemoveNonEmptyDirectoryIsFailedPrecondition) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.mkdir("dir"));
  LAFS_ASSERT_OK(d.create("dir/f"));
  LAFS_EXPECT_CODE(d.remove("dir"), ErrorCode::kFailedPrecondition);
  LAFS_EXPECT_OK(d.stat("dir/f"));
}

TYPED_TEST_P(DiskContract, RemoveMissingIsNotFound) {
  auto& d = this->d;
  LAFS_EXPECT_CODE(d.remove("missing"), ErrorCode::kNotFound);
  LAFS_EXPECT_CODE(d.remove("missing/f"), ErrorCode::kNotFound);
}

TYPED_TEST_P(DiskContract, SyncAndSyncDirSucceed) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.mkdir("dir"));
  auto f = d.create("dir/f");
  LAFS_ASSERT_OK(f);
  LAFS_ASSERT_OK(d.write(**f, 0, "data"));
  LAFS_EXPECT_OK(d.sync(**f));
  LAFS_EXPECT_OK(d.sync_dir("dir"));
  LAFS_EXPECT_OK(d.sync_dir(""));
  LAFS_EXPECT_CODE(d.sync_dir("missing"), ErrorCode::kNotFound);
  EXPECT_EQ(d.read_file("dir/f").value_or(""), "data");
}

TYPED_TEST_P(DiskContract, UnlinkedOpenFileStaysUsable) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.write_file("f", "data", false));
  auto f = d.open("f");
  LAFS_ASSERT_OK(f);
  LAFS_ASSERT_OK(d.remove("f"));
  LAFS_EXPECT_CODE(d.stat("f"), ErrorCode::kNotFound);
  EXPECT_EQ(d.read(**f, 0, 10).value_or(""), "data");
  LAFS_EXPECT_OK(d.write(**f, 4, "+more"));
  EXPECT_EQ(d.read(**f, 0, 100).value_or(""), "data+more");
  // A new file under the old name is a different file.
  LAFS_ASSERT_OK(d.write_file("f", "new", false));
  EXPECT_EQ(d.read(**f, 0, 100).value_or(""), "data+more");
  EXPECT_EQ(d.read_file("f").value_or(""), "new");
}

TYPED_TEST_P(DiskContract, RenameOverOpenFileLeavesHandleOnOldFile) {
  auto& d = this->d;
  LAFS_ASSERT_OK(d.write_file("target", "old", false));
  LAFS_ASSERT_OK(d.write_file("tmp", "new", false));
  auto f = d.open("target", {.read_only = true});
  LAFS_ASSERT_OK(f);
  LAFS_ASSERT_OK(d.rename("tmp", "target"));
  EXPECT_EQ(d.read(**f, 0, 10).value_or(""), "old");
  EXPECT_EQ(d.read_file("target").value_or(""), "new");
}

TYPED_TEST_P(DiskContract, HandlesOnOneFileShareItsBytes) {
  auto& d = this->d;
  auto a = d.create("f");
  auto b = d.open("f");
  LAFS_ASSERT_OK(a);
  LAFS_ASSERT_OK(b);
  LAFS_ASSERT_OK(d.write(**a, 0, "shared"));
  EXPECT_EQ(d.read(**b, 0, 10).value_or(""), "shared");
  LAFS_ASSERT_OK(d.truncate(**b, 2));
  EXPECT_EQ(d.size(**a).value_or(0), 2u);
}

TYPED_TEST_P(DiskContract, FreeSpaceIsReported) {
  auto& d = this->d;
  auto before = d.free_space();
  LAFS_ASSERT_OK(before);
  EXPECT_GT(*before, 0u);
}

REGISTER_TYPED_TEST_SUITE_P(
    DiskContract, OpenMissingIsNotFound, CreateMakesEmptyFile, WriteThenReadBack,
    ReadPastEndIsShortOrEmpty, WriteBeyondEndZeroFillsGap, OverwriteKeepsOtherBytes,
    ExclusiveCreateOfExistingIsAlreadyExists, OpenWithTruncateEmptiesFile, ReadOnlyRefusesWrites,
    TruncateShrinksAndZeroExtends, OpenDirectoryIsInvalidArgument, BadPathsAreInvalidArgument,
    MkdirMakesDirectory, MkdirErrors, ListIsSortedBytewise, ListErrors,
    StatReportsFilesAndDirectories, RenameMovesFile, RenameReplacesExistingFile,
    RenameAcrossDirectories, RenameDirectoryMovesItsChildren, RenameErrors,
    RenameOntoItselfChangesNothing, RemoveFileAndEmptyDirectory,
    RemoveNonEmptyDirectoryIsFailedPrecondition, RemoveMissingIsNotFound, SyncAndSyncDirSucceed,
    UnlinkedOpenFileStaysUsable, RenameOverOpenFileLeavesHandleOnOldFile,
    HandlesOnOneFileShareItsBytes, FreeSpaceIsReported);

// For disks whose capacity a test can set (the simulated one): exact space accounting. A real
// file system's space cannot be set by a test; its no-space path has its own test.
template <typename Rig>
class LimitedDiskContract : public DiskContract<Rig> {};

TYPED_TEST_SUITE_P(LimitedDiskContract);

TYPED_TEST_P(LimitedDiskContract, NoSpaceAtCapacity) {
  auto& d = this->d;
  ASSERT_TRUE(this->rig.set_capacity(100));
  auto f = d.create("f");
  LAFS_ASSERT_OK(f);
  LAFS_ASSERT_OK(d.write(**f, 0, std::string(60, 'a')));
  EXPECT_EQ(d.free_space().value_or(0), 40u);
  LAFS_EXPECT_CODE(d.write(**f, 60, std::string(41, 'b')), ErrorCode::kNoSpace);
  LAFS_EXPECT_CODE(d.truncate(**f, 101), ErrorCode::kNoSpace);
  LAFS_EXPECT_OK(d.write(**f, 60, std::string(40, 'b')));
  EXPECT_EQ(d.free_space().value_or(1), 0u);
  LAFS_EXPECT_CODE(d.write(**f, 100, "c"), ErrorCode::kNoSpace);
  LAFS_EXPECT_OK(d.write(**f, 0, "overwrite needs no space"));
  auto g = d.create("g");  // an empty file takes no space
  LAFS_ASSERT_OK(g);
  LAFS_EXPECT_CODE(d.write(**g, 0, "x"), ErrorCode::kNoSpace);
  // Space comes back once the file is removed and closed.
  LAFS_ASSERT_OK(d.remove("f"));
  f->reset();
  EXPECT_EQ(d.free_space().value_or(0), 100u);
  LAFS_EXPECT_OK(d.write(**g, 0, "x"));
}

REGISTER_TYPED_TEST_SUITE_P(LimitedDiskContract, NoSpaceAtCapacity);

}  // namespace lafs::contract
