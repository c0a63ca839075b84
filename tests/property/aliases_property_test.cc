// Property tests of the file commands' pure pieces (core/node/aliases.h): an aliases table
// formats to text that parses back to it (also when built by appending lines); the aliases,
// path-argument and node-URL parsers never crash on arbitrary bytes and refuse with
// InvalidArgument; percent-encoding round-trips; grid paths keep their names; the safe-name check
// refuses exactly the names that could escape a directory.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <array>
#include <map>
#include <string>
#include <vector>

#include "core/cap/cap.h"
#include "core/crypto/derive.h"
#include "core/node/aliases.h"

namespace lafs::node {
namespace {

std::string gen_dir_cap() {
  std::array<std::uint8_t, crypto::kKeyBytes> key;
  for (auto& b : key) b = *rc::gen::arbitrary<std::uint8_t>();
  crypto::Fingerprint fp;
  for (auto& b : fp) b = *rc::gen::arbitrary<std::uint8_t>();
  const crypto::WriteKey wk{ByteView(key)};
  const cap::Cap write{cap::SskWriteCap{wk, fp}, true};
  // Write and read caps of directories are both valid alias targets.
  return cap::format_cap(*rc::gen::arbitrary<bool>() ? write : *cap::read_cap(write));
}

std::string gen_alias_name() {
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
  auto name = *rc::gen::resize(
      kAliasNameBytesMax,
      rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::elementOf(alphabet))));
  if (name.size() > kAliasNameBytesMax) name.resize(kAliasNameBytesMax);
  RC_PRE(check_alias_name(name).is_ok());  // a few are cap-shaped ("lafs7", "URI")
  return name;
}

// Bytes drawn mostly from the characters the parsers care about, so that fuzzing reaches past
// the first check; pieces of a real cap are mixed in.
std::string gen_fuzz_text(const std::string& cap) {
  constexpr char kAlphabet[] = ":/#. \t\r\n\0-_%[]@?lafs1URIabz09~";  // NUL included
  const std::string alphabet(kAlphabet, sizeof kAlphabet - 1);
  const auto parts = *rc::gen::container<std::vector<std::string>>(rc::gen::oneOf(
      rc::gen::container<std::string>(rc::gen::elementOf(alphabet)),
      rc::gen::arbitrary<std::string>(), rc::gen::just(cap), rc::gen::just(std::string("docs:")),
      rc::gen::just(std::string("lafs1:dir:"))));
  std::string out;
  for (const auto& p : parts) out += p;
  return out;
}

RC_GTEST_PROP(AliasesProperty, FormatParseRoundTrips, ()) {
  const auto count = *rc::gen::inRange<std::size_t>(0, 20);
  Aliases table;
  std::string appended;  // the same table, built as add-alias builds the file
  std::map<std::string, std::string> model;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string name = gen_alias_name();
    const std::string cap = gen_dir_cap();
    const Status s = table.add(name, cap);
    if (model.contains(name)) {
      RC_ASSERT(s.code() == ErrorCode::kAlreadyExists);
      continue;
    }
    RC_ASSERT(s.is_ok());
    model[name] = cap;
    appended = append_alias_line(appended, name, cap);
  }
  const auto parsed = Aliases::parse(table.format(), "aliases");
  RC_ASSERT(parsed.ok());
  RC_ASSERT(parsed->format() == table.format());
  const auto from_appends = Aliases::parse(appended, "aliases");
  RC_ASSERT(from_appends.ok());
  RC_ASSERT(from_appends->format() == table.format());
  for (const auto& [name, cap] : model) RC_ASSERT(parsed->find(name) == cap);
  RC_ASSERT(parsed->entries().size() == model.size());
}

