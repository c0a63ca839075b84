// ChaCha20 at an arbitrary offset: seek to the 64-byte block, discard the bytes before the
// offset within it, and split the work where the low 32 bits of the block counter wrap.
#include "core/crypto/cipher.h"

#include <algorithm>
#include <cstring>

#include "core/runtime/assert.h"

namespace lafs::crypto {
namespace {

// A fetched, immutable algorithm handle (a process-wide constant), not per-node state: OpenSSL 3
// re-fetches, under a global lock, on every init with the legacy EVP_chacha20() handle.
const EVP_CIPHER* chacha20_cipher() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "ChaCha20", nullptr);
  LAFS_ASSERT_MSG(cipher != nullptr, "libcrypto has no ChaCha20");
  return cipher;
}

void check(int rc) {
  LAFS_ASSERT_MSG(rc == 1, "libcrypto cipher call failed");
}

// Blocks one init may produce before the low counter word wraps: libcrypto's ChaCha20 takes
// the 16-byte IV as two little-endian counter words then the 8-byte nonce, i.e. Bernstein's
// state words 12..15. Whether it carries into word 13 is an implementation detail we do not rely
// on: we re-initialise at each 2^32-block boundary (every 256 GiB), which costs nothing.
constexpr std::uint64_t kBlocksPerCounterWrap = std::uint64_t{1} << 32;

}  // namespace

StreamCipher::StreamCipher() : ctx_(EVP_CIPHER_CTX_new()) {
  LAFS_ASSERT(ctx_ != nullptr);
}

StreamCipher::~StreamCipher() {
  EVP_CIPHER_CTX_free(ctx_);
}  // frees (and clears) the key

StreamCipher::StreamCipher(StreamCipher&& other) noexcept : ctx_(other.ctx_) {
  other.ctx_ = nullptr;
}

StreamCipher& StreamCipher::operator=(StreamCipher&& other) noexcept {
  if (this != &other) {
    EVP_CIPHER_CTX_free(ctx_);
    ctx_ = other.ctx_;
    other.ctx_ = nullptr;
  }
  return *this;
}

void StreamCipher::run(const StreamKey& key, const StreamNonce& nonce, std::uint64_t block,
                       std::size_t skip_bytes, const std::uint8_t* in, std::uint8_t* out,
                       std::size_t n) {
  std::uint8_t iv[16];
  for (int i = 0; i < 8; ++i) iv[i] = static_cast<std::uint8_t>(block >> (8 * i));
  std::memcpy(iv + 8, nonce.data(), nonce.size());
  check(EVP_EncryptInit_ex2(ctx_, chacha20_cipher(), key.data(), iv, nullptr));
  int len = 0;
  if (skip_bytes > 0) {
    std::uint8_t discard[kChaChaBlockBytes] = {};
    check(EVP_EncryptUpdate(ctx_, discard, &len, discard, static_cast<int>(skip_bytes)));
    sodium_memzero(discard, sizeof discard);  // it is keystream
  }
  // EVP takes int lengths: feed at most 1 GiB at a time.
  constexpr std::size_t kChunkBytes = std::size_t{1} << 30;
  while (n > 0) {
    const std::size_t chunk = std::min(n, kChunkBytes);
    check(EVP_EncryptUpdate(ctx_, out, &len, in, static_cast<int>(chunk)));
    LAFS_ASSERT(static_cast<std::size_t>(len) == chunk);
    in += chunk;
    out += chunk;
    n -= chunk;
  }
}

Status StreamCipher::xor_at(const StreamKey& key, const StreamNonce& nonce, std::uint64_t offset,
                            ByteView in, MutableByteView out) {
  LAFS_ASSERT_MSG(ctx_ != nullptr, "use of a moved-from StreamCipher");
  LAFS_ASSERT(in.size() == out.size());
  LAFS_ASSERT_MSG(in.data() == out.data() || in.empty() || in.data() + in.size() <= out.data() ||
                      out.data() + out.size() <= in.data(),
                  "xor_at: partially overlapping buffers");
  if (offset > kMaxStreamBytes || in.size() > kMaxStreamBytes - offset) {
    return invalid_argument("stream cipher: bytes [" + std::to_string(offset) + ", +" +
                            std::to_string(in.size()) + ") exceed the maximum stream length " +
                            std::to_string(kMaxStreamBytes));
  }
  std::size_t done = 0;
  while (done < in.size()) {
    const std::uint64_t pos = offset + done;
    const std::uint64_t block = pos / kChaChaBlockBytes;
    const std::size_t skip = static_cast<std::size_t>(pos % kChaChaBlockBytes);
    // Bytes left before the low counter word wraps.
    const std::uint64_t until_wrap =
        (kBlocksPerCounterWrap - (block % kBlocksPerCounterWrap)) * kChaChaBlockBytes - skip;
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(in.size() - done, until_wrap));
    run(key, nonce, block, skip, in.data() + done, out.data() + done, n);
    done += n;
  }
  return Status{};
}

Status xor_at(const StreamKey& key, const StreamNonce& nonce, std::uint64_t offset,
              MutableByteView data) {
  StreamCipher cipher;
  return cipher.xor_at(key, nonce, offset, data);
}

}  // namespace lafs::crypto
