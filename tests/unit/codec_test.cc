// Unit tests of the erasure codec: profile validation, the matrix against Jerasure's, the
// known-answer vectors of docs/specs/erasure-code.md, decoding from every subset of shares for
// small shapes, the error paths, share selection and the decode-table cache.
#include <gtest/gtest.h>

extern "C" {
#include <gf_complete.h>
}
#include <jerasure/reed_sol.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/codec/codec.h"
#include "core/codec/decode_cache.h"
#include "core/codec/matrix.h"

namespace lafs::codec {
namespace {

constexpr CodecKind kRsKinds[] = {CodecKind::kReedSolomon, CodecKind::kReedSolomonJerasure};

std::unique_ptr<ErasureCodec> make(CodecKind kind, int k, int n) {
  auto c = ErasureCodec::create(kind, k, n);
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  return std::move(c).value();
}

// Deterministic filler: the tests need varied bytes, not randomness.
Bytes pattern(std::size_t size, std::uint32_t seed) {
  Bytes b(size);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& v : b) {
    x = x * 1664525u + 1013904223u;
    v = static_cast<std::uint8_t>(x >> 24);
  }
  return b;
}

std::vector<Bytes> encode_all(ErasureCodec& c, ByteView segment) {
  std::vector<Bytes> blocks(c.n(), Bytes(c.block_size(segment.size())));
  std::vector<MutableByteView> views(blocks.begin(), blocks.end());
  Status s = c.encode(segment, views);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  return blocks;
}

Result<Bytes> decode_from(ErasureCodec& c, const std::vector<Bytes>& blocks,
                          const std::vector<int>& shares, std::size_t segment_size) {
  std::vector<ShareBlock> in;
  for (int s : shares) in.emplace_back(s, blocks[s]);
  Bytes out(segment_size);
  Status st = c.decode(in, segment_size, out);
  if (!st.is_ok()) return st;
  return out;
}

std::string hex(ByteView b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (std::uint8_t x : b) {
    s += kDigits[x >> 4];
    s += kDigits[x & 15];
  }
  return s;
}

Bytes counting(std::size_t size) {
  Bytes b(size);
  for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>(i);
  return b;
}

// --- validation ---------------------------------------------------------------------------------

TEST(CodecValidation, RejectsBadShapesListingTheValidRange) {
  for (auto [k, n] : {std::pair{0, 3}, {4, 3}, {-1, 5}, {3, 257}, {300, 300}}) {
    auto c = ErasureCodec::create(CodecKind::kReedSolomon, k, n);
    ASSERT_FALSE(c.ok()) << k << "," << n;
    EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find("need 1 <= k <= n <= 256"), std::string::npos)
        << c.status().message();
    EXPECT_NE(c.status().message().find("k=" + std::to_string(k)), std::string::npos);
  }
}

TEST(CodecValidation, AcceptsTheExtremeShapes) {
  for (CodecKind kind : kRsKinds) {
    for (auto [k, n] : {std::pair{1, 1}, {1, 256}, {256, 256}, {255, 256}, {3, 10}}) {
      auto c = ErasureCodec::create(kind, k, n);
      ASSERT_TRUE(c.ok()) << c.status().to_string();
      EXPECT_EQ((*c)->k(), k);
      EXPECT_EQ((*c)->n(), n);
      EXPECT_EQ((*c)->kind(), kind);
    }
  }
}

TEST(CodecValidation, ReplicationNeedsKOfOne) {
  auto bad = ErasureCodec::create(CodecKind::kReplication, 2, 5);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("needs k=1"), std::string::npos);
  EXPECT_NE(bad.status().message().find("reed_solomon"), std::string::npos);
  EXPECT_TRUE(ErasureCodec::create(CodecKind::kReplication, 1, 5).ok());
}

