#include "core/client/directory.h"

#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <set>

#include "core/crypto/cipher.h"
#include "core/proto/directory.pb.h"

namespace lafs::client {
namespace {

constexpr std::uint32_t kTableVersion = 1;
constexpr std::size_t kRawNameBytesMax = 4 * kEntryNameBytesMax;  // before NFC
const crypto::StreamNonce kZeroNonce{};

// A name as it may appear in a message: quoted, cut short, never more than a few dozen bytes.
std::string quoted(std::string_view name) {
  std::string out = "'";
  out += name.substr(0, 64);
  if (name.size() > 64) out += "...";
  return out + "'";
}

std::int64_t to_ns(WallTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
WallTime from_ns(std::int64_t ns) {
  return WallTime(std::chrono::nanoseconds(ns));
}

bool deeply_immutable(const cap::Cap& c) {
  return std::holds_alternative<cap::ChkReadCap>(c.file) ||
         std::holds_alternative<cap::LiteralCap>(c.file) ||
         std::holds_alternative<cap::ChkVerifyCap>(c.file);
}

std::optional<std::uint64_t> known_size(const cap::Cap& c) {
  if (c.directory) return std::nullopt;
  if (const auto* chk = std::get_if<cap::ChkReadCap>(&c.file)) return chk->params.size_bytes;
  if (const auto* v = std::get_if<cap::ChkVerifyCap>(&c.file)) return v->params.size_bytes;
  if (const auto* lit = std::get_if<cap::LiteralCap>(&c.file)) return lit->data.size();
  return std::nullopt;
}

Bytes seal_write_cap(const crypto::WriteKey& dir_key, const cap::Cap& write_cap, Random& random) {
  crypto::Salt salt{};
  random.fill(salt);
  const std::string text = cap::format_cap(write_cap);
  Bytes out(salt.begin(), salt.end());
  out.insert(out.end(), text.begin(), text.end());
  const MutableByteView body(out.data() + salt.size(), text.size());
  LAFS_ASSERT(
      crypto::xor_at(crypto::directory_entry_key(dir_key, salt), kZeroNonce, 0, body).is_ok());
  return out;
}

Result<cap::Cap> open_write_cap(const crypto::WriteKey& dir_key, ByteView sealed) {
  if (sealed.size() <= crypto::kSaltBytes ||
      sealed.size() > crypto::kSaltBytes + cap::kMaxCapChars) {
    return corruption("encrypted write cap of " + std::to_string(sealed.size()) + " bytes");
  }
  crypto::Salt salt{};
  std::copy_n(sealed.begin(), salt.size(), salt.begin());
  Bytes text(sealed.begin() + salt.size(), sealed.end());
  LAFS_RETURN_IF_ERROR(
      crypto::xor_at(crypto::directory_entry_key(dir_key, salt), kZeroNonce, 0, text));
  auto parsed =
      cap::parse_cap(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
  if (!parsed.ok()) return corruption("encrypted write cap does not decrypt to a cap");
  return parsed;
}

}  // namespace

Result<std::string> normalize_entry_name(std::string_view raw) {
  if (raw.empty()) return invalid_argument("a directory entry name cannot be empty");
  if (raw.size() > kRawNameBytesMax) {
    return invalid_argument("directory entry name of " + std::to_string(raw.size()) +
                            " bytes is longer than " + std::to_string(kEntryNameBytesMax));
  }
  UErrorCode err = U_ZERO_ERROR;
  std::u16string utf16(raw.size() + 1, u'\0');
  int32_t len16 = 0;
  u_strFromUTF8(reinterpret_cast<UChar*>(utf16.data()), static_cast<int32_t>(utf16.size()), &len16,
                raw.data(), static_cast<int32_t>(raw.size()), &err);
  if (U_FAILURE(err)) {
    return invalid_argument("directory entry name " + quoted(raw) + " is not valid UTF-8");
  }
  utf16.resize(static_cast<std::size_t>(len16));
  const UNormalizer2* nfc = unorm2_getNFCInstance(&err);
  if (U_FAILURE(err)) return internal_error("ICU NFC normaliser unavailable");
  std::u16string normalized(utf16.size() * 4 + 8, u'\0');
  const int32_t nlen = unorm2_normalize(nfc, reinterpret_cast<const UChar*>(utf16.data()), len16,
                                        reinterpret_cast<UChar*>(normalized.data()),
                                        static_cast<int32_t>(normalized.size()), &err);
  if (U_FAILURE(err)) return invalid_argument("directory entry name cannot be normalised");
  std::string out(static_cast<std::size_t>(nlen) * 3 + 4, '\0');
  int32_t len8 = 0;
  u_strToUTF8(out.data(), static_cast<int32_t>(out.size()), &len8,
              reinterpret_cast<const UChar*>(normalized.data()), nlen, &err);
  if (U_FAILURE(err)) return invalid_argument("directory entry name cannot be normalised");
  out.resize(static_cast<std::size_t>(len8));
  if (out.find('/') != std::string::npos) {
    return invalid_argument("directory entry name " + quoted(out) +
                            " contains '/' (names are single path components)");
  }
  if (out.find('\0') != std::string::npos) {
    return invalid_argument("directory entry name contains a NUL byte");
  }
  if (out == "." || out == "..") {
    return invalid_argument("directory entry name " + quoted(out) + " is reserved");
  }
  if (out.size() > kEntryNameBytesMax) {
    return invalid_argument("directory entry name of " + std::to_string(out.size()) +
                            " bytes (UTF-8, NFC) is longer than " +
                            std::to_string(kEntryNameBytesMax));
  }
  return out;
}

Result<std::pair<cap::Cap, std::optional<cap::Cap>>> split_child_cap(const cap::Cap& child) {
  if (Status s = cap::validate_cap(child); !s.is_ok()) return s;
  if (child.authority() == cap::Authority::kWrite) {
    auto read = cap::read_cap(child);
    LAFS_ASSERT(read.has_value());
    return std::pair{*read, std::optional<cap::Cap>(child)};
  }
  return std::pair{child, std::optional<cap::Cap>()};
}

// ---- Entries ----

namespace {

struct DecodedEntry {
  DirectoryEntry entry;
  std::optional<Bytes> sealed;  // the stored encrypted write cap
};

Result<DecodedEntry> decode_entry(const pb::DirectoryEntry& e,
                                  const std::optional<crypto::WriteKey>& write_key) {
  auto name = normalize_entry_name(e.name());
  if (!name.ok() || *name != e.name()) {
    return corruption("directory entry " + quoted(e.name()) + " has a non-canonical name");
  }
  DecodedEntry out;
  DirectoryEntry& entry = out.entry;
  entry.name = *name;
  auto read = cap::parse_cap(e.read_cap());
  if (!read.ok()) {
    return corruption("directory entry " + quoted(entry.name) + ": " + read.status().message());
  }
  entry.read_cap = std::move(*read);
  if (entry.read_cap.authority() == cap::Authority::kWrite) {
    return corruption("directory entry " + quoted(entry.name) + " holds a write cap in the clear");
  }
  entry.metadata.link_created = from_ns(e.link_created_unix_ns());
  entry.metadata.link_modified = from_ns(e.link_modified_unix_ns());
  if (e.has_size()) entry.metadata.size = e.size();
  if (!e.encrypted_write_cap().empty()) {
    const Bytes sealed(e.encrypted_write_cap().begin(), e.encrypted_write_cap().end());
    if (write_key) {
      auto w = open_write_cap(*write_key, sealed);
      if (!w.ok() || w->authority() != cap::Authority::kWrite ||
          cap::read_cap(*w) != entry.read_cap) {
        return corruption("directory entry " + quoted(entry.name) +
                          ": its write cap does not match its read cap");
      }
      entry.write_cap = std::move(*w);
    }
    out.sealed = sealed;
  }
  return out;
}

Result<pb::DirectoryEntry> encode_entry(const DirectoryEntry& entry,
                                        const std::optional<Bytes>& sealed,
                                        const std::optional<crypto::WriteKey>& write_key,
                                        Random& random) {
  pb::DirectoryEntry e;
  e.set_name(entry.name);
  e.set_read_cap(cap::format_cap(entry.read_cap));
  e.set_link_created_unix_ns(to_ns(entry.metadata.link_created));
  e.set_link_modified_unix_ns(to_ns(entry.metadata.link_modified));
  if (entry.metadata.size) {
    e.set_has_size(true);
    e.set_size(*entry.metadata.size);
  }
  if (sealed) {
    e.set_encrypted_write_cap(std::string(sealed->begin(), sealed->end()));
  } else if (entry.write_cap) {
    if (!write_key) {
      return invalid_argument("entry " + quoted(entry.name) +
                              " has a write cap, which only a mutable directory can hold");
    }
    const Bytes s = seal_write_cap(*write_key, *entry.write_cap, random);
    e.set_encrypted_write_cap(std::string(s.begin(), s.end()));
  }
  return e;
}

Result<DecodedEntry> decode_entry_bytes(const std::string& name, ByteView bytes,
                                        const std::optional<crypto::WriteKey>& write_key) {
  pb::DirectoryEntry e;
  if (!e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return corruption("directory entry " + quoted(name) + " does not parse");
  }
  auto d = decode_entry(e, write_key);
  if (!d.ok()) return d.status();
  if (d->entry.name != name) return corruption("directory entry " + quoted(name) + " is misfiled");
  return d;
}

}  // namespace

// ---- DirectoryTable ----

Result<DirectoryTable> DirectoryTable::parse(ByteView plaintext,
                                             const std::optional<crypto::WriteKey>& write_key) {
  pb::DirectoryTable msg;
  if (!msg.ParseFromArray(plaintext.data(), static_cast<int>(plaintext.size()))) {
    return corruption("directory table does not parse");
  }
  if (msg.version() != kTableVersion) {
    return failed_precondition("directory table version " + std::to_string(msg.version()) +
                               " (this build reads version 1; upgrade lafs)");
  }
  if (static_cast<std::size_t>(msg.entries_size()) > kDirectoryEntriesMax) {
    return corruption("directory table has more than " + std::to_string(kDirectoryEntriesMax) +
                      " entries");
  }
  DirectoryTable t;
  for (const pb::DirectoryEntry& e : msg.entries()) {
    auto d = decode_entry(e, write_key);
    if (!d.ok()) return d.status();
    if (d->sealed) t.sealed_[d->entry.name] = *d->sealed;
    const std::string name = d->entry.name;
    if (!t.entries_.emplace(name, std::move(d->entry)).second) {
      return corruption("directory table names " + quoted(name) + " twice");
    }
  }
  return t;
}

Result<DirectoryTable> DirectoryTable::parse_pages(
    ByteView plaintext, const std::optional<crypto::WriteKey>& write_key) {
  if (plaintext.empty() || plaintext.size() % kDirPageBytes != 0) {
    return corruption("a paged directory of " + std::to_string(plaintext.size()) +
                      " bytes is not a whole number of " + std::to_string(kDirPageBytes) +
                      "-byte pages");
  }
  const auto pages = static_cast<std::uint32_t>(plaintext.size() / kDirPageBytes);
  DirPageTree tree(pages);
  for (std::uint32_t i = 0; i < pages; ++i) {
    LAFS_RETURN_IF_ERROR(
        tree.load(i, plaintext.subspan(std::size_t{i} * kDirPageBytes, kDirPageBytes)));
  }
  auto all = tree.all_entries();
  if (!all.ok()) return all.status();
  DirectoryTable t;
  for (const auto& [name, bytes] : *all) {
    auto d = decode_entry_bytes(name, bytes, write_key);
    if (!d.ok()) return d.status();
    if (d->sealed) t.sealed_[name] = *d->sealed;
    t.entries_.emplace(name, std::move(d->entry));
  }
  return t;
}

Result<Bytes> DirectoryTable::serialize(const std::optional<crypto::WriteKey>& write_key,
                                        Random& random) const {
  pb::DirectoryTable msg;
  msg.set_version(kTableVersion);
  for (const auto& [name, entry] : entries_) {
    auto it = sealed_.find(name);
    auto e =
        encode_entry(entry, it == sealed_.end() ? std::nullopt : std::optional<Bytes>(it->second),
                     write_key, random);
    if (!e.ok()) return e.status();
    *msg.add_entries() = std::move(*e);
  }
  std::string out;
  msg.SerializeToString(&out);
  return Bytes(out.begin(), out.end());
}

const DirectoryEntry* DirectoryTable::find(const std::string& normalized) const {
  auto it = entries_.find(normalized);
  return it == entries_.end() ? nullptr : &it->second;
}

Status DirectoryTable::put(DirectoryEntry entry, bool replace, WallTime now) {
  auto it = entries_.find(entry.name);
  if (it != entries_.end()) {
    if (!replace) {
      return already_exists("an entry named " + quoted(entry.name) +
                            " already exists (and replace was not asked for)");
    }
    entry.metadata.link_created = it->second.metadata.link_created;
  } else {
    if (entries_.size() >= kDirectoryEntriesMax) {
      return resource_exhausted("directory already holds " + std::to_string(kDirectoryEntriesMax) +
                                " entries");
    }
    entry.metadata.link_created = now;
  }
  entry.metadata.link_modified = now;
  sealed_.erase(entry.name);
  entries_[entry.name] = std::move(entry);
  return Status{};
}

Result<DirectoryEntry> DirectoryTable::remove(const std::string& normalized) {
  auto it = entries_.find(normalized);
  if (it == entries_.end()) return not_found("no entry named " + quoted(normalized));
  DirectoryEntry out = std::move(it->second);
  entries_.erase(it);
  sealed_.erase(normalized);
  return out;
}

// ---- DirectoryClient ----

// The pages of one change, with entries decoded and encoded on the way in and out.
class DirectoryEditor {
 public:
  DirectoryEditor(DirPageTree* tree, std::optional<crypto::WriteKey> key, Random* random,
                  WallTime now)
      : tree_(tree), key_(std::move(key)), random_(random), now_(now) {}

  Result<std::optional<DirectoryEntry>> find(const std::string& name) {
    auto raw = tree_->find(name);
    if (!raw.ok()) return raw.status();
    if (!*raw) return std::optional<DirectoryEntry>();
    auto d = decode_entry_bytes(name, **raw, key_);
    if (!d.ok()) return d.status();
    return std::optional<DirectoryEntry>(std::move(d->entry));
  }
  // `moved`: a rename, which keeps the entry's own link creation time.
  Status put(DirectoryEntry entry, bool replace, bool moved = false) {
    auto old = find(entry.name);
    if (!old.ok()) return old.status();
    if (*old && !replace) {
      return already_exists("an entry named " + quoted(entry.name) +
                            " already exists (and replace was not asked for)");
    }
    if (!moved) entry.metadata.link_created = *old ? (*old)->metadata.link_created : now_;
    entry.metadata.link_modified = now_;
    auto e = encode_entry(entry, std::nullopt, key_, *random_);
    if (!e.ok()) return e.status();
    std::string bytes;
    e->SerializeToString(&bytes);
    return tree_->put(entry.name, Bytes(bytes.begin(), bytes.end()));
  }
  Result<DirectoryEntry> remove(const std::string& name) {
    auto old = find(name);
    if (!old.ok()) return old.status();
    if (!*old) return not_found("no entry named " + quoted(name));
    LAFS_RETURN_IF_ERROR(tree_->erase(name));
    return std::move(**old);
  }

 private:
  DirPageTree* tree_;
  std::optional<crypto::WriteKey> key_;
  Random* random_;
  WallTime now_;
};

namespace {

using Edit = std::function<Status(DirectoryEditor&)>;

Result<DirectoryEntry> make_entry(const std::string& raw_name, const cap::Cap& child,
                                  std::optional<std::uint64_t> size) {
  auto name = normalize_entry_name(raw_name);
  if (!name.ok()) return name.status();
  auto split = split_child_cap(child);
  if (!split.ok()) return split.status();
  DirectoryEntry e;
  e.name = std::move(*name);
  e.read_cap = split->first;
  e.write_cap = split->second;
  e.metadata.size = size ? size : known_size(child);
  return e;
}

std::optional<crypto::WriteKey> write_key_of(const cap::Cap& dir) {
  if (const auto* w = std::get_if<cap::SskWriteCap>(&dir.file)) return w->write_key;
  return std::nullopt;
}

bool same_directory(const cap::Cap& a, const cap::Cap& b) {
  return cap::storage_index(a) == cap::storage_index(b) && cap::storage_index(a).has_value();
}

struct MutableDirKeys {
  crypto::ReadKey read_key;
  crypto::StorageIndex si{};
  crypto::Fingerprint fingerprint{};
};

std::optional<MutableDirKeys> mutable_dir_keys(const cap::Cap& dir) {
  MutableDirKeys k;
  if (const auto* w = std::get_if<cap::SskWriteCap>(&dir.file)) {
    k.read_key = crypto::mutable_read_key(w->write_key);
    k.fingerprint = w->fingerprint;
  } else if (const auto* r = std::get_if<cap::SskReadCap>(&dir.file)) {
    k.read_key = r->read_key;
    k.fingerprint = r->fingerprint;
  } else {
    return std::nullopt;
  }
  k.si = crypto::mutable_storage_index(k.read_key);
  return k;
}

// The page count of a paged directory version, checked.
Result<std::uint32_t> page_count_of(const MutableParams& p) {
  if (p.segment_size != kDirPageBytes || p.data_length == 0 || p.data_length % kDirPageBytes != 0) {
    return corruption("not a paged directory (segment size " + std::to_string(p.segment_size) +
                      ", length " + std::to_string(p.data_length) + ")");
  }
  return static_cast<std::uint32_t>(p.data_length / kDirPageBytes);
}

// The newest recoverable version of a paged directory in `map`, and its page count.
Result<std::pair<MutableVersion, std::uint32_t>> paged_base(const ServerMap& map) {
  const auto base = map.newest_recoverable_or_error("directory");
  if (!base.ok()) return base.status();
  auto pages = page_count_of(map.header_of(*base)->params);
  if (!pages.ok()) return pages.status();
  return std::pair{*base, *pages};
}

}  // namespace

Task<Result<DirectoryTable>> DirectoryClient::load(const cap::Cap& dir,
                                                   const std::vector<ServerRef>& servers) {
  if (!dir.directory) co_return invalid_argument("not a directory cap");
  if (dir.authority() == cap::Authority::kVerify) {
    co_return invalid_argument("a verify cap cannot list a directory (it cannot decrypt it)");
  }
  if (const auto* lit = std::get_if<cap::LiteralCap>(&dir.file)) {
    co_return DirectoryTable::parse(lit->data, std::nullopt);
  }
  if (std::holds_alternative<cap::ChkReadCap>(dir.file)) {
    const cap::Cap file{dir.file, false};
    auto bytes = co_await immutable_->download(file, servers);
    if (!bytes.ok()) co_return bytes.status();
    co_return DirectoryTable::parse(*bytes, std::nullopt);
  }
  const cap::Cap file{dir.file, false};
  auto got = co_await mutable_->retrieve(file, servers);
  if (!got.ok()) co_return got.status();
  co_return DirectoryTable::parse_pages(got->contents, write_key_of(dir));
}

Task<Status> DirectoryClient::change(const cap::Cap& dir, const std::vector<ServerRef>& servers,
                                     std::vector<std::string> names, Edit edit) {
  if (!dir.directory) co_return invalid_argument("not a directory cap");
  const auto* w = std::get_if<cap::SskWriteCap>(&dir.file);
  if (w == nullptr) {
    co_return permission_denied(dir.is_mutable() ? "this directory cap is read-only"
                                                 : "an immutable directory cannot be changed");
  }
  const auto keys = *mutable_dir_keys(dir);
  Status last;
  for (std::uint32_t attempt = 0; attempt < mutable_->options().modify_attempts_max; ++attempt) {
    if (attempt > 0) co_await sleep_for(env_->executor(), mutable_->retry_backoff(attempt));
    const ServerMap map = co_await mutable_->update_servermap(keys.si, keys.fingerprint, servers);
    auto found = paged_base(map);
    if (!found.ok()) co_return found.status();
    const std::optional<MutableVersion> base = found->first;
    DirPageTree tree(found->second);
    Status read_failure;
    // Load the paths of the names, a level at a time (one ranged read per level).
    for (int depth = 0; depth < 64; ++depth) {
      std::set<std::uint64_t> wanted;
      for (const std::string& n : names) {
        auto next = tree.next_page_for(n);
        if (!next.ok()) co_return next.status();
        if (*next) wanted.insert(**next);
      }
      if (wanted.empty()) break;
      const std::vector<std::uint64_t> list(wanted.begin(), wanted.end());
      auto got = co_await mutable_->read_segments(map, keys.read_key, *base, list);
      if (!got.ok()) {
        read_failure = got.status();
        break;
      }
      for (const auto& [id, bytes] : *got) {
        LAFS_CO_RETURN_IF_ERROR(tree.load(static_cast<std::uint32_t>(id), bytes));
      }
    }
    if (!read_failure.is_ok()) {
      if (read_failure.code() != ErrorCode::kConflict) co_return read_failure;
      last = read_failure;  // another editor published while we read: start again
      continue;
    }
    DirectoryEditor editor(&tree, w->write_key, &env_->random(), env_->clock().wall_now());
    LAFS_CO_RETURN_IF_ERROR(edit(editor));
    auto dirty = tree.dirty_pages();
    if (!dirty.ok()) co_return dirty.status();
    MutableClient::SegmentUpdate update;
    for (auto& [id, bytes] : *dirty) update.segments[id] = std::move(bytes);
    update.new_length = std::uint64_t{tree.page_count()} * kDirPageBytes;
    if (update.segments.empty()) co_return Status{};
    auto r = co_await mutable_->update_segments(*w, map, *base, std::move(update), options_.happy);
    if (r.ok()) co_return Status{};
    if (r.status().code() != ErrorCode::kConflict) co_return r.status();
    last = r.status();
  }
  co_return conflict("gave up after " + std::to_string(mutable_->options().modify_attempts_max) +
                     " attempts: " + last.message());
}

Task<Result<cap::Cap>> DirectoryClient::create(
    std::vector<ServerRef> servers, std::vector<std::pair<std::string, cap::Cap>> children) {
  crypto::SigningKey key = crypto::SigningKey::generate(env_->random());
  const crypto::WriteKey write_key = crypto::mutable_write_key(key.seed());
  DirPageTree tree = DirPageTree::empty();
  DirectoryEditor editor(&tree, write_key, &env_->random(), env_->clock().wall_now());
  for (const auto& [name, child] : children) {
    auto e = make_entry(name, child, std::nullopt);
    if (!e.ok()) co_return e.status();
    if (Status s = editor.put(std::move(*e), false); !s.is_ok()) co_return s;
  }
  auto pages = tree.dirty_pages();
  if (!pages.ok()) co_return pages.status();
  Bytes contents;
  contents.reserve(std::size_t{tree.page_count()} * kDirPageBytes);
  for (std::uint32_t i = 0; i < tree.page_count(); ++i) {
    const Bytes& page = pages->at(i);
    contents.insert(contents.end(), page.begin(), page.end());
  }
  MutableParams params = options_.mutable_params;
  params.segment_size = kDirPageBytes;
  auto w = co_await mutable_->create_with_key(std::move(key), std::move(contents),
                                              std::move(servers), params, options_.happy);
  if (!w.ok()) co_return w.status();
  co_return cap::Cap{*w, true};
}

Task<Result<cap::Cap>> DirectoryClient::create_immutable(
    std::vector<ServerRef> servers, std::vector<std::pair<std::string, cap::Cap>> children) {
  DirectoryTable table;
  const WallTime now = env_->clock().wall_now();
  for (const auto& [name, child] : children) {
    if (!deeply_immutable(child)) {
      co_return invalid_argument("an immutable directory can only hold immutable children; " +
                                 quoted(name) + " is " + cap::format_cap(child).substr(0, 14) +
                                 "...");
    }
    auto e = make_entry(name, child, std::nullopt);
    if (!e.ok()) co_return e.status();
    if (Status s = table.put(std::move(*e), false, now); !s.is_ok()) co_return s;
  }
  auto bytes = table.serialize(std::nullopt, env_->random());
  if (!bytes.ok()) co_return bytes.status();
  auto up =
      co_await immutable_->upload(std::move(*bytes), std::move(servers), options_.immutable_params);
  if (!up.ok()) co_return up.status();
  cap::Cap out = up->cap;
  out.directory = true;
  co_return out;
}

Task<Result<std::vector<DirectoryEntry>>> DirectoryClient::list(cap::Cap dir,
                                                                std::vector<ServerRef> servers) {
  auto table = co_await load(dir, servers);
  if (!table.ok()) co_return table.status();
  std::vector<DirectoryEntry> out;
  out.reserve(table->entries().size());
  for (const auto& [name, e] : table->entries()) out.push_back(e);
  co_return out;
}

Task<Result<DirectoryEntry>> DirectoryClient::get(cap::Cap dir, std::string name,
                                                  std::vector<ServerRef> servers) {
  auto normalized = normalize_entry_name(name);
  if (!normalized.ok()) co_return normalized.status();
  const auto keys = mutable_dir_keys(dir);
  if (!dir.directory || !keys) {
    auto table = co_await load(dir, servers);
    if (!table.ok()) co_return table.status();
    const DirectoryEntry* e = table->find(*normalized);
    if (e == nullptr) co_return not_found("no entry named " + quoted(*normalized));
    co_return *e;
  }
  // A mutable directory: only the pages on the name's path. An edit published between two
  // levels makes the read a Conflict: read again from a fresh server map.
  Status last;
  for (std::uint32_t attempt = 0; attempt < mutable_->options().modify_attempts_max; ++attempt) {
    if (attempt > 0) co_await sleep_for(env_->executor(), mutable_->retry_backoff(attempt));
    const ServerMap map = co_await mutable_->update_servermap(keys->si, keys->fingerprint, servers);
    auto found = paged_base(map);
    if (!found.ok()) co_return found.status();
    const MutableVersion base = found->first;
    DirPageTree tree(found->second);
    Status read_failure;
    for (int depth = 0; depth < 64; ++depth) {
      auto next = tree.next_page_for(*normalized);
      if (!next.ok()) co_return next.status();
      if (!*next) break;
      const std::vector<std::uint64_t> want{**next};
      auto got = co_await mutable_->read_segments(map, keys->read_key, base, want);
      if (!got.ok()) {
        read_failure = got.status();
        break;
      }
      LAFS_CO_RETURN_IF_ERROR(tree.load(**next, got->at(**next)));
    }
    if (read_failure.code() == ErrorCode::kConflict) {
      last = read_failure;
      continue;
    }
    if (!read_failure.is_ok()) co_return read_failure;
    DirectoryEditor editor(&tree, write_key_of(dir), &env_->random(), WallTime{});
    auto e = editor.find(*normalized);
    if (!e.ok()) co_return e.status();
    if (!*e) co_return not_found("no entry named " + quoted(*normalized));
    co_return std::move(**e);
  }
  co_return conflict("the directory kept changing while being read: " + last.message());
}

Task<Status> DirectoryClient::add(cap::Cap dir, std::string name, cap::Cap child, bool replace,
                                  std::vector<ServerRef> servers,
                                  std::optional<std::uint64_t> size) {
  auto entry = make_entry(name, child, size);
  if (!entry.ok()) co_return entry.status();
  const DirectoryEntry e = std::move(*entry);
  const Edit edit = [&](DirectoryEditor& ed) { return ed.put(e, replace); };
  std::vector<std::string> names{e.name};
  co_return co_await change(dir, servers, std::move(names), edit);
}

Task<Status> DirectoryClient::remove(cap::Cap dir, std::string name,
                                     std::vector<ServerRef> servers) {
  auto normalized = normalize_entry_name(name);
  if (!normalized.ok()) co_return normalized.status();
  const std::string n = *normalized;
  const Edit edit = [&](DirectoryEditor& ed) {
    auto r = ed.remove(n);
    return r.ok() ? Status{} : r.status();
  };
  std::vector<std::string> names{n};
  co_return co_await change(dir, servers, std::move(names), edit);
}

Task<Status> DirectoryClient::rename(cap::Cap from_dir, std::string from_name, cap::Cap to_dir,
                                     std::string to_name, bool replace,
                                     std::vector<ServerRef> servers) {
  auto from = normalize_entry_name(from_name);
  if (!from.ok()) co_return from.status();
  auto to = normalize_entry_name(to_name);
  if (!to.ok()) co_return to.status();
  const std::string f = *from;
  const std::string t = *to;
  if (same_directory(from_dir, to_dir)) {
    if (f == t) {  // a no-op, but only for a name that exists
      auto e = co_await get(from_dir, f, servers);
      co_return e.ok() ? Status{} : e.status();
    }
    const Edit edit = [&](DirectoryEditor& ed) -> Status {
      auto moved = ed.remove(f);
      if (!moved.ok()) return moved.status();
      moved->name = t;
      return ed.put(std::move(*moved), replace, /*moved=*/true);
    };
    std::vector<std::string> names{f, t};
    co_return co_await change(from_dir, servers, std::move(names), edit);
  }
  // Across directories: the source must be writable too, checked before the target changes.
  if (!std::holds_alternative<cap::SskWriteCap>(from_dir.file) || !from_dir.directory) {
    co_return permission_denied("the source directory cap is not a writable directory");
  }
  auto entry = co_await get(from_dir, f, servers);
  if (!entry.ok()) co_return entry.status();
  DirectoryEntry moved = std::move(*entry);
  moved.name = t;
  const Edit add_to = [&](DirectoryEditor& ed) { return ed.put(moved, replace, /*moved=*/true); };
  std::vector<std::string> to_names{t};
  Status added = co_await change(to_dir, servers, std::move(to_names), add_to);
  if (!added.is_ok()) co_return added;
  const Edit remove_from = [&](DirectoryEditor& ed) {
    auto r = ed.remove(f);
    return r.ok() ? Status{} : r.status();
  };
  std::vector<std::string> from_names{f};
  co_return co_await change(from_dir, servers, std::move(from_names), remove_from);
}

Task<Result<cap::Cap>> DirectoryClient::mkdir(
    cap::Cap parent, std::string name, std::vector<ServerRef> servers,
    std::vector<std::pair<std::string, cap::Cap>> children) {
  auto normalized = normalize_entry_name(name);
  if (!normalized.ok()) co_return normalized.status();
  if (!std::holds_alternative<cap::SskWriteCap>(parent.file) || !parent.directory) {
    co_return permission_denied("the parent directory cap is not a writable directory");
  }
  auto existing = co_await get(parent, *normalized, servers);
  if (existing.ok()) {
    co_return already_exists("an entry named " + quoted(*normalized) + " already exists");
  }
  if (existing.status().code() != ErrorCode::kNotFound) co_return existing.status();
  auto made = co_await create(servers, std::move(children));
  if (!made.ok()) co_return made.status();
  Status linked = co_await add(parent, *normalized, *made, false, servers);
  if (!linked.is_ok()) co_return linked;
  co_return *made;
}

Task<Result<cap::Cap>> DirectoryClient::resolve(cap::Cap root, std::string path,
                                                std::vector<ServerRef> servers) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::size_t end = slash == std::string::npos ? path.size() : slash;
    const std::string part = path.substr(start, end - start);
    if (part.empty()) {
      if (slash == std::string::npos && !parts.empty()) break;  // one trailing '/'
      if (slash == std::string::npos && path.empty()) break;    // the root itself
      co_return invalid_argument("path " + quoted(path) + " has an empty component");
    }
    parts.push_back(part);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  cap::Cap here = root;
  std::string walked;
  for (const std::string& part : parts) {
    if (!here.directory) {
      co_return invalid_argument(quoted(walked) + " is a file, not a directory");
    }
    auto e = co_await get(here, part, servers);
    if (!e.ok()) {
      if (e.status().code() == ErrorCode::kNotFound) {
        co_return not_found("no " + quoted(walked.empty() ? part : walked + "/" + part));
      }
      co_return e.status();
    }
    here = e->write_cap ? *e->write_cap : e->read_cap;
    walked = walked.empty() ? e->name : walked + "/" + e->name;
  }
  co_return here;
}

}  // namespace lafs::client
