// Data-path hash and stream cipher candidates, MB/s on one core, at a 3-of-10 block (43,691 B)
// and a whole 128 KiB segment. The choice and figures are in docs/specs/crypto.md.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <cstdint>
#include <vector>

#include "core/crypto/cipher.h"
#include "core/crypto/hash.h"

namespace {

// A 128 KiB segment's block at k=3 (ceil(131072 / 3)), and the segment itself.
constexpr std::int64_t kBlockBytes = 43691;
constexpr std::int64_t kSegmentBytes = 131072;

std::vector<std::uint8_t> input(std::int64_t n) {
  std::vector<std::uint8_t> v(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint8_t>(i * 131 + 7);
  return v;
}

void finish(benchmark::State& state) {
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

// One fetched EVP_MD, one reused context: what the data path would do.
void bench_evp_digest(benchmark::State& state, const char* name) {
  auto data = input(state.range(0));
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  for (auto _ : state) {
    EVP_DigestInit_ex(ctx, md, nullptr);
    EVP_DigestUpdate(ctx, data.data(), data.size());
    EVP_DigestFinal_ex(ctx, out, &out_len);
    benchmark::DoNotOptimize(out);
  }
  EVP_MD_CTX_free(ctx);
  EVP_MD_free(md);
  finish(state);
}

void BM_Libcrypto_Sha256(benchmark::State& state) {
  bench_evp_digest(state, "SHA256");
}
void BM_Libcrypto_Blake2b512(benchmark::State& state) {
  bench_evp_digest(state, "BLAKE2B-512");
}

void BM_Sodium_Blake2b256(benchmark::State& state) {
  auto data = input(state.range(0));
  unsigned char out[32];
  for (auto _ : state) {
    crypto_generichash(out, sizeof out, data.data(), data.size(), nullptr, 0);
    benchmark::DoNotOptimize(out);
  }
  finish(state);
}

void BM_Sodium_Sha256(benchmark::State& state) {
  auto data = input(state.range(0));
  unsigned char out[crypto_hash_sha256_BYTES];
  for (auto _ : state) {
    crypto_hash_sha256(out, data.data(), data.size());
    benchmark::DoNotOptimize(out);
  }
  finish(state);
}

// Encrypt in place with a reused context, re-keyed per buffer (one init per segment).
void bench_evp_cipher(benchmark::State& state, const char* name) {
  auto data = input(state.range(0));
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, name, nullptr);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  unsigned char key[32] = {1, 2, 3};
  unsigned char iv[16] = {4, 5, 6};
  int out_len = 0;
  for (auto _ : state) {
    EVP_EncryptInit_ex2(ctx, cipher, key, iv, nullptr);
    EVP_EncryptUpdate(ctx, data.data(), &out_len, data.data(), static_cast<int>(data.size()));
    benchmark::DoNotOptimize(data.data());
  }
  EVP_CIPHER_CTX_free(ctx);
  EVP_CIPHER_free(cipher);
  finish(state);
}

void BM_Libcrypto_ChaCha20(benchmark::State& state) {
  bench_evp_cipher(state, "ChaCha20");
}
void BM_Libcrypto_Aes256Ctr(benchmark::State& state) {
  bench_evp_cipher(state, "AES-256-CTR");
}

void BM_Sodium_XChaCha20(benchmark::State& state) {
  auto data = input(state.range(0));
  unsigned char key[crypto_stream_xchacha20_KEYBYTES] = {1};
  unsigned char nonce[crypto_stream_xchacha20_NONCEBYTES] = {2};
  for (auto _ : state) {
    crypto_stream_xchacha20_xor(data.data(), data.data(), data.size(), nonce, key);
    benchmark::DoNotOptimize(data.data());
  }
  finish(state);
}

void BM_Sodium_ChaCha20Ietf(benchmark::State& state) {
  auto data = input(state.range(0));
  unsigned char key[crypto_stream_chacha20_ietf_KEYBYTES] = {1};
  unsigned char nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {2};
  for (auto _ : state) {
    crypto_stream_chacha20_ietf_xor(data.data(), data.data(), data.size(), nonce, key);
    benchmark::DoNotOptimize(data.data());
  }
  finish(state);
}

// Our wrappers over the chosen primitives: the overhead of tagging, and of seeking to an offset.
void BM_Lafs_TaggedHash(benchmark::State& state) {
  auto data = input(state.range(0));
  for (auto _ : state) {
    auto h = lafs::crypto::tagged_hash(lafs::crypto::HashTag::kBlockLeaf, data);
    benchmark::DoNotOptimize(h);
  }
  finish(state);
}

// A hash tree interior node: two digests in, with a reused Hasher as the tree code does.
void BM_Lafs_TreeNode(benchmark::State& state) {
  lafs::crypto::Digest left{}, right{};
  lafs::crypto::Hasher hasher(lafs::crypto::HashTag::kBlockTreeNode);
  for (auto _ : state) {
    left = hasher.update(left).update(right).finish();
    benchmark::DoNotOptimize(left);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Lafs_XorAt(benchmark::State& state) {
  auto data = input(state.range(0));
  lafs::crypto::StreamKey key;
  key.mutable_view()[0] = 1;
  const lafs::crypto::StreamNonce nonce{};
  lafs::crypto::StreamCipher cipher;
  std::uint64_t offset = 0;
  for (auto _ : state) {
    LAFS_ASSERT(cipher.xor_at(key, nonce, offset, data).is_ok());
    offset += data.size() + 5;  // unaligned to the block size on purpose
    benchmark::DoNotOptimize(data.data());
  }
  finish(state);
}

}  // namespace

#define LAFS_CRYPTO_BENCH(fn) BENCHMARK(fn)->Arg(kBlockBytes)->Arg(kSegmentBytes)

LAFS_CRYPTO_BENCH(BM_Libcrypto_Sha256);
LAFS_CRYPTO_BENCH(BM_Libcrypto_Blake2b512);
LAFS_CRYPTO_BENCH(BM_Sodium_Blake2b256);
LAFS_CRYPTO_BENCH(BM_Sodium_Sha256);
LAFS_CRYPTO_BENCH(BM_Libcrypto_ChaCha20);
LAFS_CRYPTO_BENCH(BM_Libcrypto_Aes256Ctr);
LAFS_CRYPTO_BENCH(BM_Sodium_XChaCha20);
LAFS_CRYPTO_BENCH(BM_Sodium_ChaCha20Ietf);
LAFS_CRYPTO_BENCH(BM_Lafs_TaggedHash);
BENCHMARK(BM_Lafs_TreeNode);
LAFS_CRYPTO_BENCH(BM_Lafs_XorAt);
