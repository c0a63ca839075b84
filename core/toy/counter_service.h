// The toy counter service of the foundation: a placeholder workload that exercises every part
// of the Env (network, durable KV, clocks, randomness, timeouts, cancellation) before the real
// storage protocol exists. The same code runs in lafs-sim and, in Foundation 2, as real
// processes. A server keeps one durable counter; INC increments it, syncs it to the KV store and
// only then replies with the new value. So a client that saw value v from a server must never
// later see a value <= v from it, across crashes: the invariant the simulator checks.
//
// Wire format (one frame each way, little-endian): kind u8 (1 = INC, 2 = VALUE), request id u64,
// value u64, then a payload of up to kCounterPayloadBytesMax bytes that the reply echoes (it only
// gives messages a realistic size). Anything else closes the connection.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/env/env.h"
#include "core/runtime/task.h"

namespace lafs::toy {

inline constexpr std::size_t kCounterHeaderBytes = 17;
inline constexpr std::size_t kCounterPayloadBytesMax = 1 << 20;
// Connections one server serves at once; more are closed at accept.
inline constexpr std::size_t kCounterConnectionsMax = 64;
inline constexpr const char* kCounterKey = "toy/counter";

struct CounterServerStats {
  std::uint64_t connections = 0;
  std::uint64_t connections_refused = 0;
  std::uint64_t increments = 0;
  std::uint64_t protocol_errors = 0;
};

struct CounterServerOptions {
  // Sync the counter before acknowledging it. Only tests turn this off, to prove that the
  // simulator's invariant check catches a server that acknowledges unsynced data.
  bool sync_before_ack = true;
};

// Serves INC requests on `listen_address` until cancelled (or the listener fails).
Task<void> run_counter_server(Env* env, std::string listen_address, CounterServerOptions options,
                              CounterServerStats* stats);

// One INC round trip: connect, send, await the reply. Times out after `timeout`.
Task<Result<std::uint64_t>> counter_increment(Env* env, std::string address, Duration timeout,
                                              std::size_t payload_bytes);

struct CounterClientOptions {
  Duration mean_interval = seconds(60);  // exponential gaps between requests
  Duration timeout = seconds(2);
  std::size_t payload_bytes = 0;
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
Task<void> run_counter_client(Env* env, std::vector<std::string> peers,
                              CounterClientOptions options, CounterClientStats* stats);

// Frame encoding, exposed for tests.
Bytes encode_counter_frame(std::uint8_t kind, std::uint64_t request_id, std::uint64_t value,
                           std::size_t payload_bytes);
struct CounterFrame {
  std::uint8_t kind;
  std::uint64_t request_id;
  std::uint64_t value;
  std::size_t payload_bytes;
};
Result<CounterFrame> decode_counter_frame(ByteView frame);

}  // namespace lafs::toy
