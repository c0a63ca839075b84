// Property tests of core/cap: parse(format(x)) == x for every kind; diminishing is one-way and
// keeps the storage index; base32 round-trips; and fuzzing: random strings and mutated valid caps
// (bit flips, truncation, insertion, deletion, case changes, field surgery) never crash the
// parser, and whatever it accepts formats back to exactly the input (one canonical form).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "core/cap/base32.h"
#include "core/cap/cap.h"
#include "core/crypto/cipher.h"
#include "core/crypto/derive.h"
#include "core/crypto/sign.h"

namespace lafs::cap {
namespace {

template <std::size_t N>
std::array<std::uint8_t, N> gen_array() {
  std::array<std::uint8_t, N> a;
  for (auto& b : a) b = *rc::gen::arbitrary<std::uint8_t>();
  return a;
}

template <typename Secret>
Secret gen_secret() {
  const auto a = gen_array<Secret::kSize>();
  return Secret(ByteView(a));
}

ImmutableParams gen_params() {
  ImmutableParams p;
  p.needed_shares = *rc::gen::resize(100, rc::gen::inRange<std::uint32_t>(1, kMaxShares + 1));
  p.total_shares =
      *rc::gen::resize(100, rc::gen::inRange<std::uint32_t>(p.needed_shares, kMaxShares + 1));
  p.size_bytes = *rc::gen::oneOf(rc::gen::inRange<std::uint64_t>(0, 1 << 20),
                                 rc::gen::inRange<std::uint64_t>(0, crypto::kMaxFileBytes),
                                 rc::gen::just(crypto::kMaxFileBytes));
  return p;
}

FileCap gen_file_cap(std::size_t file_kind) {
  switch (file_kind) {
    case 0:
      return ChkReadCap{gen_secret<crypto::FileKey>(), gen_array<32>(), gen_params()};
    case 1:
      return ChkVerifyCap{gen_array<16>(), gen_array<32>(), gen_params()};
    case 2: {
      const auto len = *rc::gen::inRange<std::size_t>(0, kMaxLiteralBytes + 1);
      return LiteralCap{*rc::gen::container<Bytes>(len, rc::gen::arbitrary<std::uint8_t>())};
    }
    case 3:
      return SskWriteCap{gen_secret<crypto::WriteKey>(), gen_array<32>()};
    case 4:
      return SskReadCap{gen_secret<crypto::ReadKey>(), gen_array<32>()};
    default:
      return SskVerifyCap{gen_array<16>(), gen_array<32>()};
  }
}

Cap gen_cap() {
  // resize: inRange scales its range with the test size, which would starve the later kinds.
  const auto file_kind =
      *rc::gen::resize(100, rc::gen::inRange<std::size_t>(0, std::variant_size_v<FileCap>));
  return Cap{gen_file_cap(file_kind), *rc::gen::arbitrary<bool>()};
}

Cap gen_write_cap() {
  return Cap{gen_file_cap(3), *rc::gen::arbitrary<bool>()};
}

// Everything reachable from `cap` by the public diminishing operations.
std::vector<Cap> reachable(const Cap& cap) {
  std::vector<Cap> out;
  std::vector<Cap> todo = {cap};
  while (!todo.empty()) {
    Cap c = todo.back();
    todo.pop_back();
    if (std::find(out.begin(), out.end(), c) != out.end()) continue;
    for (auto next : {diminish(c), read_cap(c), verify_cap(c)}) {
      if (next) todo.push_back(*next);
    }
    out.push_back(std::move(c));
  }
  return out;
}

// The parser's contract on any input: no crash; refusal with a message, or a cap that formats
// back to exactly the input.
void check_parser_contract(const std::string& text) {
  const auto c = parse_cap(text);
  RC_CLASSIFY(c.ok(), "accepted");
  if (c.ok()) {
    RC_ASSERT(format_cap(*c) == text);
  } else {
    RC_ASSERT(!c.status().message().empty());
    RC_ASSERT(c.status().code() == ErrorCode::kInvalidArgument ||
              c.status().code() == ErrorCode::kUnimplemented);
  }
}

RC_GTEST_PROP(CapProperty, Base32RoundTrips, ()) {
  const auto bytes = *rc::gen::arbitrary<Bytes>();
  const std::string text = base32_encode(bytes);
  RC_ASSERT(text.size() == base32_length(bytes.size()));
  const auto back = base32_decode(text);
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == bytes);
}

RC_GTEST_PROP(CapProperty, Base32AcceptsOnlyCanonicalText, ()) {
  const auto text = *rc::gen::container<std::string>(
      rc::gen::elementOf(std::string("abcdefghijklmnopqrstuvwxyz234567AZ01=-")));
  const auto d = base32_decode(text);
  if (d.ok()) RC_ASSERT(base32_encode(*d) == text);
}

RC_GTEST_PROP(CapProperty, ParseOfFormatIsIdentityForEveryKind, ()) {
  const Cap cap = gen_cap();
  RC_TAG(cap_kind_name(cap.kind()));
  const std::string text = format_cap(cap);
  RC_ASSERT(text.size() <= kMaxCapChars);
  RC_ASSERT(text.starts_with(kCapPrefix));
  const auto back = parse_cap(text);
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == cap);
  RC_ASSERT(back->kind() == cap.kind());
  RC_ASSERT(format_cap(*back) == text);
}

