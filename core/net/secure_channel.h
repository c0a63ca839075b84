// Secure connections: a Connection wrapped in the handshake of handshake.h. connect succeeds
// only if the peer proves the expected node key; every frame afterwards is encrypted and
// authenticated, and one that fails to open closes the connection. Runs on any Env, so the same
// code is tested in the simulator and used over TCP.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/env/env.h"
#include "core/net/handshake.h"
#include "core/net/node_key.h"

namespace lafs::net {

struct SecureOptions {
  // The whole handshake (and, for secure_connect, the TCP connect) must finish within this.
  Duration handshake_timeout = seconds(10);
  // The grid's shared secret (handshake.h): when set, only peers holding the same one complete
  // the handshake, in either direction.
  std::optional<GridSecret> grid_secret;
};

class SecureConnection final : public Connection {
 public:
  SecureConnection(std::unique_ptr<Connection> raw, SessionCiphers ciphers, PublicKey peer_key);
  ~SecureConnection() override;

  // As Connection::send; the frame grows by kFrameTagBytes on the wire.
  Task<Status> send(Bytes frame) override;
  // As Connection::receive, plus: a frame that fails authentication closes the connection and
  // returns ProtocolError.
  Task<Result<Bytes>> receive() override;
  void close() override;
  std::string peer_address() const override;

  // The key the peer proved in the handshake.
  const PublicKey& peer_key() const { return peer_key_; }

 private:
  struct State;
  static Task<Status> do_send(std::shared_ptr<State> s, Bytes frame);
  static Task<Result<Bytes>> do_receive(std::shared_ptr<State> s);
  std::shared_ptr<State> state_;
  PublicKey peer_key_;
};

// Runs the initiator side over `raw`. Errors: PermissionDenied (wrong key, bad signature),
// ProtocolError (not a lafs peer, bad version), Timeout, Unavailable.
Task<Result<std::unique_ptr<SecureConnection>>> secure_client_handshake(
    Env* env, std::unique_ptr<Connection> raw, const NodeKey* key, PublicKey expected_peer,
    SecureOptions options);

// Runs the responder side over an accepted `raw` connection; learns the peer's key.
Task<Result<std::unique_ptr<SecureConnection>>> secure_server_handshake(
    Env* env, std::unique_ptr<Connection> raw, const NodeKey* key, SecureOptions options);

// Connects to `address` and runs the initiator side, all within options.handshake_timeout.
Task<Result<std::unique_ptr<SecureConnection>>> secure_connect(Env* env, std::string address,
                                                               const NodeKey* key,
                                                               PublicKey expected_peer,
                                                               SecureOptions options);

}  // namespace lafs::net
