// Fuzzing the node's and the web API's parsers: node.cfg values, introducer addresses, URL
// percent-decoding, Range headers, JSON quoting, and log redaction of caps.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

#include "core/node/aliases.h"
#include "core/node/config.h"
#include "core/node/http.h"
#include "core/node/json.h"
#include "core/node/web_api.h"
#include "core/node/web_ui.h"

namespace lafs::node {
namespace {

std::string from_alphabet(const std::string& alphabet) {
  const auto picks = *rc::gen::container<std::vector<std::size_t>>(
      rc::gen::inRange<std::size_t>(0, alphabet.size()));
  std::string s;
  for (std::size_t i : picks) s.push_back(alphabet[i]);
  return s;
}

RC_GTEST_PROP(NodeParsersProperty, ConfigValuesParseOrAreRefusedNamingTheFile, ()) {
  const std::vector<std::string> keys = {
      "nickname",     "listen",         "web.listen", "shares.needed", "shares.happy",
      "shares.total", "reserved_space", "enabled",    "log_level",     "segment_size"};
  const std::vector<std::string> sections = {"node", "client", "storage", "introducer"};
  std::string text;
  const int lines = *rc::gen::inRange(0, 8);
  for (int i = 0; i < lines; ++i) {
    text += "[" + *rc::gen::elementOf(sections) + "]\n";
    text += *rc::gen::elementOf(keys) + " = " + from_alphabet("0123456789.:truefalsGKiB x") + "\n";
  }
  auto ini = IniFile::parse(text, "fuzz.cfg");
  if (!ini.ok()) return;  // the INI layer's own property covers these
  auto c = parse_node_config(*ini);
  if (!c.ok()) {
    RC_ASSERT(c.status().code() == ErrorCode::kInvalidArgument);
    RC_ASSERT(c.status().message().find("fuzz.cfg") != std::string::npos);
    return;
  }
  RC_ASSERT(c->encoding.needed <= c->encoding.happy);
  RC_ASSERT(c->encoding.happy <= c->encoding.total);
  auto again = IniFile::parse(format_node_config(*c), "again.cfg");
  RC_ASSERT(again.ok());
  RC_ASSERT(parse_node_config(*again).ok());
}

RC_GTEST_PROP(NodeParsersProperty, IntroducerAddressesRoundTripOrAreRefused, ()) {
  IntroducerAddress a;
  const auto key =
      *rc::gen::container<std::vector<std::uint8_t>>(32, rc::gen::arbitrary<std::uint8_t>());
  std::copy(key.begin(), key.end(), a.key.begin());
  std::copy(key.rbegin(), key.rend(), a.grid_secret.begin());
  a.address = "127.0.0.1:" + std::to_string(*rc::gen::inRange(1, 65536));
  std::string text = format_introducer_address(a);
  auto back = parse_introducer_address(text);
  RC_ASSERT(back.ok());
  RC_ASSERT(back->key == a.key && back->grid_secret == a.grid_secret && back->address == a.address);
  // Damage it anywhere: refused or parsed, never a crash; parsed means formatted back the same
  // (modulo hex case).
  const std::size_t at = *rc::gen::inRange<std::size_t>(0, text.size());
  text[at] = *rc::gen::elementOf(std::string("0aZ:@-\n\0", 8));
  auto damaged = parse_introducer_address(text);
  if (damaged.ok()) RC_ASSERT(!damaged->address.empty());
}

RC_GTEST_PROP(NodeParsersProperty, PercentDecodingInvertsEncoding, ()) {
  const auto raw = *rc::gen::container<std::string>(rc::gen::inRange<char>(1, 127));
  std::string encoded;
  for (unsigned char c : raw) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%%%02X", c);
    encoded += std::isalnum(c) ? std::string(1, static_cast<char>(c)) : std::string(buf);
  }
  auto back = percent_decode(encoded, false);
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == raw);
  // Arbitrary text decodes or is refused with InvalidArgument.
  const std::string junk = from_alphabet("%0aFg+/\0 z");
  auto j = percent_decode(junk, true);
  RC_ASSERT(j.ok() || j.status().code() == ErrorCode::kInvalidArgument);
}

