// SimKv keeps only the current map plus, for each unsynced batch, what it overwrote: a crash
// rolls back a suffix of those batches, newest first.
#include "net/sim/sim_kv.h"

#include <algorithm>
#include <utility>

#include "core/runtime/executor.h"

namespace lafs::sim {

SimKv::SimKv(SimLoop& loop, SimRandom random, SimKvOptions options)
    : SimKv(&loop, random, options) {}

SimKv::SimKv(SimRandom random, SimKvOptions options) : SimKv(nullptr, random, options) {
  LAFS_ASSERT_MSG(options_.read_latency == Duration::zero() &&
                      options_.write_latency == Duration::zero() &&
                      options_.sync_latency == Duration::zero(),
                  "SimKv: latencies need a SimLoop");
}

SimKv::SimKv(SimLoop* loop, SimRandom random, SimKvOptions options)
    : loop_(loop), random_(random), options_(options) {
  LAFS_ASSERT(options_.crash_keep_weight >= 0);
  LAFS_ASSERT(options_.crash_drop_weight >= 0);
  LAFS_ASSERT(options_.crash_tear_weight >= 0);
  LAFS_ASSERT_MSG(
      options_.crash_keep_weight + options_.crash_drop_weight + options_.crash_tear_weight > 0,
      "SimKvOptions: every crash weight is zero");
  LAFS_ASSERT(options_.unsynced_batches_max > 0);
}

std::uint64_t SimKv::key_prefix(std::string_view key) {
  std::uint64_t p = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    p = (p << 8) | (i < key.size() ? static_cast<std::uint8_t>(key[i]) : 0);
  }
  return p;
}

SimKv::Pos SimKv::lower_bound_pos(std::string_view key) const {
  const std::uint64_t p = key_prefix(key);
  // The first block whose last entry is >= key: by the last prefixes, then (equal prefixes)
  // by the keys.
  std::size_t b =
      static_cast<std::size_t>(std::lower_bound(last_.begin(), last_.end(), p) - last_.begin());
  while (b < blocks_.size() && last_[b] == p &&
         std::string_view(blocks_[b].back().it->first) < key) {
    ++b;
  }
  if (b == blocks_.size()) return Pos{b, 0};
  const std::vector<IndexEntry>& e = blocks_[b];
  auto i = std::lower_bound(e.begin(), e.end(), p,
                            [](const IndexEntry& x, std::uint64_t v) { return x.prefix < v; });
  while (i != e.end() && i->prefix == p && std::string_view(i->it->first) < key) ++i;
  return Pos{b, static_cast<std::size_t>(i - e.begin())};  // inside: the last entry is >= key
}

void SimKv::next(Pos* p) const {
  if (++p->i == blocks_[p->block].size()) *p = Pos{p->block + 1, 0};
}

void SimKv::insert_at(Pos p, IndexEntry e) {
  if (blocks_.empty()) {
    blocks_.push_back({e});
    last_.push_back(e.prefix);
    return;
  }
  if (at_end(p)) p = Pos{blocks_.size() - 1, blocks_.back().size()};  // after the last entry
  std::vector<IndexEntry>& blk = blocks_[p.block];
  blk.insert(blk.begin() + static_cast<std::ptrdiff_t>(p.i), e);
  last_[p.block] = blk.back().prefix;
  const std::size_t per = std::max<std::size_t>(1, options_.index_block_entries);
  if (blk.size() > 2 * per) {  // split in halves
    std::vector<IndexEntry> upper(blk.begin() + static_cast<std::ptrdiff_t>(per), blk.end());
    blk.resize(per);
    last_[p.block] = blk.back().prefix;
    const std::uint64_t upper_last = upper.back().prefix;
    blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(p.block + 1), std::move(upper));
    last_.insert(last_.begin() + static_cast<std::ptrdiff_t>(p.block + 1), upper_last);
  }
}

void SimKv::erase_at(Pos p) {
  std::vector<IndexEntry>& blk = blocks_[p.block];
  blk.erase(blk.begin() + static_cast<std::ptrdiff_t>(p.i));
  const std::size_t per = std::max<std::size_t>(1, options_.index_block_entries);
  // A block that has shrunk is joined with the next when they fit one; an empty one goes.
  if (p.block + 1 < blocks_.size() && blk.size() + blocks_[p.block + 1].size() <= per) {
    std::vector<IndexEntry>& after = blocks_[p.block + 1];
    blk.insert(blk.end(), after.begin(), after.end());
    blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(p.block + 1));
    last_.erase(last_.begin() + static_cast<std::ptrdiff_t>(p.block + 1));
  }
  if (blk.empty()) {
    blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(p.block));
    last_.erase(last_.begin() + static_cast<std::ptrdiff_t>(p.block));
    return;
  }
  last_[p.block] = blk.back().prefix;
}

SimKv::Map::iterator SimKv::find(std::string_view key) {
  const Pos p = lower_bound_pos(key);
  return !at_end(p) && at(p).it->first == key ? at(p).it : map_.end();
}

