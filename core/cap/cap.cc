// Cap parsing and formatting (a strict, canonical text form) and the diminish chains.
#include "core/cap/cap.h"

#include <algorithm>
#include <array>
#include <span>
#include <type_traits>
#include <vector>

#include "core/cap/base32.h"
#include "core/runtime/assert.h"

namespace lafs::cap {
namespace {

struct KindInfo {
  std::string_view name;
  std::string_view description;
};

constexpr std::array<KindInfo, kCapKindCount> kKinds = {{
    {"chk", "immutable file read cap"},
    {"chk-verify", "immutable file verify cap"},
    {"lit", "literal immutable file, contents inside the cap"},
    {"ssk", "mutable file write cap"},
    {"ssk-read", "mutable file read cap"},
    {"ssk-verify", "mutable file verify cap"},
    {"dir", "mutable directory write cap"},
    {"dir-read", "mutable directory read cap"},
    {"dir-verify", "mutable directory verify cap"},
    {"dir-chk", "immutable directory read cap"},
    {"dir-chk-verify", "immutable directory verify cap"},
    {"dir-lit", "literal immutable directory, contents inside the cap"},
}};

constexpr std::size_t kFileKindCount = std::variant_size_v<FileCap>;
constexpr std::size_t kMaxDecimalDigits = 19;  // 2^60 has 19 digits; 19 digits fit a uint64
constexpr std::size_t kMaxVersionDigits = 9;   // fits a uint32

// The field names of each file kind, in cap order (directory kinds: those of their file kind).
constexpr std::array<std::array<std::string_view, 5>, kFileKindCount> kFieldNames = {{
    {"read key", "extension hash", "needed shares", "total shares", "size"},
    {"storage index", "extension hash", "needed shares", "total shares", "size"},
    {"data"},
    {"write key", "fingerprint"},
    {"read key", "fingerprint"},
    {"storage index", "fingerprint"},
}};
constexpr std::array<std::size_t, kFileKindCount> kFieldCounts = {5, 5, 1, 2, 2, 2};

// The directory kinds in file-kind order; the file kinds are the variant indexes.
constexpr std::array<CapKind, kFileKindCount> kDirectoryKinds = {
    CapKind::kDirChkRead, CapKind::kDirChkVerify, CapKind::kDirLiteral,
    CapKind::kDirWrite,   CapKind::kDirRead,      CapKind::kDirVerify,
};

std::size_t file_kind_index(CapKind kind) {
  const auto k = static_cast<std::size_t>(kind);
  if (k < kFileKindCount) return k;
  const auto it = std::find(kDirectoryKinds.begin(), kDirectoryKinds.end(), kind);
  LAFS_ASSERT(it != kDirectoryKinds.end());
  return static_cast<std::size_t>(it - kDirectoryKinds.begin());
}

bool is_directory_kind(CapKind kind) {
  return static_cast<std::size_t>(kind) >= kFileKindCount;
}

// ---- Parsing: the whole string ----

std::string describe_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xf];
}

// Caps are [a-z0-9:-]. Catching the rest up front gives one clear message for the common
// mistakes (an uppercased cap, surrounding whitespace, a pasted URL) before any field is read.
Status check_cap_chars(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' || c == '-') continue;
    const std::string at = " at position " + std::to_string(i);
    if (c >= 'A' && c <= 'Z') {
      return invalid_argument("uppercase character " + describe_char(c) + at +
                              " (lafs caps are lowercase)");
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      return invalid_argument("whitespace" + at + " (a cap contains none)");
    }
    return invalid_argument("character " + describe_char(c) + at +
                            " is never part of a cap (caps use a-z, 0-9, ':' and '-')");
  }
  return Status{};
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t colon = text.find(':', start);
    if (colon == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, colon - start));
    start = colon + 1;
  }
}

