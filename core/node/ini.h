// The node's configuration file format: INI as Tahoe-LAFS's tahoe.cfg uses it. `[section]`
// headers, `key = value` lines, `#` or `;` comment lines, blank lines. Strict: a key outside a
// section, a key given twice, a malformed line or a section header twice is an error naming the
// file, the line and the problem; typed getters name the file, section, key and what was wanted.
// Pure: the caller reads the file (through the Env) and passes its text.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/runtime/status.h"

namespace lafs::node {

inline constexpr std::size_t kIniBytesMax = 1 << 20;  // a config file is small
inline constexpr std::size_t kIniLineBytesMax = 4096;

class IniFile {
 public:
  // `file_name` is only for messages ("node.cfg:12: ...").
  static Result<IniFile> parse(std::string_view text, std::string file_name);

  const std::string& file_name() const { return file_name_; }
  bool has(const std::string& section, const std::string& key) const;
  std::optional<std::string> get(const std::string& section, const std::string& key) const;

  // Typed values: nullopt-free forms take a default used when the key is absent. Errors are
  // InvalidArgument: "node.cfg:7: [storage] reserved_space: 'ten' is not a size (examples:
  // 1000, 10K, 5G)".
  Result<std::string> get_string(const std::string& section, const std::string& key,
                                 std::string fallback) const;
  Result<bool> get_bool(const std::string& section, const std::string& key, bool fallback) const;
  Result<std::uint64_t> get_uint(const std::string& section, const std::string& key,
                                 std::uint64_t fallback, std::uint64_t min,
                                 std::uint64_t max) const;
  // Decimal bytes with an optional K, M, G or T suffix (powers of 1000) or Ki, Mi, Gi, Ti
  // (powers of 1024), optionally followed by B: "10G", "512MiB", "1000".
  Result<std::uint64_t> get_size(const std::string& section, const std::string& key,
                                 std::uint64_t fallback) const;

  // Keys the caller does not know are refused, so a typo is not silently ignored: every
  // (section, key) present must be in `known` ("section.key").
  Status check_known(const std::set<std::string>& known) const;

  std::string format() const;  // canonical text: sections and keys sorted

 private:
  struct Value {
    std::string text;
    std::size_t line = 0;
  };
  std::string where(const std::string& section, const std::string& key) const;
  std::string file_name_;
  std::map<std::string, std::map<std::string, Value>> sections_;
};

// The size syntax of get_size, for other callers (command-line options).
Result<std::uint64_t> parse_size(std::string_view text);

}  // namespace lafs::node
