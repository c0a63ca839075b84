// Segment-at-a-time verified decoding (docs/specs/immutable.md, "Decoding and verification").
#include "core/client/segment_decoder.h"

#include <algorithm>
#include <optional>

#include "core/codec/codec.h"
#include "core/crypto/cipher.h"
#include "core/hashtree/hash_tree.h"
#include "core/runtime/assert.h"

namespace lafs::client {
namespace {

using crypto::Digest;
using crypto::HashTag;

Digest node_at(const Bytes& trailer, std::uint64_t offset, std::uint64_t node) {
  Digest d{};
  std::copy_n(trailer.begin() + static_cast<std::ptrdiff_t>(offset + node * crypto::kDigestBytes),
              d.size(), d.begin());
  return d;
}

}  // namespace

struct SegmentDecoder::Share {
  ShareLayout layout;
  Bytes trailer;  // block tree nodes, ciphertext tree nodes, chain
  std::optional<hashtree::IncrementalVerifier> blocks;
  std::uint64_t block_tree_at() const { return 0; }
  std::uint64_t ciphertext_tree_at() const {
    return layout.ciphertext_tree_offset - layout.block_tree_offset;
  }
  std::uint64_t chain_at() const { return layout.chain_offset - layout.block_tree_offset; }
};

struct SegmentDecoder::Impl {
  std::unique_ptr<codec::ErasureCodec> codec;
  std::optional<hashtree::IncrementalVerifier> ciphertext;
  crypto::StreamCipher cipher;
  std::vector<ShareLayout> layouts;
};

SegmentDecoder::~SegmentDecoder() = default;

Result<std::unique_ptr<SegmentDecoder>> SegmentDecoder::create(const cap::ChkReadCap& cap,
                                                               const ExtensionInfo& info) {
  return create(std::optional<crypto::FileKey>(cap.key), info);
}

Result<std::unique_ptr<SegmentDecoder>> SegmentDecoder::create(std::optional<crypto::FileKey> key,
                                                               const ExtensionInfo& info) {
  std::unique_ptr<SegmentDecoder> d(new SegmentDecoder());
  d->key_ = key;
  d->info_ = info;
  d->impl_ = std::make_unique<Impl>();
  auto codec = codec::ErasureCodec::create(
      codec::CodecKind::kReedSolomon, static_cast<int>(info.needed), static_cast<int>(info.total));
  if (!codec.ok()) return codec.status();
  d->impl_->codec = std::move(*codec);
  auto ct = hashtree::IncrementalVerifier::create(HashTag::kCiphertextTreeNode,
                                                  info.ciphertext_root, info.segment_count);
  if (!ct.ok()) return ct.status();
  d->impl_->ciphertext.emplace(std::move(*ct));
  for (std::uint32_t i = 0; i < info.total; ++i) {
    auto l = ShareLayout::make(info, i);
    if (!l.ok()) return l.status();
    d->impl_->layouts.push_back(std::move(*l));
  }
  return d;
}

const ShareLayout& SegmentDecoder::layout(std::uint32_t share) const {
  LAFS_ASSERT(share < impl_->layouts.size());
  return impl_->layouts[share];
}
std::uint64_t SegmentDecoder::trailer_offset(std::uint32_t share) const {
  return layout(share).block_tree_offset;
}
std::uint64_t SegmentDecoder::trailer_bytes(std::uint32_t share) const {
  return layout(share).share_bytes - layout(share).block_tree_offset;
}

std::size_t SegmentDecoder::usable_count() const {
  std::size_t n = 0;
  for (const auto& [share, s] : shares_) n += bad_.contains(share) ? 0 : 1;
  return n;
}

Status SegmentDecoder::add_share(std::uint32_t share, Bytes trailer) {
  const std::string which = "share " + std::to_string(share);
  if (share >= info_.total) return invalid_argument(which + " is not below n");
  auto s = std::make_unique<Share>();
  s->layout = layout(share);
  if (trailer.size() != trailer_bytes(share)) {
    bad_.insert(share);
    return corruption(which + ": trailer has " + std::to_string(trailer.size()) + " bytes, want " +
                      std::to_string(trailer_bytes(share)));
  }
  s->trailer = std::move(trailer);
  const Digest block_root = node_at(s->trailer, s->block_tree_at(), 0);
  auto share_tree =
      hashtree::IncrementalVerifier::create(HashTag::kShareTreeNode, info_.share_root, info_.total);
  if (!share_tree.ok()) return share_tree.status();
  std::vector<hashtree::NodeHash> chain;
  for (std::size_t j = 0; j < s->layout.chain_nodes.size(); ++j) {
    chain.push_back({s->layout.chain_nodes[j], node_at(s->trailer, s->chain_at(), j)});
  }
  const hashtree::LeafHash leaf{share, block_root};
  Status st = share_tree->add(chain, {&leaf, 1});
  if (!st.is_ok() || !share_tree->is_leaf_verified(share)) {
    bad_.insert(share);
    return corruption(which + ": its block tree root is not in the share tree");
  }
  auto v = hashtree::IncrementalVerifier::create(HashTag::kBlockTreeNode, block_root,
                                                 s->layout.segment_count);
  if (!v.ok()) return v.status();
  s->blocks.emplace(std::move(*v));
  bad_.erase(share);
  shares_[share] = std::move(s);
  return Status{};
}

Status SegmentDecoder::check_block(std::uint32_t share, std::uint64_t seg, ByteView block) {
  auto it = shares_.find(share);
  if (it == shares_.end()) return invalid_argument("share " + std::to_string(share) + " not added");
  if (seg >= info_.segment_count) {
    return invalid_argument("segment " + std::to_string(seg) + " of " +
                            std::to_string(info_.segment_count));
  }
  Share& s = *it->second;
  bool ok = block.size() == s.layout.block_length(seg);
  if (ok) {
    std::vector<hashtree::NodeHash> proof;
    const std::uint64_t leaf_index = seg;
    for (std::uint64_t node : hashtree::proof_nodes(s.blocks->shape(), {&leaf_index, 1})) {
      proof.push_back({node, node_at(s.trailer, s.block_tree_at(), node)});
    }
    const hashtree::LeafHash leaf{seg, crypto::tagged_hash(HashTag::kBlockLeaf, block)};
    ok = s.blocks->add(proof, {&leaf, 1}).is_ok() && s.blocks->is_leaf_verified(seg);
  }
  if (!ok) {
    bad_.insert(share);
    return corruption("share " + std::to_string(share) + ": block " + std::to_string(seg) +
                      " does not match its hash tree");
  }
  return Status{};
}

Status SegmentDecoder::check_ciphertext_tree(std::uint32_t share) {
  auto it = shares_.find(share);
  if (it == shares_.end()) return invalid_argument("share " + std::to_string(share) + " not added");
  const Share& s = *it->second;
  auto shape = hashtree::TreeShape::make(info_.segment_count);
  if (!shape.ok()) return shape.status();
  std::vector<Digest> leaves;
  for (std::uint64_t i = 0; i < info_.segment_count; ++i) {
    leaves.push_back(node_at(s.trailer, s.ciphertext_tree_at(), shape->leaf_node(i)));
  }
  const auto tree = hashtree::HashTree::build(HashTag::kCiphertextTreeNode, leaves);
  bool ok = tree.root() == info_.ciphertext_root;
  for (std::uint64_t n = 0; ok && n < s.layout.ciphertext_tree_nodes; ++n) {
    ok = tree.node(n) == node_at(s.trailer, s.ciphertext_tree_at(), n);
  }
  if (!ok) {
    bad_.insert(share);
    return corruption("share " + std::to_string(share) +
                      ": its copy of the ciphertext tree does not match the file's");
  }
  return Status{};
}

Result<Bytes> SegmentDecoder::decode_segment(std::uint64_t seg,
                                             const std::map<std::uint32_t, ByteView>& blocks) {
  if (seg >= info_.segment_count) {
    return invalid_argument("segment " + std::to_string(seg) + " of " +
                            std::to_string(info_.segment_count));
  }
  const std::uint32_t k = info_.needed;
  std::vector<codec::ShareBlock> good;
  std::string why;
  for (const auto& [share, block] : blocks) {
    if (good.size() == k) break;
    if (!shares_.contains(share) || bad_.contains(share)) continue;
    Status checked = check_block(share, seg, block);
    if (!checked.is_ok()) {
      why += "; " + checked.message();
      continue;
    }
    good.emplace_back(static_cast<int>(share), block);
  }
  if (good.size() < k) {
    return corruption("segment " + std::to_string(seg) + ": " + std::to_string(good.size()) +
                      " good blocks, " + std::to_string(k) + " needed" + why);
  }
  const std::uint64_t len = seg + 1 < info_.segment_count
                                ? info_.segment_size
                                : info_.file_size - seg * info_.segment_size;
  Bytes segment(len);
  LAFS_RETURN_IF_ERROR(impl_->codec->decode(good, len, segment));
  const hashtree::LeafHash leaf{seg, crypto::tagged_hash(HashTag::kCiphertextSegment, segment)};
  bool verified =
      impl_->ciphertext->is_leaf_verified(seg) &&
      impl_->ciphertext->verified_hash(impl_->ciphertext->shape().leaf_node(seg)) == leaf.hash;
  std::vector<std::uint32_t> tried;  // shares whose copy of the tree could not prove the leaf
  for (auto it = shares_.begin(); !verified && it != shares_.end(); ++it) {
    if (bad_.contains(it->first)) continue;
    tried.push_back(it->first);
    std::vector<hashtree::NodeHash> proof;
    const std::uint64_t leaf_index = seg;
    for (std::uint64_t node : impl_->ciphertext->needed_hashes({&leaf_index, 1})) {
      proof.push_back({node, node_at(it->second->trailer, it->second->ciphertext_tree_at(), node)});
    }
    verified = impl_->ciphertext->add(proof, {&leaf, 1}).is_ok() &&
               impl_->ciphertext->is_leaf_verified(seg);
  }
  if (!verified) {
    // The blocks passed their trees, so the likelier culprit is the tree copies the proof came
    // from (a share's copy of the ciphertext tree can rot apart from its blocks): those shares
    // are bad for this download, and the caller brings in others. If the segment itself were
    // wrong, fresh shares fail the same way and the download fails.
    bad_.insert(tried.begin(), tried.end());
    return corruption("segment " + std::to_string(seg) +
                      " decodes to ciphertext that does not match the file's ciphertext tree");
  }
  if (!key_) return segment;  // the verifier's and repairer's ciphertext
  const crypto::StreamNonce nonce{};
  LAFS_RETURN_IF_ERROR(impl_->cipher.xor_at(*key_, nonce, seg * info_.segment_size, segment));
  return segment;
}

}  // namespace lafs::client
