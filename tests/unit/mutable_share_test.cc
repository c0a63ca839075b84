// The mutable share format (docs/specs/mutable.md): round trips, the known answer, and every
// kind of tampering a server could do being refused.
#include <gtest/gtest.h>

#include "core/client/mutable_share.h"
#include "net/sim/sim_random.h"
#include "tests/unit/sim_grid.h"

namespace lafs::client {
namespace {

crypto::SigningKey key_of(std::uint8_t b) {
  crypto::SigningSeed seed;
  auto v = seed.mutable_view();
  std::fill(v.begin(), v.end(), b);
  return crypto::SigningKey::from_seed(seed);
}

struct Encoded {
  crypto::MutableKeys keys;
  MutableParams params;
  MutableVersion version;
  std::vector<Bytes> shares;
};

Encoded encode(const crypto::SigningKey& key, ByteView plain, MutableParams p,
               std::uint64_t seq = 1, std::uint64_t salt_seed = 42) {
  sim::SimRandom random(salt_seed);
  p.data_length = plain.size();
  Encoded e{crypto::derive_mutable_keys(key), p, {}, {}};
  auto shares = encode_mutable(key, seq, p, plain, random, &e.version);
  EXPECT_TRUE(shares.ok()) << shares.status().to_string();
  if (shares.ok()) e.shares = std::move(*shares);
  return e;
}

std::map<std::uint32_t, Bytes> pick(const Encoded& e, std::vector<std::uint32_t> which) {
  std::map<std::uint32_t, Bytes> out;
  for (auto i : which) out[i] = e.shares[i];
  return out;
}

TEST(MutableShare, RoundTripsAcrossSizesAndAnyKShares) {
  const auto key = key_of(1);
  for (std::size_t size : {0, 1, 99, 100, 101, 1000, 4097}) {
    for (auto [k, n] : {std::pair{1u, 1u}, {2u, 3u}, {3u, 10u}, {5u, 5u}}) {
      const Bytes plain = testing::pattern(size, static_cast<std::uint32_t>(size + k));
      const auto e = encode(key, plain, {k, n, 100, 0});
      ASSERT_EQ(e.shares.size(), n);
      MutableHeader header;
      for (std::uint32_t i = 0; i < n; ++i) {
        auto h = check_mutable_share(e.keys.storage_index, e.keys.fingerprint, i, e.shares[i]);
        ASSERT_TRUE(h.ok()) << h.status().to_string();
        EXPECT_EQ(h->version, e.version);
        EXPECT_EQ(h->params, e.params);
        header = *h;
      }
      // The last k shares (parity when n > k) decode too.
      std::vector<std::uint32_t> last;
      for (std::uint32_t i = n - k; i < n; ++i) last.push_back(i);
      auto got = decode_mutable(e.keys.read_key, header, pick(e, last));
      ASSERT_TRUE(got.ok()) << got.status().to_string();
      EXPECT_EQ(*got, plain) << "size " << size << " k " << k << " n " << n;
      if (k > 1) {
        last.pop_back();
        EXPECT_EQ(decode_mutable(e.keys.read_key, header, pick(e, last)).status().code(),
                  ErrorCode::kCorruption);
      }
    }
  }
}

// Salts 00 01 02 ... in order: a known answer that does not depend on any generator.
class CountingRandom final : public Random {
 public:
  void fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = next_++;
  }
  std::uint64_t next_u64() override { return next_++; }

