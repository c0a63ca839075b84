#include "core/client/mutable_share.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include <sodium.h>

#include "core/codec/codec.h"
#include "core/crypto/cipher.h"
#include "core/hashtree/hash_tree.h"
#include "core/hashtree/verifier.h"

namespace lafs::client {
namespace {

using crypto::Digest;
using crypto::HashTag;

constexpr std::string_view kMagic = "lafsssk\n";
static_assert(kMagic.size() == 8);
// The signed fields: [kSignedBegin, kSignedEnd).
constexpr std::size_t kSignedBegin = 12;
constexpr std::size_t kSignedEnd = 80;
constexpr std::size_t kVerifyingKeyAt = 80;
constexpr std::size_t kSignatureAt = 112;
constexpr std::size_t kSeedAt = 176;
static_assert(kSeedAt + crypto::kSigningSeedBytes == kMutablePrefixBytes);
static_assert(kCheckstringOffset + kCheckstringBytes == 56);

void put_be(Bytes& out, std::size_t at, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out[at + i] = static_cast<std::uint8_t>(v >> (8 * (bytes - 1 - i)));
}
std::uint64_t get_be(ByteView in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | in[at + i];
  return v;
}
Digest digest_at(ByteView b, std::size_t at) {
  Digest d{};
  std::copy_n(b.begin() + static_cast<std::ptrdiff_t>(at), d.size(), d.begin());
  return d;
}
std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) {
  return a / b + (a % b != 0 ? 1 : 0);
}

Bytes signed_message(const crypto::StorageIndex& si, ByteView prefix) {
  Bytes m(si.begin(), si.end());
  m.insert(m.end(), prefix.begin() + kSignedBegin, prefix.begin() + kSignedEnd);
  return m;
}

Digest block_leaf(ByteView salt, ByteView block) {
  crypto::Hasher h(HashTag::kMutableBlockLeaf);
  h.update(salt);
  h.update(block);
  return h.finish();
}

const crypto::StreamNonce kZeroNonce{};

}  // namespace

std::string describe(const MutableVersion& v) {
  char root[9];
  std::snprintf(root, sizeof root, "%02x%02x%02x%02x", v.root[0], v.root[1], v.root[2], v.root[3]);
  return "seq " + std::to_string(v.seqnum) + " root " + root;
}

Bytes checkstring(const MutableVersion& v) {
  Bytes out(kCheckstringBytes);
  put_be(out, 0, v.seqnum, 8);
  std::copy(v.root.begin(), v.root.end(), out.begin() + 8);
  return out;
}

Status validate_mutable_params(const MutableParams& p) {
  if (p.needed < 1 || p.needed > p.total || p.total > codec::kSharesMax) {
    return invalid_argument(
        "mutable encoding: need 1 <= k <= n <= " + std::to_string(codec::kSharesMax) +
        ", got k=" + std::to_string(p.needed) + " n=" + std::to_string(p.total));
  }
  if (p.segment_size < 1 || p.segment_size > kMutableSegmentSizeMax) {
    return invalid_argument("mutable encoding: segment size " + std::to_string(p.segment_size) +
                            " is outside 1.." + std::to_string(kMutableSegmentSizeMax));
  }
  // Each share holds about length/k bytes: refuse early, before arithmetic could overflow.
  if (p.data_length / p.needed > kMutableShareBytesMax) {
    return invalid_argument("mutable file of " + std::to_string(p.data_length) +
                            " bytes is too large: a share would exceed " +
                            std::to_string(kMutableShareBytesMax) + " bytes");
  }
  return {};
}

std::uint64_t MutableLayout::segment_length(const MutableParams& p, std::uint64_t s) const {
  if (s + 1 < segment_count) return p.segment_size;
  return p.data_length - s * p.segment_size;
}

std::uint64_t flat_index(const hashtree::TreeShape& shape, std::uint64_t node) {
  const int h = shape.height(node);
  const std::uint64_t level_start = (std::uint64_t{1} << (shape.depth() - h)) - 1;
  const std::uint64_t p = node - level_start;
  return ((2 * p + 1) << h) - 1;
}

std::optional<std::uint64_t> node_at(const hashtree::TreeShape& shape, int height,
                                     std::uint64_t p) {
  if (height < 0 || height > shape.depth()) return std::nullopt;
  const std::uint64_t level_start = (std::uint64_t{1} << (shape.depth() - height)) - 1;
  if (p > level_start) return std::nullopt;  // the level has level_start + 1 nodes
  return level_start + p;
}

