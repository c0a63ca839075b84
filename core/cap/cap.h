// Capabilities: the strings that name a file or directory and carry the authority to use it.
// Parse, format, diminish (write -> read -> verify) and storage index of every cap kind.
// Grammar, field sizes, diminish rules and known answers: docs/specs/caps.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/crypto/cipher.h"
#include "core/crypto/derive.h"
#include "core/crypto/hash.h"
#include "core/crypto/sign.h"
#include "core/env/bytes.h"
#include "core/runtime/status.h"

namespace lafs::cap {

// The version every cap carries in its prefix, "lafs1:". A parser meeting a larger version
// refuses the cap (Unimplemented, naming the version) rather than guessing at its fields.
inline constexpr std::uint32_t kCapFormatVersion = 1;
inline constexpr std::string_view kCapPrefix = "lafs1:";
// The most plaintext a literal cap holds (Tahoe's threshold too): 55 bytes are 88 base32
// characters, so a literal cap is never longer than the chk cap the file would otherwise get.
inline constexpr std::size_t kMaxLiteralBytes = 55;
// 1 <= k <= n <= kMaxShares (the erasure codec's limit over GF(2^8)).
inline constexpr std::uint32_t kMaxShares = 256;
// No valid cap is longer (the longest, dir-chk with n=256 and a 19-digit size, is 147); the
// parser refuses longer input before looking at it.
inline constexpr std::size_t kMaxCapChars = 256;

// The kind token after the prefix. Each file kind has a directory twin: a directory is a file
// whose plaintext is a table of child entries, named by the same fields.
enum class CapKind : std::uint8_t {
  kChkRead,       // "chk": immutable file, read
  kChkVerify,     // "chk-verify": immutable file, verify
  kLiteral,       // "lit": tiny immutable file inside the cap
  kSskWrite,      // "ssk": mutable file, write
  kSskRead,       // "ssk-read": mutable file, read
  kSskVerify,     // "ssk-verify": mutable file, verify
  kDirWrite,      // "dir": directory over a mutable file, write
  kDirRead,       // "dir-read"
  kDirVerify,     // "dir-verify"
  kDirChkRead,    // "dir-chk": directory over an immutable file, read
  kDirChkVerify,  // "dir-chk-verify"
  kDirLiteral,    // "dir-lit": tiny immutable directory inside the cap
};
inline constexpr std::size_t kCapKindCount = static_cast<std::size_t>(CapKind::kDirLiteral) + 1;

// The token in the cap ("chk", "ssk-read", ...), and a phrase for people.
std::string_view cap_kind_name(CapKind kind);
std::string_view cap_kind_description(CapKind kind);

// What a cap lets its holder do. Literal caps are read caps (they hold the plaintext).
enum class Authority : std::uint8_t { kWrite, kRead, kVerify };
std::string_view authority_name(Authority a);

// The erasure coding and size of an immutable file, pinned in its read and verify caps so that a
// downloader knows how many shares to fetch and how long the plaintext is before it asks anyone.
struct ImmutableParams {
  std::uint32_t needed_shares = 0;  // k
  std::uint32_t total_shares = 0;   // n
  std::uint64_t size_bytes = 0;     // plaintext length, <= crypto::kMaxFileBytes
  friend bool operator==(const ImmutableParams&, const ImmutableParams&) = default;
};

// Immutable read: the file key (the storage index is derived from it) and the hash of the
// extension block, which pins every tree root and so every byte.
struct ChkReadCap {
  crypto::FileKey key;
  crypto::Digest extension_hash{};
  ImmutableParams params;
  friend bool operator==(const ChkReadCap&, const ChkReadCap&) = default;
};
// Immutable verify: enough to find and check every share, not to decrypt.
struct ChkVerifyCap {
  crypto::StorageIndex storage_index{};
  crypto::Digest extension_hash{};
  ImmutableParams params;
  friend bool operator==(const ChkVerifyCap&, const ChkVerifyCap&) = default;
};
// The plaintext itself (at most kMaxLiteralBytes). No shares, no storage index, no verify cap.
struct LiteralCap {
  Bytes data;
  friend bool operator==(const LiteralCap&, const LiteralCap&) = default;
};
// Mutable write/read/verify: a key of the chain (derive.h) and the verifying key's fingerprint,
// with which a reader checks the verifying key, and so the signature, of every share.
struct SskWriteCap {
  crypto::WriteKey write_key;
  crypto::Fingerprint fingerprint{};
  friend bool operator==(const SskWriteCap&, const SskWriteCap&) = default;
};
struct SskReadCap {
  crypto::ReadKey read_key;
  crypto::Fingerprint fingerprint{};
  friend bool operator==(const SskReadCap&, const SskReadCap&) = default;
};
struct SskVerifyCap {
  crypto::StorageIndex storage_index{};
  crypto::Fingerprint fingerprint{};
  friend bool operator==(const SskVerifyCap&, const SskVerifyCap&) = default;
};

// The variant index is the file CapKind (kChkRead = 0 ... kSskVerify = 5).
using FileCap =
    std::variant<ChkReadCap, ChkVerifyCap, LiteralCap, SskWriteCap, SskReadCap, SskVerifyCap>;

// Any cap: the file it names, and whether that file is a directory.
struct Cap {
  FileCap file;
  bool directory = false;

  CapKind kind() const;
  Authority authority() const;
  bool is_mutable() const;  // ssk and dir (over ssk)
  bool is_literal() const { return std::holds_alternative<LiteralCap>(file); }
  friend bool operator==(const Cap&, const Cap&) = default;
};

// Strict: every string parse_cap accepts is exactly format_cap of what it returns. Errors are
// InvalidArgument whose message names what is wrong (the field, the character and its position,
// the count or range), except a newer format version: Unimplemented, naming the version.
// Messages never repeat key material.
Result<Cap> parse_cap(std::string_view text);

// OK if `cap` can be formatted: 1 <= k <= n <= 256, size <= kMaxFileBytes, literal data at
// most kMaxLiteralBytes. For caps built in code (an uploader's); parse_cap checks the same.
Status validate_cap(const Cap& cap);

// The canonical string. `cap` must be valid (asserted).
std::string format_cap(const Cap& cap);

// One step down: write -> read, read -> verify; nullopt for verify caps and literals (which
// have nothing weaker). Each step is a one-way hash (derive.h) or drops the key.
std::optional<Cap> diminish(const Cap& cap);
// The read cap of a write cap, a read cap itself; nullopt for verify caps.
std::optional<Cap> read_cap(const Cap& cap);
// The verify cap of any write, read or verify cap; nullopt for literals.
std::optional<Cap> verify_cap(const Cap& cap);

// Where the file's shares live: derived from the key of a write or read cap, carried by a
// verify cap. nullopt for literals, which have no shares.
std::optional<crypto::StorageIndex> storage_index(const Cap& cap);

// The write cap of a new mutable file (or directory) whose signing key is `key`.
SskWriteCap ssk_write_cap(const crypto::SigningKey& key);

}  // namespace lafs::cap
