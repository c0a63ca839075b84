// Erasure codec throughput in MB/s of segment bytes, one core, 128 KiB segments: encode and
// decode (3 data blocks lost, cached tables) per backend and shape, with memcpy as the yardstick.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/codec/codec.h"

namespace lafs::codec {
namespace {

constexpr std::size_t kSegmentBytes = 128 * 1024;
constexpr int kLostDataBlocks = 3;

Bytes filled(std::size_t size) {
  Bytes b(size);
  std::uint32_t x = 12345;
  for (auto& v : b) {
    x = x * 1664525u + 1013904223u;
    v = static_cast<std::uint8_t>(x >> 24);
  }
  return b;
}

std::unique_ptr<ErasureCodec> make(CodecKind kind, int k, int n) {
  auto c = ErasureCodec::create(kind, k, n);
  if (!c.ok()) std::abort();
  return std::move(c).value();
}

void BM_Memcpy(benchmark::State& state) {
  const Bytes src = filled(kSegmentBytes);
  Bytes dst(kSegmentBytes);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), kSegmentBytes);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kSegmentBytes);
}

// The upload path: the segment sits in a padded buffer and the data blocks alias it, so encode
// computes parity only. With `copy`, data blocks are separate buffers (a copy of the segment).
void encode(benchmark::State& state, CodecKind kind, bool copy) {
  const int k = static_cast<int>(state.range(0));
  const int n = static_cast<int>(state.range(1));
  auto c = make(kind, k, n);
  const std::size_t bs = c->block_size(kSegmentBytes);
  Bytes padded = filled(c->padded_size(kSegmentBytes));
  std::vector<Bytes> own(n, Bytes(bs));
  std::vector<MutableByteView> views;
  for (int i = 0; i < n; ++i) {
    views.emplace_back(i < k && !copy ? MutableByteView(padded.data() + i * bs, bs) : own[i]);
  }
  const ByteView segment(padded.data(), kSegmentBytes);
  for (auto _ : state) {
    if (!c->encode(segment, views).is_ok()) std::abort();
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kSegmentBytes);
}

// The download path with data blocks 0..2 lost: k-3 data blocks and 3 parity blocks survive.
void decode(benchmark::State& state, CodecKind kind) {
  const int k = static_cast<int>(state.range(0));
  const int n = static_cast<int>(state.range(1));
  auto c = make(kind, k, n);
  const Bytes segment = filled(kSegmentBytes);
  std::vector<Bytes> blocks(n, Bytes(c->block_size(kSegmentBytes)));
  std::vector<MutableByteView> views(blocks.begin(), blocks.end());
  if (!c->encode(segment, views).is_ok()) std::abort();
  std::vector<ShareBlock> in;
  for (int s = kLostDataBlocks; s < k + kLostDataBlocks; ++s) in.emplace_back(s, blocks[s]);
  Bytes out(kSegmentBytes);
  for (auto _ : state) {
    if (!c->decode(in, kSegmentBytes, out).is_ok()) std::abort();
    benchmark::ClobberMemory();
  }
  if (out != segment) state.SkipWithError("decode produced the wrong segment");
  state.counters["table_builds"] = static_cast<double>(c->stats().decode_table_builds);
  state.SetBytesProcessed(state.iterations() * kSegmentBytes);
}

void BM_EncodeIsal(benchmark::State& s) {
  encode(s, CodecKind::kReedSolomon, false);
}
void BM_EncodeIsalCopying(benchmark::State& s) {
  encode(s, CodecKind::kReedSolomon, true);
}
void BM_EncodeJerasure(benchmark::State& s) {
  encode(s, CodecKind::kReedSolomonJerasure, false);
}
void BM_DecodeIsal(benchmark::State& s) {
  decode(s, CodecKind::kReedSolomon);
}
void BM_DecodeJerasure(benchmark::State& s) {
  decode(s, CodecKind::kReedSolomonJerasure);
}

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"k", "n"})->Args({3, 10})->Args({10, 16})->Args({29, 80});
}

BENCHMARK(BM_Memcpy);
BENCHMARK(BM_EncodeIsal)->Apply(shapes);
BENCHMARK(BM_EncodeIsalCopying)->Apply(shapes);
BENCHMARK(BM_EncodeJerasure)->Apply(shapes);
BENCHMARK(BM_DecodeIsal)->Apply(shapes);
BENCHMARK(BM_DecodeJerasure)->Apply(shapes);

}  // namespace
}  // namespace lafs::codec
