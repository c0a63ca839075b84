// Directories (docs/specs/directory.md): entry names (NFC, refusals), the table's encryption of
// children's write caps, and every operation through simulated servers — including read-only
// traversal, immutable directories and deep paths.
#include <gtest/gtest.h>

#include "core/client/directory.h"
#include "net/sim/sim_random.h"
#include "tests/unit/sim_grid.h"

namespace lafs::client {
namespace {

using testing::Grid;

TEST(DirectoryName, NfcFormsAreOneName) {
  const std::string decomposed = "caf\x65\xcc\x81";  // "cafe" + U+0301 COMBINING ACUTE
  const std::string composed = "caf\xc3\xa9";        // "café" with U+00E9
  auto a = normalize_entry_name(decomposed);
  auto b = normalize_entry_name(composed);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, composed);
  EXPECT_EQ(*b, composed);
  // Already-normal names pass through unchanged, including non-Latin scripts and emoji.
  for (std::string s : {"plain.txt", "日本語のファイル", "\xf0\x9f\x98\x80 smile", "a b c", "-x"}) {
    auto n = normalize_entry_name(s);
    ASSERT_TRUE(n.ok()) << s;
    EXPECT_EQ(*n, s);
  }
  // Hangul jamo compose under NFC.
  auto hangul = normalize_entry_name("\xe1\x84\x80\xe1\x85\xa1");  // U+1100 U+1161
  ASSERT_TRUE(hangul.ok());
  EXPECT_EQ(*hangul, "\xea\xb0\x80");  // U+AC00
}

TEST(DirectoryName, BadNamesAreRefusedClearly) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "empty"},
      {"a/b", "'/'"},
      {"/", "'/'"},
      {std::string("a\0b", 3), "NUL"},
      {".", "reserved"},
      {"..", "reserved"},
      {"\xff\xfe", "UTF-8"},
      {"abc\xc3", "UTF-8"},       // truncated sequence
      {"\xed\xa0\x80", "UTF-8"},  // an encoded surrogate
      {std::string(256, 'x'), "longer than 255"},
      {std::string(128, '\xc3'), "UTF-8"},
  };
  for (const auto& [name, why] : bad) {
    auto n = normalize_entry_name(name);
    ASSERT_FALSE(n.ok()) << why;
    EXPECT_EQ(n.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(n.status().message().find(why), std::string::npos) << n.status().message();
  }
  EXPECT_TRUE(normalize_entry_name(std::string(255, 'x')).ok());
  // 128 two-byte characters: 256 bytes, one over.
  std::string wide;
  for (int i = 0; i < 128; ++i) wide += "\xc3\xa9";
  EXPECT_FALSE(normalize_entry_name(wide).ok());
}

cap::Cap mutable_cap_of(std::uint8_t b, bool directory) {
  crypto::SigningSeed seed;
  seed.mutable_view()[0] = b;
  return cap::Cap{cap::ssk_write_cap(crypto::SigningKey::from_seed(seed)), directory};
}

TEST(DirectoryTable, WriteCapsAreSealedAndOnlyTheWriterOpensThem) {
  sim::SimRandom random(1);
  const cap::Cap dir = mutable_cap_of(1, true);
  const crypto::WriteKey key = std::get<cap::SskWriteCap>(dir.file).write_key;
  DirectoryTable t;
  const cap::Cap child = mutable_cap_of(2, false);
  auto split = split_child_cap(child);
  ASSERT_TRUE(split.ok());
  ASSERT_TRUE(t.put({"file", split->first, split->second, {}}, false, WallTime{}).is_ok());
  auto bytes = t.serialize(key, random);
  ASSERT_TRUE(bytes.ok());
  const std::string text(bytes->begin(), bytes->end());
  EXPECT_EQ(text.find(cap::format_cap(child)), std::string::npos);  // never in the clear
  auto as_writer = DirectoryTable::parse(*bytes, key);
  ASSERT_TRUE(as_writer.ok());
  EXPECT_EQ(as_writer->find("file")->write_cap, child);
  auto as_reader = DirectoryTable::parse(*bytes, std::nullopt);
  ASSERT_TRUE(as_reader.ok());
  EXPECT_FALSE(as_reader->find("file")->write_cap.has_value());
  EXPECT_EQ(as_reader->find("file")->read_cap, *cap::read_cap(child));
  // Another directory's key does not open it: the entry is reported corrupt, not misread.
  const crypto::WriteKey other = std::get<cap::SskWriteCap>(mutable_cap_of(3, true).file).write_key;
  EXPECT_EQ(DirectoryTable::parse(*bytes, other).status().code(), ErrorCode::kCorruption);
  // An unchanged table re-serialises byte for byte (sealed entries are kept as they were).
  auto again = as_writer->serialize(key, random);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *bytes);
  // Garbage is an error, not an empty directory.
  EXPECT_FALSE(DirectoryTable::parse(as_bytes("\xff\xff\xff"), std::nullopt).ok());
}

