// The erasure codec: a segment becomes n blocks, any k of which rebuild it. It knows share
// numbers and buffers only and does no I/O. The format is docs/specs/erasure-code.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "core/env/bytes.h"
#include "core/runtime/status.h"

namespace lafs::codec {

enum class CodecKind : std::uint8_t {
  kReedSolomon,          // ISA-L fed with the Vandermonde matrix: the production backend
  kReedSolomonJerasure,  // Jerasure itself: the reference implementation of the same code
  kReplication,          // k = 1, every block a copy of the segment: a trivial reference codec
};

// "reed_solomon", "reed_solomon_jerasure", "replication".
std::string_view codec_kind_name(CodecKind kind);
// The inverse of codec_kind_name; an unknown name gets a message listing the valid ones.
Result<CodecKind> parse_codec_kind(std::string_view name);

inline constexpr int kSharesMax = 256;  // GF(2^8) has 256 evaluation points (with infinity)
// Backends take int lengths; a segment is 128 KiB by default, so this bound is never near.
inline constexpr std::size_t kSegmentSizeBytesMax = std::size_t{1} << 30;

// One block handed to decode: (share number, its bytes).
using ShareBlock = std::pair<int, ByteView>;

// A share the caller could fetch, with its estimated cost (latency, load, distrust): lower costs
// are fetched first.
struct FetchCandidate {
  int share = 0;
  std::uint32_t cost = 0;
};

struct CodecStats {
  std::uint64_t decode_table_builds = 0;  // survivor sets whose decode tables were computed
  std::uint64_t decode_table_hits = 0;    // decodes that reused cached tables
};

// Layout of one segment of S bytes (S may be 0):
//   block_size B  = ceil(S / k)                      (no further alignment: the format is bytes)
//   padded        = the segment followed by k*B - S zero bytes
//   share i < k   = padded[i*B, (i+1)*B)             (systematic: data blocks are the segment)
//   share k+j     = sum over c of M[j][c] * share c, bytewise in GF(2^8) (0x11d), where M is
//                   vandermonde_coding_matrix(k, n) (core/codec/matrix.h), Jerasure's matrix.
// The padding is implied by S, which the caller stores elsewhere (the extension block).
//
// Thread-safety: an instance keeps decode tables and scratch buffers, so one caller uses it at
// a time; separate instances are independent. No method throws; bad input is a Status.
class ErasureCodec {
 public:
  // Validates the profile once: 1 <= k <= n <= 256, and k == 1 for replication. The message of
  // an invalid profile lists the valid choices.
  static Result<std::unique_ptr<ErasureCodec>> create(CodecKind kind, int k, int n);

  virtual ~ErasureCodec() = default;
  ErasureCodec(const ErasureCodec&) = delete;
  ErasureCodec& operator=(const ErasureCodec&) = delete;

  CodecKind kind() const { return kind_; }
  int k() const { return k_; }
  int n() const { return n_; }
  const CodecStats& stats() const { return stats_; }

  // ceil(segment_size / k); 0 for an empty segment.
  std::size_t block_size(std::size_t segment_size) const;
  // k * block_size(segment_size): the segment plus its zero padding.
  std::size_t padded_size(std::size_t segment_size) const { return k_ * block_size(segment_size); }

  // Writes all n blocks: blocks_out[i] is share i and must be exactly block_size(segment.size())
  // bytes. Zero-copy: blocks_out[i] (i < k) may alias the segment at offset i*block_size (the
  // caller laid the segment out in a padded buffer); such a block is not copied, only its
  // padding beyond the segment is zeroed. Otherwise the blocks must not overlap the segment or
  // each other. InvalidArgument for a wrong block count or size or an oversized segment.
  Status encode(ByteView segment, std::span<const MutableByteView> blocks_out);

  // Rebuilds the segment of `segment_size` bytes into `out` (exactly segment_size bytes) from
  // exactly k blocks of distinct shares, in any order. With all data shares present it is a
  // copy. The codec cannot detect a wrong block: callers verify blocks (hash trees) first.
  // InvalidArgument for a wrong count, a share >= n, a duplicate share, or a size mismatch.
  Status decode(std::span<const ShareBlock> blocks, std::size_t segment_size, MutableByteView out);

  // Which k shares to fetch out of those available, ascending. Kept apart from decoding so that
  // callers can weigh servers. Prefers data shares (decoding them is a copy). Duplicates are
  // merged (lowest cost wins). InvalidArgument for a share outside [0, n); Unavailable when
  // fewer than k distinct shares are available.
  Result<std::vector<int>> choose_shares_to_fetch(std::span<const int> available) const;
  // The same with costs: lower cost first, then data before parity, then lower share number.
  Result<std::vector<int>> choose_shares_to_fetch(std::span<const FetchCandidate> candidates) const;

 protected:
  ErasureCodec(CodecKind kind, int k, int n) : kind_(kind), k_(k), n_(n) {}

  // Backends. Inputs are validated: n > k, block_size > 0, k data pointers, n-k parity pointers.
  virtual void encode_parity(std::size_t block_size, const std::uint8_t* const* data,
                             std::uint8_t* const* parity) = 0;

  // Rebuilds data blocks `missing` (ascending, a prefix of the data shares absent from
  // `survivors`) into `targets`. `survivors` are k ascending share numbers; sources[j] holds
  // share survivors[j]. Internal if the survivor matrix cannot be inverted (never for an MDS
  // matrix; a failed check rather than a crash).
  virtual Status reconstruct_data(std::span<const int> survivors,
                                  const std::uint8_t* const* sources, std::span<const int> missing,
                                  std::uint8_t* const* targets, std::size_t block_size) = 0;

  CodecStats stats_;

 private:
  Status check_decode_input(std::span<const ShareBlock> blocks, std::size_t segment_size,
                            MutableByteView out);

  CodecKind kind_;
  int k_;
  int n_;
  // Scratch reused across calls so that a steady stream of segments does not allocate.
  std::vector<ShareBlock> sorted_;
  std::vector<int> survivors_;
  std::vector<const std::uint8_t*> sources_;
  std::vector<int> missing_;
  std::vector<std::uint8_t*> targets_;
  std::vector<const std::uint8_t*> data_ptrs_;
  std::vector<std::uint8_t*> parity_ptrs_;
  Bytes tail_block_;  // the last, partly padded data block when it must be rebuilt
};

}  // namespace lafs::codec
