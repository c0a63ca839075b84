// The directory page tree (core/client/dir_pages.h) against a std::map model: random inserts,
// replacements and erases with names long and short; after every step the tree lists exactly
// the model, every page fits, a change dirties only a bounded number of pages, and the pages,
// encoded and parsed again, give the same tree.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>

#include "core/client/dir_pages.h"

namespace lafs::client {
namespace {

std::string gen_name() {
  const auto len = *rc::gen::inRange<std::size_t>(1, 120);
  std::string s;
  const std::string alphabet = "abcdefghij";
  for (std::size_t i = 0; i < len; ++i) {
    s.push_back(alphabet[*rc::gen::inRange<std::size_t>(0, alphabet.size())]);
  }
  return s;
}

// Loads every page of a tree's encoding into a fresh tree.
DirPageTree reload(const DirPageTree& tree, const std::map<std::uint32_t, Bytes>& store) {
  DirPageTree fresh(tree.page_count());
  for (std::uint32_t i = 0; i < tree.page_count(); ++i) {
    RC_ASSERT(fresh.load(i, store.at(i)).is_ok());
  }
  return fresh;
}

RC_GTEST_PROP(DirPagesProperty, TreeMatchesModelAndChangesStayLocal, ()) {
  std::map<std::string, Bytes> model;
  DirPageTree tree = DirPageTree::empty();
  std::map<std::uint32_t, Bytes> store = *tree.dirty_pages();
  const int steps = *rc::gen::inRange(1, 400);
  std::size_t max_dirty = 0;
  for (int i = 0; i < steps; ++i) {
    // Work on a tree loaded from the stored pages, as a client does.
    tree = reload(tree, store);
    const int op = *rc::gen::inRange(0, 4);
    std::string name = gen_name();
    if (op == 3 && !model.empty()) {
      auto it = model.begin();
      std::advance(it, *rc::gen::inRange<std::size_t>(0, model.size()));
      name = it->first;
      RC_ASSERT(tree.erase(name).is_ok());
      model.erase(name);
    } else if (op == 3) {
      RC_ASSERT(tree.erase(name).code() == ErrorCode::kNotFound);
    } else {
      const Bytes entry(*rc::gen::inRange<std::size_t>(1, kDirEntryBytesMax),
                        static_cast<std::uint8_t>(i));
      RC_ASSERT(tree.put(name, entry).is_ok());
      model[name] = entry;
    }
    auto dirty = tree.dirty_pages();
    RC_ASSERT(dirty.ok());
    max_dirty = std::max(max_dirty, dirty->size());
    for (auto& [id, page] : *dirty) {
      RC_ASSERT(page.size() == kDirPageBytes);
      store[id] = std::move(page);
    }
    auto found = tree.find(name);
    RC_ASSERT(found.ok());
    RC_ASSERT(found->has_value() == model.contains(name));
  }
  tree = reload(tree, store);
  auto all = tree.all_entries();
  RC_ASSERT(all.ok());
  RC_ASSERT(all->size() == model.size());
  auto m = model.begin();
  for (const auto& [name, entry] : *all) {
    RC_ASSERT(name == m->first);
    RC_ASSERT(entry == m->second);
    ++m;
  }
  // One change rewrites the leaf, and on splits one page per level plus the new pages.
  RC_ASSERT(max_dirty <= 2 * 8 + 1);
  RC_TAG(tree.page_count() > 20 ? "deep tree" : tree.page_count() > 1 ? "split" : "one page");
}

TEST(DirPages, OversizedEntriesAndGarbagePagesAreRefused) {
  DirPageTree tree = DirPageTree::empty();
  EXPECT_EQ(tree.put("x", Bytes(kDirEntryBytesMax + 1)).code(), ErrorCode::kInvalidArgument);
  auto pages = tree.dirty_pages();
  ASSERT_TRUE(pages.ok());
  Bytes root = pages->at(0);
  EXPECT_TRUE(parse_dir_page(0, root).ok());
  EXPECT_FALSE(parse_dir_page(0, Bytes(kDirPageBytes, 0)).ok());  // no magic
  EXPECT_FALSE(parse_dir_page(0, Bytes(100, 0)).ok());            // wrong size
  Bytes bad_kind = root;
  bad_kind[12] = 9;
  EXPECT_FALSE(parse_dir_page(0, bad_kind).ok());
  // An internal node pointing at the root, or past the end, is refused on load.
  DirInternal in{{0, 5}, {"m"}};
  auto cyclic = encode_dir_page(3, DirNode(in));
  ASSERT_TRUE(cyclic.ok());
  DirPageTree t4(4);
  EXPECT_EQ(t4.load(3, *cyclic).code(), ErrorCode::kCorruption);
  // Entries out of order are refused.
  DirLeaf leaf{{{"b", Bytes{1}}, {"a", Bytes{2}}}};
  auto unordered = encode_dir_page(1, DirNode(leaf));
  ASSERT_TRUE(unordered.ok());
  EXPECT_EQ(parse_dir_page(1, *unordered).status().code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace lafs::client
