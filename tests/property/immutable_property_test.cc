// Property test of the immutable file format: for random (k, n), segment sizes and file sizes,
// with up to n-k shares missing or damaged in any of the ways a server can damage them, decoding
// returns exactly the plaintext; with more than n-k damaged it returns an error — never
// different bytes.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "core/client/immutable_share.h"

namespace lafs::client {
namespace {

enum class Damage { kMissing, kBitFlip, kTruncate, kExtend, kWrongShare, kGarbage, kZeroed };

Bytes damage(Damage d, const Bytes& share, const EncodedFile& f, std::uint32_t self) {
  Bytes out = share;
  switch (d) {
    case Damage::kMissing:
      return {};
    case Damage::kBitFlip: {
      const auto at = *rc::gen::inRange<std::size_t>(0, out.size());
      out[at] ^= static_cast<std::uint8_t>(1u << *rc::gen::inRange(0, 8));
      return out;
    }
    case Damage::kTruncate:
      out.resize(*rc::gen::inRange<std::size_t>(0, out.size()));
      return out;
    case Damage::kExtend:
      out.push_back(*rc::gen::arbitrary<std::uint8_t>());
      return out;
    case Damage::kWrongShare: {
      // Another share's bytes, served under this share's number (the server lies about numbers).
      const auto other = (self + 1 + *rc::gen::inRange<std::uint32_t>(0, f.shares.size() - 1)) %
                         static_cast<std::uint32_t>(f.shares.size());
      return other == self ? Bytes{} : f.shares[other];
    }
    case Damage::kGarbage:
      return *rc::gen::container<Bytes>(*rc::gen::inRange<std::size_t>(0, 300),
                                        rc::gen::arbitrary<std::uint8_t>());
    case Damage::kZeroed:
      std::fill(out.begin(), out.end(), 0);
      return out;
  }
  return out;
}

struct Case {
  EncodingParams params;
  Bytes plaintext;
  crypto::FileKey key;
};

Case gen_case() {
  Case c;
  c.params.total = *rc::gen::inRange<std::uint32_t>(1, 13);
  c.params.needed = *rc::gen::inRange<std::uint32_t>(1, c.params.total + 1);
  c.params.happy = c.params.needed;
  c.params.segment_size = *rc::gen::inRange<std::uint64_t>(1, 600);
  const auto size = *rc::gen::inRange<std::size_t>(0, 3000);
  c.plaintext = *rc::gen::container<Bytes>(size, rc::gen::arbitrary<std::uint8_t>());
  auto v = c.key.mutable_view();
  for (auto& b : v) b = *rc::gen::arbitrary<std::uint8_t>();
  return c;
}

std::map<std::uint32_t, Bytes> damaged_shares(const EncodedFile& f, std::size_t how_many) {
  std::vector<std::uint32_t> order(f.shares.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<std::uint32_t> shuffled = order;
  for (std::size_t j = shuffled.size(); j > 1; --j) {
    std::swap(shuffled[j - 1], shuffled[*rc::gen::inRange<std::size_t>(0, j)]);
  }
  std::map<std::uint32_t, Bytes> out;
  for (std::size_t j = 0; j < shuffled.size(); ++j) {
    const std::uint32_t i = shuffled[j];
    if (j < how_many) {
      const Damage d =
          *rc::gen::element(Damage::kMissing, Damage::kBitFlip, Damage::kTruncate, Damage::kExtend,
                            Damage::kWrongShare, Damage::kGarbage, Damage::kZeroed);
      Bytes b = damage(d, f.shares[i], f, i);
      if (d == Damage::kMissing || (b.empty() && d == Damage::kWrongShare)) continue;
      out[i] = std::move(b);
    } else {
      out[i] = f.shares[i];
    }
  }
  return out;
}

RC_GTEST_PROP(ImmutableProperty, UpToNMinusKDamagedSharesStillGiveThePlaintext, ()) {
  const Case c = gen_case();
  auto f = encode_immutable(c.plaintext, c.key, c.params);
  RC_ASSERT(f.ok());
  const std::size_t spare = c.params.total - c.params.needed;
  const auto shares = damaged_shares(*f, *rc::gen::inRange<std::size_t>(0, spare + 1));
  auto back = decode_immutable(f->cap, shares);
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == c.plaintext);
}

RC_GTEST_PROP(ImmutableProperty, MoreDamageGivesAnErrorNeverOtherBytes, ()) {
  const Case c = gen_case();
  auto f = encode_immutable(c.plaintext, c.key, c.params);
  RC_ASSERT(f.ok());
  const std::size_t spare = c.params.total - c.params.needed;
  const auto how_many = *rc::gen::inRange<std::size_t>(spare + 1, c.params.total + 1);
  const auto shares = damaged_shares(*f, how_many);
  auto back = decode_immutable(f->cap, shares);
  // A flipped bit may land in padding that nothing reads, so a "damaged" share can still be
  // good: success is allowed, but only with the exact plaintext.
  if (back.ok()) {
    RC_ASSERT(*back == c.plaintext);
  } else {
    RC_ASSERT(back.status().code() == ErrorCode::kCorruption);
  }
}

}  // namespace
}  // namespace lafs::client
