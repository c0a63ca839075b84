// node.cfg, the introducer address and the secret files (core/node/config.h): what is accepted,
// defaults, and every refusal naming the file, key and problem.
#include "core/node/config.h"

#include <gtest/gtest.h>

namespace lafs::node {
namespace {

Result<NodeConfig> parse(const std::string& text) {
  auto ini = IniFile::parse(text, "node.cfg");
  if (!ini.ok()) return ini.status();
  return parse_node_config(*ini);
}

TEST(NodeConfig, DefaultsAndRoles) {
  auto c = parse("[client]\nenabled = true\n");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_TRUE(c->client);
  EXPECT_FALSE(c->storage);
  EXPECT_EQ(c->web_listen, "127.0.0.1:3456");  // loopback unless told otherwise
  EXPECT_EQ(c->listen, "127.0.0.1:0");
  EXPECT_EQ(c->encoding.needed, 3u);
  EXPECT_EQ(c->encoding.happy, 7u);
  EXPECT_EQ(c->encoding.total, 10u);
  EXPECT_EQ(c->log_level, LogLevel::kInfo);
}

TEST(NodeConfig, FormatRoundTrips) {
  NodeConfig c;
  c.nickname = "n1";
  c.storage = true;
  c.client = true;
  c.listen = "0.0.0.0:4000";
  c.advertise = "192.0.2.7:4000";
  c.web_listen = "";
  c.web_hosts = {"lafs.example.org:443", "10.0.0.2:3456"};
  c.encoding = {2, 4, 6, 256 * 1024};
  c.reserved_space = 5'000'000'000;
  c.read_only = true;
  c.log_level = LogLevel::kWarning;
  auto back = parse(format_node_config(c));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->nickname, "n1");
  EXPECT_EQ(back->listen, c.listen);
  EXPECT_EQ(back->advertise, c.advertise);
  EXPECT_EQ(back->web_listen, "");
  EXPECT_EQ(back->web_hosts, c.web_hosts);
  EXPECT_EQ(back->encoding.needed, 2u);
  EXPECT_EQ(back->encoding.happy, 4u);
  EXPECT_EQ(back->encoding.total, 6u);
  EXPECT_EQ(back->encoding.segment_size, 256u * 1024);
  EXPECT_EQ(back->reserved_space, c.reserved_space);
  EXPECT_TRUE(back->read_only);
  EXPECT_TRUE(back->storage && back->client && !back->introducer);
  EXPECT_EQ(back->log_level, LogLevel::kWarning);
}

TEST(NodeConfig, RefusalsNameTheFileKeyAndProblem) {
  struct Case {
    std::string text, says;
  };
  const std::vector<Case> cases = {
      {"[node]\nnickname = x\n", "no role"},
      {"[introducer]\nenabled = true\n[client]\nenabled = true\n", "runs alone"},
      {"[introducer]\nenabled = true\n[storage]\nenabled = true\n", "runs alone"},
      {"[client]\nenabled = yes please\n", "[client] enabled"},
      {"[client]\nenabled = true\nshares.needed = 8\nshares.happy = 7\n", "needed <= happy"},
      {"[client]\nenabled = true\nshares.total = 300\n", "shares.total"},
      {"[client]\nenabled = true\nweb.listen = localhost\n", "[client] web.listen"},
      {"[client]\nenabled = true\nweb.listen = 127.0.0.1:99999\n", "port 99999"},
      {"[client]\nenabled = true\nweb.hosts = a.example:1, nonsense\n", "web.hosts"},
      {"[storage]\nenabled = true\nreserved_space = lots\n", "reserved_space"},
      {"[storage]\nenabled = true\nreserverd_space = 1G\n", "reserverd_space"},  // a typo
      {"[node]\nlog_level = loud\n[storage]\nenabled = true\n", "log_level"},
      {"[node]\nadvertise = 10.0.0.1:0\n[storage]\nenabled = true\n", "advertise"},
      {"[client]\nenabled = true\nsegment_size = 10\n", "segment_size"},
      {"[node]\nnickname = " + std::string(65, 'x') + "\n[storage]\nenabled = true\n", "nickname"},
  };
  for (const Case& c : cases) {
    auto r = parse(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("node.cfg"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(c.says), std::string::npos)
        << c.says << " in " << r.status().message();
  }
}

TEST(IntroducerAddress, RoundTripsAndRefusesMalformedOnes) {
  IntroducerAddress a;
  for (std::size_t i = 0; i < 32; ++i) {
    a.key[i] = static_cast<std::uint8_t>(i);
    a.grid_secret[i] = static_cast<std::uint8_t>(0xff - i);
  }
  a.address = "127.0.0.1:4567";
  const std::string text = format_introducer_address(a);
  EXPECT_EQ(text.rfind("lafs-introducer:v1:000102", 0), 0u);
  auto back = parse_introducer_address(text + "\n");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->key, a.key);
  EXPECT_EQ(back->grid_secret, a.grid_secret);
  EXPECT_EQ(back->address, a.address);

  const std::string key(64, 'a'), secret(64, 'b');
  for (const std::string& bad : {
           std::string(""),
           "lafs-introducer:v2:" + key + ":" + secret + "@h:1",
           "lafs-introducer:v1:" + key + ":" + secret,
           "lafs-introducer:v1:" + key + secret + "@h:1",
           "lafs-introducer:v1:" + key.substr(2) + ":" + secret + "@h:1",
           "lafs-introducer:v1:" + std::string(64, 'g') + ":" + secret + "@h:1",
           "lafs-introducer:v1:" + key + ":" + secret + "@h",
           "lafs-introducer:v1:" + key + ":" + secret + "@:1",
           "lafs-introducer:v1:" + key + ":" + secret + "@h:123456",
           "lafs-introducer:v1:" + key + ":" + secret + "@h:x1",
       }) {
    auto r = parse_introducer_address(bad);
    EXPECT_FALSE(r.ok()) << bad;
    // A refusal never repeats the secret.
    EXPECT_EQ(r.status().message().find(secret), std::string::npos);
  }
}

TEST(SecretFile, HexOfExactly32Bytes) {
  std::array<std::uint8_t, 32> s{};
  s[0] = 0xab;
  s[31] = 0x01;
  auto back = parse_secret_file(format_secret_file(s), "private/node.key");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, s);
  for (const std::string& bad :
       {std::string(""), std::string(63, 'a'), std::string(66, 'a'), std::string(64, 'z')}) {
    auto r = parse_secret_file(bad, "private/node.key");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("private/node.key"), std::string::npos);
  }
}

}  // namespace
}  // namespace lafs::node