// "lafs" followed by the version in canonical decimal.
Status check_version(std::string_view head) {
  if (head.substr(0, 4) != "lafs") {
    return invalid_argument("a lafs cap starts with '" + std::string(kCapPrefix) + "'");
  }
  const std::string_view digits = head.substr(4);
  if (digits.empty()) return invalid_argument("missing format version after 'lafs'");
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return invalid_argument("format version after 'lafs' must be a decimal number");
  }
  if (digits.size() > kMaxVersionDigits || (digits.size() > 1 && digits[0] == '0')) {
    return invalid_argument("malformed format version 'lafs" + std::string(digits) + "'");
  }
  std::uint32_t version = 0;
  for (const char c : digits) version = version * 10 + static_cast<std::uint32_t>(c - '0');
  if (version == 0) return invalid_argument("format version 0 does not exist (the first is 1)");
  if (version > kCapFormatVersion) {
    return unimplemented("cap format version " + std::to_string(version) +
                         " is newer than this build of lafs understands (it reads version " +
                         std::to_string(kCapFormatVersion) + "); upgrade lafs to use this cap");
  }
  return Status{};
}

std::string known_kinds() {
  std::string out;
  for (const KindInfo& k : kKinds) {
    if (!out.empty()) out += ", ";
    out += k.name;
  }
  return out;
}

Result<CapKind> parse_kind(std::string_view token) {
  for (std::size_t i = 0; i < kKinds.size(); ++i) {
    if (kKinds[i].name == token) return static_cast<CapKind>(i);
  }
  if (token.empty())
    return invalid_argument("missing cap kind after '" + std::string(kCapPrefix) + "'");
  // A long token is more likely key material pasted in the wrong place than a kind: do not echo.
  const std::string shown = token.size() <= 16
                                ? "'" + std::string(token) + "'"
                                : "of " + std::to_string(token.size()) + " characters";
  return invalid_argument("unknown cap kind " + shown + " (known kinds: " + known_kinds() + ")");
}

// ---- Parsing: fields ----

Status check_field_length(std::string_view text, std::size_t bytes) {
  const std::size_t want = base32_length(bytes);
  if (text.size() == want) return Status{};
  return invalid_argument("must be " + std::to_string(want) + " base32 characters (" +
                          std::to_string(bytes) + " bytes), got " + std::to_string(text.size()));
}

// A fixed-size binary field (key, hash, storage index) straight into its final storage.
Status parse_fixed(std::string_view text, MutableByteView out) {
  LAFS_RETURN_IF_ERROR(check_field_length(text, out.size()));
  return base32_decode_to(text, out);
}

// Canonical unsigned decimal: digits only, no sign, no leading zero (except "0" itself).
Result<std::uint64_t> parse_decimal(std::string_view text) {
  if (text.empty()) return invalid_argument("is empty (expected a decimal number)");
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return invalid_argument("must be a decimal number, got " + describe_char(text[i]) +
                              " at offset " + std::to_string(i));
    }
  }
  if (text.size() > 1 && text[0] == '0') {
    return invalid_argument("has a leading zero (a cap has one canonical form)");
  }
  if (text.size() > kMaxDecimalDigits) {
    return invalid_argument("has " + std::to_string(text.size()) + " digits, more than " +
                            std::to_string(kMaxDecimalDigits));
  }
  std::uint64_t v = 0;
  for (const char c : text) v = v * 10 + static_cast<std::uint64_t>(c - '0');
  return v;
}

Status check_params(const ImmutableParams& p) {
  const std::string k = std::to_string(p.needed_shares);
  const std::string n = std::to_string(p.total_shares);
  const std::string range = " (need 1 <= k <= n <= " + std::to_string(kMaxShares) + ")";
  if (p.needed_shares < 1) return invalid_argument("needed shares k=" + k + " is below 1" + range);
  if (p.total_shares > kMaxShares) {
    return invalid_argument("total shares n=" + n + " is above " + std::to_string(kMaxShares) +
                            range);
  }
  if (p.needed_shares > p.total_shares) {
    return invalid_argument("needed shares k=" + k + " exceeds total shares n=" + n + range);
  }
  if (p.size_bytes > crypto::kMaxFileBytes) {
    return invalid_argument("size " + std::to_string(p.size_bytes) + " exceeds the largest file, " +
                            std::to_string(crypto::kMaxFileBytes) + " bytes");
  }
  return Status{};
}

// The fields after the kind (already counted) of one cap, each parsed with an error message that
// names the field by number, name and cap kind.
class FieldReader {
 public:
  FieldReader(CapKind kind, std::span<const std::string_view> fields)
      : kind_(kind), fields_(fields), names_(kFieldNames[file_kind_index(kind)]) {}

