// Tests of the toy counter service on simulated nodes, including the fault sequence that the
// simulator's invariant must catch: a server that acknowledges before syncing loses
// acknowledged values when it crashes.
#include <gtest/gtest.h>

#include "core/toy/counter_service.h"
#include "net/sim/sim_run.h"
#include "net/sim/simulation.h"

namespace lafs::toy {
namespace {

using sim::SimNode;
using sim::Simulation;
using sim::SimulationOptions;

std::array<std::uint8_t, 32> seed_of(std::uint8_t b) {
  std::array<std::uint8_t, 32> s{};
  s.fill(b);
  return s;
}

TEST(CounterStats, ObserveValueFlagsValuesThatGoBackwards) {
  CounterClientStats st;
  observe_value(&st, "a", 1);
  observe_value(&st, "a", 5);
  observe_value(&st, "b", 1);
  EXPECT_EQ(st.violations, 0u);
  observe_value(&st, "a", 5);
  observe_value(&st, "a", 2);
  EXPECT_EQ(st.violations, 2u);
  ASSERT_EQ(st.violation_messages.size(), 2u);
  EXPECT_EQ(st.violation_messages[1], "a answered 2 after 5");
}

struct CrashRig {
  explicit CrashRig(bool sync_before_ack) : server_key(net::NodeKey::from_seed(seed_of(1))) {
    SimulationOptions o;
    o.seed = 3;
    // A crash forgets everything unsynced.
    o.disk.crash_keep_weight = o.kv.crash_keep_weight = 0;
    o.disk.crash_drop_weight = o.kv.crash_drop_weight = 1;
    o.disk.crash_tear_weight = o.kv.crash_tear_weight = 0;
    sim = std::make_unique<Simulation>(o);
    server = &sim->add_node("server");
    client = &sim->add_node("client");
    CounterServerOptions so;
    so.sync_before_ack = sync_before_ack;
    server->set_main([so, key = server_key, st = &stats](SimNode& n) {
      return run_counter_server(&n, n.address(1), key, so, st, nullptr);
    });
    server->start();
    client->start();
    client_key.emplace(net::NodeKey::from_seed(seed_of(2)));
    pool = std::make_unique<rpc::RpcPool>(client, &*client_key, rpc::RpcPoolOptions{});
  }
  Result<std::uint64_t> increment(std::uint32_t port = 1) {
    rpc::Peer peer{server->address(port), server_key.public_key()};
    return sim::run_task(sim->loop(), counter_increment(pool.get(), peer, seconds(2), 16));
  }
  CounterServerStats stats;
  net::NodeKey server_key;
  std::unique_ptr<Simulation> sim;
  SimNode* server;
  SimNode* client;
  std::optional<net::NodeKey> client_key;
  std::unique_ptr<rpc::RpcPool> pool;
};

TEST(CounterService, AcknowledgedValuesSurviveCrashes) {
  CrashRig r(/*sync_before_ack=*/true);
  std::uint64_t last = 0;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 3; ++i) {
      auto v = r.increment();
      ASSERT_TRUE(v.ok()) << v.status().to_string();
      EXPECT_GT(*v, last);
      last = *v;
    }
    r.server->crash(/*reset_peers=*/true);
    r.sim->loop().run_until(r.sim->loop().now() + seconds(10));
    r.server->start();
  }
  EXPECT_EQ(last, 15u);
  EXPECT_EQ(r.server->crashes(), 5u);
  EXPECT_EQ(r.stats.increments, 15u);
}

// The scripted fault sequence the invariant exists for: ack before sync, then crash.
TEST(CounterService, UnsyncedAcknowledgementIsCaughtAfterCrash) {
  CrashRig r(/*sync_before_ack=*/false);
  auto before = r.increment();
  ASSERT_TRUE(before.ok()) << before.status().to_string();
  EXPECT_EQ(*before, 1u);
  r.server->crash(/*reset_peers=*/true);
  r.sim->loop().run_until(r.sim->loop().now() + seconds(1));
  r.server->start();
  auto after = r.increment();
  ASSERT_TRUE(after.ok()) << after.status().to_string();
  CounterClientStats st;
  observe_value(&st, "server", *before);
  observe_value(&st, "server", *after);
  EXPECT_EQ(st.violations, 1u);  // the acknowledged value was lost: what lafs-sim flags
}

TEST(CounterService, DownServerTimesOutAndClosedPortFails) {
  CrashRig r(true);
  r.server->crash(/*reset_peers=*/false);
  EXPECT_EQ(r.increment().status().code(), ErrorCode::kTimeout);
  r.server->start();
  auto refused = r.increment(/*port=*/2);
  EXPECT_EQ(refused.status().code(), ErrorCode::kUnavailable) << refused.status().to_string();
}

}  // namespace
}  // namespace lafs::toy