 private:
  std::uint8_t next_ = 0;
};

// Pinned (docs/specs/mutable.md): a change to the layout, the tags, the salts' use or the
// signature shows here.
TEST(MutableShare, KnownAnswer) {
  CountingRandom random;
  const auto key = key_of(7);
  MutableVersion version;
  const Bytes plain = to_bytes("lafs mutable known answer");
  auto shares = encode_mutable(key, 5, {2, 3, 10, plain.size()}, plain, random, &version);
  ASSERT_TRUE(shares.ok());
  const Encoded e{crypto::derive_mutable_keys(key), {}, version, *shares};
  EXPECT_EQ(e.version.seqnum, 5u);
  EXPECT_EQ(crypto::to_hex(e.version.root),
            "da5ede9af27aeba3c7164cfee29fe79903e594da046e2c53498cfb9c22ef71a8");
  // Share 0: prefix, its 2-node uncle chain, the 49-slot spine, then the first record's salt.
  EXPECT_EQ(crypto::to_hex(ByteView(e.shares[0]).subspan(208 + 64 + 49 * 32, 16)),
            "000102030405060708090a0b0c0d0e0f");
  EXPECT_EQ(e.shares[0].size(), 208u + 2 * 32 + 49 * 32 + (80 + 5) + (80 + 5) + (80 + 3));
  EXPECT_EQ(crypto::to_hex(ByteView(e.shares[0]).subspan(0, 16)),
            "6c61667373736b0a0000000000000001");
}

TEST(MutableShare, EveryPublishDrawsFreshSalts) {
  const auto key = key_of(2);
  const Bytes plain = testing::pattern(1000, 3);
  const auto a = encode(key, plain, {2, 4, 300, 0}, 1, 1);
  const auto b = encode(key, plain, {2, 4, 300, 0}, 2, 2);
  const auto layout = MutableLayout::make(a.params, 0);
  ASSERT_TRUE(layout.ok());
  for (std::uint64_t s = 0; s < layout->segment_count; ++s) {
    const auto at = static_cast<std::ptrdiff_t>(layout->salt_offset(s));
    EXPECT_FALSE(std::equal(a.shares[0].begin() + at, a.shares[0].begin() + at + 16,
                            b.shares[0].begin() + at))
        << "segment " << s;
  }
  EXPECT_NE(a.version.root, b.version.root);
}

TEST(MutableShare, SharesNeverContainThePlaintext) {
  const Bytes plain = testing::pattern(5000, 11);
  const auto e = encode(key_of(3), plain, {1, 3, 1000, 0});  // k=1: blocks are whole segments
  for (const Bytes& share : e.shares) {
    const auto window = ByteView(plain).subspan(100, 32);
    EXPECT_EQ(std::search(share.begin(), share.end(), window.begin(), window.end()), share.end());
  }
}

// A server can change any byte; each change is caught, and named.
TEST(MutableShare, TamperingAnywhereIsRefused) {
  const auto e = encode(key_of(4), testing::pattern(900, 5), {3, 5, 256, 0});
  const auto layout = MutableLayout::make(e.params, 1);
  ASSERT_TRUE(layout.ok());
  const std::vector<std::pair<std::string, std::uint64_t>> spots = {
      {"magic", 0},
      {"seqnum (forged higher)", 23},
      {"root", 30},
      {"k", 59},
      {"length", 79},
      {"verifying key", 90},
      {"signature", 150},
      {"salt", layout->salt_offset(2)},
      {"block", layout->block_offset(1) + 3},
      {"leaf slot", layout->salt_offset(1) + 16 + 3},
      {"inner slot", layout->salt_offset(0) + 48 + 1},
      {"spine (zero here)", layout->spine_offset + 5},
      {"chain", layout->chain_offset + 5},
  };
  for (const auto& [what, at] : spots) {
    Bytes bad = e.shares[1];
    bad[at] ^= 0x01;
    auto h = check_mutable_share(e.keys.storage_index, e.keys.fingerprint, 1, bad);
    EXPECT_FALSE(h.ok()) << what;
  }
  // The encrypted signing key is not signed: tampering shows when a writer unwraps it.
  Bytes bad = e.shares[1];
  bad[190] ^= 1;
  auto h = check_mutable_share(e.keys.storage_index, e.keys.fingerprint, 1, bad);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(unwrap_signing_key(e.keys.write_key, *h).status().code(), ErrorCode::kCorruption);
  // Truncated, extended, under the wrong number, for the wrong file.
  Bytes short_share(e.shares[1].begin(), e.shares[1].end() - 1);
  EXPECT_FALSE(check_mutable_share(e.keys.storage_index, e.keys.fingerprint, 1, short_share).ok());
  Bytes long_share = e.shares[1];
  long_share.push_back(0);
  EXPECT_FALSE(check_mutable_share(e.keys.storage_index, e.keys.fingerprint, 1, long_share).ok());
  EXPECT_FALSE(check_mutable_share(e.keys.storage_index, e.keys.fingerprint, 2, e.shares[1]).ok());
  const auto other = crypto::derive_mutable_keys(key_of(5));
  auto wrong_fp = check_mutable_share(e.keys.storage_index, other.fingerprint, 1, e.shares[1]);
  ASSERT_FALSE(wrong_fp.ok());
  EXPECT_NE(wrong_fp.status().message().find("fingerprint"), std::string::npos);
  auto wrong_si = check_mutable_share(other.storage_index, e.keys.fingerprint, 1, e.shares[1]);
  ASSERT_FALSE(wrong_si.ok());
  EXPECT_NE(wrong_si.status().message().find("signature"), std::string::npos);
}

// Another file's validly signed share, planted under this one's storage index, is not believed.
TEST(MutableShare, AnotherFilesShareIsRefused) {
  const auto mine = encode(key_of(6), testing::pattern(100, 1), {1, 2, 64, 0});
  const auto theirs = encode(key_of(8), testing::pattern(100, 2), {1, 2, 64, 0}, 99);
  EXPECT_FALSE(
      check_mutable_share(mine.keys.storage_index, mine.keys.fingerprint, 0, theirs.shares[0])
          .ok());
}

TEST(MutableShare, UnwrapNeedsTheWriteKey) {
  const auto key = key_of(9);
  const auto e = encode(key, as_bytes("x"), {1, 1, 64, 0});
  auto h = check_mutable_prefix(e.keys.storage_index, e.keys.fingerprint, 0, e.shares[0]);
  ASSERT_TRUE(h.ok());
  auto got = unwrap_signing_key(e.keys.write_key, *h);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->verifying_key(), key.verifying_key());
  // The read key in the write key's place (what a read cap holder has) does not unwrap it.
  crypto::WriteKey pretend(e.keys.read_key.view());
  EXPECT_EQ(unwrap_signing_key(pretend, *h).status().code(), ErrorCode::kCorruption);
}

TEST(MutableShare, ParametersAreChecked) {
  const auto key = key_of(10);
  sim::SimRandom random(1);
  EXPECT_EQ(encode_mutable(key, 1, {0, 3, 10, 0}, {}, random).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(encode_mutable(key, 1, {4, 3, 10, 0}, {}, random).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(encode_mutable(key, 1, {1, 3, 0, 0}, {}, random).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(encode_mutable(key, 1, {1, 3, 10, 5}, {}, random).status().code(),
            ErrorCode::kInvalidArgument);  // length disagrees with the plaintext
  auto too_big = MutableLayout::make({1, 1, 1 << 20, std::uint64_t{65} << 20}, 0);
  EXPECT_EQ(too_big.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(too_big.status().message().find("too large"), std::string::npos);
}

TEST(MutableShare, VersionsOrderBySeqnumThenRoot) {
  MutableVersion a{1, {}};
  MutableVersion b{1, {}};
  b.root[0] = 1;
  MutableVersion c{2, {}};
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(checkstring(c).size(), kCheckstringBytes);
  EXPECT_EQ(checkstring(c)[7], 2);
}

}  // namespace
}  // namespace lafs::client
