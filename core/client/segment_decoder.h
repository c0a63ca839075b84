// Segment-at-a-time verified decoding of an immutable file, for streaming and ranged downloads:
// shares are added by their trailer (trees and uncle chain, checked against the share root),
// then each segment is rebuilt from k blocks, every block checked against its share's block
// tree and the result against the ciphertext tree, then decrypted. Memory: the trailers of the
// shares in use plus one segment. Spec: docs/specs/immutable.md.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "core/cap/cap.h"
#include "core/client/immutable_share.h"
#include "core/hashtree/verifier.h"

namespace lafs::client {

class SegmentDecoder {
 public:
  // `info` must come from a prefix that passed check_share_prefix against `cap`.
  static Result<std::unique_ptr<SegmentDecoder>> create(const cap::ChkReadCap& cap,
                                                        const ExtensionInfo& info);
  // Without the key (a verify cap's holder: the verifier and the repairer): decode_segment
  // returns the verified ciphertext.
  static Result<std::unique_ptr<SegmentDecoder>> create(std::optional<crypto::FileKey> key,
                                                        const ExtensionInfo& info);
  ~SegmentDecoder();

  const ExtensionInfo& info() const { return info_; }
  // The bytes of a share's trailer: [layout.block_tree_offset, layout.share_bytes).
  std::uint64_t trailer_offset(std::uint32_t share) const;
  std::uint64_t trailer_bytes(std::uint32_t share) const;
  const ShareLayout& layout(std::uint32_t share) const;

  // Checks the trailer (its block tree root against the share root through its uncle chain)
  // and keeps it for block proofs. Corruption names what is wrong; the share is then bad.
  Status add_share(std::uint32_t share, Bytes trailer);
  bool usable(std::uint32_t share) const {
    return shares_.contains(share) && !bad_.contains(share);
  }
  const std::set<std::uint32_t>& bad_shares() const { return bad_; }
  std::size_t usable_count() const;

  // Rebuilds plaintext segment `s` from `blocks` (share -> its block of segment s). Blocks that
  // fail their tree mark their share bad and are skipped; Corruption when fewer than k good ones
  // remain (the caller fetches other shares and calls again) or when the decoded ciphertext does
  // not match the ciphertext tree under every share's nodes.
  Result<Bytes> decode_segment(std::uint64_t s, const std::map<std::uint32_t, ByteView>& blocks);

  // Checks one block of an added share against its block tree (the verifier reads every block
  // of every share). Corruption marks the share bad.
  Status check_block(std::uint32_t share, std::uint64_t s, ByteView block);
  // Checks an added share's copy of the ciphertext tree whole: rebuilt from its leaves, every
  // node equal to the stored one and the root to the file's (a download only checks the nodes
  // it uses). Corruption marks the share bad.
  Status check_ciphertext_tree(std::uint32_t share);

 private:
  SegmentDecoder() = default;
  struct Share;
  struct Impl;
  std::optional<crypto::FileKey> key_;  // none: ciphertext out
  ExtensionInfo info_;
  std::map<std::uint32_t, std::unique_ptr<Share>> shares_;
  std::set<std::uint32_t> bad_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lafs::client