  std::string_view text(std::size_t i) const { return fields_[i]; }
  Status fixed(std::size_t i, MutableByteView out) const {
    const Status s = parse_fixed(fields_[i], out);
    return s.is_ok() ? s : s.with_context(context(i));
  }
  Result<std::uint64_t> decimal(std::size_t i) const {
    auto v = parse_decimal(fields_[i]);
    if (!v.ok()) return v.status().with_context(context(i));
    return v;
  }
  std::string context(std::size_t i) const {
    return "field " + std::to_string(i + 1) + " '" + std::string(names_[i]) + "' of a '" +
           std::string(cap_kind_name(kind_)) + "' cap";
  }

 private:
  CapKind kind_;
  std::span<const std::string_view> fields_;
  const std::array<std::string_view, 5>& names_;
};

Result<ImmutableParams> parse_params(const FieldReader& r) {
  ImmutableParams p;
  auto k = r.decimal(2);
  if (!k.ok()) return k.status();
  auto n = r.decimal(3);
  if (!n.ok()) return n.status();
  auto size = r.decimal(4);
  if (!size.ok()) return size.status();
  // Range-check before narrowing, so that k=2^32+3 is not read as 3.
  if (*k > kMaxShares || *n > kMaxShares) {
    const bool k_bad = *k > kMaxShares;
    return invalid_argument((k_bad ? "needed shares k=" : "total shares n=") +
                            std::to_string(k_bad ? *k : *n) + " is above " +
                            std::to_string(kMaxShares) +
                            " (need 1 <= k <= n <= " + std::to_string(kMaxShares) + ")");
  }
  p.needed_shares = static_cast<std::uint32_t>(*k);
  p.total_shares = static_cast<std::uint32_t>(*n);
  p.size_bytes = *size;
  LAFS_RETURN_IF_ERROR(check_params(p));
  return p;
}

Result<FileCap> parse_chk_read(const FieldReader& r) {
  ChkReadCap c;
  LAFS_RETURN_IF_ERROR(r.fixed(0, c.key.mutable_view()));
  LAFS_RETURN_IF_ERROR(r.fixed(1, c.extension_hash));
  auto p = parse_params(r);
  if (!p.ok()) return p.status();
  c.params = *p;
  return FileCap(std::move(c));
}

Result<FileCap> parse_chk_verify(const FieldReader& r) {
  ChkVerifyCap c;
  LAFS_RETURN_IF_ERROR(r.fixed(0, c.storage_index));
  LAFS_RETURN_IF_ERROR(r.fixed(1, c.extension_hash));
  auto p = parse_params(r);
  if (!p.ok()) return p.status();
  c.params = *p;
  return FileCap(std::move(c));
}

Result<FileCap> parse_literal(const FieldReader& r) {
  const std::string_view text = r.text(0);
  if (text.size() > base32_length(kMaxLiteralBytes)) {
    return invalid_argument("is " + std::to_string(text.size()) + " base32 characters, more than " +
                            std::to_string(base32_length(kMaxLiteralBytes)) + " (a literal holds " +
                            "at most " + std::to_string(kMaxLiteralBytes) + " bytes)")
        .with_context(r.context(0));
  }
  auto data = base32_decode(text);
  if (!data.ok()) return data.status().with_context(r.context(0));
  return FileCap(LiteralCap{std::move(*data)});
}

template <typename SskCap, typename Key>
Result<FileCap> parse_ssk(const FieldReader& r, Key SskCap::*key) {
  SskCap c;
  if constexpr (std::is_same_v<Key, crypto::StorageIndex>) {
    LAFS_RETURN_IF_ERROR(r.fixed(0, c.*key));
  } else {
    LAFS_RETURN_IF_ERROR(r.fixed(0, (c.*key).mutable_view()));
  }
  LAFS_RETURN_IF_ERROR(r.fixed(1, c.fingerprint));
  return FileCap(std::move(c));
}

Result<FileCap> parse_file_fields(CapKind kind, const FieldReader& r) {
  switch (file_kind_index(kind)) {
    case 0:
      return parse_chk_read(r);
    case 1:
      return parse_chk_verify(r);
    case 2:
      return parse_literal(r);
    case 3:
      return parse_ssk(r, &SskWriteCap::write_key);
    case 4:
      return parse_ssk(r, &SskReadCap::read_key);
    case 5:
      return parse_ssk(r, &SskVerifyCap::storage_index);
  }
  LAFS_UNREACHABLE();
}

