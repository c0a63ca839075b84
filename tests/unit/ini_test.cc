// The node config format (core/node/ini.h): what parses, and every refusal naming file, line,
// section, key and problem.
#include <gtest/gtest.h>

#include "core/node/ini.h"

namespace lafs::node {
namespace {

TEST(Ini, ParsesSectionsKeysCommentsAndTypedValues) {
  auto f = IniFile::parse(
      "# a node\n"
      "[node]\n"
      "nickname = alice smith \n"
      "  web.port=3456\n"
      "; comment\n"
      "\n"
      "[storage]\r\n"
      "enabled = Yes\n"
      "reserved_space = 10G\n"
      "quota = 512MiB\n"
      "empty =\n",
      "node.cfg");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(*f->get_string("node", "nickname", ""), "alice smith");
  EXPECT_EQ(*f->get_uint("node", "web.port", 0, 1, 65535), 3456u);
  EXPECT_TRUE(*f->get_bool("storage", "enabled", false));
  EXPECT_EQ(*f->get_size("storage", "reserved_space", 0), 10'000'000'000u);
  EXPECT_EQ(*f->get_size("storage", "quota", 0), 512u << 20);
  EXPECT_EQ(*f->get_string("storage", "empty", "x"), "");
  EXPECT_EQ(*f->get_uint("node", "absent", 7, 0, 10), 7u);
  EXPECT_TRUE(f->check_known({"node.nickname", "node.web.port", "storage.enabled",
                              "storage.reserved_space", "storage.quota", "storage.empty"})
                  .is_ok());
  auto again = IniFile::parse(f->format(), "again");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->format(), f->format());
}

TEST(Ini, RefusalsNameTheFileLineAndProblem) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"key = 1\n", "node.cfg:1: key 'key' comes before any [section]"},
      {"[a]\nx = 1\nx = 2\n", "node.cfg:3: [a] x is set twice (first on line 2)"},
      {"[a]\n[a]\n", "node.cfg:2: section [a] appears twice"},
      {"[a\n", "node.cfg:1: a section header must end with ']'"},
      {"[a]\njust words\n", "node.cfg:2: expected 'key = value'"},
      {"[a b]\n", "node.cfg:1: section name 'a b'"},
      {"[a]\nb c = 1\n", "node.cfg:2: key 'b c'"},
      {std::string("[a]\nx = 1\0\n", 11), "node.cfg:2: NUL byte"},
  };
  for (const auto& [text, message] : bad) {
    auto f = IniFile::parse(text, "node.cfg");
    ASSERT_FALSE(f.ok()) << text;
    EXPECT_EQ(f.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(f.status().message().find(message), std::string::npos) << f.status().message();
  }
  auto f = IniFile::parse("[node]\nport = 70000\nflag = maybe\nsize = 10X\ntypo = 1\n", "n.cfg");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->get_uint("node", "port", 0, 1, 65535).status().message(),
            "n.cfg:2: [node] port: 70000 is outside 1..65535");
  EXPECT_NE(f->get_bool("node", "flag", false).status().message().find("n.cfg:3: [node] flag:"),
            std::string::npos);
  EXPECT_NE(f->get_size("node", "size", 0).status().message().find("n.cfg:4: [node] size:"),
            std::string::npos);
  auto unknown = f->check_known({"node.port", "node.flag", "node.size"});
  EXPECT_NE(unknown.message().find("n.cfg:5: [node] typo: unknown key"), std::string::npos);
  EXPECT_FALSE(parse_size("99999999999999999999").ok());
  EXPECT_FALSE(parse_size("18446744073709551615T").ok());
  EXPECT_EQ(parse_size("1Ki").value_or(0), 1024u);
  EXPECT_FALSE(IniFile::parse(std::string(kIniBytesMax + 1, '#'), "big").ok());
}

}  // namespace
}  // namespace lafs::node