TEST(CodecValidation, UnknownKindsListTheValidOnes) {
  auto c = ErasureCodec::create(static_cast<CodecKind>(42), 3, 10);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("reed_solomon, reed_solomon_jerasure, replication"),
            std::string::npos)
      << c.status().message();
  auto p = parse_codec_kind("zfec");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "unknown erasure codec 'zfec'; valid codecs: reed_solomon, reed_solomon_jerasure, "
            "replication");
  for (CodecKind kind :
       {CodecKind::kReedSolomon, CodecKind::kReedSolomonJerasure, CodecKind::kReplication}) {
    auto back = parse_codec_kind(codec_kind_name(kind));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, kind);
  }
}

TEST(CodecLayout, BlockSizeIsTheCeilingOfSegmentOverK) {
  auto c = make(CodecKind::kReedSolomon, 3, 10);
  EXPECT_EQ(c->block_size(0), 0u);
  EXPECT_EQ(c->block_size(1), 1u);
  EXPECT_EQ(c->block_size(3), 1u);
  EXPECT_EQ(c->block_size(4), 2u);
  EXPECT_EQ(c->block_size(32), 11u);
  EXPECT_EQ(c->padded_size(32), 33u);
  EXPECT_EQ(c->block_size(131072), 43691u);
  EXPECT_EQ(make(CodecKind::kReedSolomon, 1, 1)->block_size(131072), 131072u);
}

// --- the matrix is Jerasure's -------------------------------------------------------------------

void expect_matrix_matches_jerasure(int k, int n) {
  const std::vector<std::uint8_t> ours = vandermonde_coding_matrix(k, n);
  ASSERT_EQ(ours.size(), static_cast<std::size_t>(n - k) * k);
  if (n == k) return;
  int* theirs = reed_sol_vandermonde_coding_matrix(k, n - k, 8);
  ASSERT_NE(theirs, nullptr);
  const bool same =
      std::equal(ours.begin(), ours.end(), theirs, [](std::uint8_t a, int b) { return a == b; });
  std::free(theirs);
  EXPECT_TRUE(same) << "k=" << k << " n=" << n;
}

TEST(CodecMatrix, MatchesJerasureForEverySmallShape) {
  for (int n = 1; n <= 40; ++n) {
    for (int k = 1; k <= n; ++k) expect_matrix_matches_jerasure(k, n);
  }
}

TEST(CodecMatrix, MatchesJerasureForLargeShapes) {
  for (auto [k, n] :
       {std::pair{29, 80}, {10, 16}, {1, 256}, {128, 256}, {200, 256}, {255, 256}, {64, 250}}) {
    expect_matrix_matches_jerasure(k, n);
  }
}

TEST(CodecMatrix, GeneratorIsIdentityOnTopOfCodingRows) {
  const auto g = generator_matrix(3, 10);
  ASSERT_EQ(g.size(), 30u);
  const std::vector<std::uint8_t> top = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  EXPECT_TRUE(std::equal(top.begin(), top.end(), g.begin()));
  const auto m = vandermonde_coding_matrix(3, 10);
  EXPECT_TRUE(std::equal(m.begin(), m.end(), g.begin() + 9));
  // The first coding row and the first column are all ones (Jerasure's normalisation).
  for (int j = 0; j < 7; ++j) EXPECT_EQ(m[j * 3], 1);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(m[c], 1);
}

// --- known answers (docs/specs/erasure-code.md) -------------------------------------------------

struct Vector {
  int k;
  int n;
  std::size_t segment_size;
  std::vector<std::string> blocks_hex;  // shares 0..n-1 for the segment 00 01 02 ...
};

