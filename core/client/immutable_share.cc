// Encoding and verified decoding of immutable files (docs/specs/immutable.md).
#include "core/client/immutable_share.h"

#include "core/client/segment_decoder.h"

#include <algorithm>
#include <memory>
#include <set>
#include <utility>

#include "core/codec/codec.h"
#include "core/crypto/cipher.h"
#include "core/hashtree/hash_tree.h"
#include "core/proto/immutable.pb.h"
#include "core/runtime/assert.h"

namespace lafs::client {
namespace {

using crypto::Digest;
using crypto::HashTag;

constexpr std::string_view kShareMagic = "lafschk\n";  // 8 bytes
static_assert(kShareMagic.size() == 8);
constexpr std::string_view kCodecName = "rs";

void put_u32(Bytes& out, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}
std::uint32_t get_u32(ByteView in, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | in[at + i];
  return v;
}

Digest digest_from(ByteView b) {
  Digest d{};
  std::copy_n(b.begin(), d.size(), d.begin());
  return d;
}

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) {
  return a / b + (a % b != 0 ? 1 : 0);
}

std::uint64_t tree_nodes(std::uint64_t leaves) {
  auto shape = hashtree::TreeShape::make(leaves);
  LAFS_ASSERT(shape.ok());
  return shape->node_count();
}

std::uint64_t segment_length(const ExtensionInfo& info, std::uint64_t segment) {
  if (segment + 1 < info.segment_count) return info.segment_size;
  return info.file_size - segment * info.segment_size;
}

Status validate_params(const EncodingParams& p, std::uint64_t file_size) {
  if (p.needed < 1 || p.needed > p.total || p.total > codec::kSharesMax) {
    return invalid_argument("encoding: need 1 <= k <= n <= " + std::to_string(codec::kSharesMax) +
                            ", got k=" + std::to_string(p.needed) +
                            " n=" + std::to_string(p.total));
  }
  if (p.happy < 1 || p.happy > p.total) {
    return invalid_argument("encoding: need 1 <= happy <= n, got happy=" + std::to_string(p.happy) +
                            " n=" + std::to_string(p.total));
  }
  if (p.segment_size < 1 || p.segment_size > kSegmentSizeMax) {
    return invalid_argument("encoding: segment size " + std::to_string(p.segment_size) +
                            " outside 1.." + std::to_string(kSegmentSizeMax));
  }
  if (file_size > crypto::kMaxFileBytes) {
    return invalid_argument("file of " + std::to_string(file_size) + " bytes exceeds the maximum " +
                            std::to_string(crypto::kMaxFileBytes));
  }
  return Status{};
}

}  // namespace

cap::ChkVerifyCap verify_cap_of(const cap::ChkReadCap& cap) {
  return cap::ChkVerifyCap{crypto::immutable_storage_index(cap.key), cap.extension_hash,
                           cap.params};
}

Result<ShareLayout> ShareLayout::make(const ExtensionInfo& info, std::uint32_t share_number) {
  if (info.needed < 1 || info.needed > info.total || info.total > codec::kSharesMax ||
      share_number >= info.total || info.segment_size < 1 || info.segment_size > kSegmentSizeMax ||
      info.file_size > crypto::kMaxFileBytes ||
      info.segment_count !=
          std::max<std::uint64_t>(1, ceil_div(info.file_size, info.segment_size))) {
    return corruption("extension block: inconsistent encoding parameters");
  }
  ShareLayout l;
  l.segment_count = info.segment_count;
  l.block_size = ceil_div(info.segment_size, info.needed);
  l.tail_block_size = ceil_div(segment_length(info, info.segment_count - 1), info.needed);
  l.block_tree_offset = l.blocks_offset + (l.segment_count - 1) * l.block_size + l.tail_block_size;
  l.block_tree_nodes = tree_nodes(l.segment_count);
  l.ciphertext_tree_offset = l.block_tree_offset + l.block_tree_nodes * crypto::kDigestBytes;
  l.ciphertext_tree_nodes = l.block_tree_nodes;
  l.chain_offset = l.ciphertext_tree_offset + l.ciphertext_tree_nodes * crypto::kDigestBytes;
  auto share_shape = hashtree::TreeShape::make(info.total);
  if (!share_shape.ok()) return share_shape.status();
  const std::uint64_t leaf = share_number;
  l.chain_nodes = hashtree::proof_nodes(*share_shape, {&leaf, 1});
  l.share_bytes = l.chain_offset + l.chain_nodes.size() * crypto::kDigestBytes;
  return l;
}

