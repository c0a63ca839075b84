// Property test of upload and download through simulated storage servers: random (k, happy, n),
// segment and file sizes; after the upload up to n−k shares are deleted or damaged on the
// servers' disks (bit flips, truncation, another share served under the number, a share moved
// to the wrong number), and the download returns exactly the plaintext. With more than n−k
// damaged it returns an error — or, when the damage landed only in bytes no hash covers (the
// reserved tail of the extension region), the exact plaintext; never other bytes.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "tests/unit/sim_grid.h"

namespace lafs::client {
namespace {

using testing::Grid;

enum class Damage { kDelete, kBitFlip, kTruncate, kSwap };

// Where share `n` of `si` lives on a server, and its path.
std::string share_dir(const crypto::StorageIndex& si) {
  const std::string hex = crypto::to_hex(ByteView(si.data(), si.size()));
  return "storage/shares/" + hex.substr(0, 2) + "/" + hex;
}

void damage_share(Grid& g, std::size_t server, const crypto::StorageIndex& si, std::uint32_t n,
                  std::uint32_t other, Damage d) {
  sim::SimNode* node = g.server_nodes[server];
  const std::string dir = share_dir(si);
  const std::string path = dir + "/" + std::to_string(n);
  switch (d) {
    case Damage::kDelete:
      RC_ASSERT(g.run(node->disk().remove(path)).is_ok());
      break;
    case Damage::kBitFlip: {
      auto f = g.run(node->disk().open(path, {}));
      RC_ASSERT(f.ok());
      auto size = g.run((*f)->size());
      RC_ASSERT(size.ok() && *size > storage::kContainerHeaderBytes);
      const std::uint64_t at =
          *rc::gen::inRange<std::uint64_t>(storage::kContainerHeaderBytes, *size);
      Bytes b(1);
      RC_ASSERT(g.run((*f)->read_at(at, MutableByteView(b))).ok());
      b[0] ^= static_cast<std::uint8_t>(1u << *rc::gen::inRange(0, 8));
      RC_ASSERT(g.run((*f)->write_at(at, b)).is_ok());
      break;
    }
    case Damage::kTruncate: {
      auto f = g.run(node->disk().open(path, {}));
      RC_ASSERT(f.ok());
      auto size = g.run((*f)->size());
      RC_ASSERT(size.ok());
      RC_ASSERT(g.run((*f)->truncate(*rc::gen::inRange<std::uint64_t>(0, *size))).is_ok());
      break;
    }
    case Damage::kSwap: {
      // This server answers for share n with the bytes of share `other` (which it never held
      // under that number): the server lies about which share it serves.
      auto& peer = g.server_nodes[server];
      (void)peer;
      const std::string tmp = dir + "/swap";
      auto src = g.run(g.server_nodes[server]->disk().open(path, {}));
      RC_ASSERT(src.ok());
      // Overwrite the data region with another share's header, so the bytes name `other`.
      Bytes header(kShareHeaderBytes);
      RC_ASSERT(
          g.run((*src)->read_at(storage::kContainerHeaderBytes, MutableByteView(header))).ok());
      for (int i = 0; i < 4; ++i) header[12 + i] = static_cast<std::uint8_t>(other >> (24 - 8 * i));
      RC_ASSERT(g.run((*src)->write_at(storage::kContainerHeaderBytes, header)).is_ok());
      break;
    }
  }
}

struct Setup {
  EncodingParams params;
  std::size_t size = 0;
};

Setup gen_setup() {
  Setup s;
  s.params.total = *rc::gen::inRange<std::uint32_t>(1, 8);
  s.params.needed = *rc::gen::inRange<std::uint32_t>(1, s.params.total + 1);
  s.params.happy = *rc::gen::inRange<std::uint32_t>(1, s.params.total + 1);
  s.params.segment_size = *rc::gen::inRange<std::uint64_t>(500, 5000);
  s.size = *rc::gen::inRange<std::size_t>(0, 20'000);
  return s;
}

// Uploads; returns the cap and, per share number, the server (grid index) holding it.
std::pair<cap::Cap, std::map<std::uint32_t, std::size_t>> upload(Grid& g, const Bytes& plain,
                                                                 const EncodingParams& p) {
  auto up = g.run(g.client->upload(plain, g.refs, p));
  RC_ASSERT(up.ok());
  std::map<std::uint32_t, std::size_t> where;
  if (up->cap.is_literal()) return {up->cap, where};
  const auto& chk = std::get<cap::ChkReadCap>(up->cap.file);
  const crypto::StorageIndex si = crypto::immutable_storage_index(chk.key);
  for (std::size_t s = 0; s < g.server_nodes.size(); ++s) {
    auto files = g.run(g.server_nodes[s]->disk().list(share_dir(si)));
    if (!files.ok()) continue;
    for (const std::string& f : *files) where[static_cast<std::uint32_t>(std::stoul(f))] = s;
  }
  return {up->cap, where};
}

void damage_some(Grid& g, const cap::Cap& cap, const std::map<std::uint32_t, std::size_t>& where,
                 std::size_t how_many, std::uint32_t n) {
  const auto& chk = std::get<cap::ChkReadCap>(cap.file);
  const crypto::StorageIndex si = crypto::immutable_storage_index(chk.key);
  std::vector<std::uint32_t> shares;
  for (const auto& [share, s] : where) shares.push_back(share);
  for (std::size_t j = shares.size(); j > 1; --j) {
    std::swap(shares[j - 1], shares[*rc::gen::inRange<std::size_t>(0, j)]);
  }
  for (std::size_t j = 0; j < how_many && j < shares.size(); ++j) {
    const Damage d =
        *rc::gen::element(Damage::kDelete, Damage::kBitFlip, Damage::kTruncate, Damage::kSwap);
    const std::uint32_t other = (shares[j] + 1) % n;
    damage_share(g, where.at(shares[j]), si, shares[j], other, d);
  }
}

RC_GTEST_PROP(ImmutableClientProperty, UpToNMinusKDamagedSharesStillDownload, ()) {
  const Setup s = gen_setup();
  Grid g(static_cast<int>(s.params.total), *rc::gen::arbitrary<std::uint32_t>());
  const Bytes plain = testing::pattern(s.size, *rc::gen::arbitrary<std::uint32_t>());
  auto [cap, where] = upload(g, plain, s.params);
  if (!cap.is_literal()) {
    RC_ASSERT(where.size() == s.params.total);
    damage_some(g, cap, where,
                *rc::gen::inRange<std::size_t>(0, s.params.total - s.params.needed + 1),
                s.params.total);
  }
  auto down = g.run(g.client->download(cap, g.refs));
  RC_ASSERT(down.ok());
  RC_ASSERT(*down == plain);
}

RC_GTEST_PROP(ImmutableClientProperty, MoreDamageIsAnErrorNeverOtherBytes, ()) {
  const Setup s = gen_setup();
  Grid g(static_cast<int>(s.params.total), *rc::gen::arbitrary<std::uint32_t>());
  const Bytes plain =
      testing::pattern(*rc::gen::inRange<std::size_t>(cap::kMaxLiteralBytes + 1, 20'000),
                       *rc::gen::arbitrary<std::uint32_t>());
  auto [cap, where] = upload(g, plain, s.params);
  RC_ASSERT(where.size() == s.params.total);
  damage_some(
      g, cap, where,
      *rc::gen::inRange<std::size_t>(s.params.total - s.params.needed + 1, s.params.total + 1),
      s.params.total);
  auto down = g.run(g.client->download(cap, g.refs));
  if (down.ok()) {
    RC_ASSERT(*down == plain);
  } else {
    RC_ASSERT(down.status().code() == ErrorCode::kCorruption);
  }
}

}  // namespace
}  // namespace lafs::client
