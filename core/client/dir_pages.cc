#include "core/client/dir_pages.h"

#include <algorithm>

namespace lafs::client {
namespace {

constexpr std::string_view kMagic = "lafsdir2";
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kRootHeaderBytes = 12;  // magic + version, page 0 only
constexpr std::uint8_t kLeaf = 1;
constexpr std::uint8_t kInternal = 2;
constexpr std::size_t kNodeHeaderBytes = 8;  // kind, 3 zero bytes, u32 count
constexpr std::size_t kNameBytesMax = 1024;  // far above the entry-name bound: a sanity check

void put_u(Bytes& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

class Reader {
 public:
  explicit Reader(ByteView b) : b_(b) {}
  bool take(std::size_t n, ByteView* out) {
    if (b_.size() - at_ < n) return false;
    *out = b_.subspan(at_, n);
    at_ += n;
    return true;
  }
  bool u(int bytes, std::uint64_t* v) {
    ByteView raw;
    if (!take(static_cast<std::size_t>(bytes), &raw)) return false;
    *v = 0;
    for (std::uint8_t c : raw) *v = (*v << 8) | c;
    return true;
  }
  bool string(std::string* s, std::size_t max) {
    std::uint64_t len = 0;
    ByteView raw;
    if (!u(2, &len) || len > max || !take(len, &raw)) return false;
    s->assign(raw.begin(), raw.end());
    return true;
  }

 private:
  ByteView b_;
  std::size_t at_ = 0;
};

std::size_t header_bytes(std::uint32_t page_id) {
  return (page_id == 0 ? kRootHeaderBytes : 0) + kNodeHeaderBytes;
}

}  // namespace

std::size_t dir_page_used(std::uint32_t page_id, const DirNode& node) {
  std::size_t n = header_bytes(page_id);
  if (const auto* leaf = std::get_if<DirLeaf>(&node)) {
    for (const auto& [name, entry] : leaf->entries) n += 2 + name.size() + 4 + entry.size();
  } else {
    const auto& in = std::get<DirInternal>(node);
    n += 4 * in.children.size();
    for (const auto& k : in.keys) n += 2 + k.size();
  }
  return n;
}

Result<Bytes> encode_dir_page(std::uint32_t page_id, const DirNode& node) {
  if (dir_page_used(page_id, node) > kDirPageBytes) {
    return internal_error("directory page " + std::to_string(page_id) + " overflows");
  }
  Bytes out;
  out.reserve(kDirPageBytes);
  if (page_id == 0) {
    out.insert(out.end(), kMagic.begin(), kMagic.end());
    put_u(out, kVersion, 4);
  }
  if (const auto* leaf = std::get_if<DirLeaf>(&node)) {
    put_u(out, kLeaf, 1);
    put_u(out, 0, 3);
    put_u(out, leaf->entries.size(), 4);
    for (const auto& [name, entry] : leaf->entries) {
      put_u(out, name.size(), 2);
      out.insert(out.end(), name.begin(), name.end());
      put_u(out, entry.size(), 4);
      out.insert(out.end(), entry.begin(), entry.end());
    }
  } else {
    const auto& in = std::get<DirInternal>(node);
    put_u(out, kInternal, 1);
    put_u(out, 0, 3);
    put_u(out, in.children.size(), 4);
    put_u(out, in.children[0], 4);
    for (std::size_t i = 0; i < in.keys.size(); ++i) {
      put_u(out, in.keys[i].size(), 2);
      out.insert(out.end(), in.keys[i].begin(), in.keys[i].end());
      put_u(out, in.children[i + 1], 4);
    }
  }
  out.resize(kDirPageBytes, 0);
  return out;
}

Result<DirNode> parse_dir_page(std::uint32_t page_id, ByteView page) {
  const std::string where = "directory page " + std::to_string(page_id);
  if (page.size() != kDirPageBytes) {
    return corruption(where + " is " + std::to_string(page.size()) + " bytes, not " +
                      std::to_string(kDirPageBytes));
  }
  Reader r(page);
  if (page_id == 0) {
    ByteView magic;
    std::uint64_t version = 0;
    if (!r.take(kMagic.size(), &magic) ||
        !std::equal(kMagic.begin(), kMagic.end(), magic.begin())) {
      return corruption("not a paged directory (bad magic)");
    }
    if (!r.u(4, &version) || version != kVersion) {
      return failed_precondition("directory page format version " + std::to_string(version) +
                                 " (this build reads version 1; upgrade lafs)");
    }
  }
  std::uint64_t kind = 0, zero = 0, count = 0;
  if (!r.u(1, &kind) || !r.u(3, &zero) || !r.u(4, &count) || zero != 0) {
    return corruption(where + ": bad node header");
  }
  if (kind == kLeaf) {
    DirLeaf leaf;
    for (std::uint64_t i = 0; i < count; ++i) {
      std::string name;
      std::uint64_t len = 0;
      ByteView entry;
      if (!r.string(&name, kNameBytesMax) || !r.u(4, &len) || len > kDirEntryBytesMax ||
          !r.take(len, &entry)) {
        return corruption(where + ": entry " + std::to_string(i) + " is truncated");
      }
      if (!leaf.entries.empty() && !(leaf.entries.back().first < name)) {
        return corruption(where + ": entries out of order");
      }
      leaf.entries.emplace_back(std::move(name), Bytes(entry.begin(), entry.end()));
    }
    return DirNode(std::move(leaf));
  }
  if (kind == kInternal) {
    DirInternal in;
    std::uint64_t child = 0;
    if (count < 2 || !r.u(4, &child)) return corruption(where + ": bad internal node");
    in.children.push_back(static_cast<std::uint32_t>(child));
    for (std::uint64_t i = 1; i < count; ++i) {
      std::string key;
      if (!r.string(&key, kNameBytesMax) || !r.u(4, &child)) {
        return corruption(where + ": internal node truncated");
      }
      if (!in.keys.empty() && !(in.keys.back() < key)) {
        return corruption(where + ": keys out of order");
      }
      in.keys.push_back(std::move(key));
      in.children.push_back(static_cast<std::uint32_t>(child));
    }
    return DirNode(std::move(in));
  }
  return corruption(where + ": unknown node kind " + std::to_string(kind));
}

DirPageTree DirPageTree::empty() {
  DirPageTree t(1);
  t.nodes_[0] = DirLeaf{};
  t.dirty_.insert(0);
  return t;
}

Status DirPageTree::load(std::uint32_t page_id, ByteView page) {
  if (page_id >= page_count_) return corruption("directory page id beyond the file");
  auto node = parse_dir_page(page_id, page);
  if (!node.ok()) return node.status();
  if (const auto* in = std::get_if<DirInternal>(&*node)) {
    for (std::uint32_t c : in->children) {
      if (c == 0 || c >= page_count_) {
        return corruption("directory page " + std::to_string(page_id) + " points at page " +
                          std::to_string(c));
      }
    }
  }
  nodes_[page_id] = std::move(*node);
  return Status{};
}

Result<std::optional<std::uint32_t>> DirPageTree::next_page_for(const std::string& name) const {
  std::uint32_t id = 0;
  for (std::size_t depth = 0; depth < 64; ++depth) {
    auto it = nodes_.find(id);
    if (it == nodes_.end()) return std::optional<std::uint32_t>(id);
    const auto* in = std::get_if<DirInternal>(&it->second);
    if (in == nullptr) return std::optional<std::uint32_t>();
    const auto pos = std::upper_bound(in->keys.begin(), in->keys.end(), name) - in->keys.begin();
    id = in->children[static_cast<std::size_t>(pos)];
  }
  return corruption("directory tree deeper than 64 levels (a cycle?)");
}

Result<std::vector<std::pair<std::uint32_t, std::size_t>>> DirPageTree::path(
    const std::string& name) const {
  std::vector<std::pair<std::uint32_t, std::size_t>> out;
  std::uint32_t id = 0;
  for (std::size_t depth = 0; depth < 64; ++depth) {
    auto it = nodes_.find(id);
    if (it == nodes_.end()) return failed_precondition("directory page not loaded");
    const auto* in = std::get_if<DirInternal>(&it->second);
    if (in == nullptr) {
      out.push_back({id, 0});
      return out;
    }
    const auto pos = static_cast<std::size_t>(
        std::upper_bound(in->keys.begin(), in->keys.end(), name) - in->keys.begin());
    out.push_back({id, pos});
    id = in->children[pos];
  }
  return corruption("directory tree deeper than 64 levels (a cycle?)");
}

Result<std::optional<Bytes>> DirPageTree::find(const std::string& name) const {
  auto p = path(name);
  if (!p.ok()) return p.status();
  const auto& leaf = std::get<DirLeaf>(nodes_.at(p->back().first));
  for (const auto& [n, e] : leaf.entries) {
    if (n == name) return std::optional<Bytes>(e);
  }
  return std::optional<Bytes>();
}

Status DirPageTree::put(const std::string& name, Bytes entry) {
  if (entry.size() > kDirEntryBytesMax) {
    return invalid_argument("directory entry of " + std::to_string(entry.size()) +
                            " bytes is larger than " + std::to_string(kDirEntryBytesMax));
  }
  auto p = path(name);
  if (!p.ok()) return p.status();
  auto& leaf = std::get<DirLeaf>(nodes_.at(p->back().first));
  auto it = std::lower_bound(leaf.entries.begin(), leaf.entries.end(), name,
                             [](const auto& e, const std::string& n) { return e.first < n; });
  if (it != leaf.entries.end() && it->first == name) {
    it->second = std::move(entry);
  } else {
    leaf.entries.insert(it, {name, std::move(entry)});
  }
  dirty_.insert(p->back().first);
  split_upwards(std::move(*p));
  return Status{};
}

Status DirPageTree::erase(const std::string& name) {
  auto p = path(name);
  if (!p.ok()) return p.status();
  auto& leaf = std::get<DirLeaf>(nodes_.at(p->back().first));
  auto it = std::find_if(leaf.entries.begin(), leaf.entries.end(),
                         [&](const auto& e) { return e.first == name; });
  if (it == leaf.entries.end()) return not_found("no entry named '" + name + "'");
  leaf.entries.erase(it);
  dirty_.insert(p->back().first);
  return Status{};
}

void DirPageTree::split_upwards(std::vector<std::pair<std::uint32_t, std::size_t>> path) {
  for (std::size_t level = path.size(); level-- > 0;) {
    const std::uint32_t id = path[level].first;
    DirNode& node = nodes_.at(id);
    if (dir_page_used(id, node) <= kDirPageBytes) return;
    DirNode left;
    DirNode right;
    std::string separator;
    if (auto* leaf = std::get_if<DirLeaf>(&node)) {
      // Split by bytes: the left half takes entries until it holds half of them.
      const std::size_t total = dir_page_used(id, node);
      std::size_t used = header_bytes(id);
      std::size_t cut = 0;
      while (cut + 1 < leaf->entries.size() && used < total / 2) {
        used += 6 + leaf->entries[cut].first.size() + leaf->entries[cut].second.size();
        ++cut;
      }
      cut = std::max<std::size_t>(cut, 1);
      DirLeaf l, r;
      l.entries.assign(leaf->entries.begin(),
                       leaf->entries.begin() + static_cast<std::ptrdiff_t>(cut));
      r.entries.assign(leaf->entries.begin() + static_cast<std::ptrdiff_t>(cut),
                       leaf->entries.end());
      separator = r.entries.front().first;
      left = std::move(l);
      right = std::move(r);
    } else {
      auto& in = std::get<DirInternal>(node);
      const std::size_t mid = in.keys.size() / 2;
      DirInternal l, r;
      l.children.assign(in.children.begin(),
                        in.children.begin() + static_cast<std::ptrdiff_t>(mid) + 1);
      l.keys.assign(in.keys.begin(), in.keys.begin() + static_cast<std::ptrdiff_t>(mid));
      separator = in.keys[mid];
      r.children.assign(in.children.begin() + static_cast<std::ptrdiff_t>(mid) + 1,
                        in.children.end());
      r.keys.assign(in.keys.begin() + static_cast<std::ptrdiff_t>(mid) + 1, in.keys.end());
      left = std::move(l);
      right = std::move(r);
    }
    if (id == 0) {
      // The root stays page 0: its halves move to two new pages under it.
      const std::uint32_t l_id = page_count_++;
      const std::uint32_t r_id = page_count_++;
      nodes_[l_id] = std::move(left);
      nodes_[r_id] = std::move(right);
      nodes_[0] = DirInternal{{l_id, r_id}, {separator}};
      dirty_.insert({0, l_id, r_id});
      return;
    }
    const std::uint32_t r_id = page_count_++;
    nodes_[id] = std::move(left);
    nodes_[r_id] = std::move(right);
    dirty_.insert({id, r_id});
    const auto [parent_id, child_index] = path[level - 1];
    auto& parent = std::get<DirInternal>(nodes_.at(parent_id));
    parent.children.insert(parent.children.begin() + static_cast<std::ptrdiff_t>(child_index) + 1,
                           r_id);
    parent.keys.insert(parent.keys.begin() + static_cast<std::ptrdiff_t>(child_index), separator);
    dirty_.insert(parent_id);
  }
}

Result<std::map<std::uint32_t, Bytes>> DirPageTree::dirty_pages() const {
  std::map<std::uint32_t, Bytes> out;
  for (std::uint32_t id : dirty_) {
    auto page = encode_dir_page(id, nodes_.at(id));
    if (!page.ok()) return page.status();
    out[id] = std::move(*page);
  }
  return out;
}

Result<std::vector<std::pair<std::string, Bytes>>> DirPageTree::all_entries() const {
  std::vector<std::pair<std::string, Bytes>> out;
  std::vector<std::pair<std::uint32_t, int>> stack{{0, 0}};
  std::set<std::uint32_t> seen;
  while (!stack.empty()) {
    const auto [id, depth] = stack.back();
    stack.pop_back();
    if (depth > 64 || !seen.insert(id).second) {
      return corruption("directory pages do not form a tree");
    }
    auto it = nodes_.find(id);
    if (it == nodes_.end()) return failed_precondition("directory page not loaded");
    if (const auto* leaf = std::get_if<DirLeaf>(&it->second)) {
      for (const auto& e : leaf->entries) {
        if (!out.empty() && !(out.back().first < e.first)) {
          return corruption("directory entries out of order across pages");
        }
        out.push_back(e);
      }
    } else {
      const auto& in = std::get<DirInternal>(it->second);
      for (auto c = in.children.rbegin(); c != in.children.rend(); ++c) {
        stack.push_back({*c, depth + 1});
      }
    }
  }
  return out;
}

}  // namespace lafs::client