std::uint64_t ShareLayout::block_offset(std::uint64_t segment) const {
  return blocks_offset + segment * block_size;
}
std::uint64_t ShareLayout::block_length(std::uint64_t segment) const {
  return segment + 1 < segment_count ? block_size : tail_block_size;
}

struct ImmutableEncoder::Impl {
  std::unique_ptr<codec::ErasureCodec> codec;
  crypto::StreamCipher cipher;
  std::uint64_t next = 0;  // the segment expected next
  Bytes segment;
  std::vector<Bytes> blocks;
  std::vector<std::vector<Digest>> block_leaves;  // per share
  std::vector<Digest> ciphertext_leaves;
};

ImmutableEncoder::~ImmutableEncoder() = default;

Result<std::unique_ptr<ImmutableEncoder>> ImmutableEncoder::create(const crypto::FileKey& key,
                                                                   const EncodingParams& params,
                                                                   std::uint64_t file_size) {
  LAFS_RETURN_IF_ERROR(validate_params(params, file_size));
  std::unique_ptr<ImmutableEncoder> e(new ImmutableEncoder());
  e->key_ = key;
  e->params_ = params;
  e->info_.needed = params.needed;
  e->info_.total = params.total;
  e->info_.segment_size = params.segment_size;
  e->info_.file_size = file_size;
  e->info_.segment_count = std::max<std::uint64_t>(1, ceil_div(file_size, params.segment_size));
  for (std::uint32_t i = 0; i < params.total; ++i) {
    auto l = ShareLayout::make(e->info_, i);
    if (!l.ok()) return l.status();
    e->layouts_.push_back(std::move(*l));
  }
  e->impl_ = std::make_unique<Impl>();
  auto codec =
      codec::ErasureCodec::create(codec::CodecKind::kReedSolomon, static_cast<int>(params.needed),
                                  static_cast<int>(params.total));
  if (!codec.ok()) return codec.status();
  e->impl_->codec = std::move(*codec);
  e->impl_->blocks.resize(params.total);
  e->impl_->block_leaves.resize(params.total);
  return e;
}

Result<std::unique_ptr<ImmutableEncoder>> ImmutableEncoder::create_for_ciphertext(
    const crypto::StorageIndex& si, const EncodingParams& params, std::uint64_t file_size) {
  auto e = create(crypto::FileKey{}, params, file_size);
  if (!e.ok()) return e.status();
  (*e)->ciphertext_si_ = si;
  return e;
}

std::uint64_t ImmutableEncoder::segment_length(std::uint64_t s) const {
  return client::segment_length(info_, s);
}

crypto::StorageIndex ImmutableEncoder::storage_index() const {
  if (ciphertext_si_) return *ciphertext_si_;
  return crypto::immutable_storage_index(key_);
}

Result<const std::vector<Bytes>*> ImmutableEncoder::encode_segment(ByteView plaintext) {
  Impl& m = *impl_;
  if (m.next >= info_.segment_count) {
    return failed_precondition("encoder: all " + std::to_string(info_.segment_count) +
                               " segments were already encoded");
  }
  const std::uint64_t len = segment_length(m.next);
  if (plaintext.size() != len) {
    return failed_precondition("encoder: segment " + std::to_string(m.next) + " must have " +
                               std::to_string(len) + " bytes, got " +
                               std::to_string(plaintext.size()));
  }
  m.segment.assign(plaintext.begin(), plaintext.end());
  if (!ciphertext_si_) {
    const crypto::StreamNonce nonce{};
    LAFS_RETURN_IF_ERROR(m.cipher.xor_at(key_, nonce, m.next * info_.segment_size, m.segment));
  }
  m.ciphertext_leaves.push_back(crypto::tagged_hash(HashTag::kCiphertextSegment, m.segment));
  const std::size_t bs = m.codec->block_size(m.segment.size());
  std::vector<MutableByteView> views;
  for (Bytes& b : m.blocks) {
    b.assign(bs, 0);
    views.emplace_back(b);
  }
  LAFS_RETURN_IF_ERROR(m.codec->encode(m.segment, views));
  for (std::uint32_t i = 0; i < info_.total; ++i) {
    m.block_leaves[i].push_back(crypto::tagged_hash(HashTag::kBlockLeaf, m.blocks[i]));
  }
  ++m.next;
  return &m.blocks;
}

