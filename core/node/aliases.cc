// The aliases file, path arguments, node URLs and name checks of the file commands (aliases.h).
#include "core/node/aliases.h"

#include <algorithm>
#include <utility>

#include "core/cap/cap.h"

namespace lafs::node {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_alias_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-';
}

// A name or other short user text quoted for a message: printable, cut after 40 bytes.
std::string quoted(std::string_view s) {
  constexpr std::size_t kShownBytesMax = 40;
  std::string out = "'" + printable_name(s.substr(0, kShownBytesMax));
  if (s.size() > kShownBytesMax) out += "...";
  return out + "'";
}

// "lafs" + digits (any case) or "uri": what a cap's text starts with before its first ':'.
bool is_cap_prefix(std::string_view s) {
  if (s.size() == 3 && lower(s[0]) == 'u' && lower(s[1]) == 'r' && lower(s[2]) == 'i') return true;
  if (s.size() < 5) return false;
  if (lower(s[0]) != 'l' || lower(s[1]) != 'a' || lower(s[2]) != 'f' || lower(s[3]) != 's') {
    return false;
  }
  return std::all_of(s.begin() + 4, s.end(), is_digit);
}

// Whether `arg` starts like a cap: a cap prefix then ':'. Any case, so that "LAFS1:..." gets the
// cap parser's message about case rather than "unknown alias".
bool starts_like_cap(std::string_view arg) {
  const std::size_t colon = arg.find(':');
  return colon != std::string_view::npos && is_cap_prefix(arg.substr(0, colon));
}

bool forced_local(std::string_view arg) {
  return arg == "." || arg == ".." || arg.starts_with("/") || arg.starts_with("./") ||
         arg.starts_with("../") || arg.starts_with("~");
}

struct SplitPath {
  std::vector<std::string> names;
  bool trailing_slash = false;
};

Result<SplitPath> split_grid_path(std::string_view path) {
  SplitPath out;
  std::size_t at = 0;
  std::string_view last;
  while (at <= path.size()) {
    const std::size_t slash = std::min(path.find('/', at), path.size());
    const std::string_view part = path.substr(at, slash - at);
    last = part;
    if (part == "..") {
      return invalid_argument(
          "'..' in a grid path: a directory on the grid has no parent (name "
          "the directory you mean from its alias or cap)");
    }
    if (!part.empty() && part != ".") out.names.emplace_back(part);
    at = slash + 1;
  }
  out.trailing_slash = !path.empty() && (last.empty() || last == ".");
  return out;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += '/';
    out += printable_name(n);
  }
  return out;
}

Result<GridPath> under_alias(std::string_view alias, std::string_view path, const Aliases& aliases,
                             bool alias_given) {
  const auto cap = aliases.find(alias);
  if (!cap) {
    if (!alias_given) {
      return invalid_argument("no alias given, and the default alias '" +
                              std::string(kDefaultAlias) + "' does not exist (create it with " +
                              "'lafs create-alias " + std::string(kDefaultAlias) +
                              "', or write ALIAS:PATH)");
    }
    return invalid_argument("unknown alias " + quoted(alias) +
                            " ('lafs list-aliases' shows them; write a local path with a colon as "
                            "./" +
                            printable_name(alias) + ":...)");
  }
  auto split = split_grid_path(path);
  if (!split.ok()) return split.status();
  GridPath g;
  g.root_cap = *cap;
  g.alias = std::string(alias);
  g.names = std::move(split->names);
  g.trailing_slash = split->trailing_slash;
  g.shown = g.alias + ":" + join_names(g.names) + (g.trailing_slash && !g.names.empty() ? "/" : "");
  return g;
}

Result<GridPath> under_cap(std::string_view arg) {
  const std::size_t slash = std::min(arg.find('/'), arg.size());
  const std::string_view cap_text = arg.substr(0, slash);
  const auto cap = cap::parse_cap(cap_text);
  if (!cap.ok()) return invalid_argument(cap.status().message());
  auto split = split_grid_path(slash < arg.size() ? arg.substr(slash + 1) : std::string_view());
  if (!split.ok()) return split.status();
  GridPath g;
  g.root_cap = std::string(cap_text);
  g.names = std::move(split->names);
  g.trailing_slash = split->trailing_slash;
  g.shown = cap_for_messages(cap_text);
  if (!g.names.empty()) g.shown += "/" + join_names(g.names);
  if (!g.names.empty() && !cap->directory) {
    return invalid_argument("a path below " + cap_for_messages(cap_text) +
                            ", which is not a directory cap (only directories have children)");
  }
  return g;
}

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool valid_host(std::string_view host, bool bracketed) {
  if (host.empty()) return false;
  if (bracketed && host.find(':') == std::string_view::npos) return false;  // not IPv6
  return std::all_of(host.begin(), host.end(), [bracketed](char c) {
    if (bracketed) return hex_value(c) >= 0 || c == ':' || c == '.';
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' || c == '-';
  });
}

