// The pure pieces of the file commands (core/node/aliases.h): the aliases file, path arguments,
// percent-encoding, node URLs and the safe-name check of `cp -r` from the grid.
#include "core/node/aliases.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lafs::node {
namespace {

// Known-answer caps (docs/specs/caps.md section 6).
const std::string kWk = "656encj5grkewdcwcedvgjhe5gfmo3judxundpvy3donzemxg4za";
const std::string kRk = "dkpu7druztd2snx5sf7wms3xtku5u2jaz54eoyiwoycpmt7bf54a";
const std::string kFp = "bg5wovuhiqaistvyxxt4dmqowdxlq6dynd5anyxfrvvuaf3iu6ia";
const std::string kDir = "lafs1:dir:" + kWk + ":" + kFp;
const std::string kDirRead = "lafs1:dir-read:" + kRk + ":" + kFp;
const std::string kDirVerify = "lafs1:dir-verify:cmtya73ynhfvfy3imuceecefie:" + kFp;
const std::string kSsk = "lafs1:ssk:" + kWk + ":" + kFp;
const std::string kChk =
    "lafs1:chk:aaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5dypq:"
    "eaqseizeeutcokbjfivsyljof4ydcmrtgq2tmnzyhe5dwpb5hy7q:3:10:1000000";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

Aliases two_aliases() {
  auto a = Aliases::parse("docs: " + kDir + "\npub: " + kDirRead + "\nlafs: " + kDir + "\n", "a");
  EXPECT_TRUE(a.ok()) << a.status().to_string();
  return *a;
}

TEST(Aliases, ParsesTahoeFormatWithCommentsAndBlanks) {
  auto a = Aliases::parse("# my aliases\n\n  docs :  " + kDir + "  \r\nwork-2_x:" + kDirRead +
                              "\n   # indented comment\nlit: lafs1:dir-lit:",
                          "aliases");
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  EXPECT_EQ(a->entries().size(), 3u);
  EXPECT_EQ(a->find("docs"), kDir);
  EXPECT_EQ(a->find("work-2_x"), kDirRead);
  EXPECT_EQ(a->find("lit"), "lafs1:dir-lit:");
  EXPECT_EQ(a->find("nope"), std::nullopt);
  auto again = Aliases::parse(a->format(), "again");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->entries(), a->entries());
  EXPECT_EQ(a->format(), "docs: " + kDir + "\nlit: lafs1:dir-lit:\nwork-2_x: " + kDirRead + "\n");
  EXPECT_TRUE(Aliases::parse("", "empty").ok());
}

TEST(Aliases, RefusalsNameTheFileAndLineAndNeverTheCap) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"docs\n", "aliases:1: expected 'NAME: CAP'"},
      {"docs: " + kDir + "\ndocs: " + kDirRead + "\n",
       "aliases:2: alias 'docs' is given twice (first on line 1)"},
      {"\n\nmy docs: " + kDir + "\n", "aliases:3: alias name 'my docs' contains ' '"},
      {": " + kDir + "\n", "aliases:1: an alias name cannot be empty"},
      {"lafs1: " + kDir + "\n", "aliases:1: alias name 'lafs1' looks like the start of a cap"},
      {"URI: " + kDir + "\n", "aliases:1: alias name 'URI' looks like the start of a cap"},
      {"docs: " + kChk + "\n", "aliases:1: alias 'docs': an alias names a directory"},
      {"docs: " + kSsk + "\n", "aliases:1: alias 'docs': an alias names a directory"},
      {"docs: " + kDirVerify + "\n", "aliases:1: alias 'docs': a verify cap cannot list"},
      {"docs: " + kDir + "x\n", "aliases:1: alias 'docs': malformed cap:"},
      {"docs: lafs2:dir:abc\n", "aliases:1: alias 'docs': unsupported cap: cap format version 2"},
      {"docs:\n", "aliases:1: alias 'docs': malformed cap: empty cap"},
      {std::string("docs: x\0\n", 9), "aliases:1: NUL byte"},
      {std::string(kAliasesLineBytesMax + 1, '#'), "aliases:1: line longer than 4096"},
  };
  for (const auto& [text, message] : bad) {
    auto a = Aliases::parse(text, "aliases");
    ASSERT_FALSE(a.ok()) << text;
    EXPECT_EQ(a.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(contains(a.status().message(), message)) << a.status().message();
    EXPECT_FALSE(contains(a.status().message(), kWk)) << a.status().message();
    EXPECT_FALSE(contains(a.status().message(), kRk)) << a.status().message();
  }
  EXPECT_FALSE(Aliases::parse(std::string(kAliasesBytesMax + 1, '\n'), "big").ok());
}

