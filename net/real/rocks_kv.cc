// RocksKv: KvStore on one rocksdb::DB. Every rocksdb::Status becomes a lafs Status at this
// boundary; nothing here throws.
#include "net/real/rocks_kv.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/status.h>
#include <rocksdb/write_batch.h>

#include <utility>

namespace lafs::real {

namespace {

// RocksDB's info LOG files: enough to diagnose, not enough to fill a disk.
constexpr std::size_t kInfoLogFilesKept = 4;
constexpr std::size_t kInfoLogFileBytesMax = 8 << 20;

Status from_rocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status{};
  std::string msg = "rocksdb " + what + ": " + s.ToString();
  if (s.IsNotFound()) return not_found(std::move(msg));
  if (s.IsCorruption()) return corruption(std::move(msg));
  if (s.IsNoSpace()) return no_space(std::move(msg));
  if (s.IsInvalidArgument()) return invalid_argument(std::move(msg));
  if (s.IsNotSupported()) return unimplemented(std::move(msg));
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return unavailable(std::move(msg));
  if (s.IsMemoryLimit()) return resource_exhausted(std::move(msg));
  return io_error(std::move(msg));
}

rocksdb::Slice slice(const std::string& s) {
  return rocksdb::Slice(s.data(), s.size());
}

}  // namespace

struct RocksKv::Impl {
  std::unique_ptr<rocksdb::DB> db;
  std::string dir;
};

Result<std::unique_ptr<RocksKv>> RocksKv::open(const std::string& dir) {
  if (dir.empty()) return invalid_argument("empty kv directory");
  rocksdb::Options options;
  options.create_if_missing = true;
  options.keep_log_file_num = kInfoLogFilesKept;
  options.max_log_file_size = kInfoLogFileBytesMax;
  // A corrupt WAL tail (a torn last record after a crash) is dropped; anything worse fails open.
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return from_rocks(s, "open " + dir);
  auto impl = std::make_unique<Impl>();
  impl->db.reset(raw);
  impl->dir = dir;
  return std::unique_ptr<RocksKv>(new RocksKv(std::move(impl)));
}

RocksKv::RocksKv(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  LAFS_ASSERT(impl_->db != nullptr);
}

RocksKv::~RocksKv() {
  // Close() reports errors that the destructor would swallow; there is no one left to tell.
  (void)impl_->db->Close();
}

Task<Result<std::optional<std::string>>> RocksKv::get(std::string key) {
  co_return get_now(key);
}
Task<Status> RocksKv::write(WriteBatch batch, bool sync) {
  co_return write_now(batch, sync);
}
Task<Result<std::vector<KeyValue>>> RocksKv::scan(std::string begin, std::string end,
                                                  std::size_t limit) {
  co_return scan_now(begin, end, limit);
}

Result<std::optional<std::string>> RocksKv::get_now(const std::string& key) {
  std::string value;
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), slice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return from_rocks(s, "get");
  return std::optional<std::string>(std::move(value));
}

Status RocksKv::write_now(const WriteBatch& batch, bool sync) {
  rocksdb::WriteBatch rb;
  for (const WriteBatch::Op& op : batch.ops()) {
    rocksdb::Status s =
        op.is_delete ? rb.Delete(slice(op.key)) : rb.Put(slice(op.key), slice(op.value));
    if (!s.ok()) return from_rocks(s, "batch");
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return from_rocks(impl_->db->Write(wo, &rb), "write");
}

Result<std::vector<KeyValue>> RocksKv::scan_now(const std::string& begin, const std::string& end,
                                                std::size_t limit) {
  if (limit == 0 || limit > kKvScanLimitMax) {
    return invalid_argument("scan limit " + std::to_string(limit) + " not in 1.." +
                            std::to_string(kKvScanLimitMax));
  }
  std::vector<KeyValue> out;
  if (!end.empty() && end <= begin) return out;  // an empty range
  rocksdb::ReadOptions ro;
  const rocksdb::Slice upper = slice(end);  // must outlive the iterator
  if (!end.empty()) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro));
  for (it->Seek(slice(begin)); it->Valid() && out.size() < limit; it->Next()) {
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  if (!it->status().ok()) return from_rocks(it->status(), "scan");
  return out;
}

}  // namespace lafs::real
