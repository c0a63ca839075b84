// A node's configuration: what `node.cfg` may say (docs/running-a-grid.md lists every key), the
// secrets under `private/`, and the introducer address that joins a node to a grid. Pure: the
// caller reads the files and passes their text; every error names the file, the key and the
// problem.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/client/immutable_client.h"
#include "core/net/handshake.h"
#include "core/net/node_key.h"
#include "core/node/ini.h"
#include "core/runtime/status.h"

namespace lafs::node {

inline constexpr std::string_view kConfigFileName = "node.cfg";
inline constexpr std::uint16_t kDefaultWebPort = 3456;
inline constexpr std::size_t kNicknameBytesMax = 64;

struct NodeConfig {
  std::string nickname;
  // Node-to-node listener (introducer, storage): "host:port"; port 0 picks one on first start
  // and keeps it (node.port) across restarts.
  std::string listen = "127.0.0.1:0";
  // The address other nodes are told (announcements, the introducer address); empty: the bound
  // listen address. Needed when listening on 0.0.0.0 or behind a NAT.
  std::string advertise;
  LogLevel log_level = LogLevel::kInfo;

  bool introducer = false;  // [introducer] enabled: this node is its grid's introducer
  bool storage = false;     // [storage] enabled
  bool client = false;      // [client] enabled: uploads, downloads and the web gateway

  // [client]
  std::string web_listen;  // the gateway, "127.0.0.1:3456" by default; empty: none
  // Host header values the gateway answers besides its own address (and localhost:PORT on
  // loopback), e.g. "lafs.example.org:443" behind a proxy: anything else is refused, so a web
  // page cannot reach the gateway through DNS rebinding.
  std::vector<std::string> web_hosts;
  client::EncodingParams encoding;
  std::uint64_t upload_bytes_max = std::uint64_t{1} << 40;  // one PUT's body at most
  // The maintenance agent (docs/checker.md): keeps the directories in private/aliases alive.
  struct Maintenance {
    bool enabled = true;
    std::uint64_t interval_hours = 24 * 7;  // 1 .. 14 days
    bool repair = true;
    bool verify = false;
    std::uint64_t batch_objects = 100;
    std::uint64_t batch_pause_ms = 1000;
    friend bool operator==(const Maintenance&, const Maintenance&) = default;
  } maintenance;

  // [storage]
  std::uint64_t reserved_space = 1ull << 30;
  bool read_only = false;
};

// Parses node.cfg (already parsed as INI): every key known, every value checked (encoding
// 1 <= k <= happy <= n <= 256, addresses well-formed, a node with at least one role).
Result<NodeConfig> parse_node_config(const IniFile& ini);

// The text of a new node.cfg with every key written out and commented, as create-node makes it.
std::string format_node_config(const NodeConfig& config);

// Where a grid's introducer is and how to prove membership: its node key and the grid secret,
// as one string a grid's operator hands to the nodes that join it (it is a secret: whoever
// holds it can use the grid's storage).
//   lafs-introducer:v1:<node key, 64 hex>:<grid secret, 64 hex>@<host:port>
struct IntroducerAddress {
  net::PublicKey key{};
  net::GridSecret grid_secret{};
  std::string address;  // host:port
};
Result<IntroducerAddress> parse_introducer_address(std::string_view text);
std::string format_introducer_address(const IntroducerAddress& a);

// A 32-byte secret stored as 64 hex digits and a newline (private/node.key holds the node key's
// seed, private/grid.secret the grid secret, private/convergence.secret and lease.secret the
// client's). `what` names the file in errors.
Result<std::array<std::uint8_t, 32>> parse_secret_file(std::string_view text,
                                                       const std::string& what);
std::string format_secret_file(std::span<const std::uint8_t, 32> secret);

}  // namespace lafs::node