bool is_complete(const hashtree::TreeShape& shape, std::uint64_t node) {
  const std::uint64_t last =
      shape.first_leaf_under(node) + (std::uint64_t{1} << shape.height(node)) - 1;
  return last < shape.leaf_count();
}

std::uint64_t MutableLayout::node_offset(const hashtree::TreeShape& shape,
                                         std::uint64_t node) const {
  LAFS_ASSERT(!shape.is_padding(node));
  if (!is_complete(shape, node)) {
    return spine_offset + static_cast<std::uint64_t>(shape.height(node)) * crypto::kDigestBytes;
  }
  const std::uint64_t f = flat_index(shape, node);
  return record_offset(f / 2) + crypto::kSaltBytes + (f % 2) * crypto::kDigestBytes;
}

Result<MutableLayout> MutableLayout::make(const MutableParams& p, std::uint32_t share_number) {
  LAFS_RETURN_IF_ERROR(validate_mutable_params(p));
  if (share_number >= p.total) {
    return invalid_argument("share number " + std::to_string(share_number) +
                            " >= n=" + std::to_string(p.total));
  }
  MutableLayout l;
  l.segment_count = std::max<std::uint64_t>(1, ceil_div(p.data_length, p.segment_size));
  l.block_size = ceil_div(p.segment_size, p.needed);
  const std::uint64_t tail = p.data_length - (l.segment_count - 1) * p.segment_size;
  l.tail_block_size = ceil_div(tail, p.needed);
  if (l.segment_count == 1) l.block_size = l.tail_block_size;
  auto block_shape = hashtree::TreeShape::make(l.segment_count);
  if (!block_shape.ok()) return block_shape.status();
  auto share_shape = hashtree::TreeShape::make(p.total);
  if (!share_shape.ok()) return share_shape.status();
  const std::uint64_t leaf = share_number;
  l.chain_nodes = hashtree::proof_nodes(*share_shape, {&leaf, 1});
  (void)block_shape;
  l.spine_offset = l.chain_offset + l.chain_nodes.size() * crypto::kDigestBytes;
  l.records_offset = l.spine_offset + kSpineSlots * crypto::kDigestBytes;
  l.record_size = kRecordHeaderBytes + l.block_size;
  l.share_bytes = l.record_offset(l.segment_count - 1) + kRecordHeaderBytes + l.tail_block_size;
  if (l.share_bytes > kMutableShareBytesMax) {
    return invalid_argument("mutable file of " + std::to_string(p.data_length) +
                            " bytes is too large: a share would be " +
                            std::to_string(l.share_bytes) + " bytes, over the " +
                            std::to_string(kMutableShareBytesMax) + "-byte limit");
  }
  return l;
}

Result<Bytes> mutable_prefix(const crypto::SigningKey& signing_key, const MutableVersion& v,
                             const MutableParams& params) {
  LAFS_RETURN_IF_ERROR(validate_mutable_params(params));
  const crypto::MutableKeys keys = crypto::derive_mutable_keys(signing_key);
  Bytes prefix(kMutablePrefixBytes, 0);
  std::copy(kMagic.begin(), kMagic.end(), prefix.begin());
  put_be(prefix, 12, kMutableFormatVersion, 4);
  put_be(prefix, 16, v.seqnum, 8);
  std::copy(v.root.begin(), v.root.end(), prefix.begin() + 24);
  put_be(prefix, 56, params.needed, 4);
  put_be(prefix, 60, params.total, 4);
  put_be(prefix, 64, params.segment_size, 8);
  put_be(prefix, 72, params.data_length, 8);
  const auto& vk = signing_key.verifying_key();
  std::copy(vk.begin(), vk.end(), prefix.begin() + kVerifyingKeyAt);
  const crypto::Signature sig = signing_key.sign(HashTag::kMutableHeaderSignature,
                                                 signed_message(keys.storage_index, prefix));
  std::copy(sig.begin(), sig.end(), prefix.begin() + kSignatureAt);
  std::array<std::uint8_t, crypto::kSigningSeedBytes> seed{};
  std::copy_n(signing_key.seed().data(), seed.size(), seed.begin());
  LAFS_RETURN_IF_ERROR(
      crypto::xor_at(crypto::signing_key_wrap_key(keys.write_key), kZeroNonce, 0, seed));
  std::copy(seed.begin(), seed.end(), prefix.begin() + kSeedAt);
  sodium_memzero(seed.data(), seed.size());
  return prefix;
}

