// The client service on the simulator: an introducer node, storage nodes that announce
// themselves through it, and a client that learns them from the introducer and moves files.
// The same code runs in the real grid test (tests/unit/real_grid_test.cc) over TCP.
#include <gtest/gtest.h>

#include "core/client/client_service.h"
#include "core/introducer/introducer_server.h"
#include "core/introducer/publisher.h"
#include "core/storage/storage_service.h"
#include "net/sim/sim_run.h"
#include "net/sim/simulation.h"

namespace lafs::client {
namespace {

net::NodeKey key_of(std::uint32_t i) {
  std::array<std::uint8_t, 32> s{};
  for (int b = 0; b < 4; ++b) s[b] = static_cast<std::uint8_t>(i >> (8 * b));
  s[30] = 0x1c;
  return net::NodeKey::from_seed(s);
}

Task<void> introducer_main(sim::SimNode* node, net::NodeKey key) {
  introducer::IntroducerServer server(node);
  rpc::RpcServer rpc(node);
  server.register_methods(rpc);
  auto l = node->network().listen(node->address(1));
  if (!l.ok()) co_return;
  co_await rpc::run_rpc_listener(node, l->get(), &key, &rpc, {});
}

Task<void> storage_main(sim::SimNode* node, net::NodeKey key, rpc::Peer introducer) {
  storage::StorageOptions options;
  auto server = co_await storage::StorageServer::open(node, options);
  if (!server.ok()) co_return;
  rpc::RpcServer rpc(node);
  storage::register_storage_methods(rpc, server->get());
  auto l = node->network().listen(node->address(1));
  if (!l.ok()) co_return;
  rpc::RpcPool pool(node, &key, {});
  introducer::Announcement a;
  a.node_key = key.public_key();
  a.nickname = node->name();
  a.addresses = {node->address(1)};
  a.available_bytes = std::uint64_t{1} << 40;
  introducer::Publisher publisher(node, &pool, introducer, &key, a);
  Scope tasks(node->executor());
  tasks.spawn(publisher.run());
  tasks.spawn((*server)->run_maintenance());
  co_await rpc::run_rpc_listener(node, l->get(), &key, &rpc, {});
}

TEST(ClientService, LearnsServersFromTheIntroducerAndMovesFiles) {
  sim::SimulationOptions o;
  o.seed = 4;
  sim::Simulation sim(o);
  sim::SimNode* intro = &sim.add_node("introducer");
  const net::NodeKey intro_key = key_of(0);
  intro->set_main([intro_key](sim::SimNode& n) { return introducer_main(&n, intro_key); });
  intro->start();
  const rpc::Peer intro_peer{intro->address(1), intro_key.public_key()};
  constexpr int kServers = 12;
  for (int i = 1; i <= kServers; ++i) {
    sim::SimNode* n = &sim.add_node("storage" + std::to_string(i));
    const net::NodeKey k = key_of(static_cast<std::uint32_t>(i));
    n->set_main([k, intro_peer](sim::SimNode& self) { return storage_main(&self, k, intro_peer); });
    n->start();
  }
  sim::SimNode* client = &sim.add_node("client");
  client->start();
  const net::NodeKey client_key = key_of(1000);
  rpc::RpcPool pool(client, &client_key, {});
  ClientSecrets secrets;
  ClientServiceOptions co;
  co.subscriber.poll_interval = seconds(1);
  ClientService service(client, &pool, intro_peer, &secrets, co);
  client->scope().spawn(service.run());
  sim.loop().run_until(sim.loop().now() + seconds(10));
  ASSERT_EQ(service.server_count(), static_cast<std::size_t>(kServers));

  Bytes plain(700'000);
  for (std::size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<std::uint8_t>(i ^ (i >> 8));
  auto up = sim::run_task(sim.loop(), service.upload(plain));
  ASSERT_TRUE(up.ok()) << up.status().to_string();
  auto down = sim::run_task(sim.loop(), service.download(up->cap));
  ASSERT_TRUE(down.ok()) << down.status().to_string();
  EXPECT_EQ(*down, plain);
  Bytes middle;
  Status ranged =
      sim::run_task(sim.loop(), service.download_range(up->cap, 300'000, 5, [&](ByteView p) {
        middle.insert(middle.end(), p.begin(), p.end());
        return Status{};
      }));
  ASSERT_TRUE(ranged.is_ok()) << ranged.to_string();
  EXPECT_EQ(middle, Bytes(plain.begin() + 300'000, plain.begin() + 300'005));
  // The introducer goes away: the client keeps its list and keeps working.
  intro->crash(/*reset_peers=*/true);
  sim.loop().run_until(sim.loop().now() + seconds(30));
  EXPECT_EQ(service.server_count(), static_cast<std::size_t>(kServers));
  auto again = sim::run_task(sim.loop(), service.download(up->cap));
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(*again, plain);
  client->crash(true);  // the service's task goes before the service does
}

}  // namespace
}  // namespace lafs::client