Result<ImmutableEncoder::Finished> ImmutableEncoder::finish() {
  Impl& m = *impl_;
  if (m.next != info_.segment_count) {
    return failed_precondition("encoder: finish after " + std::to_string(m.next) + " of " +
                               std::to_string(info_.segment_count) + " segments");
  }
  const std::uint32_t n = info_.total;
  std::vector<hashtree::HashTree> block_trees;
  std::vector<Digest> block_roots;
  for (std::uint32_t i = 0; i < n; ++i) {
    block_trees.push_back(hashtree::HashTree::build(HashTag::kBlockTreeNode, m.block_leaves[i]));
    block_roots.push_back(block_trees.back().root());
  }
  const auto share_tree = hashtree::HashTree::build(HashTag::kShareTreeNode, block_roots);
  const auto ciphertext_tree =
      hashtree::HashTree::build(HashTag::kCiphertextTreeNode, m.ciphertext_leaves);
  info_.ciphertext_root = ciphertext_tree.root();
  info_.share_root = share_tree.root();

  pb::ExtensionBlock ueb;
  ueb.set_version(kImmutableFormatVersion);
  ueb.set_needed_shares(info_.needed);
  ueb.set_total_shares(info_.total);
  ueb.set_segment_size(info_.segment_size);
  ueb.set_file_size(info_.file_size);
  ueb.set_segment_count(info_.segment_count);
  ueb.set_ciphertext_root(std::string(info_.ciphertext_root.begin(), info_.ciphertext_root.end()));
  ueb.set_share_root(std::string(info_.share_root.begin(), info_.share_root.end()));
  ueb.set_codec(std::string(kCodecName));
  const std::string ueb_bytes = ueb.SerializeAsString();
  LAFS_ASSERT(ueb_bytes.size() <= kExtensionBlockBytesMax);

  Finished out;
  out.cap.key = key_;
  out.cap.extension_hash = crypto::tagged_hash(
      HashTag::kExtensionBlock,
      ByteView(reinterpret_cast<const std::uint8_t*>(ueb_bytes.data()), ueb_bytes.size()));
  out.cap.params = cap::ImmutableParams{info_.needed, info_.total, info_.file_size};
  for (std::uint32_t i = 0; i < n; ++i) {
    const ShareLayout& l = layouts_[i];
    Bytes prefix(kSharePrefixBytes, 0);
    std::copy(kShareMagic.begin(), kShareMagic.end(), prefix.begin());
    put_u32(prefix, 8, kImmutableFormatVersion);
    put_u32(prefix, 12, i);
    put_u32(prefix, 16, static_cast<std::uint32_t>(ueb_bytes.size()));
    std::copy(ueb_bytes.begin(), ueb_bytes.end(), prefix.begin() + kShareHeaderBytes);
    out.prefixes.push_back(std::move(prefix));
    Bytes trailer;
    trailer.reserve(l.share_bytes - l.block_tree_offset);
    auto append = [&trailer](const Digest& d) {
      trailer.insert(trailer.end(), d.begin(), d.end());
    };
    for (std::uint64_t j = 0; j < l.block_tree_nodes; ++j) append(block_trees[i].node(j));
    for (std::uint64_t j = 0; j < l.ciphertext_tree_nodes; ++j) append(ciphertext_tree.node(j));
    for (std::uint64_t node : l.chain_nodes) append(share_tree.node(node));
    LAFS_ASSERT(trailer.size() == l.share_bytes - l.block_tree_offset);
    out.trailers.push_back(std::move(trailer));
  }
  return out;
}

