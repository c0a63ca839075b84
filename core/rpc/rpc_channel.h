// RpcChannel: the calling side of one connection. Many calls may be in flight (at most
// kInFlightCallsMax; more wait for a slot); responses are matched by request id; each call has
// a deadline. When the connection breaks, every pending call fails with Unavailable at once. A
// call that times out with nothing received since it was sent closes the channel: the peer or
// the path has gone silent, and the next call should reconnect.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/env/network.h"
#include "core/rpc/rpc.h"
#include "core/runtime/oneshot.h"
#include "core/runtime/scope.h"
#include "core/runtime/semaphore.h"

namespace lafs::rpc {

class RpcChannel : public std::enable_shared_from_this<RpcChannel> {
 public:
  // Takes the connection and starts reading responses.
  static std::shared_ptr<RpcChannel> start(Executor& ex, std::unique_ptr<Connection> conn);
  RpcChannel(const RpcChannel&) = delete;
  RpcChannel& operator=(const RpcChannel&) = delete;
  ~RpcChannel();

  // Calls `method`; waits at most `timeout` in all (for a slot, the send and the response).
  // Errors: the handler's error (code kept, message prefixed "peer: "), Timeout, Unavailable
  // (connection broke), ProtocolError (peer sent garbage), InvalidArgument (payload too big).
  Task<Result<Bytes>> call(std::string method, Bytes payload, Duration timeout);

  // Closes the connection; pending and later calls fail with Unavailable.
  void close();
  bool broken() const { return broken_; }
  std::size_t in_flight() const { return pending_.size(); }
  MonoTime last_used() const { return last_used_; }
  std::string peer_address() const { return peer_address_; }

 private:
  RpcChannel(Executor& ex, std::unique_ptr<Connection> conn);
  using Slot = Oneshot<Result<Bytes>>;
  static Task<Result<Bytes>> do_call(std::shared_ptr<RpcChannel> self, std::string method,
                                     Bytes payload, Duration timeout);
  static Task<void> read_loop(RpcChannel* self);
  void fail_all(const Status& why);

  Executor& ex_;
  std::unique_ptr<Connection> conn_;
  std::string peer_address_;
  Semaphore slots_;
  Semaphore send_lane_;
  std::map<std::uint64_t, Slot*> pending_;
  std::uint64_t next_id_ = 1;
  bool broken_ = false;
  Status broken_reason_;
  MonoTime last_used_;
  std::uint64_t frames_received_ = 0;
  Scope scope_;  // last: the reader dies before the rest
};

}  // namespace lafs::rpc
