// Property tests of the erasure codec: any k of the n blocks rebuild the segment, the ISA-L
// backend is byte-identical to Jerasure, replication agrees with itself and with the k = 1 code,
// and the shares chosen to fetch always decode.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/codec/codec.h"

namespace lafs::codec {
namespace {

constexpr int kPropertySharesMax = 40;  // keeps a run quick under ASan
constexpr int kSegmentBytesMax = 4096;

struct Shape {
  int k;
  int n;
};

// Any shape up to the bound (small ones more often early in a run), or one of those in use.
rc::Gen<Shape> gen_shape() {
  auto any = rc::gen::mapcat(rc::gen::inRange(1, kPropertySharesMax + 1), [](int n) {
    return rc::gen::map(rc::gen::inRange(1, n + 1), [n](int k) { return Shape{k, n}; });
  });
  auto common = rc::gen::element(Shape{3, 10}, Shape{10, 16}, Shape{29, 40}, Shape{1, 40},
                                 Shape{40, 40}, Shape{20, 40});
  return rc::gen::oneOf(std::move(any), std::move(common));
}

std::unique_ptr<ErasureCodec> make(CodecKind kind, Shape s) {
  auto c = ErasureCodec::create(kind, s.k, s.n);
  RC_ASSERT(c.ok());
  return std::move(c).value();
}

std::vector<Bytes> encode_all(ErasureCodec& c, const Bytes& segment) {
  std::vector<Bytes> blocks(c.n(), Bytes(c.block_size(segment.size())));
  std::vector<MutableByteView> views(blocks.begin(), blocks.end());
  RC_ASSERT(c.encode(segment, views).is_ok());
  return blocks;
}

// k distinct share numbers out of n, in a random order.
std::vector<int> pick_shares(int k, int n) {
  std::vector<int> all(n);
  for (int i = 0; i < n; ++i) all[i] = i;
  // A random permutation: draw a rank for each share and sort by it.
  const auto ranks =
      *rc::gen::container<std::vector<std::uint32_t>>(n, rc::gen::arbitrary<std::uint32_t>());
  std::stable_sort(all.begin(), all.end(), [&](int a, int b) { return ranks[a] < ranks[b]; });
  all.resize(k);
  return all;
}

Bytes decode_from(ErasureCodec& c, const std::vector<Bytes>& blocks, const std::vector<int>& shares,
                  std::size_t size) {
  std::vector<ShareBlock> in;
  for (int s : shares) in.emplace_back(s, blocks[s]);
  Bytes out(size);
  const Status st = c.decode(in, size, out);
  RC_ASSERT(st.is_ok());
  return out;
}

RC_GTEST_PROP(CodecProperty, AnyKOfNBlocksRebuildTheSegment, ()) {
  const Shape shape = *gen_shape();
  const CodecKind kind =
      *rc::gen::element(CodecKind::kReedSolomon, CodecKind::kReedSolomonJerasure);
  const auto size = *rc::gen::inRange<std::size_t>(0, kSegmentBytesMax + 1);
  const Bytes segment = *rc::gen::container<Bytes>(size, rc::gen::arbitrary<std::uint8_t>());
  auto c = make(kind, shape);
  const auto blocks = encode_all(*c, segment);
  // Several erasure patterns per encoding, which also exercises the decode-table cache.
  const int patterns = *rc::gen::inRange(1, 4);
  for (int p = 0; p < patterns; ++p) {
    const std::vector<int> shares = pick_shares(shape.k, shape.n);
    RC_ASSERT(decode_from(*c, blocks, shares, size) == segment);
  }
  RC_CLASSIFY(shape.n > 20, "n > 20");
  RC_CLASSIFY(size > kSegmentBytesMax / 2, "segment > 2 KiB");
}

RC_GTEST_PROP(CodecProperty, IsalIsByteIdenticalToJerasure, ()) {
  const Shape shape = *gen_shape();
  const auto size = *rc::gen::inRange<std::size_t>(0, kSegmentBytesMax + 1);
  const Bytes segment = *rc::gen::container<Bytes>(size, rc::gen::arbitrary<std::uint8_t>());
  auto isal = make(CodecKind::kReedSolomon, shape);
  auto jerasure = make(CodecKind::kReedSolomonJerasure, shape);
  const auto a = encode_all(*isal, segment);
  // Jerasure's blocks at arbitrary misalignments, which its backend must stage.
  const std::size_t bs = jerasure->block_size(size);
  const auto shifts =
      *rc::gen::container<std::vector<std::size_t>>(shape.n, rc::gen::inRange<std::size_t>(0, 16));
  Bytes arena(shape.n * (bs + 16));
  std::vector<MutableByteView> views;
  for (int i = 0; i < shape.n; ++i)
    views.emplace_back(arena.data() + i * (bs + 16) + shifts[i], bs);
  RC_ASSERT(jerasure->encode(segment, views).is_ok());
  for (int i = 0; i < shape.n; ++i) {
    RC_ASSERT(std::equal(views[i].begin(), views[i].end(), a[i].begin()));
  }
  // Each decodes the other's blocks.
  const std::vector<int> shares = pick_shares(shape.k, shape.n);
  RC_ASSERT(decode_from(*jerasure, a, shares, size) == segment);
  RC_ASSERT(decode_from(*isal, a, shares, size) == segment);
}

RC_GTEST_PROP(CodecProperty, ReplicationAgreesWithItselfAndWithTheKOfOneCode, ()) {
  const int n = *rc::gen::inRange(1, kPropertySharesMax + 1);
  const auto size = *rc::gen::inRange<std::size_t>(0, kSegmentBytesMax + 1);
  const Bytes segment = *rc::gen::container<Bytes>(size, rc::gen::arbitrary<std::uint8_t>());
  auto rep = make(CodecKind::kReplication, Shape{1, n});
  auto rs = make(CodecKind::kReedSolomon, Shape{1, n});
  const auto a = encode_all(*rep, segment);
  RC_ASSERT(a == encode_all(*rs, segment));
  for (const Bytes& b : a) RC_ASSERT(b == segment);
  const int s = *rc::gen::inRange(0, n);
  RC_ASSERT(decode_from(*rep, a, {s}, size) == segment);
}

RC_GTEST_PROP(CodecProperty, ChosenSharesDecodeAndPreferData, ()) {
  const Shape shape = *gen_shape();
  const auto available = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, shape.n));
  auto c = make(CodecKind::kReedSolomon, shape);
  std::vector<int> distinct = available;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  auto chosen = c->choose_shares_to_fetch(available);
  if (distinct.size() < static_cast<std::size_t>(shape.k)) {
    RC_ASSERT(!chosen.ok());
    RC_ASSERT(chosen.status().code() == ErrorCode::kUnavailable);
    return;
  }
  RC_ASSERT(chosen.ok());
  RC_ASSERT(chosen->size() == static_cast<std::size_t>(shape.k));
  RC_ASSERT(std::is_sorted(chosen->begin(), chosen->end()));
  RC_ASSERT(std::adjacent_find(chosen->begin(), chosen->end()) == chosen->end());
  for (int s : *chosen) RC_ASSERT(std::binary_search(distinct.begin(), distinct.end(), s));
  const auto data_in = [&](const std::vector<int>& v) {
    return std::count_if(v.begin(), v.end(), [&](int s) { return s < shape.k; });
  };
  RC_ASSERT(data_in(*chosen) == data_in(distinct));  // every available data share is taken
  const Bytes segment = *rc::gen::container<Bytes>(97, rc::gen::arbitrary<std::uint8_t>());
  RC_ASSERT(decode_from(*c, encode_all(*c, segment), *chosen, segment.size()) == segment);
}

}  // namespace
}  // namespace lafs::codec