Result<EncodedFile> encode_immutable(ByteView plaintext, const crypto::FileKey& key,
                                     const EncodingParams& params) {
  auto enc = ImmutableEncoder::create(key, params, plaintext.size());
  if (!enc.ok()) return enc.status();
  ImmutableEncoder& e = **enc;
  const std::uint32_t n = params.total;
  EncodedFile file;
  file.storage_index = e.storage_index();
  for (std::uint32_t i = 0; i < n; ++i) file.shares.emplace_back(e.layout(i).share_bytes, 0);
  for (std::uint64_t s = 0; s < e.segment_count(); ++s) {
    const std::uint64_t offset = s * params.segment_size;
    auto blocks = e.encode_segment(plaintext.subspan(offset, e.segment_length(s)));
    if (!blocks.ok()) return blocks.status();
    for (std::uint32_t i = 0; i < n; ++i) {
      const Bytes& b = (**blocks)[i];
      std::copy(b.begin(), b.end(),
                file.shares[i].begin() + static_cast<std::ptrdiff_t>(e.layout(i).block_offset(s)));
    }
  }
  auto done = e.finish();
  if (!done.ok()) return done.status();
  file.cap = done->cap;
  for (std::uint32_t i = 0; i < n; ++i) {
    std::copy(done->prefixes[i].begin(), done->prefixes[i].end(), file.shares[i].begin());
    std::copy(done->trailers[i].begin(), done->trailers[i].end(),
              file.shares[i].begin() + static_cast<std::ptrdiff_t>(e.layout(i).block_tree_offset));
  }
  return file;
}

Result<PeekedPrefix> peek_share_prefix(std::uint32_t share_number, ByteView prefix) {
  const std::string which = "share " + std::to_string(share_number);
  if (prefix.size() < kShareHeaderBytes ||
      !std::equal(kShareMagic.begin(), kShareMagic.end(), prefix.begin())) {
    return corruption(which + ": not an immutable share (bad magic or too short)");
  }
  const std::uint32_t version = get_u32(prefix, 8);
  if (version != kImmutableFormatVersion) {
    return corruption(which + ": share format version " + std::to_string(version) +
                      "; this client reads version " + std::to_string(kImmutableFormatVersion));
  }
  if (get_u32(prefix, 12) != share_number) {
    return corruption(which + ": the share says it is share " +
                      std::to_string(get_u32(prefix, 12)));
  }
  const std::uint32_t ueb_len = get_u32(prefix, 16);
  if (ueb_len > kExtensionBlockBytesMax || prefix.size() < kSharePrefixBytes) {
    return corruption(which + ": extension block length " + std::to_string(ueb_len) +
                      " is over the limit or past the data");
  }
  const ByteView ueb_bytes = prefix.subspan(kShareHeaderBytes, ueb_len);
  PeekedPrefix out;
  out.extension_hash = crypto::tagged_hash(HashTag::kExtensionBlock, ueb_bytes);
  pb::ExtensionBlock ueb;
  if (!ueb.ParseFromArray(ueb_bytes.data(), static_cast<int>(ueb_bytes.size())) ||
      ueb.version() != kImmutableFormatVersion || ueb.codec() != kCodecName ||
      ueb.ciphertext_root().size() != crypto::kDigestBytes ||
      ueb.share_root().size() != crypto::kDigestBytes) {
    return corruption(which + ": malformed extension block");
  }
  ExtensionInfo& info = out.info;
  info.needed = ueb.needed_shares();
  info.total = ueb.total_shares();
  info.segment_size = ueb.segment_size();
  info.file_size = ueb.file_size();
  info.segment_count = ueb.segment_count();
  info.ciphertext_root = digest_from(ByteView(
      reinterpret_cast<const std::uint8_t*>(ueb.ciphertext_root().data()), crypto::kDigestBytes));
  info.share_root = digest_from(ByteView(
      reinterpret_cast<const std::uint8_t*>(ueb.share_root().data()), crypto::kDigestBytes));
  auto layout = ShareLayout::make(info, share_number);
  if (!layout.ok()) return layout.status();
  return out;
}

