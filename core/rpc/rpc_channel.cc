#include "core/rpc/rpc_channel.h"

#include "core/rpc/envelope.h"

namespace lafs::rpc {

std::shared_ptr<RpcChannel> RpcChannel::start(Executor& ex, std::unique_ptr<Connection> conn) {
  std::shared_ptr<RpcChannel> ch(new RpcChannel(ex, std::move(conn)));
  ch->scope_.spawn(read_loop(ch.get()));
  return ch;
}

RpcChannel::RpcChannel(Executor& ex, std::unique_ptr<Connection> conn)
    : ex_(ex),
      conn_(std::move(conn)),
      peer_address_(conn_->peer_address()),
      slots_(ex, kInFlightCallsMax),
      send_lane_(ex, 1),
      last_used_(ex.now()),
      scope_(ex) {}

RpcChannel::~RpcChannel() {
  scope_.cancel();
  close();
}

void RpcChannel::close() {
  if (!broken_) fail_all(unavailable("connection to " + peer_address_ + " closed"));
}

void RpcChannel::fail_all(const Status& why) {
  broken_ = true;
  broken_reason_ = why;
  conn_->close();
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, slot] : pending) slot->set(why);
}

Task<Result<Bytes>> RpcChannel::call(std::string method, Bytes payload, Duration timeout) {
  return do_call(shared_from_this(), std::move(method), std::move(payload), timeout);
}

Task<Result<Bytes>> RpcChannel::do_call(std::shared_ptr<RpcChannel> self, std::string method,
                                        Bytes payload, Duration timeout) {
  if (payload.size() > kPayloadBytesMax) {
    co_return invalid_argument("request payload of " + std::to_string(payload.size()) +
                               " bytes exceeds " + std::to_string(kPayloadBytesMax));
  }
  const MonoTime deadline = self->ex_.now() + timeout;
  const std::string what = method + " at " + self->peer_address_;
  Slot slot(self->ex_);
  // Waiting for a call slot is bounded too: every holder gives its slot back by its deadline.
  auto permit = co_await self->slots_.acquire();
  if (self->broken_) co_return self->broken_reason_;
  if (self->ex_.now() >= deadline) co_return timeout_error(what + ": no call slot in time");
  const std::uint64_t id = self->next_id_++;
  self->pending_[id] = &slot;
  self->last_used_ = self->ex_.now();
  struct Unregister {
    RpcChannel* ch;
    std::uint64_t id;
    ~Unregister() { ch->pending_.erase(id); }
  } unregister{self.get(), id};
  {
    auto lane = co_await self->send_lane_.acquire();
    if (self->broken_) co_return self->broken_reason_;
    const auto timeout_ms = static_cast<std::uint64_t>(timeout.count() / 1'000'000);
    Status s = co_await self->conn_->send(
        encode_envelope(make_request(id, std::move(method), std::move(payload), timeout_ms)));
    if (!s.is_ok()) {
      self->fail_all(s);
      co_return s;
    }
  }
  const std::uint64_t received_before = self->frames_received_;
  std::optional<Result<Bytes>> result = co_await slot.wait_until(deadline);
  self->last_used_ = self->ex_.now();
  if (!result) {
    // Nothing at all has come back since this call went out: the peer or the path is silent
    // (powered off, partitioned). Drop the connection so the next call reconnects instead of
    // feeding a black hole.
    if (self->frames_received_ == received_before && !self->broken_) {
      self->fail_all(
          unavailable("connection to " + self->peer_address_ + " went silent; closed it"));
    }
    co_return timeout_error(what + ": no response in time");
  }
  co_return std::move(*result);
}

Task<void> RpcChannel::read_loop(RpcChannel* self) {
  for (;;) {
    auto frame = co_await self->conn_->receive();
    if (!frame.ok()) {
      self->fail_all(frame.status().code() == ErrorCode::kProtocolError
                         ? frame.status()
                         : unavailable("connection to " + self->peer_address_ +
                                       " broke: " + frame.status().message()));
      co_return;
    }
    ++self->frames_received_;
    auto env = decode_envelope(*frame);
    if (!env.ok() || env->kind() != Envelope::KIND_RESPONSE) {
      self->fail_all(env.ok() ? protocol_error("peer sent a request on a client channel")
                              : env.status());
      co_return;
    }
    auto it = self->pending_.find(env->request_id());
    if (it == self->pending_.end()) continue;  // a late answer to a call that gave up
    Slot* slot = it->second;
    self->pending_.erase(it);
    slot->set(response_result(*env));
  }
}

}  // namespace lafs::rpc
