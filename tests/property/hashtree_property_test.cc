// Property tests of the hash tree verifier: valid proofs for random trees and leaf sets are
// accepted in any order and batching; every single-bit flip in a leaf, a hash or the root is
// rejected; and random garbage never crashes it nor gets a wrong hash verified.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <set>
#include <variant>
#include <vector>

#include "core/hashtree/hash_tree.h"
#include "core/hashtree/verifier.h"

namespace lafs::hashtree {
namespace {

const std::vector<HashTag> kNodeTags = {HashTag::kBlockTreeNode, HashTag::kShareTreeNode,
                                        HashTag::kCiphertextTreeNode};

struct Case {
  HashTree tree;
  std::vector<std::uint64_t> leaves;  // the leaves a reader wants, distinct
};

HashTree gen_tree(std::uint64_t max_leaves) {
  const HashTag tag = *rc::gen::elementOf(kNodeTags);
  const auto count = *rc::gen::oneOf(rc::gen::inRange<std::uint64_t>(1, 9),
                                     rc::gen::inRange<std::uint64_t>(1, max_leaves + 1));
  const std::uint64_t salt = *rc::gen::arbitrary<std::uint64_t>();
  std::vector<Digest> leaves;
  for (std::uint64_t i = 0; i < count; ++i) {
    crypto::Hasher h(HashTag::kBlockLeaf);
    leaves.push_back(h.update_u64(salt).update_u64(i).finish());
  }
  return HashTree::build(tag, leaves);
}

Case gen_case(std::uint64_t max_leaves = 300) {
  HashTree tree = gen_tree(max_leaves);
  const std::uint64_t n = tree.shape().leaf_count();
  const auto count = *rc::gen::inRange<std::size_t>(1, std::min<std::uint64_t>(n, 12) + 1);
  std::set<std::uint64_t> chosen;
  while (chosen.size() < count) chosen.insert(*rc::gen::inRange<std::uint64_t>(0, n));
  return Case{std::move(tree), {chosen.begin(), chosen.end()}};
}

IncrementalVerifier verifier_for(const HashTree& tree) {
  auto v = IncrementalVerifier::create(tree.node_tag(), tree.root(), tree.shape().leaf_count());
  RC_ASSERT(v.ok());
  return std::move(v).value();
}

std::vector<LeafHash> leaf_hashes(const Case& c) {
  std::vector<LeafHash> out;
  for (std::uint64_t l : c.leaves) out.push_back({l, c.tree.leaf(l)});
  return out;
}

// Nothing the verifier trusts differs from the real tree.
void assert_only_truth_verified(const IncrementalVerifier& v, const HashTree& tree) {
  for (std::uint64_t n = 0; n < tree.shape().node_count(); ++n) {
    if (auto h = v.verified_hash(n)) RC_ASSERT(*h == tree.node(n));
  }
}

// One item a reader receives: a node hash or a leaf hash.
using Item = std::variant<NodeHash, LeafHash>;

std::vector<Item> items_of(const Case& c) {
  std::vector<Item> items;
  for (const NodeHash& h : c.tree.proof(c.leaves)) items.emplace_back(h);
  for (const LeafHash& l : leaf_hashes(c)) items.emplace_back(l);
  return items;
}

// Supplies `items` shuffled, in random batches; returns the statuses.
std::vector<Status> supply_in_random_batches(IncrementalVerifier& v, std::vector<Item> items) {
  for (std::size_t i = items.size(); i > 1; --i) {
    std::swap(items[i - 1], items[*rc::gen::inRange<std::size_t>(0, i)]);
  }
  std::vector<Status> statuses;
  std::size_t pos = 0;
  while (pos < items.size()) {
    const std::size_t len = *rc::gen::inRange<std::size_t>(1, items.size() - pos + 1);
    std::vector<NodeHash> hashes;
    std::vector<LeafHash> leaves;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (const auto* h = std::get_if<NodeHash>(&items[i]))
        hashes.push_back(*h);
      else
        leaves.push_back(std::get<LeafHash>(items[i]));
    }
    statuses.push_back(v.add(hashes, leaves));
    pos += len;
  }
  return statuses;
}

RC_GTEST_PROP(HashTreeProperty, ValidProofsForRandomLeafSetsAreAccepted, ()) {
  const Case c = gen_case();
  auto v = verifier_for(c.tree);
  RC_ASSERT(v.add(c.tree.proof(c.leaves), leaf_hashes(c)).is_ok());
  for (std::uint64_t l : c.leaves) RC_ASSERT(v.is_leaf_verified(l));
  RC_ASSERT(v.pending_count() == 0u);
  // The proof was minimal: the verifier needed all of it, and needs nothing more.
  RC_ASSERT(v.needed_hashes(c.leaves).empty());
  auto fresh = verifier_for(c.tree);
  const auto needed = fresh.needed_hashes(c.leaves);
  const auto proof = proof_nodes(c.tree.shape(), c.leaves);
  RC_ASSERT(needed == proof);
  assert_only_truth_verified(v, c.tree);
}

RC_GTEST_PROP(HashTreeProperty, OrderOfSupplyDoesNotMatter, ()) {
  const Case c = gen_case();
  auto at_once = verifier_for(c.tree);
  RC_ASSERT(at_once.add(c.tree.proof(c.leaves), leaf_hashes(c)).is_ok());
  auto piecemeal = verifier_for(c.tree);
  for (const Status& s : supply_in_random_batches(piecemeal, items_of(c))) RC_ASSERT(s.is_ok());
  RC_ASSERT(piecemeal.pending_count() == 0u);
  for (std::uint64_t n = 0; n < c.tree.shape().node_count(); ++n) {
    RC_ASSERT(piecemeal.is_verified(n) == at_once.is_verified(n));
  }
  assert_only_truth_verified(piecemeal, c.tree);
}

// Flips one bit of one item's hash.
Item flip_one_bit(Item item, std::size_t bit) {
  Digest& d = std::holds_alternative<NodeHash>(item) ? std::get<NodeHash>(item).hash
                                                     : std::get<LeafHash>(item).hash;
  d[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
  return item;
}

RC_GTEST_PROP(HashTreeProperty, EveryBitFlipInALeafOrProofHashIsRejected, ()) {
  const Case c = gen_case();
  auto items = items_of(c);
  const std::size_t which = *rc::gen::inRange<std::size_t>(0, items.size());
  const std::size_t bit = *rc::gen::inRange<std::size_t>(0, 8 * crypto::kDigestBytes);
  RC_CLASSIFY(std::holds_alternative<LeafHash>(items[which]), "leaf flipped");
  items[which] = flip_one_bit(items[which], bit);
  auto v = verifier_for(c.tree);
  const bool batched = *rc::gen::arbitrary<bool>();
  RC_CLASSIFY(batched, "random batches");
  std::vector<Status> statuses;
  if (batched) {
    statuses = supply_in_random_batches(v, items);
  } else {
    std::vector<NodeHash> hashes;
    std::vector<LeafHash> leaves;
    for (const Item& i : items) {
      if (const auto* h = std::get_if<NodeHash>(&i))
        hashes.push_back(*h);
      else
        leaves.push_back(std::get<LeafHash>(i));
    }
    statuses.push_back(v.add(hashes, leaves));
  }
  // Rejected: some batch reported Corruption, and the flipped hash was never trusted.
  RC_ASSERT(std::any_of(statuses.begin(), statuses.end(),
                        [](const Status& s) { return s.code() == ErrorCode::kCorruption; }));
  for (const Status& s : statuses) RC_ASSERT(s.is_ok() || s.code() == ErrorCode::kCorruption);
  assert_only_truth_verified(v, c.tree);
  // The honest data, supplied again, is accepted.
  RC_ASSERT(v.add(c.tree.proof(c.leaves), leaf_hashes(c)).is_ok());
  for (std::uint64_t l : c.leaves) RC_ASSERT(v.is_leaf_verified(l));
}

RC_GTEST_PROP(HashTreeProperty, EveryBitFlipInTheRootIsRejected, ()) {
  const Case c = gen_case();
  Digest root = c.tree.root();
  const std::size_t bit = *rc::gen::inRange<std::size_t>(0, 8 * crypto::kDigestBytes);
  root[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
  auto v = IncrementalVerifier::create(c.tree.node_tag(), root, c.tree.shape().leaf_count());
  RC_ASSERT(v.ok());
  RC_ASSERT(v->add(c.tree.proof(c.leaves), leaf_hashes(c)).code() == ErrorCode::kCorruption);
  RC_ASSERT(v->verified_count() == 1u);
  for (std::uint64_t l : c.leaves)
    RC_ASSERT(!v->is_leaf_verified(l) || c.tree.shape().leaf_count() == 1);
}

RC_GTEST_PROP(HashTreeProperty, FlippedIndexNeverVerifiesAWrongHash, ()) {
  const Case c = gen_case();
  auto items = items_of(c);
  const std::size_t which = *rc::gen::inRange<std::size_t>(0, items.size());
  const int bit = *rc::gen::inRange(0, 64);
  if (auto* h = std::get_if<NodeHash>(&items[which])) {
    h->index ^= std::uint64_t{1} << bit;
  } else {
    std::get<LeafHash>(items[which]).leaf ^= std::uint64_t{1} << bit;
  }
  auto v = verifier_for(c.tree);
  for (const Status& s : supply_in_random_batches(v, items)) {
    RC_ASSERT(s.is_ok() || s.code() == ErrorCode::kCorruption);
  }
  assert_only_truth_verified(v, c.tree);
}

// Whatever another source left behind (accepted as pending or refused), an honest batch that
// carries its own proof is accepted: a downloader never blames the honest server.
RC_GTEST_PROP(HashTreeProperty, HonestBatchPassesWhateverIsPending, ()) {
  const Case c = gen_case(64);
  auto v = verifier_for(c.tree);
  const std::uint64_t nodes = c.tree.shape().node_count();
  const auto count = *rc::gen::inRange(1, 30);
  for (int i = 0; i < count; ++i) {
    Digest d = c.tree.node(*rc::gen::inRange<std::uint64_t>(0, nodes));
    if (*rc::gen::arbitrary<bool>()) d[*rc::gen::inRange<std::size_t>(0, d.size())] ^= 1;
    const std::vector<NodeHash> lie{{*rc::gen::inRange<std::uint64_t>(0, nodes), d}};
    (void)v.add_hashes(lie);
  }
  RC_ASSERT(v.add(c.tree.proof(c.leaves), leaf_hashes(c)).is_ok());
  for (std::uint64_t l : c.leaves) RC_ASSERT(v.is_leaf_verified(l));
  assert_only_truth_verified(v, c.tree);
}

// Garbage: random indices (in and far out of range), random hashes, random leaves, sometimes
// mixed with real proof material. Never a crash, only the documented codes, never a lie trusted.
RC_GTEST_PROP(HashTreeProperty, RandomGarbageNeverCrashesNorVerifies, ()) {
  const Case c = gen_case(64);
  const bool real_root = *rc::gen::arbitrary<bool>();
  Digest root = c.tree.root();
  if (!real_root) {
    for (auto& b : root) b = *rc::gen::arbitrary<std::uint8_t>();
  }
  auto v = IncrementalVerifier::create(c.tree.node_tag(), root, c.tree.shape().leaf_count());
  RC_ASSERT(v.ok());
  const std::uint64_t nodes = c.tree.shape().node_count();
  const auto rounds = *rc::gen::inRange(1, 6);
  for (int r = 0; r < rounds; ++r) {
    std::vector<NodeHash> hashes;
    std::vector<LeafHash> leaves;
    const auto count = *rc::gen::inRange(0, 40);
    for (int i = 0; i < count; ++i) {
      const std::uint64_t index = *rc::gen::oneOf(rc::gen::inRange<std::uint64_t>(0, nodes + 2),
                                                  rc::gen::arbitrary<std::uint64_t>());
      Digest d;
      if (*rc::gen::arbitrary<bool>()) {
        d = c.tree.node(index % nodes);  // a real hash, perhaps at the wrong place
      } else {
        for (auto& b : d) b = *rc::gen::arbitrary<std::uint8_t>();
      }
      if (*rc::gen::arbitrary<bool>())
        hashes.push_back({index, d});
      else
        leaves.push_back({index % (c.tree.shape().leaf_count() + 2), d});
    }
    if (*rc::gen::arbitrary<bool>()) {
      for (const NodeHash& h : c.tree.proof(c.leaves)) hashes.push_back(h);
    }
    const Status s = v->add(hashes, leaves);
    RC_ASSERT(s.is_ok() || s.code() == ErrorCode::kCorruption);
    RC_ASSERT(v->pending_count() <= kMaxPendingHashes);
    (void)v->needed_hashes(c.leaves);
  }
  if (real_root) {
    assert_only_truth_verified(*v, c.tree);
  } else {
    RC_ASSERT(v->verified_count() == 1u);  // nothing connects to a root no tree has
  }
}

}  // namespace
}  // namespace lafs::hashtree
