// Incremental verification: derive what the pending hashes imply bottom-up, then check it
// top-down from verified nodes, so nothing is trusted before it connects to the root.
#include "core/hashtree/verifier.h"

#include <algorithm>
#include <functional>
#include <set>
#include <string>

#include "core/runtime/assert.h"

namespace lafs::hashtree {
namespace {

std::string short_hex(const Digest& d) {
  return crypto::to_hex(ByteView(d).first(8)) + "…";
}

std::string node_name(const TreeShape& shape, std::uint64_t node) {
  std::string s = "node " + std::to_string(node);
  if (shape.is_leaf_node(node)) s += " (leaf " + std::to_string(shape.leaf_of(node)) + ")";
  return s;
}

}  // namespace

Result<IncrementalVerifier> IncrementalVerifier::create(HashTag node_tag, const Digest& root,
                                                        std::uint64_t leaf_count) {
  if (!is_tree_node_tag(node_tag)) {
    return invalid_argument("hash tree verifier: " + std::string(crypto::hash_tag_name(node_tag)) +
                            " is not a tree node tag");
  }
  auto shape = TreeShape::make(leaf_count);
  if (!shape.ok()) return shape.status();
  return IncrementalVerifier(node_tag, *shape, root);
}

IncrementalVerifier::IncrementalVerifier(HashTag node_tag, TreeShape shape, const Digest& root)
    : node_tag_(node_tag),
      shape_(shape),
      padding_(padding_hashes(node_tag, shape.depth())),
      hasher_(node_tag) {
  verified_.emplace(0, root);
}

bool IncrementalVerifier::is_leaf_verified(std::uint64_t leaf) const {
  LAFS_ASSERT(leaf < shape_.leaf_count());
  return is_verified(shape_.leaf_node(leaf));
}

std::optional<Digest> IncrementalVerifier::verified_hash(std::uint64_t node) const {
  auto it = verified_.find(node);
  if (it == verified_.end()) return std::nullopt;
  return it->second;
}

const Digest* IncrementalVerifier::known(std::uint64_t node,
                                         const std::map<std::uint64_t, Digest>& candidates) const {
  if (auto it = verified_.find(node); it != verified_.end()) return &it->second;
  if (shape_.is_padding(node)) return &padding_[static_cast<std::size_t>(shape_.height(node))];
  if (auto it = candidates.find(node); it != candidates.end()) return &it->second;
  return nullptr;
}

Status IncrementalVerifier::validate(std::span<const NodeHash> hashes,
                                     std::span<const LeafHash> leaves,
                                     std::map<std::uint64_t, Digest>* batch) const {
  if (hashes.size() + leaves.size() > kMaxPendingHashes) {
    return resource_exhausted("hash tree: batch of " +
                              std::to_string(hashes.size() + leaves.size()) +
                              " hashes exceeds the bound " + std::to_string(kMaxPendingHashes));
  }
  auto take = [&](std::uint64_t node, const Digest& hash) -> Status {
    if (!shape_.contains(node)) {
      return corruption("hash tree: node " + std::to_string(node) + " is outside a tree of " +
                        std::to_string(shape_.leaf_count()) + " leaves (" +
                        std::to_string(shape_.node_count()) + " nodes)");
    }
    if (const Digest* k = known(node, {}); k != nullptr) {
      if (*k == hash) return Status{};  // already known; nothing to add
      return corruption("hash tree: " + node_name(shape_, node) + " was supplied as " +
                        short_hex(hash) + " but is " +
                        (shape_.is_padding(node) ? "padding " : "verified as ") + short_hex(*k));
    }
    auto [it, inserted] = batch->emplace(node, hash);
    if (!inserted && it->second != hash) {
      return corruption("hash tree: " + node_name(shape_, node) +
                        " supplied twice in one batch with different hashes");
    }
    return Status{};
  };
  for (const NodeHash& h : hashes) LAFS_RETURN_IF_ERROR(take(h.index, h.hash));
  for (const LeafHash& l : leaves) {
    if (l.leaf >= shape_.leaf_count()) {
      return corruption("hash tree: leaf " + std::to_string(l.leaf) + " is outside a tree of " +
                        std::to_string(shape_.leaf_count()) + " leaves");
    }
    LAFS_RETURN_IF_ERROR(take(shape_.leaf_node(l.leaf), l.hash));
  }
  if (pending_.size() + batch->size() > kMaxPendingHashes) {
    return resource_exhausted("hash tree: more than " + std::to_string(kMaxPendingHashes) +
                              " unverified hashes pending");
  }
  return Status{};
}

// Every node whose two children are known gets a candidate hash, deepest first (in breadth-
// first numbering a node's index is below its children's, so descending order is bottom-up).
// A supplied hash is never overwritten by a derived one: if they disagree, the top-down check
// catches it at that node.
std::map<std::uint64_t, Digest> IncrementalVerifier::derive_upwards(
    const std::map<std::uint64_t, Digest>& claims) {
  std::map<std::uint64_t, Digest> candidates = claims;
  std::set<std::uint64_t, std::greater<>> queue;
  for (const auto& [node, hash] : claims) queue.insert(node);
  while (!queue.empty()) {
    const std::uint64_t node = *queue.begin();
    queue.erase(queue.begin());
    if (node == 0) continue;
    const std::uint64_t parent = TreeShape::parent(node);
    if (verified_.contains(parent) || candidates.contains(parent)) continue;
    const Digest* sibling = known(TreeShape::sibling(node), candidates);
    if (sibling == nullptr) continue;
    const Digest& self = candidates.at(node);
    const bool left = TreeShape::is_left(node);
    const Digest h = hasher_.update(left ? self : *sibling).update(left ? *sibling : self).finish();
    candidates.emplace(parent, h);
    queue.insert(parent);
  }
  return candidates;
}

Status IncrementalVerifier::connect(const std::map<std::uint64_t, Digest>& candidates,
                                    std::map<std::uint64_t, Digest>* claims,
                                    const std::map<std::uint64_t, Digest>* blamable) {
  std::set<std::uint64_t> work;  // verified nodes to check below, ascending: top-down
  for (const auto& [node, hash] : candidates) {
    if (node != 0 && verified_.contains(TreeShape::parent(node))) {
      work.insert(TreeShape::parent(node));
    }
  }
  Status first_error;
  while (!work.empty()) {
    const std::uint64_t v = *work.begin();
    work.erase(work.begin());
    if (shape_.is_leaf_node(v)) continue;
    const std::uint64_t l = TreeShape::left_child(v);
    const std::uint64_t r = l + 1;
    auto settled = [&](std::uint64_t n) { return verified_.contains(n) || shape_.is_padding(n); };
    if (settled(l) && settled(r)) continue;
    const Digest* lh = known(l, candidates);
    const Digest* rh = known(r, candidates);
    if (lh == nullptr || rh == nullptr) continue;  // not connected yet: stays pending
    const Digest h = hasher_.update(*lh).update(*rh).finish();
    const Digest& expected = verified_.at(v);
    if (h == expected) {
      for (std::uint64_t c : {l, r}) {
        if (settled(c)) continue;
        verified_.emplace(c, c == l ? *lh : *rh);
        claims->erase(c);
        work.insert(c);
      }
      continue;
    }
    // Mismatch: some supplied hash under an unverified child of v lied. Drop them all.
    std::string dropped;
    std::size_t dropped_count = 0;
    bool blame = blamable == nullptr;
    for (auto it = claims->begin(); it != claims->end();) {
      const std::uint64_t c = it->first;
      const bool suspect = (!settled(l) && TreeShape::is_ancestor_or_self(l, c)) ||
                           (!settled(r) && TreeShape::is_ancestor_or_self(r, c));
      if (!suspect) {
        ++it;
        continue;
      }
      if (!blame && blamable->contains(c)) blame = true;
      if (++dropped_count <= 8) dropped += (dropped.empty() ? "" : ", ") + node_name(shape_, c);
      it = claims->erase(it);
    }
    if (blame && first_error.is_ok()) {
      first_error = corruption(
          "hash tree: children " + std::to_string(l) + " and " + std::to_string(r) + " of " +
          node_name(shape_, v) + " hash to " + short_hex(h) + ", not its verified " +
          short_hex(expected) + "; dropped " + std::to_string(dropped_count) +
          " unverified hashes below it (" + dropped + (dropped_count > 8 ? ", …" : "") + ")");
    }
  }
  return first_error;
}

Status IncrementalVerifier::settle(std::map<std::uint64_t, Digest>* claims,
                                   const std::map<std::uint64_t, Digest>* blamable) {
  // Hashes that became known since they were supplied are redundant, or lies already refuted by
  // verified nodes; either way they were never trusted and go.
  std::erase_if(*claims, [&](const auto& entry) { return known(entry.first, {}) != nullptr; });
  const auto candidates = derive_upwards(*claims);
  return connect(candidates, claims, blamable);
}

Status IncrementalVerifier::add(std::span<const NodeHash> hashes,
                                std::span<const LeafHash> leaves) {
  std::map<std::uint64_t, Digest> batch;
  LAFS_RETURN_IF_ERROR(validate(hashes, leaves, &batch));
  // First the batch alone: one that carries its own chain to verified nodes is judged on its
  // own, so hashes left pending by another source can neither fail it nor pass it, and the
  // caller can blame the right source. If it fails alone, its unconnected rest is dropped.
  Status status = settle(&batch, nullptr);
  std::map<std::uint64_t, Digest> claims = pending_;
  if (status.is_ok()) {
    for (const auto& [node, hash] : batch) claims[node] = hash;  // newer replaces pending
  }
  // Then everything pending, which what was just verified may have connected.
  const Status together = settle(&claims, &batch);
  if (status.is_ok()) status = together;
  pending_ = std::move(claims);
  LAFS_ASSERT(verified_.contains(0));
  LAFS_ASSERT(pending_.size() <= kMaxPendingHashes);
  return status;
}

Status IncrementalVerifier::add_leaf(std::uint64_t leaf, const Digest& hash) {
  const LeafHash one{leaf, hash};
  return add({}, std::span<const LeafHash>(&one, 1));
}

std::vector<std::uint64_t> IncrementalVerifier::needed_hashes(
    std::span<const std::uint64_t> leaves) const {
  std::set<std::uint64_t> on_path;
  for (std::uint64_t leaf : leaves) {
    LAFS_ASSERT(leaf < shape_.leaf_count());
    for (std::uint64_t n = shape_.leaf_node(leaf); !verified_.contains(n);
         n = TreeShape::parent(n)) {
      if (!on_path.insert(n).second) break;
    }
  }
  std::vector<std::uint64_t> out;
  for (std::uint64_t n : on_path) {
    const std::uint64_t s = TreeShape::sibling(n);  // n != 0: the root is always verified
    if (!on_path.contains(s) && !verified_.contains(s) && !shape_.is_padding(s)) out.push_back(s);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace lafs::hashtree