TEST(Aliases, AddChecksAndAppendKeepsTheUsersText) {
  Aliases a;
  EXPECT_TRUE(a.add("docs", kDir).is_ok());
  EXPECT_EQ(a.add("docs", kDirRead).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(a.add("bad name", kDir).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(a.add("LAFS2", kDir).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(a.add("x", kChk).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(a.add(std::string(kAliasNameBytesMax + 1, 'a'), kDir).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(a.add(std::string(kAliasNameBytesMax, 'a'), kDir).is_ok());
  EXPECT_TRUE(check_alias_name("lafs").is_ok());  // the default alias is not a cap prefix
  EXPECT_TRUE(check_alias_name("lafsx1").is_ok());
  EXPECT_TRUE(check_alias_name("uri2").is_ok());

  const std::string kept = "# mine\nzeta: " + kDir;  // no final newline
  const std::string text = append_alias_line(kept, "alpha", kDirRead);
  EXPECT_EQ(text, kept + "\nalpha: " + kDirRead + "\n");
  auto parsed = Aliases::parse(text, "aliases");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->find("alpha"), kDirRead);
  EXPECT_EQ(append_alias_line("", "a", kDir), "a: " + kDir + "\n");
}

TEST(PathArgument, AliasPaths) {
  const Aliases a = two_aliases();
  auto g = parse_grid_path("docs:photos/2024/a b.jpg", a);
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_EQ(g->root_cap, kDir);
  EXPECT_EQ(g->alias, "docs");
  EXPECT_EQ(g->names, (std::vector<std::string>{"photos", "2024", "a b.jpg"}));
  EXPECT_FALSE(g->trailing_slash);
  EXPECT_EQ(g->shown, "docs:photos/2024/a b.jpg");

  g = parse_grid_path("docs:", a);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->names.empty());
  EXPECT_EQ(g->shown, "docs:");

  g = parse_grid_path("docs:/a//b/./c/", a);  // empty components and "." are dropped
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(g->trailing_slash);
  EXPECT_EQ(g->shown, "docs:a/b/c/");

  g = parse_grid_path("docs:a/.", a);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->trailing_slash);

  g = parse_grid_path("docs:a:b", a);  // a colon inside a name
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->names, (std::vector<std::string>{"a:b"}));

  auto bad = parse_grid_path("docs:a/../b", a);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(contains(bad.status().message(), "'..' in a grid path"));
  bad = parse_grid_path("nope:a", a);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(contains(bad.status().message(), "unknown alias 'nope'"));
  EXPECT_FALSE(parse_grid_path("", a).ok());
}

TEST(PathArgument, DefaultAliasForGridOnlyArguments) {
  const Aliases a = two_aliases();
  auto g = parse_grid_path("photos/a.jpg", a);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->alias, "lafs");
  EXPECT_EQ(g->names, (std::vector<std::string>{"photos", "a.jpg"}));
  g = parse_grid_path("/", a);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->alias, "lafs");
  EXPECT_TRUE(g->names.empty());
  g = parse_grid_path("dir/x:y", a);  // '/' before the colon: not an alias
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->alias, "lafs");
  EXPECT_EQ(g->names, (std::vector<std::string>{"dir", "x:y"}));

  Aliases none;
  auto missing = parse_grid_path("a.txt", none);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(contains(missing.status().message(), "the default alias 'lafs' does not exist"));
}

