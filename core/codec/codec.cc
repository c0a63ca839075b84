// The codec's public contract: validation, layout and the systematic copy paths, written once for
// every backend; backends only compute parity and rebuild missing data blocks.
#include "core/codec/codec.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/codec/backends.h"
#include "core/runtime/assert.h"

namespace lafs::codec {
namespace {

constexpr std::string_view kKindChoices = "reed_solomon, reed_solomon_jerasure, replication";

std::string join_shares(std::span<const int> shares) {
  std::string s = "[";
  for (std::size_t i = 0; i < shares.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shares[i]);
  }
  return s + "]";
}

}  // namespace

std::string_view codec_kind_name(CodecKind kind) {
  switch (kind) {
    case CodecKind::kReedSolomon:
      return "reed_solomon";
    case CodecKind::kReedSolomonJerasure:
      return "reed_solomon_jerasure";
    case CodecKind::kReplication:
      return "replication";
  }
  return "unknown";
}

Result<CodecKind> parse_codec_kind(std::string_view name) {
  for (CodecKind kind :
       {CodecKind::kReedSolomon, CodecKind::kReedSolomonJerasure, CodecKind::kReplication}) {
    if (codec_kind_name(kind) == name) return kind;
  }
  return invalid_argument("unknown erasure codec '" + std::string(name) +
                          "'; valid codecs: " + std::string(kKindChoices));
}

Result<std::unique_ptr<ErasureCodec>> ErasureCodec::create(CodecKind kind, int k, int n) {
  const std::string profile = "erasure code k=" + std::to_string(k) + ", n=" + std::to_string(n);
  if (k < 1 || n < k || n > kSharesMax) {
    return invalid_argument("invalid " + profile +
                            ": need 1 <= k <= n <= " + std::to_string(kSharesMax) +
                            " (k shares rebuild a segment, n are made)");
  }
  switch (kind) {
    case CodecKind::kReedSolomon:
      return make_isal_codec(k, n);
    case CodecKind::kReedSolomonJerasure:
      return make_jerasure_codec(k, n);
    case CodecKind::kReplication:
      if (k != 1) {
        return invalid_argument("invalid " + profile +
                                " for replication: it needs k=1 (every block is a whole copy of "
                                "the segment); for k > 1 use reed_solomon");
      }
      return make_replication_codec(n);
  }
  return invalid_argument("unknown erasure codec kind " + std::to_string(static_cast<int>(kind)) +
                          "; valid codecs: " + std::string(kKindChoices));
}

std::size_t ErasureCodec::block_size(std::size_t segment_size) const {
  const auto k = static_cast<std::size_t>(k_);
  return (segment_size + k - 1) / k;
}

Status ErasureCodec::encode(ByteView segment, std::span<const MutableByteView> blocks_out) {
  if (segment.size() > kSegmentSizeBytesMax) {
    return invalid_argument("segment of " + std::to_string(segment.size()) +
                            " bytes exceeds the maximum of " +
                            std::to_string(kSegmentSizeBytesMax));
  }
  if (blocks_out.size() != static_cast<std::size_t>(n_)) {
    return invalid_argument("encode needs n=" + std::to_string(n_) + " output blocks, got " +
                            std::to_string(blocks_out.size()));
  }
  const std::size_t bs = block_size(segment.size());
  for (std::size_t i = 0; i < blocks_out.size(); ++i) {
    if (blocks_out[i].size() != bs) {
      return invalid_argument("output block " + std::to_string(i) + " is " +
                              std::to_string(blocks_out[i].size()) + " bytes, expected " +
                              std::to_string(bs) + " for a " + std::to_string(segment.size()) +
                              "-byte segment");
    }
  }
  if (bs == 0) return Status{};
  data_ptrs_.resize(k_);
  for (int i = 0; i < k_; ++i) {
    const std::size_t offset = static_cast<std::size_t>(i) * bs;
    const std::size_t have = offset < segment.size() ? std::min(bs, segment.size() - offset) : 0;
    std::uint8_t* dst = blocks_out[i].data();
    // A block aliasing its place in the segment (zero-copy) needs only its padding.
    if (have > 0 && dst != segment.data() + offset) std::memcpy(dst, segment.data() + offset, have);
    if (have < bs) std::memset(dst + have, 0, bs - have);
    data_ptrs_[i] = dst;
  }
  if (n_ == k_) return Status{};
  parity_ptrs_.resize(n_ - k_);
  for (int j = 0; j < n_ - k_; ++j) parity_ptrs_[j] = blocks_out[k_ + j].data();
  encode_parity(bs, data_ptrs_.data(), parity_ptrs_.data());
  return Status{};
}

