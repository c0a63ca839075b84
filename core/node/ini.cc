#include "core/node/ini.h"

#include <algorithm>

namespace lafs::node {
namespace {

std::string_view trim(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

// A value quoted for a message: control characters shown as '?', cut after 40 characters.
std::string shown(std::string_view v) {
  std::string out = "'";
  for (char c : v.substr(0, 40)) out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  if (v.size() > 40) out += "...";
  return out + "'";
}

}  // namespace

Result<IniFile> IniFile::parse(std::string_view text, std::string file_name) {
  IniFile f;
  f.file_name_ = std::move(file_name);
  if (text.size() > kIniBytesMax) {
    return invalid_argument(f.file_name_ + ": " + std::to_string(text.size()) +
                            " bytes, more than a config file may have (" +
                            std::to_string(kIniBytesMax) + ")");
  }
  std::string section;
  std::size_t line_no = 0;
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t nl = text.find('\n', at);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    const std::string_view raw = text.substr(at, end - at);
    ++line_no;
    const std::string here = f.file_name_ + ":" + std::to_string(line_no) + ": ";
    if (raw.size() > kIniLineBytesMax) {
      return invalid_argument(here + "line longer than " + std::to_string(kIniLineBytesMax) +
                              " bytes");
    }
    if (raw.find('\0') != std::string_view::npos) return invalid_argument(here + "NUL byte");
    const std::string_view line = trim(raw);
    if (!line.empty() && line[0] != '#' && line[0] != ';') {
      if (line.front() == '[') {
        if (line.back() != ']')
          return invalid_argument(here + "a section header must end with ']'");
        const std::string_view name = trim(line.substr(1, line.size() - 2));
        if (!valid_name(name)) {
          return invalid_argument(here + "section name " + shown(name) +
                                  " (letters, digits, '_', '-', '.')");
        }
        section = std::string(name);
        if (f.sections_.contains(section)) {
          return invalid_argument(here + "section [" + section + "] appears twice");
        }
        f.sections_[section];
      } else {
        const std::size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
          return invalid_argument(here + "expected 'key = value', '[section]' or a comment, got " +
                                  shown(line));
        }
        const std::string_view key = trim(line.substr(0, eq));
        const std::string_view value = trim(line.substr(eq + 1));
        if (!valid_name(key)) {
          return invalid_argument(here + "key " + shown(key) + " (letters, digits, '_', '-', '.')");
        }
        if (section.empty()) {
          return invalid_argument(here + "key '" + std::string(key) +
                                  "' comes before any [section]");
        }
        auto& keys = f.sections_[section];
        if (keys.contains(std::string(key))) {
          return invalid_argument(here + "[" + section + "] " + std::string(key) +
                                  " is set twice (first on line " +
                                  std::to_string(keys[std::string(key)].line) + ")");
        }
        keys[std::string(key)] = Value{std::string(value), line_no};
      }
    }
    if (nl == std::string_view::npos) break;
    at = nl + 1;
  }
  return f;
}

bool IniFile::has(const std::string& section, const std::string& key) const {
  auto s = sections_.find(section);
  return s != sections_.end() && s->second.contains(key);
}

std::optional<std::string> IniFile::get(const std::string& section, const std::string& key) const {
  auto s = sections_.find(section);
  if (s == sections_.end()) return std::nullopt;
  auto k = s->second.find(key);
  if (k == s->second.end()) return std::nullopt;
  return k->second.text;
}

std::string IniFile::where(const std::string& section, const std::string& key) const {
  const auto& v = sections_.at(section).at(key);
  return file_name_ + ":" + std::to_string(v.line) + ": [" + section + "] " + key + ": ";
}

Result<std::string> IniFile::get_string(const std::string& section, const std::string& key,
                                        std::string fallback) const {
  auto v = get(section, key);
  return v ? *v : fallback;
}

Result<bool> IniFile::get_bool(const std::string& section, const std::string& key,
                               bool fallback) const {
  auto v = get(section, key);
  if (!v) return fallback;
  std::string lower;
  for (char c : *v) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "off" || lower == "0") return false;
  return invalid_argument(where(section, key) + shown(*v) +
                          " is not a boolean (true/false, yes/no, on/off, 1/0)");
}

Result<std::uint64_t> IniFile::get_uint(const std::string& section, const std::string& key,
                                        std::uint64_t fallback, std::uint64_t min,
                                        std::uint64_t max) const {
  auto v = get(section, key);
  if (!v) return fallback;
  std::uint64_t n = 0;
  bool ok = !v->empty() && v->size() <= 19;
  for (char c : *v) {
    if (c < '0' || c > '9') ok = false;
    if (ok) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (!ok) return invalid_argument(where(section, key) + shown(*v) + " is not a whole number");
  if (n < min || n > max) {
    return invalid_argument(where(section, key) + std::to_string(n) + " is outside " +
                            std::to_string(min) + ".." + std::to_string(max));
  }
  return n;
}

Result<std::uint64_t> parse_size(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 19) {
    return invalid_argument(shown(text) + " is not a size (examples: 1000, 10K, 5G, 512MiB)");
  }
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < digits; ++i) n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
  std::string unit(text.substr(digits));
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  std::uint64_t mult = 1;
  const std::map<std::string, std::uint64_t> units = {
      {"", 1},
      {"K", 1000},
      {"M", 1000'000},
      {"G", 1000'000'000},
      {"T", 1000'000'000'000},
      {"Ki", std::uint64_t{1} << 10},
      {"Mi", std::uint64_t{1} << 20},
      {"Gi", std::uint64_t{1} << 30},
      {"Ti", std::uint64_t{1} << 40},
      {"k", 1000},
  };
  auto u = units.find(unit);
  if (u == units.end()) {
    return invalid_argument(shown(text) + " is not a size (units: K, M, G, T, Ki, Mi, Gi, Ti)");
  }
  mult = u->second;
  if (n > UINT64_MAX / mult) return invalid_argument(shown(text) + " is too large");
  return n * mult;
}

Result<std::uint64_t> IniFile::get_size(const std::string& section, const std::string& key,
                                        std::uint64_t fallback) const {
  auto v = get(section, key);
  if (!v) return fallback;
  auto n = parse_size(*v);
  if (!n.ok()) return invalid_argument(where(section, key) + n.status().message());
  return n;
}

Status IniFile::check_known(const std::set<std::string>& known) const {
  for (const auto& [section, keys] : sections_) {
    for (const auto& [key, value] : keys) {
      if (!known.contains(section + "." + key)) {
        return invalid_argument(where(section, key) + "unknown key (a typo?)");
      }
    }
  }
  return Status{};
}

std::string IniFile::format() const {
  std::string out;
  for (const auto& [section, keys] : sections_) {
    if (!out.empty()) out += "\n";
    out += "[" + section + "]\n";
    for (const auto& [key, value] : keys) out += key + " = " + value.text + "\n";
  }
  return out;
}

}  // namespace lafs::node
