// RpcServer: a table of methods and the serving loop for one connection. Requests on a
// connection run concurrently up to kInFlightCallsMax and kInFlightRequestBytesMax; beyond that
// the server stops reading (back-pressure). Each request runs under the caller's timeout (capped
// at kServerTimeoutMax) and is abandoned when it passes. Unknown methods and newer envelope
// versions get error responses; garbage closes the connection.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/env/env.h"
#include "core/net/secure_channel.h"
#include "core/rpc/rpc.h"

namespace lafs::rpc {

struct RpcServerStats {
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;           // responses carrying an error
  std::uint64_t timeouts = 0;         // requests abandoned at their deadline
  std::uint64_t protocol_errors = 0;  // connections closed for garbage
};

class RpcServer {
 public:
  explicit RpcServer(Env* env) : env_(env) {}
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Registers `method` (at most kMethodBytesMax bytes, registered once).
  void add_method(std::string method, Handler handler);

  // Serves requests on `conn` until it closes. `peer_key_hex` names the proven peer (or "").
  Task<void> serve(std::unique_ptr<Connection> conn, std::string peer_key_hex);

  const RpcServerStats& stats() const { return stats_; }

 private:
  struct ConnState;
  static Task<void> run_request(RpcServer* self, std::shared_ptr<ConnState> conn, std::uint64_t id,
                                std::string method, Bytes payload, Duration timeout,
                                std::size_t bytes);
  static Task<void> respond(std::shared_ptr<ConnState> conn, std::uint64_t id,
                            Result<Bytes> result);

  Env* env_;
  std::map<std::string, Handler, std::less<>> methods_;
  RpcServerStats stats_;
};

// Connections one listener serves at once; further ones are closed at accept.
inline constexpr std::size_t kServerConnectionsMax = 1024;

// Accepts connections on `listener` until it fails or the caller's scope ends: runs the secure
// handshake (as `key`) on each, then serves `server`'s methods on it.
Task<void> run_rpc_listener(Env* env, Listener* listener, const net::NodeKey* key,
                            RpcServer* server, net::SecureOptions options);

}  // namespace lafs::rpc
