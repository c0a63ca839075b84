// Property tests of the checker, verifier and repairer (core/client/checker.h) in the simulator:
// rapidcheck draws the grid size, (k, happy, n), the file and segment sizes, and a sequence of
// faults (server loss, share deletion, bit rot, partitions, server arrivals), for immutable and
// mutable files alike. Then:
//   (a) the checker's verdict equals the ground truth the test reads from the servers reachable
//       at check time (and, verifying, without the shares it rotted);
//   (b) after a repair with enough live servers the file is healthy and downloads whole;
//   (c) a repair never reduces the number of good shares;
//   (d) a repair is idempotent: a second one finds nothing to do;
//   (e) a file recoverable before a repair is recoverable after it, whatever transient faults
//       (partitions, crashes and restarts) happen while it runs.
// A failing case prints its seed and shrinks (rapidcheck).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <set>

#include "core/client/checker.h"
#include "core/client/placement.h"
#include "tests/unit/sim_grid.h"

namespace lafs::client {
namespace {

using testing::Grid;

enum class FaultKind { kLoss, kDelete, kRot, kPartition, kArrival };

struct Fault {
  FaultKind kind = FaultKind::kLoss;
  std::size_t server = 0;   // among all grid nodes (modulo)
  std::uint64_t where = 0;  // which share / which byte, reduced modulo what exists
};

struct World {
  std::size_t initial = 0;       // servers the client knows from the start
  std::vector<ServerRef> known;  // the client's server list (grows with arrivals)
  std::size_t arrived = 0;       // extra servers that joined
  std::set<std::size_t> lost, partitioned;
  std::set<std::pair<std::size_t, std::uint32_t>> rotted;  // (grid index, share)
  std::uint64_t size = 0;                                  // the file's
};

crypto::StorageIndex si_of(const cap::Cap& c) {
  return *cap::storage_index(c);
}

std::string share_path(const crypto::StorageIndex& si, std::uint32_t share) {
  const std::string hex = crypto::to_hex(ByteView(si.data(), si.size()));
  return "storage/shares/" + hex.substr(0, 2) + "/" + hex + "/" + std::to_string(share);
}

std::vector<std::uint32_t> held_by(Grid& g, std::size_t s, const crypto::StorageIndex& si) {
  std::vector<std::uint32_t> out;
  if (!g.server_nodes[s]->up() || !g.nodes[s].server) return out;
  auto held = g.run(g.nodes[s].server->get_buckets(si));
  if (held.ok()) {
    for (const auto& i : *held) out.push_back(i.share_number);
  }
  return out;
}

bool reachable(const World& w, std::size_t s) {
  return !w.lost.contains(s) && !w.partitioned.contains(s);
}

void apply(Grid& g, World& w, const Fault& f, const cap::Cap& cap, const EncodingParams& p) {
  const crypto::StorageIndex si = si_of(cap);
  const std::size_t s = f.server % w.known.size();
  switch (f.kind) {
    case FaultKind::kLoss:
      if (!w.lost.contains(s)) {
        g.server_nodes[s]->crash(true);
        w.lost.insert(s);
      }
      break;
    case FaultKind::kDelete: {
      // The lease lapses on this server: every share of the file there is deleted.
      if (w.lost.contains(s) || !g.nodes[s].server) break;
      const auto cancel =
          to_bytes32(crypto::lease_cancel_secret(g.secrets.lease, si, server_id(g.refs[s])));
      (void)g.run(g.nodes[s].server->cancel_lease(si, cancel));
      for (auto it = w.rotted.begin(); it != w.rotted.end();) {
        it = it->first == s ? w.rotted.erase(it) : std::next(it);
      }
      break;
    }
    case FaultKind::kRot: {
      const auto shares = held_by(g, s, si);
      if (shares.empty()) break;
      const std::uint32_t share = shares[f.where % shares.size()];
      if (w.rotted.contains({s, share})) break;  // a second flip could undo the first
      if (cap.is_mutable()) {
        // A byte of the first segment's block, in the slot's current file.
        MutableParams mp{p.needed, p.total, p.segment_size, w.size};
        auto layout = MutableLayout::make(mp, share);
        RC_ASSERT(layout.ok());
        const std::string base = share_path(si, share);
        const std::string dir = base.substr(0, base.rfind('/'));
        auto names = g.run(g.server_nodes[s]->disk().list(dir));
        RC_ASSERT(names.ok());
        std::string file;
        const std::string prefix = std::to_string(share) + ".";
        for (const std::string& n : *names) {
          if (n.rfind(prefix, 0) == 0) file = dir + "/" + n;
        }
        RC_ASSERT(!file.empty());
        const std::uint64_t at = storage::kContainerHeaderBytes + layout->block_offset(0) +
                                 (f.where / 7) % layout->block_length(0);
        RC_ASSERT(g.server_nodes[s]
                      ->sim_disk()
                      .corrupt(file, at, static_cast<unsigned>(f.where % 8))
                      .is_ok());
        w.rotted.insert({s, share});
        break;
      }
      // A byte of the blocks: always covered by the hash trees.
      ExtensionInfo info;
      info.needed = p.needed;
      info.total = p.total;
      info.segment_size = p.segment_size;
      info.file_size = w.size;
      info.segment_count =
          std::max<std::uint64_t>(1, (info.file_size + p.segment_size - 1) / p.segment_size);
      auto layout = ShareLayout::make(info, share);
      RC_ASSERT(layout.ok());
      // A byte of a block, or of the share's copy of the ciphertext tree (checked whole by
      // the verifier), both covered by the hash trees.
      const bool in_tree = (f.where / 13) % 4 == 0;
      const std::uint64_t from = in_tree ? layout->ciphertext_tree_offset : layout->blocks_offset;
      const std::uint64_t span = in_tree ? layout->chain_offset - layout->ciphertext_tree_offset
                                         : layout->block_tree_offset - layout->blocks_offset;
      const std::uint64_t at = storage::kContainerHeaderBytes + from + (f.where / 7) % span;
      RC_ASSERT(g.server_nodes[s]
                    ->sim_disk()
                    .corrupt(share_path(si, share), at, static_cast<unsigned>(f.where % 8))
                    .is_ok());
      w.rotted.insert({s, share});
      break;
    }
    case FaultKind::kPartition:
      g.sim->network().partition(g.client_node->host(), g.server_nodes[s]->host());
      w.partitioned.insert(s);
      break;
    case FaultKind::kArrival:
      if (w.initial + w.arrived < g.refs.size()) {
        w.known.push_back(g.refs[w.initial + w.arrived]);
        ++w.arrived;
      }
      break;
  }
}

// The truth about the file among the servers the client knows, as the test reads it from the
// servers themselves.
struct Truth {
  std::uint32_t responding = 0, shares_found = 0, distinct = 0, hosts = 0, happiness = 0;
  bool recoverable = false, healthy = false;
};

Truth truth(Grid& g, const World& w, const crypto::StorageIndex& si, const EncodingParams& p,
            bool verified) {
  Truth t;
  std::set<std::uint32_t> distinct;
  std::vector<ServerShares> holdings;
  for (std::size_t s = 0; s < w.known.size(); ++s) {
    if (!reachable(w, s)) continue;
    ++t.responding;
    ServerShares h;
    h.server = g.refs[s].key;
    for (std::uint32_t share : held_by(g, s, si)) {
      if (verified && w.rotted.contains({s, share})) continue;
      h.shares.push_back(share);
      distinct.insert(share);
      ++t.shares_found;
    }
    if (!h.shares.empty()) {
      ++t.hosts;
      holdings.push_back(std::move(h));
    }
  }
  t.distinct = static_cast<std::uint32_t>(distinct.size());
  t.happiness = servers_of_happiness(holdings);
  t.recoverable = t.distinct >= p.needed;
  t.healthy =
      t.recoverable && t.distinct == p.total && t.happiness >= std::min(p.happy, t.responding);
  return t;
}

struct Case {
  bool mutable_file = false;
  std::size_t servers = 0, extra = 0;
  EncodingParams params;
  std::size_t size = 0;
  std::vector<Fault> faults;
};

Case gen_case() {
  Case c;
  c.mutable_file = *rc::gen::arbitrary<bool>();
  c.servers = *rc::gen::inRange<std::size_t>(3, 10);
  c.extra = *rc::gen::inRange<std::size_t>(0, 3);
  c.params.total = *rc::gen::inRange<std::uint32_t>(1, static_cast<std::uint32_t>(c.servers) + 1);
  c.params.needed = *rc::gen::inRange<std::uint32_t>(1, c.params.total + 1);
  c.params.happy = *rc::gen::inRange<std::uint32_t>(1, c.params.total + 1);
  c.params.segment_size = *rc::gen::element<std::uint64_t>(1000, 4096, 20000);
  c.size = *rc::gen::inRange<std::size_t>(100, 60'000);
  const std::size_t faults = *rc::gen::inRange<std::size_t>(0, 7);
  for (std::size_t i = 0; i < faults; ++i) {
    Fault f;
    f.kind = *rc::gen::element(FaultKind::kLoss, FaultKind::kDelete, FaultKind::kRot,
                               FaultKind::kPartition, FaultKind::kArrival);
    f.server = *rc::gen::inRange<std::size_t>(0, 64);
    f.where = *rc::gen::inRange<std::uint64_t>(0, 1'000'000);
    c.faults.push_back(f);
  }
  return c;
}

struct Setup {
  std::unique_ptr<Grid> grid;
  std::unique_ptr<Checker> checker;
  World world;
  cap::Cap cap;
  Bytes plain;
};

Setup set_up(const Case& c) {
  Setup s;
  s.grid = std::make_unique<Grid>(static_cast<int>(c.servers + c.extra),
                                  *rc::gen::inRange<std::uint64_t>(1, 1'000'000));
  Grid& g = *s.grid;
  s.world.initial = c.servers;
  s.world.known.assign(g.refs.begin(), g.refs.begin() + static_cast<std::ptrdiff_t>(c.servers));
  s.plain = testing::pattern(c.size, static_cast<std::uint32_t>(c.size));
  s.world.size = c.size;
  if (c.mutable_file) {
    MutableParams mp{c.params.needed, c.params.total, c.params.segment_size, 0};
    auto made = g.run(g.mutable_client->create(s.plain, s.world.known, mp, c.params.happy));
    RC_ASSERT(made.ok());
    s.cap = cap::Cap{*made, false};
  } else {
    auto up = g.run(g.client->upload(s.plain, s.world.known, c.params));
    RC_ASSERT(up.ok());
    s.cap = up->cap;
  }
  s.checker = std::make_unique<Checker>(g.client_node, g.pool.get(), &g.secrets, g.client.get(),
                                        g.mutable_client.get());
  return s;
}

// The file's bytes as a reader gets them (empty on failure).
Bytes read_back(Grid& g, const cap::Cap& cap, const std::vector<ServerRef>& servers) {
  if (cap.is_mutable()) {
    auto got = g.run(g.mutable_client->retrieve(cap, servers));
    return got.ok() ? got->contents : Bytes{};
  }
  auto got = g.run(g.client->download(cap, servers));
  return got.ok() ? *got : Bytes{};
}

RC_GTEST_PROP(CheckerProperty, VerdictsMatchTheTruthAndRepairConverges, ()) {
  const Case c = gen_case();
  Setup s = set_up(c);
  Grid& g = *s.grid;
  if (s.cap.is_literal()) return;
  for (const Fault& f : c.faults) apply(g, s.world, f, s.cap, c.params);
  const crypto::StorageIndex si = si_of(s.cap);

  // (a) the verdict is the truth, listing only and verifying.
  for (bool verify : {false, true}) {
    CheckOptions o;
    o.verify = verify;
    auto r = g.run(s.checker->check(s.cap, s.world.known, c.params.happy, o));
    RC_ASSERT(r.ok());
    const Truth t = truth(g, s.world, si, c.params, verify);
    RC_ASSERT(r->servers_responding == t.responding);
    RC_ASSERT(r->shares_found == t.shares_found);
    RC_ASSERT(r->distinct_shares == t.distinct);
    RC_ASSERT(r->good_hosts == t.hosts);
    RC_ASSERT(r->happiness == t.happiness);
    RC_ASSERT(r->recoverable == t.recoverable);
    RC_ASSERT(r->healthy == t.healthy);
    if (verify) {
      // Every rotted share on a reachable server was found and named.
      std::size_t rotted_reachable = 0;
      for (const auto& [srv, share] : s.world.rotted) rotted_reachable += reachable(s.world, srv);
      RC_ASSERT(r->corrupt.size() == rotted_reachable);
    }
  }

  // (b), (c): repair, verifying.
  CheckOptions v;
  v.verify = true;
  auto rep = g.run(s.checker->check_and_repair(s.cap, s.world.known, c.params.happy, v));
  RC_ASSERT(rep.ok());
  const CheckResult& before = rep->before;
  RC_CLASSIFY(rep->attempted && rep->successful, "repaired");
  RC_CLASSIFY(rep->attempted && !rep->successful, "repair fell short");
  RC_CLASSIFY(!before.recoverable, "unrecoverable");
  RC_CLASSIFY(before.healthy, "healthy");
  RC_CLASSIFY(c.mutable_file, "mutable");
  if (rep->attempted) {
    RC_ASSERT(rep->after.has_value());
    RC_ASSERT(rep->after->distinct_shares >= before.distinct_shares);  // (c)
    RC_ASSERT(rep->after->shares_found >= before.shares_found);
  }
  std::set<std::size_t> rotted_servers;
  for (const auto& [srv, share] : s.world.rotted) {
    if (reachable(s.world, srv)) rotted_servers.insert(srv);
  }
  std::size_t live = 0;
  for (std::size_t i = 0; i < s.world.known.size(); ++i) live += reachable(s.world, i);
  if (before.recoverable && live - rotted_servers.size() >= c.params.total) {
    RC_ASSERT(rep->successful);  // (b)
    std::vector<ServerRef> live_refs;
    for (std::size_t i = 0; i < s.world.known.size(); ++i) {
      if (reachable(s.world, i)) live_refs.push_back(s.world.known[i]);
    }
    RC_ASSERT(read_back(g, s.cap, live_refs) == s.plain);
  }
  if (!before.recoverable) RC_ASSERT(!rep->attempted);

  // (d) idempotent: once healthy, nothing more to do; in any case no fewer good shares.
  auto again = g.run(s.checker->check_and_repair(s.cap, s.world.known, c.params.happy, v));
  RC_ASSERT(again.ok());
  if (rep->successful) {
    RC_ASSERT(!again->attempted);
    RC_ASSERT(again->before.healthy);
    RC_ASSERT(again->shares_written == 0u);
  }
  const std::uint32_t good_after_first =
      rep->after ? rep->after->distinct_shares : before.distinct_shares;
  RC_ASSERT(again->before.distinct_shares >= good_after_first);
}

Task<void> transient_faults(Grid* g, std::vector<std::size_t> victims, std::vector<Duration> at,
                            bool crash) {
  for (std::size_t i = 0; i < victims.size(); ++i) {
    co_await sleep_for(g->client_node->executor(), at[i]);
    sim::SimNode* node = g->server_nodes[victims[i]];
    if (crash) {
      if (node->up()) node->crash(true);
      co_await sleep_for(g->client_node->executor(), milliseconds(200));
      if (!node->up()) node->start();
    } else {
      g->sim->network().partition(g->client_node->host(), node->host());
      co_await sleep_for(g->client_node->executor(), seconds(1));
      g->sim->network().heal(g->client_node->host(), node->host());
    }
  }
}

RC_GTEST_PROP(CheckerProperty, ARepairNeverLosesRecoverability, ()) {
  Case c = gen_case();
  c.extra = 0;
  Setup s = set_up(c);
  Grid& g = *s.grid;
  if (s.cap.is_literal()) return;
  // Damage first (deletions and rot only: no server stays away), keeping what it leaves.
  for (const Fault& f : c.faults) {
    if (f.kind == FaultKind::kDelete || f.kind == FaultKind::kRot) {
      apply(g, s.world, f, s.cap, c.params);
    }
  }
  CheckOptions v;
  v.verify = true;
  auto pre = g.run(s.checker->check(s.cap, s.world.known, c.params.happy, v));
  RC_ASSERT(pre.ok());
  // Faults while the repair runs: servers crash and restart, or are cut off and come back.
  const std::size_t n_faults = *rc::gen::inRange<std::size_t>(1, 4);
  std::vector<std::size_t> victims;
  std::vector<Duration> at;
  for (std::size_t i = 0; i < n_faults; ++i) {
    victims.push_back(*rc::gen::inRange<std::size_t>(0, c.servers));
    at.push_back(milliseconds(*rc::gen::inRange(0, 400)));
  }
  const bool crash = *rc::gen::arbitrary<bool>();
  g.client_node->scope().spawn(transient_faults(&g, victims, at, crash));
  auto rep = g.run(s.checker->check_and_repair(s.cap, s.world.known, c.params.happy, v));
  RC_ASSERT(rep.ok());
  // Let the faults end, then look again from everywhere.
  g.sim->loop().run_until(g.sim->loop().now() + seconds(10));
  g.sim->network().heal_all();
  for (std::size_t i = 0; i < c.servers; ++i) {
    if (!g.server_nodes[i]->up()) g.server_nodes[i]->start();
  }
  g.sim->loop().run_until(g.sim->loop().now() + seconds(1));
  auto post = g.run(s.checker->check(s.cap, s.world.known, c.params.happy, v));
  RC_ASSERT(post.ok());
  RC_CLASSIFY(rep->attempted, "repair attempted under faults");
  if (pre->recoverable) {
    RC_ASSERT(post->recoverable);  // (e)
    RC_ASSERT(post->distinct_shares >= pre->distinct_shares);
    RC_ASSERT(read_back(g, s.cap, s.world.known) == s.plain);
  }
}

}  // namespace
}  // namespace lafs::client
