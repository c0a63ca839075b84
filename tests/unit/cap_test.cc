// Unit tests of core/cap: the base32 codec (RFC 4648 vectors, every refusal), known-answer caps
// of every kind (the values in docs/specs/caps.md: if one fails, a format changed, which needs a
// new cap format version, not a new expected value), diminishing, storage indexes, and one test
// per parse error, each checking that the message names what is wrong.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/cap/base32.h"
#include "core/cap/cap.h"
#include "core/crypto/derive.h"
#include "core/crypto/hash.h"
#include "core/crypto/sign.h"

namespace lafs::cap {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// ---- Known-answer inputs (docs/specs/caps.md, "Known answers") ----

constexpr std::string_view kChk =
    "lafs1:chk:aaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5dypq:"
    "eaqseizeeutcokbjfivsyljof4ydcmrtgq2tmnzyhe5dwpb5hy7q:3:10:1000000";
constexpr std::string_view kChkVerify =
    "lafs1:chk-verify:wfbrcvj3crcokp5w7kozxm7xaq:"
    "eaqseizeeutcokbjfivsyljof4ydcmrtgq2tmnzyhe5dwpb5hy7q:3:10:1000000";
constexpr std::string_view kChkStorageIndexHex = "b14311553b1444e53fb6fa9d9bb3f704";
constexpr std::string_view kLit = "lafs1:lit:nbswy3dpfqqgyylgom";
constexpr std::string_view kSsk =
    "lafs1:ssk:656encj5grkewdcwcedvgjhe5gfmo3judxundpvy3donzemxg4za:"
    "bg5wovuhiqaistvyxxt4dmqowdxlq6dynd5anyxfrvvuaf3iu6ia";
constexpr std::string_view kSskRead =
    "lafs1:ssk-read:dkpu7druztd2snx5sf7wms3xtku5u2jaz54eoyiwoycpmt7bf54a:"
    "bg5wovuhiqaistvyxxt4dmqowdxlq6dynd5anyxfrvvuaf3iu6ia";
constexpr std::string_view kSskVerify =
    "lafs1:ssk-verify:cmtya73ynhfvfy3imuceecefie:"
    "bg5wovuhiqaistvyxxt4dmqowdxlq6dynd5anyxfrvvuaf3iu6ia";
constexpr std::string_view kSskStorageIndexHex = "1327807f7869cb52e368650442088541";
constexpr std::string_view kDir =
    "lafs1:dir:656encj5grkewdcwcedvgjhe5gfmo3judxundpvy3donzemxg4za:"
    "bg5wovuhiqaistvyxxt4dmqowdxlq6dynd5anyxfrvvuaf3iu6ia";
constexpr std::string_view kDirRead =
    "lafs1:dir-read:dkpu7druztd2snx5sf7wms3xtku5u2jaz54eoyiwoycpmt7bf54a:"
    "bg5wovuhiqaistvyxxt4dmqowdxlq6dynd5anyxfrvvuaf3iu6ia";
constexpr std::string_view kDirVerify =
    "lafs1:dir-verify:cmtya73ynhfvfy3imuceecefie:"
    "bg5wovuhiqaistvyxxt4dmqowdxlq6dynd5anyxfrvvuaf3iu6ia";
constexpr std::string_view kDirChk =
    "lafs1:dir-chk:aaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5dypq:"
    "eaqseizeeutcokbjfivsyljof4ydcmrtgq2tmnzyhe5dwpb5hy7q:3:10:1000000";
constexpr std::string_view kDirChkVerify =
    "lafs1:dir-chk-verify:wfbrcvj3crcokp5w7kozxm7xaq:"
    "eaqseizeeutcokbjfivsyljof4ydcmrtgq2tmnzyhe5dwpb5hy7q:3:10:1000000";
constexpr std::string_view kDirLit = "lafs1:dir-lit:";

constexpr std::string_view kRfc8032Seed =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

Bytes hex(std::string_view s) {
  Bytes b;
  EXPECT_TRUE(crypto::from_hex(s, &b)) << s;
  return b;
}

template <std::size_t N>
std::array<std::uint8_t, N> counting(std::uint8_t start) {
  std::array<std::uint8_t, N> a;
  for (std::size_t i = 0; i < N; ++i) a[i] = static_cast<std::uint8_t>(start + i);
  return a;
}

ChkReadCap kat_chk_read() {
  const auto key = counting<32>(0x00);
  return ChkReadCap{crypto::FileKey(ByteView(key)), counting<32>(0x20), {3, 10, 1000000}};
}

SskWriteCap kat_ssk_write() {
  const Bytes seed = hex(kRfc8032Seed);
  return ssk_write_cap(crypto::SigningKey::from_seed(crypto::SigningSeed(seed)));
}

std::string fmt(const Cap& c) {
  return format_cap(c);
}

Cap parsed(std::string_view s) {
  auto c = parse_cap(s);
  EXPECT_TRUE(c.ok()) << s << ": " << c.status().to_string();
  return *c;
}

// The error of parsing `s`; fails the test if it parsed.
Status parse_error(std::string_view s) {
  auto c = parse_cap(s);
  EXPECT_FALSE(c.ok()) << "accepted: " << s;
  return c.status();
}

// ---- base32 ----

TEST(CapBase32, Rfc4648VectorsLowercaseUnpadded) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},
      {"f", "my"},
      {"fo", "mzxq"},
      {"foo", "mzxw6"},
      {"foob", "mzxw6yq"},
      {"fooba", "mzxw6ytb"},
      {"foobar", "mzxw6ytboi"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base32_encode(as_bytes(plain)), encoded);
    auto d = base32_decode(encoded);
    ASSERT_TRUE(d.ok()) << encoded;
    EXPECT_EQ(to_string(*d), plain);
    EXPECT_EQ(base32_length(plain.size()), encoded.size());
  }
  EXPECT_EQ(base32_length(16), 26u);
  EXPECT_EQ(base32_length(32), 52u);
}

