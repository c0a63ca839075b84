// SimDisk keeps the durable state as undo records beside the current state: a synced file costs one
// copy of its bytes, and crash() rolls each file back and replays a random choice of its unsynced
// changes. Names work the same way: per directory, the current and the last synced entries, plus a
// log of the name changes not yet synced.
#include "net/sim/sim_disk.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <unordered_set>
#include <utility>

#include "core/runtime/executor.h"

namespace lafs::sim {

namespace detail {

// Shared by the disk and its Files, so that a File can tell whether its disk still exists and
// has not crashed since the File was opened.
struct DiskLife {
  SimDisk* disk = nullptr;
  std::uint64_t epoch = 0;  // crashes so far
};

// One unsynced change to a file's bytes, with what it overwrote, so that crash() can roll the
// file back to its synced state. A write covers [offset, offset + data.size()); a truncate to
// `offset` covers [offset, old_size). `saved` holds the old bytes of the covered range that lay
// below old_size: the first pending change that covers a byte holds its durable value.
struct PendingWrite {
  bool is_truncate = false;
  std::uint64_t offset = 0;
  Bytes data;
  std::uint64_t old_size = 0;
  Bytes saved;
};

struct DiskInode {
  bool is_dir = false;
  std::uint32_t live_refs = 0;       // current names + open Files; 0: not counted in used_bytes_
  Bytes data;                        // file: what reads see
  std::deque<PendingWrite> pending;  // file: unsynced changes, oldest first
  std::map<std::string, std::shared_ptr<DiskInode>, std::less<>> entries;  // dir: current names
  // dir: the names as of the last sync_dir (a crash replays unsynced changes onto these).
  std::map<std::string, std::shared_ptr<DiskInode>, std::less<>> durable_entries;
  // dir: the log numbers of the disk's name changes with a part here, ascending (some may be
  // synced or gone from the log already), so that sync_dir() need not scan the whole log.
  std::vector<std::uint64_t> unsynced_changes;
};

// One unsynced change of names: a create, mkdir or remove (one part) or a rename (two parts).
// sync_dir() makes the parts of its directory durable; a change with no unsynced part left is
// dead and leaves the log when it reaches the front (or at the next compaction).
struct NameChange {
  struct Part {
    std::shared_ptr<DiskInode> dir;
    std::string name;
    std::shared_ptr<DiskInode> target;  // null: the name is removed
    bool synced = false;
  };
  std::vector<Part> parts;
  std::size_t unsynced = 0;  // parts not yet synced
};

}  // namespace detail

namespace {

using detail::DiskInode;
using detail::NameChange;
using detail::PendingWrite;

// Larger offsets are refused, so that offset arithmetic cannot overflow.
constexpr std::uint64_t kFileSizeMax = std::uint64_t{1} << 50;

Status crashed() {
  return io_error("disk crashed");
}

// Applies the first `length` bytes of a write (all of a truncate) to `data`.
void redo_write(Bytes& data, const PendingWrite& w, std::size_t length) {
  if (w.is_truncate) {
    data.resize(w.offset);
    return;
  }
  if (length == 0) return;
  LAFS_ASSERT(length <= w.data.size());
  if (data.size() < w.offset + length) data.resize(w.offset + length);
  std::memcpy(data.data() + w.offset, w.data.data(), length);
}

// Applies `w` to `data`, first saving in `w` what it overwrites.
void apply_write(Bytes& data, PendingWrite& w) {
  w.old_size = data.size();
  const std::uint64_t end = w.is_truncate ? w.old_size : w.offset + w.data.size();
  const std::uint64_t saved_end = std::min(end, w.old_size);
  w.saved.clear();
  if (w.offset < saved_end) w.saved.assign(data.begin() + w.offset, data.begin() + saved_end);
  redo_write(data, w, w.data.size());
}

void undo_write(Bytes& data, const PendingWrite& w) {
  data.resize(w.old_size);
  LAFS_ASSERT(w.saved.empty() || w.offset + w.saved.size() <= data.size());
  std::copy(w.saved.begin(), w.saved.end(), data.begin() + w.offset);
}

void apply_durably(const NameChange::Part& part) {
  if (part.target) {
    part.dir->durable_entries.insert_or_assign(part.name, part.target);
  } else {
    part.dir->durable_entries.erase(part.name);
  }
}

std::string quoted(const std::string& path) {
  return "'" + path + "'";
}

}  // namespace

// A handle on one file. It holds the file's inode, so an unlinked file stays readable through it.
class SimFile final : public File {
 public:
  SimFile(std::shared_ptr<detail::DiskLife> life, std::shared_ptr<DiskInode> inode, bool read_only)
      : life_(std::move(life)),
        epoch_(life_->epoch),
        inode_(std::move(inode)),
        read_only_(read_only) {
    LAFS_ASSERT(valid());
    LAFS_ASSERT(!inode_->is_dir);
    disk().add_live_ref(*inode_);
  }
  ~SimFile() override {
    if (valid()) disk().drop_live_ref(*inode_);
  }