Status check_field_count(CapKind kind, std::size_t got) {
  const std::size_t fk = file_kind_index(kind);
  const std::size_t want = kFieldCounts[fk];
  if (got == want) return Status{};
  std::string names;
  for (std::size_t i = 0; i < want; ++i) {
    if (i > 0) names += ", ";
    names += kFieldNames[fk][i];
  }
  return invalid_argument("a '" + std::string(cap_kind_name(kind)) + "' cap has " +
                          std::to_string(want) + (want == 1 ? " field (" : " fields (") + names +
                          ") after its kind, got " + std::to_string(got) +
                          (got > want ? " (extra fields)" : " (missing fields)"));
}

Result<Cap> parse_cap_inner(std::string_view text) {
  if (text.empty()) return invalid_argument("empty cap");
  if (text.size() > kMaxCapChars) {
    return invalid_argument("cap is " + std::to_string(text.size()) +
                            " characters, longer than any valid cap (at most " +
                            std::to_string(kMaxCapChars) + ")");
  }
  if (starts_with_ignoring_case(text, "uri:")) {
    return invalid_argument("this is a Tahoe-LAFS cap ('URI:...'), not a lafs cap ('" +
                            std::string(kCapPrefix) + "...'); the formats are not compatible");
  }
  LAFS_RETURN_IF_ERROR(check_cap_chars(text));
  const std::vector<std::string_view> parts = split_fields(text);
  LAFS_RETURN_IF_ERROR(check_version(parts[0]));
  if (parts.size() < 2) {
    return invalid_argument("missing cap kind after '" + std::string(kCapPrefix) + "'");
  }
  auto kind = parse_kind(parts[1]);
  if (!kind.ok()) return kind.status();
  const auto fields = std::span<const std::string_view>(parts).subspan(2);
  LAFS_RETURN_IF_ERROR(check_field_count(*kind, fields.size()));
  auto file = parse_file_fields(*kind, FieldReader(*kind, fields));
  if (!file.ok()) return file.status();
  Cap cap{std::move(*file), is_directory_kind(*kind)};
  LAFS_ASSERT(cap.kind() == *kind);
  return cap;
}

// ---- Formatting ----

void append_b32(std::string* out, ByteView bytes) {
  out->push_back(':');
  *out += base32_encode(bytes);
}

void append_params(std::string* out, const ImmutableParams& p) {
  *out += ':' + std::to_string(p.needed_shares) + ':' + std::to_string(p.total_shares) + ':' +
          std::to_string(p.size_bytes);
}

void append_fields(std::string* out, const FileCap& file) {
  std::visit(
      [out](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, ChkReadCap>) {
          append_b32(out, c.key.view());
          append_b32(out, c.extension_hash);
          append_params(out, c.params);
        } else if constexpr (std::is_same_v<T, ChkVerifyCap>) {
          append_b32(out, c.storage_index);
          append_b32(out, c.extension_hash);
          append_params(out, c.params);
        } else if constexpr (std::is_same_v<T, LiteralCap>) {
          append_b32(out, c.data);
        } else if constexpr (std::is_same_v<T, SskWriteCap>) {
          append_b32(out, c.write_key.view());
          append_b32(out, c.fingerprint);
        } else if constexpr (std::is_same_v<T, SskReadCap>) {
          append_b32(out, c.read_key.view());
          append_b32(out, c.fingerprint);
        } else {
          static_assert(std::is_same_v<T, SskVerifyCap>);
          append_b32(out, c.storage_index);
          append_b32(out, c.fingerprint);
        }
      },
      file);
}

// ---- Diminishing ----

ChkVerifyCap chk_verify_of(const ChkReadCap& c) {
  return ChkVerifyCap{crypto::immutable_storage_index(c.key), c.extension_hash, c.params};
}

SskReadCap ssk_read_of(const SskWriteCap& c) {
  return SskReadCap{crypto::mutable_read_key(c.write_key), c.fingerprint};
}

SskVerifyCap ssk_verify_of(const SskReadCap& c) {
  return SskVerifyCap{crypto::mutable_storage_index(c.read_key), c.fingerprint};
}

