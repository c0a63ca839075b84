// Tagged SHA-256d over libcrypto's low-level SHA-256 (SHA-NI where the CPU has it). The
// low-level calls are deprecated in OpenSSL 3 but shipped; per call they cost a fraction of the
// EVP machinery's, and most hashes here are one or two blocks (derivations, tree nodes).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "core/crypto/hash.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>

#include "core/runtime/assert.h"

namespace lafs::crypto {
namespace {

// The names are the format: see hash.h before touching one.
constexpr std::string_view kTagNames[kHashTagCount] = {
    "lafs-v1/immutable/convergent-key",
    "lafs-v1/immutable/storage-index",
    "lafs-v1/immutable/ciphertext-segment",
    "lafs-v1/immutable/ciphertext-tree-node",
    "lafs-v1/block-leaf",
    "lafs-v1/block-tree-node",
    "lafs-v1/share-tree-node",
    "lafs-v1/immutable/extension-block",
    "lafs-v1/mutable/write-key",
    "lafs-v1/mutable/read-key",
    "lafs-v1/mutable/storage-index",
    "lafs-v1/mutable/verifying-key-fingerprint",
    "lafs-v1/mutable/write-enabler",
    "lafs-v1/mutable/data-key",
    "lafs-v1/mutable/signing-key-wrap",
    "lafs-v1/mutable/header-signature",
    "lafs-v1/mutable/block-leaf",
    "lafs-v1/directory/entry-key",
    "lafs-v1/lease/renew-file",
    "lafs-v1/lease/renew-server",
    "lafs-v1/lease/cancel-file",
    "lafs-v1/lease/cancel-server",
    "lafs-v1/placement/permuted-ring",
    "lafs-v1/net/handshake",
    "lafs-v1/introducer/announcement-signature",
    "lafs-v1/hashtree/padding",
};

// The SHA-256 state after each tag's block, prepared once: a process-wide *constant*
// (initialised once, thread-safely, never changed), not mutable state.
const SHA256_CTX& tag_midstate(HashTag tag) {
  struct Table {
    SHA256_CTX state[kHashTagCount];
    Table() {
      for (std::size_t i = 0; i < kHashTagCount; ++i) {
        const auto block = tag_block(static_cast<HashTag>(i));
        LAFS_ASSERT(SHA256_Init(&state[i]) == 1);
        LAFS_ASSERT(SHA256_Update(&state[i], block.data(), block.size()) == 1);
      }
    }
  };
  static const Table table;
  const auto i = static_cast<std::size_t>(tag);
  LAFS_ASSERT(i < kHashTagCount);
  return table.state[i];
}

void check(int rc) {
  LAFS_ASSERT_MSG(rc == 1, "libcrypto digest call failed");
}

void put_be(std::uint8_t* out, std::uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(v & 0xff);
    v >>= 8;
  }
}

}  // namespace

std::string_view hash_tag_name(HashTag tag) {
  const auto i = static_cast<std::size_t>(tag);
  LAFS_ASSERT(i < kHashTagCount);
  return kTagNames[i];
}

std::array<std::uint8_t, 64> tag_block(HashTag tag) {
  const std::string_view name = hash_tag_name(tag);
  LAFS_ASSERT(name.size() <= kMaxTagNameBytes);
  std::array<std::uint8_t, 64> block{};
  block[0] = static_cast<std::uint8_t>(name.size());
  std::memcpy(block.data() + 1, name.data(), name.size());
  return block;
}

static_assert(sizeof(SHA256_CTX) <= 112, "Hasher::kStateBytes is too small for SHA256_CTX");

namespace {
SHA256_CTX* state_of(unsigned char* bytes) {
  return reinterpret_cast<SHA256_CTX*>(bytes);
}
}  // namespace

Hasher::Hasher(HashTag tag) : tag_(tag) {
  begin_if_needed();
}

void Hasher::begin_if_needed() {
  if (started_) return;
  std::memcpy(state_, &tag_midstate(tag_), sizeof(SHA256_CTX));
  started_ = true;
}

Hasher::~Hasher() {
  OPENSSL_cleanse(state_, sizeof state_);  // it may hold a secret's trace
}

Hasher::Hasher(Hasher&& other) noexcept : tag_(other.tag_), started_(other.started_) {
  std::memcpy(state_, other.state_, sizeof state_);
  other.moved_from_ = true;
}

Hasher& Hasher::operator=(Hasher&& other) noexcept {
  if (this != &other) {
    std::memcpy(state_, other.state_, sizeof state_);
    tag_ = other.tag_;
    started_ = other.started_;
    moved_from_ = false;
    other.moved_from_ = true;
  }
  return *this;
}

Hasher& Hasher::update(ByteView data) {
  LAFS_ASSERT_MSG(!moved_from_, "use of a moved-from Hasher");
  begin_if_needed();
  if (!data.empty()) check(SHA256_Update(state_of(state_), data.data(), data.size()));
  return *this;
}

Hasher& Hasher::update_u32(std::uint32_t v) {
  std::uint8_t b[4];
  put_be(b, v, 4);
  return update(b);
}

Hasher& Hasher::update_u64(std::uint64_t v) {
  std::uint8_t b[8];
  put_be(b, v, 8);
  return update(b);
}

Hasher& Hasher::update_field(ByteView data) {
  update_u64(data.size());
  return update(data);
}

Digest Hasher::finish() {
  LAFS_ASSERT_MSG(!moved_from_, "use of a moved-from Hasher");
  begin_if_needed();
  Digest inner;
  check(SHA256_Final(inner.data(), state_of(state_)));
  Digest outer;
  SHA256_CTX* c = state_of(state_);
  check(SHA256_Init(c));
  check(SHA256_Update(c, inner.data(), inner.size()));
  check(SHA256_Final(outer.data(), c));
  OPENSSL_cleanse(inner.data(), inner.size());
  started_ = false;
  return outer;
}

void Hasher::reset(HashTag tag) {
  LAFS_ASSERT_MSG(!moved_from_, "use of a moved-from Hasher");
  tag_ = tag;
  started_ = false;
  begin_if_needed();
}

Digest tagged_hash(HashTag tag, ByteView data) {
  return Hasher(tag).update(data).finish();
}

Digest tagged_hash2(HashTag tag, ByteView a, ByteView b) {
  return Hasher(tag).update(a).update(b).finish();
}

std::string to_hex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 0xf]);
  }
  return s;
}

bool from_hex(std::string_view hex, Bytes* out) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return false;
  Bytes bytes(hex.size() / 2);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    bytes[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  *out = std::move(bytes);
  return true;
}

}  // namespace lafs::crypto
