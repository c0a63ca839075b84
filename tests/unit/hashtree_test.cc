// Unit tests of core/hashtree: tree shape, roots (pinned, docs/specs/hashtree.md), minimal
// proofs, and the incremental verifier's acceptance and rejection rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/hashtree/hash_tree.h"
#include "core/hashtree/layout.h"
#include "core/hashtree/verifier.h"

namespace lafs::hashtree {
namespace {

using crypto::to_hex;

constexpr HashTag kNode = HashTag::kBlockTreeNode;

std::vector<Digest> make_leaves(std::size_t n) {
  std::vector<Digest> leaves;
  for (std::size_t i = 0; i < n; ++i) {
    leaves.push_back(
        crypto::tagged_hash(HashTag::kBlockLeaf, as_bytes("block " + std::to_string(i))));
  }
  return leaves;
}

IncrementalVerifier verifier_for(const HashTree& tree) {
  auto v = IncrementalVerifier::create(tree.node_tag(), tree.root(), tree.shape().leaf_count());
  EXPECT_TRUE(v.ok());
  return std::move(v).value();
}

// ---- Shape ----

TEST(HashTreeShape, WidthDepthAndPadding) {
  auto s = TreeShape::make(5);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->width(), 8u);
  EXPECT_EQ(s->depth(), 3);
  EXPECT_EQ(s->node_count(), 15u);
  EXPECT_EQ(s->leaf_node(0), 7u);
  EXPECT_EQ(s->leaf_of(11), 4u);
  EXPECT_EQ(s->height(0), 3);
  EXPECT_EQ(s->height(7), 0);
  EXPECT_EQ(s->first_leaf_under(2), 4u);
  EXPECT_FALSE(s->is_padding(11));  // leaf 4
  EXPECT_TRUE(s->is_padding(12));   // leaf 5
  EXPECT_TRUE(s->is_padding(6));    // leaves 6, 7
  EXPECT_FALSE(s->is_padding(2));   // leaves 4..7, 4 is real
  EXPECT_EQ(TreeShape::parent(12), 5u);
  EXPECT_EQ(TreeShape::sibling(11), 12u);
  EXPECT_EQ(TreeShape::sibling(12), 11u);
  EXPECT_TRUE(TreeShape::is_ancestor_or_self(2, 12));
  EXPECT_FALSE(TreeShape::is_ancestor_or_self(1, 12));
}

TEST(HashTreeShape, OneLeafIsJustTheRoot) {
  auto s = TreeShape::make(1);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->width(), 1u);
  EXPECT_EQ(s->depth(), 0);
  EXPECT_EQ(s->node_count(), 1u);
  EXPECT_EQ(s->leaf_node(0), 0u);
  EXPECT_TRUE(s->is_leaf_node(0));
}

