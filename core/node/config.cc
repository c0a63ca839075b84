#include "core/node/config.h"

#include <cstring>
#include <set>

#include "core/crypto/hash.h"

namespace lafs::node {

namespace {

constexpr std::string_view kIntroducerPrefix = "lafs-introducer:v1:";

const std::set<std::string>& known_keys() {
  static const std::set<std::string> keys = {
      "node.nickname",
      "node.listen",
      "node.advertise",
      "node.log_level",
      "introducer.enabled",
      "client.enabled",
      "client.web.listen",
      "client.web.hosts",
      "client.shares.needed",
      "client.shares.happy",
      "client.shares.total",
      "client.segment_size",
      "client.upload_bytes_max",
      "storage.enabled",
      "storage.reserved_space",
      "storage.read_only",
      "client.maintenance.enabled",
      "client.maintenance.interval_hours",
      "client.maintenance.repair",
      "client.maintenance.verify",
      "client.maintenance.batch_objects",
      "client.maintenance.batch_pause_ms",
  };
  return keys;
}

// host:port with a numeric port; the host is checked by whoever binds or connects.
Status check_address(const IniFile& ini, const std::string& section, const std::string& key,
                     const std::string& value, bool allow_port_zero) {
  const std::size_t colon = value.rfind(':');
  const std::string where = ini.file_name() + ": [" + section + "] " + key + ": '" + value + "' ";
  if (colon == std::string::npos || colon == 0) {
    return invalid_argument(where + "is not host:port (example: 127.0.0.1:3456)");
  }
  for (char ch : value) {
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) {
      return invalid_argument(where + "contains a space or control character");
    }
  }
  const std::string port = value.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    return invalid_argument(where + "has no numeric port");
  }
  const unsigned long p = std::stoul(port);
  if (p > 65535 || (p == 0 && !allow_port_zero)) {
    return invalid_argument(where + "has port " + port + ", want 1.." + "65535" +
                            (allow_port_zero ? " or 0 (any)" : ""));
  }
  return Status{};
}

bool hex32(std::string_view hex, std::uint8_t* out) {
  Bytes b;
  if (hex.size() != 64 || !crypto::from_hex(hex, &b) || b.size() != 32) return false;
  std::memcpy(out, b.data(), 32);
  return true;
}

}  // namespace