RC_GTEST_PROP(NodeParsersProperty, RangesStayInsideTheBody, ()) {
  const std::uint64_t size = *rc::gen::inRange<std::uint64_t>(0, 1'000'000);
  const std::string header = "bytes=" + from_alphabet("0123456789-,");
  auto r = parse_range(header, size);
  if (!r.ok() || !*r) return;
  RC_ASSERT((*r)->first <= (*r)->last);
  RC_ASSERT((*r)->last < size);
}

RC_GTEST_PROP(NodeParsersProperty, JsonQuotingAlwaysYieldsValidUtf8Strings, ()) {
  const auto raw = *rc::gen::container<std::string>(rc::gen::arbitrary<char>());
  const std::string q = json_quote(raw);
  RC_ASSERT(q.size() >= 2 && q.front() == '"' && q.back() == '"');
  for (std::size_t i = 1; i + 1 < q.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(q[i]);
    RC_ASSERT(c >= 0x20);  // control characters are escaped
    if (c == '"') RC_ASSERT(q[i - 1] == '\\');
  }
}

RC_GTEST_PROP(NodeParsersProperty, RedactedTargetsNeverContainTheCap, ()) {
  const std::string cap = "lafs1:dir:" + from_alphabet("abcdefghijklmnopqrstuvwxyz234567") + "x";
  const std::string rest = from_alphabet("abc/?=&");
  const std::string target = "/uri/" + cap + "/" + rest;
  RC_ASSERT(redact_target(target).find(cap) == std::string::npos);
  RC_ASSERT(redact_target("/uri/d?to_dir=" + cap).find(cap) == std::string::npos);
}

std::string html_unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    bool matched = false;
    for (const auto& [entity, c] : std::vector<std::pair<std::string, char>>{
             {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}}) {
      if (s.compare(i, entity.size(), entity) == 0) {
        out.push_back(c);
        i += entity.size();
        matched = true;
        break;
      }
    }
    if (!matched) out.push_back(s[i++]);
  }
  return out;
}

RC_GTEST_PROP(NodeParsersProperty, HtmlEscapeLeavesNoMarkupAndRoundTrips, ()) {
  const auto raw = *rc::gen::container<std::string>(rc::gen::arbitrary<char>());
  const std::string e = ui::html_escape(raw);
  for (char c : {'<', '>', '"', '\''}) RC_ASSERT(e.find(c) == std::string::npos);
  RC_ASSERT(html_unescape(e) == raw);
}

// Whatever the names in a directory (a hostile writer chooses them), its page has the same
// markup: the same number of '<', '>' and '"' as the page of the same entries named "x".
RC_GTEST_PROP(NodeParsersProperty, DirectoryPagesHaveTheSameMarkupWhateverTheNames, ()) {
  const int n = *rc::gen::inRange(1, 6);
  ui::DirectoryView hostile, plain;
  hostile.api_path = plain.api_path = "/uri/lafs1:dir:abc";
  hostile.writable = plain.writable = *rc::gen::arbitrary<bool>();
  const std::string crumb = from_alphabet("<>\"'&a/ ");
  hostile.crumbs = {{"root", "/uri/lafs1:dir:abc/"}, {crumb, "/uri/lafs1:dir:abc/x/"}};
  plain.crumbs = {{"root", "/uri/lafs1:dir:abc/"}, {"x", "/uri/lafs1:dir:abc/x/"}};
  for (int i = 0; i < n; ++i) {
    ui::EntryRow row;
    row.directory = *rc::gen::arbitrary<bool>();
    row.size = 10;
    row.href = "/uri/lafs1:chk:y?filename=" + percent_encode(std::to_string(i));
    row.info_href = row.href + "&t=info";
    ui::EntryRow named = row;
    named.name = from_alphabet("<>\"'&ab=/ ") + std::to_string(i);
    row.name = "x";
    hostile.entries.push_back(named);
    plain.entries.push_back(row);
  }
  const std::string h = ui::render_directory(hostile), p = ui::render_directory(plain);
  for (char c : {'<', '>', '"'}) {
    RC_ASSERT(std::count(h.begin(), h.end(), c) == std::count(p.begin(), p.end(), c));
  }
}

}  // namespace
}  // namespace lafs::node
