// `lafs debug dump-cap CAP [--json]`: a cap's kind, fields (keys and hashes in hex), storage
// index (base32) and every weaker cap it diminishes to. Exit 2, with the parser's message on
// stderr, for a cap that does not parse (docs/specs/caps.md).
#include <algorithm>
#include <boost/json.hpp>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "bin/commands.h"
#include "core/cap/base32.h"
#include "core/cap/cap.h"
#include "core/crypto/hash.h"

namespace lafs::cli {
namespace {

// One line of the dump: a field name and its value, which is a string (hex) or a number.
struct Field {
  std::string name;
  boost::json::value value;
};

Field hex_field(std::string name, ByteView bytes) {
  return Field{std::move(name), boost::json::value(crypto::to_hex(bytes))};
}

Field number_field(std::string name, std::uint64_t v) {
  return Field{std::move(name), boost::json::value(v)};
}

void add_params(std::vector<Field>* out, const cap::ImmutableParams& p) {
  out->push_back(number_field("needed shares", p.needed_shares));
  out->push_back(number_field("total shares", p.total_shares));
  out->push_back(number_field("size", p.size_bytes));
}

std::vector<Field> cap_fields(const cap::Cap& c) {
  std::vector<Field> out;
  std::visit(
      [&out](const auto& f) {
        using T = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<T, cap::ChkReadCap>) {
          out.push_back(hex_field("read key", f.key.view()));
          out.push_back(hex_field("extension hash", f.extension_hash));
          add_params(&out, f.params);
        } else if constexpr (std::is_same_v<T, cap::ChkVerifyCap>) {
          out.push_back(hex_field("storage index", f.storage_index));
          out.push_back(hex_field("extension hash", f.extension_hash));
          add_params(&out, f.params);
        } else if constexpr (std::is_same_v<T, cap::LiteralCap>) {
          out.push_back(number_field("size", f.data.size()));
          out.push_back(hex_field("data", f.data));
        } else if constexpr (std::is_same_v<T, cap::SskWriteCap>) {
          out.push_back(hex_field("write key", f.write_key.view()));
          out.push_back(hex_field("fingerprint", f.fingerprint));
        } else if constexpr (std::is_same_v<T, cap::SskReadCap>) {
          out.push_back(hex_field("read key", f.read_key.view()));
          out.push_back(hex_field("fingerprint", f.fingerprint));
        } else {
          out.push_back(hex_field("storage index", f.storage_index));
          out.push_back(hex_field("fingerprint", f.fingerprint));
        }
      },
      c.file);
  return out;
}

// The weaker caps, strongest first: ("read", cap) and/or ("verify", cap).
std::vector<std::pair<std::string, std::string>> diminished_caps(const cap::Cap& c) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto next = cap::diminish(c); next; next = cap::diminish(*next)) {
    out.emplace_back(std::string(cap::authority_name(next->authority())), cap::format_cap(*next));
  }
  return out;
}

std::string storage_index_text(const cap::Cap& c) {
  const auto si = cap::storage_index(c);
  return si ? cap::base32_encode(*si) : std::string();
}

std::string json_key(std::string name) {
  for (char& ch : name) {
    if (ch == ' ') ch = '_';
  }
  return name;
}

void print_json(const std::string& text, const cap::Cap& c) {
  boost::json::object fields;
  for (auto& f : cap_fields(c)) fields[json_key(f.name)] = std::move(f.value);
  boost::json::object diminished;
  for (auto& [authority, s] : diminished_caps(c)) diminished[authority] = s;
  boost::json::object o;
  o["cap"] = text;
  o["kind"] = cap::cap_kind_name(c.kind());
  o["description"] = cap::cap_kind_description(c.kind());
  o["format_version"] = cap::kCapFormatVersion;
  o["directory"] = c.directory;
  o["mutable"] = c.is_mutable();
  o["authority"] = cap::authority_name(c.authority());
  o["fields"] = std::move(fields);
  const std::string si = storage_index_text(c);
  o["storage_index"] = si.empty() ? boost::json::value(nullptr) : boost::json::value(si);
  o["diminished"] = std::move(diminished);
  std::cout << boost::json::serialize(o) << "\n";
}

void print_line(std::string_view name, std::string_view value) {
  std::string label(name);
  label += ':';
  label.resize(std::max<std::size_t>(label.size() + 1, 16), ' ');
  std::cout << label << value << "\n";
}

void print_text(const cap::Cap& c) {
  print_line("kind", std::string(cap::cap_kind_name(c.kind())) + " (" +
                         std::string(cap::cap_kind_description(c.kind())) + ")");
  print_line("format version", std::to_string(cap::kCapFormatVersion));
  print_line("authority", cap::authority_name(c.authority()));
  print_line("directory", c.directory ? "yes" : "no");
  print_line("mutable", c.is_mutable() ? "yes" : "no");
  for (const auto& f : cap_fields(c)) {
    print_line(f.name, f.value.is_string() ? std::string(f.value.as_string())
                                           : boost::json::serialize(f.value));
  }
  const std::string si = storage_index_text(c);
  print_line("storage index", si.empty() ? "none (a literal cap has no shares)" : si);
  for (const auto& [authority, s] : diminished_caps(c)) print_line(authority + " cap", s);
}

void run(const std::string& text, bool json) {
  const auto c = cap::parse_cap(text);
  if (!c.ok()) {
    std::cerr << "lafs debug dump-cap: " << c.status().message() << "\n";
    exit_code = 2;
    return;
  }
  if (json) {
    print_json(text, *c);
  } else {
    print_text(*c);
  }
  exit_code = 0;
}

}  // namespace

void add_dump_cap_command(CLI::App& debug) {
  auto* cmd =
      debug.add_subcommand("dump-cap", "Print a capability's kind, fields and storage index");
  auto cap = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("CAP", *cap, "The capability (lafs1:...)")->required();
  cmd->add_flag("--json", *json, "Print one JSON object instead of text");
  cmd->callback([cap, json] { run(*cap, *json); });
}

}  // namespace lafs::cli
