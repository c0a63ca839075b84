#include "core/net/secure_channel.h"

#include "core/runtime/when.h"

namespace lafs::net {

// Shared by the connection object and the frames of calls in flight on it.
struct SecureConnection::State {
  std::unique_ptr<Connection> raw;
  SessionCiphers ciphers;
  bool broken = false;
};

SecureConnection::SecureConnection(std::unique_ptr<Connection> raw, SessionCiphers ciphers,
                                   PublicKey peer_key)
    : state_(std::make_shared<State>(State{std::move(raw), std::move(ciphers), false})),
      peer_key_(peer_key) {}

SecureConnection::~SecureConnection() {
  close();
}

Task<Status> SecureConnection::send(Bytes frame) {
  return do_send(state_, std::move(frame));
}
Task<Result<Bytes>> SecureConnection::receive() {
  return do_receive(state_);
}

void SecureConnection::close() {
  state_->broken = true;
  state_->raw->close();
}

std::string SecureConnection::peer_address() const {
  return state_->raw->peer_address();
}

Task<Status> SecureConnection::do_send(std::shared_ptr<State> s, Bytes frame) {
  if (s->broken) co_return unavailable("secure connection is closed");
  co_return co_await s->raw->send(s->ciphers.send.seal(frame));
}

Task<Result<Bytes>> SecureConnection::do_receive(std::shared_ptr<State> s) {
  if (s->broken) co_return unavailable("secure connection is closed");
  auto sealed = co_await s->raw->receive();
  if (!sealed.ok()) co_return sealed.status();
  auto plain = s->ciphers.receive.open(*sealed);
  if (!plain.ok()) {
    s->broken = true;
    s->raw->close();
    co_return protocol_error("closed connection to " + s->raw->peer_address() + ": " +
                             plain.status().message());
  }
  co_return std::move(*plain);
}

namespace {

std::array<std::uint8_t, 32> fresh_seed(Env* env) {
  std::array<std::uint8_t, 32> seed{};
  env->random().fill(seed);
  return seed;
}

Task<Result<std::unique_ptr<SecureConnection>>> client_steps(Env* env,
                                                             std::unique_ptr<Connection> raw,
                                                             const NodeKey* key, PublicKey expected,
                                                             std::optional<GridSecret> secret) {
  auto seed = fresh_seed(env);
  InitiatorHandshake hs(*key, expected, seed, secret ? &*secret : nullptr);
  sodium_memzero(seed.data(), seed.size());
  LAFS_CO_RETURN_IF_ERROR(co_await raw->send(hs.message1()));
  auto m2 = co_await raw->receive();
  if (!m2.ok()) co_return m2.status().with_context("handshake");
  auto m3 = hs.on_message2(*m2);
  if (!m3.ok()) {
    raw->close();
    co_return m3.status();
  }
  LAFS_CO_RETURN_IF_ERROR(co_await raw->send(std::move(*m3)));
  co_return std::make_unique<SecureConnection>(std::move(raw), hs.take_ciphers(), expected);
}

Task<Result<std::unique_ptr<SecureConnection>>> server_steps(Env* env,
                                                             std::unique_ptr<Connection> raw,
                                                             const NodeKey* key,
                                                             std::optional<GridSecret> secret) {
  auto seed = fresh_seed(env);
  ResponderHandshake hs(*key, seed, secret ? &*secret : nullptr);
  sodium_memzero(seed.data(), seed.size());
  auto m1 = co_await raw->receive();
  if (!m1.ok()) co_return m1.status().with_context("handshake");
  auto m2 = hs.on_message1(*m1);
  if (!m2.ok()) {
    raw->close();
    co_return m2.status();
  }
  LAFS_CO_RETURN_IF_ERROR(co_await raw->send(std::move(*m2)));
  auto m3 = co_await raw->receive();
  if (!m3.ok()) co_return m3.status().with_context("handshake");
  auto peer = hs.on_message3(*m3);
  if (!peer.ok()) {
    raw->close();
    co_return peer.status();
  }
  co_return std::make_unique<SecureConnection>(std::move(raw), hs.take_ciphers(), *peer);
}

Task<Result<std::unique_ptr<SecureConnection>>> connect_steps(Env* env, std::string address,
                                                              const NodeKey* key,
                                                              PublicKey expected,
                                                              std::optional<GridSecret> secret) {
  auto raw = co_await env->network().connect(address);
  if (!raw.ok()) co_return raw.status();
  co_return co_await client_steps(env, std::move(*raw), key, expected, secret);
}

}  // namespace

Task<Result<std::unique_ptr<SecureConnection>>> secure_client_handshake(
    Env* env, std::unique_ptr<Connection> raw, const NodeKey* key, PublicKey expected_peer,
    SecureOptions options) {
  return with_timeout(env->executor(), options.handshake_timeout,
                      client_steps(env, std::move(raw), key, expected_peer, options.grid_secret),
                      "handshake");
}

Task<Result<std::unique_ptr<SecureConnection>>> secure_server_handshake(
    Env* env, std::unique_ptr<Connection> raw, const NodeKey* key, SecureOptions options) {
  return with_timeout(env->executor(), options.handshake_timeout,
                      server_steps(env, std::move(raw), key, options.grid_secret), "handshake");
}

Task<Result<std::unique_ptr<SecureConnection>>> secure_connect(Env* env, std::string address,
                                                               const NodeKey* key,
                                                               PublicKey expected_peer,
                                                               SecureOptions options) {
  return with_timeout(env->executor(), options.handshake_timeout,
                      connect_steps(env, address, key, expected_peer, options.grid_secret),
                      "secure connect to " + address);
}

}  // namespace lafs::net