std::optional<std::string> SimKv::set_key(const std::string& key, const std::string& value) {
  const Pos p = lower_bound_pos(key);
  if (!at_end(p) && at(p).it->first == key) return std::exchange(at(p).it->second, value);
  auto it = map_.emplace_hint(at_end(p) ? map_.end() : at(p).it, key, value);
  insert_at(p, IndexEntry{key_prefix(key), it});
  return std::nullopt;
}

std::optional<std::string> SimKv::erase_key(const std::string& key) {
  const Pos p = lower_bound_pos(key);
  if (at_end(p) || at(p).it->first != key) return std::nullopt;
  const Map::iterator it = at(p).it;
  std::optional<std::string> old = std::move(it->second);
  erase_at(p);
  map_.erase(it);
  return old;
}

Task<Status> SimKv::begin_call(Duration latency) {
  const std::uint64_t epoch = epoch_;
  if (latency > Duration::zero()) co_await sleep_for(*loop_, latency);
  co_return check_call(epoch);
}

Status SimKv::check_call(std::uint64_t epoch) {
  if (epoch != epoch_) return io_error("kv store crashed");
  if (fail_next_count_ > 0) {
    --fail_next_count_;
    return Status(fail_next_code_, "injected fault");
  }
  if (options_.io_error_probability > 0 && random_.chance(options_.io_error_probability)) {
    return io_error("injected I/O error");
  }
  return Status{};
}

Task<Result<std::optional<std::string>>> SimKv::get(std::string key) {
  LAFS_CO_RETURN_IF_ERROR(co_await begin_call(options_.read_latency));
  auto it = find(key);
  if (it == map_.end()) co_return std::optional<std::string>();
  co_return std::optional<std::string>(it->second);
}

Task<Status> SimKv::write(WriteBatch batch, bool sync) {
  const Duration latency = options_.write_latency + (sync ? options_.sync_latency : Duration{0});
  LAFS_CO_RETURN_IF_ERROR(co_await begin_call(latency));
  if (sync) {
    // A synced write syncs the log up to it, as RocksDB's does: nothing before it, nor it,
    // can be rolled back, so no undo is kept.
    apply(batch, nullptr);
    unsynced_.clear();
  } else {
    Undo undo;
    apply(batch, &undo);
    unsynced_.push_back(std::move(undo));
    if (unsynced_.size() > options_.unsynced_batches_max) unsynced_.pop_front();
  }
  co_return Status{};
}

Task<Result<std::vector<KeyValue>>> SimKv::scan(std::string begin, std::string end,
                                                std::size_t limit) {
  if (limit == 0 || limit > kKvScanLimitMax) {
    co_return invalid_argument("scan limit " + std::to_string(limit) + " not in 1.." +
                               std::to_string(kKvScanLimitMax));
  }
  LAFS_CO_RETURN_IF_ERROR(co_await begin_call(options_.read_latency));
  std::vector<KeyValue> out;
  // The end is checked on the index too: a key whose prefix is past the end's is past the end,
  // so a scan that finds nothing (most get_buckets) touches no map node.
  const std::uint64_t end_prefix = key_prefix(end);
  for (Pos p = lower_bound_pos(begin); !at_end(p) && out.size() < limit; next(&p)) {
    const IndexEntry& e = at(p);
    if (!end.empty() && (e.prefix > end_prefix || (e.prefix == end_prefix && e.it->first >= end))) {
      break;
    }
    out.emplace_back(e.it->first, e.it->second);
  }
  co_return out;
}

void SimKv::apply(const WriteBatch& batch, Undo* undo) {
  if (undo != nullptr) undo->reserve(batch.size());
  for (const WriteBatch::Op& op : batch.ops()) {
    std::optional<std::string> old = op.is_delete ? erase_key(op.key) : set_key(op.key, op.value);
    if (undo != nullptr) undo->emplace_back(op.key, std::move(old));
  }
}

void SimKv::roll_back(const Undo& undo) {
  for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
    if (it->second.has_value()) {
      (void)set_key(it->first, *it->second);
    } else {
      (void)erase_key(it->first);
    }
  }
}

void SimKv::crash() {
  ++epoch_;
  const std::size_t n = unsynced_.size();
  std::size_t kept = n;
  if (n > 0) {
    const double keep = options_.crash_keep_weight;
    const double drop = options_.crash_drop_weight;
    const double x = random_.next_double() * (keep + drop + options_.crash_tear_weight);
    if (x >= keep) kept = x < keep + drop ? 0 : random_.uniform(n + 1);
  }
  for (std::size_t i = n; i > kept; --i) roll_back(unsynced_[i - 1]);
  unsynced_.clear();
}

void SimKv::set_fail_next(std::uint32_t count, ErrorCode code) {
  LAFS_ASSERT(code != ErrorCode::kOk);
  fail_next_count_ = count;
  fail_next_code_ = code;
}

}  // namespace lafs::sim
