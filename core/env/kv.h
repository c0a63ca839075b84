// KvStore: an ordered key-value store (RocksDB for real, an in-memory map with the same crash
// semantics in the simulator). Keys and values are arbitrary bytes in std::string; keys sort
// bytewise.
//
// Durability: a write with sync=true is durable when it returns OK. Writes with sync=false are
// applied in order and may be lost on a crash, but only as a suffix: if a later write survived,
// every earlier one did too (write-ahead-log order). A batch is atomic: all or nothing, also
// across a crash.
//
// All methods are called on the executor's thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/runtime/status.h"
#include "core/runtime/task.h"

namespace lafs {

class WriteBatch {
 public:
  struct Op {
    bool is_delete = false;
    std::string key;
    std::string value;
  };

  void put(std::string key, std::string value) {
    ops_.push_back(Op{false, std::move(key), std::move(value)});
  }
  void del(std::string key) { ops_.push_back(Op{true, std::move(key), {}}); }
  bool empty() const { return ops_.empty(); }
  std::size_t size() const { return ops_.size(); }
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
};

using KeyValue = std::pair<std::string, std::string>;

// Upper bound on how many entries one scan may return: callers page through larger ranges.
inline constexpr std::size_t kKvScanLimitMax = 10'000;

class KvStore {
 public:
  virtual ~KvStore() = default;

  // The value, or nullopt when absent. Errors: IoError, Corruption.
  virtual Task<Result<std::optional<std::string>>> get(std::string key) = 0;

  // Applies the batch atomically, in order. With sync, durable on return. Errors: IoError, NoSpace.
  virtual Task<Status> write(WriteBatch batch, bool sync) = 0;

  // Entries with begin <= key < end (end "" means no upper bound), in key order, at most `limit`
  // (1..kKvScanLimitMax). To continue, call again with begin = last key + '\0'.
  virtual Task<Result<std::vector<KeyValue>>> scan(std::string begin, std::string end,
                                                   std::size_t limit) = 0;

  Task<Status> put(std::string key, std::string value, bool sync);
  Task<Status> del(std::string key, bool sync);
};

// The smallest key greater than every key starting with `prefix` ("" when there is none), for
// scanning a prefix as [prefix, prefix_end(prefix)).
std::string prefix_end(std::string prefix);

}  // namespace lafs