void set_prefix_share_number(Bytes& prefix, std::uint32_t share_number) {
  put_be(prefix, 8, share_number, 4);
}

Result<EncodedSegment> encode_mutable_segment(const crypto::ReadKey& read_key,
                                              const MutableParams& params, ByteView plaintext,
                                              Random& random) {
  auto codec =
      codec::ErasureCodec::create(codec::CodecKind::kReedSolomon, static_cast<int>(params.needed),
                                  static_cast<int>(params.total));
  if (!codec.ok()) return codec.status();
  EncodedSegment out;
  random.fill(out.salt);
  Bytes segment(plaintext.begin(), plaintext.end());
  LAFS_RETURN_IF_ERROR(
      crypto::xor_at(crypto::mutable_data_key(read_key, out.salt), kZeroNonce, 0, segment));
  const std::size_t bs = (*codec)->block_size(segment.size());
  out.blocks.assign(params.total, Bytes(bs));
  std::vector<MutableByteView> views;
  for (Bytes& b : out.blocks) views.emplace_back(b);
  LAFS_RETURN_IF_ERROR((*codec)->encode(segment, views));
  for (const Bytes& b : out.blocks) out.leaves.push_back(block_leaf(out.salt, b));
  return out;
}

Result<Bytes> decode_mutable_segment(const crypto::ReadKey& read_key, const MutableParams& params,
                                     std::uint64_t segment_length, const crypto::Salt& salt,
                                     const std::map<std::uint32_t, ByteView>& blocks) {
  auto codec =
      codec::ErasureCodec::create(codec::CodecKind::kReedSolomon, static_cast<int>(params.needed),
                                  static_cast<int>(params.total));
  if (!codec.ok()) return codec.status();
  if (blocks.size() < params.needed) {
    return corruption("segment: " + std::to_string(blocks.size()) + " good blocks, " +
                      std::to_string(params.needed) + " needed");
  }
  std::vector<codec::ShareBlock> use;
  for (const auto& [shnum, b] : blocks) {
    if (use.size() == params.needed) break;
    use.emplace_back(static_cast<int>(shnum), b);
  }
  Bytes out(segment_length);
  LAFS_RETURN_IF_ERROR((*codec)->decode(use, segment_length, out));
  LAFS_RETURN_IF_ERROR(
      crypto::xor_at(crypto::mutable_data_key(read_key, salt), kZeroNonce, 0, out));
  return out;
}

crypto::Digest mutable_block_leaf(const crypto::Salt& salt, ByteView block) {
  return block_leaf(salt, block);
}

Result<std::map<std::uint64_t, crypto::Digest>> tree_paths(
    const hashtree::TreeShape& shape, const std::map<std::uint64_t, crypto::Digest>& leaves,
    const std::map<std::uint64_t, crypto::Digest>& siblings) {
  const auto pad = hashtree::padding_hashes(HashTag::kBlockTreeNode, shape.depth());
  std::map<std::uint64_t, crypto::Digest> out;
  std::set<std::uint64_t> level;
  for (const auto& [leaf, hash] : leaves) {
    if (leaf >= shape.width()) return invalid_argument("tree_paths: leaf beyond the tree");
    out[shape.leaf_node(leaf)] = hash;
    level.insert(shape.leaf_node(leaf));
  }
  auto get = [&](std::uint64_t node) -> std::optional<crypto::Digest> {
    if (auto it = out.find(node); it != out.end()) return it->second;
    if (auto it = siblings.find(node); it != siblings.end()) return it->second;
    if (shape.is_padding(node)) return pad[static_cast<std::size_t>(shape.height(node))];
    return std::nullopt;
  };
  while (!level.empty() && *level.begin() != 0) {
    std::set<std::uint64_t> parents;
    for (std::uint64_t node : level) parents.insert(hashtree::TreeShape::parent(node));
    for (std::uint64_t p : parents) {
      const auto l = get(2 * p + 1);
      const auto r = get(2 * p + 2);
      if (!l || !r) return corruption("tree_paths: a sibling hash is missing");
      out[p] = hashtree::hash_node(HashTag::kBlockTreeNode, *l, *r);
    }
    level = std::move(parents);
  }
  return out;
}

