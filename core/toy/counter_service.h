// The toy counter service of the foundation: a placeholder workload that exercises every part
// of the Env (network, secure transport, RPC, durable KV, clocks, randomness, timeouts,
// cancellation) before the real storage protocol exists. The same code runs in lafs-sim and as
// real processes (`lafs debug toy-server`). A server keeps one durable counter; the RPC method
// "toy.increment" increments it, syncs it to the KV store and only then replies with the new
// value. So a client that saw value v from a server must never later see a value <= v from it,
// across crashes: the invariant the simulator checks.
//
// toy.increment: request payload = up to kCounterPayloadBytesMax bytes of padding (it only
// gives messages a realistic size); response = the new value (u64 little-endian) followed by as
// much padding as the request had.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/env/env.h"
#include "core/rpc/rpc_pool.h"
#include "core/rpc/rpc_server.h"
#include "core/runtime/task.h"

namespace lafs::toy {

inline constexpr const char* kIncrementMethod = "toy.increment";
inline constexpr std::size_t kCounterPayloadBytesMax = 1 << 20;
inline constexpr const char* kCounterKey = "toy/counter";

struct CounterServerOptions {
  // Sync the counter before acknowledging it. Only tests turn this off, to prove that the
  // simulator's invariant check catches a server that acknowledges unsynced data.
  bool sync_before_ack = true;
};

struct CounterServerStats {
  std::uint64_t increments = 0;
};

// Serves toy.increment on `listen_address` as node `key` until cancelled. When `bound_address`
// is given it receives the address actually bound (for port 0).
Task<void> run_counter_server(Env* env, std::string listen_address, net::NodeKey key,
                              CounterServerOptions options, CounterServerStats* stats,
                              std::string* bound_address);

// One increment at `peer` through `pool`. Errors as RpcPool::call, plus ProtocolError for a
// malformed reply.
Task<Result<std::uint64_t>> counter_increment(rpc::RpcPool* pool, rpc::Peer peer, Duration timeout,
                                              std::size_t payload_bytes);

struct CounterClientOptions {
  Duration mean_interval = seconds(60);  // exponential gaps between requests
  Duration timeout = seconds(2);
  std::size_t payload_bytes = 0;
  rpc::RpcPoolOptions pool;
};

struct CounterClientStats {
  std::uint64_t attempted = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t timed_out = 0;
  std::uint64_t failed = 0;      // refused, reset, protocol error
  std::uint64_t violations = 0;  // a server's value went backwards: acknowledged data lost
  std::map<std::string, std::uint64_t> last_seen;  // per server address
  std::vector<std::string> violation_messages;     // first few, for the report
};

// Forever: wait an exponential gap, pick a random peer, increment its counter, check the
// monotonic-value invariant. Stats live outside the node, so they survive its crashes.
Task<void> run_counter_client(Env* env, net::NodeKey key, std::vector<rpc::Peer> peers,
                              CounterClientOptions options, CounterClientStats* stats);

// Records one observed value in `stats`, checking the invariant. Exposed for tests.
void observe_value(CounterClientStats* stats, const std::string& peer, std::uint64_t value);

}  // namespace lafs::toy
