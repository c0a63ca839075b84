// Merkle hash trees: build one over leaf hashes, read its root, and cut minimal proofs (the
// uncle chain) for any leaf or set of leaves. Verification is in verifier.h.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/crypto/hash.h"
#include "core/hashtree/layout.h"

namespace lafs::hashtree {

using crypto::Digest;
using crypto::HashTag;

// One node's hash, as a proof or a share carries it.
struct NodeHash {
  std::uint64_t index = 0;
  Digest hash{};
  friend bool operator==(const NodeHash&, const NodeHash&) = default;
};

// Tags that may name a tree's interior nodes. Leaves are hashed by the caller with the tree's
// leaf tag (kBlockLeaf, kCiphertextSegment); the share tree's leaves are block-tree roots.
bool is_tree_node_tag(HashTag tag);

// interior(i) = H_node_tag(hash(2i+1) || hash(2i+2)).
Digest hash_node(HashTag node_tag, const Digest& left, const Digest& right);

// The hash of an all-padding subtree of the given height: padding(0) = H_hashtree-padding("")
// and padding(h) = hash_node(padding(h-1), padding(h-1)). Index h is 0..depth.
std::vector<Digest> padding_hashes(HashTag node_tag, int depth);

class HashTree {
 public:
  // `leaves` are leaf hashes, 1 <= size <= kMaxLeafCount (asserted: callers bound their inputs;
  // the whole tree is held in memory, 2 * width - 1 digests).
  static HashTree build(HashTag node_tag, std::span<const Digest> leaves);

  const Digest& root() const { return nodes_[0]; }
  const TreeShape& shape() const { return shape_; }
  HashTag node_tag() const { return node_tag_; }
  const Digest& node(std::uint64_t index) const;
  const Digest& leaf(std::uint64_t leaf_index) const { return node(shape_.leaf_node(leaf_index)); }

  // The minimal proof for `leaves` (indices < leaf_count, any order, duplicates allowed): the
  // hashes a verifier that holds the root and those leaves' hashes needs and cannot compute —
  // siblings of the leaves' paths to the root that are neither on another such path nor
  // padding. Sorted by node index.
  std::vector<NodeHash> proof(std::span<const std::uint64_t> leaves) const;
  std::vector<NodeHash> proof(std::uint64_t leaf_index) const { return proof({&leaf_index, 1}); }

 private:
  HashTree(HashTag node_tag, TreeShape shape) : node_tag_(node_tag), shape_(shape) {}
  HashTag node_tag_;
  TreeShape shape_;
  std::vector<Digest> nodes_;  // breadth-first, node_count() entries
};

// The node indices of proof(leaves) for a tree of this shape (no hashes needed to know them).
std::vector<std::uint64_t> proof_nodes(const TreeShape& shape,
                                       std::span<const std::uint64_t> leaves);

// The root alone, without keeping the tree.
Digest compute_root(HashTag node_tag, std::span<const Digest> leaves);

}  // namespace lafs::hashtree
