// Share placement: the permuted ring, maximum matching, and the upload planner. Why the
// planner's staging gives the best reachable happiness is argued in docs/specs/placement.md.
#include "core/client/placement.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "core/runtime/assert.h"

namespace lafs::client {
namespace {

struct RingEntry {
  crypto::Digest position;
  ServerId id;
  std::size_t index;  // into the caller's list
};

// Indices of `ids` in ring order.
template <typename IdOf>
std::vector<std::size_t> ring_order(const crypto::StorageIndex& si, std::size_t count, IdOf id_of) {
  std::vector<RingEntry> ring;
  ring.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const ServerId& id = id_of(i);
    ring.push_back(RingEntry{crypto::permuted_ring_position(si, id), id, i});
  }
  std::sort(ring.begin(), ring.end(), [](const RingEntry& a, const RingEntry& b) {
    if (a.position != b.position) return a.position < b.position;
    return a.id < b.id;
  });
  std::vector<std::size_t> order;
  order.reserve(count);
  for (std::size_t i = 0; i < ring.size(); ++i) {
    // Equal ids hash to equal positions, so duplicates would sit side by side.
    LAFS_ASSERT_MSG(i == 0 || ring[i - 1].id != ring[i].id, "duplicate server id in ring");
    order.push_back(ring[i].index);
  }
  return order;
}

// Kuhn's augmenting-path search from one server. `visited` marks shares whose alternating
// paths are known dead since the last augmentation (a failed search leaves them dead: no
// augmentation happened, so nothing behind them changed). Depth <= matched pairs + 1 <= 257.
bool augment(std::size_t server, std::span<const std::vector<ShareNum>> adjacency, Matching& m,
             std::vector<bool>& visited) {
  for (ShareNum share : adjacency[server]) {
    if (visited[share]) continue;
    visited[share] = true;
    const std::int32_t holder = m.server_of_share[share];
    if (holder == kUnmatched || augment(static_cast<std::size_t>(holder), adjacency, m, visited)) {
      m.server_of_share[share] = static_cast<std::int32_t>(server);
      m.share_of_server[server] = static_cast<std::int32_t>(share);
      return true;
    }
  }
  return false;
}

// A free share next to `server`, if any: the cheap first try before a full search.
std::int32_t free_neighbour(std::size_t server, std::span<const std::vector<ShareNum>> adjacency,
                            const Matching& m) {
  for (ShareNum share : adjacency[server]) {
    if (m.server_of_share[share] == kUnmatched) return static_cast<std::int32_t>(share);
  }
  return kUnmatched;
}

std::vector<ShareNum> sorted_unique(std::vector<ShareNum> shares) {
  std::sort(shares.begin(), shares.end());
  shares.erase(std::unique(shares.begin(), shares.end()), shares.end());
  return shares;
}

}  // namespace

std::vector<ServerId> permuted_ring(const crypto::StorageIndex& si, std::span<const ServerId> ids) {
  const auto order =
      ring_order(si, ids.size(), [&](std::size_t i) -> const ServerId& { return ids[i]; });
  std::vector<ServerId> out;
  out.reserve(order.size());
  for (std::size_t i : order) out.push_back(ids[i]);
  return out;
}

std::vector<ServerInfo> writable_ring(const crypto::StorageIndex& si,
                                      std::span<const ServerInfo> servers,
                                      std::uint64_t share_size_bytes) {
  const auto order = ring_order(si, servers.size(),
                                [&](std::size_t i) -> const ServerId& { return servers[i].id; });
  std::vector<ServerInfo> out;
  for (std::size_t i : order) {
    const ServerInfo& s = servers[i];
    if (s.read_only || s.available_space_bytes < share_size_bytes) continue;
    out.push_back(s);
  }
  return out;
}

