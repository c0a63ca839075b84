// Tests of the RPC layer over secure connections on the simulator: concurrency and bounds,
// errors, deadlines, crashes and reconnection, garbage and newer versions, and the pool.
#include <gtest/gtest.h>

#include "core/rpc/envelope.h"
#include "core/rpc/rpc_pool.h"
#include "core/rpc/rpc_server.h"
#include "core/runtime/when.h"
#include "net/sim/sim_run.h"
#include "net/sim/simulation.h"

namespace lafs::rpc {
namespace {

using sim::SimNode;
using sim::Simulation;

std::array<std::uint8_t, 32> seed_of(std::uint8_t b) {
  std::array<std::uint8_t, 32> s{};
  s.fill(b);
  return s;
}

Task<Result<Bytes>> echo(Bytes payload) {
  co_return payload;
}
Task<Result<Bytes>> fail_with(Status s) {
  co_return s;
}
Task<Result<Bytes>> slow(Executor* ex, Duration d, Bytes payload) {
  co_await sleep_for(*ex, d);
  co_return payload;
}

struct ServerNode {
  net::NodeKey key;
  RpcServer server;
  std::unique_ptr<Listener> listener;
};

// A node that serves echo / fail / slow on port 1 (and keeps serving after restarts).
Task<void> server_main(SimNode* node, ServerNode** out, RpcServerStats* stats_sink) {
  ServerNode s{net::NodeKey::from_seed(seed_of(static_cast<std::uint8_t>(node->host() + 1))),
               RpcServer(node), nullptr};
  s.server.add_method("echo", [](Bytes p, CallContext) { return echo(std::move(p)); });
  s.server.add_method("fail",
                      [](Bytes, CallContext) { return fail_with(not_found("no such share")); });
  Executor* ex = &node->executor();
  s.server.add_method("slow",
                      [ex](Bytes p, CallContext) { return slow(ex, seconds(30), std::move(p)); });
  auto l = node->network().listen(node->address(1));
  if (!l.ok()) co_return;
  s.listener = std::move(*l);
  *out = &s;
  struct Clear {
    ServerNode** out;
    RpcServerStats* sink;
    ServerNode* s;
    ~Clear() {
      *sink = s->server.stats();
      *out = nullptr;
    }
  } clear{out, stats_sink, &s};
  co_await run_rpc_listener(node, s.listener.get(), &s.key, &s.server, {});
}

struct Rig {
  explicit Rig(int servers) : sim(sim::SimulationOptions{}) {
    client = &sim.add_node("client");
    client->start();
    client_key.emplace(net::NodeKey::from_seed(seed_of(200)));
    nodes.resize(servers, nullptr);
    stats.resize(servers);
    for (int i = 0; i < servers; ++i) {
      SimNode* n = &sim.add_node("s" + std::to_string(i));
      n->set_main([slot = &nodes[i], st = &stats[i]](SimNode& self) {
        return server_main(&self, slot, st);
      });
      n->start();
      server_nodes.push_back(n);
    }
    sim.loop().run_until(sim.loop().now() + milliseconds(1));
  }
  Peer peer(int i) {
    return Peer{
        server_nodes[i]->address(1),
        net::NodeKey::from_seed(seed_of(static_cast<std::uint8_t>(server_nodes[i]->host() + 1)))
            .public_key()};
  }
  // Written by the nodes' frames as they die, so declared before (destroyed after) the sim.
  std::vector<ServerNode*> nodes;
  std::vector<RpcServerStats> stats;
  Simulation sim;
  SimNode* client;
  std::optional<net::NodeKey> client_key;
  std::vector<SimNode*> server_nodes;
};

Task<std::vector<Result<Bytes>>> many_calls(RpcPool* pool, Executor* ex, Peer peer, int n,
                                            std::string method, Duration timeout) {
  std::vector<Task<Result<Bytes>>> calls;
  for (int i = 0; i < n; ++i) {
    calls.push_back(pool->call(peer, method, to_bytes("m" + std::to_string(i)), timeout));
  }
  co_return co_await when_all(*ex, std::move(calls));
}

TEST(Rpc, ManyConcurrentCallsShareOneConnection) {
  Rig r(1);
  RpcPool pool(r.client, &*r.client_key, {});
  auto out = sim::run_task(
      r.sim.loop(), many_calls(&pool, &r.client->executor(), r.peer(0), 300, "echo", seconds(10)));
  ASSERT_EQ(out.size(), 300u);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(out[i].ok()) << out[i].status().to_string();
    EXPECT_EQ(to_string(*out[i]), "m" + std::to_string(i));
  }
  EXPECT_EQ(pool.stats().connects, 1u);
  EXPECT_EQ(pool.open_channels(), 1u);
}

TEST(Rpc, ErrorsKeepTheirCodeAndUnknownMethodsAreNamed) {
  Rig r(1);
  RpcPool pool(r.client, &*r.client_key, {});
  auto failed = sim::run_task(r.sim.loop(), pool.call(r.peer(0), "fail", {}, seconds(5)));
  EXPECT_EQ(failed.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(failed.status().message(), "peer: no such share");
  auto unknown = sim::run_task(r.sim.loop(), pool.call(r.peer(0), "nope", {}, seconds(5)));
  EXPECT_EQ(unknown.status().code(), ErrorCode::kUnimplemented);
  EXPECT_NE(unknown.status().message().find("unknown method 'nope'"), std::string::npos);
  auto big = sim::run_task(r.sim.loop(),
                           pool.call(r.peer(0), "echo", Bytes(kPayloadBytesMax + 1), seconds(5)));
  EXPECT_EQ(big.status().code(), ErrorCode::kInvalidArgument);
}

TEST(Rpc, DeadlinesBindCallerAndServer) {
  Rig r(1);
  RpcPool pool(r.client, &*r.client_key, {});
  const MonoTime start = r.sim.loop().now();
  auto out = sim::run_task(r.sim.loop(), pool.call(r.peer(0), "slow", {}, seconds(2)));
  EXPECT_EQ(out.status().code(), ErrorCode::kTimeout);
  EXPECT_LT(r.sim.loop().now() - start, seconds(3));
  r.sim.loop().run_until(r.sim.loop().now() + seconds(5));
  r.server_nodes[0]->crash(true);      // flush the server's stats
  EXPECT_EQ(r.stats[0].timeouts, 1u);  // the server gave up at the caller's deadline too
}

TEST(Rpc, CrashFailsPendingCallsPromptlyAndPoolReconnects) {
  Rig r(1);
  RpcPool pool(r.client, &*r.client_key, {});
  std::vector<Result<Bytes>> out;
  r.client->scope().spawn(
      [](RpcPool* p, Executor* ex, Peer peer, std::vector<Result<Bytes>>* o) -> Task<void> {
        *o = co_await many_calls(p, ex, peer, 10, "slow", seconds(60));
      }(&pool, &r.client->executor(), r.peer(0), &out));
  r.sim.loop().run_until(r.sim.loop().now() + seconds(1));
  const MonoTime crash_at = r.sim.loop().now();
  r.server_nodes[0]->crash(/*reset_peers=*/true);
  r.sim.loop().run_until(crash_at + seconds(1));
  ASSERT_EQ(out.size(), 10u);  // all failed within a second, long before their deadline
  for (auto& o : out)
    EXPECT_EQ(o.status().code(), ErrorCode::kUnavailable) << o.status().to_string();
  auto down = sim::run_task(r.sim.loop(), pool.call(r.peer(0), "echo", {}, seconds(2)));
  EXPECT_FALSE(down.ok());
  r.server_nodes[0]->start();
  r.sim.loop().run_until(r.sim.loop().now() + milliseconds(10));
  auto back = sim::run_task(r.sim.loop(), pool.call(r.peer(0), "echo", to_bytes("hi"), seconds(5)));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(to_string(*back), "hi");
}

// A server that loses power sends no reset: the call times out, and since nothing at all came
// back on the connection the channel is closed, so the next call reconnects.
TEST(Rpc, SilentPeerTimesOutAndItsConnectionIsDropped) {
  Rig r(1);
  RpcPool pool(r.client, &*r.client_key, {});
  ASSERT_TRUE(sim::run_task(r.sim.loop(), pool.call(r.peer(0), "echo", {}, seconds(5))).ok());
  EXPECT_EQ(pool.open_channels(), 1u);
  r.server_nodes[0]->crash(/*reset_peers=*/false);
  auto lost = sim::run_task(r.sim.loop(), pool.call(r.peer(0), "echo", {}, seconds(2)));
  EXPECT_EQ(lost.status().code(), ErrorCode::kTimeout) << lost.status().to_string();
  EXPECT_EQ(pool.open_channels(), 0u) << lost.status().to_string();
  r.server_nodes[0]->start();
  r.sim.loop().run_until(r.sim.loop().now() + milliseconds(10));
  auto back = sim::run_task(r.sim.loop(), pool.call(r.peer(0), "echo", to_bytes("hi"), seconds(5)));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(pool.stats().connects, 2u);
}

TEST(Rpc, PoolBoundsConnectionsAndClosesIdleOnes) {
  Rig r(20);
  RpcPoolOptions o;
  o.connections_max = 4;
  o.idle_timeout = seconds(30);
  RpcPool pool(r.client, &*r.client_key, o);
  for (int i = 0; i < 20; ++i) {
    auto out = sim::run_task(r.sim.loop(), pool.call(r.peer(i), "echo", to_bytes("x"), seconds(5)));
    ASSERT_TRUE(out.ok()) << i << ": " << out.status().to_string();
    EXPECT_LE(pool.open_channels(), 4u);
  }
  EXPECT_EQ(pool.stats().evictions, 16u);
  r.sim.loop().run_until(r.sim.loop().now() + seconds(61));
  EXPECT_EQ(pool.open_channels(), 0u);
  EXPECT_GT(pool.stats().idle_closes, 0u);
}

TEST(Rpc, WrongServerKeyIsRefused) {
  Rig r(1);
  RpcPool pool(r.client, &*r.client_key, {});
  Peer wrong = r.peer(0);
  wrong.key[0] ^= 1;
  auto out = sim::run_task(r.sim.loop(), pool.call(wrong, "echo", {}, seconds(5)));
  EXPECT_EQ(out.status().code(), ErrorCode::kPermissionDenied);
}

// A raw secure client that sends hand-made envelopes.
Task<std::vector<std::string>> raw_exchange(SimNode* client, const net::NodeKey* key, Peer peer,
                                            std::vector<Bytes> frames) {
  std::vector<std::string> log;
  auto conn = co_await net::secure_connect(client, peer.address, key, peer.key, {});
  if (!conn.ok()) co_return std::vector<std::string>{conn.status().to_string()};
  for (auto& f : frames) {
    if (!(co_await (*conn)->send(std::move(f))).is_ok()) break;
    auto reply = co_await with_timeout(client->executor(), seconds(2), (*conn)->receive(), "r");
    if (!reply.ok()) {
      log.push_back(reply.status().to_string());
      break;
    }
    auto e = decode_envelope(*reply);
    log.push_back(e.ok() ? response_result(*e).status().to_string() : "garbled reply");
  }
  co_return log;
}

TEST(Rpc, NewerVersionGetsAnErrorAndGarbageClosesTheConnection) {
  Rig r(1);
  Envelope newer = make_request(1, "echo", {}, 1000);
  newer.set_version(2);
  Envelope ok = make_request(2, "echo", {}, 1000);
  auto log = sim::run_task(r.sim.loop(),
                           raw_exchange(r.client, &*r.client_key, r.peer(0),
                                        {encode_envelope(newer), encode_envelope(ok),
                                         to_bytes("\xff\xff garbage"), encode_envelope(ok)}));
  ASSERT_EQ(log.size(), 3u);
  EXPECT_NE(log[0].find("envelope version 2 is not supported"), std::string::npos) << log[0];
  EXPECT_EQ(log[1], "OK");  // the connection survived the newer version
  EXPECT_NE(log[2].find("Unavailable"), std::string::npos) << log[2];
}

}  // namespace
}  // namespace lafs::rpc
