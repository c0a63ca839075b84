// The storage server's immutable-share half: uploads into incoming/, durable close, reads,
// leases in the KV store, start-up reconciliation. Layout and records: docs/specs/storage.md.
#include "core/storage/storage_server.h"

#include <sodium.h>

#include <algorithm>
#include <set>
#include <utility>

#include "core/crypto/hash.h"
#include "core/proto/storage.pb.h"
#include "core/runtime/assert.h"

namespace lafs::storage {

struct StorageServer::Upload {
  explicit Upload(Executor& ex) : lane(ex, 1) {}
  std::uint64_t id = 0;
  std::uint64_t share_bytes = 0;
  LeaseSecretBytes renew{};
  LeaseSecretBytes cancel{};
  std::string peer;
  std::unique_ptr<File> file;
  std::map<std::uint64_t, std::uint64_t> written;  // disjoint, merged: start -> end
  std::uint64_t written_bytes = 0;
  MonoTime last_activity{};
  bool closing = false;
  Semaphore lane;  // one write (or the close) at a time
};

namespace {

constexpr char kShareKeyPrefix = 's';
constexpr char kLeaseKeyPrefix = 'l';
constexpr char kExpiryKeyPrefix = 'e';
constexpr char kCorruptionKeyPrefix = 'c';
constexpr char kJournalKeyPrefix = 'j';
constexpr std::string_view kGcProgressKey = "g";
constexpr std::size_t kLeaseIdBytes = 8;
constexpr std::size_t kLeasesPerShareMax = 1000;
constexpr std::string_view kContainerMagic = "lafsimm\n";  // 8 bytes: immutable share
constexpr std::string_view kSlotMagic = "lafsmut\n";       // 8 bytes: mutable share
static_assert(kContainerMagic.size() == 8 && kSlotMagic.size() == 8);

std::string si_hex(const StorageIndex& si) {
  return crypto::to_hex(ByteView(si.data(), si.size()));
}

void append_be(std::string* out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string si_prefix(char kind, const StorageIndex& si) {
  std::string k(1, kind);
  k.append(reinterpret_cast<const char*>(si.data()), si.size());
  return k;
}
std::string journal_key(const StorageIndex& si) {
  std::string k(1, kJournalKeyPrefix);
  k.append(reinterpret_cast<const char*>(si.data()), si.size());
  return k;
}

std::string share_key(const StorageIndex& si, std::uint32_t shnum) {
  std::string k = si_prefix(kShareKeyPrefix, si);
  k.push_back(static_cast<char>(shnum));
  return k;
}
std::string lease_share_prefix(const StorageIndex& si, std::uint32_t shnum) {
  std::string k = si_prefix(kLeaseKeyPrefix, si);
  k.push_back(static_cast<char>(shnum));
  return k;
}
std::string lease_id(const LeaseSecretBytes& renew) {
  return std::string(reinterpret_cast<const char*>(renew.data()), kLeaseIdBytes);
}
std::string lease_key(const StorageIndex& si, std::uint32_t shnum, const std::string& id) {
  return lease_share_prefix(si, shnum) + id;
}
// Signed nanoseconds mapped to an order-preserving unsigned big-endian key.
std::string expiry_key(std::int64_t expires_ns, const StorageIndex& si, std::uint32_t shnum,
                       const std::string& id) {
  std::string k(1, kExpiryKeyPrefix);
  append_be(&k, static_cast<std::uint64_t>(expires_ns) ^ (std::uint64_t{1} << 63), 8);
  k.append(reinterpret_cast<const char*>(si.data()), si.size());
  k.push_back(static_cast<char>(shnum));
  k += id;
  return k;
}
// The end of the expiry index's entries expiring before `before_ns`.
std::string expiry_end(std::int64_t before_ns) {
  std::string k(1, kExpiryKeyPrefix);
  append_be(&k, static_cast<std::uint64_t>(before_ns) ^ (std::uint64_t{1} << 63), 8);
  return k;
}
// The lease a lease record key ('l' | si | shnum | id: the name at 1) or an expiry index key
// ('e' | time | si | shnum | id: at 9) names; nullopt when the key has another length.
struct LeaseName {
  StorageIndex si{};
  std::uint32_t shnum = 0;
  std::string id;
};
constexpr std::size_t kLeaseNameAt = 1;
constexpr std::size_t kExpiryNameAt = 9;
std::optional<LeaseName> lease_name(const std::string& key, std::size_t at) {
  if (key.size() != at + kStorageIndexBytes + 1 + kLeaseIdBytes) return std::nullopt;
  LeaseName n;
  std::copy(key.begin() + static_cast<std::ptrdiff_t>(at),
            key.begin() + static_cast<std::ptrdiff_t>(at + kStorageIndexBytes), n.si.begin());
  n.shnum = static_cast<std::uint8_t>(key[at + kStorageIndexBytes]);
  n.id = key.substr(key.size() - kLeaseIdBytes);
  return n;
}
std::string corruption_key(const StorageIndex& si, std::uint32_t shnum, std::uint32_t seq) {
  std::string k = si_prefix(kCorruptionKeyPrefix, si);
  k.push_back(static_cast<char>(shnum));
  append_be(&k, seq, 4);
  return k;
}

bool secrets_equal(const std::string& stored, const LeaseSecretBytes& given) {
  return stored.size() == given.size() &&
         sodium_memcmp(stored.data(), given.data(), given.size()) == 0;
}
std::string secret_string(const LeaseSecretBytes& s) {
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

template <typename Record>
Result<Record> parse_record(const std::string& bytes, std::string_view what,
                            const std::string& key_hex) {
  Record r;
  if (!r.ParseFromString(bytes)) {
    return corruption(std::string(what) + " record " + key_hex + " does not parse");
  }
  if (r.version() == 0 || r.version() > kRecordVersion) {
    return failed_precondition(std::string(what) + " record " + key_hex + " has version " +
                               std::to_string(r.version()) + "; this server reads version " +
                               std::to_string(kRecordVersion) + " (upgrade the software)");
  }
  return r;
}

std::string key_hex(const std::string& key) {
  return crypto::to_hex(ByteView(reinterpret_cast<const std::uint8_t*>(key.data()), key.size()));
}

Bytes container_header(std::uint64_t share_bytes, std::string_view magic = kContainerMagic) {
  Bytes h(kContainerHeaderBytes, 0);
  std::copy(magic.begin(), magic.end(), h.begin());
  for (int i = 0; i < 4; ++i)
    h[8 + i] = static_cast<std::uint8_t>(kContainerVersion >> (24 - 8 * i));
  for (int i = 0; i < 8; ++i) h[16 + i] = static_cast<std::uint8_t>(share_bytes >> (56 - 8 * i));
  return h;
}

Result<std::uint64_t> parse_container_header(ByteView h, const std::string& where,
                                             std::string_view magic = kContainerMagic) {
  if (h.size() < kContainerHeaderBytes || !std::equal(magic.begin(), magic.end(), h.begin())) {
    return corruption("share container " + where + " has no valid header");
  }
  std::uint32_t version = 0;
  for (int i = 0; i < 4; ++i) version = (version << 8) | h[8 + i];
  if (version != kContainerVersion) {
    return failed_precondition("share container " + where + " has version " +
                               std::to_string(version) + "; this server reads version " +
                               std::to_string(kContainerVersion));
  }
  std::uint64_t size = 0;
  for (int i = 0; i < 8; ++i) size = (size << 8) | h[16 + i];
  return size;
}

// Scans [begin, end) completely, a page at a time.
Task<Result<std::vector<KeyValue>>> scan_all(KvStore& kv, std::string begin, std::string end,
                                             std::size_t max_results) {
  std::vector<KeyValue> out;
  for (;;) {
    auto page = co_await kv.scan(begin, end, kKvScanLimitMax);
    if (!page.ok()) co_return page.status();
    for (auto& kvp : *page) {
      if (out.size() >= max_results) {
        co_return resource_exhausted("more than " + std::to_string(max_results) +
                                     " records under one prefix");
      }
      out.push_back(std::move(kvp));
    }
    if (page->size() < kKvScanLimitMax) co_return out;
    begin = out.back().first + '\0';
  }
}

Result<StorageIndex> si_from_hex(const std::string& hex) {
  Bytes b;
  if (hex.size() != 2 * kStorageIndexBytes || !crypto::from_hex(hex, &b)) {
    return invalid_argument("not a storage index: " + hex);
  }
  StorageIndex si;
  std::copy(b.begin(), b.end(), si.begin());
  return si;
}

std::optional<std::uint32_t> parse_shnum(const std::string& name);

// "<shnum>" (immutable) or "<shnum>.<generation>" (mutable, generation >= 1).
std::optional<std::pair<std::uint32_t, std::uint64_t>> parse_share_file(const std::string& name) {
  const auto dot = name.find('.');
  auto shnum = parse_shnum(name.substr(0, dot));
  if (!shnum) return std::nullopt;
  if (dot == std::string::npos) return std::pair{*shnum, std::uint64_t{0}};
  const std::string g = name.substr(dot + 1);
  if (g.empty() || g.size() > 19 || g[0] == '0') return std::nullopt;
  std::uint64_t gen = 0;
  for (char c : g) {
    if (c < '0' || c > '9') return std::nullopt;
    gen = gen * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return std::pair{*shnum, gen};
}

std::optional<std::uint32_t> parse_shnum(const std::string& name) {
  if (name.empty() || name.size() > 3) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (v >= kShareNumbersMax || std::to_string(v) != name) return std::nullopt;
  return v;
}

}  // namespace

StorageServer::StorageServer(Env* env, StorageOptions options)
    : env_(env),
      options_(std::move(options)),
      mutate_(env->executor(), 1),
      uploads_open_(env->executor()) {}

StorageServer::~StorageServer() = default;

Task<Result<std::unique_ptr<StorageServer>>> StorageServer::open(Env* env, StorageOptions options) {
  LAFS_CO_RETURN_IF_ERROR(validate_disk_path(options.root, /*allow_root=*/false));
  if (options.max_share_bytes == 0 || options.lease_duration <= Duration::zero()) {
    co_return invalid_argument("storage options: max_share_bytes and lease_duration must be > 0");
  }
  std::unique_ptr<StorageServer> server(new StorageServer(env, std::move(options)));
  Status s = co_await server->start();
  if (!s.is_ok()) co_return s;
  co_return server;
}

std::string StorageServer::share_dir(const StorageIndex& si) const {
  const std::string hex = si_hex(si);
  return options_.root + "/shares/" + hex.substr(0, 2) + "/" + hex;
}
std::string StorageServer::share_path(const StorageIndex& si, std::uint32_t shnum) const {
  return share_dir(si) + "/" + std::to_string(shnum);
}
std::string StorageServer::slot_path(const StorageIndex& si, std::uint32_t shnum,
                                     std::uint64_t generation) const {
  return share_path(si, shnum) + "." + std::to_string(generation);
}
// Flat: an upload creates one file and no directory (nothing to make, sync or remove per
// storage index).
std::string StorageServer::incoming_path(const StorageIndex& si, std::uint32_t shnum) const {
  return options_.root + "/incoming/" + si_hex(si) + "." + std::to_string(shnum);
}

// mkdir that tolerates existing directories; a new one is made durable in its parent.
Task<Status> StorageServer::ensure_dir(const std::string& path) {
  Status s = co_await env_->disk().mkdir(path);
  if (s.code() == ErrorCode::kAlreadyExists) co_return Status{};
  if (!s.is_ok()) co_return s;
  co_return co_await env_->disk().sync_dir(parent_dir(path));
}

Task<Status> StorageServer::start() {
  LAFS_CO_RETURN_IF_ERROR(co_await ensure_dir(options_.root));
  LAFS_CO_RETURN_IF_ERROR(co_await ensure_dir(options_.root + "/shares"));
  LAFS_CO_RETURN_IF_ERROR(co_await ensure_dir(options_.root + "/incoming"));
  LAFS_CO_RETURN_IF_ERROR(co_await discard_incoming());
  co_return co_await reconcile();
}

// Incomplete uploads never become shares: whatever is in incoming/ at start-up goes.
Task<Status> StorageServer::discard_incoming() {
  Disk& disk = env_->disk();
  const std::string incoming = options_.root + "/incoming";
  auto entries = co_await disk.list(incoming);
  if (!entries.ok()) co_return entries.status();
  for (const std::string& e : *entries) {
    const std::string path = incoming + "/" + e;
    auto info = co_await disk.stat(path);
    if (info.ok() &&
        info->is_directory) {  // incoming/<si>/<shnum>, as servers before 2026-12 kept them
      auto files = co_await disk.list(path);
      if (files.ok()) {
        for (const std::string& f : *files) {
          Status s = co_await disk.remove(path + "/" + f);
          if (!s.is_ok() && s.code() != ErrorCode::kNotFound) co_return s;
          ++stats_.incomplete_uploads_discarded;
        }
      }
    } else {
      ++stats_.incomplete_uploads_discarded;
    }
    Status s = co_await disk.remove(path);
    if (!s.is_ok() && s.code() != ErrorCode::kNotFound) co_return s;
  }
  co_return co_await disk.sync_dir(incoming);
}

// Share files without records were never acknowledged: removed. Records without files: dropped
// with their leases, and counted (a disk that lost acknowledged data; the log says which).
Task<Status> StorageServer::reconcile() {
  Disk& disk = env_->disk();
  KvStore& kv = env_->kv();
  // Finish in-place slot writes that were committed (journal synced) but perhaps not applied.
  {
    const std::string begin(1, kJournalKeyPrefix);
    auto journals = co_await kv.scan(begin, prefix_end(begin), kKvScanLimitMax);
    if (!journals.ok()) co_return journals.status();
    for (const auto& [key, value] : *journals) {
      if (key.size() != 1 + kStorageIndexBytes) continue;
      StorageIndex si;
      std::copy(key.begin() + 1, key.end(), si.begin());
      Status s = co_await apply_slot_journal(si, value);
      if (!s.is_ok()) {
        env_->logger().log(
            LogLevel::kError, "storage",
            "could not replay the slot write journal of " + si_hex(si) + ": " + s.to_string());
      }
      ++stats_.slot_journals_replayed;
      WriteBatch done;
      done.del(key);
      LAFS_CO_RETURN_IF_ERROR(co_await kv.write(std::move(done), /*sync=*/true));
    }
  }
  const std::string shares = options_.root + "/shares";
  auto buckets = co_await disk.list(shares);
  if (!buckets.ok()) co_return buckets.status();
  for (const std::string& b : *buckets) {
    auto sis = co_await disk.list(shares + "/" + b);
    if (!sis.ok()) co_return sis.status();
    for (const std::string& h : *sis) {
      const std::string dir = shares + "/" + b + "/" + h;
      auto si = si_from_hex(h);
      auto files = co_await disk.list(dir);
      if (!files.ok()) co_return files.status();
      bool removed = false;
      for (const std::string& f : *files) {
        auto parsed = parse_share_file(f);
        bool keep = false;
        if (si.ok() && parsed) {
          auto rec_bytes = co_await kv.get(share_key(*si, parsed->first));
          if (!rec_bytes.ok()) co_return rec_bytes.status();
          if (rec_bytes->has_value()) {
            auto rec = parse_record<pb::ShareRecord>(**rec_bytes, "share", dir + "/" + f);
            if (!rec.ok()) co_return rec.status();
            // A mutable share's current file is the recorded generation; others are left over
            // from a write that did not commit, or from one that did (the old generation).
            keep = rec->is_mutable() ? parsed->second == rec->generation() : parsed->second == 0;
          }
        }
        if (!keep) {
          env_->logger().log(LogLevel::kWarning, "storage",
                             "removing unacknowledged share file " + dir + "/" + f);
          LAFS_CO_RETURN_IF_ERROR(co_await disk.remove(dir + "/" + f));
          ++stats_.orphan_files_removed;
          removed = true;
        }
      }
      // Removals are made durable; a directory left alone needs no sync (a restart of a server
      // holding a million shares is not a million directory syncs).
      if (removed) LAFS_CO_RETURN_IF_ERROR(co_await disk.sync_dir(dir));
    }
  }
  // Every share record must have its file.
  std::set<std::string> present;
  std::string begin(1, kShareKeyPrefix);
  const std::string end = prefix_end(begin);
  for (;;) {
    auto page = co_await kv.scan(begin, end, kKvScanLimitMax);
    if (!page.ok()) co_return page.status();
    WriteBatch drop;
    for (const auto& [key, value] : *page) {
      if (key.size() != 1 + kStorageIndexBytes + 1) {
        co_return corruption("malformed share record key " + key_hex(key));
      }
      auto rec = parse_record<pb::ShareRecord>(value, "share", key_hex(key));
      if (!rec.ok()) co_return rec.status();
      StorageIndex si;
      std::copy(key.begin() + 1, key.begin() + 1 + kStorageIndexBytes, si.begin());
      const auto shnum = static_cast<std::uint8_t>(key.back());
      std::string path = share_path(si, shnum);
      if (rec->is_mutable()) path = slot_path(si, shnum, rec->generation());
      auto info = co_await disk.stat(path);
      if (info.ok() && info->size_bytes == kContainerHeaderBytes + rec->share_bytes()) {
        present.insert(key.substr(1));
        used_bytes_ += rec->share_bytes();
        ++stats_.shares;
        continue;
      }
      if (!info.ok() && info.status().code() != ErrorCode::kNotFound) co_return info.status();
      env_->logger().log(LogLevel::kError, "storage",
                         "share " + si_hex(si) + "/" + std::to_string(shnum) +
                             " is recorded but its file is " +
                             (info.ok() ? "the wrong size" : "missing") + "; dropping the record");
      if (info.ok()) LAFS_CO_RETURN_IF_ERROR(co_await disk.remove(path));
      drop.del(key);
      ++stats_.orphan_records_dropped;
    }
    if (!drop.empty()) LAFS_CO_RETURN_IF_ERROR(co_await kv.write(std::move(drop), true));
    if (page->size() < kKvScanLimitMax) break;
    begin = page->back().first + '\0';
  }
  // Leases (and their expiry entries) of shares that are not present.
  begin = std::string(1, kLeaseKeyPrefix);
  const std::string lease_end = prefix_end(begin);
  for (;;) {
    auto page = co_await kv.scan(begin, lease_end, kKvScanLimitMax);
    if (!page.ok()) co_return page.status();
    WriteBatch drop;
    for (const auto& [key, value] : *page) {
      const auto name = lease_name(key, kLeaseNameAt);
      if (!name) co_return corruption("malformed lease record key " + key_hex(key));
      if (present.contains(key.substr(1, kStorageIndexBytes + 1))) continue;
      auto rec = parse_record<pb::LeaseRecord>(value, "lease", key_hex(key));
      if (!rec.ok()) co_return rec.status();
      drop.del(key);
      drop.del(expiry_key(rec->expires_unix_ns(), name->si, name->shnum, name->id));
    }
    if (!drop.empty()) LAFS_CO_RETURN_IF_ERROR(co_await kv.write(std::move(drop), true));
    if (page->size() < kKvScanLimitMax) break;
    begin = page->back().first + '\0';
  }
  co_return Status{};
}

std::uint64_t StorageServer::promised_bytes() const {
  std::uint64_t total = 0;
  for (const auto& [key, u] : uploads_) total += u->share_bytes - u->written_bytes;
  return total;
}

StorageServer::Upload* StorageServer::find_upload(const StorageIndex& si, std::uint32_t shnum,
                                                  std::uint64_t upload_id) {
  auto it = uploads_.find({si, shnum});
  if (it == uploads_.end() || it->second->id != upload_id) return nullptr;
  return it->second.get();
}

Task<Result<AllocateResult>> StorageServer::allocate(
    StorageIndex si, std::vector<std::uint32_t> share_numbers, std::uint64_t share_bytes,
    LeaseSecretBytes renew_secret, LeaseSecretBytes cancel_secret, std::string peer) {
  if (share_numbers.empty() || share_numbers.size() > kShareNumbersMax) {
    co_return invalid_argument("allocate: between 1 and " + std::to_string(kShareNumbersMax) +
                               " share numbers, not " + std::to_string(share_numbers.size()));
  }
  std::sort(share_numbers.begin(), share_numbers.end());
  for (std::size_t i = 0; i < share_numbers.size(); ++i) {
    if (share_numbers[i] >= kShareNumbersMax) {
      co_return invalid_argument("allocate: share number " + std::to_string(share_numbers[i]) +
                                 " is not below " + std::to_string(kShareNumbersMax));
    }
    if (i > 0 && share_numbers[i] == share_numbers[i - 1]) {
      co_return invalid_argument("allocate: share number " + std::to_string(share_numbers[i]) +
                                 " requested twice");
    }
  }
  if (share_bytes == 0 || share_bytes > options_.max_share_bytes) {
    co_return invalid_argument("allocate: share size " + std::to_string(share_bytes) +
                               " is outside 1.." + std::to_string(options_.max_share_bytes));
  }
  if (options_.read_only) co_return permission_denied("allocate: this server is read-only");

  auto permit = co_await mutate_.acquire();
  auto held = co_await get_buckets(si);
  if (!held.ok()) co_return held.status();
  std::set<std::uint32_t> have;
  for (const ShareInfo& h : *held) {
    if (h.is_mutable) {
      co_return failed_precondition("allocate: storage index " + si_hex(si) +
                                    " holds mutable shares");
    }
    have.insert(h.share_number);
  }
  AllocateResult result;
  std::vector<std::uint32_t> to_allocate;
  for (std::uint32_t n : share_numbers) {
    if (have.contains(n)) {
      result.already_have.push_back(n);
    } else if (!uploads_.contains({si, n})) {
      to_allocate.push_back(n);
    }
  }
  if (uploads_.size() + to_allocate.size() > options_.uploads_max) {
    co_return resource_exhausted("allocate: " + std::to_string(uploads_.size()) +
                                 " uploads are open; the bound is " +
                                 std::to_string(options_.uploads_max));
  }
  // A count, not a reference into the map: other coroutines may erase the entry while this one
  // waits below.
  const auto mine_it = uploads_per_peer_.find(peer);
  const std::size_t mine = mine_it == uploads_per_peer_.end() ? 0 : mine_it->second;
  if (mine + to_allocate.size() > options_.uploads_per_peer_max) {
    co_return resource_exhausted("allocate: this client has " + std::to_string(mine) +
                                 " open uploads; the bound is " +
                                 std::to_string(options_.uploads_per_peer_max));
  }
  if (!to_allocate.empty()) {
    auto free = co_await env_->disk().free_space();
    if (!free.ok()) co_return free.status();
    const std::uint64_t need = to_allocate.size() * (share_bytes + kContainerHeaderBytes);
    const std::uint64_t committed = options_.reserved_bytes + promised_bytes();
    if (*free < committed || *free - committed < need) {
      // Expired shares go first ("delete expired data on demand").
      const std::uint64_t short_by = committed + need - std::min(*free, committed + need);
      auto freed = co_await reclaim_expired(short_by);
      if (!freed.ok()) co_return freed.status();
      if (*freed > 0) {
        free = co_await env_->disk().free_space();
        if (!free.ok()) co_return free.status();
      }
    }
    if (*free < committed || *free - committed < need) {
      co_return no_space("allocate: " + std::to_string(need) + " bytes asked, " +
                         std::to_string(*free) + " free, " +
                         std::to_string(options_.reserved_bytes) + " reserved, " +
                         std::to_string(promised_bytes()) + " promised to open uploads");
    }
  }
  // Shares already here get this client's lease too (as an upload that finds them would).
  if (!result.already_have.empty()) {
    auto leased = co_await add_lease_locked(si, result.already_have, renew_secret, cancel_secret);
    if (!leased.ok()) co_return leased.status();
  }
  for (std::uint32_t n : to_allocate) {
    auto file = co_await env_->disk().open(incoming_path(si, n),
                                           OpenOptions{.create = true, .truncate = true});
    if (!file.ok()) co_return file.status();
    Status s = co_await (*file)->write_at(0, container_header(share_bytes));
    if (!s.is_ok()) co_return s;
    auto u = std::make_shared<Upload>(env_->executor());
    do {
      u->id = env_->random().next_u64();
    } while (u->id == 0);
    u->share_bytes = share_bytes;
    u->renew = renew_secret;
    u->cancel = cancel_secret;
    u->peer = peer;
    u->file = std::move(*file);
    u->last_activity = env_->executor().now();
    result.allocated.push_back(Allocation{n, u->id});
    uploads_[{si, n}] = std::move(u);
    uploads_open_.set();
    ++uploads_per_peer_[peer];
    ++stats_.allocations;
  }
  co_return result;
}

Task<Status> StorageServer::write(StorageIndex si, std::uint32_t shnum, std::uint64_t upload_id,
                                  std::uint64_t offset, Bytes data) {
  auto it = uploads_.find({si, shnum});
  if (it == uploads_.end() || it->second->id != upload_id) {
    co_return not_found("write: no upload " + si_hex(si) + "/" + std::to_string(shnum) +
                        " with that id (never allocated, closed, aborted or expired)");
  }
  std::shared_ptr<Upload> u = it->second;  // stays alive if aborted while we wait
  if (data.size() > kWriteBytesMax) {
    co_return invalid_argument("write: " + std::to_string(data.size()) + " bytes exceeds " +
                               std::to_string(kWriteBytesMax));
  }
  if (offset > u->share_bytes || data.size() > u->share_bytes - offset) {
    co_return invalid_argument("write: bytes " + std::to_string(offset) + ".." +
                               std::to_string(offset) + "+" + std::to_string(data.size()) +
                               " go past the allocation of " + std::to_string(u->share_bytes));
  }
  auto permit = co_await u->lane.acquire();
  if (u->closing) co_return failed_precondition("write: the upload is being closed");
  if (!uploads_.contains({si, shnum}) || uploads_.at({si, shnum}) != u) {
    co_return not_found("write: the upload was aborted");
  }
  u->last_activity = env_->executor().now();
  if (data.empty()) co_return Status{};
  const std::uint64_t end = offset + data.size();
  // Bytes already written may be written again only with the same value.
  auto first = u->written.upper_bound(offset);
  if (first != u->written.begin()) --first;
  std::size_t merged = 0;
  for (auto r = first; r != u->written.end() && r->first <= end; ++r) {
    if (r->second < offset) continue;
    ++merged;
    const std::uint64_t lo = std::max(offset, r->first);
    const std::uint64_t hi = std::min(end, r->second);
    if (lo >= hi) continue;
    Bytes old(hi - lo);
    auto n = co_await u->file->read_at(kContainerHeaderBytes + lo, MutableByteView(old));
    if (!n.ok()) co_return n.status();
    if (*n != old.size() || !std::equal(old.begin(), old.end(), data.begin() + (lo - offset))) {
      co_return failed_precondition("write: bytes " + std::to_string(lo) + ".." +
                                    std::to_string(hi) + " were already written with other data");
    }
  }
  if (merged == 0 && u->written.size() >= kWrittenRangesMax) {
    co_return resource_exhausted("write: more than " + std::to_string(kWrittenRangesMax) +
                                 " separate written ranges; write in order");
  }
  Status s = co_await u->file->write_at(kContainerHeaderBytes + offset, data);
  if (!s.is_ok()) co_return s;
  // Merge [offset, end) into the written ranges.
  std::uint64_t lo = offset, hi = end;
  auto r = u->written.upper_bound(lo);
  if (r != u->written.begin() && std::prev(r)->second >= lo) --r;
  while (r != u->written.end() && r->first <= hi) {
    lo = std::min(lo, r->first);
    hi = std::max(hi, r->second);
    u->written_bytes -= r->second - r->first;
    r = u->written.erase(r);
  }
  u->written.emplace(lo, hi);
  u->written_bytes += hi - lo;
  ++stats_.writes;
  co_return Status{};
}

Task<Status> StorageServer::close(StorageIndex si, std::uint32_t shnum, std::uint64_t upload_id) {
  auto it = uploads_.find({si, shnum});
  if (it == uploads_.end() || it->second->id != upload_id) {
    co_return not_found("close: no upload " + si_hex(si) + "/" + std::to_string(shnum) +
                        " with that id");
  }
  std::shared_ptr<Upload> u = it->second;
  if (u->closing) co_return failed_precondition("close: already being closed");
  u->closing = true;
  auto lane = co_await u->lane.acquire();  // waits for writes in flight
  if (u->written_bytes != u->share_bytes) {
    u->closing = false;
    std::uint64_t gap = 0;
    for (const auto& [a, b] : u->written) {
      if (a > gap) break;
      gap = b;
    }
    co_return failed_precondition("close: share incomplete: bytes from " + std::to_string(gap) +
                                  " of " + std::to_string(u->share_bytes) + " never written");
  }
  // From here on the upload is finished one way or the other.
  auto finish = [&](Status s) -> Status {
    auto cur = uploads_.find({si, shnum});
    if (cur != uploads_.end() && cur->second == u) {
      uploads_.erase(cur);
      if (--uploads_per_peer_[u->peer] == 0) uploads_per_peer_.erase(u->peer);
    }
    return s;
  };
  Status s = co_await u->file->sync();
  if (!s.is_ok()) co_return finish(s);
  auto permit = co_await mutate_.acquire();
  Disk& disk = env_->disk();
  const std::string dir = share_dir(si);
  s = co_await ensure_dir(parent_dir(dir));
  if (s.is_ok()) s = co_await ensure_dir(dir);
  if (s.is_ok()) s = co_await disk.rename(incoming_path(si, shnum), share_path(si, shnum));
  if (!s.is_ok()) co_return finish(s);
  s = co_await disk.sync_dir(dir);
  if (s.is_ok()) {
    const std::int64_t now = env_->clock().wall_now().time_since_epoch().count();
    pb::ShareRecord share;
    share.set_version(kRecordVersion);
    share.set_share_bytes(u->share_bytes);
    share.set_created_unix_ns(now);
    pb::LeaseRecord lease;
    lease.set_version(kRecordVersion);
    lease.set_renew_secret(secret_string(u->renew));
    lease.set_cancel_secret(secret_string(u->cancel));
    lease.set_granted_unix_ns(now);
    lease.set_expires_unix_ns(now + options_.lease_duration.count());
    const std::string id = lease_id(u->renew);
    WriteBatch batch;
    batch.put(share_key(si, shnum), share.SerializeAsString());
    batch.put(lease_key(si, shnum, id), lease.SerializeAsString());
    batch.put(expiry_key(lease.expires_unix_ns(), si, shnum, id), "");
    s = co_await env_->kv().write(std::move(batch), /*sync=*/true);
  }
  if (!s.is_ok()) {
    // Not acknowledged: take the file back out of shares/ (start-up would remove it anyway).
    (void)co_await disk.remove(share_path(si, shnum));
    co_return finish(s);
  }
  used_bytes_ += u->share_bytes;
  ++stats_.shares;
  ++stats_.closes;
  (void)finish(Status{});
  co_return Status{};
}

Task<Result<PutResult>> StorageServer::put(StorageIndex si, std::vector<PutShare> shares,
                                           LeaseSecretBytes renew_secret,
                                           LeaseSecretBytes cancel_secret, std::string peer) {
  if (shares.empty() || shares.size() > kShareNumbersMax) {
    co_return invalid_argument("put: between 1 and " + std::to_string(kShareNumbersMax) +
                               " shares, not " + std::to_string(shares.size()));
  }
  const std::uint64_t share_bytes = shares[0].data.size();
  std::uint64_t total = 0;
  std::vector<std::uint32_t> numbers;
  for (const PutShare& sh : shares) {
    if (sh.data.size() != share_bytes) {
      co_return invalid_argument("put: shares of " + std::to_string(share_bytes) + " and " +
                                 std::to_string(sh.data.size()) +
                                 " bytes; one call per share size");
    }
    total += sh.data.size();
    numbers.push_back(sh.share_number);
  }
  if (total > kWriteBytesMax) {
    co_return invalid_argument("put: " + std::to_string(total) + " bytes exceeds " +
                               std::to_string(kWriteBytesMax) + "; allocate and write instead");
  }
  // allocate checks the share numbers, the size, the mode, the space and the bounds.
  auto alloc = co_await allocate(si, numbers, share_bytes, renew_secret, cancel_secret, peer);
  if (!alloc.ok()) co_return alloc.status();
  std::sort(shares.begin(), shares.end(),
            [](const PutShare& a, const PutShare& b) { return a.share_number < b.share_number; });
  PutResult out;
  out.already_have = alloc->already_have;
  Status failed;
  for (const Allocation& a : alloc->allocated) {  // ascending, as `shares` now are
    auto sh =
        std::lower_bound(shares.begin(), shares.end(), a.share_number,
                         [](const PutShare& p, std::uint32_t n) { return p.share_number < n; });
    LAFS_ASSERT(sh != shares.end() && sh->share_number == a.share_number);
    Status s = failed;
    if (s.is_ok()) s = co_await write(si, a.share_number, a.upload_id, 0, std::move(sh->data));
    if (s.is_ok()) s = co_await close(si, a.share_number, a.upload_id);
    if (s.is_ok()) {
      out.stored.push_back(a.share_number);
      continue;
    }
    (void)co_await abort(si, a.share_number, a.upload_id);  // gone already if close failed
    if (failed.is_ok()) failed = s;
  }
  if (!failed.is_ok() && out.stored.empty()) co_return failed;
  if (!out.stored.empty()) ++stats_.puts;
  co_return out;
}

Task<Status> StorageServer::remove_upload(const UploadKey& key, bool count_abort) {
  auto it = uploads_.find(key);
  if (it == uploads_.end()) co_return Status{};
  std::shared_ptr<Upload> u = std::move(it->second);
  uploads_.erase(it);
  if (--uploads_per_peer_[u->peer] == 0) uploads_per_peer_.erase(u->peer);
  if (count_abort) ++stats_.aborts;
  Status s = co_await env_->disk().remove(incoming_path(key.first, key.second));
  if (s.code() == ErrorCode::kNotFound) s = Status{};
  co_return s;
}

Task<Status> StorageServer::abort(StorageIndex si, std::uint32_t shnum, std::uint64_t upload_id) {
  Upload* u = find_upload(si, shnum, upload_id);
  if (u == nullptr) {
    co_return not_found("abort: no upload " + si_hex(si) + "/" + std::to_string(shnum) +
                        " with that id");
  }
  if (u->closing) co_return failed_precondition("abort: the upload is being closed");
  co_return co_await remove_upload({si, shnum}, /*count_abort=*/true);
}

Task<std::size_t> StorageServer::expire_idle_uploads() {
  const MonoTime now = env_->executor().now();
  std::vector<UploadKey> idle;
  for (const auto& [key, u] : uploads_) {
    if (!u->closing && now - u->last_activity >= options_.upload_idle_timeout) {
      idle.push_back(key);
    }
  }
  std::size_t removed = 0;
  for (const UploadKey& key : idle) {
    auto it = uploads_.find(key);
    if (it == uploads_.end() || it->second->closing) continue;
    Status s = co_await remove_upload(key, /*count_abort=*/false);
    if (!s.is_ok()) {
      env_->logger().log(LogLevel::kWarning, "storage",
                         "removing an expired upload: " + s.to_string());
    }
    ++removed;
    ++stats_.uploads_expired;
  }
  co_return removed;
}

Task<void> StorageServer::run_maintenance() {
  Scope chores(env_->executor());
  if (options_.gc.mode != GcOptions::Mode::kOff) chores.spawn(run_gc());
  const Duration period = std::max<Duration>(options_.upload_idle_timeout / 4, seconds(1));
  for (;;) {
    if (uploads_.empty()) {
      uploads_open_.reset();
      co_await uploads_open_.wait();  // nothing can go idle until something is open
    }
    co_await sleep_for(env_->executor(), period);
    (void)co_await expire_idle_uploads();
  }
}

bool StorageServer::lease_expired(std::int64_t granted_ns, std::int64_t expires_ns,
                                  std::int64_t now_ns) const {
  const GcOptions& gc = options_.gc;
  switch (gc.mode) {
    case GcOptions::Mode::kOff:
      return false;
    case GcOptions::Mode::kAge:
      return expires_ns < now_ns - gc.skew_margin.count();
    case GcOptions::Mode::kCutoffDate:
      return granted_ns < gc.cutoff.time_since_epoch().count() &&
             gc.cutoff.time_since_epoch().count() < now_ns - gc.skew_margin.count();
  }
  return false;
}

Task<void> StorageServer::run_gc() {
  for (;;) {
    auto done = co_await gc_slice();
    if (!done.ok()) {
      env_->logger().log(LogLevel::kError, "storage",
                         "garbage collector: " + done.status().to_string());
      co_await sleep_for(env_->executor(), options_.gc.cycle_interval);
      continue;
    }
    co_await sleep_for(env_->executor(),
                       *done ? options_.gc.cycle_interval : options_.gc.slice_pause);
  }
}

Task<Result<bool>> StorageServer::gc_slice() {
  auto permit = co_await mutate_.acquire();
  KvStore& kv = env_->kv();
  const std::int64_t now = env_->clock().wall_now().time_since_epoch().count();
  const std::size_t limit =
      std::max<std::size_t>(1, std::min(options_.gc.slice_records, kKvScanLimitMax));
  WriteBatch batch;
  std::set<std::pair<StorageIndex, std::uint32_t>> touched;
  bool cycle_done = false;
  if (options_.gc.mode == GcOptions::Mode::kAge) {
    // The expiry index up to (now - margin) holds exactly the expired leases: a slice reads
    // those, not every lease. Each entry read is deleted, so the next slice starts at the front
    // again and no position needs keeping.
    auto page = co_await kv.scan(std::string(1, kExpiryKeyPrefix),
                                 expiry_end(now - options_.gc.skew_margin.count()), limit);
    if (!page.ok()) co_return page.status();
    ++gc_stats_.slices;
    for (const auto& [key, value] : *page) {
      ++gc_stats_.leases_examined;
      const auto name = lease_name(key, kExpiryNameAt);
      if (!name) co_return corruption("malformed expiry key " + key_hex(key));
      const auto& [si, shnum, id] = *name;
      const std::string lk = lease_key(si, shnum, id);
      auto lease = co_await kv.get(lk);
      if (!lease.ok()) co_return lease.status();
      batch.del(key);
      if (!lease->has_value()) continue;  // an entry without its lease: dropped
      auto rec = parse_record<pb::LeaseRecord>(**lease, "lease", key_hex(lk));
      if (!rec.ok()) co_return rec.status();
      // An entry not the lease's own (which is later): dropped, the lease kept.
      if (expiry_key(rec->expires_unix_ns(), si, shnum, id) != key) continue;
      batch.del(lk);
      touched.insert({si, shnum});
      ++gc_stats_.leases_expired;
    }
    cycle_done = page->size() < limit;
    if (cycle_done) ++gc_stats_.cycles;
    if (!batch.empty()) LAFS_CO_RETURN_IF_ERROR(co_await kv.write(std::move(batch), /*sync=*/true));
  } else {
    // Other modes judge leases by their grant time: every lease record is read, a slice at a
    // time from the position kept under key 'g', so a restart resumes mid-cycle.
    pb::GcProgress progress;
    auto stored = co_await kv.get(std::string(kGcProgressKey));
    if (!stored.ok()) co_return stored.status();
    if (stored->has_value()) {
      auto p = parse_record<pb::GcProgress>(**stored, "garbage collector progress", "g");
      if (!p.ok()) co_return p.status();
      progress = *p;
    }
    progress.set_version(kRecordVersion);
    const std::string lease_begin(1, kLeaseKeyPrefix);
    std::string begin = progress.next_key().empty() ? lease_begin : progress.next_key();
    auto page = co_await kv.scan(begin, prefix_end(lease_begin), limit);
    if (!page.ok()) co_return page.status();
    ++gc_stats_.slices;
    for (const auto& [key, value] : *page) {
      ++gc_stats_.leases_examined;
      const auto name = lease_name(key, kLeaseNameAt);
      if (!name) co_return corruption("malformed lease record key " + key_hex(key));
      auto rec = parse_record<pb::LeaseRecord>(value, "lease", key_hex(key));
      if (!rec.ok()) co_return rec.status();
      if (!lease_expired(rec->granted_unix_ns(), rec->expires_unix_ns(), now)) continue;
      batch.del(key);
      batch.del(expiry_key(rec->expires_unix_ns(), name->si, name->shnum, name->id));
      touched.insert({name->si, name->shnum});
      ++gc_stats_.leases_expired;
    }
    cycle_done = page->size() < limit;
    if (cycle_done) {
      progress.clear_next_key();
      progress.set_cycles(progress.cycles() + 1);
      ++gc_stats_.cycles;
    } else {
      progress.set_next_key(page->back().first + '\0');
    }
    batch.put(std::string(kGcProgressKey), progress.SerializeAsString());
    LAFS_CO_RETURN_IF_ERROR(co_await kv.write(std::move(batch), /*sync=*/true));
  }
  // Shares left without a lease go.
  for (const auto& [si, shnum] : touched) {
    const std::string prefix = lease_share_prefix(si, shnum);
    auto left = co_await kv.scan(prefix, prefix_end(prefix), 1);
    if (!left.ok()) co_return left.status();
    if (!left->empty()) continue;
    auto rec_bytes = co_await kv.get(share_key(si, shnum));
    if (!rec_bytes.ok()) co_return rec_bytes.status();
    std::uint64_t size = 0;
    if (rec_bytes->has_value()) {
      auto rec = parse_record<pb::ShareRecord>(**rec_bytes, "share", si_hex(si));
      if (rec.ok()) size = rec->share_bytes();
    }
    LAFS_CO_RETURN_IF_ERROR(co_await delete_share(si, shnum));
    ++gc_stats_.shares_deleted;
    gc_stats_.bytes_freed += size;
  }
  co_return cycle_done;
}

Task<Result<std::uint64_t>> StorageServer::reclaim_expired(std::uint64_t want) {
  if (options_.gc.mode == GcOptions::Mode::kOff) co_return std::uint64_t{0};
  KvStore& kv = env_->kv();
  const std::int64_t now = env_->clock().wall_now().time_since_epoch().count();
  std::uint64_t freed = 0;
  // Expiry keys up to (now - margin): in age mode exactly the expired leases.
  const std::string end = expiry_end(now - options_.gc.skew_margin.count());
  std::string from(1, kExpiryKeyPrefix);
  while (freed < want) {
    auto page = co_await kv.scan(from, end, 256);
    if (!page.ok()) co_return page.status();
    if (page->empty()) break;
    for (const auto& [key, value] : *page) {
      if (freed >= want) break;
      const auto name = lease_name(key, kExpiryNameAt);
      if (!name) co_return corruption("malformed expiry key " + key_hex(key));
      const StorageIndex si = name->si;
      const std::uint32_t shnum = name->shnum;
      // Deletable only if every lease of the share has expired.
      const std::string prefix = lease_share_prefix(si, shnum);
      auto leases = co_await scan_all(kv, prefix, prefix_end(prefix), kLeasesPerShareMax);
      if (!leases.ok()) co_return leases.status();
      bool all_expired = true;
      for (const auto& [lk, lv] : *leases) {
        auto rec = parse_record<pb::LeaseRecord>(lv, "lease", key_hex(lk));
        if (!rec.ok()) co_return rec.status();
        if (!lease_expired(rec->granted_unix_ns(), rec->expires_unix_ns(), now))
          all_expired = false;
      }
      if (!all_expired) continue;
      auto rec_bytes = co_await kv.get(share_key(si, shnum));
      if (!rec_bytes.ok()) co_return rec_bytes.status();
      if (!rec_bytes->has_value()) continue;
      auto rec = parse_record<pb::ShareRecord>(**rec_bytes, "share", si_hex(si));
      if (!rec.ok()) co_return rec.status();
      LAFS_CO_RETURN_IF_ERROR(co_await delete_share(si, shnum));
      freed += rec->share_bytes() + kContainerHeaderBytes;
      ++gc_stats_.reclaimed_on_demand;
      gc_stats_.bytes_freed += rec->share_bytes();
    }
    from = page->back().first + '\0';
  }
  co_return freed;
}

Task<Result<std::vector<ShareInfo>>> StorageServer::get_buckets(StorageIndex si) {
  const std::string prefix = si_prefix(kShareKeyPrefix, si);
  auto records = co_await env_->kv().scan(prefix, prefix_end(prefix), kShareNumbersMax);
  if (!records.ok()) co_return records.status();
  std::vector<ShareInfo> out;
  for (const auto& [key, value] : *records) {
    auto rec = parse_record<pb::ShareRecord>(value, "share", key_hex(key));
    if (!rec.ok()) co_return rec.status();
    out.push_back(
        ShareInfo{static_cast<std::uint8_t>(key.back()), rec->share_bytes(), rec->is_mutable()});
  }
  co_return out;
}

Task<Result<Bytes>> StorageServer::read(StorageIndex si, std::uint32_t shnum, std::uint64_t offset,
                                        std::uint64_t length) {
  if (shnum >= kShareNumbersMax) {
    co_return invalid_argument("read: share number " + std::to_string(shnum) + " is not below " +
                               std::to_string(kShareNumbersMax));
  }
  if (length > kReadBytesMax) {
    co_return invalid_argument("read: " + std::to_string(length) + " bytes asked; at most " +
                               std::to_string(kReadBytesMax) + " per call");
  }
  const std::string where = si_hex(si) + "/" + std::to_string(shnum);
  auto rec_bytes = co_await env_->kv().get(share_key(si, shnum));
  if (!rec_bytes.ok()) co_return rec_bytes.status();
  if (!rec_bytes->has_value()) co_return not_found("read: no share " + where + " here");
  auto rec = parse_record<pb::ShareRecord>(**rec_bytes, "share", where);
  if (!rec.ok()) co_return rec.status();
  if (rec->is_mutable()) {
    co_return failed_precondition("read: share " + where + " is mutable; use slot_read");
  }
  ++stats_.reads;
  auto file = co_await env_->disk().open(share_path(si, shnum), OpenOptions{.read_only = true});
  if (!file.ok()) {
    co_return file.status().code() == ErrorCode::kNotFound
        ? corruption("read: share " + where + " is recorded but its file is missing")
        : file.status();
  }
  Bytes header(kContainerHeaderBytes);
  auto hn = co_await (*file)->read_at(0, MutableByteView(header));
  if (!hn.ok()) co_return hn.status();
  header.resize(*hn);
  auto size = parse_container_header(header, where);
  if (!size.ok()) co_return size.status();
  if (*size != rec->share_bytes()) {
    co_return corruption("read: share " + where + " container says " + std::to_string(*size) +
                         " bytes, its record " + std::to_string(rec->share_bytes()));
  }
  if (offset >= *size) co_return Bytes{};
  Bytes out(std::min<std::uint64_t>(length, *size - offset));
  auto n = co_await (*file)->read_at(kContainerHeaderBytes + offset, MutableByteView(out));
  if (!n.ok()) co_return n.status();
  if (*n != out.size()) {
    co_return corruption("read: share " + where + " is shorter than its header says");
  }
  co_return out;
}

Task<Result<std::uint32_t>> StorageServer::add_lease(StorageIndex si, LeaseSecretBytes renew,
                                                     LeaseSecretBytes cancel) {
  std::vector<LeaseTarget> one(1);
  one[0].si = si;
  one[0].renew = renew;
  one[0].cancel = cancel;
  auto n = co_await add_leases(std::move(one));
  if (!n.ok()) co_return n.status();
  co_return (*n)[0];
}

Task<Result<std::vector<std::uint32_t>>> StorageServer::add_leases(
    std::vector<LeaseTarget> targets) {
  if (targets.size() > kBatchMax) {
    co_return invalid_argument("add_lease: " + std::to_string(targets.size()) +
                               " targets; at most " + std::to_string(kBatchMax));
  }
  auto permit = co_await mutate_.acquire();
  const std::int64_t now = env_->clock().wall_now().time_since_epoch().count();
  WriteBatch batch;
  std::map<std::string, LeaseSecretBytes> added;
  std::vector<std::uint32_t> out;
  out.reserve(targets.size());
  for (const LeaseTarget& t : targets) {
    auto held = co_await get_buckets(t.si);
    if (!held.ok()) co_return held.status();
    std::vector<std::uint32_t> shnums;
    for (const ShareInfo& h : *held) shnums.push_back(h.share_number);
    LAFS_CO_RETURN_IF_ERROR(
        co_await lease_into(&batch, &added, t.si, shnums, t.renew, t.cancel, now));
    out.push_back(static_cast<std::uint32_t>(shnums.size()));
  }
  // One synced write for the whole call, not one per target.
  if (!batch.empty()) LAFS_CO_RETURN_IF_ERROR(co_await env_->kv().write(std::move(batch), true));
  co_return out;
}

Task<Result<std::uint32_t>> StorageServer::add_lease_locked(StorageIndex si,
                                                            std::vector<std::uint32_t> shnums,
                                                            LeaseSecretBytes renew,
                                                            LeaseSecretBytes cancel) {
  const std::int64_t now = env_->clock().wall_now().time_since_epoch().count();
  WriteBatch batch;
  std::map<std::string, LeaseSecretBytes> added;
  LAFS_CO_RETURN_IF_ERROR(co_await lease_into(&batch, &added, si, shnums, renew, cancel, now));
  if (!batch.empty()) LAFS_CO_RETURN_IF_ERROR(co_await env_->kv().write(std::move(batch), true));
  co_return static_cast<std::uint32_t>(shnums.size());
}

Task<Status> StorageServer::lease_into(WriteBatch* batch,
                                       std::map<std::string, LeaseSecretBytes>* added,
                                       const StorageIndex& si,
                                       const std::vector<std::uint32_t>& shnums,
                                       const LeaseSecretBytes& renew,
                                       const LeaseSecretBytes& cancel, std::int64_t now) {
  KvStore& kv = env_->kv();
  const std::string id = lease_id(renew);
  for (std::uint32_t shnum : shnums) {
    const std::string key = lease_key(si, shnum, id);
    auto existing = co_await kv.get(key);
    if (!existing.ok()) co_return existing.status();
    pb::LeaseRecord lease;
    if (existing->has_value()) {
      auto old = parse_record<pb::LeaseRecord>(**existing, "lease", key_hex(key));
      if (!old.ok()) co_return old.status();
      if (!secrets_equal(old->renew_secret(), renew)) {
        co_return permission_denied("add_lease: a different lease with this id exists on share " +
                                    si_hex(si) + "/" + std::to_string(shnum));
      }
      batch->del(expiry_key(old->expires_unix_ns(), si, shnum, id));
      lease = *old;
    } else if (auto a = added->find(key); a == added->end()) {
      // New: the share's leases, stored and added by this batch, stay within the bound.
      const std::string prefix = lease_share_prefix(si, shnum);
      auto count = co_await kv.scan(prefix, prefix_end(prefix), kLeasesPerShareMax);
      if (!count.ok()) co_return count.status();
      std::size_t in_batch = 0;
      for (auto a = added->lower_bound(prefix); a != added->end() && a->first.starts_with(prefix);
           ++a) {
        ++in_batch;
      }
      if (count->size() + in_batch >= kLeasesPerShareMax) {
        co_return resource_exhausted("add_lease: share " + si_hex(si) + "/" +
                                     std::to_string(shnum) + " already has " +
                                     std::to_string(kLeasesPerShareMax) + " leases");
      }
      added->emplace(key, renew);
      lease.set_version(kRecordVersion);
      lease.set_renew_secret(secret_string(renew));
      lease.set_cancel_secret(secret_string(cancel));
    } else {  // added earlier in this batch
      if (!secrets_equal(secret_string(a->second), renew)) {
        co_return permission_denied("add_lease: a different lease with this id exists on share " +
                                    si_hex(si) + "/" + std::to_string(shnum));
      }
      lease.set_version(kRecordVersion);
      lease.set_renew_secret(secret_string(renew));
      lease.set_cancel_secret(secret_string(cancel));
    }
    lease.set_granted_unix_ns(now);
    lease.set_expires_unix_ns(now + options_.lease_duration.count());
    batch->put(key, lease.SerializeAsString());
    batch->put(expiry_key(lease.expires_unix_ns(), si, shnum, id), "");
  }
  co_return Status{};
}

Task<Result<CancelResult>> StorageServer::cancel_lease(StorageIndex si, LeaseSecretBytes cancel) {
  auto permit = co_await mutate_.acquire();
  KvStore& kv = env_->kv();
  const std::string prefix = si_prefix(kLeaseKeyPrefix, si);
  auto leases =
      co_await scan_all(kv, prefix, prefix_end(prefix), kShareNumbersMax * kLeasesPerShareMax);
  if (!leases.ok()) co_return leases.status();
  WriteBatch batch;
  std::map<std::uint32_t, std::size_t> remaining;  // share -> leases left
  CancelResult result;
  for (const auto& [key, value] : *leases) {
    auto rec = parse_record<pb::LeaseRecord>(value, "lease", key_hex(key));
    if (!rec.ok()) co_return rec.status();
    const auto shnum = static_cast<std::uint8_t>(key[1 + kStorageIndexBytes]);
    remaining[shnum] += 0;
    if (secrets_equal(rec->cancel_secret(), cancel)) {
      batch.del(key);
      batch.del(
          expiry_key(rec->expires_unix_ns(), si, shnum, key.substr(key.size() - kLeaseIdBytes)));
      ++result.leases_cancelled;
    } else {
      ++remaining[shnum];
    }
  }
  if (result.leases_cancelled == 0) {
    co_return permission_denied("cancel_lease: no lease on " + si_hex(si) +
                                " has that cancel secret; nothing changed");
  }
  LAFS_CO_RETURN_IF_ERROR(co_await kv.write(std::move(batch), true));
  for (const auto& [shnum, left] : remaining) {
    if (left > 0) continue;
    LAFS_CO_RETURN_IF_ERROR(co_await delete_share(si, shnum));
    ++result.shares_deleted;
  }
  co_return result;
}

// Deletes a held share: file first (a record without a file is dropped at start-up), then its
// records. Caller holds mutate_.
Task<Status> StorageServer::delete_share(const StorageIndex& si, std::uint32_t shnum) {
  KvStore& kv = env_->kv();
  auto rec_bytes = co_await kv.get(share_key(si, shnum));
  if (!rec_bytes.ok()) co_return rec_bytes.status();
  if (!rec_bytes->has_value()) co_return Status{};
  auto rec = parse_record<pb::ShareRecord>(**rec_bytes, "share", si_hex(si));
  if (!rec.ok()) co_return rec.status();
  // The path is a named local: g++ 12 mis-destroys ?: temporaries around co_await.
  std::string path = share_path(si, shnum);
  if (rec->is_mutable()) path = slot_path(si, shnum, rec->generation());
  Status s = co_await env_->disk().remove(path);
  if (!s.is_ok() && s.code() != ErrorCode::kNotFound) co_return s;
  LAFS_CO_RETURN_IF_ERROR(co_await env_->disk().sync_dir(share_dir(si)));
  WriteBatch batch;
  batch.del(share_key(si, shnum));
  for (char kind : {kLeaseKeyPrefix, kCorruptionKeyPrefix}) {
    std::string prefix = si_prefix(kind, si);
    prefix.push_back(static_cast<char>(shnum));
    auto records = co_await scan_all(kv, prefix, prefix_end(prefix), kLeasesPerShareMax + 64);
    if (!records.ok()) co_return records.status();
    for (const auto& [key, value] : *records) {
      batch.del(key);
      if (kind == kLeaseKeyPrefix) {
        auto lease = parse_record<pb::LeaseRecord>(value, "lease", key_hex(key));
        if (lease.ok()) {
          batch.del(expiry_key(lease->expires_unix_ns(), si, shnum,
                               key.substr(key.size() - kLeaseIdBytes)));
        }
      }
    }
  }
  LAFS_CO_RETURN_IF_ERROR(co_await kv.write(std::move(batch), true));
  used_bytes_ -= std::min(used_bytes_, rec->share_bytes());
  --stats_.shares;
  ++stats_.shares_deleted;
  co_return Status{};
}

Task<Status> StorageServer::advise_corrupt(StorageIndex si, std::uint32_t shnum,
                                           std::string reporter, std::string reason) {
  if (shnum >= kShareNumbersMax) {
    co_return invalid_argument("advise_corrupt: share number " + std::to_string(shnum) +
                               " is not below " + std::to_string(kShareNumbersMax));
  }
  if (reason.size() > kReasonBytesMax || reporter.size() > kReporterBytesMax) {
    co_return invalid_argument("advise_corrupt: reason over " + std::to_string(kReasonBytesMax) +
                               " or reporter over " + std::to_string(kReporterBytesMax) + " bytes");
  }
  ++stats_.corruption_reports;
  env_->logger().log(LogLevel::kWarning, "storage",
                     "client " + reporter + " reports share " + si_hex(si) + "/" +
                         std::to_string(shnum) + " corrupt: " + reason);
  auto permit = co_await mutate_.acquire();
  std::string prefix = si_prefix(kCorruptionKeyPrefix, si);
  prefix.push_back(static_cast<char>(shnum));
  auto existing = co_await env_->kv().scan(prefix, prefix_end(prefix), kCorruptionReportsMax);
  if (!existing.ok()) co_return existing.status();
  if (existing->size() >= kCorruptionReportsMax) co_return Status{};  // counted, not kept
  pb::CorruptionRecord rec;
  rec.set_version(kRecordVersion);
  rec.set_reported_unix_ns(env_->clock().wall_now().time_since_epoch().count());
  rec.set_reporter(std::move(reporter));
  rec.set_reason(std::move(reason));
  co_return co_await env_->kv().put(
      corruption_key(si, shnum, static_cast<std::uint32_t>(existing->size())),
      rec.SerializeAsString(), /*sync=*/true);
}

Task<Result<SpaceInfo>> StorageServer::space() {
  auto free = co_await env_->disk().free_space();
  if (!free.ok()) co_return free.status();
  SpaceInfo info;
  const std::uint64_t committed = options_.reserved_bytes + promised_bytes();
  info.available_bytes = *free > committed ? *free - committed : 0;
  info.used_bytes = used_bytes_;
  info.max_share_bytes = options_.max_share_bytes;
  info.read_only = options_.read_only;
  co_return info;
}

// ---- mutable slots ----

Task<Result<std::vector<Bytes>>> StorageServer::load_slot_ranges(
    const StorageIndex& si, std::uint32_t shnum, std::uint64_t generation, std::uint64_t size,
    const std::vector<ReadVector>& ranges) {
  const std::string where = si_hex(si) + "/" + std::to_string(shnum);
  auto file =
      co_await env_->disk().open(slot_path(si, shnum, generation), OpenOptions{.read_only = true});
  if (!file.ok()) {
    co_return file.status().code() == ErrorCode::kNotFound
        ? corruption("mutable share " + where + " is recorded but its file is missing")
        : file.status();
  }
  Bytes header(kContainerHeaderBytes);
  auto hn = co_await (*file)->read_at(0, MutableByteView(header));
  if (!hn.ok()) co_return hn.status();
  if (*hn != header.size()) co_return corruption("mutable share " + where + " is truncated");
  auto header_size = parse_container_header(header, where, kSlotMagic);
  if (!header_size.ok()) co_return header_size.status();
  if (*header_size != size) {
    co_return corruption("mutable share " + where + " container says " +
                         std::to_string(*header_size) + " bytes, its record " +
                         std::to_string(size));
  }
  std::vector<Bytes> out;
  for (const ReadVector& r : ranges) {
    if (r.offset >= size) {
      out.emplace_back();
      continue;
    }
    Bytes b(std::min<std::uint64_t>(r.length, size - r.offset));
    auto n = co_await (*file)->read_at(kContainerHeaderBytes + r.offset, MutableByteView(b));
    if (!n.ok()) co_return n.status();
    if (*n != b.size()) co_return corruption("mutable share " + where + " is truncated");
    out.push_back(std::move(b));
  }
  co_return out;
}

Task<Status> StorageServer::apply_slot_journal(const StorageIndex& si, const std::string& bytes) {
  pb::SlotJournal journal;
  if (!journal.ParseFromString(bytes) || journal.version() != kRecordVersion) {
    co_return corruption("slot write journal for " + si_hex(si) + " does not parse");
  }
  for (const pb::SlotJournalShare& js : journal.shares()) {
    auto file = co_await env_->disk().open(slot_path(si, js.share_number(), js.generation()),
                                           OpenOptions{});
    if (!file.ok()) co_return file.status();
    for (const pb::WriteVector& v : js.writes()) {
      const ByteView data(reinterpret_cast<const std::uint8_t*>(v.data().data()), v.data().size());
      LAFS_CO_RETURN_IF_ERROR(co_await (*file)->write_at(kContainerHeaderBytes + v.offset(), data));
    }
    LAFS_CO_RETURN_IF_ERROR(
        co_await (*file)->write_at(0, container_header(js.new_size(), kSlotMagic)));
    LAFS_CO_RETURN_IF_ERROR(co_await (*file)->truncate(kContainerHeaderBytes + js.new_size()));
    LAFS_CO_RETURN_IF_ERROR(co_await (*file)->sync());
  }
  co_return Status{};
}

Task<Result<Bytes>> StorageServer::load_slot(const StorageIndex& si, std::uint32_t shnum,
                                             std::uint64_t generation, std::uint64_t size) {
  const std::vector<ReadVector> whole{{0, size}};
  auto got = co_await load_slot_ranges(si, shnum, generation, size, whole);
  if (!got.ok()) co_return got.status();
  co_return std::move(got->front());
}

namespace {

Bytes slice_of(const Bytes& data, std::uint64_t offset, std::uint64_t length) {
  if (offset >= data.size()) return {};
  const std::uint64_t n = std::min<std::uint64_t>(length, data.size() - offset);
  return Bytes(data.begin() + static_cast<std::ptrdiff_t>(offset),
               data.begin() + static_cast<std::ptrdiff_t>(offset + n));
}

bool fits(std::uint64_t offset, std::uint64_t length, std::uint64_t max) {
  return offset <= max && length <= max - offset;
}

}  // namespace

Task<Result<SlotWriteResult>> StorageServer::slot_write(StorageIndex si,
                                                        WriteEnablerBytes write_enabler,
                                                        LeaseSecretBytes renew_secret,
                                                        LeaseSecretBytes cancel_secret,
                                                        std::vector<SlotShareWrite> shares) {
  const std::uint64_t max_bytes = std::min(options_.max_share_bytes, kMutableShareBytesMax);
  if (shares.empty() || shares.size() > kShareNumbersMax) {
    co_return invalid_argument("slot_write: between 1 and " + std::to_string(kShareNumbersMax) +
                               " shares, not " + std::to_string(shares.size()));
  }
  std::set<std::uint32_t> seen;
  for (const SlotShareWrite& w : shares) {
    const std::string name = "slot_write: share " + std::to_string(w.share_number);
    if (w.share_number >= kShareNumbersMax) {
      co_return invalid_argument(name + " is not below " + std::to_string(kShareNumbersMax));
    }
    if (!seen.insert(w.share_number).second) co_return invalid_argument(name + " given twice");
    if (w.tests.size() > kVectorsMax || w.writes.size() > kVectorsMax) {
      co_return invalid_argument(name + ": more than " + std::to_string(kVectorsMax) +
                                 " test or write vectors");
    }
    for (const TestVector& t : w.tests) {
      if (!fits(t.offset, t.compared_length(), max_bytes)) {
        co_return invalid_argument(name + ": test vector outside " + std::to_string(max_bytes) +
                                   " bytes");
      }
      if (t.expected.size() > t.compared_length()) {
        co_return invalid_argument(name + ": test vector expects more bytes than it compares");
      }
    }
    for (const WriteVector& v : w.writes) {
      if (!fits(v.offset, v.data.size(), max_bytes)) {
        co_return invalid_argument(name + ": write past the maximum mutable share size of " +
                                   std::to_string(max_bytes) + " bytes");
      }
    }
    if (w.new_length && *w.new_length > max_bytes) {
      co_return invalid_argument(name + ": new length over " + std::to_string(max_bytes));
    }
  }
  if (options_.read_only) co_return permission_denied("slot_write: this server is read-only");

  auto permit = co_await mutate_.acquire();
  KvStore& kv = env_->kv();
  auto held = co_await get_buckets(si);
  if (!held.ok()) co_return held.status();
  std::map<std::uint32_t, pb::ShareRecord> records;
  for (const ShareInfo& h : *held) {
    if (!h.is_mutable) {
      co_return failed_precondition("slot_write: storage index " + si_hex(si) +
                                    " holds immutable shares");
    }
    auto rec_bytes = co_await kv.get(share_key(si, h.share_number));
    if (!rec_bytes.ok()) co_return rec_bytes.status();
    if (!rec_bytes->has_value()) continue;
    auto rec = parse_record<pb::ShareRecord>(**rec_bytes, "share", si_hex(si));
    if (!rec.ok()) co_return rec.status();
    records[h.share_number] = *rec;
  }
  if (!records.empty()) {
    const std::string& stored = records.begin()->second.write_enabler();
    if (stored.size() != write_enabler.size() ||
        sodium_memcmp(stored.data(), write_enabler.data(), write_enabler.size()) != 0) {
      co_return permission_denied("slot_write: wrong write enabler for storage index " +
                                  si_hex(si) + " (the cap does not match what was written here)");
    }
  }
  // A journal left by a write whose file updates failed (an I/O error, not a crash) is
  // finished before anything else touches these files.
  {
    auto pending = co_await kv.get(journal_key(si));
    if (!pending.ok()) co_return pending.status();
    if (pending->has_value()) {
      LAFS_CO_RETURN_IF_ERROR(co_await apply_slot_journal(si, **pending));
      WriteBatch finished;
      finished.del(journal_key(si));
      LAFS_CO_RETURN_IF_ERROR(co_await kv.write(std::move(finished), /*sync=*/true));
    }
  }
  // In place, through a journal, when every named share exists and stays and the data is
  // small: the cost of a write is then its own bytes, not the shares' sizes.
  bool in_place = true;
  std::uint64_t write_bytes = 0;
  for (const SlotShareWrite& w : shares) {
    if (!records.contains(w.share_number) || (w.new_length && *w.new_length == 0)) {
      in_place = false;
    }
    for (const WriteVector& v : w.writes) write_bytes += v.data.size();
  }
  if (in_place && write_bytes <= kInPlaceWriteBytesMax) {
    SlotWriteResult result;
    for (const SlotShareWrite& w : shares) {
      if (w.tests.empty()) continue;
      const pb::ShareRecord& rec = records.at(w.share_number);
      std::vector<ReadVector> ranges;
      for (const TestVector& t : w.tests) ranges.push_back({t.offset, t.compared_length()});
      auto got = co_await load_slot_ranges(si, w.share_number, rec.generation(), rec.share_bytes(),
                                           ranges);
      if (!got.ok()) co_return got.status();
      bool pass = true;
      for (std::size_t i = 0; i < w.tests.size(); ++i)
        pass = pass && (*got)[i] == w.tests[i].expected;
      if (!pass) result.current[w.share_number] = std::move(*got);
    }
    if (!result.current.empty()) {
      // Report every tested share's current bytes, as the whole-share path does.
      for (const SlotShareWrite& w : shares) {
        if (w.tests.empty() || result.current.contains(w.share_number)) continue;
        const pb::ShareRecord& rec = records.at(w.share_number);
        std::vector<ReadVector> ranges;
        for (const TestVector& t : w.tests) ranges.push_back({t.offset, t.compared_length()});
        auto got = co_await load_slot_ranges(si, w.share_number, rec.generation(),
                                             rec.share_bytes(), ranges);
        if (!got.ok()) co_return got.status();
        result.current[w.share_number] = std::move(*got);
      }
      co_return result;
    }
    pb::SlotJournal journal;
    journal.set_version(kRecordVersion);
    WriteBatch batch;
    std::uint64_t grow = 0;
    std::int64_t used_delta = 0;
    for (const SlotShareWrite& w : shares) {
      pb::ShareRecord rec = records.at(w.share_number);
      std::uint64_t size = rec.share_bytes();
      for (const WriteVector& v : w.writes)
        size = std::max<std::uint64_t>(size, v.offset + v.data.size());
      if (w.new_length) size = *w.new_length;
      if (size > rec.share_bytes()) grow += size - rec.share_bytes();
      used_delta += static_cast<std::int64_t>(size) - static_cast<std::int64_t>(rec.share_bytes());
      pb::SlotJournalShare* js = journal.add_shares();
      js->set_share_number(w.share_number);
      js->set_generation(rec.generation());
      js->set_new_size(size);
      for (const WriteVector& v : w.writes) {
        pb::WriteVector* pv = js->add_writes();
        pv->set_offset(v.offset);
        pv->set_data(to_string(v.data));
      }
      rec.set_share_bytes(size);
      batch.put(share_key(si, w.share_number), rec.SerializeAsString());
    }
    if (grow > 0) {
      auto free = co_await env_->disk().free_space();
      if (!free.ok()) co_return free.status();
      const std::uint64_t committed = options_.reserved_bytes + promised_bytes();
      if (*free < committed || *free - committed < grow) {
        co_return no_space("slot_write: " + std::to_string(grow) + " bytes needed, " +
                           std::to_string(*free) + " free, " + std::to_string(committed) +
                           " reserved or promised");
      }
    }
    const std::string journal_bytes = journal.SerializeAsString();
    batch.put(journal_key(si), journal_bytes);
    // Durable intent first: after this batch the new contents are the share's, whatever
    // happens to the process; start-up replays the journal if the files were not finished.
    LAFS_CO_RETURN_IF_ERROR(co_await kv.write(std::move(batch), /*sync=*/true));
    Status applied = co_await apply_slot_journal(si, journal_bytes);
    if (!applied.is_ok()) co_return applied;  // replayed at the next start
    WriteBatch done;
    done.del(journal_key(si));
    LAFS_CO_RETURN_IF_ERROR(co_await kv.write(std::move(done), /*sync=*/true));
    used_bytes_ = static_cast<std::uint64_t>(static_cast<std::int64_t>(used_bytes_) + used_delta);
    std::vector<std::uint32_t> leased;
    for (const SlotShareWrite& w : shares) leased.push_back(w.share_number);
    auto l = co_await add_lease_locked(si, leased, renew_secret, cancel_secret);
    if (!l.ok()) co_return l.status();
    ++stats_.in_place_slot_writes;
    result.success = true;
    co_return result;
  }
  // Current bytes of every share the request names; missing shares read as empty.
  std::map<std::uint32_t, Bytes> current;
  for (const SlotShareWrite& w : shares) {
    auto it = records.find(w.share_number);
    if (it == records.end()) {
      current[w.share_number] = Bytes{};
      continue;
    }
    auto data =
        co_await load_slot(si, w.share_number, it->second.generation(), it->second.share_bytes());
    if (!data.ok()) co_return data.status();
    current[w.share_number] = std::move(*data);
  }
  SlotWriteResult result;
  bool pass = true;
  for (const SlotShareWrite& w : shares) {
    for (const TestVector& t : w.tests) {
      if (slice_of(current[w.share_number], t.offset, t.compared_length()) != t.expected)
        pass = false;
    }
  }
  if (!pass) {
    for (const SlotShareWrite& w : shares) {
      if (w.tests.empty()) continue;
      auto& out = result.current[w.share_number];
      for (const TestVector& t : w.tests) {
        out.push_back(slice_of(current[w.share_number], t.offset, t.compared_length()));
      }
    }
    co_return result;
  }
  // New contents.
  std::uint64_t grow = 0;
  for (const SlotShareWrite& w : shares) {
    Bytes& data = current[w.share_number];
    const std::uint64_t before = data.size();
    for (const WriteVector& v : w.writes) {
      if (data.size() < v.offset + v.data.size()) data.resize(v.offset + v.data.size(), 0);
      std::copy(v.data.begin(), v.data.end(), data.begin() + static_cast<std::ptrdiff_t>(v.offset));
    }
    if (w.new_length) data.resize(*w.new_length, 0);
    if (data.size() > before) grow += data.size() - before;
  }
  if (grow > 0) {
    auto free = co_await env_->disk().free_space();
    if (!free.ok()) co_return free.status();
    const std::uint64_t committed = options_.reserved_bytes + promised_bytes();
    // Copy-on-write: the new generation exists beside the old until the switch.
    std::uint64_t need = 0;
    for (const auto& [n, d] : current) need += d.size() + kContainerHeaderBytes;
    if (*free < committed || *free - committed < need) {
      co_return no_space("slot_write: " + std::to_string(need) + " bytes needed, " +
                         std::to_string(*free) + " free, " + std::to_string(committed) +
                         " reserved or promised");
    }
  }
  // Write each new generation beside the old one, durably.
  Disk& disk = env_->disk();
  const std::string dir = share_dir(si);
  LAFS_CO_RETURN_IF_ERROR(co_await ensure_dir(parent_dir(dir)));
  LAFS_CO_RETURN_IF_ERROR(co_await ensure_dir(dir));
  const std::int64_t now = env_->clock().wall_now().time_since_epoch().count();
  WriteBatch batch;
  std::vector<std::string> old_files, new_files;
  std::int64_t used_delta = 0;
  for (const SlotShareWrite& w : shares) {
    const std::uint32_t n = w.share_number;
    const Bytes& data = current[n];
    auto it = records.find(n);
    const bool existed = it != records.end();
    if (existed) {
      old_files.push_back(slot_path(si, n, it->second.generation()));
      used_delta -= static_cast<std::int64_t>(it->second.share_bytes());
    }
    if (data.empty()) {  // new length 0: the share goes
      if (existed) {
        batch.del(share_key(si, n));
        const std::string prefix = lease_share_prefix(si, n);
        auto leases = co_await scan_all(kv, prefix, prefix_end(prefix), kLeasesPerShareMax);
        if (!leases.ok()) co_return leases.status();
        for (const auto& [lk, lv] : *leases) {
          batch.del(lk);
          auto lease = parse_record<pb::LeaseRecord>(lv, "lease", key_hex(lk));
          if (lease.ok()) {
            batch.del(
                expiry_key(lease->expires_unix_ns(), si, n, lk.substr(lk.size() - kLeaseIdBytes)));
          }
        }
      }
      continue;
    }
    const std::uint64_t generation = existed ? it->second.generation() + 1 : 1;
    const std::string path = slot_path(si, n, generation);
    auto file = co_await disk.open(path, OpenOptions{.create = true, .truncate = true});
    if (!file.ok()) co_return file.status();
    Bytes contents = container_header(data.size(), kSlotMagic);
    contents.insert(contents.end(), data.begin(), data.end());
    LAFS_CO_RETURN_IF_ERROR(co_await (*file)->write_at(0, contents));
    LAFS_CO_RETURN_IF_ERROR(co_await (*file)->sync());
    new_files.push_back(path);
    pb::ShareRecord rec;
    rec.set_version(kRecordVersion);
    rec.set_share_bytes(data.size());
    rec.set_created_unix_ns(existed ? it->second.created_unix_ns() : now);
    rec.set_is_mutable(true);
    rec.set_write_enabler(to_string(write_enabler));
    rec.set_generation(generation);
    batch.put(share_key(si, n), rec.SerializeAsString());
    used_delta += static_cast<std::int64_t>(data.size());
  }
  LAFS_CO_RETURN_IF_ERROR(co_await disk.sync_dir(dir));
  // The switch: one synced batch. Before it lands the old generations are current (start-up
  // removes the new files); after it, the new ones (start-up removes the old files).
  Status committed = co_await kv.write(std::move(batch), /*sync=*/true);
  if (!committed.is_ok()) {
    for (const std::string& f : new_files) (void)co_await disk.remove(f);
    co_return committed;
  }
  for (const std::string& f : old_files) (void)co_await disk.remove(f);
  (void)co_await disk.sync_dir(dir);
  std::int64_t shares_delta = 0;
  for (const SlotShareWrite& w : shares) {
    const bool existed = records.contains(w.share_number);
    const bool exists = !current[w.share_number].empty();
    shares_delta += (exists ? 1 : 0) - (existed ? 1 : 0);
  }
  stats_.shares =
      static_cast<std::uint64_t>(static_cast<std::int64_t>(stats_.shares) + shares_delta);
  used_bytes_ = static_cast<std::uint64_t>(static_cast<std::int64_t>(used_bytes_) + used_delta);
  // Written shares get (or renew) the writer's lease.
  std::vector<std::uint32_t> leased;
  for (const SlotShareWrite& w : shares) {
    if (!current[w.share_number].empty()) leased.push_back(w.share_number);
  }
  if (!leased.empty()) {
    auto l = co_await add_lease_locked(si, leased, renew_secret, cancel_secret);
    if (!l.ok()) co_return l.status();
  }
  result.success = true;
  co_return result;
}

Task<Result<std::map<std::uint32_t, std::vector<Bytes>>>> StorageServer::slot_read(
    StorageIndex si, std::vector<std::uint32_t> share_numbers, std::vector<ReadVector> vectors) {
  if (vectors.size() > kVectorsMax || share_numbers.size() > kShareNumbersMax) {
    co_return invalid_argument("slot_read: at most " + std::to_string(kVectorsMax) +
                               " read vectors and " + std::to_string(kShareNumbersMax) +
                               " share numbers");
  }
  for (std::uint32_t n : share_numbers) {
    if (n >= kShareNumbersMax) {
      co_return invalid_argument("slot_read: share number " + std::to_string(n) + " is not below " +
                                 std::to_string(kShareNumbersMax));
    }
  }
  // Under the record lock, so a concurrent write cannot switch generations mid-read.
  auto permit = co_await mutate_.acquire();
  auto held = co_await get_buckets(si);
  if (!held.ok()) co_return held.status();
  std::set<std::uint32_t> wanted(share_numbers.begin(), share_numbers.end());
  std::uint64_t total = 0;
  std::vector<std::uint32_t> reading;
  for (const ShareInfo& h : *held) {
    if (!wanted.empty() && !wanted.contains(h.share_number)) continue;
    if (!h.is_mutable) {
      co_return failed_precondition("slot_read: storage index " + si_hex(si) +
                                    " holds immutable shares; use read");
    }
    reading.push_back(h.share_number);
    for (const ReadVector& v : vectors) {
      total += std::min<std::uint64_t>(v.length, kReadBytesMax + 1);
      if (total > kReadBytesMax) {
        co_return invalid_argument("slot_read: more than " + std::to_string(kReadBytesMax) +
                                   " bytes asked in one call");
      }
    }
  }
  std::map<std::uint32_t, std::vector<Bytes>> out;
  for (std::uint32_t n : reading) {
    auto rec_bytes = co_await env_->kv().get(share_key(si, n));
    if (!rec_bytes.ok()) co_return rec_bytes.status();
    if (!rec_bytes->has_value()) continue;  // deleted meanwhile
    auto rec = parse_record<pb::ShareRecord>(**rec_bytes, "share", si_hex(si));
    if (!rec.ok()) co_return rec.status();
    auto slices = co_await load_slot_ranges(si, n, rec->generation(), rec->share_bytes(), vectors);
    if (!slices.ok()) co_return slices.status();
    out[n] = std::move(*slices);
  }
  ++stats_.reads;
  co_return out;
}

}  // namespace lafs::storage