  Task<Result<std::size_t>> read_at(std::uint64_t offset, MutableByteView out) override {
    if (!valid()) co_return crashed();
    LAFS_CO_RETURN_IF_ERROR(co_await disk().begin_call(disk().options_.read_latency));
    const Bytes& data = inode_->data;
    if (offset >= data.size()) co_return std::size_t{0};
    const std::size_t n = std::min<std::uint64_t>(out.size(), data.size() - offset);
    if (n > 0) std::memcpy(out.data(), data.data() + offset, n);  // out may be empty and null
    co_return n;
  }

  Task<Status> write_at(std::uint64_t offset, ByteView data) override {
    if (!valid()) co_return crashed();
    if (read_only_) co_return permission_denied("file opened read-only");
    LAFS_CO_RETURN_IF_ERROR(co_await disk().begin_call(disk().options_.write_latency));
    co_return disk().write_now(*inode_, offset, data);
  }

  Task<Status> sync() override {
    if (!valid()) co_return crashed();
    LAFS_CO_RETURN_IF_ERROR(co_await disk().begin_call(disk().options_.sync_latency));
    inode_->pending.clear();
    co_return Status{};
  }

  Task<Result<std::uint64_t>> size() override {
    if (!valid()) co_return crashed();
    LAFS_CO_RETURN_IF_ERROR(co_await disk().begin_call(disk().options_.metadata_latency));
    co_return std::uint64_t{inode_->data.size()};
  }

  Task<Status> truncate(std::uint64_t size) override {
    if (!valid()) co_return crashed();
    if (read_only_) co_return permission_denied("file opened read-only");
    LAFS_CO_RETURN_IF_ERROR(co_await disk().begin_call(disk().options_.write_latency));
    co_return disk().truncate_now(*inode_, size);
  }

 private:
  // False once the disk crashed (or was destroyed) after this handle was opened.
  bool valid() const { return life_->disk != nullptr && life_->epoch == epoch_; }
  SimDisk& disk() const { return *life_->disk; }