const std::vector<Vector>& known_answers() {
  static const std::vector<Vector> kVectors = {
      {3,
       10,
       32,
       {"000102030405060708090a", "0b0c0d0e0f101112131415", "161718191a1b1c1d1e1f00",
        "1d1a1714110e0b0805021f", "91a5646751d7b4b789bd25", "e1b9e0be5e129dc32b739b",
        "be356d89d3277b9fcd4616", "3453053730b484b6b9de44", "09c8276128dc044203c243",
        "0004f700f3e7e710ebefe7"}},
      {1, 1, 5, {"0001020304"}},
      {1, 3, 5, {"0001020304", "0001020304", "0001020304"}},
      {2, 4, 3, {"0001", "0200", "0201", "0301"}},
      {10,
       16,
       64,
       {"00010203040506", "0708090a0b0c0d", "0e0f1011121314", "15161718191a1b", "1c1d1e1f202122",
        "23242526272829", "2a2b2c2d2e2f30", "31323334353637", "38393a3b3c3d3e", "3f000000000000",
        "3f09121b242d36", "429b4efc2e960e", "d2f29e37d7b492", "8699e07bc52252", "f19ad15134e5fb",
        "f529676e1ce653"}},
  };
  return kVectors;
}

TEST(CodecKnownAnswer, EveryBackendProducesThePinnedBlocks) {
  for (const Vector& v : known_answers()) {
    std::vector<CodecKind> kinds(std::begin(kRsKinds), std::end(kRsKinds));
    if (v.k == 1) kinds.push_back(CodecKind::kReplication);
    for (CodecKind kind : kinds) {
      auto c = make(kind, v.k, v.n);
      const Bytes segment = counting(v.segment_size);
      const auto blocks = encode_all(*c, segment);
      ASSERT_EQ(blocks.size(), v.blocks_hex.size());
      for (int i = 0; i < v.n; ++i) {
        EXPECT_EQ(hex(blocks[i]), v.blocks_hex[i])
            << codec_kind_name(kind) << " k=" << v.k << " n=" << v.n << " share " << i;
      }
    }
  }
}

TEST(CodecKnownAnswer, CodingMatrixRowsFor3Of10) {
  const auto m = vandermonde_coding_matrix(3, 10);
  const std::vector<std::uint8_t> expected = {1,   1, 1,  1,   196, 83,  1,  143, 211, 1,  210,
                                              142, 1, 82, 197, 1,   232, 98, 1,   245, 244};
  EXPECT_EQ(m, expected);
}

// --- decoding -----------------------------------------------------------------------------------

// Calls f on every k-subset of {0..n-1}, ascending.
template <typename F>
void for_each_subset(int n, int k, F f) {
  std::vector<int> pick(k);
  for (int i = 0; i < k; ++i) pick[i] = i;
  for (;;) {
    f(pick);
    int i = k - 1;
    while (i >= 0 && pick[i] == n - k + i) --i;
    if (i < 0) return;
    ++pick[i];
    for (int j = i + 1; j < k; ++j) pick[j] = pick[j - 1] + 1;
  }
}

TEST(CodecDecode, EverySubsetOfSharesRebuildsTheSegment) {
  for (CodecKind kind : kRsKinds) {
    for (int n = 1; n <= 8; ++n) {
      for (int k = 1; k <= n; ++k) {
        auto c = make(kind, k, n);
        for (std::size_t size : {std::size_t{1}, std::size_t{7}, std::size_t{100}}) {
          const Bytes segment = pattern(size, 31 * n + k);
          const auto blocks = encode_all(*c, segment);
          for_each_subset(n, k, [&](const std::vector<int>& shares) {
            std::vector<int> order(shares.rbegin(), shares.rend());  // any order is fine
            auto out = decode_from(*c, blocks, order, size);
            ASSERT_TRUE(out.ok()) << out.status().to_string();
            EXPECT_EQ(*out, segment)
                << codec_kind_name(kind) << " k=" << k << " n=" << n << " size=" << size;
          });
        }
      }
    }
  }
}

