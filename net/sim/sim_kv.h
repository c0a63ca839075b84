// SimKv: the simulated KvStore. An ordered in-memory map with RocksDB's crash semantics: synced
// writes are durable, unsynced ones survive a crash only as a prefix in write order, and a batch
// is all or nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env/kv.h"
#include "core/runtime/status.h"
#include "core/runtime/task.h"
#include "core/runtime/time.h"
#include "net/sim/sim_loop.h"
#include "net/sim/sim_random.h"

namespace lafs::sim {

struct SimKvOptions {
  // How long each call takes; zero completes it without suspending. A call whose store crashes
  // while it waits fails with IoError and changes nothing.
  Duration read_latency{0};   // get, scan
  Duration write_latency{0};  // write
  Duration sync_latency{0};   // added to a write with sync=true

  // What crash() does with the unsynced tail of the write-ahead log, as relative weights (not all
  // zero): keep all of it, drop all of it, or tear it (a random prefix of its batches survives).
  double crash_keep_weight = 1;
  double crash_drop_weight = 1;
  double crash_tear_weight = 1;

  // Chance that a call fails with IoError and changes nothing.
  double io_error_probability = 0;

  // Bound on the unsynced tail, standing in for background WAL writeback: past it the oldest
  // unsynced batch becomes durable without a sync.
  std::uint32_t unsynced_batches_max = 4096;

  // The key index is kept in blocks of this many to twice this many entries (a search reads
  // the blocks' last prefixes, then one block; an insert or delete moves one block's entries).
  std::size_t index_block_entries = 512;
};

class SimKv final : public KvStore {
 public:
  // `loop` times the calls (when latencies are set); `random` decides crash losses and faults.
  SimKv(SimLoop& loop, SimRandom random, SimKvOptions options = {});
  // A store whose calls complete at once: every latency in `options` must be zero.
  explicit SimKv(SimRandom random, SimKvOptions options = {});
  SimKv(const SimKv&) = delete;
  SimKv& operator=(const SimKv&) = delete;

  Task<Result<std::optional<std::string>>> get(std::string key) override;
  Task<Status> write(WriteBatch batch, bool sync) override;
  Task<Result<std::vector<KeyValue>>> scan(std::string begin, std::string end,
                                           std::size_t limit) override;

  // Power loss: the store keeps every synced write and a prefix of the unsynced ones, chosen by
  // the crash weights. Calls waiting out a latency fail with IoError "kv store crashed".
  void crash();

  // The next `count` calls fail with `code` and change nothing.
  void set_fail_next(std::uint32_t count, ErrorCode code);

  std::size_t size() const { return map_.size(); }
  std::size_t unsynced_batches() const { return unsynced_.size(); }
  std::uint64_t crash_count() const { return epoch_; }

 private:
  // What one unsynced batch overwrote, in order: the key and its old value (nullopt: absent).
  using Undo = std::vector<std::pair<std::string, std::optional<std::string>>>;

  using Map = std::map<std::string, std::string>;
  // The map's keys, in order, by their first 8 bytes (big-endian, zero-padded) and node: a
  // search reads these contiguous arrays instead of walking tree nodes, each a likely cache miss
  // on a grid of hundreds of stores (it was most of a get_buckets' time). The order agrees with
  // the keys': a smaller prefix means a smaller key; equal prefixes are ordered by the keys.
  struct IndexEntry {
    std::uint64_t prefix;
    Map::iterator it;
  };
  // Where an entry is in the index: blocks_[block][i]; {blocks_.size(), 0} is the end.
  struct Pos {
    std::size_t block;
    std::size_t i;
  };
  static std::uint64_t key_prefix(std::string_view key);
  Pos lower_bound_pos(std::string_view key) const;  // first index entry >= key
  bool at_end(Pos p) const { return p.block == blocks_.size(); }
  const IndexEntry& at(Pos p) const { return blocks_[p.block][p.i]; }
  void next(Pos* p) const;
  void insert_at(Pos p, IndexEntry e);
  void erase_at(Pos p);
  Map::iterator find(std::string_view key);
  // Sets `key` (inserting it if new); returns the old value, nullopt if there was none.
  std::optional<std::string> set_key(const std::string& key, const std::string& value);
  std::optional<std::string> erase_key(const std::string& key);  // the old value, if any

  SimKv(SimLoop* loop, SimRandom random, SimKvOptions options);
  Task<Status> begin_call(Duration latency);
  Status check_call(std::uint64_t epoch);
  // Applies `batch`, recording in `undo` (when given) what each op overwrote.
  void apply(const WriteBatch& batch, Undo* undo);
  void roll_back(const Undo& undo);

  SimLoop* loop_;  // null when every latency is zero
  SimRandom random_;
  SimKvOptions options_;
  Map map_;  // the current state
  // One entry per entry of map_, in its order, in blocks (none empty); last_[b] is the prefix
  // of blocks_[b]'s last entry.
  std::vector<std::vector<IndexEntry>> blocks_;
  std::vector<std::uint64_t> last_;
  std::deque<Undo> unsynced_;  // one per unsynced batch, oldest first
  std::uint64_t epoch_ = 0;    // crashes so far
  std::uint32_t fail_next_count_ = 0;
  ErrorCode fail_next_code_ = ErrorCode::kIoError;
};

}  // namespace lafs::sim
