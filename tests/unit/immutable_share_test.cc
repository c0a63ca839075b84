// Tests of the immutable file format: round trips at the size edges, any k of n shares, every
// kind of damage to up to n-k shares, and clear errors beyond that.
#include <gtest/gtest.h>

#include "core/client/immutable_share.h"

namespace lafs::client {
namespace {

Bytes pattern(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& c : b) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<std::uint8_t>(x >> 24);
  }
  return b;
}

crypto::FileKey key_of(std::uint8_t b) {
  crypto::FileKey k;
  auto v = k.mutable_view();
  std::fill(v.begin(), v.end(), b);
  return k;
}

std::map<std::uint32_t, Bytes> all_shares(const EncodedFile& f) {
  std::map<std::uint32_t, Bytes> m;
  for (std::uint32_t i = 0; i < f.shares.size(); ++i) m[i] = f.shares[i];
  return m;
}

TEST(ImmutableShare, RoundTripsAtTheSizeEdges) {
  EncodingParams p;
  p.segment_size = 4096;
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{55}, std::size_t{56}, std::size_t{4095},
        std::size_t{4096}, std::size_t{4097}, std::size_t{3 * 4096 + 7}, std::size_t{3 << 20}}) {
    SCOPED_TRACE(size);
    const Bytes plain = pattern(size, static_cast<std::uint8_t>(size));
    auto f = encode_immutable(plain, key_of(1), p);
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    ASSERT_EQ(f->shares.size(), 10u);
    EXPECT_EQ(f->cap.params.size_bytes, size);
    // Any k: the last three shares (all parity).
    std::map<std::uint32_t, Bytes> three{{7, f->shares[7]}, {8, f->shares[8]}, {9, f->shares[9]}};
    DecodeReport rep;
    auto back = decode_immutable(f->cap, three, &rep);
    ASSERT_TRUE(back.ok()) << back.status().to_string();
    EXPECT_EQ(*back, plain);
    EXPECT_EQ(rep.used, (std::vector<std::uint32_t>{7, 8, 9}));
  }
}

TEST(ImmutableShare, SameKeyAndParamsGiveTheSameSharesAndCap) {
  EncodingParams p;
  p.segment_size = 1000;
  const Bytes plain = pattern(5000, 3);
  auto a = encode_immutable(plain, key_of(2), p);
  auto b = encode_immutable(plain, key_of(2), p);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->shares, b->shares);
  EXPECT_EQ(a->cap, b->cap);
  auto c = encode_immutable(plain, key_of(3), p);
  EXPECT_NE(a->cap.extension_hash, c->cap.extension_hash);
  EXPECT_NE(a->storage_index, c->storage_index);
}