Status ErasureCodec::check_decode_input(std::span<const ShareBlock> blocks,
                                        std::size_t segment_size, MutableByteView out) {
  if (blocks.size() != static_cast<std::size_t>(k_)) {
    return invalid_argument("decode needs exactly k=" + std::to_string(k_) + " blocks, got " +
                            std::to_string(blocks.size()));
  }
  if (segment_size > kSegmentSizeBytesMax) {
    return invalid_argument("segment of " + std::to_string(segment_size) +
                            " bytes exceeds the maximum of " +
                            std::to_string(kSegmentSizeBytesMax));
  }
  if (out.size() != segment_size) {
    return invalid_argument("decode output is " + std::to_string(out.size()) +
                            " bytes, expected the segment size " + std::to_string(segment_size));
  }
  const std::size_t bs = block_size(segment_size);
  for (const auto& [share, block] : blocks) {
    if (share < 0 || share >= n_) {
      return invalid_argument("share number " + std::to_string(share) + " is outside [0, " +
                              std::to_string(n_) + ")");
    }
    if (block.size() != bs) {
      return invalid_argument("block of share " + std::to_string(share) + " is " +
                              std::to_string(block.size()) + " bytes, expected " +
                              std::to_string(bs) + " for a " + std::to_string(segment_size) +
                              "-byte segment");
    }
  }
  sorted_.assign(blocks.begin(), blocks.end());
  std::sort(sorted_.begin(), sorted_.end(),
            [](const ShareBlock& a, const ShareBlock& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < sorted_.size(); ++i) {
    if (sorted_[i].first == sorted_[i - 1].first) {
      return invalid_argument("share number " + std::to_string(sorted_[i].first) +
                              " given more than once; decode needs k distinct shares");
    }
  }
  return Status{};
}

Status ErasureCodec::decode(std::span<const ShareBlock> blocks, std::size_t segment_size,
                            MutableByteView out) {
  LAFS_RETURN_IF_ERROR(check_decode_input(blocks, segment_size, out));
  const std::size_t bs = block_size(segment_size);
  if (bs == 0) return Status{};
  // Data blocks at or past this index are pure padding and need not be rebuilt.
  const int data_blocks_needed = static_cast<int>((segment_size + bs - 1) / bs);
  survivors_.clear();
  sources_.clear();
  std::size_t next = 0;  // index into sorted_ of the first share >= the data share examined
  missing_.clear();
  for (int i = 0; i < k_; ++i) {
    while (next < sorted_.size() && sorted_[next].first < i) ++next;
    const bool present = next < sorted_.size() && sorted_[next].first == i;
    const std::size_t offset = static_cast<std::size_t>(i) * bs;
    if (present && i < data_blocks_needed) {
      std::memcpy(out.data() + offset, sorted_[next].second.data(),
                  std::min(bs, segment_size - offset));
    } else if (!present && i < data_blocks_needed) {
      missing_.push_back(i);
    }
  }
  if (missing_.empty()) return Status{};
  for (const auto& [share, block] : sorted_) {
    survivors_.push_back(share);
    sources_.push_back(block.data());
  }
  targets_.clear();
  bool tail_in_scratch = false;
  for (int i : missing_) {
    const std::size_t offset = static_cast<std::size_t>(i) * bs;
    if (offset + bs <= segment_size) {
      targets_.push_back(out.data() + offset);
    } else {
      LAFS_ASSERT(i == missing_.back());  // only the last needed block can straddle the end
      tail_block_.resize(bs);
      targets_.push_back(tail_block_.data());
      tail_in_scratch = true;
    }
  }
  LAFS_RETURN_IF_ERROR(
      reconstruct_data(survivors_, sources_.data(), missing_, targets_.data(), bs));
  if (tail_in_scratch) {
    const std::size_t offset = static_cast<std::size_t>(missing_.back()) * bs;
    std::memcpy(out.data() + offset, tail_block_.data(), segment_size - offset);
  }
  return Status{};
}

Result<std::vector<int>> ErasureCodec::choose_shares_to_fetch(
    std::span<const int> available) const {
  std::vector<FetchCandidate> candidates;
  candidates.reserve(available.size());
  for (int share : available) candidates.push_back(FetchCandidate{share, 0});
  return choose_shares_to_fetch(candidates);
}

Result<std::vector<int>> ErasureCodec::choose_shares_to_fetch(
    std::span<const FetchCandidate> candidates) const {
  std::vector<FetchCandidate> c(candidates.begin(), candidates.end());
  for (const FetchCandidate& x : c) {
    if (x.share < 0 || x.share >= n_) {
      return invalid_argument("share number " + std::to_string(x.share) + " is outside [0, " +
                              std::to_string(n_) + ")");
    }
  }
  // Merge duplicates keeping the cheapest; then rank by cost, data before parity, share number.
  std::sort(c.begin(), c.end(), [](const FetchCandidate& a, const FetchCandidate& b) {
    return a.share != b.share ? a.share < b.share : a.cost < b.cost;
  });
  c.erase(std::unique(
              c.begin(), c.end(),
              [](const FetchCandidate& a, const FetchCandidate& b) { return a.share == b.share; }),
          c.end());
  if (c.size() < static_cast<std::size_t>(k_)) {
    std::vector<int> have;
    for (const FetchCandidate& x : c) have.push_back(x.share);
    return unavailable("need k=" + std::to_string(k_) + " distinct shares, only " +
                       std::to_string(c.size()) + " available: " + join_shares(have));
  }
  const int k = k_;
  std::stable_sort(c.begin(), c.end(), [k](const FetchCandidate& a, const FetchCandidate& b) {
    if (a.cost != b.cost) return a.cost < b.cost;
    return (a.share < k) > (b.share < k);
  });
  std::vector<int> chosen;
  chosen.reserve(k_);
  for (int i = 0; i < k_; ++i) chosen.push_back(c[i].share);
  std::sort(chosen.begin(), chosen.end());
  LAFS_ASSERT(chosen.size() == static_cast<std::size_t>(k_));
  return chosen;
}

}  // namespace lafs::codec