Result<NodeConfig> parse_node_config(const IniFile& ini) {
  LAFS_RETURN_IF_ERROR(ini.check_known(known_keys()));
  NodeConfig c;
  LAFS_ASSIGN_OR_RETURN(c.nickname, ini.get_string("node", "nickname", ""));
  for (char ch : c.nickname) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      return invalid_argument(ini.file_name() + ": [node] nickname: control characters");
    }
  }
  if (c.nickname.size() > kNicknameBytesMax) {
    return invalid_argument(ini.file_name() + ": [node] nickname: longer than " +
                            std::to_string(kNicknameBytesMax) + " bytes");
  }
  LAFS_ASSIGN_OR_RETURN(c.listen, ini.get_string("node", "listen", c.listen));
  LAFS_RETURN_IF_ERROR(check_address(ini, "node", "listen", c.listen, true));
  LAFS_ASSIGN_OR_RETURN(c.advertise, ini.get_string("node", "advertise", ""));
  if (!c.advertise.empty()) {
    LAFS_RETURN_IF_ERROR(check_address(ini, "node", "advertise", c.advertise, false));
  }
  LAFS_ASSIGN_OR_RETURN(std::string level, ini.get_string("node", "log_level", "info"));
  if (level == "debug") {
    c.log_level = LogLevel::kDebug;
  } else if (level == "info") {
    c.log_level = LogLevel::kInfo;
  } else if (level == "warning") {
    c.log_level = LogLevel::kWarning;
  } else if (level == "error") {
    c.log_level = LogLevel::kError;
  } else {
    return invalid_argument(ini.file_name() + ": [node] log_level: '" + level +
                            "' is not one of debug, info, warning, error");
  }

  LAFS_ASSIGN_OR_RETURN(c.introducer, ini.get_bool("introducer", "enabled", false));
  LAFS_ASSIGN_OR_RETURN(c.storage, ini.get_bool("storage", "enabled", false));
  LAFS_ASSIGN_OR_RETURN(c.client, ini.get_bool("client", "enabled", false));
  if (c.introducer && (c.storage || c.client)) {
    return invalid_argument(ini.file_name() +
                            ": [introducer] enabled with [storage] or [client]: an introducer "
                            "runs alone (make another node for storage or a client)");
  }
  if (!c.introducer && !c.storage && !c.client) {
    return invalid_argument(ini.file_name() +
                            ": the node has no role: enable at least one of [introducer], "
                            "[storage], [client] (enabled = true)");
  }

  const std::string default_web = "127.0.0.1:" + std::to_string(kDefaultWebPort);
  LAFS_ASSIGN_OR_RETURN(c.web_listen, ini.get_string("client", "web.listen", default_web));
  if (!c.web_listen.empty()) {
    LAFS_RETURN_IF_ERROR(check_address(ini, "client", "web.listen", c.web_listen, true));
  }
  LAFS_ASSIGN_OR_RETURN(std::string hosts, ini.get_string("client", "web.hosts", ""));
  for (std::size_t at = 0; at < hosts.size();) {
    std::size_t comma = hosts.find(',', at);
    if (comma == std::string::npos) comma = hosts.size();
    std::string h = hosts.substr(at, comma - at);
    while (!h.empty() && h.front() == ' ') h.erase(h.begin());
    while (!h.empty() && h.back() == ' ') h.pop_back();
    if (!h.empty()) {
      LAFS_RETURN_IF_ERROR(check_address(ini, "client", "web.hosts", h, false));
      c.web_hosts.push_back(h);
    }
    at = comma + 1;
  }
  LAFS_ASSIGN_OR_RETURN(std::uint64_t total,
                        ini.get_uint("client", "shares.total", c.encoding.total, 1, 256));
  LAFS_ASSIGN_OR_RETURN(std::uint64_t happy,
                        ini.get_uint("client", "shares.happy", c.encoding.happy, 1, 256));
  LAFS_ASSIGN_OR_RETURN(std::uint64_t needed,
                        ini.get_uint("client", "shares.needed", c.encoding.needed, 1, 256));
  if (!(needed <= happy && happy <= total)) {
    return invalid_argument(ini.file_name() + ": [client] shares: want needed <= happy <= total, " +
                            "have needed " + std::to_string(needed) + ", happy " +
                            std::to_string(happy) + ", total " + std::to_string(total));
  }
  c.encoding.needed = static_cast<std::uint32_t>(needed);
  c.encoding.happy = static_cast<std::uint32_t>(happy);
  c.encoding.total = static_cast<std::uint32_t>(total);
  LAFS_ASSIGN_OR_RETURN(c.encoding.segment_size,
                        ini.get_size("client", "segment_size", c.encoding.segment_size));
  if (c.encoding.segment_size < 1024 || c.encoding.segment_size > client::kSegmentSizeMax) {
    return invalid_argument(ini.file_name() + ": [client] segment_size: want 1KiB.." +
                            std::to_string(client::kSegmentSizeMax >> 20) + "MiB");
  }
  LAFS_ASSIGN_OR_RETURN(c.upload_bytes_max,
                        ini.get_size("client", "upload_bytes_max", c.upload_bytes_max));

  LAFS_ASSIGN_OR_RETURN(c.maintenance.enabled,
                        ini.get_bool("client", "maintenance.enabled", c.maintenance.enabled));
  // At most two weeks: servers' leases last 31 days, and a renewal must come well before.
  LAFS_ASSIGN_OR_RETURN(c.maintenance.interval_hours,
                        ini.get_uint("client", "maintenance.interval_hours",
                                     c.maintenance.interval_hours, 1, 24 * 14));
  LAFS_ASSIGN_OR_RETURN(c.maintenance.repair,
                        ini.get_bool("client", "maintenance.repair", c.maintenance.repair));
  LAFS_ASSIGN_OR_RETURN(c.maintenance.verify,
                        ini.get_bool("client", "maintenance.verify", c.maintenance.verify));
  LAFS_ASSIGN_OR_RETURN(
      c.maintenance.batch_objects,
      ini.get_uint("client", "maintenance.batch_objects", c.maintenance.batch_objects, 1, 1000));
  LAFS_ASSIGN_OR_RETURN(c.maintenance.batch_pause_ms,
                        ini.get_uint("client", "maintenance.batch_pause_ms",
                                     c.maintenance.batch_pause_ms, 0, 3'600'000));

  LAFS_ASSIGN_OR_RETURN(c.reserved_space,
                        ini.get_size("storage", "reserved_space", c.reserved_space));
  LAFS_ASSIGN_OR_RETURN(c.read_only, ini.get_bool("storage", "read_only", false));
  return c;
}

