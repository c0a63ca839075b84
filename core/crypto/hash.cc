// Tagged SHA-256d over libcrypto's EVP interface (SHA-NI where the CPU has it).
#include "core/crypto/hash.h"

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

// An explicitly fetched EVP_MD: OpenSSL 3 re-fetches (and takes a global lock) on every init
// with the legacy EVP_sha256() handle. This is a process-wide *constant* (initialised once,
// thread-safely, never changed), not mutable state: it holds no per-node data.
const EVP_MD* sha256_md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  LAFS_ASSERT_MSG(md != nullptr, "libcrypto has no SHA256");
  return md;
}

void check(int rc) {
  LAFS_ASSERT_MSG(rc == 1, "libcrypto digest call failed");
}

void begin(EVP_MD_CTX* ctx, HashTag tag) {
  check(EVP_DigestInit_ex(ctx, sha256_md(), nullptr));
  const auto block = tag_block(tag);
  check(EVP_DigestUpdate(ctx, block.data(), block.size()));
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

Hasher::Hasher(HashTag tag) : tag_(tag), ctx_(EVP_MD_CTX_new()) {
  LAFS_ASSERT(ctx_ != nullptr);
  begin_if_needed();
}

void Hasher::begin_if_needed() {
  if (started_) return;
  begin(ctx_, tag_);
  started_ = true;
}

Hasher::~Hasher() {
  EVP_MD_CTX_free(ctx_);
}

Hasher::Hasher(Hasher&& other) noexcept
    : tag_(other.tag_), ctx_(other.ctx_), started_(other.started_) {
  other.ctx_ = nullptr;
}

Hasher& Hasher::operator=(Hasher&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(ctx_);
    tag_ = other.tag_;
    ctx_ = other.ctx_;
    started_ = other.started_;
    other.ctx_ = nullptr;
  }
  return *this;
}

Hasher& Hasher::update(ByteView data) {
  LAFS_ASSERT_MSG(ctx_ != nullptr, "use of a moved-from Hasher");
  begin_if_needed();
  if (!data.empty()) check(EVP_DigestUpdate(ctx_, data.data(), data.size()));
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
  LAFS_ASSERT_MSG(ctx_ != nullptr, "use of a moved-from Hasher");
  begin_if_needed();
  Digest inner;
  unsigned int len = 0;
  check(EVP_DigestFinal_ex(ctx_, inner.data(), &len));
  LAFS_ASSERT(len == kDigestBytes);
  Digest outer;
  check(EVP_DigestInit_ex(ctx_, sha256_md(), nullptr));
  check(EVP_DigestUpdate(ctx_, inner.data(), inner.size()));
  check(EVP_DigestFinal_ex(ctx_, outer.data(), &len));
  LAFS_ASSERT(len == kDigestBytes);
  started_ = false;
  return outer;
}

void Hasher::reset(HashTag tag) {
  LAFS_ASSERT_MSG(ctx_ != nullptr, "use of a moved-from Hasher");
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