Result<std::uint16_t> parse_port(std::string_view text, std::string_view url) {
  if (text.empty() || text.size() > 5 || !std::all_of(text.begin(), text.end(), is_digit)) {
    return invalid_argument("node URL " + quoted(url) + ": port " + quoted(text) +
                            " is not a number from 1 to 65535");
  }
  std::uint32_t port = 0;
  for (char c : text) port = port * 10 + static_cast<std::uint32_t>(c - '0');
  if (port == 0 || port > 65535) {
    return invalid_argument("node URL " + quoted(url) + ": port " + std::to_string(port) +
                            " is not from 1 to 65535");
  }
  return static_cast<std::uint16_t>(port);
}

}  // namespace

Status check_alias_name(std::string_view name) {
  if (name.empty()) return invalid_argument("an alias name cannot be empty");
  if (name.size() > kAliasNameBytesMax) {
    return invalid_argument("alias name " + quoted(name) + " is longer than " +
                            std::to_string(kAliasNameBytesMax) + " characters");
  }
  const auto bad = std::find_if_not(name.begin(), name.end(), is_alias_char);
  if (bad != name.end()) {
    return invalid_argument("alias name " + quoted(name) + " contains " +
                            quoted(std::string_view(&*bad, 1)) +
                            " (alias names are letters, digits, '_' and '-')");
  }
  if (is_cap_prefix(name)) {
    return invalid_argument("alias name " + quoted(name) +
                            " looks like the start of a cap ('lafs1:...'), so 'NAME:' would be "
                            "read as a cap");
  }
  return Status{};
}

Status check_alias_cap(std::string_view text) {
  const auto cap = cap::parse_cap(text);
  if (!cap.ok()) return invalid_argument(cap.status().message());
  if (!cap->directory) {
    return invalid_argument("an alias names a directory, and this is a " +
                            std::string(cap::cap_kind_description(cap->kind())) + " cap (" +
                            cap_for_messages(text) + ")");
  }
  if (cap->authority() == cap::Authority::kVerify) {
    return invalid_argument(
        "a verify cap cannot list a directory; an alias needs a directory's write or read cap");
  }
  return Status{};
}

Result<Aliases> Aliases::parse(std::string_view text, std::string file_name) {
  if (text.size() > kAliasesBytesMax) {
    return invalid_argument(file_name + ": " + std::to_string(text.size()) +
                            " bytes, more than an aliases file may have (" +
                            std::to_string(kAliasesBytesMax) + ")");
  }
  Aliases out;
  std::map<std::string, std::size_t, std::less<>> first_line;
  std::size_t line_no = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t nl = std::min(text.find('\n', at), text.size());
    const std::string_view raw = text.substr(at, nl - at);
    at = nl + 1;
    ++line_no;
    const std::string here = file_name + ":" + std::to_string(line_no) + ": ";
    if (raw.size() > kAliasesLineBytesMax) {
      return invalid_argument(here + "line longer than " + std::to_string(kAliasesLineBytesMax) +
                              " bytes");
    }
    if (raw.find('\0') != std::string_view::npos) return invalid_argument(here + "NUL byte");
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t colon = line.find(':');
    // No ':' means no cap on the line, so quoting the line cannot leak one.
    if (colon == std::string_view::npos) {
      return invalid_argument(here + "expected 'NAME: CAP' or a '#' comment, got " + quoted(line));
    }
    const std::string name(trim(line.substr(0, colon)));
    const std::string_view cap = trim(line.substr(colon + 1));
    if (Status s = check_alias_name(name); !s.is_ok()) return invalid_argument(here + s.message());
    if (Status s = check_alias_cap(cap); !s.is_ok()) {
      return invalid_argument(here + "alias '" + name + "': " + s.message());
    }
    if (auto first = first_line.find(name); first != first_line.end()) {
      return invalid_argument(here + "alias '" + name + "' is given twice (first on line " +
                              std::to_string(first->second) + ")");
    }
    first_line.emplace(name, line_no);
    out.entries_.emplace(name, std::string(cap));
  }
  return out;
}

std::optional<std::string> Aliases::find(std::string_view name) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

Status Aliases::add(const std::string& name, const std::string& cap) {
  LAFS_RETURN_IF_ERROR(check_alias_name(name));
  LAFS_RETURN_IF_ERROR(check_alias_cap(cap));
  if (entries_.contains(name)) return already_exists("alias '" + name + "' already exists");
  entries_.emplace(name, cap);
  return Status{};
}

std::string Aliases::format() const {
  std::string out;
  for (const auto& [name, cap] : entries_) out += name + ": " + cap + "\n";
  return out;
}

std::string append_alias_line(std::string_view text, std::string_view name, std::string_view cap) {
  std::string out(text);
  if (!out.empty() && out.back() != '\n') out += '\n';
  out.append(name).append(": ").append(cap).append("\n");
  return out;
}