TEST(CapBase32, RefusesUppercase) {
  auto d = base32_decode("MZXW6");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(d.status().message(), HasSubstr("uppercase"));
  EXPECT_THAT(d.status().message(), HasSubstr("'M' at offset 0"));
}

TEST(CapBase32, RefusesPadding) {
  auto d = base32_decode("my======");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("padding"));
  EXPECT_THAT(d.status().message(), HasSubstr("offset 2"));
}

TEST(CapBase32, RefusesCharactersOutsideTheAlphabet) {
  for (const std::string s : {"mz0q", "mz1q", "mz8q", "mz9q", "mz-q", "mz q"}) {
    auto d = base32_decode(s);
    ASSERT_FALSE(d.ok()) << s;
    EXPECT_THAT(d.status().message(), HasSubstr("invalid base32 character")) << s;
    EXPECT_THAT(d.status().message(), HasSubstr("at offset 2")) << s;
  }
  auto d = base32_decode(std::string("mz\x01q", 4));
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("byte 0x01"));
}

TEST(CapBase32, RefusesLengthsNoBytesEncodeTo) {
  for (const std::string s : {"m", "mzx", "mzxw6y", "mzxw6ytbo"}) {
    auto d = base32_decode(s);
    ASSERT_FALSE(d.ok()) << s;
    EXPECT_THAT(d.status().message(), HasSubstr("invalid base32 length")) << s;
  }
}

TEST(CapBase32, RefusesNonCanonicalTrailingBits) {
  // "my" is 'f' (0x66) with two zero bits; "mz" sets one of them.
  auto d = base32_decode("mz");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("non-canonical"));
  // Every valid length: the last character with its lowest unused bit set is refused.
  for (std::size_t n = 1; n <= 10; ++n) {
    std::string s = base32_encode(Bytes(n, 0));
    if (n % 5 == 0) continue;  // a multiple of 5 bytes has no unused bits
    s.back() = 'b';
    EXPECT_FALSE(base32_decode(s).ok()) << s;
  }
}

TEST(CapBase32, DecodeToChecksTheOutputLength) {
  std::array<std::uint8_t, 4> out{};
  const Status s = base32_decode_to("mzxw6", out);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("decodes to 3 bytes, expected 4"));
}

// ---- Known answers ----