Result<std::vector<Bytes>> encode_mutable(const crypto::SigningKey& signing_key,
                                          std::uint64_t seqnum, const MutableParams& params,
                                          ByteView plaintext, Random& random,
                                          MutableVersion* version) {
  if (plaintext.size() != params.data_length) {
    return invalid_argument("encode_mutable: plaintext is " + std::to_string(plaintext.size()) +
                            " bytes, params say " + std::to_string(params.data_length));
  }
  std::vector<MutableLayout> layouts;
  for (std::uint32_t i = 0; i < params.total; ++i) {
    auto l = MutableLayout::make(params, i);
    if (!l.ok()) return l.status();
    layouts.push_back(std::move(*l));
  }
  auto codec =
      codec::ErasureCodec::create(codec::CodecKind::kReedSolomon, static_cast<int>(params.needed),
                                  static_cast<int>(params.total));
  if (!codec.ok()) return codec.status();
  const crypto::MutableKeys keys = crypto::derive_mutable_keys(signing_key);
  const MutableLayout& l0 = layouts[0];
  std::vector<Bytes> shares(params.total);
  for (std::uint32_t i = 0; i < params.total; ++i) shares[i].assign(layouts[i].share_bytes, 0);

  std::vector<std::vector<Digest>> leaves(params.total, std::vector<Digest>(l0.segment_count));
  crypto::StreamCipher cipher;
  Bytes segment;
  std::vector<MutableByteView> views(params.total);
  for (std::uint64_t s = 0; s < l0.segment_count; ++s) {
    crypto::Salt salt{};
    random.fill(salt);
    const std::uint64_t len = l0.segment_length(params, s);
    const auto in = plaintext.subspan(s * params.segment_size, len);
    segment.assign(in.begin(), in.end());
    LAFS_RETURN_IF_ERROR(
        cipher.xor_at(crypto::mutable_data_key(keys.read_key, salt), kZeroNonce, 0, segment));
    const std::uint64_t bl = l0.block_length(s);
    for (std::uint32_t i = 0; i < params.total; ++i) {
      std::copy(salt.begin(), salt.end(), shares[i].begin() + layouts[i].salt_offset(s));
      views[i] = MutableByteView(shares[i].data() + layouts[i].block_offset(s), bl);
    }
    LAFS_RETURN_IF_ERROR((*codec)->encode(segment, views));
    for (std::uint32_t i = 0; i < params.total; ++i) leaves[i][s] = block_leaf(salt, views[i]);
  }

  std::vector<Digest> block_roots(params.total);
  for (std::uint32_t i = 0; i < params.total; ++i) {
    const auto tree = hashtree::HashTree::build(HashTag::kBlockTreeNode, leaves[i]);
    block_roots[i] = tree.root();
    const auto& shape = tree.shape();
    for (std::uint64_t node = 0; node < shape.node_count(); ++node) {
      if (shape.is_padding(node)) continue;
      const Digest& d = tree.node(node);
      std::copy(
          d.begin(), d.end(),
          shares[i].begin() + static_cast<std::ptrdiff_t>(layouts[i].node_offset(shape, node)));
    }
  }
  const auto share_tree = hashtree::HashTree::build(HashTag::kShareTreeNode, block_roots);
  const MutableVersion v{seqnum, share_tree.root()};

  auto built = mutable_prefix(signing_key, v, params);
  if (!built.ok()) return built.status();
  const Bytes& prefix = *built;
  for (std::uint32_t i = 0; i < params.total; ++i) {
    std::copy(prefix.begin(), prefix.end(), shares[i].begin());
    set_prefix_share_number(shares[i], i);
    const MutableLayout& l = layouts[i];
    for (std::size_t c = 0; c < l.chain_nodes.size(); ++c) {
      const Digest& d = share_tree.node(l.chain_nodes[c]);
      std::copy(d.begin(), d.end(), shares[i].begin() + l.chain_offset + c * crypto::kDigestBytes);
    }
  }
  if (version != nullptr) *version = v;
  return shares;
}