TEST(ImmutableShare, BadParametersAreRefused) {
  const Bytes plain = pattern(100, 1);
  EXPECT_EQ(encode_immutable(plain, key_of(1), {0, 1, 1, 100}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(encode_immutable(plain, key_of(1), {4, 3, 3, 100}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(encode_immutable(plain, key_of(1), {3, 11, 10, 100}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(encode_immutable(plain, key_of(1), {3, 7, 257, 100}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(encode_immutable(plain, key_of(1), {3, 7, 10, 0}).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(ImmutableShare, DamagedSharesAreSetAsideAndNamed) {
  EncodingParams p;
  p.segment_size = 512;
  const Bytes plain = pattern(5000, 9);
  auto f = encode_immutable(plain, key_of(4), p);
  ASSERT_TRUE(f.ok());
  auto shares = all_shares(*f);
  shares[0][600] ^= 0x01;                     // a flipped bit in a block
  shares[1].resize(shares[1].size() - 1);     // truncated
  shares[2] = f->shares[5];                   // the wrong share served as share 2
  shares[3][30] ^= 0x80;                      // the extension block
  shares[4][shares[4].size() - 5] ^= 0x10;    // the share hash chain
  shares[6][f->shares[6].size() - 200] ^= 1;  // the ciphertext tree nodes
  shares[7] = Bytes(100, 0);                  // garbage
  DecodeReport rep;
  auto back = decode_immutable(f->cap, shares, &rep);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, plain);
  for (std::uint32_t bad : {0u, 1u, 2u, 3u, 4u, 7u}) {
    EXPECT_TRUE(rep.bad_shares.contains(bad)) << "share " << bad << " not flagged";
  }
  EXPECT_FALSE(rep.bad_shares.contains(8));
  EXPECT_NE(rep.bad_shares[2].find("says it is share 5"), std::string::npos) << rep.bad_shares[2];
}

TEST(ImmutableShare, TooFewGoodSharesIsAClearError) {
  EncodingParams p;
  p.segment_size = 512;
  const Bytes plain = pattern(3000, 5);
  auto f = encode_immutable(plain, key_of(5), p);
  ASSERT_TRUE(f.ok());
  std::map<std::uint32_t, Bytes> two{{1, f->shares[1]}, {2, f->shares[2]}};
  auto r = decode_immutable(f->cap, two);
  EXPECT_EQ(r.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(r.status().message().find("3 good shares needed, 2 offered"), std::string::npos)
      << r.status().message();
  // Three offered, one of them damaged in a late block: the error names the segment.
  std::map<std::uint32_t, Bytes> three{{1, f->shares[1]}, {2, f->shares[2]}, {3, f->shares[3]}};
  auto layout =
      ShareLayout::make(check_share_prefix(verify_cap_of(f->cap), 3, f->shares[3])->info, 3);
  ASSERT_TRUE(layout.ok());
  three[3][layout->block_offset(4)] ^= 0xff;
  auto r2 = decode_immutable(f->cap, three);
  EXPECT_EQ(r2.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(r2.status().message().find("at segment 4"), std::string::npos) << r2.status().message();
}

TEST(ImmutableShare, AWrongCapNeverYieldsBytes) {
  EncodingParams p;
  p.segment_size = 700;
  const Bytes plain = pattern(2000, 6);
  auto f = encode_immutable(plain, key_of(6), p);
  ASSERT_TRUE(f.ok());
  cap::ChkReadCap wrong = f->cap;
  wrong.extension_hash[0] ^= 1;
  EXPECT_EQ(decode_immutable(wrong, all_shares(*f)).status().code(), ErrorCode::kCorruption);
  cap::ChkReadCap wrong_size = f->cap;
  wrong_size.params.size_bytes += 1;
  EXPECT_EQ(decode_immutable(wrong_size, all_shares(*f)).status().code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace lafs::client

namespace lafs::client {
namespace {

TEST(ImmutableEncoder, StreamingEqualsWholeAndRefusesOutOfTurn) {
  EncodingParams p;
  p.segment_size = 1000;
  const Bytes plain = pattern(2500, 11);
  auto whole = encode_immutable(plain, key_of(7), p);
  ASSERT_TRUE(whole.ok());
  auto enc = ImmutableEncoder::create(key_of(7), p, plain.size());
  ASSERT_TRUE(enc.ok());
  ImmutableEncoder& e = **enc;
  EXPECT_EQ(e.segment_count(), 3u);
  EXPECT_EQ(e.finish().status().code(), ErrorCode::kFailedPrecondition);  // too early
  EXPECT_EQ(e.encode_segment(ByteView(plain).first(999)).status().code(),
            ErrorCode::kFailedPrecondition);  // wrong length
  std::vector<Bytes> shares(10);
  for (std::uint32_t i = 0; i < 10; ++i) shares[i].assign(e.layout(i).share_bytes, 0);
  for (std::uint64_t s = 0; s < 3; ++s) {
    auto blocks = e.encode_segment(ByteView(plain).subspan(s * 1000, e.segment_length(s)));
    ASSERT_TRUE(blocks.ok());
    for (std::uint32_t i = 0; i < 10; ++i) {
      std::copy((**blocks)[i].begin(), (**blocks)[i].end(),
                shares[i].begin() + static_cast<std::ptrdiff_t>(e.layout(i).block_offset(s)));
    }
  }
  EXPECT_EQ(e.encode_segment(ByteView(plain).first(1)).status().code(),
            ErrorCode::kFailedPrecondition);  // one too many
  auto done = e.finish();
  ASSERT_TRUE(done.ok());
  for (std::uint32_t i = 0; i < 10; ++i) {
    std::copy(done->prefixes[i].begin(), done->prefixes[i].end(), shares[i].begin());
    std::copy(done->trailers[i].begin(), done->trailers[i].end(),
              shares[i].begin() + static_cast<std::ptrdiff_t>(e.layout(i).block_tree_offset));
  }
  EXPECT_EQ(shares, whole->shares);
  EXPECT_EQ(done->cap, whole->cap);
}

// Pins the format: a refactor that changes any byte of any share changes this cap.
TEST(ImmutableShare, KnownAnswerCap) {
  Bytes plain;
  for (int i = 0; i < 1000; ++i) plain.insert(plain.end(), {'l', 'a', 'f', 's'});
  crypto::FileKey key;
  auto v = key.mutable_view();
  std::fill(v.begin(), v.end(), 0x11);
  auto f = encode_immutable(plain, key, EncodingParams{3, 7, 10, 1024});
  ASSERT_TRUE(f.ok());
  cap::Cap c;
  c.file = f->cap;
  EXPECT_EQ(cap::format_cap(c),
            "lafs1:chk:ceirceirceirceirceirceirceirceirceirceirceirceirceiq:"
            "47o2xsuq2d53akeugavg4qqhuw64situfdkkcdrloqalvggxcgvq:3:10:4000");
  EXPECT_EQ(crypto::to_hex(crypto::tagged_hash(crypto::HashTag::kBlockLeaf, f->shares[9])),
            "a9ce27c5420becfefeba8f2f731f6e566a751ec413484fac7c7061d1b7f27746");
}

}  // namespace
}  // namespace lafs::client