TEST(HashTreeShape, RejectsEmptyAndOversizedTrees) {
  EXPECT_EQ(TreeShape::make(0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(TreeShape::make(kMaxLeafCount + 1).status().code(), ErrorCode::kInvalidArgument);
  auto big = TreeShape::make(kMaxLeafCount);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->depth(), 48);
  EXPECT_TRUE(big->is_leaf_node(big->node_count() - 1));
}

// ---- Building ----

TEST(HashTreeBuild, RootsAreTheSpecifiedHashes) {
  const auto l = make_leaves(3);
  const Digest pad = crypto::tagged_hash(HashTag::kHashTreePadding, {});
  const Digest expected =
      hash_node(kNode, hash_node(kNode, l[0], l[1]), hash_node(kNode, l[2], pad));
  EXPECT_EQ(HashTree::build(kNode, l).root(), expected);
  EXPECT_EQ(compute_root(kNode, l), expected);
  // One leaf: the root is the leaf hash itself.
  EXPECT_EQ(HashTree::build(kNode, make_leaves(1)).root(), make_leaves(1)[0]);
  // Padding hashes by height.
  const auto p = padding_hashes(kNode, 2);
  EXPECT_EQ(p[0], pad);
  EXPECT_EQ(p[1], hash_node(kNode, pad, pad));
  EXPECT_EQ(p[2], hash_node(kNode, p[1], p[1]));
}

// Pinned roots (docs/specs/hashtree.md, "Known answers").
TEST(HashTreeBuild, KnownAnswerRoots) {
  EXPECT_EQ(to_hex(crypto::tagged_hash(HashTag::kHashTreePadding, {})),
            "f45e42a6bc5f56679b0fb66ccf08d019d73343f6b6985843ec9e15f481aefa13");
  EXPECT_EQ(to_hex(HashTree::build(HashTag::kBlockTreeNode, make_leaves(1)).root()),
            "cff86ad3af615e5450bf15734f14d2a78023040068c405b3d57c1bc0d3bffdf0");
  EXPECT_EQ(to_hex(HashTree::build(HashTag::kBlockTreeNode, make_leaves(5)).root()),
            "0ab7106ec71287d719fc6bb82926bd31a6557c5004958eba8bc911ae0a3d7bb7");
  EXPECT_EQ(to_hex(HashTree::build(HashTag::kShareTreeNode, make_leaves(10)).root()),
            "f612d4cc97e1335c90aa8d011194920e59af7082a3c2466a1edb1a75b708f524");
  EXPECT_EQ(to_hex(HashTree::build(HashTag::kCiphertextTreeNode, make_leaves(8)).root()),
            "dd685275f3bb527a4987da3a56777e21e4fff630fca4f3558487f98b10870827");
}

TEST(HashTreeBuild, NodeTagsSeparateTreeKinds) {
  const auto l = make_leaves(4);
  EXPECT_NE(compute_root(HashTag::kBlockTreeNode, l), compute_root(HashTag::kShareTreeNode, l));
  EXPECT_NE(compute_root(HashTag::kBlockTreeNode, l),
            compute_root(HashTag::kCiphertextTreeNode, l));
}

TEST(HashTreeBuild, PaddingIsNotAnEmptyLeaf) {
  // 3 leaves padded differ from 4 leaves whose 4th is some ordinary leaf hash.
  auto four = make_leaves(4);
  EXPECT_NE(compute_root(kNode, make_leaves(3)), compute_root(kNode, four));
}

// ---- Proofs ----

TEST(HashTreeProof, UncleChainSkipsPadding) {
  const HashTree t = HashTree::build(kNode, make_leaves(5));
  auto indices = [](const std::vector<NodeHash>& p) {
    std::vector<std::uint64_t> out;
    for (const auto& h : p) out.push_back(h.index);
    return out;
  };
  EXPECT_EQ(indices(t.proof(0)), (std::vector<std::uint64_t>{2, 4, 8}));
  EXPECT_EQ(indices(t.proof(4)), (std::vector<std::uint64_t>{1}));  // 12 and 6 are padding
  const std::uint64_t both[] = {0, 1};
  EXPECT_EQ(indices(t.proof(both)), (std::vector<std::uint64_t>{2, 4}));
  const std::uint64_t spread[] = {0, 3, 4};
  EXPECT_EQ(indices(t.proof(spread)), (std::vector<std::uint64_t>{8, 9}));
  for (const auto& h : t.proof(0)) EXPECT_EQ(h.hash, t.node(h.index));
  EXPECT_TRUE(HashTree::build(kNode, make_leaves(1)).proof(0).empty());
}

// ---- Verifier: acceptance ----

TEST(HashTreeVerifier, AcceptsLeafWithItsProof) {
  const HashTree t = HashTree::build(kNode, make_leaves(7));
  auto v = verifier_for(t);
  EXPECT_FALSE(v.is_leaf_verified(3));
  ASSERT_TRUE(v.add(t.proof(3), std::vector<LeafHash>{{3, t.leaf(3)}}).is_ok());
  EXPECT_TRUE(v.is_leaf_verified(3));
  EXPECT_EQ(v.pending_count(), 0u);
  for (const auto& h : t.proof(3)) EXPECT_TRUE(v.is_verified(h.index));
  EXPECT_EQ(v.verified_hash(t.shape().leaf_node(3)), t.leaf(3));
  // Its sibling came with the proof, so that leaf is verified too.
  EXPECT_TRUE(v.is_leaf_verified(2));
  EXPECT_FALSE(v.is_leaf_verified(4));
}

TEST(HashTreeVerifier, LeafFirstThenHashesOneByOne) {
  const HashTree t = HashTree::build(kNode, make_leaves(16));
  auto v = verifier_for(t);
  ASSERT_TRUE(v.add_leaf(9, t.leaf(9)).is_ok());
  EXPECT_FALSE(v.is_leaf_verified(9));  // not connected: pending, untrusted
  EXPECT_EQ(v.pending_count(), 1u);
  auto proof = t.proof(9);
  std::reverse(proof.begin(), proof.end());  // root side first
  for (std::size_t i = 0; i < proof.size(); ++i) {
    EXPECT_FALSE(v.is_leaf_verified(9));
    ASSERT_TRUE(v.add_hashes({&proof[i], 1}).is_ok());
  }
  EXPECT_TRUE(v.is_leaf_verified(9));
  EXPECT_EQ(v.pending_count(), 0u);
}

TEST(HashTreeVerifier, SecondLeafNeedsOnlyWhatIsMissing) {
  const HashTree t = HashTree::build(kNode, make_leaves(8));
  auto v = verifier_for(t);
  ASSERT_TRUE(v.add(t.proof(0), std::vector<LeafHash>{{0, t.leaf(0)}}).is_ok());
  const std::uint64_t want[] = {2};
  EXPECT_EQ(v.needed_hashes(want), (std::vector<std::uint64_t>{10}));  // 4 is verified
  const std::uint64_t want5[] = {5};
  EXPECT_EQ(v.needed_hashes(want5), (std::vector<std::uint64_t>{6, 11}));
  ASSERT_TRUE(v.add(std::vector<NodeHash>{{10, t.node(10)}}, std::vector<LeafHash>{{2, t.leaf(2)}})
                  .is_ok());
  EXPECT_TRUE(v.is_leaf_verified(2));
  const std::uint64_t three[] = {3};
  EXPECT_TRUE(v.needed_hashes(three).empty());  // leaf 3 is verified already
}

TEST(HashTreeVerifier, OneLeafTree) {
  const HashTree t = HashTree::build(kNode, make_leaves(1));
  auto v = verifier_for(t);
  EXPECT_TRUE(v.is_leaf_verified(0));  // the root is the leaf
  EXPECT_TRUE(v.add_leaf(0, t.leaf(0)).is_ok());
  Digest bad = t.leaf(0);
  bad[0] ^= 1;
  EXPECT_EQ(v.add_leaf(0, bad).code(), ErrorCode::kCorruption);
}

TEST(HashTreeVerifier, SupplyingPaddingIsHarmless) {
  const HashTree t = HashTree::build(kNode, make_leaves(5));
  auto v = verifier_for(t);
  const std::vector<NodeHash> pad{{12, t.node(12)}, {6, t.node(6)}};
  EXPECT_TRUE(v.add_hashes(pad).is_ok());
  EXPECT_EQ(v.pending_count(), 0u);
}

// ---- Verifier: rejection ----

TEST(HashTreeVerifier, BadLeafIsRejectedNamingTheNode) {
  const HashTree t = HashTree::build(kNode, make_leaves(6));
  auto v = verifier_for(t);
  Digest bad = t.leaf(1);
  bad[31] ^= 0x80;
  const Status s = v.add(t.proof(1), std::vector<LeafHash>{{1, bad}});
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_NE(s.message().find("of node 0"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("node 8 (leaf 1)"), std::string::npos) << s.message();
  EXPECT_FALSE(v.is_leaf_verified(1));
  EXPECT_FALSE(v.is_leaf_verified(0));
  EXPECT_EQ(v.pending_count(), 0u);  // everything under the root was suspect
  // The same nodes from an honest source are then accepted.
  EXPECT_TRUE(v.add(t.proof(1), std::vector<LeafHash>{{1, t.leaf(1)}}).is_ok());
  EXPECT_TRUE(v.is_leaf_verified(1));
}

TEST(HashTreeVerifier, MismatchBelowAVerifiedNodeIsBlamedThere) {
  const HashTree t = HashTree::build(kNode, make_leaves(8));
  auto v = verifier_for(t);
  ASSERT_TRUE(v.add(t.proof(0), std::vector<LeafHash>{{0, t.leaf(0)}}).is_ok());
  // Node 4 (leaves 2, 3) is verified now; a bad leaf 3 with a good leaf 2 is caught at node 4.
  Digest bad = t.leaf(3);
  bad[0] ^= 1;
  const Status s = v.add_leaves(std::vector<LeafHash>{{2, t.leaf(2)}, {3, bad}});
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_NE(s.message().find("children 9 and 10 of node 4"), std::string::npos) << s.message();
  EXPECT_FALSE(v.is_leaf_verified(2));
  EXPECT_FALSE(v.is_leaf_verified(3));
  EXPECT_TRUE(v.is_leaf_verified(0));  // verified nodes are never dropped
}

TEST(HashTreeVerifier, GoodSubtreesInABatchSurviveABadOne) {
  const HashTree t = HashTree::build(kNode, make_leaves(8));
  auto v = verifier_for(t);
  ASSERT_TRUE(v.add_hashes(std::vector<NodeHash>{{1, t.node(1)}, {2, t.node(2)}}).is_ok());
  Digest bad = t.node(6);
  bad[3] ^= 4;
  // Left half good (nodes 3, 4), right half bad (node 6).
  const Status s =
      v.add_hashes(std::vector<NodeHash>{{3, t.node(3)}, {4, t.node(4)}, {5, t.node(5)}, {6, bad}});
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_TRUE(v.is_verified(3));
  EXPECT_TRUE(v.is_verified(4));
  EXPECT_FALSE(v.is_verified(5));
  EXPECT_FALSE(v.is_verified(6));
}

TEST(HashTreeVerifier, RefusesMalformedBatchesWhole) {
  const HashTree t = HashTree::build(kNode, make_leaves(5));
  auto v = verifier_for(t);
  Digest bad = t.node(1);
  bad[0] ^= 1;
  // Outside the tree.
  Status s = v.add_hashes(std::vector<NodeHash>{{2, t.node(2)}, {15, t.node(1)}});
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_NE(s.message().find("node 15 is outside"), std::string::npos) << s.message();
  EXPECT_EQ(v.pending_count(), 0u);
  s = v.add_leaf(5, t.leaf(0));  // leaf 5 of 5 is padding, not a leaf
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_NE(s.message().find("leaf 5 is outside"), std::string::npos) << s.message();
  // Contradicting the root, or padding.
  Digest bad_root = t.root();
  bad_root[0] ^= 1;
  s = v.add_hashes(std::vector<NodeHash>{{0, bad_root}});
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_NE(s.message().find("node 0 was supplied"), std::string::npos) << s.message();
  s = v.add_hashes(std::vector<NodeHash>{{12, bad}});
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_NE(s.message().find("is padding"), std::string::npos) << s.message();
  // The same node twice, differently.
  s = v.add_hashes(std::vector<NodeHash>{{1, t.node(1)}, {1, bad}});
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_NE(s.message().find("twice"), std::string::npos) << s.message();
  EXPECT_EQ(v.pending_count(), 0u);
}

TEST(HashTreeVerifier, LaterClaimReplacesAPendingOne) {
  const HashTree t = HashTree::build(kNode, make_leaves(4));
  auto v = verifier_for(t);
  Digest bad = t.node(2);
  bad[0] ^= 1;
  ASSERT_TRUE(v.add_hashes(std::vector<NodeHash>{{2, bad}}).is_ok());  // unconnected: pending
  EXPECT_EQ(v.pending_count(), 1u);
  ASSERT_TRUE(v.add_hashes(std::vector<NodeHash>{{2, t.node(2)}}).is_ok());
  ASSERT_TRUE(v.add_hashes(std::vector<NodeHash>{{1, t.node(1)}}).is_ok());
  EXPECT_TRUE(v.is_verified(2));
}

// A lie left pending by one source must not make an honest, self-contained batch from another
// fail (or the downloader would blame the honest server), nor linger.
TEST(HashTreeVerifier, StalePendingLieDoesNotFailAnHonestBatch) {
  const HashTree t = HashTree::build(kNode, make_leaves(8));
  auto v = verifier_for(t);
  Digest bad = t.node(3);
  bad[9] ^= 2;
  ASSERT_TRUE(v.add_hashes(std::vector<NodeHash>{{3, bad}}).is_ok());  // unconnected: pending
  ASSERT_EQ(v.pending_count(), 1u);
  EXPECT_TRUE(v.add(t.proof(0), std::vector<LeafHash>{{0, t.leaf(0)}}).is_ok());
  EXPECT_TRUE(v.is_leaf_verified(0));
  EXPECT_EQ(v.verified_hash(3), t.node(3));
  EXPECT_EQ(v.pending_count(), 0u);  // the refuted lie is gone
}

// A batch that fails on its own is dropped whole; what was pending before survives.
TEST(HashTreeVerifier, FailedBatchLeavesEarlierPendingAlone) {
  const HashTree t = HashTree::build(kNode, make_leaves(8));
  auto v = verifier_for(t);
  ASSERT_TRUE(v.add_leaf(6, t.leaf(6)).is_ok());  // pending, from an honest source
  Digest bad = t.leaf(0);
  bad[0] ^= 1;
  EXPECT_EQ(v.add(t.proof(0), std::vector<LeafHash>{{0, bad}}).code(), ErrorCode::kCorruption);
  EXPECT_EQ(v.pending_count(), 1u);
  EXPECT_TRUE(v.add_hashes(t.proof(6)).is_ok());
  EXPECT_TRUE(v.is_leaf_verified(6));
}

TEST(HashTreeVerifier, BoundsPendingHashes) {
  auto v = IncrementalVerifier::create(kNode, Digest{}, kMaxLeafCount);
  ASSERT_TRUE(v.ok());
  std::vector<NodeHash> many;
  for (std::uint64_t i = 0; i < kMaxPendingHashes + 1; ++i) many.push_back({1000 + 2 * i, {}});
  EXPECT_EQ(v->add_hashes(many).code(), ErrorCode::kResourceExhausted);
  many.pop_back();
  EXPECT_TRUE(v->add_hashes(many).is_ok());  // unconnected, all pending
  EXPECT_EQ(v->add_hashes(std::vector<NodeHash>{{5, {}}}).code(), ErrorCode::kResourceExhausted);
}

TEST(HashTreeVerifier, CreateValidates) {
  EXPECT_EQ(IncrementalVerifier::create(kNode, Digest{}, 0).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(IncrementalVerifier::create(HashTag::kBlockLeaf, Digest{}, 4).status().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace lafs::hashtree
