#include "core/toy/counter_service.h"

#include <cmath>
#include <memory>

namespace lafs::toy {

namespace {

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
  if (stored->size() != 8) {
    return corruption("stored counter has " + std::to_string(stored->size()) + " bytes, want 8");
  }
  return get_u64(reinterpret_cast<const std::uint8_t*>(stored->data()));
}

// The server's durable counter, loaded once and written through on every increment.
struct CounterState {
  Env* env;
  CounterServerOptions options;
  CounterServerStats* stats;
  std::optional<std::uint64_t> value;
};

Task<Result<std::uint64_t>> increment_durably(CounterState* state) {
  if (!state->value) {
    auto stored = co_await state->env->kv().get(kCounterKey);
    if (!stored.ok()) co_return stored.status();
    auto v = parse_counter(*stored);
    if (!v.ok()) co_return v.status();
    if (!state->value) state->value = *v;  // another request may have loaded it meanwhile
  }
  const std::uint64_t next = *state->value + 1;
  *state->value = next;
  std::string encoded(8, '\0');
  put_u64(reinterpret_cast<std::uint8_t*>(encoded.data()), next);
  Status s = co_await state->env->kv().put(kCounterKey, std::move(encoded),
                                           state->options.sync_before_ack);
  if (!s.is_ok()) co_return s;
  co_return next;
}

Task<Result<Bytes>> handle_increment(CounterState* state, Bytes payload) {
  if (payload.size() > kCounterPayloadBytesMax) {
    co_return invalid_argument("increment padding over " + std::to_string(kCounterPayloadBytesMax) +
                               " bytes");
  }
  auto v = co_await increment_durably(state);
  if (!v.ok()) {
    state->env->logger().log(LogLevel::kError, "toy", "counter write: " + v.status().to_string());
    co_return v.status();
  }
  ++state->stats->increments;
  Bytes reply(8 + payload.size(), 0x5a);
  put_u64(reply.data(), *v);
  co_return reply;
}

Duration exponential(Random& rng, Duration mean) {
  const double u = rng.next_double();
  return Duration(
      static_cast<std::int64_t>(-std::log(1.0 - u) * static_cast<double>(mean.count())));
}

}  // namespace

Task<void> run_counter_server(Env* env, std::string listen_address, net::NodeKey key,
                              CounterServerOptions options, CounterServerStats* stats,
                              std::string* bound_address) {
  auto listener = env->network().listen(listen_address);
  if (!listener.ok()) {
    env->logger().log(LogLevel::kError, "toy", "listen: " + listener.status().to_string());
    co_return;
  }
  if (bound_address) *bound_address = (*listener)->address();
  CounterState state{env, options, stats, std::nullopt};
  rpc::RpcServer server(env);
  server.add_method(kIncrementMethod, [s = &state](Bytes payload, rpc::CallContext) {
    return handle_increment(s, std::move(payload));
  });
  co_await rpc::run_rpc_listener(env, listener->get(), &key, &server, {});
}

Task<Result<std::uint64_t>> counter_increment(rpc::RpcPool* pool, rpc::Peer peer, Duration timeout,
                                              std::size_t payload_bytes) {
  auto reply =
      co_await pool->call(std::move(peer), kIncrementMethod, Bytes(payload_bytes, 0x5a), timeout);
  if (!reply.ok()) co_return reply.status();
  if (reply->size() != 8 + payload_bytes) {
    co_return protocol_error("increment reply has " + std::to_string(reply->size()) +
                             " bytes, want " + std::to_string(8 + payload_bytes));
  }
  co_return get_u64(reply->data());
}

void observe_value(CounterClientStats* stats, const std::string& peer, std::uint64_t value) {
  std::uint64_t& last = stats->last_seen[peer];
  if (value <= last) {
    ++stats->violations;
    if (stats->violation_messages.size() < 10) {
      stats->violation_messages.push_back(peer + " answered " + std::to_string(value) + " after " +
                                          std::to_string(last));
    }
  }
  if (value > last) last = value;
}

Task<void> run_counter_client(Env* env, net::NodeKey key, std::vector<rpc::Peer> peers,
                              CounterClientOptions options, CounterClientStats* stats) {
  LAFS_ASSERT(!peers.empty());
  rpc::RpcPool pool(env, &key, options.pool);
  for (;;) {
    co_await sleep_for(env->executor(), exponential(env->random(), options.mean_interval));
    const rpc::Peer& peer = peers[env->random().uniform(peers.size())];
    ++stats->attempted;
    auto v = co_await counter_increment(&pool, peer, options.timeout, options.payload_bytes);
    if (!v.ok()) {
      ++(v.status().code() == ErrorCode::kTimeout ? stats->timed_out : stats->failed);
      continue;
    }
    ++stats->succeeded;
    observe_value(stats, peer.address, *v);
  }
}

}  // namespace lafs::toy