// The one-step diminish of a file cap; nullopt at the bottom.
std::optional<FileCap> diminish_file(const FileCap& file) {
  if (const auto* c = std::get_if<ChkReadCap>(&file)) return FileCap(chk_verify_of(*c));
  if (const auto* c = std::get_if<SskWriteCap>(&file)) return FileCap(ssk_read_of(*c));
  if (const auto* c = std::get_if<SskReadCap>(&file)) return FileCap(ssk_verify_of(*c));
  return std::nullopt;
}

}  // namespace

std::string_view cap_kind_name(CapKind kind) {
  return kKinds.at(static_cast<std::size_t>(kind)).name;
}

std::string_view cap_kind_description(CapKind kind) {
  return kKinds.at(static_cast<std::size_t>(kind)).description;
}

std::string_view authority_name(Authority a) {
  switch (a) {
    case Authority::kWrite:
      return "write";
    case Authority::kRead:
      return "read";
    case Authority::kVerify:
      return "verify";
  }
  LAFS_UNREACHABLE();
}

CapKind Cap::kind() const {
  const std::size_t i = file.index();
  LAFS_ASSERT(i < kFileKindCount);
  return directory ? kDirectoryKinds[i] : static_cast<CapKind>(i);
}

Authority Cap::authority() const {
  if (std::holds_alternative<SskWriteCap>(file)) return Authority::kWrite;
  if (std::holds_alternative<ChkVerifyCap>(file) || std::holds_alternative<SskVerifyCap>(file)) {
    return Authority::kVerify;
  }
  return Authority::kRead;
}

bool Cap::is_mutable() const {
  return std::holds_alternative<SskWriteCap>(file) || std::holds_alternative<SskReadCap>(file) ||
         std::holds_alternative<SskVerifyCap>(file);
}

Result<Cap> parse_cap(std::string_view text) {
  auto cap = parse_cap_inner(text);
  if (!cap.ok()) {
    const bool newer = cap.status().code() == ErrorCode::kUnimplemented;
    return cap.status().with_context(newer ? "unsupported cap" : "malformed cap");
  }
  return cap;
}

Status validate_cap(const Cap& cap) {
  if (const auto* c = std::get_if<ChkReadCap>(&cap.file)) return check_params(c->params);
  if (const auto* c = std::get_if<ChkVerifyCap>(&cap.file)) return check_params(c->params);
  if (const auto* c = std::get_if<LiteralCap>(&cap.file)) {
    if (c->data.size() > kMaxLiteralBytes) {
      return invalid_argument("a literal cap holds at most " + std::to_string(kMaxLiteralBytes) +
                              " bytes, got " + std::to_string(c->data.size()));
    }
  }
  return Status{};
}

std::string format_cap(const Cap& cap) {
  const Status valid = validate_cap(cap);
  LAFS_ASSERT_MSG(valid.is_ok(), valid.message().c_str());
  std::string out(kCapPrefix);
  out += cap_kind_name(cap.kind());
  append_fields(&out, cap.file);
  LAFS_ASSERT(out.size() <= kMaxCapChars);
  return out;
}

std::optional<Cap> diminish(const Cap& cap) {
  auto file = diminish_file(cap.file);
  if (!file) return std::nullopt;
  Cap out{std::move(*file), cap.directory};
  LAFS_ASSERT(static_cast<int>(out.authority()) == static_cast<int>(cap.authority()) + 1);
  return out;
}

std::optional<Cap> read_cap(const Cap& cap) {
  switch (cap.authority()) {
    case Authority::kWrite:
      return diminish(cap);
    case Authority::kRead:
      return cap;
    case Authority::kVerify:
      return std::nullopt;
  }
  LAFS_UNREACHABLE();
}

std::optional<Cap> verify_cap(const Cap& cap) {
  if (cap.is_literal()) return std::nullopt;
  std::optional<Cap> c = cap;
  while (c->authority() != Authority::kVerify) c = diminish(*c);
  return c;
}

std::optional<crypto::StorageIndex> storage_index(const Cap& cap) {
  const std::optional<Cap> v = verify_cap(cap);
  if (!v) return std::nullopt;
  if (const auto* c = std::get_if<ChkVerifyCap>(&v->file)) return c->storage_index;
  return std::get<SskVerifyCap>(v->file).storage_index;
}

SskWriteCap ssk_write_cap(const crypto::SigningKey& key) {
  return SskWriteCap{crypto::mutable_write_key(key.seed()),
                     crypto::verifying_key_fingerprint(key.verifying_key())};
}

}  // namespace lafs::cap
