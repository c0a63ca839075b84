// Property tests of core/crypto: the keystream at any offset is the slice of the full keystream
// (and Bernstein's ChaCha20 as libsodium computes it), encryption round-trips, and tagged hashes
// do not depend on how the input is split.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <vector>

#include "core/crypto/cipher.h"
#include "core/crypto/hash.h"

namespace lafs::crypto {
namespace {

StreamKey gen_key() {
  const auto bytes = *rc::gen::container<std::vector<std::uint8_t>>(
      kStreamKeyBytes, rc::gen::arbitrary<std::uint8_t>());
  return StreamKey(bytes);
}

StreamNonce gen_nonce() {
  StreamNonce n;
  for (auto& b : n) b = *rc::gen::arbitrary<std::uint8_t>();
  return n;
}

// A base offset anywhere in the stream, biased towards the edges that matter: 0, 64-byte block
// boundaries, the 2^32-block counter wrap, and the end of the allowed stream.
std::uint64_t gen_base(std::uint64_t room) {
  const std::uint64_t wrap = (std::uint64_t{1} << 32) * kChaChaBlockBytes;
  const std::uint64_t max_base = kMaxStreamBytes - room;
  return *rc::gen::oneOf(rc::gen::just<std::uint64_t>(0),
                         rc::gen::inRange<std::uint64_t>(0, 1 << 20),
                         rc::gen::map(rc::gen::inRange<std::uint64_t>(0, 2 * room),
                                      [=](std::uint64_t d) { return wrap - room + d; }),
                         rc::gen::map(rc::gen::inRange<std::uint64_t>(0, room),
                                      [=](std::uint64_t d) { return max_base - d; }),
                         rc::gen::inRange<std::uint64_t>(0, max_base));
}

Bytes keystream(const StreamKey& key, const StreamNonce& nonce, std::uint64_t offset,
                std::size_t n) {
  Bytes b(n, 0);
  RC_ASSERT(xor_at(key, nonce, offset, b).is_ok());
  return b;
}

RC_GTEST_PROP(CryptoCipherProperty, KeystreamAtOffsetIsSliceOfFullKeystream, ()) {
  const StreamKey key = gen_key();
  const StreamNonce nonce = gen_nonce();
  const std::size_t total = *rc::gen::inRange<std::size_t>(1, 4096);
  const std::uint64_t base = gen_base(total);
  const Bytes full = keystream(key, nonce, base, total);
  const std::size_t o = *rc::gen::inRange<std::size_t>(0, total);
  const std::size_t n = *rc::gen::inRange<std::size_t>(0, total - o + 1);
  const Bytes slice = keystream(key, nonce, base + o, n);
  RC_ASSERT(std::equal(slice.begin(), slice.end(), full.begin() + static_cast<std::ptrdiff_t>(o)));
}

RC_GTEST_PROP(CryptoCipherProperty, KeystreamMatchesLibsodiumChaCha20, ()) {
  const StreamKey key = gen_key();
  const StreamNonce nonce = gen_nonce();
  const std::size_t n = *rc::gen::inRange<std::size_t>(0, 1024);
  const std::uint64_t offset = gen_base(n);
  const std::size_t skip = offset % kChaChaBlockBytes;
  Bytes zeros(skip + n, 0), ref(skip + n);
  if (!zeros.empty())  // libsodium's pointers must not be null, as an empty vector's are
    crypto_stream_chacha20_xor_ic(ref.data(), zeros.data(), zeros.size(), nonce.data(),
                                  offset / kChaChaBlockBytes, key.data());
  const Bytes ours = keystream(key, nonce, offset, n);
  RC_ASSERT(std::equal(ours.begin(), ours.end(), ref.begin() + static_cast<std::ptrdiff_t>(skip)));
}

RC_GTEST_PROP(CryptoCipherProperty, SegmentwiseEncryptionEqualsWholeAndRoundTrips,
              (const std::vector<std::uint8_t>& plaintext)) {
  const StreamKey key = gen_key();
  const StreamNonce nonce = gen_nonce();
  const std::uint64_t base = gen_base(plaintext.size() + 1);
  Bytes whole = plaintext;
  RC_ASSERT(xor_at(key, nonce, base, whole).is_ok());
  // Encrypt in random-sized pieces, each at its own offset, with one reused context.
  StreamCipher cipher;
  Bytes pieces(plaintext.size());
  std::size_t pos = 0;
  while (pos < plaintext.size()) {
    const std::size_t len = *rc::gen::inRange<std::size_t>(1, plaintext.size() - pos + 1);
    RC_ASSERT(cipher
                  .xor_at(key, nonce, base + pos, ByteView(plaintext).subspan(pos, len),
                          MutableByteView(pieces).subspan(pos, len))
                  .is_ok());
    pos += len;
  }
  RC_ASSERT(pieces == whole);
  RC_ASSERT(cipher.xor_at(key, nonce, base, pieces).is_ok());
  RC_ASSERT(pieces == plaintext);
}

RC_GTEST_PROP(CryptoCipherProperty, RefusesPastTheMaximumAndWritesNothing, ()) {
  const std::size_t n = *rc::gen::inRange<std::size_t>(1, 256);
  const std::uint64_t offset =
      *rc::gen::inRange<std::uint64_t>(kMaxStreamBytes - n + 1, UINT64_MAX);
  Bytes data(n, 0x5a);
  RC_ASSERT(xor_at(StreamKey(), StreamNonce{}, offset, data).code() == ErrorCode::kInvalidArgument);
  RC_ASSERT(data == Bytes(n, 0x5a));
}

RC_GTEST_PROP(CryptoHashProperty, DigestIndependentOfSplitting,
              (const std::vector<std::uint8_t>& data)) {
  const auto tag = static_cast<HashTag>(*rc::gen::inRange<std::size_t>(0, kHashTagCount));
  Hasher h(tag);
  std::size_t pos = 0;
  while (pos < data.size()) {
    // Empty updates too, but every step makes progress (at most data.size() + 1 draws).
    const bool empty = *rc::gen::arbitrary<bool>();
    if (empty) h.update({});
    const std::size_t len = *rc::gen::inRange<std::size_t>(1, data.size() - pos + 1);
    h.update(ByteView(data).subspan(pos, len));
    pos += len;
  }
  RC_ASSERT(h.finish() == tagged_hash(tag, data));
}

RC_GTEST_PROP(CryptoHashProperty, TagsSeparateDomains, (const std::vector<std::uint8_t>& data)) {
  const auto a = *rc::gen::inRange<std::size_t>(0, kHashTagCount);
  const auto b = *rc::gen::distinctFrom(rc::gen::inRange<std::size_t>(0, kHashTagCount), a);
  RC_ASSERT(tagged_hash(static_cast<HashTag>(a), data) !=
            tagged_hash(static_cast<HashTag>(b), data));
}

}  // namespace
}  // namespace lafs::crypto