  std::shared_ptr<detail::DiskLife> life_;
  std::uint64_t epoch_;
  std::shared_ptr<DiskInode> inode_;
  bool read_only_;
};

SimDisk::SimDisk(SimLoop& loop, SimRandom random, SimDiskOptions options)
    : loop_(loop),
      random_(random),
      options_(options),
      life_(std::make_shared<detail::DiskLife>()),
      root_(std::make_shared<Inode>()),
      capacity_bytes_(options.capacity_bytes) {
  LAFS_ASSERT(options_.crash_keep_weight >= 0);
  LAFS_ASSERT(options_.crash_drop_weight >= 0);
  LAFS_ASSERT(options_.crash_tear_weight >= 0);
  LAFS_ASSERT_MSG(
      options_.crash_keep_weight + options_.crash_drop_weight + options_.crash_tear_weight > 0,
      "SimDiskOptions: every crash weight is zero");
  LAFS_ASSERT(options_.unsynced_writes_per_file_max > 0);
  LAFS_ASSERT(options_.unsynced_name_changes_max > 0);
  life_->disk = this;
  root_->is_dir = true;
}

SimDisk::~SimDisk() {
  life_->disk = nullptr;  // Files that outlive the disk fail with IoError
  name_log_.clear();
  for (const auto& weak : dirs_) {
    if (InodePtr dir = weak.lock()) {
      dir->entries.clear();
      dir->durable_entries.clear();
    }
  }
}

// ---- Calls ----

Task<Status> SimDisk::begin_call(Duration latency) {
  const std::uint64_t epoch = life_->epoch;
  if (latency > Duration::zero()) co_await sleep_for(loop_, latency);
  co_return check_call(epoch);
}

Status SimDisk::check_call(std::uint64_t epoch) {
  if (epoch != life_->epoch) return crashed();
  if (fail_next_count_ > 0) {
    --fail_next_count_;
    return Status(fail_next_code_, "injected fault");
  }
  if (options_.io_error_probability > 0 && random_.chance(options_.io_error_probability)) {
    return io_error("injected I/O error");
  }
  return Status{};
}

Task<Result<std::unique_ptr<File>>> SimDisk::open(std::string path, OpenOptions options) {
  LAFS_CO_RETURN_IF_ERROR(co_await begin_call(options_.metadata_latency));
  co_return open_now(path, options);
}

Task<Status> SimDisk::rename(std::string from, std::string to) {
  LAFS_CO_RETURN_IF_ERROR(co_await begin_call(options_.metadata_latency));
  co_return rename_now(from, to);
}

Task<Status> SimDisk::remove(std::string path) {
  LAFS_CO_RETURN_IF_ERROR(co_await begin_call(options_.metadata_latency));
  co_return remove_now(path);
}

Task<Status> SimDisk::mkdir(std::string path) {
  LAFS_CO_RETURN_IF_ERROR(co_await begin_call(options_.metadata_latency));
  co_return mkdir_now(path);
}

Task<Result<std::vector<std::string>>> SimDisk::list(std::string dir) {
  LAFS_CO_RETURN_IF_ERROR(co_await begin_call(options_.metadata_latency));
  co_return list_now(dir);
}

Task<Result<FileInfo>> SimDisk::stat(std::string path) {
  LAFS_CO_RETURN_IF_ERROR(co_await begin_call(options_.metadata_latency));
  co_return stat_now(path);
}

Task<Status> SimDisk::sync_dir(std::string dir) {
  LAFS_CO_RETURN_IF_ERROR(co_await begin_call(options_.sync_latency));
  co_return sync_dir_now(dir);
}

Task<Result<std::uint64_t>> SimDisk::free_space() {
  LAFS_CO_RETURN_IF_ERROR(co_await begin_call(options_.metadata_latency));
  co_return capacity_bytes_ > used_bytes_ ? capacity_bytes_ - used_bytes_ : 0;
}

void SimDisk::set_fail_next(std::uint32_t count, ErrorCode code) {
  LAFS_ASSERT(code != ErrorCode::kOk);
  fail_next_count_ = count;
  fail_next_code_ = code;
}

std::uint64_t SimDisk::crash_count() const {
  return life_->epoch;
}

// ---- The tree ----

Result<SimDisk::InodePtr> SimDisk::lookup(const std::string& path) const {
  InodePtr node = root_;
  std::size_t start = 0;
  while (start < path.size()) {
    if (!node->is_dir) return not_found(quoted(path.substr(0, start - 1)) + " is not a directory");
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    auto it = node->entries.find(std::string_view(path).substr(start, end - start));
    if (it == node->entries.end()) return not_found("no such file or directory: " + quoted(path));
    node = it->second;
    start = end + 1;
  }
  return node;
}

Result<SimDisk::Parent> SimDisk::lookup_parent(const std::string& path) const {
  LAFS_ASSERT(!path.empty());
  const std::string parent_path = parent_dir(path);
  Result<InodePtr> parent = lookup(parent_path);
  if (!parent.ok()) return parent.status();
  if (!(*parent)->is_dir) return not_found(quoted(parent_path) + " is not a directory");
  const std::size_t name_at = parent_path.empty() ? 0 : parent_path.size() + 1;
  return Parent{std::move(*parent), path.substr(name_at)};
}

SimDisk::InodePtr SimDisk::new_inode(bool is_dir) {
  auto inode = std::make_shared<Inode>();
  inode->is_dir = is_dir;
  if (is_dir) {
    if (dirs_.size() >= dirs_compact_at_) {
      std::erase_if(dirs_, [](const std::weak_ptr<Inode>& w) { return w.expired(); });
      dirs_compact_at_ = std::max<std::size_t>(64, 2 * dirs_.size());
    }
    dirs_.push_back(inode);
  }
  return inode;
}

// Applies a name change to the current tree and logs it until sync_dir() makes it durable.
void SimDisk::change_names(NameChange change) {
  const std::uint64_t number = name_log_base_ + name_log_.size();
  for (auto& part : change.parts) {
    set_entry(*part.dir, part.name, part.target);
    std::vector<std::uint64_t>& mine = part.dir->unsynced_changes;
    if (!mine.empty() && mine.front() < name_log_base_) {
      mine.erase(mine.begin(), std::lower_bound(mine.begin(), mine.end(), name_log_base_));
    }
    if (mine.empty() || mine.back() != number) mine.push_back(number);
  }
  change.unsynced = change.parts.size();
  name_log_.push_back(std::move(change));
  ++name_log_live_;
  if (name_log_live_ > options_.unsynced_name_changes_max) {
    // Background writeback: the oldest quarter of the unsynced changes becomes durable.
    make_oldest_durable(std::max<std::size_t>(1, name_log_live_ / 4));
  }
  trim_name_log();
}

// Makes the oldest `n` changes with unsynced parts durable (as a writeback or a crash would).
void SimDisk::make_oldest_durable(std::size_t n) {
  for (std::size_t i = 0; i < name_log_.size() && n > 0; ++i) {
    NameChange& c = name_log_[i];
    if (c.unsynced == 0) continue;
    for (auto& part : c.parts) {
      if (!part.synced) apply_durably(part);
      part.synced = true;
    }
    c.unsynced = 0;
    --name_log_live_;
    --n;
  }
}

// Drops dead changes from the front of the log; compacts it when dead ones elsewhere are most
// of it (a change stuck at the front would otherwise let the log grow without bound).
void SimDisk::trim_name_log() {
  while (!name_log_.empty() && name_log_.front().unsynced == 0) {
    name_log_.pop_front();
    ++name_log_base_;
  }
  if (name_log_.size() < 2 * name_log_live_ + 64) return;
  std::deque<NameChange> live;
  for (NameChange& c : name_log_) {
    for (auto& part : c.parts) part.dir->unsynced_changes.clear();
  }
  name_log_base_ += name_log_.size();
  for (NameChange& c : name_log_) {
    if (c.unsynced == 0) continue;
    const std::uint64_t number = name_log_base_ + live.size();
    for (auto& part : c.parts) {
      std::vector<std::uint64_t>& mine = part.dir->unsynced_changes;
      if (mine.empty() || mine.back() != number) mine.push_back(number);
    }
    live.push_back(std::move(c));
  }
  name_log_ = std::move(live);
}

void SimDisk::set_entry(Inode& dir, const std::string& name, InodePtr target) {
  LAFS_ASSERT(dir.is_dir);
  auto it = dir.entries.find(name);
  if (it != dir.entries.end()) {
    drop_live_ref(*it->second);
    dir.entries.erase(it);
  }
  if (target) {
    add_live_ref(*target);
    dir.entries.emplace(name, std::move(target));
  }
}

void SimDisk::add_live_ref(Inode& inode) {
  if (inode.live_refs++ == 0) used_bytes_ += inode.data.size();
}

void SimDisk::drop_live_ref(Inode& inode) {
  LAFS_ASSERT(inode.live_refs > 0);
  if (--inode.live_refs == 0) {
    LAFS_ASSERT(used_bytes_ >= inode.data.size());
    used_bytes_ -= inode.data.size();
  }
}

Result<std::unique_ptr<File>> SimDisk::open_now(const std::string& path, OpenOptions options) {
  LAFS_RETURN_IF_ERROR(validate_disk_path(path, /*allow_root=*/false));
  Result<Parent> parent = lookup_parent(path);
  if (!parent.ok()) return parent.status();
  InodePtr file;
  auto it = parent->dir->entries.find(parent->name);
  if (it != parent->dir->entries.end()) {
    if (it->second->is_dir) return invalid_argument(quoted(path) + " is a directory");
    if (options.create && options.exclusive) return already_exists(quoted(path) + " exists");
    file = it->second;
  } else {
    if (!options.create) return not_found("no such file: " + quoted(path));
    file = new_inode(/*is_dir=*/false);
    change_names(NameChange{{{parent->dir, parent->name, file}}});
  }
  auto handle = std::make_unique<SimFile>(life_, file, options.read_only);
  if (options.truncate) {
    Status cut = truncate_now(*file, 0);
    LAFS_ASSERT(cut.is_ok());  // shrinking needs no space
  }
  return std::unique_ptr<File>(std::move(handle));
}

Status SimDisk::rename_now(const std::string& from, const std::string& to) {
  LAFS_RETURN_IF_ERROR(validate_disk_path(from, /*allow_root=*/false));
  LAFS_RETURN_IF_ERROR(validate_disk_path(to, /*allow_root=*/false));
  Result<Parent> src = lookup_parent(from);
  if (!src.ok()) return src.status();
  auto src_it = src->dir->entries.find(src->name);
  if (src_it == src->dir->entries.end()) return not_found("no such file: " + quoted(from));
  Result<Parent> dst = lookup_parent(to);
  if (!dst.ok()) return dst.status();
  InodePtr moving = src_it->second;
  auto dst_it = dst->dir->entries.find(dst->name);
  if (dst_it != dst->dir->entries.end()) {
    if (dst_it->second == moving) return Status{};  // POSIX: the same file, nothing to do
    if (dst_it->second->is_dir) return invalid_argument(quoted(to) + " is a directory");
    if (moving->is_dir) return invalid_argument("cannot replace a file with a directory");
  }
  if (moving->is_dir && to.starts_with(from + "/")) {
    return invalid_argument("cannot move " + quoted(from) + " into itself");
  }
  change_names(NameChange{{{src->dir, src->name, nullptr}, {dst->dir, dst->name, moving}}});
  return Status{};
}

Status SimDisk::remove_now(const std::string& path) {
  LAFS_RETURN_IF_ERROR(validate_disk_path(path, /*allow_root=*/false));
  Result<Parent> parent = lookup_parent(path);
  if (!parent.ok()) return parent.status();
  auto it = parent->dir->entries.find(parent->name);
  if (it == parent->dir->entries.end()) return not_found("no such file: " + quoted(path));
  if (it->second->is_dir && !it->second->entries.empty()) {
    return failed_precondition("directory " + quoted(path) + " is not empty");
  }
  change_names(NameChange{{{parent->dir, parent->name, nullptr}}});
  return Status{};
}

Status SimDisk::mkdir_now(const std::string& path) {
  LAFS_RETURN_IF_ERROR(validate_disk_path(path, /*allow_root=*/false));
  Result<Parent> parent = lookup_parent(path);
  if (!parent.ok()) return parent.status();
  if (parent->dir->entries.contains(parent->name)) return already_exists(quoted(path) + " exists");
  change_names(NameChange{{{parent->dir, parent->name, new_inode(/*is_dir=*/true)}}});
  return Status{};
}

Result<std::vector<std::string>> SimDisk::list_now(const std::string& dir) const {
  LAFS_RETURN_IF_ERROR(validate_disk_path(dir, /*allow_root=*/true));
  Result<InodePtr> node = lookup(dir);
  if (!node.ok()) return node.status();
  if (!(*node)->is_dir) return invalid_argument(quoted(dir) + " is not a directory");
  std::vector<std::string> names;
  names.reserve((*node)->entries.size());
  for (const auto& entry : (*node)->entries) names.push_back(entry.first);  // std::map: bytewise
  return names;
}

Result<FileInfo> SimDisk::stat_now(const std::string& path) const {
  LAFS_RETURN_IF_ERROR(validate_disk_path(path, /*allow_root=*/true));
  Result<InodePtr> node = lookup(path);
  if (!node.ok()) return node.status();
  return FileInfo{(*node)->is_dir, (*node)->is_dir ? 0 : (*node)->data.size()};
}

Status SimDisk::sync_dir_now(const std::string& dir) {
  LAFS_RETURN_IF_ERROR(validate_disk_path(dir, /*allow_root=*/true));
  Result<InodePtr> node = lookup(dir);
  if (!node.ok()) return node.status();
  Inode* synced = node->get();
  if (!synced->is_dir) return invalid_argument(quoted(dir) + " is not a directory");
  // Only the names with unsynced changes can differ from their durable value (every change of a
  // name is logged until synced or written back), so those are copied, not the whole directory.
  for (const std::uint64_t number : synced->unsynced_changes) {
    if (number < name_log_base_) continue;
    NameChange& change = name_log_[number - name_log_base_];
    for (auto& p : change.parts) {
      if (p.dir.get() != synced || p.synced) continue;
      auto it = synced->entries.find(p.name);
      if (it == synced->entries.end()) {
        synced->durable_entries.erase(p.name);
      } else {
        synced->durable_entries.insert_or_assign(p.name, it->second);
      }
      p.synced = true;
      if (--change.unsynced == 0) --name_log_live_;
    }
  }
  synced->unsynced_changes.clear();
  trim_name_log();
  return Status{};
}

// ---- File data ----

Status SimDisk::write_now(Inode& file, std::uint64_t offset, ByteView data) {
  if (data.empty()) return Status{};
  if (offset > kFileSizeMax || data.size() > kFileSizeMax - offset) {
    return invalid_argument("write past the largest file size");
  }
  PendingWrite w;
  w.offset = offset;
  w.data.assign(data.begin(), data.end());
  const std::uint64_t end = offset + data.size();
  Status s = change_file(file, std::move(w), std::max<std::uint64_t>(file.data.size(), end));
  if (s.is_ok()) bytes_written_ += data.size();
  return s;
}

Status SimDisk::truncate_now(Inode& file, std::uint64_t size) {
  if (size == file.data.size()) return Status{};
  if (size > kFileSizeMax) return invalid_argument("truncate past the largest file size");
  PendingWrite w;
  w.is_truncate = true;
  w.offset = size;
  return change_file(file, std::move(w), size);
}

Status SimDisk::change_file(Inode& file, PendingWrite change, std::uint64_t new_size) {
  LAFS_ASSERT(!file.is_dir);
  LAFS_ASSERT(file.live_refs > 0);
  const std::uint64_t old_size = file.data.size();
  const std::uint64_t free = capacity_bytes_ > used_bytes_ ? capacity_bytes_ - used_bytes_ : 0;
  if (new_size > old_size && new_size - old_size > free) {
    return no_space("disk full: " + std::to_string(new_size - old_size) + " bytes wanted, " +
                    std::to_string(free) + " free");
  }
  apply_write(file.data, change);
  LAFS_ASSERT(file.data.size() == new_size);
  used_bytes_ = used_bytes_ - old_size + new_size;
  file.pending.push_back(std::move(change));
  // Background writeback: past the bound, the oldest change becomes durable.
  if (file.pending.size() > options_.unsynced_writes_per_file_max) file.pending.pop_front();
  return Status{};
}

Status SimDisk::corrupt(const std::string& path, std::uint64_t byte_offset, unsigned bit) {
  LAFS_ASSERT(bit < 8);
  LAFS_RETURN_IF_ERROR(validate_disk_path(path, /*allow_root=*/false));
  Result<InodePtr> node = lookup(path);
  if (!node.ok()) return node.status();
  Inode& file = **node;
  if (file.is_dir) return invalid_argument(quoted(path) + " is a directory");
  const auto mask = static_cast<std::uint8_t>(1u << bit);
  bool flipped = false;
  if (byte_offset < file.data.size()) {
    file.data[byte_offset] ^= mask;
    flipped = true;
  }
  // The durable value of a byte lives in the first pending change that overwrote it, if any;
  // otherwise it is the current byte, flipped above.
  for (PendingWrite& w : file.pending) {
    if (byte_offset >= w.offset && byte_offset - w.offset < w.saved.size()) {
      w.saved[byte_offset - w.offset] ^= mask;
      flipped = true;
      break;
    }
  }
  if (!flipped) return invalid_argument("offset past the end of " + quoted(path));
  return Status{};
}

Result<std::string> SimDisk::rot_random_bit(const std::string& prefix) {
  std::vector<std::pair<std::string, const Inode*>> files;
  std::vector<std::pair<std::string, const Inode*>> dirs{{"", root_.get()}};
  while (!dirs.empty()) {
    auto [path, dir] = dirs.back();
    dirs.pop_back();
    for (const auto& [name, child] : dir->entries) {
      std::string p = path.empty() ? name : path + "/" + name;
      // Only subtrees that can hold a path starting with the prefix.
      if (p.compare(0, std::min(p.size(), prefix.size()), prefix, 0,
                    std::min(p.size(), prefix.size())) != 0) {
        continue;
      }
      if (child->is_dir) {
        dirs.emplace_back(std::move(p), child.get());
      } else if (!child->data.empty() && p.size() >= prefix.size()) {
        files.emplace_back(std::move(p), child.get());
      }
    }
  }
  if (files.empty()) return not_found("no file under " + quoted(prefix) + " to rot");
  const auto& [path, file] = files[random_.uniform(files.size())];
  const std::uint64_t offset = random_.uniform(file->data.size());
  LAFS_RETURN_IF_ERROR(corrupt(path, offset, static_cast<unsigned>(random_.uniform(8))));
  return path;
}

// ---- Crash ----

SimDisk::Fate SimDisk::draw_fate() {
  const double keep = options_.crash_keep_weight;
  const double drop = options_.crash_drop_weight;
  const double x = random_.next_double() * (keep + drop + options_.crash_tear_weight);
  if (x < keep) return Fate::kKeep;
  if (x < keep + drop) return Fate::kDrop;
  return Fate::kTear;
}

void SimDisk::crash() {
  ++life_->epoch;
  recover_names();
  recover_tree();
}

// Makes durable a prefix of the unsynced name changes: all, none, or a random cut.
void SimDisk::recover_names() {
  const std::size_t n = name_log_live_;
  std::size_t kept = 0;
  if (n > 0) {
    switch (draw_fate()) {
      case Fate::kKeep:
        kept = n;
        break;
      case Fate::kDrop:
        kept = 0;
        break;
      case Fate::kTear:
        kept = random_.uniform(n + 1);
        break;
    }
  }
  make_oldest_durable(kept);
  name_log_base_ += name_log_.size();  // every logged number is stale now
  name_log_.clear();
  name_log_live_ = 0;
}

// Makes the durable tree current: every directory reachable from the root gets its durable
// entries back, every file reachable its recovered bytes; live references and used bytes are
// counted afresh (the handles from before the crash no longer count).
void SimDisk::recover_tree() {
  used_bytes_ = 0;
  std::unordered_set<Inode*> seen{root_.get()};
  std::vector<Inode*> dirs{root_.get()};
  while (!dirs.empty()) {
    Inode* dir = dirs.back();
    dirs.pop_back();
    dir->entries = dir->durable_entries;
    for (const auto& [name, child] : dir->entries) {
      if (seen.insert(child.get()).second) {
        child->live_refs = 0;
        if (child->is_dir) {
          dirs.push_back(child.get());
        } else {
          recover_file(*child);
          used_bytes_ += child->data.size();
        }
      }
      ++child->live_refs;
    }
  }
}

// Rolls the file back to its synced bytes, then replays each unsynced change that the crash
// keeps, whole or (a torn write) in part. A torn truncate is dropped.
void SimDisk::recover_file(Inode& file) {
  for (auto it = file.pending.rbegin(); it != file.pending.rend(); ++it) undo_write(file.data, *it);
  for (const PendingWrite& w : file.pending) {
    switch (draw_fate()) {
      case Fate::kKeep:
        redo_write(file.data, w, w.data.size());
        break;
      case Fate::kDrop:
        break;
      case Fate::kTear:
        if (!w.is_truncate) redo_write(file.data, w, random_.uniform(w.data.size()));
        break;
    }
  }
  file.pending.clear();
}

}  // namespace lafs::sim
