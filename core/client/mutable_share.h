// The mutable file format (SSK, Ed25519): how one version of a mutable file becomes n signed,
// self-verifying shares, and how a reader checks them and any k become the plaintext again.
// Pure: no I/O. Publishing and retrieving through servers are in mutable_client.h.
// Spec: docs/specs/mutable.md.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/cap/cap.h"
#include "core/crypto/derive.h"
#include "core/crypto/hash.h"
#include "core/crypto/sign.h"
#include "core/env/bytes.h"
#include "core/env/random.h"
#include "core/hashtree/layout.h"
#include "core/runtime/status.h"

namespace lafs::client {

inline constexpr std::uint32_t kMutableFormatVersion = 1;
// magic(8) share(4) | signed: version(4) seqnum(8) root(32) k(4) n(4) segsize(8) length(8) |
// verifying key(32) signature(64) encrypted signing seed(32).
inline constexpr std::size_t kMutablePrefixBytes = 208;
// The bytes a writer's test-and-set compares: sequence number and root hash.
inline constexpr std::uint64_t kCheckstringOffset = 16;
inline constexpr std::size_t kCheckstringBytes = 40;
// A share is at most this long (the storage server's bound on a mutable share).
inline constexpr std::uint64_t kMutableShareBytesMax = std::uint64_t{64} << 20;
inline constexpr std::uint64_t kMutableSegmentSizeMax = std::uint64_t{16} << 20;

// A version of a mutable file: its sequence number and the root of its share tree. Versions
// are totally ordered by (seqnum, root): the same order for every reader and writer, so two
// writers that published the same sequence number agree on which one is newer.
struct MutableVersion {
  std::uint64_t seqnum = 0;
  crypto::Digest root{};
  friend auto operator<=>(const MutableVersion&, const MutableVersion&) = default;
  friend bool operator==(const MutableVersion&, const MutableVersion&) = default;
};
std::string describe(const MutableVersion& v);  // "seq 7 root 1a2b3c4d"
// The 40 bytes at kCheckstringOffset of every share of this version.
Bytes checkstring(const MutableVersion& v);

struct MutableParams {
  std::uint32_t needed = 3;                // k
  std::uint32_t total = 10;                // n
  std::uint64_t segment_size = 128 << 10;  // plaintext bytes per segment
  std::uint64_t data_length = 0;           // plaintext bytes of this version
  friend bool operator==(const MutableParams&, const MutableParams&) = default;
};

// What a share's prefix says, after its signature and verifying key were checked.
struct MutableHeader {
  std::uint32_t share_number = 0;
  MutableVersion version;
  MutableParams params;
  crypto::VerifyingKey verifying_key{};
  crypto::Signature signature{};
  std::array<std::uint8_t, crypto::kSigningSeedBytes> encrypted_seed{};
};

// Where everything is in one share, computed from the signed parameters alone.
//
// After the prefix and the share's uncle chain come the spine (kSpineSlots node hashes) and
// then one record per segment: salt(16), leaf slot(32), inner slot(32), block. The block tree
// (padded to a power-of-two width, as hashtree.md) is stored by node: a complete node (all
// leaves below it real) at in-order ("flat") index f lives in record f/2 — the leaf slot for
// even f (the segment's own leaf), the inner slot for odd f; a partial node (some real, some
// padding leaves below it: the ancestors of the last leaf) lives in spine[height]. Appending a
// segment appends a record and moves nothing, whatever the segment count: a ranged write
// touches its records, a few node slots, the spine, the chain and the prefix.
inline constexpr std::size_t kSpineSlots = 49;  // heights 0..48 (trees of up to 2^48 leaves)
inline constexpr std::size_t kRecordHeaderBytes = crypto::kSaltBytes + 2 * crypto::kDigestBytes;

struct MutableLayout {
  std::uint64_t segment_count = 0;  // max(1, ceil(length / segment_size))
  std::uint64_t block_size = 0;     // blocks of full segments: ceil(segment_size / k)
  std::uint64_t tail_block_size = 0;
  std::uint64_t chain_offset = kMutablePrefixBytes;
  std::vector<std::uint64_t> chain_nodes;  // share-tree nodes of this share's uncle chain
  std::uint64_t spine_offset = 0;
  std::uint64_t records_offset = 0;
  std::uint64_t record_size = 0;  // kRecordHeaderBytes + block_size
  std::uint64_t share_bytes = 0;

