// Lease maintenance over a simulated year (core/client/maintenance.h): storage servers with
// their garbage collector on (leases of 31 days, spared a day of clock skew, a crawler cycle an
// hour), a client's directory tree, and the maintenance agent on or off. On: nothing is ever
// collected. Off: every share of every object is collected once the leases lapse.
#include "core/client/maintenance.h"

#include <gtest/gtest.h>

#include "core/client/directory.h"
#include "tests/unit/sim_grid.h"

namespace lafs::client {
namespace {

using testing::Grid;

constexpr Duration kDay = hours(24);

Task<void> collecting_storage_main(sim::SimNode* node, net::NodeKey key,
                                   testing::StorageNode* out) {
  storage::StorageOptions options;  // leases of 31 days, the collector in age mode
  auto s = co_await storage::StorageServer::open(node, options);
  if (!s.ok()) co_return;
  out->server = std::move(*s);
  struct Clear {
    testing::StorageNode* out;
    ~Clear() { out->server.reset(); }
  } clear{out};
  node->scope().spawn(out->server->run_maintenance());
  rpc::RpcServer rpc(node);
  storage::register_storage_methods(rpc, out->server.get());
  auto l = node->network().listen(node->address(1));
  if (!l.ok()) co_return;
  co_await rpc::run_rpc_listener(node, l->get(), &key, &rpc, {});
}

struct Fixture {
  explicit Fixture(bool maintain) : g(5, 11) {
    // Restart every server with the collector on.
    for (std::size_t i = 0; i < g.server_nodes.size(); ++i) {
      g.server_nodes[i]->crash(true);
      const net::NodeKey key = net::NodeKey::from_seed(testing::seed_of(static_cast<int>(i)));
      g.server_nodes[i]->set_main([key, slot = &g.nodes[i]](sim::SimNode& self) {
        return collecting_storage_main(&self, key, slot);
      });
      g.server_nodes[i]->start();
    }
    g.sim->loop().run_until(g.sim->loop().now() + seconds(1));
    DirectoryOptions d;
    d.mutable_params = {2, 5, kDirPageBytes, 0};
    d.immutable_params = {2, 4, 5, 16 << 10};
    d.happy = 4;
    dirs =
        std::make_unique<DirectoryClient>(g.client_node, g.mutable_client.get(), g.client.get(), d);
    checker = std::make_unique<Checker>(g.client_node, g.pool.get(), &g.secrets, g.client.get(),
                                        g.mutable_client.get());
    deep = std::make_unique<DeepChecker>(checker.get(), dirs.get());
    // root/{a.bin, b.bin, notes (mutable), sub/{c.bin}}
    auto root = g.run(dirs->create(g.refs));
    EXPECT_TRUE(root.ok());
    this->root = *root;
    auto add_file = [&](const cap::Cap& dir, const std::string& name, std::size_t size) {
      auto up = g.run(g.client->upload(testing::pattern(size, static_cast<std::uint32_t>(size)),
                                       g.refs, d.immutable_params));
      ASSERT_TRUE(up.ok());
      ASSERT_TRUE(g.run(dirs->add(dir, name, up->cap, false, g.refs)).is_ok());
    };
    add_file(*root, "a.bin", 40'000);
    add_file(*root, "b.bin", 3'000);
    auto m = g.run(g.mutable_client->create(testing::pattern(2'000, 5), g.refs,
                                            MutableParams{2, 5, 4096, 0}, 4));
    LAFS_ASSERT(m.ok());
    EXPECT_TRUE(g.run(dirs->add(*root, "notes", cap::Cap{*m, false}, false, g.refs)).is_ok());
    auto sub = g.run(dirs->mkdir(*root, "sub", g.refs));
    LAFS_ASSERT(sub.ok());
    add_file(*sub, "c.bin", 70'000);
    // Every object's storage index, from a walk.
    DeepCheckSink collect = [this](const DeepCheckObject& o) -> Task<Status> {
      if (auto si = cap::storage_index(o.cap)) sis.push_back(*si);
      co_return Status{};
    };
    auto walked = g.run(deep->run(*root, g.refs, 4, DeepCheckOptions{}, collect));
    EXPECT_TRUE(walked.ok());
    EXPECT_EQ(sis.size(), 6u);  // root, a.bin, b.bin, notes, sub, sub/c.bin
    if (maintain) {
      MaintenanceOptions mo;
      mo.roots = {*root};
      mo.interval = 7 * kDay;
      agent = std::make_unique<MaintenanceAgent>(
          g.client_node, deep.get(), [this] { return g.refs; }, 4, mo);
      g.client_node->scope().spawn(agent->run());
    }
  }
  ~Fixture() {
    agent.reset();
    deep.reset();
    checker.reset();
    dirs.reset();
  }

  // Shares held of `si` over all servers.
  std::size_t shares_of(const crypto::StorageIndex& si) {
    std::size_t n = 0;
    for (auto& node : g.nodes) {
      if (!node.server) continue;
      auto held = g.run(node.server->get_buckets(si));
      if (held.ok()) n += held->size();
    }
    return n;
  }
  void advance(Duration d) { g.sim->loop().run_until(g.sim->loop().now() + d); }

  Grid g;
  std::unique_ptr<DirectoryClient> dirs;
  std::unique_ptr<Checker> checker;
  std::unique_ptr<DeepChecker> deep;
  std::unique_ptr<MaintenanceAgent> agent;
  cap::Cap root;
  std::vector<crypto::StorageIndex> sis;
};

TEST(Maintenance, WithTheAgentNothingIsCollectedOverASimulatedYear) {
  Fixture f(true);
  for (int month = 1; month <= 12; ++month) {
    f.advance(31 * kDay);
    for (const auto& si : f.sis) {
      EXPECT_EQ(f.shares_of(si), 5u) << "month " << month;
    }
  }
  // The collector was working all along, and the agent kept renewing.
  std::uint64_t cycles = 0, expired = 0;
  for (auto& node : f.g.nodes) {
    ASSERT_TRUE(node.server);
    cycles += node.server->gc_stats().cycles;
    expired += node.server->gc_stats().leases_expired;
  }
  EXPECT_GT(cycles, 5u * 24 * 360);
  EXPECT_EQ(expired, 0u);
  EXPECT_GE(f.agent->stats().cycles, 52u);
  EXPECT_EQ(f.agent->stats().objects_checked, f.agent->stats().cycles * 6);
  EXPECT_GT(f.agent->stats().leases_renewed, 0u);
  EXPECT_EQ(f.agent->stats().errors, 0u);
}

TEST(Maintenance, WithoutTheAgentEverythingIsCollectedAfterTheLeasesLapse) {
  Fixture f(false);
  // Not before the lease (31 days) and the skew margin (a day) have passed.
  f.advance(31 * kDay);
  for (const auto& si : f.sis) EXPECT_EQ(f.shares_of(si), 5u);
  // Then within a crawler cycle (an hour) and its slices.
  f.advance(kDay + hours(2));
  for (const auto& si : f.sis) EXPECT_EQ(f.shares_of(si), 0u);
  std::uint64_t deleted = 0;
  for (auto& node : f.g.nodes) deleted += node.server->gc_stats().shares_deleted;
  EXPECT_EQ(deleted, 6u * 5);
}

}  // namespace
}  // namespace lafs::client