TEST(PathArgument, CapPathsAreCheckedAndNeverEchoed) {
  const Aliases a = two_aliases();
  auto g = parse_grid_path(kDir + "/sub/file.txt", a);
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_EQ(g->root_cap, kDir);
  EXPECT_TRUE(g->alias.empty());
  EXPECT_EQ(g->names, (std::vector<std::string>{"sub", "file.txt"}));
  EXPECT_EQ(g->shown, "lafs1:dir:.../sub/file.txt");

  g = parse_grid_path(kChk, a);  // a file cap alone is fine
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->names.empty());
  EXPECT_EQ(g->shown, "lafs1:chk:...");

  const std::vector<std::pair<std::string, std::string>> bad = {
      {kChk + "/x", "a path below lafs1:chk:..., which is not a directory cap"},
      {kDir.substr(0, kDir.size() - 1), "malformed cap:"},
      {"lafs1:dir:" + kWk, "malformed cap:"},
      {"lafs2:dir:abc/x", "cap format version 2 is newer"},
      {"LAFS1:dir:" + kWk + ":" + kFp, "uppercase"},
      {"URI:DIR2:abc:def", "Tahoe-LAFS cap"},
  };
  for (const auto& [arg, message] : bad) {
    for (PathMode mode : {PathMode::kGridOnly, PathMode::kLocalOrGrid}) {
      auto p = parse_path_argument(arg, a, mode);
      ASSERT_FALSE(p.ok()) << arg;
      EXPECT_EQ(p.status().code(), ErrorCode::kInvalidArgument);
      EXPECT_TRUE(contains(p.status().message(), message)) << p.status().message();
      EXPECT_FALSE(contains(p.status().message(), kWk)) << p.status().message();
    }
  }
}

TEST(PathArgument, LocalOrGridFollowsTahoeRules) {
  const Aliases a = two_aliases();
  const auto local = [&a](const std::string& arg) {
    auto p = parse_path_argument(arg, a, PathMode::kLocalOrGrid);
    return p.ok() && std::holds_alternative<LocalPath>(*p) && std::get<LocalPath>(*p).path == arg;
  };
  const auto grid = [&a](const std::string& arg) {
    auto p = parse_path_argument(arg, a, PathMode::kLocalOrGrid);
    return p.ok() && std::holds_alternative<GridPath>(*p);
  };
  EXPECT_TRUE(local("file.txt"));
  EXPECT_TRUE(local("dir/sub"));
  EXPECT_TRUE(local("./docs:a"));     // a leading ./ forces local
  EXPECT_TRUE(local("/tmp/docs:a"));  // and so does /
  EXPECT_TRUE(local("../x:y"));
  EXPECT_TRUE(local("~/x:y"));
  EXPECT_TRUE(local("."));
  EXPECT_TRUE(local(".."));
  EXPECT_TRUE(local("dir/x:y"));  // '/' before the colon: not an alias
  EXPECT_TRUE(local("a.b:c"));    // not an alias name, so not an alias
  EXPECT_TRUE(local("my file:1"));
  EXPECT_TRUE(grid("docs:"));
  EXPECT_TRUE(grid("docs:a/b"));
  EXPECT_TRUE(grid(kDir));
  EXPECT_TRUE(grid(kDirRead + "/x"));
  // A valid alias name that is not an alias: refused, so that a typo does not become a local
  // file called "dcos:a" (Tahoe does the same). Windows-like "C:\x" too.
  for (const std::string arg : {"dcos:a", "C:\\x"}) {
    auto p = parse_path_argument(arg, a, PathMode::kLocalOrGrid);
    ASSERT_FALSE(p.ok()) << arg;
    EXPECT_TRUE(contains(p.status().message(), "unknown alias")) << p.status().message();
    EXPECT_TRUE(contains(p.status().message(), "./")) << p.status().message();
  }
}

