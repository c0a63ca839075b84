// Unit tests of core/client/placement: the permuted ring, servers-of-happiness on the examples
// of Tahoe-LAFS's servers-of-happiness.rst, and hand-made upload plans (fresh grid, too few
// servers, existing shares, read-only and full servers, failures and their messages).
#include "core/client/placement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace lafs::client {
namespace {

ServerId server_id(std::uint8_t tag) {
  ServerId id{};
  id.fill(tag);
  return id;
}

crypto::StorageIndex storage_index(std::uint8_t tag) {
  crypto::StorageIndex si{};
  si.fill(tag);
  si[0] = 0x5a;
  return si;
}

// Servers A, B, C, ... (ids 1, 2, 3, ...) holding the given shares.
std::uint32_t happiness_of(const std::vector<std::vector<ShareNum>>& layout) {
  std::vector<ServerShares> holdings;
  for (std::size_t i = 0; i < layout.size(); ++i) {
    holdings.push_back(ServerShares{server_id(static_cast<std::uint8_t>(i + 1)), layout[i]});
  }
  return servers_of_happiness(holdings);
}

// The ten examples of servers-of-happiness.rst.
TEST(PlacementHappiness, TahoeSpecExamples) {
  EXPECT_EQ(happiness_of({{0}, {1}}), 2u);                         // example 1
  EXPECT_EQ(happiness_of({{0}, {1}, {1}}), 2u);                    // example 2
  EXPECT_EQ(happiness_of({{0}, {1}, {2}}), 3u);                    // example 3
  EXPECT_EQ(happiness_of({{0, 1}, {1, 2}}), 2u);                   // example 4
  EXPECT_EQ(happiness_of({{0, 1}, {1, 2}, {1, 2}}), 3u);           // example 5
  EXPECT_EQ(happiness_of({{0, 1}, {1, 2}, {0, 2}}), 3u);           // example 6
  EXPECT_EQ(happiness_of({{0, 1, 2, 3}}), 1u);                     // example 7
  EXPECT_EQ(happiness_of({{0, 1, 2, 3}, {0}}), 2u);                // example 8
  EXPECT_EQ(happiness_of({{0, 1, 2, 3}, {0, 1, 2, 3}}), 2u);       // example 9
  EXPECT_EQ(happiness_of({{0, 1, 2, 3}, {0, 1, 2, 3}, {0}}), 3u);  // example 10
}

TEST(PlacementHappiness, EmptyAndDuplicates) {
  EXPECT_EQ(happiness_of({}), 0u);
  EXPECT_EQ(happiness_of({{}, {}}), 0u);
  EXPECT_EQ(happiness_of({{3, 3, 3}}), 1u);
  // The same server listed twice is one server.
  std::vector<ServerShares> h = {{server_id(1), {0}}, {server_id(1), {1}}};
  EXPECT_EQ(servers_of_happiness(h), 1u);
  h.push_back({server_id(2), {1}});
  EXPECT_EQ(servers_of_happiness(h), 2u);
}

// Needs an augmenting path: greedy would give server 0 share 0 and leave server 1 stuck.
TEST(PlacementMatching, AugmentsAndPrefersEarlierServers) {
  const std::vector<std::vector<ShareNum>> adj = {{0, 1}, {0}, {0}};
  const Matching m = maximum_matching(adj, 2);
  EXPECT_EQ(m.size, 2u);
  EXPECT_EQ(m.share_of_server[0], 1);
  EXPECT_EQ(m.share_of_server[1], 0);
  EXPECT_EQ(m.share_of_server[2], kUnmatched);  // a later server loses the tie
  EXPECT_EQ(m.server_of_share[0], 1);
  EXPECT_EQ(m.server_of_share[1], 0);
}

TEST(PlacementMatching, FullShareSideStopsEarly) {
  std::vector<std::vector<ShareNum>> adj(3000);
  for (auto& a : adj) {
    for (ShareNum s = 0; s < kShareCountMax; ++s) a.push_back(s);
  }
  const Matching m = maximum_matching(adj, kShareCountMax);
  EXPECT_EQ(m.size, kShareCountMax);
  for (std::size_t i = 0; i < kShareCountMax; ++i) EXPECT_NE(m.share_of_server[i], kUnmatched);
  EXPECT_EQ(m.share_of_server[kShareCountMax], kUnmatched);
}

TEST(PlacementRing, OrderIsByPermutedPositionAndDependsOnStorageIndex) {
  std::vector<ServerId> ids;
  for (std::uint8_t i = 1; i <= 20; ++i) ids.push_back(server_id(i));
  const auto si = storage_index(7);
  const auto ring = permuted_ring(si, ids);
  ASSERT_EQ(ring.size(), ids.size());
  for (std::size_t i = 1; i < ring.size(); ++i) {
    EXPECT_LT(crypto::permuted_ring_position(si, ring[i - 1]),
              crypto::permuted_ring_position(si, ring[i]));
  }
  EXPECT_EQ(std::set<ServerId>(ring.begin(), ring.end()),
            std::set<ServerId>(ids.begin(), ids.end()));
  // Input order does not matter; another file gets another order.
  std::vector<ServerId> reversed(ids.rbegin(), ids.rend());
  EXPECT_EQ(permuted_ring(si, reversed), ring);
  EXPECT_NE(permuted_ring(storage_index(8), ids), ring);
}

TEST(PlacementRing, WritableRingSkipsReadOnlyAndFull) {
  std::vector<ServerInfo> servers;
  for (std::uint8_t i = 1; i <= 6; ++i) servers.push_back({server_id(i), false, 1000});
  servers[1].read_only = true;
  servers[2].available_space_bytes = 999;   // one byte short
  servers[3].available_space_bytes = 1000;  // exactly enough
  const auto si = storage_index(1);
  const auto ring = writable_ring(si, servers, 1000);
  std::vector<ServerId> all;
  for (const auto& s : servers) all.push_back(s.id);
  std::vector<ServerId> expected;
  for (const ServerId& id : permuted_ring(si, all)) {
    if (id != server_id(2) && id != server_id(3)) expected.push_back(id);
  }
  ASSERT_EQ(ring.size(), expected.size());
  for (std::size_t i = 0; i < ring.size(); ++i) EXPECT_EQ(ring[i].id, expected[i]);
}

PlacementParams params(std::uint32_t k, std::uint32_t happy, std::uint32_t n) {
  return PlacementParams{k, happy, n, 1000, default_new_shares_per_server_max(n, happy)};
}

std::vector<ServerState> fresh_servers(std::size_t count, std::uint64_t space = 1'000'000) {
  std::vector<ServerState> out;
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(ServerState{server_id(static_cast<std::uint8_t>(i + 1)), false, space, {}});
  }
  return out;
}