Result<PathArgument> parse_path_argument(std::string_view arg, const Aliases& aliases,
                                         PathMode mode) {
  if (arg.empty()) return invalid_argument("an empty path");
  if (mode == PathMode::kLocalOrGrid && forced_local(arg))
    return PathArgument(LocalPath{std::string(arg)});
  if (starts_like_cap(arg)) {
    auto g = under_cap(arg);
    if (!g.ok()) return g.status();
    return PathArgument(std::move(*g));
  }
  const std::size_t colon = arg.find(':');
  if (colon != std::string_view::npos && check_alias_name(arg.substr(0, colon)).is_ok()) {
    auto g = under_alias(arg.substr(0, colon), arg.substr(colon + 1), aliases, true);
    if (!g.ok()) return g.status();
    return PathArgument(std::move(*g));
  }
  if (mode == PathMode::kLocalOrGrid) return PathArgument(LocalPath{std::string(arg)});
  auto g = under_alias(kDefaultAlias, arg, aliases, false);
  if (!g.ok()) return g.status();
  return PathArgument(std::move(*g));
}

Result<GridPath> parse_grid_path(std::string_view arg, const Aliases& aliases) {
  auto p = parse_path_argument(arg, aliases, PathMode::kGridOnly);
  if (!p.ok()) return p.status();
  LAFS_ASSERT(std::holds_alternative<GridPath>(*p));
  return std::get<GridPath>(std::move(*p));
}

std::string cap_for_messages(std::string_view text) {
  const auto cap = cap::parse_cap(text);
  if (!cap.ok()) return "a cap";
  return std::string(cap::kCapPrefix) + std::string(cap::cap_kind_name(cap->kind())) + ":...";
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 0x0f];
    }
  }
  return out;
}

Result<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return invalid_argument("'%' at position " + std::to_string(i) +
                              " is not followed by two hex digits");
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string uri_path(std::string_view cap, const std::vector<std::string>& names,
                     std::size_t count) {
  std::string out = "/uri/";
  out += cap;
  for (std::size_t i = 0; i < std::min(count, names.size()); ++i) {
    out += '/';
    out += percent_encode(names[i]);
  }
  return out;
}

std::string NodeUrl::text() const {
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + base_path;
}

Result<NodeUrl> parse_node_url(std::string_view text) {
  const std::string_view url = trim(text);
  const auto starts_with_ci = [url](std::string_view prefix) {
    if (url.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      if (lower(url[i]) != prefix[i]) return false;
    }
    return true;
  };
  if (starts_with_ci("https://")) {
    return invalid_argument("node URL " + quoted(url) +
                            ": https is not supported (the gateway speaks plain HTTP and "
                            "listens on loopback)");
  }
  constexpr std::string_view kScheme = "http://";
  if (!starts_with_ci(kScheme)) {
    return invalid_argument("node URL " + quoted(url) + " does not start with http://");
  }
  const std::string_view rest = url.substr(kScheme.size());
  for (const char c : rest) {
    if (c == '?' || c == '#' || c == '@' || static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return invalid_argument("node URL " + quoted(url) +
                              ": only http://HOST[:PORT][/PATH] is allowed (no user, query, "
                              "fragment or blanks)");
    }
  }
  const std::size_t slash = std::min(rest.find('/'), rest.size());
  const std::string_view authority = rest.substr(0, slash);
  std::string_view host = authority;
  std::optional<std::string_view> port;  // present when the URL has a ':'
  bool bracketed = false;
  if (authority.starts_with("[")) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return invalid_argument("node URL " + quoted(url) + ": '[' without ']'");
    }
    host = authority.substr(1, close - 1);
    bracketed = true;
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(":")) {
      return invalid_argument("node URL " + quoted(url) + ": expected ':PORT' after ']'");
    }
    if (!after.empty()) port = after.substr(1);
  } else if (const std::size_t colon = authority.find(':'); colon != std::string_view::npos) {
    if (authority.find(':', colon + 1) != std::string_view::npos) {
      return invalid_argument("node URL " + quoted(url) +
                              ": an IPv6 address must be in brackets ([::1]:3456)");
    }
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (!valid_host(host, bracketed)) {
    return invalid_argument("node URL " + quoted(url) + ": bad host " + quoted(host));
  }
  NodeUrl out;
  out.host = std::string(host);
  if (port) {
    auto p = parse_port(*port, url);
    if (!p.ok()) return p.status();
    out.port = *p;
  }
  out.base_path = slash < rest.size() ? std::string(rest.substr(slash)) : "/";
  if (out.base_path.back() != '/') out.base_path += '/';
  return out;
}

Status check_safe_local_name(std::string_view name) {
  if (name.empty()) return invalid_argument("an empty entry name");
  if (name == ".") return invalid_argument("entry name '.' names the directory itself");
  if (name == "..") return invalid_argument("entry name '..' names the parent directory");
  if (name.find('/') != std::string_view::npos) {
    return invalid_argument("entry name " + quoted(name) +
                            " contains '/', so it would write outside its directory");
  }
  if (name.find('\0') != std::string_view::npos) {
    return invalid_argument("entry name " + quoted(name) + " contains a NUL byte");
  }
  return Status{};
}

std::string printable_name(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) c = '?';
  }
  return out;
}

}  // namespace lafs::node