// The bytes of a cap's first field: the key of a write or read cap, the storage index of a
// verify cap (the field that carries the authority; the fingerprint is public).
Bytes authority_field(const Cap& c) {
  if (const auto* f = std::get_if<SskWriteCap>(&c.file))
    return Bytes(f->write_key.view().begin(), f->write_key.view().end());
  if (const auto* f = std::get_if<SskReadCap>(&c.file))
    return Bytes(f->read_key.view().begin(), f->read_key.view().end());
  if (const auto* f = std::get_if<SskVerifyCap>(&c.file))
    return Bytes(f->storage_index.begin(), f->storage_index.end());
  RC_FAIL("not a mutable cap");
}

// True if `needle` is a prefix of `hay` (a storage index that was a truncated key would be).
bool is_prefix(const Bytes& needle, const Bytes& hay) {
  return needle.size() <= hay.size() && std::equal(needle.begin(), needle.end(), hay.begin());
}

RC_GTEST_PROP(CapProperty, DiminishIsOneWay, ()) {
  const Cap write = gen_write_cap();
  const Cap read = *read_cap(write);
  RC_ASSERT(read.authority() == Authority::kRead);
  RC_ASSERT(read.directory == write.directory);
  const Bytes write_key = authority_field(write);
  const Bytes read_key = authority_field(read);
  RC_ASSERT(read_key != write_key);
  // Nothing reachable from the read cap is the write cap or carries the write key; nothing
  // reachable from the verify cap carries (a prefix of) the read key.
  for (const Cap& c : reachable(read)) {
    RC_ASSERT(c.authority() != Authority::kWrite);
    RC_ASSERT(!(c == write));
    RC_ASSERT(!is_prefix(authority_field(c), write_key));
  }
  const Cap verify = *verify_cap(read);
  for (const Cap& c : reachable(verify)) {
    RC_ASSERT(c.authority() == Authority::kVerify);
    RC_ASSERT(!is_prefix(authority_field(c), read_key));
    RC_ASSERT(!is_prefix(authority_field(c), write_key));
  }
}

RC_GTEST_PROP(CapProperty, DiminishingKeepsStorageIndexKindFamilyAndDirectoryFlag, ()) {
  const Cap cap = gen_cap();
  const auto si = storage_index(cap);
  RC_ASSERT(si.has_value() == !cap.is_literal());
  for (const Cap& c : reachable(cap)) {
    RC_ASSERT(storage_index(c) == si);
    RC_ASSERT(c.directory == cap.directory);
    RC_ASSERT(c.is_mutable() == cap.is_mutable());
    RC_ASSERT(static_cast<int>(c.authority()) >= static_cast<int>(cap.authority()));
  }
}