TEST(CodecDecode, ReplicationDecodesFromAnyOneShare) {
  auto c = make(CodecKind::kReplication, 1, 4);
  const Bytes segment = pattern(77, 5);
  const auto blocks = encode_all(*c, segment);
  for (int s = 0; s < 4; ++s) {
    EXPECT_EQ(blocks[s], segment);
    auto out = decode_from(*c, blocks, {s}, segment.size());
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, segment);
  }
}

TEST(CodecDecode, EmptySegmentEncodesToEmptyBlocks) {
  for (CodecKind kind : kRsKinds) {
    auto c = make(kind, 3, 5);
    const auto blocks = encode_all(*c, ByteView{});
    for (const Bytes& b : blocks) EXPECT_TRUE(b.empty());
    auto out = decode_from(*c, blocks, {2, 3, 4}, 0);
    ASSERT_TRUE(out.ok());
    EXPECT_TRUE(out->empty());
  }
}

TEST(CodecDecode, LargeShapesRoundTripAndBackendsAgree) {
  for (auto [k, n] : {std::pair{29, 80}, {200, 256}, {128, 256}, {256, 256}}) {
    auto isal = make(CodecKind::kReedSolomon, k, n);
    auto jer = make(CodecKind::kReedSolomonJerasure, k, n);
    const Bytes segment = pattern(4099, k);
    const auto a = encode_all(*isal, segment);
    const auto b = encode_all(*jer, segment);
    EXPECT_EQ(a, b) << "k=" << k << " n=" << n;
    std::vector<int> last_k;  // as many parity shares as possible
    for (int s = n - k; s < n; ++s) last_k.push_back(s);
    for (ErasureCodec* c : {isal.get(), jer.get()}) {
      auto out = decode_from(*c, a, last_k, segment.size());
      ASSERT_TRUE(out.ok()) << out.status().to_string();
      EXPECT_EQ(*out, segment) << codec_kind_name(c->kind()) << " k=" << k << " n=" << n;
    }
  }
}

TEST(CodecDecode, ZeroCopyEncodeFromAPaddedBufferMatchesCopyingEncode) {
  for (CodecKind kind : kRsKinds) {
    auto c = make(kind, 3, 10);
    const std::size_t size = 1000;  // 334-byte blocks, 2 bytes of padding
    const Bytes segment = pattern(size, 9);
    const auto expected = encode_all(*c, segment);
    const std::size_t bs = c->block_size(size);
    Bytes padded(c->padded_size(size), 0xee);  // garbage where the padding goes
    std::copy(segment.begin(), segment.end(), padded.begin());
    std::vector<Bytes> parity(7, Bytes(bs));
    std::vector<MutableByteView> views;
    for (int i = 0; i < 3; ++i) views.emplace_back(padded.data() + i * bs, bs);
    for (Bytes& p : parity) views.emplace_back(p);
    ASSERT_TRUE(c->encode(ByteView(padded.data(), size), views).is_ok());
    for (int i = 0; i < 10; ++i) {
      EXPECT_TRUE(std::equal(views[i].begin(), views[i].end(), expected[i].begin())) << i;
    }
  }
}

TEST(CodecDecode, MisalignedBuffersGiveTheSameBlocks) {
  // gf-complete aborts on buffers that are not equally aligned; the Jerasure backend stages them.
  const std::size_t size = 999;
  const Bytes segment = pattern(size, 3);
  auto isal = make(CodecKind::kReedSolomon, 4, 9);
  const auto expected = encode_all(*isal, segment);
  auto jer = make(CodecKind::kReedSolomonJerasure, 4, 9);
  const std::size_t bs = jer->block_size(size);
  Bytes arena(9 * (bs + 7) + 64);
  std::vector<MutableByteView> views;
  for (int i = 0; i < 9; ++i) views.emplace_back(arena.data() + 3 + i * (bs + 7) + (i % 3), bs);
  ASSERT_TRUE(jer->encode(segment, views).is_ok());
  for (int i = 0; i < 9; ++i) {
    EXPECT_TRUE(std::equal(views[i].begin(), views[i].end(), expected[i].begin())) << i;
  }
  std::vector<ShareBlock> in = {{8, views[8]}, {1, views[1]}, {5, views[5]}, {6, views[6]}};
  Bytes out_arena(size + 5);
  MutableByteView out(out_arena.data() + 5, size);
  ASSERT_TRUE(jer->decode(in, size, out).is_ok());
  EXPECT_TRUE(std::equal(out.begin(), out.end(), segment.begin()));
}