std::map<std::size_t, std::vector<ShareNum>> uploads_by_server(const PlacementPlan& plan) {
  std::map<std::size_t, std::vector<ShareNum>> out;
  for (const auto& u : plan.uploads) out[u.server_index].push_back(u.share);
  return out;
}

TEST(PlacementPlanner, FreshGridOneSharePerServerInRingOrder) {
  const auto servers = fresh_servers(15);
  const auto plan = plan_placement(params(3, 7, 10), servers);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_EQ(plan->happiness, 10u);
  ASSERT_EQ(plan->uploads.size(), 10u);
  for (std::size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(plan->uploads[i].server_index, i);  // the first ten of the ring
    EXPECT_EQ(plan->uploads[i].share, i);
    EXPECT_EQ(plan->uploads[i].server, servers[i].id);
  }
  EXPECT_EQ(plan->matching.size(), 10u);
  EXPECT_TRUE(plan->unplaced.empty());
}

TEST(PlacementPlanner, FewerServersThanSharesSpreadsEvenly) {
  const auto plan = plan_placement(params(3, 7, 10), fresh_servers(7));
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_EQ(plan->happiness, 7u);
  EXPECT_EQ(plan->uploads.size(), 10u);
  std::multiset<std::size_t> loads;
  std::set<ShareNum> shares;
  for (const auto& [server, s] : uploads_by_server(*plan)) {
    loads.insert(s.size());
    shares.insert(s.begin(), s.end());
  }
  EXPECT_EQ(loads, (std::multiset<std::size_t>{1, 1, 1, 1, 2, 2, 2}));
  EXPECT_EQ(shares.size(), 10u);
}

