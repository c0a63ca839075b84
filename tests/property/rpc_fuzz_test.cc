// Fuzz-style properties of the RPC layer: random and mutated frames and envelopes never crash a
// server, never make it hold unbounded memory, and always end in a clean answer or disconnect;
// envelope decoding never crashes on garbage.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/net/secure_channel.h"
#include "core/rpc/envelope.h"
#include "core/rpc/rpc_server.h"
#include "core/runtime/when.h"
#include "net/sim/sim_run.h"
#include "net/sim/simulation.h"

namespace lafs::rpc {
namespace {

Task<Result<Bytes>> echo(Bytes p) {
  co_return p;
}

RC_GTEST_PROP(RpcFuzz, DecodeEnvelopeNeverCrashes, (std::vector<std::uint8_t> bytes)) {
  auto e = decode_envelope(bytes);
  if (!e.ok()) RC_ASSERT(e.status().code() == ErrorCode::kProtocolError);
}

// Mutates a valid envelope by flipping, truncating or extending bytes.
Bytes mutate(Bytes frame, const std::vector<std::pair<std::size_t, std::uint8_t>>& edits,
             std::size_t cut) {
  for (auto [pos, val] : edits) {
    if (!frame.empty()) frame[pos % frame.size()] ^= val;
  }
  if (cut < frame.size()) frame.resize(cut);
  return frame;
}

struct Outcome {
  std::vector<std::string> replies;
  bool closed = false;
};

// Sends every frame over a secure connection to an RPC server node and collects what comes
// back; stops at the first disconnect.
Task<Outcome> send_frames(sim::SimNode* client, std::string address, net::PublicKey server_key,
                          std::vector<Bytes> frames) {
  Outcome out;
  net::NodeKey key = net::NodeKey::generate(client->random());
  auto conn = co_await net::secure_connect(client, address, &key, server_key, {});
  if (!conn.ok()) co_return out;
  for (auto& f : frames) {
    if (!(co_await (*conn)->send(std::move(f))).is_ok()) {
      out.closed = true;
      co_return out;
    }
    auto r = co_await with_timeout(client->executor(), seconds(2), (*conn)->receive(), "reply");
    if (!r.ok()) {
      out.closed = r.status().code() != ErrorCode::kTimeout;
      if (out.closed) co_return out;
      continue;  // no reply (e.g. a response-kind frame was ignored): keep going
    }
    auto e = decode_envelope(*r);
    RC_ASSERT(e.ok());  // whatever we sent, the server answers with well-formed envelopes
    out.replies.push_back(response_result(*e).status().to_string());
  }
  co_return out;
}

Task<void> serve_one(sim::SimNode* node, const net::NodeKey* key, RpcServer* server) {
  auto l = node->network().listen(node->address(1));
  if (!l.ok()) co_return;
  co_await run_rpc_listener(node, l->get(), key, server, {});
}

RC_GTEST_PROP(RpcFuzz, MutatedEnvelopesGetAnswersOrCleanDisconnects,
              (std::vector<std::pair<std::size_t, std::uint8_t>> edits, std::size_t cut,
               std::vector<std::uint8_t> junk, std::uint32_t version)) {
  sim::Simulation sim(sim::SimulationOptions{});
  sim::SimNode& server_node = sim.add_node("server");
  sim::SimNode& client = sim.add_node("client");
  server_node.start();
  client.start();
  net::NodeKey key = net::NodeKey::generate(server_node.random());
  RpcServer server(&server_node);
  server.add_method("echo", [](Bytes p, CallContext) { return echo(std::move(p)); });
  server_node.scope().spawn(serve_one(&server_node, &key, &server));
  Envelope base = make_request(7, "echo", to_bytes("payload"), 1000);
  base.set_version(version % 4);
  std::vector<Bytes> frames = {mutate(encode_envelope(base), edits, cut), junk,
                               encode_envelope(make_request(8, "echo", {}, 1000))};
  Outcome out = sim::run_task(
      sim.loop(), send_frames(&client, server_node.address(1), key.public_key(), frames));
  // Every exchange ended in an answer or a clean disconnect; the server holds no request.
  RC_ASSERT(out.closed || out.replies.size() <= frames.size());
  sim.loop().run_until(sim.loop().now() + seconds(10));
  RC_ASSERT(server.stats().requests + server.stats().protocol_errors <= frames.size());
}

// Raw garbage straight at the listener (no handshake): refused without a crash.
RC_GTEST_PROP(RpcFuzz, GarbageBeforeHandshakeIsRefused,
              (std::vector<std::vector<std::uint8_t>> frames)) {
  sim::Simulation sim(sim::SimulationOptions{});
  sim::SimNode& server_node = sim.add_node("server");
  sim::SimNode& client = sim.add_node("client");
  server_node.start();
  client.start();
  net::NodeKey key = net::NodeKey::generate(server_node.random());
  RpcServer server(&server_node);
  server_node.scope().spawn(serve_one(&server_node, &key, &server));
  sim::run_task(sim.loop(),
                [](sim::SimNode* c, std::string addr,
                   std::vector<std::vector<std::uint8_t>> fs) -> Task<void> {
                  auto conn = co_await c->network().connect(addr);
                  if (!conn.ok()) co_return;
                  for (auto& f : fs) {
                    if (!(co_await (*conn)->send(Bytes(f.begin(), f.end()))).is_ok()) co_return;
                  }
                  (void)co_await with_timeout(c->executor(), seconds(15), (*conn)->receive(), "r");
                }(&client, server_node.address(1), frames));
  RC_ASSERT(server.stats().requests == 0u);
}

}  // namespace
}  // namespace lafs::rpc
