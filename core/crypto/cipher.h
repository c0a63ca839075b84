// The data-path stream cipher: ChaCha20 in Bernstein's original layout (64-bit nonce, 64-bit
// block counter), via libcrypto, usable at any byte offset so a reader can decrypt one segment.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/crypto/secret.h"
#include "core/env/bytes.h"
#include "core/runtime/status.h"

namespace lafs::crypto {

inline constexpr std::size_t kStreamKeyBytes = 32;
inline constexpr std::size_t kStreamNonceBytes = 8;
inline constexpr std::size_t kChaChaBlockBytes = 64;

// The longest keystream one (key, nonce) may produce, and so the largest file lafs stores:
// 2^60 bytes (1 EiB). The cipher itself allows 2^64 blocks of 64 bytes (2^70 bytes); we stop
// far below so that `offset + length` and segment arithmetic on uint64 can never overflow.
// Uploads must refuse larger files up front with a clear message; xor_at refuses too.
inline constexpr std::uint64_t kMaxStreamBytes = std::uint64_t{1} << 60;
inline constexpr std::uint64_t kMaxFileBytes = kMaxStreamBytes;

using StreamKey = SecretBytes<kStreamKeyBytes>;
// Nonces are not secret. Immutable files and per-segment mutable keys use the zero nonce: the
// key itself is unique to one plaintext (see docs/specs/crypto.md, "Key and nonce uniqueness").
using StreamNonce = std::array<std::uint8_t, kStreamNonceBytes>;

// Encrypts/decrypts (the same operation) with a reusable libcrypto context. Move-only.
// Thread-compatible: one object per thread.
class StreamCipher {
 public:
  StreamCipher();
  ~StreamCipher();
  StreamCipher(StreamCipher&& other) noexcept;
  StreamCipher& operator=(StreamCipher&& other) noexcept;
  StreamCipher(const StreamCipher&) = delete;
  StreamCipher& operator=(const StreamCipher&) = delete;

  // out[i] = in[i] XOR keystream(key, nonce)[offset + i]. `out` may be `in` (exactly, not a
  // partial overlap); sizes must match. InvalidArgument, with nothing written, when
  // offset + in.size() exceeds kMaxStreamBytes.
  Status xor_at(const StreamKey& key, const StreamNonce& nonce, std::uint64_t offset, ByteView in,
                MutableByteView out);
  // In place.
  Status xor_at(const StreamKey& key, const StreamNonce& nonce, std::uint64_t offset,
                MutableByteView data) {
    return xor_at(key, nonce, offset, data, data);
  }

 private:
  void run(const StreamKey& key, const StreamNonce& nonce, std::uint64_t block,
           std::size_t skip_bytes, const std::uint8_t* in, std::uint8_t* out, std::size_t n);
  EVP_CIPHER_CTX* ctx_;
};

// One-shot form (allocates a context; prefer a StreamCipher on the data path).
Status xor_at(const StreamKey& key, const StreamNonce& nonce, std::uint64_t offset,
              MutableByteView data);

}  // namespace lafs::crypto
