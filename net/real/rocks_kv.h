// RocksKv: the production KvStore on RocksDB. A synced write goes through the write-ahead log with
// fsync before it returns; an unsynced one may be lost on a crash, but only as a suffix (RocksDB's
// WAL order), which is the contract kv.h states. RocksDB types stay in rocks_kv.cc.
//
// Calls run synchronously on the executor thread: each Task completes before it first suspends.
// A synced write blocks the thread for an fsync; a later change may move those to a pool.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/env/kv.h"
#include "core/runtime/status.h"
#include "core/runtime/task.h"

namespace lafs::real {

class RocksKv final : public KvStore {
 public:
  // Opens the database in directory `dir`, creating it (and the directory's last component) when
  // missing. One process may hold it at a time. Errors: IoError (including "lock held by
  // another process"), Corruption, InvalidArgument.
  static Result<std::unique_ptr<RocksKv>> open(const std::string& dir);

  RocksKv(const RocksKv&) = delete;
  RocksKv& operator=(const RocksKv&) = delete;
  // Closes the database; unsynced writes may be lost only if the process dies before RocksDB's
  // own flush at close.
  ~RocksKv() override;

  Task<Result<std::optional<std::string>>> get(std::string key) override;
  Task<Status> write(WriteBatch batch, bool sync) override;
  Task<Result<std::vector<KeyValue>>> scan(std::string begin, std::string end,
                                           std::size_t limit) override;

  // The synchronous calls behind the Tasks.
  Result<std::optional<std::string>> get_now(const std::string& key);
  Status write_now(const WriteBatch& batch, bool sync);
  Result<std::vector<KeyValue>> scan_now(const std::string& begin, const std::string& end,
                                         std::size_t limit);

 private:
  struct Impl;
  explicit RocksKv(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lafs::real