TEST(PlacementPlanner, TooFewServersFailsWithCounts) {
  const auto plan = plan_placement(params(3, 7, 10), fresh_servers(5));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), ErrorCode::kUnavailable);
  const std::string msg = plan.status().message();
  EXPECT_NE(msg.find("found 5 servers"), std::string::npos) << msg;
  EXPECT_NE(msg.find("distinct shares on only 5 servers"), std::string::npos) << msg;
  EXPECT_NE(msg.find("but 7 are needed"), std::string::npos) << msg;
  EXPECT_NE(msg.find("any 3 of them"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2 more writable servers"), std::string::npos) << msg;
}

TEST(PlacementPlanner, NoServersFails) {
  const auto plan = plan_placement(params(1, 1, 1), {});
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("found 0 servers"), std::string::npos);
}

TEST(PlacementPlanner, ExistingSharesAreNotUploadedAgain) {
  auto servers = fresh_servers(12);
  for (ShareNum s = 0; s < 10; ++s) servers[s + 2].existing_shares = {s};
  const auto plan = plan_placement(params(3, 7, 10), servers);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_EQ(plan->happiness, 10u);
  EXPECT_TRUE(plan->uploads.empty());
}

TEST(PlacementPlanner, PartialExistingSharesFillTheGaps) {
  auto servers = fresh_servers(10);
  servers[0].existing_shares = {0, 1, 2};  // a previous upload piled shares on one server
  servers[1].existing_shares = {1};
  const auto plan = plan_placement(params(3, 7, 10), servers);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_EQ(plan->happiness, 10u);
  // Servers 0 and 1 count for shares 0 and 1 and get nothing new; the eight empty servers
  // take the seven missing shares 3..9 first (ring order), and the last one a second copy of
  // share 2, whose only holder already counts for share 0.
  const auto by_server = uploads_by_server(*plan);
  EXPECT_EQ(by_server.count(0), 0u);
  EXPECT_EQ(by_server.count(1), 0u);
  for (std::size_t i = 2; i < 9; ++i) {
    EXPECT_EQ(by_server.at(i), std::vector<ShareNum>{static_cast<ShareNum>(i + 1)});
  }
  EXPECT_EQ(by_server.at(9), std::vector<ShareNum>{2});
}

// Tahoe's rationale for matching read-only servers first: rely on the read-only server's copy
// of share 0 so that the writable server holding another copy is free for a new share.
TEST(PlacementPlanner, ReadOnlyCopiesAreReliedOnFirst) {
  std::vector<ServerState> servers = {
      {server_id(1), false, 1'000'000, {0}},  // writable, earlier in the ring
      {server_id(2), true, 0, {0}},           // read-only
  };
  PlacementParams p{1, 2, 2, 1000, 1};
  const auto plan = plan_placement(p, servers);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_EQ(plan->happiness, 2u);
  ASSERT_EQ(plan->uploads.size(), 1u);
  EXPECT_EQ(plan->uploads[0].server_index, 0u);
  EXPECT_EQ(plan->uploads[0].share, 1u);
}

// Tahoe's staging may match the read-only server to share 0 and then upload a new share to the
// writable one; an augmenting path finds that the existing shares already give happiness 2.
TEST(PlacementPlanner, AugmentingAvoidsNeedlessUploads) {
  std::vector<ServerState> servers = {
      {server_id(1), false, 1'000'000, {0}},
      {server_id(2), true, 0, {0, 1}},
  };
  const auto plan = plan_placement(PlacementParams{1, 2, 2, 1000, 1}, servers);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_EQ(plan->happiness, 2u);
  EXPECT_TRUE(plan->uploads.empty());
  ASSERT_EQ(plan->matching.size(), 2u);
  EXPECT_EQ(plan->matching[0].server_index, 0u);  // share 0 on the writable server
  EXPECT_EQ(plan->matching[1].server_index, 1u);  // share 1 on the read-only one
}

