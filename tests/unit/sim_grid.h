// A grid on the simulator for client tests: storage servers (each a SimNode serving the storage
// protocol on port 1), a client node with an RpcPool and an ImmutableClient.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/client/immutable_client.h"
#include "core/client/mutable_client.h"
#include "core/storage/storage_service.h"
#include "net/sim/sim_run.h"
#include "net/sim/simulation.h"

namespace lafs::client::testing {

inline std::array<std::uint8_t, 32> seed_of(std::uint32_t i) {
  std::array<std::uint8_t, 32> s{};
  for (int b = 0; b < 4; ++b) s[b] = static_cast<std::uint8_t>(i >> (8 * b));
  s[31] = 0x77;
  return s;
}

inline Bytes pattern(std::size_t n, std::uint32_t seed) {
  Bytes b(n);
  std::uint32_t x = seed * 2654435761u + 7;
  for (auto& c : b) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<std::uint8_t>(x >> 24);
  }
  return b;
}

struct StorageNode {
  std::unique_ptr<storage::StorageServer> server;
};

inline Task<void> storage_main(sim::SimNode* node, net::NodeKey key, StorageNode* out) {
  // A named local: g++ 12 mis-handles class temporaries passed into a co_await'ed call.
  storage::StorageOptions options;
  auto s = co_await storage::StorageServer::open(node, options);
  if (!s.ok()) co_return;
  out->server = std::move(*s);
  struct Clear {
    StorageNode* out;
    ~Clear() { out->server.reset(); }
  } clear{out};
  rpc::RpcServer rpc(node);
  storage::register_storage_methods(rpc, out->server.get());
  auto l = node->network().listen(node->address(1));
  if (!l.ok()) co_return;
  co_await rpc::run_rpc_listener(node, l->get(), &key, &rpc, {});
}

struct Grid {
  explicit Grid(int servers, std::uint64_t seed = 1) {
    sim::SimulationOptions o;
    o.seed = seed;
    o.network.latency_mean = milliseconds(1);
    sim = std::make_unique<sim::Simulation>(o);
    nodes.resize(servers);
    for (int i = 0; i < servers; ++i) {
      sim::SimNode* n = &sim->add_node("s" + std::to_string(i));
      const net::NodeKey key = net::NodeKey::from_seed(seed_of(i));
      n->set_main(
          [key, slot = &nodes[i]](sim::SimNode& self) { return storage_main(&self, key, slot); });
      n->start();
      server_nodes.push_back(n);
      refs.push_back(ServerRef{key.public_key(), n->address(1)});
    }
    client_node = &sim->add_node("client");
    client_node->start();
    client_key.emplace(net::NodeKey::from_seed(seed_of(100000)));
    pool = std::make_unique<rpc::RpcPool>(client_node, &*client_key, rpc::RpcPoolOptions{});
    auto fill = [](auto& secret, std::uint8_t b) {
      auto v = secret.mutable_view();
      std::fill(v.begin(), v.end(), b);
    };
    fill(secrets.convergence, 1);
    fill(secrets.lease, 2);
    client = std::make_unique<ImmutableClient>(client_node, pool.get(), &secrets);
    mutable_client = std::make_unique<MutableClient>(client_node, pool.get(), &secrets);
    sim->loop().run_until(sim->loop().now() + milliseconds(10));
  }

  // Another client node (a second writer, a reader), with its own key and pool.
  struct ExtraClient {
    sim::SimNode* node = nullptr;
    std::optional<net::NodeKey> key;
    std::unique_ptr<rpc::RpcPool> pool;
    std::unique_ptr<MutableClient> mutable_client;
  };
  ExtraClient& add_client(const std::string& name, MutableClientOptions options = {}) {
    auto c = std::make_unique<ExtraClient>();
    c->node = &sim->add_node(name);
    c->node->start();
    c->key.emplace(
        net::NodeKey::from_seed(seed_of(200000 + static_cast<std::uint32_t>(extra.size()))));
    c->pool = std::make_unique<rpc::RpcPool>(c->node, &*c->key, rpc::RpcPoolOptions{});
    c->mutable_client = std::make_unique<MutableClient>(c->node, c->pool.get(), &secrets, options);
    extra.push_back(std::move(c));
    return *extra.back();
  }

  // Restarts a crashed storage node (its synced state survives).
  void restart(std::size_t i) { server_nodes[i]->start(); }
  template <typename T>
  T run(Task<T> t) {
    return sim::run_task(sim->loop(), std::move(t));
  }
  ~Grid() {
    for (auto& c : extra) {
      c->mutable_client.reset();
      c->pool.reset();
    }
    mutable_client.reset();
    client.reset();
    pool.reset();
  }
  std::vector<StorageNode> nodes;  // written by the nodes' frames: declared before the sim
  std::unique_ptr<sim::Simulation> sim;
  std::vector<sim::SimNode*> server_nodes;
  std::vector<ServerRef> refs;
  sim::SimNode* client_node = nullptr;
  std::optional<net::NodeKey> client_key;
  std::unique_ptr<rpc::RpcPool> pool;
  ClientSecrets secrets;
  std::unique_ptr<ImmutableClient> client;
  std::unique_ptr<MutableClient> mutable_client;
  std::vector<std::unique_ptr<ExtraClient>> extra;
};

}  // namespace lafs::client::testing
