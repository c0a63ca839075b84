// The shape of a Merkle hash tree: a complete binary tree numbered breadth-first, the leaves
// padded to a power-of-two width. All index arithmetic lives here (spec: docs/specs/hashtree.md).
#pragma once

#include <bit>
#include <cstdint>

#include "core/runtime/assert.h"
#include "core/runtime/status.h"

namespace lafs::hashtree {

// Root is node 0; node i has children 2i+1 and 2i+2 and parent (i-1)/2. With width W (a power
// of two, >= leaf_count), leaf j is node W-1+j; leaves leaf_count..W-1 are padding.
//
// A tree has at most 2^48 leaves: enough for a 1 EiB file in 4 KiB segments, while every node
// index (< 2^49) and every shift below stays far inside uint64.
inline constexpr std::uint64_t kMaxLeafCount = std::uint64_t{1} << 48;

class TreeShape {
 public:
  // InvalidArgument unless 1 <= leaf_count <= kMaxLeafCount.
  static Result<TreeShape> make(std::uint64_t leaf_count) {
    if (leaf_count == 0 || leaf_count > kMaxLeafCount) {
      return invalid_argument("hash tree: leaf count " + std::to_string(leaf_count) +
                              " is outside [1, 2^48]");
    }
    return TreeShape(leaf_count);
  }

  std::uint64_t leaf_count() const { return leaf_count_; }
  std::uint64_t width() const { return width_; }
  // Levels below the root: 0 for a one-leaf tree.
  int depth() const { return depth_; }
  std::uint64_t node_count() const { return 2 * width_ - 1; }
  bool contains(std::uint64_t node) const { return node < node_count(); }

  std::uint64_t leaf_node(std::uint64_t leaf) const {
    LAFS_ASSERT(leaf < width_);
    return width_ - 1 + leaf;
  }
  bool is_leaf_node(std::uint64_t node) const { return node >= width_ - 1 && contains(node); }
  std::uint64_t leaf_of(std::uint64_t node) const {
    LAFS_ASSERT(is_leaf_node(node));
    return node - (width_ - 1);
  }

  // Distance from the leaves: 0 for a leaf, depth() for the root.
  int height(std::uint64_t node) const {
    LAFS_ASSERT(contains(node));
    return depth_ - static_cast<int>(std::bit_width(node + 1) - 1);
  }
  // The leftmost leaf (possibly padding) below `node`.
  std::uint64_t first_leaf_under(std::uint64_t node) const {
    return ((node + 1) << height(node)) - width_;
  }
  // True when every leaf below `node` is padding: its hash is a constant, never supplied.
  bool is_padding(std::uint64_t node) const { return first_leaf_under(node) >= leaf_count_; }

  static std::uint64_t parent(std::uint64_t node) {
    LAFS_ASSERT(node > 0);
    return (node - 1) / 2;
  }
  static std::uint64_t sibling(std::uint64_t node) {
    LAFS_ASSERT(node > 0);
    return node % 2 == 1 ? node + 1 : node - 1;
  }
  static std::uint64_t left_child(std::uint64_t node) { return 2 * node + 1; }
  static bool is_left(std::uint64_t node) { return node % 2 == 1; }
  // True if `ancestor` is `node` or above it.
  static bool is_ancestor_or_self(std::uint64_t ancestor, std::uint64_t node) {
    while (node > ancestor) node = parent(node);
    return node == ancestor;
  }

 private:
  explicit TreeShape(std::uint64_t leaf_count)
      : leaf_count_(leaf_count),
        width_(std::bit_ceil(leaf_count)),
        depth_(static_cast<int>(std::countr_zero(std::bit_ceil(leaf_count)))) {}

  std::uint64_t leaf_count_;
  std::uint64_t width_;
  int depth_;
};

}  // namespace lafs::hashtree