RC_GTEST_PROP(AliasesProperty, ParsersNeverCrashAndRefuseWithInvalidArgument, ()) {
  const std::string cap = gen_dir_cap();
  const std::string text = gen_fuzz_text(cap);
  const auto a = Aliases::parse(text, "fuzz");
  if (a.ok()) {
    const auto again = Aliases::parse(a->format(), "again");
    RC_ASSERT(again.ok());
    RC_ASSERT(again->format() == a->format());
  } else {
    RC_ASSERT(a.status().code() == ErrorCode::kInvalidArgument);
    RC_ASSERT(a.status().message().rfind("fuzz", 0) == 0);
  }

  Aliases known;
  RC_ASSERT(known.add("docs", cap).is_ok());
  RC_ASSERT(known.add(std::string(kDefaultAlias), cap).is_ok());
  for (PathMode mode : {PathMode::kGridOnly, PathMode::kLocalOrGrid}) {
    const auto p = parse_path_argument(text, known, mode);
    if (!p.ok()) {
      RC_ASSERT(p.status().code() == ErrorCode::kInvalidArgument);
      continue;
    }
    RC_ASSERT(mode == PathMode::kLocalOrGrid || std::holds_alternative<GridPath>(*p));
    if (const auto* g = std::get_if<GridPath>(&*p)) {
      RC_ASSERT(cap::parse_cap(g->root_cap).ok());
      for (const auto& n : g->names) {
        RC_ASSERT(!n.empty() && n != "." && n != ".." && n.find('/') == std::string::npos);
      }
      // A cap given on the command line is shown as its kind only (the names after it are
      // shown as they are, whatever they look like).
      if (g->alias.empty()) {
        RC_ASSERT(g->shown.substr(0, g->shown.find('/')) == cap_for_messages(g->root_cap));
      }
    }
  }

  const auto u = parse_node_url(text);
  if (u.ok()) {
    const auto again = parse_node_url(u->text());
    RC_ASSERT(again.ok());
    RC_ASSERT(again->text() == u->text());
  } else {
    RC_ASSERT(u.status().code() == ErrorCode::kInvalidArgument);
  }
}

RC_GTEST_PROP(AliasesProperty, PercentEncodingRoundTrips, (const std::string& text)) {
  const std::string encoded = percent_encode(text);
  for (const char c : encoded) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '%';
    RC_ASSERT(ok);
  }
  const auto decoded = percent_decode(encoded);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == text);
  // Decoding arbitrary text never crashes; what decodes re-encodes to something that decodes
  // to the same bytes.
  const auto any = percent_decode(text);
  if (any.ok()) RC_ASSERT(*percent_decode(percent_encode(*any)) == *any);
}

RC_GTEST_PROP(AliasesProperty, GridPathsKeepTheirNames, ()) {
  const std::string cap = gen_dir_cap();
  Aliases known;
  RC_ASSERT(known.add("docs", cap).is_ok());
  const auto names = *rc::gen::container<std::vector<std::string>>(rc::gen::suchThat(
      rc::gen::nonEmpty(rc::gen::arbitrary<std::string>()),
      [](const auto& n) { return n != "." && n != ".." && n.find('/') == std::string::npos; }));
  std::string joined;
  for (const auto& n : names) joined += (joined.empty() ? "" : "/") + n;
  for (const std::string& arg : {"docs:" + joined, cap + "/" + joined}) {
    const auto g = parse_grid_path(arg, known);
    RC_ASSERT(g.ok());
    RC_ASSERT(g->root_cap == cap);
    RC_ASSERT(g->names == names);
    // The URL path carries each name as one segment that decodes to it.
    const std::string path = uri_path(g->root_cap, g->names);
    RC_ASSERT(path.rfind("/uri/" + cap, 0) == 0);
    std::vector<std::string> back;
    std::size_t at = ("/uri/" + cap).size();
    while (at < path.size()) {
      RC_ASSERT(path[at] == '/');
      const std::size_t next = std::min(path.find('/', at + 1), path.size());
      back.push_back(*percent_decode(path.substr(at + 1, next - at - 1)));
      at = next;
    }
    RC_ASSERT(back == names);
  }
}

RC_GTEST_PROP(AliasesProperty, SafeNamesAreExactlyThoseThatStayInTheDirectory,
              (const std::string& name)) {
  const bool escapes = name.empty() || name == "." || name == ".." ||
                       name.find('/') != std::string::npos || name.find('\0') != std::string::npos;
  const Status s = check_safe_local_name(name);
  RC_ASSERT(s.is_ok() == !escapes);
  const std::string shown = printable_name(name);
  RC_ASSERT(shown.size() == name.size());
  for (const char c : shown) RC_ASSERT(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
}

}  // namespace
}  // namespace lafs::node