  // InvalidArgument for parameters out of range or a share over kMutableShareBytesMax.
  static Result<MutableLayout> make(const MutableParams& params, std::uint32_t share_number);
  std::uint64_t record_offset(std::uint64_t s) const { return records_offset + s * record_size; }
  std::uint64_t salt_offset(std::uint64_t s) const { return record_offset(s); }
  std::uint64_t block_offset(std::uint64_t s) const {
    return record_offset(s) + kRecordHeaderBytes;
  }
  std::uint64_t block_length(std::uint64_t s) const {
    return s + 1 == segment_count ? tail_block_size : block_size;
  }
  std::uint64_t segment_length(const MutableParams& p, std::uint64_t s) const;
  // Where a non-padding node of `shape` (a block tree of segment_count leaves) is stored.
  std::uint64_t node_offset(const hashtree::TreeShape& shape, std::uint64_t node) const;
};

// In-order index of a node: ((2p + 1) << h) - 1 for the p-th node at height h. Unlike the
// breadth-first index it does not depend on the tree's depth.
std::uint64_t flat_index(const hashtree::TreeShape& shape, std::uint64_t node);
// The node of `shape` at (height, position p), if the shape is that deep.
std::optional<std::uint64_t> node_at(const hashtree::TreeShape& shape, int height, std::uint64_t p);
// All leaves below `node` are real (below leaf_count).
bool is_complete(const hashtree::TreeShape& shape, std::uint64_t node);

// Checks the parameters (1 <= k <= n <= 256, segment size in 1..kMutableSegmentSizeMax, every
// share within kMutableShareBytesMax).
Status validate_mutable_params(const MutableParams& params);

// Encodes one version: fresh salts from `random` for every segment, encryption under
// mutable_data_key(read key, salt), erasure coding, the trees, the signed header. Returns n
// shares (index = share number); `version` receives the version they carry.
Result<std::vector<Bytes>> encode_mutable(const crypto::SigningKey& signing_key,
                                          std::uint64_t seqnum, const MutableParams& params,
                                          ByteView plaintext, Random& random,
                                          MutableVersion* version = nullptr);

// ---- Pieces for segment-level (ranged) reads and writes ----

// The signed 208-byte prefix of `v` with `params` (share number 0; set it per share).
Result<Bytes> mutable_prefix(const crypto::SigningKey& signing_key, const MutableVersion& v,
                             const MutableParams& params);
void set_prefix_share_number(Bytes& prefix, std::uint32_t share_number);

// One segment encrypted under a fresh salt and erasure-coded: block i and its leaf hash for
// share i.
struct EncodedSegment {
  crypto::Salt salt{};
  std::vector<Bytes> blocks;
  std::vector<crypto::Digest> leaves;
};
Result<EncodedSegment> encode_mutable_segment(const crypto::ReadKey& read_key,
                                              const MutableParams& params, ByteView plaintext,
                                              Random& random);
// The plaintext of one segment from at least k verified blocks (share -> block).
Result<Bytes> decode_mutable_segment(const crypto::ReadKey& read_key, const MutableParams& params,
                                     std::uint64_t segment_length, const crypto::Salt& salt,
                                     const std::map<std::uint32_t, ByteView>& blocks);
crypto::Digest mutable_block_leaf(const crypto::Salt& salt, ByteView block);

// The block-tree hashes of every node on the paths from `leaves` (leaf index -> hash) to the
// root (node 0), given the hashes of the paths' siblings (node -> hash; padding is computed).
// Corruption if a needed sibling is missing. A leaf at or past leaf_count (below the width) may
// be given too (its padding hash, to recompute a smaller tree's root along a longer one's paths).
Result<std::map<std::uint64_t, crypto::Digest>> tree_paths(
    const hashtree::TreeShape& shape, const std::map<std::uint64_t, crypto::Digest>& leaves,
    const std::map<std::uint64_t, crypto::Digest>& siblings);

// Parses and checks a share's prefix: the magic, format version, share number, parameters,
// that the verifying key's fingerprint is the cap's, and the signature. Corruption (naming
// what is wrong) otherwise; a server's bytes are never believed before this passes.
Result<MutableHeader> check_mutable_prefix(const crypto::StorageIndex& si,
                                           const crypto::Fingerprint& fingerprint,
                                           std::uint32_t share_number, ByteView prefix);

// Checks a whole share: its prefix as above, its length, every block against the block tree
// (recomputed from the salts and blocks, and equal to the stored one), and the block tree root
// through the uncle chain against the signed root.
Result<MutableHeader> check_mutable_share(const crypto::StorageIndex& si,
                                          const crypto::Fingerprint& fingerprint,
                                          std::uint32_t share_number, ByteView share);

// Rebuilds the plaintext of one version from shares that passed check_mutable_share and carry
// `header`'s version and parameters (at least k of them; Corruption otherwise).
Result<Bytes> decode_mutable(const crypto::ReadKey& read_key, const MutableHeader& header,
                             const std::map<std::uint32_t, Bytes>& shares);

// The signing key stored (encrypted under the write key) in a share whose prefix was checked:
// only a write cap's holder can recover it. Corruption if it does not match the header's
// verifying key.
Result<crypto::SigningKey> unwrap_signing_key(const crypto::WriteKey& write_key,
                                              const MutableHeader& header);

}  // namespace lafs::client