std::string format_node_config(const NodeConfig& c) {
  auto yes = [](bool b) { return b ? "true" : "false"; };
  std::string level = "info";
  if (c.log_level == LogLevel::kDebug) level = "debug";
  if (c.log_level == LogLevel::kWarning) level = "warning";
  if (c.log_level == LogLevel::kError) level = "error";
  std::string s;
  s += "# lafs node configuration; every key is described in docs/running-a-grid.md.\n";
  s += "# Secrets live in private/, not here.\n\n";
  s += "[node]\n";
  s += "nickname = " + c.nickname + "\n";
  s += "# Node-to-node address (storage, introducer). Port 0: one is picked on first start and\n";
  s += "# kept in node.port.\n";
  s += "listen = " + c.listen + "\n";
  s += "# What other nodes are told to connect to; empty: the bound listen address.\n";
  s += "advertise = " + c.advertise + "\n";
  s += "log_level = " + level + "\n\n";
  s += "[introducer]\n";
  s += std::string("enabled = ") + yes(c.introducer) + "\n\n";
  s += "[storage]\n";
  s += std::string("enabled = ") + yes(c.storage) + "\n";
  s += "# Refuse new shares that would leave less free disk than this.\n";
  s += "reserved_space = " + std::to_string(c.reserved_space) + "\n";
  s += std::string("read_only = ") + yes(c.read_only) + "\n\n";
  s += "[client]\n";
  s += std::string("enabled = ") + yes(c.client) + "\n";
  s += "# The web gateway (docs/webapi.md). Keep it on loopback: caps are its only access "
       "control.\n";
  s += "web.listen = " + c.web_listen + "\n";
  s += "# Other Host names the gateway answers to (comma-separated host:port), e.g. behind a\n";
  s += "# proxy; any other Host header is refused (DNS rebinding).\n";
  std::string hosts;
  for (const std::string& h : c.web_hosts) hosts += (hosts.empty() ? "" : ", ") + h;
  s += "web.hosts = " + hosts + "\n";
  s += "# Erasure coding of uploads: any `needed` of `total` shares rebuild a file; an upload\n";
  s += "# fails unless its shares reach `happy` distinct servers.\n";
  s += "shares.needed = " + std::to_string(c.encoding.needed) + "\n";
  s += "shares.happy = " + std::to_string(c.encoding.happy) + "\n";
  s += "shares.total = " + std::to_string(c.encoding.total) + "\n";
  s += "segment_size = " + std::to_string(c.encoding.segment_size) + "\n";
  s += "upload_bytes_max = " + std::to_string(c.upload_bytes_max) + "\n";
  s += "# The maintenance agent (docs/checker.md): every interval it deep-checks each directory\n";
  s += "# in private/aliases, renewing this node's leases (servers collect shares whose leases\n";
  s += "# lapse: 31 days) and repairing what is unhealthy, batch_objects at a time with a pause.\n";
  s += std::string("maintenance.enabled = ") + yes(c.maintenance.enabled) + "\n";
  s += "maintenance.interval_hours = " + std::to_string(c.maintenance.interval_hours) + "\n";
  s += std::string("maintenance.repair = ") + yes(c.maintenance.repair) + "\n";
  s += std::string("maintenance.verify = ") + yes(c.maintenance.verify) + "\n";
  s += "maintenance.batch_objects = " + std::to_string(c.maintenance.batch_objects) + "\n";
  s += "maintenance.batch_pause_ms = " + std::to_string(c.maintenance.batch_pause_ms) + "\n";
  return s;
}

Result<IntroducerAddress> parse_introducer_address(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  const std::string hint =
      " (want lafs-introducer:v1:<64 hex node key>:<64 hex grid secret>@host:port)";
  if (text.substr(0, kIntroducerPrefix.size()) != kIntroducerPrefix) {
    return invalid_argument("introducer address: does not start with lafs-introducer:v1:" + hint);
  }
  text.remove_prefix(kIntroducerPrefix.size());
  const std::size_t at = text.find('@');
  if (at == std::string_view::npos) return invalid_argument("introducer address: no '@'" + hint);
  const std::string_view secrets = text.substr(0, at);
  const std::string_view where = text.substr(at + 1);
  if (secrets.size() != 129 || secrets[64] != ':') {
    return invalid_argument("introducer address: malformed key and secret" + hint);
  }
  IntroducerAddress a;
  if (!hex32(secrets.substr(0, 64), a.key.data())) {
    return invalid_argument("introducer address: the node key is not 64 hex digits" + hint);
  }
  if (!hex32(secrets.substr(65), a.grid_secret.data())) {
    return invalid_argument("introducer address: the grid secret is not 64 hex digits" + hint);
  }
  const std::size_t colon = where.rfind(':');
  if (where.empty() || colon == std::string_view::npos || colon == 0 || colon + 1 == where.size() ||
      where.substr(colon + 1).find_first_not_of("0123456789") != std::string_view::npos ||
      where.size() - colon - 1 > 5) {
    return invalid_argument("introducer address: '" + std::string(where) + "' is not host:port" +
                            hint);
  }
  a.address = std::string(where);
  return a;
}

std::string format_introducer_address(const IntroducerAddress& a) {
  return std::string(kIntroducerPrefix) + net::to_hex(ByteView(a.key.data(), a.key.size())) + ":" +
         net::to_hex(ByteView(a.grid_secret.data(), a.grid_secret.size())) + "@" + a.address;
}

Result<std::array<std::uint8_t, 32>> parse_secret_file(std::string_view text,
                                                       const std::string& what) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  std::array<std::uint8_t, 32> out{};
  if (!hex32(text, out.data())) {
    return invalid_argument(what + ": want 64 hex digits (a 32-byte secret)");
  }
  return out;
}

std::string format_secret_file(std::span<const std::uint8_t, 32> secret) {
  return net::to_hex(ByteView(secret.data(), secret.size())) + "\n";
}

}  // namespace lafs::node
