// RingCache: the spec's ring order whatever the cache holds, and bounded.
#include "core/client/ring_cache.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/crypto/derive.h"
#include "net/sim/sim_random.h"

namespace lafs::client {
namespace {

std::vector<ServerRef> make_servers(sim::SimRandom& rng, std::size_t n) {
  std::vector<ServerRef> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (auto& b : out[i].key) b = static_cast<std::uint8_t>(rng.uniform(256));
    out[i].address = "server-" + std::to_string(i);
  }
  return out;
}

crypto::StorageIndex make_si(sim::SimRandom& rng) {
  crypto::StorageIndex si;
  for (auto& b : si) b = static_cast<std::uint8_t>(rng.uniform(256));
  return si;
}

std::vector<net::PublicKey> keys_of(const std::vector<ServerRef>& servers) {
  std::vector<net::PublicKey> out;
  for (const ServerRef& s : servers) out.push_back(s.key);
  return out;
}

// The ring as the spec states it (docs/specs/placement.md): servers by their whole position,
// then by key; written out here, independent of the code under test.
std::vector<net::PublicKey> reference_ring(const crypto::StorageIndex& si,
                                           const std::vector<ServerRef>& servers) {
  std::vector<std::pair<crypto::Digest, net::PublicKey>> ring;
  for (const ServerRef& s : servers) {
    ring.push_back({crypto::permuted_ring_position(si, server_id(s)), s.key});
  }
  std::sort(ring.begin(), ring.end());
  std::vector<net::PublicKey> out;
  for (const auto& [pos, key] : ring) out.push_back(key);
  return out;
}

TEST(RingCache, PrefixesAreThoseOfTheRingPositions) {
  sim::SimRandom rng(1);
  RingCache cache(8, 64);
  const auto servers = make_servers(rng, 20);
  const auto si = make_si(rng);
  std::vector<crypto::ServerIdView> ids;
  for (const ServerRef& s : servers) ids.push_back(server_id(s));
  const auto positions = crypto::permuted_ring_positions(si, ids);
  for (int pass = 0; pass < 2; ++pass) {  // hashed, then cached
    const auto prefixes = cache.prefixes(si, servers);
    ASSERT_EQ(prefixes.size(), positions.size());
    for (std::size_t i = 0; i < positions.size(); ++i) {
      EXPECT_EQ(prefixes[i], ring_prefix(positions[i]));
      std::uint64_t want = 0;
      for (std::size_t b = 0; b < 8; ++b) want = want * 256 + positions[i][b];
      EXPECT_EQ(prefixes[i], want);
    }
  }
  EXPECT_EQ(cache.positions_hashed(), 20u);
}

// Servers come and go, lists arrive in any order, files are evicted and the server table is
// reset: the order is always the spec's, and servers already seen are not hashed again.
TEST(RingCache, OrderMatchesPermutedServersAsTheGridChanges) {
  sim::SimRandom rng(7);
  RingCache cache(5, 40);
  auto pool = make_servers(rng, 60);
  std::vector<crypto::StorageIndex> sis;
  for (int i = 0; i < 8; ++i) sis.push_back(make_si(rng));
  for (int round = 0; round < 300; ++round) {
    std::vector<ServerRef> servers;
    for (const ServerRef& s : pool) {
      if (rng.uniform(4) != 0) servers.push_back(s);
    }
    for (std::size_t i = servers.size(); i > 1; --i)
      std::swap(servers[i - 1], servers[rng.uniform(i)]);
    const auto& si = sis[rng.uniform(sis.size())];
    ASSERT_EQ(keys_of(cache.order(si, servers)), reference_ring(si, servers)) << "round " << round;
    EXPECT_LE(cache.files(), 5u);
    if (rng.uniform(10) == 0) pool[rng.uniform(pool.size())] = make_servers(rng, 1)[0];
  }
}

// RingOrder sorts only as far as it is read, in any order of reading: always the spec's ring.
TEST(RingCache, RingOrderReadInAnyOrderIsTheRing) {
  sim::SimRandom rng(9);
  RingCache cache(4, 400);
  for (int round = 0; round < 40; ++round) {
    const auto servers = make_servers(rng, 1 + rng.uniform(300));
    const auto si = make_si(rng);
    const auto want = reference_ring(si, servers);
    RingOrder ring(cache, si, servers);
    ASSERT_EQ(ring.size(), servers.size());
    // A few scattered reads first (the front, a jump far out, back), then every position.
    for (int i = 0; i < 5; ++i) {
      const std::size_t at = rng.uniform(servers.size());
      EXPECT_EQ(ring[at].key, want[at]) << "round " << round << " at " << at;
    }
    for (std::size_t i = 0; i < servers.size(); ++i) {
      ASSERT_EQ(ring[i].key, want[i]) << "round " << round << " at " << i;
    }
  }
}

TEST(RingCache, ASecondLookHashesOnlyNewcomers) {
  sim::SimRandom rng(3);
  RingCache cache(16, 1000);
  auto servers = make_servers(rng, 100);
  const auto si = make_si(rng);
  (void)cache.order(si, servers);
  EXPECT_EQ(cache.positions_hashed(), 100u);
  (void)cache.order(si, servers);
  EXPECT_EQ(cache.positions_hashed(), 100u);
  servers.push_back(make_servers(rng, 1)[0]);
  servers.erase(servers.begin());
  (void)cache.order(si, servers);
  EXPECT_EQ(cache.positions_hashed(), 101u);
}

TEST(RingCache, ZeroFilesMeansNoCache) {
  sim::SimRandom rng(5);
  RingCache cache(0, 1000);
  const auto servers = make_servers(rng, 30);
  const auto si = make_si(rng);
  EXPECT_EQ(keys_of(cache.order(si, servers)), reference_ring(si, servers));
  EXPECT_EQ(keys_of(cache.order(si, servers)), reference_ring(si, servers));
  EXPECT_EQ(keys_of(permuted_servers(si, servers)), reference_ring(si, servers));
  EXPECT_EQ(cache.positions_hashed(), 60u);
  EXPECT_EQ(cache.files(), 0u);
}

}  // namespace
}  // namespace lafs::client
