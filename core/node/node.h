// A node: its configuration, its Env and the services its roles run (introducer, storage server,
// client), wired together. Used by `lafs run` over the RealEnv and by tests in the simulator; the
// web gateway (web_api.h) serves a node's client. docs/running-a-grid.md describes the roles.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/client/checker.h"
#include "core/client/client_service.h"
#include "core/client/deep_check.h"
#include "core/client/directory.h"
#include "core/client/maintenance.h"
#include "core/client/mutable_client.h"
#include "core/env/env.h"
#include "core/introducer/introducer_server.h"
#include "core/introducer/publisher.h"
#include "core/net/node_key.h"
#include "core/node/config.h"
#include "core/rpc/rpc_pool.h"
#include "core/rpc/rpc_server.h"
#include "core/storage/storage_server.h"

namespace lafs::node {

// What a node holds under private/ (and, for a member of a grid, the introducer address).
struct NodeSecrets {
  std::array<std::uint8_t, 32> node_key_seed{};
  std::optional<net::GridSecret> grid_secret;  // absent: a grid without one (tests)
  client::ClientSecrets client;
  // Where the introducer is (and, inside, the grid secret). Absent for the introducer itself.
  std::optional<IntroducerAddress> introducer;
};

class Node {
 public:
  // `env` must outlive the node.
  Node(Env* env, NodeConfig config, NodeSecrets secrets);
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  ~Node();

  // Opens the storage server and binds the node-to-node listener (introducer and storage
  // roles), trying `preferred_listen` first when given (the port a previous run had). Errors
  // name what failed (the listen address in use, the storage directory unusable).
  Task<Status> start(std::optional<std::string> preferred_listen = std::nullopt);

  // Serves, announces and subscribes until cancelled. start() first.
  Task<void> run();

  const NodeConfig& config() const { return config_; }
  const net::NodeKey& key() const { return key_; }
  // The bound node-to-node address ("" without a listener) and what is announced.
  const std::string& listen_address() const { return bound_; }
  std::string advertised_address() const;
  // For the introducer role: the address that joins a node to this grid.
  std::optional<IntroducerAddress> introducer_address() const;

  // The client role's services; null without it.
  client::ClientService* client() { return client_.get(); }
  client::MutableClient* mutable_client() { return mutable_.get(); }
  client::DirectoryClient* directories() { return directories_.get(); }
  client::Checker* checker() { return checker_.get(); }
  client::DeepChecker* deep_checker() { return deep_checker_.get(); }
  // The maintenance agent; null without the client role or with it disabled.
  const client::MaintenanceAgent* maintenance() const { return maintenance_.get(); }
  storage::StorageServer* storage() { return storage_.get(); }
  introducer::IntroducerServer* introducer_server() { return introducer_.get(); }
  Env* env() { return env_; }
  const rpc::RpcPool& pool() const { return pool_; }

 private:
  Env* env_;
  NodeConfig config_;
  NodeSecrets secrets_;
  net::NodeKey key_;
  rpc::RpcPool pool_;
  rpc::RpcServer rpc_;
  std::unique_ptr<Listener> listener_;
  std::string bound_;
  std::unique_ptr<introducer::IntroducerServer> introducer_;
  std::unique_ptr<storage::StorageServer> storage_;
  std::unique_ptr<introducer::Publisher> publisher_;
  std::unique_ptr<client::ClientService> client_;
  std::unique_ptr<client::MutableClient> mutable_;
  std::unique_ptr<client::DirectoryClient> directories_;
  std::unique_ptr<client::Checker> checker_;
  std::unique_ptr<client::DeepChecker> deep_checker_;
  std::unique_ptr<client::MaintenanceAgent> maintenance_;
  // The maintenance agent's roots: the directories in private/aliases.
  Task<std::vector<cap::Cap>> alias_roots();
};

}  // namespace lafs::node