Result<MutableHeader> check_mutable_prefix(const crypto::StorageIndex& si,
                                           const crypto::Fingerprint& fingerprint,
                                           std::uint32_t share_number, ByteView prefix) {
  const std::string name = "mutable share " + std::to_string(share_number);
  if (prefix.size() < kMutablePrefixBytes) {
    return corruption(name + ": " + std::to_string(prefix.size()) + " bytes, shorter than the " +
                      std::to_string(kMutablePrefixBytes) + "-byte header");
  }
  if (!std::equal(kMagic.begin(), kMagic.end(), prefix.begin())) {
    return corruption(name + ": bad magic (not a lafs mutable share)");
  }
  if (get_be(prefix, 8, 4) != share_number) {
    return corruption(name + ": the header says share " + std::to_string(get_be(prefix, 8, 4)));
  }
  const auto format = get_be(prefix, 12, 4);
  if (format != kMutableFormatVersion) {
    return corruption(name + ": format version " + std::to_string(format) +
                      " (this build reads version 1)");
  }
  MutableHeader h;
  h.share_number = share_number;
  h.version.seqnum = get_be(prefix, 16, 8);
  h.version.root = digest_at(prefix, 24);
  h.params.needed = static_cast<std::uint32_t>(get_be(prefix, 56, 4));
  h.params.total = static_cast<std::uint32_t>(get_be(prefix, 60, 4));
  h.params.segment_size = get_be(prefix, 64, 8);
  h.params.data_length = get_be(prefix, 72, 8);
  std::copy_n(prefix.begin() + kVerifyingKeyAt, h.verifying_key.size(), h.verifying_key.begin());
  std::copy_n(prefix.begin() + kSignatureAt, h.signature.size(), h.signature.begin());
  std::copy_n(prefix.begin() + kSeedAt, h.encrypted_seed.size(), h.encrypted_seed.begin());
  if (crypto::verifying_key_fingerprint(h.verifying_key) != fingerprint) {
    return corruption(name + ": its verifying key does not match the cap's fingerprint");
  }
  if (!crypto::verify_signature(h.verifying_key, HashTag::kMutableHeaderSignature,
                                signed_message(si, prefix), h.signature)
           .is_ok()) {
    return corruption(name + ": bad signature on the header");
  }
  // Signed, so written by the key holder; still checked, as a reader computes with them.
  if (Status s = validate_mutable_params(h.params); !s.is_ok()) {
    return corruption(name + ": signed parameters are invalid: " + s.message());
  }
  if (share_number >= h.params.total) {
    return corruption(name + ": share number is not below n=" + std::to_string(h.params.total));
  }
  return h;
}

Result<MutableHeader> check_mutable_share(const crypto::StorageIndex& si,
                                          const crypto::Fingerprint& fingerprint,
                                          std::uint32_t share_number, ByteView share) {
  auto h = check_mutable_prefix(si, fingerprint, share_number, share);
  if (!h.ok()) return h.status();
  auto l = MutableLayout::make(h->params, share_number);
  if (!l.ok()) return corruption(l.status().message());
  const std::string name =
      "mutable share " + std::to_string(share_number) + " (" + describe(h->version) + ")";
  if (share.size() != l->share_bytes) {
    return corruption(name + ": " + std::to_string(share.size()) + " bytes, the header implies " +
                      std::to_string(l->share_bytes));
  }
  std::vector<Digest> leaves(l->segment_count);
  for (std::uint64_t s = 0; s < l->segment_count; ++s) {
    leaves[s] = block_leaf(share.subspan(l->salt_offset(s), crypto::kSaltBytes),
                           share.subspan(l->block_offset(s), l->block_length(s)));
  }
  const auto tree = hashtree::HashTree::build(HashTag::kBlockTreeNode, leaves);
  // Every node slot holds exactly its node (or zeros where no node lives), so a share has one
  // valid encoding.
  Bytes expected_spine(kSpineSlots * crypto::kDigestBytes, 0);
  std::vector<Digest> expected_inner(l->segment_count, Digest{});
  const auto& shape = tree.shape();
  for (std::uint64_t node = 0; node < shape.node_count(); ++node) {
    if (shape.is_padding(node)) continue;
    if (!is_complete(shape, node)) {
      const Digest& d = tree.node(node);
      std::copy(
          d.begin(), d.end(),
          expected_spine.begin() + shape.height(node) * static_cast<int>(crypto::kDigestBytes));
      continue;
    }
    const std::uint64_t f = flat_index(shape, node);
    if (f % 2 == 1) expected_inner[f / 2] = tree.node(node);
  }
  if (!std::equal(expected_spine.begin(), expected_spine.end(),
                  share.begin() + static_cast<std::ptrdiff_t>(l->spine_offset))) {
    return corruption(name + ": its spine nodes do not match its blocks");
  }
  for (std::uint64_t seg = 0; seg < l->segment_count; ++seg) {
    if (digest_at(share, l->record_offset(seg) + crypto::kSaltBytes) != leaves[seg] ||
        digest_at(share, l->record_offset(seg) + crypto::kSaltBytes + crypto::kDigestBytes) !=
            expected_inner[seg]) {
      return corruption(name + ": the tree nodes of segment " + std::to_string(seg) +
                        " do not match its blocks");
    }
  }
  auto verifier = hashtree::IncrementalVerifier::create(HashTag::kShareTreeNode, h->version.root,
                                                        h->params.total);
  if (!verifier.ok()) return corruption(verifier.status().message());
  std::vector<hashtree::NodeHash> chain;
  for (std::size_t c = 0; c < l->chain_nodes.size(); ++c) {
    chain.push_back(
        {l->chain_nodes[c], digest_at(share, l->chain_offset + c * crypto::kDigestBytes)});
  }
  const hashtree::LeafHash leaf{share_number, tree.root()};
  if (Status s = verifier->add(chain, {&leaf, 1}); !s.is_ok()) {
    return corruption(name + ": its block tree does not match the signed root: " + s.message());
  }
  if (!verifier->is_leaf_verified(share_number)) {
    return corruption(name + ": its uncle chain does not reach the signed root");
  }
  return h;
}

