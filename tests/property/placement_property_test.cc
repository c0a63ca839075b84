// Property tests of core/client/placement against brute force on small instances: the matching
// is maximum and prefers earlier servers; the planner reaches the best happiness any upload
// could reach (and fails exactly when that is below `happy`); its plans respect read-only and
// full servers and the per-server bound, never duplicate a share on a server, and repeat
// exactly for the same input; the ring is a sorted permutation.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "core/client/placement.h"

namespace lafs::client {
namespace {

using Adjacency = std::vector<std::vector<ShareNum>>;

// Exhaustive maximum matching: every server either skips or takes a free neighbour.
std::uint32_t brute_matching(const Adjacency& adj, std::size_t server, std::uint32_t used_mask) {
  if (server == adj.size()) return 0;
  std::uint32_t best = brute_matching(adj, server + 1, used_mask);
  for (ShareNum s : adj[server]) {
    if (used_mask & (1u << s)) continue;
    best = std::max(best, 1 + brute_matching(adj, server + 1, used_mask | (1u << s)));
  }
  return best;
}

Adjacency gen_adjacency(std::size_t servers_max, std::uint32_t share_count) {
  const auto servers = *rc::gen::inRange<std::size_t>(0, servers_max + 1);
  Adjacency adj(servers);
  for (auto& a : adj) {
    const auto mask = *rc::gen::inRange<std::uint32_t>(0, 1u << share_count);
    for (ShareNum s = 0; s < share_count; ++s) {
      if (mask & (1u << s)) a.push_back(s);
    }
  }
  return adj;
}

RC_GTEST_PROP(PlacementMatchingProperty, MaximumValidAndPrefersEarlierServers, ()) {
  const auto share_count = *rc::gen::inRange<std::uint32_t>(1, 7);
  const Adjacency adj = gen_adjacency(7, share_count);
  const Matching m = maximum_matching(adj, share_count);
  RC_ASSERT(m.size == brute_matching(adj, 0, 0));
  std::uint32_t pairs = 0;
  for (std::size_t server = 0; server < adj.size(); ++server) {
    const std::int32_t share = m.share_of_server[server];
    if (share == kUnmatched) continue;
    ++pairs;
    RC_ASSERT(std::count(adj[server].begin(), adj[server].end(), share) > 0);
    RC_ASSERT(m.server_of_share[static_cast<std::size_t>(share)] ==
              static_cast<std::int32_t>(server));
  }
  RC_ASSERT(pairs == m.size);
  // Earlier servers preferred: every prefix of the servers is matched as much as it can be.
  for (std::size_t prefix = 1; prefix <= adj.size(); ++prefix) {
    const Adjacency head(adj.begin(), adj.begin() + static_cast<std::ptrdiff_t>(prefix));
    const auto matched_in_prefix = static_cast<std::uint32_t>(std::count_if(
        m.share_of_server.begin(), m.share_of_server.begin() + static_cast<std::ptrdiff_t>(prefix),
        [](std::int32_t s) { return s != kUnmatched; }));
    RC_ASSERT(matched_in_prefix == brute_matching(head, 0, 0));
  }
}

constexpr std::uint64_t kShareSize = 1000;

struct Instance {
  PlacementParams params;
  std::vector<ServerState> servers;
};

Instance gen_instance(std::size_t servers_max, std::uint32_t n_max) {
  Instance in;
  const auto n = *rc::gen::inRange<std::uint32_t>(1, n_max + 1);
  in.params.n = n;
  in.params.k = *rc::gen::inRange<std::uint32_t>(1, n + 1);
  in.params.happy = *rc::gen::inRange<std::uint32_t>(1, n + 1);
  in.params.share_size_bytes = kShareSize;
  in.params.new_shares_per_server_max = *rc::gen::inRange<std::uint32_t>(1, 4);
  const auto count = *rc::gen::inRange<std::size_t>(0, servers_max + 1);
  for (std::size_t i = 0; i < count; ++i) {
    ServerState s;
    s.id.fill(static_cast<std::uint8_t>(i * 37 + 1));
    s.id[0] = static_cast<std::uint8_t>(i >> 8);
    s.read_only = *rc::gen::weightedElement<bool>({{1, true}, {3, false}});
    s.available_space_bytes =
        *rc::gen::elementOf(std::vector<std::uint64_t>{0, 999, 1000, 1500, 2000, 5000, 1'000'000});
    for (ShareNum share = 0; share < n; ++share) {
      if (*rc::gen::weightedElement<bool>({{1, true}, {2, false}})) {
        s.existing_shares.push_back(share);
      }
    }
    in.servers.push_back(std::move(s));
  }
  return in;
}

std::uint32_t room_of(const PlacementParams& p, const ServerState& s) {
  if (s.read_only) return 0;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(
      s.available_space_bytes / p.share_size_bytes, p.new_shares_per_server_max));
}

// The best happiness of any upload: one new edge per open server is all a matching can use,
// so try every choice of (no share | one share) for every open server.
std::uint32_t brute_best(const Instance& in, std::size_t server, Adjacency& adj) {
  if (server == in.servers.size()) return brute_matching(adj, 0, 0);
  std::uint32_t best = brute_best(in, server + 1, adj);
  if (room_of(in.params, in.servers[server]) == 0) return best;
  for (ShareNum s = 0; s < in.params.n; ++s) {
    adj[server].push_back(s);
    best = std::max(best, brute_best(in, server + 1, adj));
    adj[server].pop_back();
  }
  return best;
}

void check_plan_invariants(const Instance& in, const PlacementPlan& plan) {
  const auto& servers = in.servers;
  std::vector<std::vector<ShareNum>> after(servers.size());
  std::vector<std::uint32_t> new_count(servers.size(), 0);
  for (std::size_t i = 0; i < servers.size(); ++i) after[i] = servers[i].existing_shares;
  for (const SharePlacement& u : plan.uploads) {
    RC_ASSERT(u.server_index < servers.size());
    RC_ASSERT(u.share < in.params.n);
    RC_ASSERT(u.server == servers[u.server_index].id);
    RC_ASSERT(!servers[u.server_index].read_only);
    auto& held = after[u.server_index];
    RC_ASSERT(std::count(held.begin(), held.end(), u.share) == 0);  // once per server
    held.push_back(u.share);
    ++new_count[u.server_index];
  }
  for (std::size_t i = 0; i < servers.size(); ++i) {
    RC_ASSERT(new_count[i] <= room_of(in.params, servers[i]));  // read-only/full get none
  }
  // The matching is a set of distinct (server, share) pairs present in the final layout.
  RC_ASSERT(plan.matching.size() == plan.happiness);
  std::set<std::size_t> matched_servers;
  std::set<ShareNum> matched_shares;
  for (const SharePlacement& m : plan.matching) {
    const auto& held = after[m.server_index];
    RC_ASSERT(std::count(held.begin(), held.end(), m.share) == 1);
    matched_servers.insert(m.server_index);
    matched_shares.insert(m.share);
  }
  RC_ASSERT(matched_servers.size() == plan.happiness);
  RC_ASSERT(matched_shares.size() == plan.happiness);
  // Every share is held somewhere afterwards or reported unplaced, never both.
  for (ShareNum share = 0; share < in.params.n; ++share) {
    const bool held = std::any_of(after.begin(), after.end(), [&](const auto& h) {
      return std::count(h.begin(), h.end(), share) > 0;
    });
    const bool unplaced = std::count(plan.unplaced.begin(), plan.unplaced.end(), share) > 0;
    RC_ASSERT(held != unplaced);
  }
}

RC_GTEST_PROP(PlacementPlannerProperty, ReachesBestHappinessOrFails, ()) {
  const Instance in = gen_instance(5, 4);
  Adjacency adj;
  for (const auto& s : in.servers) adj.push_back(s.existing_shares);
  const std::uint32_t best = brute_best(in, 0, adj);
  const auto plan = plan_placement(in.params, in.servers);
  if (best >= in.params.happy) {
    RC_ASSERT(plan.ok());
    RC_ASSERT(plan->happiness == best);
    check_plan_invariants(in, *plan);
  } else {
    RC_ASSERT(!plan.ok());
    RC_ASSERT(plan.status().code() == ErrorCode::kUnavailable);
  }
}

bool same_plan(const PlacementPlan& a, const PlacementPlan& b) {
  auto key = [](const std::vector<SharePlacement>& v) {
    std::vector<std::pair<std::size_t, ShareNum>> out;
    for (const auto& p : v) out.emplace_back(p.server_index, p.share);
    return out;
  };
  return a.happiness == b.happiness && key(a.uploads) == key(b.uploads) &&
         key(a.matching) == key(b.matching) && a.unplaced == b.unplaced;
}

RC_GTEST_PROP(PlacementPlannerProperty, LargerInstancesKeepInvariantsAndRepeat, ()) {
  const Instance in = gen_instance(60, 40);
  const auto first = plan_placement(in.params, in.servers);
  const auto second = plan_placement(in.params, in.servers);
  RC_ASSERT(first.ok() == second.ok());
  if (!first.ok()) {
    RC_ASSERT(first.status() == second.status());
    return;
  }
  RC_ASSERT(same_plan(*first, *second));
  RC_ASSERT(first->happiness >= in.params.happy);
  check_plan_invariants(in, *first);
}

RC_GTEST_PROP(PlacementRingProperty, SortedPermutationAndWritableSubsequence, ()) {
  crypto::StorageIndex si{};
  for (auto& b : si) b = *rc::gen::arbitrary<std::uint8_t>();
  const Instance in = gen_instance(40, 1);
  std::vector<ServerId> ids;
  std::vector<ServerInfo> infos;
  for (const auto& s : in.servers) {
    ids.push_back(s.id);
    infos.push_back(ServerInfo{s.id, s.read_only, s.available_space_bytes});
  }
  const auto ring = permuted_ring(si, ids);
  RC_ASSERT(std::set<ServerId>(ring.begin(), ring.end()) ==
            std::set<ServerId>(ids.begin(), ids.end()));
  for (std::size_t i = 1; i < ring.size(); ++i) {
    RC_ASSERT(crypto::permuted_ring_position(si, ring[i - 1]) <
              crypto::permuted_ring_position(si, ring[i]));
  }
  const auto writable = writable_ring(si, infos, kShareSize);
  std::size_t next = 0;
  for (const ServerId& id : ring) {
    const auto it =
        std::find_if(infos.begin(), infos.end(), [&](const ServerInfo& s) { return s.id == id; });
    if (it->read_only || it->available_space_bytes < kShareSize) continue;
    RC_ASSERT(next < writable.size());
    RC_ASSERT(writable[next++].id == id);
  }
  RC_ASSERT(next == writable.size());
}

}  // namespace
}  // namespace lafs::client