// --- errors are Status, never crashes -----------------------------------------------------------

TEST(CodecErrors, EncodeRejectsWrongBlockCountsAndSizes) {
  auto c = make(CodecKind::kReedSolomon, 3, 5);
  const Bytes segment = pattern(30, 1);
  std::vector<Bytes> blocks(5, Bytes(10));
  std::vector<MutableByteView> views(blocks.begin(), blocks.end());
  Status few = c->encode(segment, std::span(views).first(4));
  EXPECT_EQ(few.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(few.message(), "encode needs n=5 output blocks, got 4");
  blocks[2].resize(11);
  views[2] = blocks[2];
  Status size = c->encode(segment, views);
  EXPECT_EQ(size.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(size.message(), "output block 2 is 11 bytes, expected 10 for a 30-byte segment");
}

TEST(CodecErrors, DecodeRejectsBadInputWithAClearMessage) {
  for (CodecKind kind : kRsKinds) {
    auto c = make(kind, 3, 5);
    const Bytes segment = pattern(30, 2);
    const auto blocks = encode_all(*c, segment);
    auto expect_error = [&](std::vector<ShareBlock> in, std::size_t size, std::size_t out_size,
                            const std::string& message) {
      Bytes out(out_size);
      Status s = c->decode(in, size, out);
      EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << message;
      EXPECT_EQ(s.message(), message);
    };
    expect_error({{0, blocks[0]}, {1, blocks[1]}}, 30, 30,
                 "decode needs exactly k=3 blocks, got 2");
    expect_error({{0, blocks[0]}, {1, blocks[1]}, {2, blocks[2]}, {3, blocks[3]}}, 30, 30,
                 "decode needs exactly k=3 blocks, got 4");
    expect_error({{0, blocks[0]}, {4, blocks[4]}, {0, blocks[0]}}, 30, 30,
                 "share number 0 given more than once; decode needs k distinct shares");
    expect_error({{0, blocks[0]}, {5, blocks[4]}, {1, blocks[1]}}, 30, 30,
                 "share number 5 is outside [0, 5)");
    expect_error({{0, blocks[0]}, {-1, blocks[4]}, {1, blocks[1]}}, 30, 30,
                 "share number -1 is outside [0, 5)");
    expect_error({{0, blocks[0]}, {3, ByteView(blocks[3]).first(9)}, {1, blocks[1]}}, 30, 30,
                 "block of share 3 is 9 bytes, expected 10 for a 30-byte segment");
    expect_error({{0, blocks[0]}, {3, blocks[3]}, {1, blocks[1]}}, 31, 31,
                 "block of share 0 is 10 bytes, expected 11 for a 31-byte segment");
  }
}

TEST(CodecErrors, DecodeRejectsSizeMismatchesOfTheOutput) {
  auto c = make(CodecKind::kReedSolomon, 3, 5);
  const auto blocks = encode_all(*c, pattern(30, 2));
  std::vector<ShareBlock> in = {{0, blocks[0]}, {3, blocks[3]}, {4, blocks[4]}};
  Bytes out(31);
  Status s = c->decode(in, 30, out);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "decode output is 31 bytes, expected the segment size 30");
  Status big = c->decode(in, kSegmentSizeBytesMax + 1, out);
  EXPECT_EQ(big.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(big.message().find("exceeds the maximum"), std::string::npos);
}

// --- share selection ----------------------------------------------------------------------------

TEST(CodecChooseShares, PrefersDataSharesAndReturnsThemAscending) {
  auto c = make(CodecKind::kReedSolomon, 3, 10);
  auto all = c->choose_shares_to_fetch(std::vector<int>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, (std::vector<int>{0, 1, 2}));
  auto some = c->choose_shares_to_fetch(std::vector<int>{9, 1, 5, 4});
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(*some, (std::vector<int>{1, 4, 5}));
}

TEST(CodecChooseShares, CostComesBeforeDataPreferenceAndDuplicatesMerge) {
  auto c = make(CodecKind::kReedSolomon, 3, 10);
  std::vector<FetchCandidate> cands = {{0, 50}, {1, 50}, {2, 50}, {7, 10},
                                       {8, 10}, {9, 90}, {0, 5},  {3, 10}};
  auto chosen = c->choose_shares_to_fetch(cands);
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(*chosen, (std::vector<int>{0, 3, 7}));  // share 0's cheaper copy wins; then 3 < 7, 8
}

TEST(CodecChooseShares, TooFewOrInvalidSharesAreErrors) {
  auto c = make(CodecKind::kReedSolomon, 3, 10);
  auto few = c->choose_shares_to_fetch(std::vector<int>{4, 4, 6});
  ASSERT_FALSE(few.ok());
  EXPECT_EQ(few.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(few.status().message(), "need k=3 distinct shares, only 2 available: [4, 6]");
  auto bad = c->choose_shares_to_fetch(std::vector<int>{1, 2, 10});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "share number 10 is outside [0, 10)");
}

// --- decode tables are cached -------------------------------------------------------------------

TEST(CodecCache, DecodeTablesAreBuiltOncePerSurvivorSet) {
  for (CodecKind kind : kRsKinds) {
    auto c = make(kind, 3, 10);
    const Bytes segment = pattern(300, 4);
    const auto blocks = encode_all(*c, segment);
    for (int round = 0; round < 3; ++round) {
      auto out = decode_from(*c, blocks, {9, 4, 1}, segment.size());
      ASSERT_TRUE(out.ok());
      EXPECT_EQ(*out, segment);
    }
    EXPECT_EQ(c->stats().decode_table_builds, 1u);
    EXPECT_EQ(c->stats().decode_table_hits, 2u);
    ASSERT_TRUE(decode_from(*c, blocks, {0, 1, 2}, segment.size()).ok());  // a copy: no tables
    EXPECT_EQ(c->stats().decode_table_builds, 1u);
    ASSERT_TRUE(decode_from(*c, blocks, {5, 6, 7}, segment.size()).ok());
    EXPECT_EQ(c->stats().decode_table_builds, 2u);
  }
}

struct FakeTables {
  std::size_t bytes = 0;
  std::size_t size_bytes() const { return bytes; }
};

TEST(CodecCache, EvictsTheLeastRecentlyUsedWithinBothBounds) {
  DecodeCache<FakeTables> cache;
  auto key = [](int i) {
    ShareSet s;
    s.add(i);
    return s;
  };
  for (int i = 0; i < static_cast<int>(kDecodeCacheEntriesMax); ++i) cache.insert(key(i), {10});
  ASSERT_NE(cache.find(key(0)), nullptr);  // 0 is now the most recently used; 1 the least
  cache.insert(key(100), {10});
  EXPECT_EQ(cache.size(), kDecodeCacheEntriesMax);
  EXPECT_EQ(cache.find(key(1)), nullptr);
  EXPECT_NE(cache.find(key(0)), nullptr);
  EXPECT_NE(cache.find(key(100)), nullptr);
  cache.insert(key(200), {kDecodeCacheBytesMax});  // alone over the byte bound: kept by itself
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_NE(cache.find(key(200)), nullptr);
  EXPECT_EQ(cache.bytes(), kDecodeCacheBytesMax);
}

}  // namespace
}  // namespace lafs::codec