TEST(CapKnownAnswers, ImmutableChain) {
  const Cap read{kat_chk_read(), false};
  EXPECT_EQ(fmt(read), kChk);
  const auto verify = diminish(read);
  ASSERT_TRUE(verify);
  EXPECT_EQ(fmt(*verify), kChkVerify);
  EXPECT_EQ(crypto::to_hex(*storage_index(read)), kChkStorageIndexHex);
  EXPECT_EQ(crypto::to_hex(*storage_index(*verify)), kChkStorageIndexHex);
  EXPECT_EQ(base32_encode(*storage_index(read)), "wfbrcvj3crcokp5w7kozxm7xaq");
}

TEST(CapKnownAnswers, MutableChainMatchesDeriveKnownAnswers) {
  const Cap write{kat_ssk_write(), false};
  // The write key and fingerprint are those pinned in docs/specs/crypto.md section 6.
  const auto& w = std::get<SskWriteCap>(write.file);
  EXPECT_EQ(crypto::to_hex(w.write_key.view()),
            "f77c46893d34544b0c5611075324e4e98ac76d341de8d1beb8d8dcdc91973732");
  EXPECT_EQ(crypto::to_hex(w.fingerprint),
            "09bb6756874400894eb8bde7c1b20eb0eeb8787868fa06e2e58d6b401768a790");
  EXPECT_EQ(fmt(write), kSsk);
  EXPECT_EQ(fmt(*read_cap(write)), kSskRead);
  EXPECT_EQ(fmt(*verify_cap(write)), kSskVerify);
  EXPECT_EQ(crypto::to_hex(*storage_index(write)), kSskStorageIndexHex);
}

TEST(CapKnownAnswers, DirectoryChains) {
  const Cap dir{kat_ssk_write(), true};
  EXPECT_EQ(fmt(dir), kDir);
  EXPECT_EQ(fmt(*read_cap(dir)), kDirRead);
  EXPECT_EQ(fmt(*verify_cap(dir)), kDirVerify);
  EXPECT_EQ(crypto::to_hex(*storage_index(dir)), kSskStorageIndexHex);
  const Cap imm{kat_chk_read(), true};
  EXPECT_EQ(fmt(imm), kDirChk);
  EXPECT_EQ(fmt(*verify_cap(imm)), kDirChkVerify);
  EXPECT_EQ(crypto::to_hex(*storage_index(imm)), kChkStorageIndexHex);
  EXPECT_EQ(fmt(Cap{LiteralCap{}, true}), kDirLit);
}

TEST(CapKnownAnswers, Literal) {
  EXPECT_EQ(fmt(Cap{LiteralCap{to_bytes("hello, lafs")}, false}), kLit);
  EXPECT_EQ(fmt(Cap{LiteralCap{}, false}), "lafs1:lit:");
}

TEST(CapKnownAnswers, EveryKnownAnswerParsesToItsKindAndFormatsBack) {
  const std::vector<std::pair<std::string_view, CapKind>> caps = {
      {kChk, CapKind::kChkRead},
      {kChkVerify, CapKind::kChkVerify},
      {kLit, CapKind::kLiteral},
      {kSsk, CapKind::kSskWrite},
      {kSskRead, CapKind::kSskRead},
      {kSskVerify, CapKind::kSskVerify},
      {kDir, CapKind::kDirWrite},
      {kDirRead, CapKind::kDirRead},
      {kDirVerify, CapKind::kDirVerify},
      {kDirChk, CapKind::kDirChkRead},
      {kDirChkVerify, CapKind::kDirChkVerify},
      {kDirLit, CapKind::kDirLiteral},
  };
  ASSERT_EQ(caps.size(), kCapKindCount);
  for (const auto& [text, kind] : caps) {
    const Cap c = parsed(text);
    EXPECT_EQ(c.kind(), kind) << text;
    EXPECT_EQ(fmt(c), text);
    EXPECT_TRUE(text.starts_with(std::string(kCapPrefix) + std::string(cap_kind_name(kind)) + ":"));
  }
}

// ---- Kinds, authority, diminishing ----

