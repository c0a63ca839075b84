#include "core/toy/counter_service.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <optional>

#include "core/runtime/scope.h"
#include "core/runtime/when.h"

namespace lafs::toy {

namespace {

constexpr std::uint8_t kKindInc = 1;
constexpr std::uint8_t kKindValue = 2;

void put_u64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t get_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

Result<std::uint64_t> parse_counter(const std::optional<std::string>& stored) {
  if (!stored) return std::uint64_t{0};
  if (stored->size() != 8)
    return corruption("stored counter has " + std::to_string(stored->size()) + " bytes, want 8");
  return get_u64(reinterpret_cast<const std::uint8_t*>(stored->data()));
}

// The server's durable counter, loaded once and written through on every increment.
struct CounterState {
  std::optional<std::uint64_t> value;
};

Task<Result<std::uint64_t>> increment_durably(Env* env, CounterState* state, bool sync) {
  if (!state->value) {
    auto stored = co_await env->kv().get(kCounterKey);
    if (!stored.ok()) co_return stored.status();
    auto v = parse_counter(*stored);
    if (!v.ok()) co_return v.status();
    // Another connection may have loaded it while we waited.
    if (!state->value) state->value = *v;
  }
  const std::uint64_t next = *state->value + 1;
  *state->value = next;
  std::string encoded(8, '\0');
  put_u64(reinterpret_cast<std::uint8_t*>(encoded.data()), next);
  Status s = co_await env->kv().put(kCounterKey, std::move(encoded), sync);
  if (!s.is_ok()) co_return s;
  co_return next;
}

Task<void> serve_connection(Env* env, std::unique_ptr<Connection> conn, CounterState* state,
                            CounterServerOptions options, CounterServerStats* stats) {
  for (;;) {
    auto frame = co_await conn->receive();
    if (!frame.ok()) co_return;
    auto req = decode_counter_frame(*frame);
    if (!req.ok() || req->kind != kKindInc) {
      ++stats->protocol_errors;
      env->logger().log(LogLevel::kWarning, "toy", "bad request from " + conn->peer_address());
      co_return;  // closes the connection
    }
    auto v = co_await increment_durably(env, state, options.sync_before_ack);
    if (!v.ok()) {
      env->logger().log(LogLevel::kError, "toy", "counter write failed: " + v.status().to_string());
      co_return;
    }
    ++stats->increments;
    Status s = co_await conn->send(
        encode_counter_frame(kKindValue, req->request_id, *v, req->payload_bytes));
    if (!s.is_ok()) co_return;
  }
}

Task<Result<std::uint64_t>> increment_once(Env* env, std::string address, std::uint64_t id,
                                           std::size_t payload_bytes) {
  auto conn = co_await env->network().connect(address);
  if (!conn.ok()) co_return conn.status();
  Status s = co_await (*conn)->send(encode_counter_frame(kKindInc, id, 0, payload_bytes));
  if (!s.is_ok()) co_return s;
  auto reply = co_await (*conn)->receive();
  if (!reply.ok()) co_return reply.status();
  auto f = decode_counter_frame(*reply);
  if (!f.ok()) co_return f.status();
  if (f->kind != kKindValue || f->request_id != id) {
    co_return protocol_error("reply does not answer request " + std::to_string(id));
  }
  co_return f->value;
}

Duration exponential(Random& rng, Duration mean) {
  double u = rng.next_double();
  return Duration(
      static_cast<std::int64_t>(-std::log(1.0 - u) * static_cast<double>(mean.count())));
}

}  // namespace

Bytes encode_counter_frame(std::uint8_t kind, std::uint64_t request_id, std::uint64_t value,
                           std::size_t payload_bytes) {
  LAFS_ASSERT(payload_bytes <= kCounterPayloadBytesMax);
  Bytes b(kCounterHeaderBytes + payload_bytes, 0x5a);
  b[0] = kind;
  put_u64(b.data() + 1, request_id);
  put_u64(b.data() + 9, value);
  return b;
}

Result<CounterFrame> decode_counter_frame(ByteView frame) {
  if (frame.size() < kCounterHeaderBytes ||
      frame.size() > kCounterHeaderBytes + kCounterPayloadBytesMax) {
    return protocol_error("counter frame has " + std::to_string(frame.size()) + " bytes, want " +
                          std::to_string(kCounterHeaderBytes) + " plus at most " +
                          std::to_string(kCounterPayloadBytesMax));
  }
  if (frame[0] != kKindInc && frame[0] != kKindValue) {
    return protocol_error("unknown counter frame kind " + std::to_string(frame[0]));
  }
  return CounterFrame{frame[0], get_u64(frame.data() + 1), get_u64(frame.data() + 9),
                      frame.size() - kCounterHeaderBytes};
}

Task<void> run_counter_server(Env* env, std::string listen_address, CounterServerOptions options,
                              CounterServerStats* stats) {
  auto listener = env->network().listen(listen_address);
  if (!listener.ok()) {
    env->logger().log(LogLevel::kError, "toy", "listen failed: " + listener.status().to_string());
    co_return;
  }
  CounterState state;
  Scope connections(env->executor());
  for (;;) {
    auto conn = co_await (*listener)->accept();
    if (!conn.ok()) co_return;
    if (connections.size() >= kCounterConnectionsMax) {
      ++stats->connections_refused;
      continue;  // dropping the connection closes it
    }
    ++stats->connections;
    connections.spawn(serve_connection(env, std::move(*conn), &state, options, stats));
  }
}

Task<Result<std::uint64_t>> counter_increment(Env* env, std::string address, Duration timeout,
                                              std::size_t payload_bytes) {
  const std::uint64_t id = env->random().next_u64();
  co_return co_await with_timeout(env->executor(), timeout,
                                  increment_once(env, address, id, payload_bytes),
                                  "increment at " + address);
}

Task<void> run_counter_client(Env* env, std::vector<std::string> peers,
                              CounterClientOptions options, CounterClientStats* stats) {
  LAFS_ASSERT(!peers.empty());
  for (;;) {
    co_await sleep_for(env->executor(), exponential(env->random(), options.mean_interval));
    const std::string& peer = peers[env->random().uniform(peers.size())];
    ++stats->attempted;
    auto v = co_await counter_increment(env, peer, options.timeout, options.payload_bytes);
    if (!v.ok()) {
      ++(v.status().code() == ErrorCode::kTimeout ? stats->timed_out : stats->failed);
      continue;
    }
    ++stats->succeeded;
    std::uint64_t& last = stats->last_seen[peer];
    if (*v <= last) {
      ++stats->violations;
      if (stats->violation_messages.size() < 10) {
        stats->violation_messages.push_back(peer + " answered " + std::to_string(*v) + " after " +
                                            std::to_string(last));
      }
    }
    if (*v > last) last = *v;
  }
}

}  // namespace lafs::toy
