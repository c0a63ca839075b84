// The immutable file format: how a plaintext becomes n self-verifying shares, and how any k
// good shares become the plaintext again — or a clear error, never different bytes.
// Spec: docs/specs/immutable.md. Pure: no I/O. The network upload and download build on it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/cap/cap.h"
#include "core/crypto/derive.h"
#include "core/crypto/hash.h"
#include "core/env/bytes.h"
#include "core/runtime/status.h"

namespace lafs::client {

struct EncodingParams {
  std::uint32_t needed = 3;                 // k
  std::uint32_t happy = 7;                  // servers-of-happiness an upload must reach
  std::uint32_t total = 10;                 // n
  std::uint64_t segment_size = 128 * 1024;  // plaintext bytes per segment
};

inline constexpr std::uint32_t kImmutableFormatVersion = 1;
inline constexpr std::size_t kShareHeaderBytes = 20;  // magic, version, share number, UEB length
inline constexpr std::size_t kExtensionBlockBytesMax = 512;  // the region reserved for it
inline constexpr std::uint64_t kSegmentSizeMax = std::uint64_t{64} << 20;
// The header and the extension block region: a reader's first fetch from each share, and where
// the blocks start (fixed, so an uploader can stream blocks before the trees are known).
inline constexpr std::size_t kSharePrefixBytes = kShareHeaderBytes + kExtensionBlockBytesMax;

// What the extension block says, once its bytes matched the cap's hash.
struct ExtensionInfo {
  std::uint32_t needed = 0;
  std::uint32_t total = 0;
  std::uint64_t segment_size = 0;
  std::uint64_t file_size = 0;
  std::uint64_t segment_count = 0;
  crypto::Digest ciphertext_root{};
  crypto::Digest share_root{};
};

// Where everything is in one share, computed from the extension block (never read from the
// share, so a lying server cannot move anything).
struct ShareLayout {
  std::uint64_t blocks_offset = kSharePrefixBytes;
  std::uint64_t block_size = 0;       // blocks of full segments
  std::uint64_t tail_block_size = 0;  // the last segment's block
  std::uint64_t segment_count = 0;
  std::uint64_t block_tree_offset = 0;
  std::uint64_t block_tree_nodes = 0;
  std::uint64_t ciphertext_tree_offset = 0;
  std::uint64_t ciphertext_tree_nodes = 0;
  std::uint64_t chain_offset = 0;  // this share's uncle chain in the share tree
  std::vector<std::uint64_t> chain_nodes;
  std::uint64_t share_bytes = 0;  // total

  static Result<ShareLayout> make(const ExtensionInfo& info, std::uint32_t share_number);
  std::uint64_t block_offset(std::uint64_t segment) const;
  std::uint64_t block_length(std::uint64_t segment) const;
};

struct EncodedFile {
  cap::ChkReadCap cap;
  crypto::StorageIndex storage_index{};
  std::vector<Bytes> shares;  // n shares, index = share number
};

// The streaming encoder: segments in, blocks out, one segment at a time; the trees and the
// extension block at the end. Memory: one segment's blocks plus 32 bytes per block. A share is
// prefix (kSharePrefixBytes, from finish()) + blocks (in segment order, at
// layout(i).block_offset(s)) + trailer (from finish(), at layout(i).block_tree_offset).
class ImmutableEncoder {
 public:
  // InvalidArgument for bad parameters or a file over crypto::kMaxFileBytes.
  static Result<std::unique_ptr<ImmutableEncoder>> create(const crypto::FileKey& key,
                                                          const EncodingParams& params,
                                                          std::uint64_t file_size);
  // For a repairer that holds only a verify cap: segments given to encode_segment are the
  // file's ciphertext (verified against the ciphertext tree), encoded as they are. The shares
  // are the original ones exactly, so finish()'s extension hash must equal the cap's.
  static Result<std::unique_ptr<ImmutableEncoder>> create_for_ciphertext(
      const crypto::StorageIndex& si, const EncodingParams& params, std::uint64_t file_size);
  ~ImmutableEncoder();

  std::uint64_t segment_count() const { return info_.segment_count; }
  // Plaintext bytes segment `s` must have.
  std::uint64_t segment_length(std::uint64_t s) const;
  const ShareLayout& layout(std::uint32_t share) const { return layouts_[share]; }
  crypto::StorageIndex storage_index() const;

  // Encrypts (unless made for ciphertext) and encodes the next segment; the n blocks (index = share
  // number) stay valid until the next call. FailedPrecondition when called out of turn or with the
  // wrong length.
  Result<const std::vector<Bytes>*> encode_segment(ByteView plaintext);

  struct Finished {
    cap::ChkReadCap cap;
    std::vector<Bytes> prefixes;  // per share: header and extension block region
    std::vector<Bytes> trailers;  // per share: block tree, ciphertext tree, uncle chain
  };
  // After the last segment.
  Result<Finished> finish();

 private:
  ImmutableEncoder() = default;
  struct Impl;
  crypto::FileKey key_;
  std::optional<crypto::StorageIndex> ciphertext_si_;  // set: ciphertext in, no key
  EncodingParams params_;
  ExtensionInfo info_;
  std::vector<ShareLayout> layouts_;
  std::unique_ptr<Impl> impl_;
};

// Encrypts with `key` (convergent or random: the caller's choice), splits into segments,
// erasure-codes and builds the block, share and ciphertext trees and the extension block.
// InvalidArgument for bad parameters (1 <= k <= n <= 256, 1 <= happy <= n, segment size in
// 1..kSegmentSizeMax) or a file over crypto::kMaxFileBytes.
Result<EncodedFile> encode_immutable(ByteView plaintext, const crypto::FileKey& key,
                                     const EncodingParams& params);

// What can be learned from a share's prefix without a cap: its extension block (parsed and
// self-consistent) and that block's hash. An uploader that does not know its cap yet compares
// the parameters now and the hash once its own encoding is finished.
struct PeekedPrefix {
  ExtensionInfo info;
  crypto::Digest extension_hash{};
};
Result<PeekedPrefix> peek_share_prefix(std::uint32_t share_number, ByteView prefix);

// Checks one share's prefix (header and extension block) against the cap: the right magic,
// version, share number and an extension block whose hash is the cap's and whose parameters
// match it. Returns the parsed block and the share's layout.
struct CheckedPrefix {
  ExtensionInfo info;
  ShareLayout layout;
};
Result<CheckedPrefix> check_share_prefix(const cap::ChkVerifyCap& cap, std::uint32_t share_number,
                                         ByteView prefix);

// What decoding saw: which shares were refused and why.
struct DecodeReport {
  std::map<std::uint32_t, std::string> bad_shares;  // share number -> what was wrong
  std::vector<std::uint32_t> used;                  // shares whose blocks were decoded
};

// Rebuilds the plaintext from whole shares (share number -> bytes as a server returned them).
// Every block is checked against its block tree, every block tree root against the share tree,
// every segment against the ciphertext tree; bad shares are set aside (and named in `report`)
// and others used instead. Corruption when fewer than k good shares remain, naming them.
Result<Bytes> decode_immutable(const cap::ChkReadCap& cap,
                               const std::map<std::uint32_t, Bytes>& shares,
                               DecodeReport* report = nullptr);

cap::ChkVerifyCap verify_cap_of(const cap::ChkReadCap& cap);

}  // namespace lafs::client