TEST(CapKinds, NamesAreDistinctAndAuthorityIsRight) {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < kCapKindCount; ++i) {
    names.insert(cap_kind_name(static_cast<CapKind>(i)));
    EXPECT_FALSE(cap_kind_description(static_cast<CapKind>(i)).empty());
  }
  EXPECT_EQ(names.size(), kCapKindCount);
  EXPECT_EQ(parsed(kSsk).authority(), Authority::kWrite);
  EXPECT_EQ(parsed(kDir).authority(), Authority::kWrite);
  EXPECT_EQ(parsed(kChk).authority(), Authority::kRead);
  EXPECT_EQ(parsed(kLit).authority(), Authority::kRead);
  EXPECT_EQ(parsed(kDirRead).authority(), Authority::kRead);
  EXPECT_EQ(parsed(kChkVerify).authority(), Authority::kVerify);
  EXPECT_EQ(parsed(kDirVerify).authority(), Authority::kVerify);
  EXPECT_TRUE(parsed(kSskVerify).is_mutable());
  EXPECT_TRUE(parsed(kDirRead).is_mutable());
  EXPECT_FALSE(parsed(kDirChk).is_mutable());
}

TEST(CapDiminish, ChainsEndAtVerifyAndLiteralsHaveNoVerifyCap) {
  EXPECT_EQ(fmt(*diminish(parsed(kSsk))), kSskRead);
  EXPECT_EQ(fmt(*diminish(parsed(kSskRead))), kSskVerify);
  EXPECT_FALSE(diminish(parsed(kSskVerify)));
  EXPECT_FALSE(diminish(parsed(kChkVerify)));
  EXPECT_FALSE(diminish(parsed(kLit)));
  EXPECT_FALSE(diminish(parsed(kDirLit)));
  EXPECT_EQ(fmt(*read_cap(parsed(kChk))), kChk);
  EXPECT_EQ(fmt(*read_cap(parsed(kLit))), kLit);
  EXPECT_FALSE(read_cap(parsed(kDirVerify)));
  EXPECT_FALSE(verify_cap(parsed(kLit)));
  EXPECT_FALSE(verify_cap(parsed(kDirLit)));
  EXPECT_EQ(fmt(*verify_cap(parsed(kDirChkVerify))), kDirChkVerify);
  EXPECT_FALSE(storage_index(parsed(kLit)));
  EXPECT_FALSE(storage_index(parsed(kDirLit)));
  EXPECT_EQ(crypto::to_hex(*storage_index(parsed(kSskVerify))), kSskStorageIndexHex);
  EXPECT_EQ(crypto::to_hex(*storage_index(parsed(kSskRead))), kSskStorageIndexHex);
}

TEST(CapDiminish, DirectoryAndFileCapsOfTheSameKeysDiffer) {
  EXPECT_NE(parsed(kSsk), parsed(kDir));
  EXPECT_NE(parsed(kChkVerify), parsed(kDirChkVerify));
  EXPECT_TRUE(diminish(parsed(kDir))->directory);
}

TEST(CapValidate, RefusesWhatCannotBeFormatted) {
  ChkReadCap c = kat_chk_read();
  c.params = {0, 10, 1};
  EXPECT_THAT(validate_cap(Cap{c, false}).message(), HasSubstr("k=0"));
  c.params = {3, 257, 1};
  EXPECT_THAT(validate_cap(Cap{c, false}).message(), HasSubstr("n=257"));
  c.params = {3, 10, crypto::kMaxFileBytes + 1};
  EXPECT_THAT(validate_cap(Cap{c, false}).message(), HasSubstr("exceeds the largest file"));
  EXPECT_THAT(validate_cap(Cap{LiteralCap{Bytes(56, 1)}, false}).message(),
              HasSubstr("at most 55"));
  EXPECT_TRUE(validate_cap(Cap{LiteralCap{Bytes(55, 1)}, false}).is_ok());
}

// ---- Parse errors: one test per refusal, each checking the message names the problem ----

void expect_error(std::string_view text, std::string_view needle,
                  ErrorCode code = ErrorCode::kInvalidArgument) {
  const Status s = parse_error(text);
  EXPECT_EQ(s.code(), code) << text << " -> " << s.to_string();
  EXPECT_THAT(s.message(), HasSubstr(std::string(needle))) << text;
  EXPECT_THAT(s.message(), HasSubstr(code == ErrorCode::kUnimplemented ? "unsupported cap: "
                                                                       : "malformed cap: "))
      << text;
}

std::string replace_field(std::string_view cap, std::size_t index, std::string_view with) {
  std::vector<std::string> parts;
  std::string cur;
  for (const char c : cap) {
    if (c == ':') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  parts.push_back(cur);
  parts.at(index) = with;
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? ":" : "") + parts[i];
  return out;
}