Result<CheckedPrefix> check_share_prefix(const cap::ChkVerifyCap& cap, std::uint32_t share_number,
                                         ByteView prefix) {
  const std::string which = "share " + std::to_string(share_number);
  auto peeked = peek_share_prefix(share_number, prefix);
  if (!peeked.ok()) return peeked.status();
  if (peeked->extension_hash != cap.extension_hash) {
    return corruption(which + ": extension block does not match the cap's hash");
  }
  const ExtensionInfo& info = peeked->info;
  if (info.needed != cap.params.needed_shares || info.total != cap.params.total_shares ||
      info.file_size != cap.params.size_bytes) {
    return corruption(which + ": the extension block's k, n or size disagree with the cap");
  }
  auto layout = ShareLayout::make(info, share_number);
  if (!layout.ok()) return layout.status();
  return CheckedPrefix{info, std::move(*layout)};
}

Result<Bytes> decode_immutable(const cap::ChkReadCap& cap,
                               const std::map<std::uint32_t, Bytes>& shares, DecodeReport* report) {
  DecodeReport local;
  DecodeReport& rep = report ? *report : local;
  const cap::ChkVerifyCap vcap = verify_cap_of(cap);
  const std::uint32_t k = cap.params.needed_shares;
  // Check every offered share's prefix and trailer; the first good prefix gives the extension
  // block (all good ones give the same: its hash is pinned).
  std::unique_ptr<SegmentDecoder> decoder;
  std::map<std::uint32_t, const Bytes*> good;
  for (const auto& [number, bytes] : shares) {
    auto checked = check_share_prefix(
        vcap, number, ByteView(bytes.data(), std::min(bytes.size(), kSharePrefixBytes)));
    if (!checked.ok()) {
      rep.bad_shares[number] = checked.status().message();
      continue;
    }
    const ShareLayout& l = checked->layout;
    if (bytes.size() != l.share_bytes) {
      rep.bad_shares[number] = "share " + std::to_string(number) + " has " +
                               std::to_string(bytes.size()) + " bytes, want " +
                               std::to_string(l.share_bytes);
      continue;
    }
    if (!decoder) {
      auto d = SegmentDecoder::create(cap, checked->info);
      if (!d.ok()) return d.status();
      decoder = std::move(*d);
    }
    Status added = decoder->add_share(
        number,
        Bytes(bytes.begin() + static_cast<std::ptrdiff_t>(l.block_tree_offset), bytes.end()));
    if (!added.is_ok()) {
      rep.bad_shares[number] = added.message();
      continue;
    }
    good[number] = &bytes;
  }
  auto not_enough = [&](std::string_view when) {
    std::string msg = "cannot rebuild the file " + std::string(when) + ": " + std::to_string(k) +
                      " good shares needed, " + std::to_string(shares.size()) + " offered";
    for (const auto& [n, why] : rep.bad_shares) msg += "; " + why;
    return corruption(msg);
  };
  if (!decoder || good.size() < k) return not_enough("(too few good shares)");

  const ExtensionInfo& info = decoder->info();
  Bytes plaintext;
  plaintext.reserve(info.file_size);
  std::set<std::uint32_t> used;
  for (std::uint64_t seg = 0; seg < info.segment_count; ++seg) {
    std::map<std::uint32_t, ByteView> blocks;
    for (const auto& [number, bytes] : good) {
      if (!decoder->usable(number)) continue;
      const ShareLayout& l = decoder->layout(number);
      blocks[number] = ByteView(bytes->data() + l.block_offset(seg), l.block_length(seg));
    }
    auto segment = decoder->decode_segment(seg, blocks);
    for (std::uint32_t bad : decoder->bad_shares()) {
      if (!rep.bad_shares.contains(bad)) {
        rep.bad_shares[bad] = "share " + std::to_string(bad) + ": block " + std::to_string(seg) +
                              " does not match its hash tree";
      }
    }
    if (!segment.ok()) {
      if (decoder->usable_count() < k) return not_enough("at segment " + std::to_string(seg));
      return segment.status();  // the decoded ciphertext does not match its tree
    }
    // decode_segment used the first k usable shares in share-number order.
    std::size_t taken = 0;
    for (const auto& [number, view] : blocks) {
      if (taken == k) break;
      if (!decoder->usable(number)) continue;
      used.insert(number);
      ++taken;
    }
    plaintext.insert(plaintext.end(), segment->begin(), segment->end());
  }
  rep.used.assign(used.begin(), used.end());
  return plaintext;
}

}  // namespace lafs::client