Result<Bytes> decode_mutable(const crypto::ReadKey& read_key, const MutableHeader& header,
                             const std::map<std::uint32_t, Bytes>& shares) {
  const MutableParams& p = header.params;
  if (shares.size() < p.needed) {
    return corruption("mutable " + describe(header.version) + ": " + std::to_string(shares.size()) +
                      " good shares, " + std::to_string(p.needed) + " needed");
  }
  auto codec = codec::ErasureCodec::create(codec::CodecKind::kReedSolomon,
                                           static_cast<int>(p.needed), static_cast<int>(p.total));
  if (!codec.ok()) return codec.status();
  // Which shares: the data shares first (decoding them is a copy).
  std::vector<int> available;
  for (const auto& [shnum, bytes] : shares) available.push_back(static_cast<int>(shnum));
  auto chosen = (*codec)->choose_shares_to_fetch(available);
  if (!chosen.ok()) return chosen.status();
  std::vector<std::pair<const Bytes*, MutableLayout>> used;  // per chosen share
  for (int shnum : *chosen) {
    auto l = MutableLayout::make(p, static_cast<std::uint32_t>(shnum));
    if (!l.ok()) return l.status();
    const Bytes& share = shares.at(static_cast<std::uint32_t>(shnum));
    if (share.size() < l->share_bytes) return corruption("mutable share is short");
    used.emplace_back(&share, std::move(*l));
  }
  const MutableLayout& l0 = used.front().second;
  Bytes out(p.data_length);
  crypto::StreamCipher cipher;
  std::vector<codec::ShareBlock> blocks;
  for (std::uint64_t s = 0; s < l0.segment_count; ++s) {
    blocks.clear();
    for (std::size_t c = 0; c < used.size(); ++c) {
      const MutableLayout& l = used[c].second;
      blocks.emplace_back((*chosen)[c],
                          ByteView(*used[c].first).subspan(l.block_offset(s), l.block_length(s)));
    }
    const std::uint64_t len = l0.segment_length(p, s);
    const MutableByteView seg(out.data() + s * p.segment_size, len);
    LAFS_RETURN_IF_ERROR((*codec)->decode(blocks, len, seg));
    crypto::Salt salt{};
    std::copy_n(used.front().first->begin() + static_cast<std::ptrdiff_t>(l0.salt_offset(s)),
                salt.size(), salt.begin());
    LAFS_RETURN_IF_ERROR(
        cipher.xor_at(crypto::mutable_data_key(read_key, salt), kZeroNonce, 0, seg));
  }
  return out;
}

Result<crypto::SigningKey> unwrap_signing_key(const crypto::WriteKey& write_key,
                                              const MutableHeader& header) {
  std::array<std::uint8_t, crypto::kSigningSeedBytes> raw = header.encrypted_seed;
  LAFS_RETURN_IF_ERROR(crypto::xor_at(crypto::signing_key_wrap_key(write_key), kZeroNonce, 0, raw));
  crypto::SigningSeed seed(raw);
  sodium_memzero(raw.data(), raw.size());
  auto key = crypto::SigningKey::from_seed(seed);
  if (key.verifying_key() != header.verifying_key ||
      crypto::mutable_write_key(key.seed()) != write_key) {
    return corruption("mutable share " + std::to_string(header.share_number) +
                      ": the stored signing key does not match the write cap");
  }
  return key;
}

}  // namespace lafs::client