TEST(CapParseErrors, Empty) {
  expect_error("", "empty cap");
}

TEST(CapParseErrors, TooLong) {
  expect_error(std::string(kChk) + std::string(200, 'a'), "longer than any valid cap");
}

TEST(CapParseErrors, TahoeCap) {
  expect_error("URI:CHK:aaaa:bbbb:3:10:100", "Tahoe-LAFS cap");
  expect_error("uri:lit:nbswy3dp", "Tahoe-LAFS cap");
}

TEST(CapParseErrors, WrongPrefix) {
  expect_error("tahoe1:chk:aa", "starts with 'lafs1:'");
  expect_error("chk:aaaa", "starts with 'lafs1:'");
}

TEST(CapParseErrors, Uppercase) {
  expect_error("LAFS1:lit:", "uppercase character 'L' at position 0");
  std::string s(kChk);
  s[12] = 'A';
  expect_error(s, "uppercase character 'A' at position 12");
}

TEST(CapParseErrors, Whitespace) {
  expect_error(std::string(kLit) + "\n", "whitespace at position 28");
  expect_error(" " + std::string(kLit), "whitespace at position 0");
}

TEST(CapParseErrors, ForeignCharacter) {
  expect_error("lafs1:lit:nbswy3dp=", "character '=' at position 18 is never part of a cap");
  expect_error(std::string("lafs1:lit:\0", 11), "byte 0x00 at position 10");
}

TEST(CapParseErrors, MissingVersion) {
  expect_error("lafs:chk", "missing format version");
}

TEST(CapParseErrors, MalformedVersion) {
  expect_error("lafs01:lit:", "malformed format version 'lafs01'");
  expect_error("lafsx:lit:", "must be a decimal number");
  expect_error("lafs1234567890:lit:", "malformed format version");
  expect_error("lafs0:lit:", "format version 0 does not exist");
}

TEST(CapParseErrors, NewerVersionIsRefusedNamingIt) {
  expect_error("lafs2:lit:", "cap format version 2 is newer", ErrorCode::kUnimplemented);
  expect_error("lafs17:chk:whatever", "version 17", ErrorCode::kUnimplemented);
}

TEST(CapParseErrors, MissingKind) {
  expect_error("lafs1", "missing cap kind");
  expect_error("lafs1:", "missing cap kind");
}

TEST(CapParseErrors, UnknownKind) {
  expect_error("lafs1:chk2:aaaa", "unknown cap kind 'chk2'");
  expect_error("lafs1:chk2:aaaa", "known kinds: chk, chk-verify, lit");
  // A long token (likely a key in the wrong place) is not echoed.
  const Status s = parse_error("lafs1:aaaqeayeaudaocajbifqydiob4ibceqtcq");
  EXPECT_THAT(s.message(), HasSubstr("unknown cap kind of 34 characters"));
  EXPECT_THAT(s.message(), Not(HasSubstr("aaaqeaye")));
}

TEST(CapParseErrors, ExtraField) {
  expect_error(std::string(kSsk) + ":abc", "has 2 fields (write key, fingerprint)");
  expect_error(std::string(kSsk) + ":abc", "got 3 (extra fields)");
  expect_error(std::string(kLit) + ":", "got 2 (extra fields)");
  expect_error(std::string(kDirLit) + ":", "'dir-lit' cap has 1 field (data)");
}

TEST(CapParseErrors, MissingField) {
  expect_error("lafs1:chk:aaaa:3:10:100", "got 4 (missing fields)");
  expect_error("lafs1:ssk-verify:cmtya73ynhfvfy3imuceecefie", "got 1 (missing fields)");
  expect_error("lafs1:lit", "got 0 (missing fields)");
}

TEST(CapParseErrors, WrongKeyLength) {
  expect_error(replace_field(kChk, 2, "aaaa"),
               "field 1 'read key' of a 'chk' cap: must be 52 base32 characters (32 bytes), got 4");
  expect_error(replace_field(kSskVerify, 2, "cmtya73ynhfvfy3imuceecefi"),
               "field 1 'storage index' of a 'ssk-verify' cap: must be 26 base32 characters");
  expect_error(replace_field(kDir, 3, ""), "field 2 'fingerprint' of a 'dir' cap: must be 52");
}