RC_GTEST_PROP(CapProperty, MutableCapsFromASigningKeyMatchDerive, ()) {
  const auto seed = gen_secret<crypto::SigningSeed>();
  const auto key = crypto::SigningKey::from_seed(seed);
  const crypto::MutableKeys keys = crypto::derive_mutable_keys(key);
  const Cap write{ssk_write_cap(key), false};
  RC_ASSERT(storage_index(write) == keys.storage_index);
  const std::optional<Cap> read_of_write = read_cap(write);
  RC_ASSERT(read_of_write.has_value());
  const auto& read = std::get<SskReadCap>(read_of_write->file);
  RC_ASSERT(read.read_key == keys.read_key);
  RC_ASSERT(read.fingerprint == keys.fingerprint);
}

// ---- Fuzzing the parser ----

RC_GTEST_PROP(CapFuzz, RandomBytesNeverCrashTheParser, ()) {
  check_parser_contract(*rc::gen::arbitrary<std::string>());
}

RC_GTEST_PROP(CapFuzz, RandomCapShapedStringsNeverCrashTheParser, ()) {
  // Mostly the cap alphabet, with the structure of a cap: a prefix, a kind, then fields.
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789:-";
  const auto kind = *rc::gen::inRange<std::size_t>(0, kCapKindCount);
  std::string text = *rc::gen::element(std::string("lafs1:"), std::string("lafs2:"),
                                       std::string("lafs:"), std::string());
  text +=
      *rc::gen::element(std::string(cap_kind_name(static_cast<CapKind>(kind))), std::string("x"));
  const auto nfields = *rc::gen::inRange(0, 7);
  for (int i = 0; i < nfields; ++i) {
    text += ':';
    text += *rc::gen::oneOf(rc::gen::container<std::string>(rc::gen::elementOf(alphabet)),
                            rc::gen::map(rc::gen::inRange<std::uint32_t>(0, 300),
                                         [](std::uint32_t v) { return std::to_string(v); }),
                            rc::gen::map(rc::gen::element(std::size_t{16}, std::size_t{32}),
                                         [](std::size_t n) { return base32_encode(Bytes(n, 0)); }));
  }
  check_parser_contract(text);
}

std::string mutate(std::string s) {
  const int op = *rc::gen::inRange(0, 8);
  if (s.empty()) return s;
  const auto pos = *rc::gen::resize(100, rc::gen::inRange<std::size_t>(0, s.size()));
  switch (op) {
    case 0:  // flip one bit
      s[pos] = static_cast<char>(s[pos] ^ (1 << *rc::gen::inRange(0, 8)));
      break;
    case 1:  // truncate
      s.resize(pos);
      break;
    case 2:  // insert a character
      s.insert(s.begin() + static_cast<std::ptrdiff_t>(pos), *rc::gen::arbitrary<char>());
      break;
    case 3:  // delete a character
      s.erase(pos, 1);
      break;
    case 4:  // change case
      s[pos] = static_cast<char>(std::isupper(static_cast<unsigned char>(s[pos]))
                                     ? std::tolower(static_cast<unsigned char>(s[pos]))
                                     : std::toupper(static_cast<unsigned char>(s[pos])));
      break;
    case 5:  // replace with a character of the cap alphabet
      s[pos] = *rc::gen::elementOf(std::string("abcdefghijklmnopqrstuvwxyz0123456789:-"));
      break;
    case 6:  // duplicate a suffix (extra fields)
      s += s.substr(pos);
      break;
    default:  // swap two characters
      std::swap(s[pos], s[*rc::gen::inRange<std::size_t>(0, s.size())]);
      break;
  }
  return s;
}

RC_GTEST_PROP(CapFuzz, MutatedValidCapsAreRefusedOrCanonical, ()) {
  std::string text = format_cap(gen_cap());
  const auto rounds = *rc::gen::inRange(1, 4);
  for (int i = 0; i < rounds; ++i) text = mutate(std::move(text));
  check_parser_contract(text);
}

}  // namespace
}  // namespace lafs::cap
