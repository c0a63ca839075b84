// The page format of a mutable directory: a B+tree of fixed-size pages, one page per segment of
// the directory's mutable file, so that adding or removing an entry rewrites one leaf page (and,
// on a split, its parent and a new page) whatever the directory's size. Pure: the pages are
// loaded and written by core/client/directory.cc through ranged mutable reads and writes.
// Spec: docs/specs/directory.md section 4.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "core/env/bytes.h"
#include "core/runtime/status.h"

namespace lafs::client {

inline constexpr std::size_t kDirPageBytes = 4096;
// An entry's encoded bytes at most: a leaf always holds at least four.
inline constexpr std::size_t kDirEntryBytesMax = 1000;

// One node: a leaf holds (name, encoded entry) sorted by name; an internal node holds children
// and the separating keys (keys[i] is the smallest name under children[i + 1]).
struct DirLeaf {
  std::vector<std::pair<std::string, Bytes>> entries;
};
struct DirInternal {
  std::vector<std::uint32_t> children;
  std::vector<std::string> keys;  // children.size() - 1
};
using DirNode = std::variant<DirLeaf, DirInternal>;

// Page bytes <-> node. Page 0 (the root, always) starts with the header `lafsdir2` + u32
// version 1. Corruption for anything malformed (a server cannot forge pages — they are signed
// and encrypted — but a buggy writer could have written them).
Result<DirNode> parse_dir_page(std::uint32_t page_id, ByteView page);
Result<Bytes> encode_dir_page(std::uint32_t page_id, const DirNode& node);
// The encoded size a node would have (to decide splits).
std::size_t dir_page_used(std::uint32_t page_id, const DirNode& node);

// The tree over pages some of which are loaded. Operations need the pages on the paths of the
// names they touch: `path_to(name)` says which page is needed next (nullopt once the leaf is
// loaded); the caller loads it with `load()` and asks again.
class DirPageTree {
 public:
  // A tree of `page_count` pages (>= 1) as stored.
  explicit DirPageTree(std::uint32_t page_count) : page_count_(page_count) {}
  // An empty directory: one empty root leaf, dirty.
  static DirPageTree empty();

  std::uint32_t page_count() const { return page_count_; }
  Status load(std::uint32_t page_id, ByteView page);
  bool loaded(std::uint32_t page_id) const { return nodes_.contains(page_id); }
  // The next page to load to reach `name`'s leaf, or nullopt when the path is loaded.
  Result<std::optional<std::uint32_t>> next_page_for(const std::string& name) const;

  // With the path of `name` loaded:
  Result<std::optional<Bytes>> find(const std::string& name) const;
  // Inserts or replaces (the caller decides replace semantics with find()). Splits full pages;
  // new pages get ids page_count(), page_count() + 1, ...
  Status put(const std::string& name, Bytes entry);
  // NotFound when absent.
  Status erase(const std::string& name);

  // Pages changed since loading, encoded.
  Result<std::map<std::uint32_t, Bytes>> dirty_pages() const;
  // Every entry in name order (all pages must be loaded).
  Result<std::vector<std::pair<std::string, Bytes>>> all_entries() const;

 private:
  Result<std::vector<std::pair<std::uint32_t, std::size_t>>> path(const std::string& name) const;
  void split_upwards(std::vector<std::pair<std::uint32_t, std::size_t>> path);

  std::uint32_t page_count_;
  std::map<std::uint32_t, DirNode> nodes_;
  std::set<std::uint32_t> dirty_;
};

}  // namespace lafs::client