TEST(CapParseErrors, BadBase32CharacterInKey) {
  std::string s(kSskRead);
  s[20] = '1';
  expect_error(s, "field 1 'read key' of a 'ssk-read' cap: invalid base32 character '1'");
  expect_error(
      replace_field(kChk, 3, std::string(51, 'a') + "8"),
      "field 2 'extension hash' of a 'chk' cap: invalid base32 character '8' at offset 51");
}

TEST(CapParseErrors, NonCanonicalKey) {
  // 52 characters carry 260 bits for 256: the last 4 must be zero ('q' = 10000 is, 'r' is not).
  std::string s(kChk);
  const std::size_t last = std::string_view(kChk).find(':', 10) - 1;
  ASSERT_EQ(s[last], 'q');
  s[last] = 'r';
  expect_error(s, "field 1 'read key' of a 'chk' cap: non-canonical base32");
}

TEST(CapParseErrors, NeedSharesOutOfRange) {
  expect_error(replace_field(kChk, 4, "0"), "needed shares k=0 is below 1");
  expect_error(replace_field(replace_field(kChk, 4, "257"), 5, "257"),
               "needed shares k=257 is above 256");
  expect_error(replace_field(kChk, 4, "11"), "needed shares k=11 exceeds total shares n=10");
  expect_error(replace_field(kChk, 4, "4294967299"), "k=4294967299 is above 256");
}

TEST(CapParseErrors, TotalSharesOutOfRange) {
  expect_error(replace_field(kChkVerify, 5, "257"), "total shares n=257 is above 256");
  expect_error(replace_field(kChkVerify, 5, "0"), "k=3 exceeds total shares n=0");
  EXPECT_TRUE(parse_cap(replace_field(replace_field(kChk, 4, "256"), 5, "256")).ok());
  EXPECT_TRUE(parse_cap(replace_field(replace_field(kChk, 4, "1"), 5, "1")).ok());
}

TEST(CapParseErrors, SizeOutOfRange) {
  expect_error(replace_field(kChk, 6, "1152921504606846977"),
               "size 1152921504606846977 exceeds the largest file");
  expect_error(replace_field(kChk, 6, "99999999999999999999"), "has 20 digits, more than 19");
  EXPECT_TRUE(parse_cap(replace_field(kChk, 6, "1152921504606846976")).ok());
  EXPECT_TRUE(parse_cap(replace_field(kChk, 6, "0")).ok());
}

TEST(CapParseErrors, NonCanonicalNumbers) {
  expect_error(replace_field(kChk, 4, "03"),
               "field 3 'needed shares' of a 'chk' cap: has a leading zero");
  expect_error(replace_field(kChk, 6, "00"), "field 5 'size' of a 'chk' cap: has a leading zero");
  expect_error(replace_field(kChk, 5, ""), "field 4 'total shares' of a 'chk' cap: is empty");
  expect_error(replace_field(kChk, 6, "1e6"),
               "field 5 'size' of a 'chk' cap: must be a decimal number, got 'e' at offset 1");
  expect_error(replace_field(kChk, 5, "-1"), "must be a decimal number, got '-' at offset 0");
}

TEST(CapParseErrors, LiteralTooLong) {
  const std::string too_long = "lafs1:lit:" + base32_encode(Bytes(56, 7));
  expect_error(too_long, "field 1 'data' of a 'lit' cap: is 90 base32 characters, more than 88");
  EXPECT_TRUE(parse_cap("lafs1:lit:" + base32_encode(Bytes(55, 7))).ok());
}

TEST(CapParseErrors, LiteralBadBase32) {
  expect_error("lafs1:lit:mzx", "field 1 'data' of a 'lit' cap: invalid base32 length 3");
  expect_error("lafs1:dir-lit:mz", "field 1 'data' of a 'dir-lit' cap: non-canonical base32");
}

TEST(CapParseErrors, MessagesNeverRepeatKeyMaterial) {
  // A bad fingerprint must not echo the (valid) write key before it, nor itself.
  std::string s(kSsk);
  s.back() = '0';
  const Status st = parse_error(s);
  EXPECT_THAT(st.message(), Not(HasSubstr("656encj5")));
  EXPECT_THAT(st.message(), Not(HasSubstr("bg5wovuh")));
}

}  // namespace
}  // namespace lafs::cap