TEST(PlacementPlanner, ReadOnlyAndFullServersGetNothing) {
  auto servers = fresh_servers(6);
  servers[0].read_only = true;
  servers[1].available_space_bytes = 999;
  const auto plan = plan_placement(PlacementParams{2, 4, 4, 1000, 1}, servers);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_EQ(plan->happiness, 4u);
  for (const auto& u : plan->uploads) EXPECT_GE(u.server_index, 2u);
}

TEST(PlacementPlanner, ConcentratedSharesOnReadOnlyServerFails) {
  auto servers = fresh_servers(8, 0);  // all full
  servers[0].read_only = true;
  servers[0].existing_shares = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  for (std::size_t i = 1; i < 8; ++i) servers[i].existing_shares = {0};
  const auto plan = plan_placement(params(3, 7, 10), servers);
  ASSERT_FALSE(plan.ok());
  const std::string msg = plan.status().message();
  EXPECT_NE(msg.find("found 8 servers, 8 of them holding"), std::string::npos) << msg;
  EXPECT_NE(msg.find("only 2 servers"), std::string::npos) << msg;
  EXPECT_NE(msg.find("read-only or full"), std::string::npos) << msg;
}

TEST(PlacementPlanner, SharesWithNoRoomAreReportedUnplaced) {
  auto servers = fresh_servers(3, 1000);  // room for exactly one share each
  const auto plan = plan_placement(PlacementParams{2, 3, 5, 1000, 2}, servers);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_EQ(plan->happiness, 3u);
  EXPECT_EQ(plan->uploads.size(), 3u);
  EXPECT_EQ(plan->unplaced, (std::vector<ShareNum>{3, 4}));
}

TEST(PlacementPlanner, PerServerBoundLimitsNewShares) {
  const auto plan = plan_placement(PlacementParams{2, 2, 6, 1000, 2}, fresh_servers(2));
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  for (const auto& [server, shares] : uploads_by_server(*plan)) EXPECT_EQ(shares.size(), 2u);
  EXPECT_EQ(plan->unplaced.size(), 2u);
}

TEST(PlacementPlanner, RejectsMalformedInput) {
  auto servers = fresh_servers(3);
  EXPECT_EQ(plan_placement(params(4, 3, 3), servers).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(plan_placement(PlacementParams{1, 4, 3, 1000, 1}, servers).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(plan_placement(PlacementParams{1, 1, 257, 1000, 1}, servers).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(plan_placement(PlacementParams{1, 1, 3, 0, 1}, servers).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(plan_placement(PlacementParams{1, 1, 3, 1000, 0}, servers).status().code(),
            ErrorCode::kInvalidArgument);
  auto bad_share = servers;
  bad_share[1].existing_shares = {3};
  EXPECT_EQ(plan_placement(params(1, 1, 3), bad_share).status().code(),
            ErrorCode::kInvalidArgument);
  auto duplicate = servers;
  duplicate[2].id = duplicate[0].id;
  EXPECT_EQ(plan_placement(params(1, 1, 3), duplicate).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(PlacementPlanner, LargeGridIsQuick) {
  std::vector<ServerState> servers;
  for (std::uint32_t i = 0; i < 4000; ++i) {
    ServerId id{};
    id[0] = static_cast<std::uint8_t>(i);
    id[1] = static_cast<std::uint8_t>(i >> 8);
    // Every fourth server is read-only and holds a few shares; the rest are writable.
    std::vector<ShareNum> existing;
    if (i % 4 == 0) existing = {i % 256, (i * 7) % 256};
    servers.push_back(ServerState{id, i % 4 == 0, 10'000'000, existing});
  }
  const auto plan = plan_placement(PlacementParams{100, 200, 256, 1000, 2}, servers);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_EQ(plan->happiness, 256u);
}

TEST(PlacementPlanner, DefaultBound) {
  EXPECT_EQ(default_new_shares_per_server_max(10, 7), 2u);
  EXPECT_EQ(default_new_shares_per_server_max(10, 10), 1u);
  EXPECT_EQ(default_new_shares_per_server_max(10, 1), 10u);
}

}  // namespace
}  // namespace lafs::client