Matching maximum_matching(std::span<const std::vector<ShareNum>> adjacency,
                          std::uint32_t share_count) {
  LAFS_ASSERT(share_count <= kShareCountMax);
  Matching m;
  m.share_of_server.assign(adjacency.size(), kUnmatched);
  m.server_of_share.assign(share_count, kUnmatched);
  std::vector<bool> visited(share_count, false);
  for (std::size_t server = 0; server < adjacency.size(); ++server) {
    for (ShareNum share : adjacency[server]) LAFS_ASSERT(share < share_count);
    if (m.size == share_count) break;  // every share matched: no later server can add one
    const std::int32_t free_share = free_neighbour(server, adjacency, m);
    if (free_share != kUnmatched) {
      m.server_of_share[static_cast<std::size_t>(free_share)] = static_cast<std::int32_t>(server);
      m.share_of_server[server] = free_share;
    } else if (!augment(server, adjacency, m, visited)) {
      continue;  // `visited` stays valid for the next server
    }
    ++m.size;
    std::fill(visited.begin(), visited.end(), false);
  }
  LAFS_ASSERT(m.size <= share_count && m.size <= adjacency.size());
  return m;
}

std::uint32_t servers_of_happiness(std::span<const ServerShares> holdings) {
  std::map<ServerId, std::size_t> index_of;
  std::vector<std::vector<ShareNum>> adjacency;
  for (const ServerShares& h : holdings) {
    if (h.shares.empty()) continue;  // no edge: cannot add to a matching
    const auto [it, inserted] = index_of.try_emplace(h.server, adjacency.size());
    if (inserted) adjacency.emplace_back();
    auto& shares = adjacency[it->second];
    for (ShareNum share : h.shares) {
      LAFS_ASSERT(share < kShareCountMax);
      shares.push_back(share);
    }
  }
  for (auto& shares : adjacency) shares = sorted_unique(std::move(shares));
  return maximum_matching(adjacency, kShareCountMax).size;
}

std::uint32_t default_new_shares_per_server_max(std::uint32_t n, std::uint32_t happy) {
  LAFS_ASSERT(happy >= 1);
  return (n + happy - 1) / happy;
}

namespace {

Status validate(const PlacementParams& p, std::span<const ServerState> servers) {
  if (p.n < 1 || p.n > kShareCountMax) {
    return invalid_argument("placement: n=" + std::to_string(p.n) + " is not in 1.." +
                            std::to_string(kShareCountMax));
  }
  if (p.k < 1 || p.k > p.n) {
    return invalid_argument("placement: k=" + std::to_string(p.k) +
                            " is not in 1..n=" + std::to_string(p.n));
  }
  if (p.happy < 1 || p.happy > p.n) {
    return invalid_argument("placement: happy=" + std::to_string(p.happy) +
                            " is not in 1..n=" + std::to_string(p.n));
  }
  if (p.share_size_bytes == 0) return invalid_argument("placement: share size is 0");
  if (p.new_shares_per_server_max < 1) {
    return invalid_argument("placement: new_shares_per_server_max is 0");
  }
  if (servers.size() > kServersMax) {
    return invalid_argument("placement: " + std::to_string(servers.size()) +
                            " servers, more than the limit " + std::to_string(kServersMax));
  }
  std::vector<ServerId> ids;
  ids.reserve(servers.size());
  for (std::size_t i = 0; i < servers.size(); ++i) {
    ids.push_back(servers[i].id);
    for (ShareNum share : servers[i].existing_shares) {
      if (share >= p.n) {
        return invalid_argument("placement: server #" + std::to_string(i) + " holds share " +
                                std::to_string(share) + " but n=" + std::to_string(p.n));
      }
    }
  }
  std::sort(ids.begin(), ids.end());
  if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) {
    return invalid_argument("placement: the same server id appears twice");
  }
  return Status{};
}

// The planner's view of one server.
struct Candidate {
  std::vector<ShareNum> existing;  // sorted, unique
  std::uint32_t room = 0;          // new shares it may still take in this plan
  std::uint32_t load = 0;          // shares it holds or will hold
};