TEST(PercentEncoding, EncodesAllButUnreservedAndRoundTrips) {
  EXPECT_EQ(percent_encode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(percent_encode("a b/c?d#e%f&g=h+i:j"), "a%20b%2Fc%3Fd%23e%25f%26g%3Dh%2Bi%3Aj");
  EXPECT_EQ(percent_encode("caf\xc3\xa9"), "caf%C3%A9");
  EXPECT_EQ(percent_encode(std::string("\0\xff", 2)), "%00%FF");
  EXPECT_EQ(*percent_decode("a%20b%2fc+%C3%a9"), "a b/c+\xc3\xa9");
  for (const std::string bad : {"%", "%2", "%zz", "a%g0"}) {
    EXPECT_EQ(percent_decode(bad).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(uri_path(kDir, {"a b", "c/d"}), "/uri/" + kDir + "/a%20b/c%2Fd");
  EXPECT_EQ(uri_path(kDir, {"a", "b", "c"}, 2), "/uri/" + kDir + "/a/b");
  EXPECT_EQ(uri_path(kDir, {}), "/uri/" + kDir);
}

TEST(NodeUrl, ParsesWhatANodeWritesAndRefusesTheRest) {
  auto u = parse_node_url("http://127.0.0.1:3456/\n");
  ASSERT_TRUE(u.ok()) << u.status().to_string();
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 3456);
  EXPECT_EQ(u->base_path, "/");
  EXPECT_EQ(u->text(), "http://127.0.0.1:3456/");
  u = parse_node_url("  HTTP://localhost  ");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->text(), "http://localhost:80/");
  u = parse_node_url("http://[::1]:8080/gw");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->base_path, "/gw/");
  EXPECT_EQ(u->text(), "http://[::1]:8080/gw/");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"https://127.0.0.1:3456/", "https is not supported"},
      {"ftp://x/", "does not start with http://"},
      {"127.0.0.1:3456", "does not start with http://"},
      {"http://user@host/", "no user"},
      {"http://host/?q", "no user, query"},
      {"http://host:0/", "port 0"},
      {"http://host:65536/", "port 65536"},
      {"http://host:/", "port ''"},
      {"http://host:12a/", "port '12a'"},
      {"http://::1:80/", "brackets"},
      {"http://[::1/", "'[' without ']'"},
      {"http://[::1]x/", "expected ':PORT'"},
      {"http://[abc]/", "bad host"},
      {"http:///", "bad host"},
      {"http://a_b/", "bad host"},
      {"", "does not start with http://"},
  };
  for (const auto& [text, message] : bad) {
    auto r = parse_node_url(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(contains(r.status().message(), message)) << text << ": " << r.status().message();
  }
}

TEST(SafeLocalName, RefusesNamesThatEscapeOrAliasTheDirectory) {
  for (const std::string good : {"a", "a.txt", ".hidden", "...", "a b", "caf\xc3\xa9", "a\\b"}) {
    EXPECT_TRUE(check_safe_local_name(good).is_ok()) << good;
  }
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "an empty entry name"},
      {".", "'.' names the directory itself"},
      {"..", "'..' names the parent directory"},
      {"/etc/passwd", "contains '/'"},
      {"a/../../b", "contains '/'"},
      {"x/", "contains '/'"},
      {std::string("a\0b", 3), "contains a NUL byte"},
  };
  for (const auto& [name, message] : bad) {
    const Status s = check_safe_local_name(name);
    ASSERT_FALSE(s.is_ok()) << name;
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(contains(s.message(), message)) << s.message();
  }
  EXPECT_EQ(printable_name("a\nb\x1b[2Jc\x7f"), "a?b?[2Jc?");
  EXPECT_EQ(printable_name("caf\xc3\xa9"), "caf\xc3\xa9");  // non-ASCII is left to the terminal
}

}  // namespace
}  // namespace lafs::node
