// The incremental hash tree verifier: starts from a trusted root and leaf count, accepts node
// hashes and leaf hashes from untrusted sources in any order and any batches, and trusts a hash
// only once a chain of hashes connects it to the root.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "core/crypto/hash.h"
#include "core/hashtree/hash_tree.h"
#include "core/hashtree/layout.h"
#include "core/runtime/status.h"

namespace lafs::hashtree {

struct LeafHash {
  std::uint64_t leaf = 0;
  Digest hash{};
};

// Unverified hashes held at once, waiting for the rest of their chain: a bound on what a
// lying source can make us store. Far above any honest need (a proof is at most 48 hashes per
// leaf; a downloader supplies a few segments' worth at a time).
inline constexpr std::size_t kMaxPendingHashes = std::size_t{1} << 16;

// Semantics of add() (each call is one batch, e.g. what one server sent):
//  - Malformed batches are refused whole, state unchanged: an index outside the tree
//    (Corruption), a hash that contradicts an already verified node or a padding node
//    (Corruption naming the node), the same node twice with different hashes in one batch
//    (Corruption), or more than kMaxPendingHashes unverified hashes (ResourceExhausted).
//  - Otherwise the batch is first checked on its own: whatever of it connects to a verified node
//    is checked (H(left || right) must equal the verified parent) and, if it matches, becomes
//    verified. So a batch carrying its own chain is judged alone: hashes pending from other
//    sources can neither fail it nor pass it, and the caller knows whom to blame.
//  - A mismatch at verified node v returns Corruption naming v, its children and the supplied
//    hashes involved; every unverified hash below v's unverified children is dropped (one of
//    them lied, we cannot tell which), and so is the rest of a batch that failed on its own.
//    Other subtrees are still processed and what they verify is kept: it is connected to the
//    root and therefore correct.
//  - What of a good batch does not connect yet joins the pending hashes (a newer hash for a node
//    replaces a pending one), and all pending hashes are checked again the same way: what was
//    just verified may connect them. A pending hash that contradicts a node verified since is
//    discarded. A mismatch found in this second pass fails the call only if it drops one of
//    this batch's hashes; one made only of other sources' pending hashes drops them silently
//    (those sources were blamed, or not, when they sent them). After add() returns, no pending
//    hash is connected to a verified node.
// Padding nodes (all leaves below them >= leaf_count) are known constants, never needed.
// Not thread-safe; one verifier per tree per reader.
class IncrementalVerifier {
 public:
  // `root` and `leaf_count` must come from a trusted place (a cap, a signed header).
  // InvalidArgument for a leaf count outside [1, kMaxLeafCount] or a non-tree-node tag.
  static Result<IncrementalVerifier> create(HashTag node_tag, const Digest& root,
                                            std::uint64_t leaf_count);

  Status add(std::span<const NodeHash> hashes, std::span<const LeafHash> leaves);
  Status add_hashes(std::span<const NodeHash> hashes) { return add(hashes, {}); }
  Status add_leaves(std::span<const LeafHash> leaves) { return add({}, leaves); }
  Status add_leaf(std::uint64_t leaf, const Digest& hash);

  const TreeShape& shape() const { return shape_; }
  const Digest& root() const { return verified_.at(0); }
  bool is_verified(std::uint64_t node) const { return verified_.contains(node); }
  bool is_leaf_verified(std::uint64_t leaf) const;
  // The verified hash of a node, if it is verified.
  std::optional<Digest> verified_hash(std::uint64_t node) const;
  std::size_t pending_count() const { return pending_.size(); }
  // Verified nodes, the root included (padding is known, not counted).
  std::size_t verified_count() const { return verified_.size(); }

  // The node hashes still missing before `leaves` can be verified once their leaf hashes are
  // supplied: unverified, non-padding siblings along their paths, up to the first verified
  // node. Sorted. Pending (unverified) hashes count as missing.
  std::vector<std::uint64_t> needed_hashes(std::span<const std::uint64_t> leaves) const;

 private:
  IncrementalVerifier(HashTag node_tag, TreeShape shape, const Digest& root);

  Status validate(std::span<const NodeHash> hashes, std::span<const LeafHash> leaves,
                  std::map<std::uint64_t, Digest>* batch) const;
  // The hash of `node` if known: verified, padding, or in `candidates`.
  const Digest* known(std::uint64_t node, const std::map<std::uint64_t, Digest>& candidates) const;
  std::map<std::uint64_t, Digest> derive_upwards(const std::map<std::uint64_t, Digest>& claims);
  // A mismatch is reported only if it drops a node in `blamable` (all nodes if null); others
  // are dropped silently: they were another source's pending lies.
  Status connect(const std::map<std::uint64_t, Digest>& candidates,
                 std::map<std::uint64_t, Digest>* claims,
                 const std::map<std::uint64_t, Digest>* blamable);
  // Verifies what `claims` connects to the root; leaves in `claims` what stays unconnected.
  Status settle(std::map<std::uint64_t, Digest>* claims,
                const std::map<std::uint64_t, Digest>* blamable);

  HashTag node_tag_;
  TreeShape shape_;
  std::vector<Digest> padding_;  // by height
  crypto::Hasher hasher_;
  std::map<std::uint64_t, Digest> verified_;  // node -> hash; node 0 (the root) always
  std::map<std::uint64_t, Digest> pending_;   // node -> supplied, not yet connected
};

}  // namespace lafs::hashtree