struct DirGrid {
  Grid g{10};
  DirectoryClient dirs{g.client_node, g.mutable_client.get(), g.client.get()};

  template <typename T>
  T run(Task<T> t) {
    return g.run(std::move(t));
  }
  cap::Cap upload(std::string_view text) {
    auto up = g.run(g.client->upload(to_bytes(text), g.refs, EncodingParams{}));
    EXPECT_TRUE(up.ok());
    return up->cap;
  }
  std::vector<std::string> names(const cap::Cap& d) {
    auto l = run(dirs.list(d, g.refs));
    EXPECT_TRUE(l.ok()) << l.status().to_string();
    std::vector<std::string> out;
    if (l.ok())
      for (const auto& e : *l) out.push_back(e.name);
    return out;
  }
};

TEST(Directory, AddListGetReplaceRemove) {
  DirGrid d;
  auto root = d.run(d.dirs.create(d.g.refs));
  ASSERT_TRUE(root.ok()) << root.status().to_string();
  EXPECT_EQ(cap::format_cap(*root).rfind("lafs1:dir:", 0), 0u);
  EXPECT_TRUE(d.names(*root).empty());
  const cap::Cap small = d.upload("tiny");  // literal
  const cap::Cap big = d.upload(std::string(5000, 'b'));
  ASSERT_TRUE(d.run(d.dirs.add(*root, "small", small, false, d.g.refs)).is_ok());
  ASSERT_TRUE(d.run(d.dirs.add(*root, "big", big, false, d.g.refs)).is_ok());
  EXPECT_EQ(d.names(*root), (std::vector<std::string>{"big", "small"}));
  auto e = d.run(d.dirs.get(*root, "big", d.g.refs));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->read_cap, big);
  EXPECT_EQ(e->metadata.size, 5000u);
  EXPECT_FALSE(e->write_cap.has_value());
  const WallTime created = e->metadata.link_created;

  // replace=false refuses; replace=true replaces and keeps the creation time.
  Status clash = d.run(d.dirs.add(*root, "big", small, false, d.g.refs));
  EXPECT_EQ(clash.code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(clash.message().find("already exists"), std::string::npos);
  EXPECT_EQ(d.run(d.dirs.get(*root, "big", d.g.refs))->read_cap, big);
  ASSERT_TRUE(d.run(d.dirs.add(*root, "big", small, true, d.g.refs)).is_ok());
  auto replaced = d.run(d.dirs.get(*root, "big", d.g.refs));
  EXPECT_EQ(replaced->read_cap, small);
  EXPECT_EQ(replaced->metadata.link_created, created);

  ASSERT_TRUE(d.run(d.dirs.remove(*root, "big", d.g.refs)).is_ok());
  EXPECT_EQ(d.run(d.dirs.remove(*root, "big", d.g.refs)).code(), ErrorCode::kNotFound);
  EXPECT_EQ(d.names(*root), std::vector<std::string>{"small"});
  EXPECT_EQ(d.run(d.dirs.get(*root, "nope", d.g.refs)).status().code(), ErrorCode::kNotFound);
}

