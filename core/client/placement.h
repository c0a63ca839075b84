// Share placement, as a pure algorithm: the permuted ring of servers for a storage index,
// servers-of-happiness (maximum bipartite matching), and the planner that decides which share
// goes to which server on upload. No I/O: callers query servers and feed the answers in.
// The algorithm, the bounds and the comparison with Tahoe-LAFS are in docs/specs/placement.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/crypto/derive.h"
#include "core/runtime/status.h"

namespace lafs::client {

// A server is named by its Ed25519 node key.
using ServerId = std::array<std::uint8_t, crypto::kServerIdBytes>;
// A share number, 0 <= share < n <= kShareCountMax.
using ShareNum = std::uint32_t;

// n <= 256: the erasure code's limit, and the size of the share side of every matching.
inline constexpr std::uint32_t kShareCountMax = 256;
// The planner refuses more servers than this (a grid's whole server list fits well within it).
// With it, one plan costs at most O(kShareCountMax * edges) = O(256 * 256 * kServersMax) steps.
inline constexpr std::size_t kServersMax = 16384;
inline constexpr std::int32_t kUnmatched = -1;

// What the introducer tells us about a server, as far as placement cares.
struct ServerInfo {
  ServerId id{};
  bool read_only = false;
  std::uint64_t available_space_bytes = 0;
};

// ---- 1. The permuted ring ----

// The servers sorted by crypto::permuted_ring_position(si, id), ties (never seen in practice)
// broken by id: every client walks the same servers in the same order for a file, and
// different files start at different servers. Ids must be distinct (asserted).
std::vector<ServerId> permuted_ring(const crypto::StorageIndex& si, std::span<const ServerId> ids);

// The same order, keeping only servers that can take a new share: not read-only and with
// available_space_bytes >= share_size_bytes.
std::vector<ServerInfo> writable_ring(const crypto::StorageIndex& si,
                                      std::span<const ServerInfo> servers,
                                      std::uint64_t share_size_bytes);

// ---- 2. Servers-of-happiness ----

// A maximum matching between servers (left, by index) and shares (right, < share_count).
struct Matching {
  std::vector<std::int32_t> share_of_server;  // per server: its share, or kUnmatched
  std::vector<std::int32_t> server_of_share;  // per share: its server, or kUnmatched
  std::uint32_t size = 0;
};

// adjacency[s] lists the shares server s holds or will hold (duplicates allowed, each
// < share_count <= kShareCountMax: asserted). Augmenting paths taken in server order, so among
// all maximum matchings the set of matched servers is the lexicographically first one: earlier
// servers are preferred. Cost O(min(servers, shares) * edges).
Matching maximum_matching(std::span<const std::vector<ShareNum>> adjacency,
                          std::uint32_t share_count);

// Which shares one server holds (or will hold).
struct ServerShares {
  ServerId server{};
  std::vector<ShareNum> shares;  // each < kShareCountMax (asserted)
};

// Happiness = the size of a maximum matching between servers and the shares they hold: the
// largest H such that H servers each hold a share no other of them holds, so any k of them
// can rebuild the file. Entries with the same server id are merged.
std::uint32_t servers_of_happiness(std::span<const ServerShares> holdings);

// ---- 3. The upload planner ----

struct PlacementParams {
  std::uint32_t k = 0;                 // shares needed to rebuild, 1 <= k <= n
  std::uint32_t happy = 0;             // happiness the upload must reach, 1 <= happy <= n
  std::uint32_t n = 0;                 // shares made, n <= kShareCountMax
  std::uint64_t share_size_bytes = 0;  // > 0: the space one new share takes on a server
  // At most this many new shares go to one server in one plan (>= 1): with fewer servers than
  // shares, the extra shares spread out instead of piling on the server with the most room.
  std::uint32_t new_shares_per_server_max = 0;
};

// ceil(n / happy): enough for n shares over `happy` servers, no more.
std::uint32_t default_new_shares_per_server_max(std::uint32_t n, std::uint32_t happy);

// A server as the uploader found it, in ring order.
struct ServerState {
  ServerId id{};
  bool read_only = false;
  std::uint64_t available_space_bytes = 0;
  // Shares of this file the server already holds, each already verified by the caller
  // (extension block hash checked) and < n. Read-only and full servers count too.
  std::vector<ShareNum> existing_shares;
};

// A share on a server: one pair of the plan.
struct SharePlacement {
  ShareNum share = 0;
  std::size_t server_index = 0;  // into the planner's `servers`
  ServerId server{};
};

struct PlacementPlan {
  // The shares to upload, sorted by (server_index, share). Never a share to a server that
  // already holds it, never to a read-only or full server, at most one copy of a share per
  // server, at most new_shares_per_server_max per server.
  std::vector<SharePlacement> uploads;
  // A maximum matching of the layout after the uploads (existing shares plus uploads), sorted
  // by share: each pair is a server relied on for a distinct share. Its size is `happiness`.
  std::vector<SharePlacement> matching;
  std::uint32_t happiness = 0;  // >= happy
  // Shares that no server holds or will hold, because no writable server had room left for
  // them. The file is still happy; a repair can place them later.
  std::vector<ShareNum> unplaced;
};

// Plans an upload that maximises happiness over `servers` (ring order: earlier is preferred),
// relying on existing shares before uploading new ones. Returns:
//   kInvalidArgument when the params or the servers are malformed (duplicate ids, share >= n,
//     more than kServersMax servers);
//   kUnavailable when `happy` cannot be reached with these servers: the message says how many
//     servers were found, how many distinct-share servers the best layout reaches, and how many
//     are needed. More servers (or free space) may come later, so it is retryable.
Result<PlacementPlan> plan_placement(const PlacementParams& params,
                                     std::span<const ServerState> servers);

}  // namespace lafs::client
