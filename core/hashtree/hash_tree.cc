// Building trees and cutting proofs; the arithmetic is in layout.h.
#include "core/hashtree/hash_tree.h"

#include <algorithm>
#include <set>

#include "core/runtime/assert.h"

namespace lafs::hashtree {

bool is_tree_node_tag(HashTag tag) {
  return tag == HashTag::kCiphertextTreeNode || tag == HashTag::kBlockTreeNode ||
         tag == HashTag::kShareTreeNode;
}

Digest hash_node(HashTag node_tag, const Digest& left, const Digest& right) {
  LAFS_ASSERT(is_tree_node_tag(node_tag));
  return crypto::tagged_hash2(node_tag, left, right);
}

std::vector<Digest> padding_hashes(HashTag node_tag, int depth) {
  LAFS_ASSERT(depth >= 0 && depth <= 64);
  std::vector<Digest> pad(static_cast<std::size_t>(depth) + 1);
  pad[0] = crypto::tagged_hash(HashTag::kHashTreePadding, {});
  for (std::size_t h = 1; h < pad.size(); ++h) pad[h] = hash_node(node_tag, pad[h - 1], pad[h - 1]);
  return pad;
}

HashTree HashTree::build(HashTag node_tag, std::span<const Digest> leaves) {
  LAFS_ASSERT(is_tree_node_tag(node_tag));
  auto shape = TreeShape::make(leaves.size());
  LAFS_ASSERT_MSG(shape.ok(), "HashTree::build: leaf count out of range");
  HashTree tree(node_tag, *shape);
  tree.nodes_.resize(shape->node_count());
  const Digest pad_leaf = crypto::tagged_hash(HashTag::kHashTreePadding, {});
  const std::uint64_t first_leaf = shape->width() - 1;
  std::copy(leaves.begin(), leaves.end(), tree.nodes_.begin() + first_leaf);
  std::fill(tree.nodes_.begin() + first_leaf + leaves.size(), tree.nodes_.end(), pad_leaf);
  // Bottom-up; one reused Hasher (a tree of n leaves costs n-1 interior hashes).
  crypto::Hasher hasher(node_tag);
  for (std::uint64_t i = first_leaf; i-- > 0;) {
    tree.nodes_[i] = hasher.update(tree.nodes_[2 * i + 1]).update(tree.nodes_[2 * i + 2]).finish();
  }
  return tree;
}

const Digest& HashTree::node(std::uint64_t index) const {
  LAFS_ASSERT(shape_.contains(index));
  return nodes_[index];
}

std::vector<std::uint64_t> proof_nodes(const TreeShape& shape,
                                       std::span<const std::uint64_t> leaves) {
  // Every node on a path from a requested leaf to the root can be computed by the verifier.
  std::set<std::uint64_t> on_path;
  for (std::uint64_t leaf : leaves) {
    LAFS_ASSERT(leaf < shape.leaf_count());
    for (std::uint64_t n = shape.leaf_node(leaf);; n = TreeShape::parent(n)) {
      if (!on_path.insert(n).second || n == 0) break;  // the rest of the path is already in
    }
  }
  std::vector<std::uint64_t> out;
  for (std::uint64_t n : on_path) {
    if (n == 0) continue;
    const std::uint64_t s = TreeShape::sibling(n);
    if (!on_path.contains(s) && !shape.is_padding(s)) out.push_back(s);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<NodeHash> HashTree::proof(std::span<const std::uint64_t> leaves) const {
  std::vector<NodeHash> out;
  for (std::uint64_t n : proof_nodes(shape_, leaves)) out.push_back({n, nodes_[n]});
  return out;
}

Digest compute_root(HashTag node_tag, std::span<const Digest> leaves) {
  return HashTree::build(node_tag, leaves).root();
}

}  // namespace lafs::hashtree
