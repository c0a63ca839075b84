// Fuzzing the node config parser: arbitrary text parses or is refused with InvalidArgument,
// and whatever parses formats to text that parses to the same thing.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "core/node/ini.h"

namespace lafs::node {
namespace {

RC_GTEST_PROP(IniProperty, ArbitraryTextParsesOrIsRefusedAndRoundTrips, ()) {
  constexpr char kAlphabet[] = "[]= \n#;ab.\t\r\0x";  // NUL included
  const std::string alphabet(kAlphabet, sizeof kAlphabet - 1);
  const auto chars = *rc::gen::container<std::vector<std::size_t>>(
      rc::gen::inRange<std::size_t>(0, alphabet.size()));
  std::string text;
  for (std::size_t c : chars) text.push_back(alphabet[c]);
  auto f = IniFile::parse(text, "fuzz.cfg");
  if (!f.ok()) {
    RC_ASSERT(f.status().code() == ErrorCode::kInvalidArgument);
    RC_ASSERT(f.status().message().rfind("fuzz.cfg:", 0) == 0);
    return;
  }
  auto again = IniFile::parse(f->format(), "again.cfg");
  RC_ASSERT(again.ok());
  RC_ASSERT(again->format() == f->format());
}

RC_GTEST_PROP(IniProperty, SizesParseOrAreRefused, ()) {
  const auto text =
      *rc::gen::container<std::string>(rc::gen::elementOf(std::string("0123456789KMGTiBkx")));
  auto n = parse_size(text);
  RC_ASSERT(n.ok() || n.status().code() == ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace lafs::node
