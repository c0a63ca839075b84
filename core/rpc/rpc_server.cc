#include "core/rpc/rpc_server.h"

#include <algorithm>

#include "core/rpc/envelope.h"
#include "core/runtime/scope.h"
#include "core/runtime/semaphore.h"
#include "core/runtime/when.h"

namespace lafs::rpc {

struct RpcServer::ConnState {
  ConnState(Env* env, std::unique_ptr<Connection> c, std::string key)
      : conn(std::move(c)),
        peer_key_hex(std::move(key)),
        slots(env->executor(), kInFlightCallsMax),
        send_lane(env->executor(), 1) {}
  std::unique_ptr<Connection> conn;
  std::string peer_key_hex;
  Semaphore slots;
  Semaphore send_lane;
  std::size_t bytes_in_flight = 0;
};

void RpcServer::add_method(std::string method, Handler handler) {
  LAFS_ASSERT(method.size() <= kMethodBytesMax);
  LAFS_ASSERT(!methods_.contains(method));
  methods_.emplace(std::move(method), std::move(handler));
}

Task<void> RpcServer::respond(std::shared_ptr<ConnState> conn, std::uint64_t id,
                              Result<Bytes> result) {
  auto lane = co_await conn->send_lane.acquire();
  (void)co_await conn->conn->send(encode_envelope(make_response(id, result)));
}

Task<void> RpcServer::run_request(RpcServer* self, std::shared_ptr<ConnState> conn,
                                  std::uint64_t id, std::string method, Bytes payload,
                                  Duration timeout, std::size_t bytes) {
  struct Release {
    ConnState* c;
    std::size_t n;
    ~Release() { c->bytes_in_flight -= n; }
  } release{conn.get(), bytes};
  auto it = self->methods_.find(method);
  Result<Bytes> result = Bytes{};
  if (it == self->methods_.end()) {
    result = unimplemented("unknown method '" + method + "'");
  } else {
    CallContext ctx{conn->conn->peer_address(), conn->peer_key_hex, timeout};
    const Duration limit =
        timeout.count() > 0 ? std::min(timeout, kServerTimeoutMax) : kServerTimeoutMax;
    result = co_await with_timeout(self->env_->executor(), limit,
                                   it->second(std::move(payload), ctx), method);
    if (!result.ok() && result.status().code() == ErrorCode::kTimeout) ++self->stats_.timeouts;
  }
  if (!result.ok()) ++self->stats_.errors;
  co_await respond(conn, id, std::move(result));
}

Task<void> RpcServer::serve(std::unique_ptr<Connection> raw, std::string peer_key_hex) {
  auto conn = std::make_shared<ConnState>(env_, std::move(raw), std::move(peer_key_hex));
  Scope requests(env_->executor());
  for (;;) {
    // Back-pressure: a free call slot before reading the next request.
    auto permit = co_await conn->slots.acquire();
    auto frame = co_await conn->conn->receive();
    if (!frame.ok()) co_return;
    auto env = decode_envelope(*frame);
    if (!env.ok() || env->kind() != Envelope::KIND_REQUEST) {
      ++stats_.protocol_errors;
      env_->logger().log(LogLevel::kWarning, "rpc",
                         "closing connection from " + conn->conn->peer_address() + ": " +
                             (env.ok() ? "response on a server channel" : env.status().message()));
      conn->conn->close();
      co_return;
    }
    ++stats_.requests;
    if (env->version() > kEnvelopeVersion) {
      ++stats_.errors;
      requests.spawn(respond(conn, env->request_id(),
                             protocol_error("envelope version " + std::to_string(env->version()) +
                                            " is not supported; this node speaks 1")));
      continue;
    }
    const std::size_t bytes = env->payload().size();
    while (conn->bytes_in_flight > 0 && conn->bytes_in_flight + bytes > kInFlightRequestBytesMax) {
      co_await sleep_for(env_->executor(), milliseconds(1));  // rare: huge requests in flight
    }
    conn->bytes_in_flight += bytes;
    requests.spawn([](RpcServer* self, std::shared_ptr<ConnState> c, Envelope e, std::size_t n,
                      Semaphore::Permit p) -> Task<void> {
      Bytes payload = to_bytes(e.payload());  // a memcpy (bytes.h)
      co_await run_request(self, c, e.request_id(), e.method(), std::move(payload),
                           milliseconds(e.timeout_ms()), n);
    }(this, conn, std::move(*env), bytes, std::move(permit)));
  }
}

namespace {

Task<void> handshake_and_serve(Env* env, std::unique_ptr<Connection> raw, const net::NodeKey* key,
                               RpcServer* server, net::SecureOptions options) {
  const std::string from = raw->peer_address();
  auto conn = co_await net::secure_server_handshake(env, std::move(raw), key, options);
  if (!conn.ok()) {
    env->logger().log(LogLevel::kInfo, "rpc",
                      "handshake from " + from + " failed: " + conn.status().to_string());
    co_return;
  }
  std::string peer = net::to_hex((*conn)->peer_key());
  co_await server->serve(std::move(*conn), std::move(peer));
}

}  // namespace

Task<void> run_rpc_listener(Env* env, Listener* listener, const net::NodeKey* key,
                            RpcServer* server, net::SecureOptions options) {
  Scope connections(env->executor());
  for (;;) {
    auto raw = co_await listener->accept();
    if (!raw.ok()) co_return;
    if (connections.size() >= kServerConnectionsMax) {
      env->logger().log(LogLevel::kWarning, "rpc", "too many connections; refusing one");
      continue;  // dropping it closes it
    }
    connections.spawn(handshake_and_serve(env, std::move(*raw), key, server, options));
  }
}

}  // namespace lafs::rpc