struct PlanState {
  std::vector<Candidate> candidates;          // per server, caller's (ring) order
  std::vector<std::uint32_t> holder_count;    // per share: servers holding or getting it
  std::vector<std::int32_t> server_of_share;  // the happiness matching, per share
  std::vector<std::pair<std::size_t, ShareNum>> uploads;  // (server, share)
  std::uint32_t happiness = 0;
};

PlanState initial_state(const PlacementParams& p, std::span<const ServerState> servers) {
  PlanState st;
  st.holder_count.assign(p.n, 0);
  st.server_of_share.assign(p.n, kUnmatched);
  st.candidates.reserve(servers.size());
  for (const ServerState& s : servers) {
    Candidate c;
    c.existing = sorted_unique(s.existing_shares);
    if (!s.read_only) {
      const std::uint64_t fits = s.available_space_bytes / p.share_size_bytes;
      c.room =
          static_cast<std::uint32_t>(std::min<std::uint64_t>(fits, p.new_shares_per_server_max));
    }
    c.load = static_cast<std::uint32_t>(c.existing.size());
    for (ShareNum share : c.existing) ++st.holder_count[share];
    st.candidates.push_back(std::move(c));
  }
  return st;
}

// Step 1: a maximum matching over existing shares only, trying servers that cannot take new
// shares (read-only, full) first, then open ones, each group in ring order. Greedy over the
// matchable server sets, this covers as many closed servers as any maximum matching can, which
// leaves the most open servers free for step 2 (the argument is in docs/specs/placement.md).
void match_existing(const PlacementParams& p, PlanState& st) {
  std::vector<std::size_t> order;
  for (int open = 0; open < 2; ++open) {
    for (std::size_t i = 0; i < st.candidates.size(); ++i) {
      if ((st.candidates[i].room > 0) == (open == 1)) order.push_back(i);
    }
  }
  std::vector<std::vector<ShareNum>> adjacency;
  adjacency.reserve(order.size());
  for (std::size_t i : order) adjacency.push_back(st.candidates[i].existing);
  const Matching m = maximum_matching(adjacency, p.n);
  for (ShareNum share = 0; share < p.n; ++share) {
    const std::int32_t pos = m.server_of_share[share];
    if (pos == kUnmatched) continue;
    st.server_of_share[share] = static_cast<std::int32_t>(order[static_cast<std::size_t>(pos)]);
  }
  st.happiness = m.size;
}

void add_upload(PlanState& st, std::size_t server, ShareNum share) {
  Candidate& c = st.candidates[server];
  LAFS_ASSERT(c.room > 0);
  LAFS_ASSERT(!std::binary_search(c.existing.begin(), c.existing.end(), share));
  --c.room;
  ++c.load;
  ++st.holder_count[share];
  st.uploads.emplace_back(server, share);
}

// Step 2: every open server left unmatched gets one share nobody is matched to: first the
// shares no server holds, then extra copies of held ones. Each such pair adds one to happiness.
void match_new(const PlacementParams& p, PlanState& st) {
  std::vector<ShareNum> free_shares;
  for (int held = 0; held < 2; ++held) {
    for (ShareNum share = 0; share < p.n; ++share) {
      if (st.server_of_share[share] != kUnmatched) continue;
      if ((st.holder_count[share] > 0) == (held == 1)) free_shares.push_back(share);
    }
  }
  std::vector<bool> matched(st.candidates.size(), false);
  for (std::int32_t server : st.server_of_share) {
    if (server != kUnmatched) matched[static_cast<std::size_t>(server)] = true;
  }
  std::size_t next = 0;
  for (std::size_t i = 0; i < st.candidates.size() && next < free_shares.size(); ++i) {
    if (matched[i] || st.candidates[i].room == 0) continue;
    const ShareNum share = free_shares[next++];
    add_upload(st, i, share);
    st.server_of_share[share] = static_cast<std::int32_t>(i);
    ++st.happiness;
  }
}