TEST(Directory, UnicodeNamesAreNormalisedAndUnique) {
  DirGrid d;
  auto root = d.run(d.dirs.create(d.g.refs));
  ASSERT_TRUE(root.ok());
  const cap::Cap f = d.upload("x");
  ASSERT_TRUE(d.run(d.dirs.add(*root, "caf\x65\xcc\x81", f, false, d.g.refs)).is_ok());
  // The composed spelling is the same entry: refused without replace, found by either form.
  EXPECT_EQ(d.run(d.dirs.add(*root, "caf\xc3\xa9", f, false, d.g.refs)).code(),
            ErrorCode::kAlreadyExists);
  EXPECT_TRUE(d.run(d.dirs.get(*root, "caf\xc3\xa9", d.g.refs)).ok());
  EXPECT_TRUE(d.run(d.dirs.get(*root, "caf\x65\xcc\x81", d.g.refs)).ok());
  EXPECT_EQ(d.names(*root), std::vector<std::string>{"caf\xc3\xa9"});
  for (std::string bad : {"", "a/b", ".", ".."}) {
    EXPECT_EQ(d.run(d.dirs.add(*root, bad, f, false, d.g.refs)).code(), ErrorCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(d.names(*root).size(), 1u);
}

TEST(Directory, RenameWithinAndAcrossDirectories) {
  DirGrid d;
  const cap::Cap f = d.upload("contents of f");
  auto a = d.run(d.dirs.create(d.g.refs, {{"f", f}, {"g", d.upload("g")}}));
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  auto b = d.run(d.dirs.create(d.g.refs));
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(d.run(d.dirs.rename(*a, "f", *a, "f2", false, d.g.refs)).is_ok());
  EXPECT_EQ(d.names(*a), (std::vector<std::string>{"f2", "g"}));
  // Onto an existing name without replace: refused, nothing changes.
  EXPECT_EQ(d.run(d.dirs.rename(*a, "f2", *a, "g", false, d.g.refs)).code(),
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(d.names(*a), (std::vector<std::string>{"f2", "g"}));
  ASSERT_TRUE(d.run(d.dirs.rename(*a, "f2", *b, "moved", false, d.g.refs)).is_ok());
  EXPECT_EQ(d.names(*a), std::vector<std::string>{"g"});
  EXPECT_EQ(d.names(*b), std::vector<std::string>{"moved"});
  EXPECT_EQ(d.run(d.dirs.get(*b, "moved", d.g.refs))->read_cap, f);
  EXPECT_EQ(d.run(d.dirs.rename(*a, "absent", *b, "x", false, d.g.refs)).code(),
            ErrorCode::kNotFound);
}

// A deep tree, walked by path with the write cap and with the read cap: the read cap's walk
// yields read caps all the way down and cannot change anything.
TEST(Directory, DeepPathsAndReadOnlyTraversal) {
  DirGrid d;
  auto root = d.run(d.dirs.create(d.g.refs));
  ASSERT_TRUE(root.ok());
  cap::Cap here = *root;
  for (const char* name : {"a", "b", "c", "d", "e", "f"}) {
    auto made = d.run(d.dirs.mkdir(here, name, d.g.refs));
    ASSERT_TRUE(made.ok()) << made.status().to_string();
    here = *made;
  }
  const cap::Cap leaf = d.upload("deep file contents");
  ASSERT_TRUE(d.run(d.dirs.add(here, "file.txt", leaf, false, d.g.refs)).is_ok());
  auto found = d.run(d.dirs.resolve(*root, "a/b/c/d/e/f/file.txt", d.g.refs));
  ASSERT_TRUE(found.ok()) << found.status().to_string();
  EXPECT_EQ(*found, leaf);
  auto deep_dir = d.run(d.dirs.resolve(*root, "a/b/c/", d.g.refs));
  ASSERT_TRUE(deep_dir.ok());
  EXPECT_EQ(deep_dir->authority(), cap::Authority::kWrite);
  EXPECT_EQ(d.run(d.dirs.resolve(*root, "a//b", d.g.refs)).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(d.run(d.dirs.resolve(*root, "a/x/c", d.g.refs)).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(d.run(d.dirs.resolve(*root, "a/b/c/d/e/f/file.txt/more", d.g.refs)).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(d.run(d.dirs.mkdir(*root, "a", d.g.refs)).status().code(), ErrorCode::kAlreadyExists);

  const cap::Cap read_root = *cap::read_cap(*root);
  auto ro = d.run(d.dirs.resolve(read_root, "a/b/c", d.g.refs));
  ASSERT_TRUE(ro.ok());
  EXPECT_EQ(ro->authority(), cap::Authority::kRead);
  EXPECT_TRUE(ro->directory);
  auto listed = d.run(d.dirs.list(*ro, d.g.refs));
  ASSERT_TRUE(listed.ok());
  for (const auto& e : *listed) EXPECT_FALSE(e.write_cap.has_value());
  EXPECT_EQ(d.run(d.dirs.add(*ro, "x", leaf, false, d.g.refs)).code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(d.run(d.dirs.remove(read_root, "a", d.g.refs)).code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(d.run(d.dirs.mkdir(read_root, "new", d.g.refs)).status().code(),
            ErrorCode::kPermissionDenied);
  auto ro_file = d.run(d.dirs.resolve(read_root, "a/b/c/d/e/f/file.txt", d.g.refs));
  ASSERT_TRUE(ro_file.ok());
  EXPECT_EQ(*ro_file, leaf);
  // A verify cap cannot list at all.
  EXPECT_EQ(d.run(d.dirs.list(*cap::verify_cap(*root), d.g.refs)).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(Directory, MutableChildrenKeepTheirWriteCapsForWritersOnly) {
  DirGrid d;
  auto file = d.g.run(d.g.mutable_client->create(to_bytes("mutable child"), d.g.refs,
                                                 MutableParams{3, 10, 4096, 0}, 7));
  ASSERT_TRUE(file.ok());
  const cap::Cap child{*file, false};
  auto root = d.run(d.dirs.create(d.g.refs, {{"m", child}}));
  ASSERT_TRUE(root.ok()) << root.status().to_string();
  auto as_writer = d.run(d.dirs.get(*root, "m", d.g.refs));
  ASSERT_TRUE(as_writer.ok());
  EXPECT_EQ(as_writer->write_cap, child);
  auto as_reader = d.run(d.dirs.get(*cap::read_cap(*root), "m", d.g.refs));
  ASSERT_TRUE(as_reader.ok());
  EXPECT_FALSE(as_reader->write_cap.has_value());
  EXPECT_EQ(as_reader->read_cap, *cap::read_cap(child));
}

TEST(Directory, ImmutableDirectoriesHoldOnlyImmutableChildren) {
  DirGrid d;
  const cap::Cap a = d.upload("a");
  const cap::Cap b = d.upload(std::string(3000, 'b'));
  auto dir = d.run(d.dirs.create_immutable(d.g.refs, {{"a", a}, {"b", b}}));
  ASSERT_TRUE(dir.ok()) << dir.status().to_string();
  EXPECT_EQ(cap::format_cap(*dir).rfind("lafs1:dir-chk:", 0), 0u);
  EXPECT_EQ(d.names(*dir), (std::vector<std::string>{"a", "b"}));
  auto inner = d.run(d.dirs.create_immutable(d.g.refs, {{"dir", *dir}}));
  ASSERT_TRUE(inner.ok());
  EXPECT_EQ(d.run(d.dirs.resolve(*inner, "dir/b", d.g.refs)).value_or(a), b);
  EXPECT_EQ(d.run(d.dirs.add(*dir, "c", a, false, d.g.refs)).code(), ErrorCode::kPermissionDenied);
  auto mutable_dir = d.run(d.dirs.create(d.g.refs));
  ASSERT_TRUE(mutable_dir.ok());
  auto refused = d.run(d.dirs.create_immutable(d.g.refs, {{"m", *mutable_dir}}));
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
  auto refused_ro = d.run(d.dirs.create_immutable(d.g.refs, {{"m", *cap::read_cap(*mutable_dir)}}));
  EXPECT_EQ(refused_ro.status().code(), ErrorCode::kInvalidArgument);
  // An empty immutable directory is a literal.
  auto empty = d.run(d.dirs.create_immutable(d.g.refs, {}));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(cap::format_cap(*empty).rfind("lafs1:dir-lit:", 0), 0u);
  EXPECT_TRUE(d.names(*empty).empty());
}

TEST(Directory, DuplicateChildrenAtCreationAreRefused) {
  DirGrid d;
  const cap::Cap a = d.upload("a");
  auto dup = d.run(d.dirs.create(d.g.refs, {{"x", a}, {"x", a}}));
  EXPECT_EQ(dup.status().code(), ErrorCode::kAlreadyExists);
  auto nfc_dup = d.run(d.dirs.create(d.g.refs, {{"caf\xc3\xa9", a}, {"caf\x65\xcc\x81", a}}));
  EXPECT_EQ(nfc_dup.status().code(), ErrorCode::kAlreadyExists);
}

}  // namespace
}  // namespace lafs::client

namespace lafs::client {
namespace {

// Pinned (docs/specs/directory.md section 4): the bytes of a root leaf page and of an internal
// page.
TEST(DirectoryPages, KnownAnswer) {
  DirLeaf leaf{{{"a", Bytes{0x01, 0x02}}, {"bc", Bytes{0x03}}}};
  auto root = encode_dir_page(0, DirNode(leaf));
  ASSERT_TRUE(root.ok());
  ASSERT_EQ(root->size(), kDirPageBytes);
  EXPECT_EQ(crypto::to_hex(ByteView(*root).subspan(0, 38)),
            "6c61667364697232"  // lafsdir2
            "00000001"          // version 1
            "01000000"
            "00000002"  // leaf, 2 entries
            "0001"
            "61"
            "00000002"
            "0102"
            "0002"
            "6263"
            "00000001"
            "03");
  EXPECT_TRUE(std::all_of(root->begin() + 38, root->end(), [](std::uint8_t b) { return b == 0; }));
  DirInternal in{{1, 2}, {"m"}};
  auto page = encode_dir_page(3, DirNode(in));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(crypto::to_hex(ByteView(*page).subspan(0, 19)),
            "02000000"
            "00000002"
            "00000001"
            "0001"
            "6d"
            "00000002");
  auto back = parse_dir_page(3, *page);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::get<DirInternal>(*back).keys, std::vector<std::string>{"m"});
}

}  // namespace
}  // namespace lafs::client