// Step 3: shares still held by no one go to the least loaded open server with room (ties to
// the earlier one), so that every share exists somewhere; they do not change happiness.
void spread_homeless(const PlacementParams& p, PlanState& st, std::vector<ShareNum>& unplaced) {
  for (ShareNum share = 0; share < p.n; ++share) {
    if (st.holder_count[share] > 0) continue;
    std::size_t best = st.candidates.size();
    for (std::size_t i = 0; i < st.candidates.size(); ++i) {
      const Candidate& c = st.candidates[i];
      if (c.room == 0) continue;
      if (best == st.candidates.size() || c.load < st.candidates[best].load) best = i;
    }
    if (best == st.candidates.size()) {
      unplaced.push_back(share);
      continue;
    }
    add_upload(st, best, share);
  }
}

Status unhappy(const PlacementParams& p, std::span<const ServerState> servers,
               const PlanState& st) {
  std::size_t open = 0;
  std::size_t usable = 0;
  for (const Candidate& c : st.candidates) {
    if (c.room > 0) ++open;
    if (c.room > 0 || !c.existing.empty()) ++usable;
  }
  std::string msg =
      "upload cannot reach happiness " + std::to_string(p.happy) + " (k=" + std::to_string(p.k) +
      ", n=" + std::to_string(p.n) + "): found " + std::to_string(servers.size()) + " servers, " +
      std::to_string(usable) +
      " of them holding a share of this file or with room for a new one (" + std::to_string(open) +
      " writable with room for a " + std::to_string(p.share_size_bytes) +
      "-byte share); the best layout puts distinct shares on only " + std::to_string(st.happiness) +
      " servers, but " + std::to_string(p.happy) + " are needed so that any " +
      std::to_string(p.k) + " of them can rebuild the file";
  if (usable < p.happy) {
    msg += "; " + std::to_string(p.happy - usable) + " more writable servers with room needed";
  } else {
    msg +=
        "; the servers holding shares hold the same few shares and the rest are read-only "
        "or full";
  }
  return unavailable(std::move(msg));
}

// The happiness of the planned layout, computed from scratch: the postcondition check.
std::uint32_t layout_happiness(std::span<const ServerState> servers, const PlanState& st) {
  std::vector<ServerShares> holdings(servers.size());
  for (std::size_t i = 0; i < servers.size(); ++i) {
    holdings[i].server = servers[i].id;
    holdings[i].shares = st.candidates[i].existing;
  }
  for (const auto& [server, share] : st.uploads) holdings[server].shares.push_back(share);
  return servers_of_happiness(holdings);
}

PlacementPlan make_plan(std::span<const ServerState> servers, PlanState& st,
                        std::vector<ShareNum> unplaced) {
  PlacementPlan plan;
  plan.happiness = st.happiness;
  plan.unplaced = std::move(unplaced);
  std::sort(st.uploads.begin(), st.uploads.end());
  for (const auto& [server, share] : st.uploads) {
    plan.uploads.push_back(SharePlacement{share, server, servers[server].id});
  }
  for (ShareNum share = 0; share < st.server_of_share.size(); ++share) {
    const std::int32_t server = st.server_of_share[share];
    if (server == kUnmatched) continue;
    const auto s = static_cast<std::size_t>(server);
    plan.matching.push_back(SharePlacement{share, s, servers[s].id});
  }
  LAFS_ASSERT(plan.matching.size() == plan.happiness);
  return plan;
}

}  // namespace

Result<PlacementPlan> plan_placement(const PlacementParams& params,
                                     std::span<const ServerState> servers) {
  LAFS_RETURN_IF_ERROR(validate(params, servers));
  PlanState st = initial_state(params, servers);
  match_existing(params, st);
  match_new(params, st);
  if (st.happiness < params.happy) return unhappy(params, servers, st);
  std::vector<ShareNum> unplaced;
  spread_homeless(params, st, unplaced);
  LAFS_ASSERT(layout_happiness(servers, st) == st.happiness);
  return make_plan(servers, st, std::move(unplaced));
}

}  // namespace lafs::client
