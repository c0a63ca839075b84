#include "core/node/node.h"

#include "core/node/aliases.h"
#include "core/storage/storage_service.h"

namespace lafs::node {

namespace {

rpc::RpcPoolOptions pool_options(const NodeSecrets& s) {
  rpc::RpcPoolOptions o;
  o.secure.grid_secret = s.grid_secret;
  return o;
}

}  // namespace

Node::Node(Env* env, NodeConfig config, NodeSecrets secrets)
    : env_(env),
      config_(std::move(config)),
      secrets_(std::move(secrets)),
      key_(net::NodeKey::from_seed(secrets_.node_key_seed)),
      pool_(env, &key_, pool_options(secrets_)),
      rpc_(env) {
  if (config_.client && secrets_.introducer) {
    client::ClientServiceOptions co;
    co.encoding = config_.encoding;
    client_ = std::make_unique<client::ClientService>(
        env_, &pool_, rpc::Peer{secrets_.introducer->address, secrets_.introducer->key},
        &secrets_.client, co);
    mutable_ = std::make_unique<client::MutableClient>(env_, &pool_, &secrets_.client);
    client::DirectoryOptions dopts;
    dopts.mutable_params.needed = config_.encoding.needed;
    dopts.mutable_params.total = config_.encoding.total;
    dopts.immutable_params = config_.encoding;
    dopts.happy = config_.encoding.happy;
    directories_ = std::make_unique<client::DirectoryClient>(env_, mutable_.get(),
                                                             &client_->immutable(), dopts);
    checker_ = std::make_unique<client::Checker>(env_, &pool_, &secrets_.client,
                                                 &client_->immutable(), mutable_.get());
    deep_checker_ = std::make_unique<client::DeepChecker>(checker_.get(), directories_.get());
    if (config_.maintenance.enabled) {
      client::MaintenanceOptions mo;
      mo.interval = hours(static_cast<std::int64_t>(config_.maintenance.interval_hours));
      mo.repair = config_.maintenance.repair;
      mo.verify = config_.maintenance.verify;
      mo.batch_objects = config_.maintenance.batch_objects;
      mo.batch_pause = milliseconds(static_cast<std::int64_t>(config_.maintenance.batch_pause_ms));
      maintenance_ = std::make_unique<client::MaintenanceAgent>(
          env_, deep_checker_.get(), [this] { return client_->servers(); }, config_.encoding.happy,
          mo);
      maintenance_->set_root_source([this] { return alias_roots(); });
    }
  }
}

Node::~Node() = default;

Task<Status> Node::start(std::optional<std::string> preferred_listen) {
  if ((config_.storage || config_.client) && !config_.introducer && !secrets_.introducer) {
    co_return failed_precondition(
        "this node has no introducer address (private/introducer): create it with "
        "--introducer, or write the grid's address there");
  }
  if (config_.introducer) {
    introducer_ = std::make_unique<introducer::IntroducerServer>(env_);
    introducer_->register_methods(rpc_);
  }
  if (config_.storage) {
    storage::StorageOptions so;
    so.reserved_bytes = config_.reserved_space;
    so.read_only = config_.read_only;
    auto opened = co_await storage::StorageServer::open(env_, so);
    if (!opened.ok()) co_return opened.status().with_context("storage server");
    storage_ = std::move(*opened);
    storage::register_storage_methods(rpc_, storage_.get());
  }
  if (config_.introducer || config_.storage) {
    Result<std::unique_ptr<Listener>> l = unavailable("not tried");
    if (preferred_listen) l = env_->network().listen(*preferred_listen);
    if (!l.ok()) l = env_->network().listen(config_.listen);
    if (!l.ok()) co_return l.status().with_context("node listen address " + config_.listen);
    listener_ = std::move(*l);
    bound_ = listener_->address();
  }
  if (config_.storage && secrets_.introducer) {
    introducer::Announcement a;
    a.node_key = key_.public_key();
    a.nickname = config_.nickname;
    a.addresses = {advertised_address()};
    auto space = co_await storage_->space();
    if (space.ok()) {
      a.available_bytes = space->available_bytes;
      a.read_only = space->read_only;
    }
    publisher_ = std::make_unique<introducer::Publisher>(
        env_, &pool_, rpc::Peer{secrets_.introducer->address, secrets_.introducer->key}, &key_, a);
  }
  co_return Status{};
}

std::string Node::advertised_address() const {
  return config_.advertise.empty() ? bound_ : config_.advertise;
}

std::optional<IntroducerAddress> Node::introducer_address() const {
  if (!config_.introducer || bound_.empty()) return std::nullopt;
  IntroducerAddress a;
  a.key = key_.public_key();
  if (secrets_.grid_secret) a.grid_secret = *secrets_.grid_secret;
  a.address = advertised_address();
  return a;
}

Task<void> Node::run() {
  Scope tasks(env_->executor());
  if (storage_) tasks.spawn(storage_->run_maintenance());
  if (publisher_) tasks.spawn(publisher_->run());
  if (client_) tasks.spawn(client_->run());
  if (maintenance_) tasks.spawn(maintenance_->run());
  if (listener_) {
    net::SecureOptions secure;
    secure.grid_secret = secrets_.grid_secret;
    co_await rpc::run_rpc_listener(env_, listener_.get(), &key_, &rpc_, secure);
  } else {
    // Nothing to accept: wait, with the services, until cancelled.
    for (;;) co_await sleep_for(env_->executor(), std::chrono::hours(24));
  }
}

Task<std::vector<cap::Cap>> Node::alias_roots() {
  // Every directory in private/aliases, read again each cycle (aliases come and go).
  std::vector<cap::Cap> roots;
  OpenOptions read_only;
  read_only.read_only = true;
  auto file = co_await env_->disk().open("private/aliases", read_only);
  if (!file.ok()) co_return roots;
  auto size = co_await (*file)->size();
  Bytes text(size.ok() ? std::min<std::uint64_t>(*size, kAliasesBytesMax) : 0);
  std::size_t have = 0;
  while (have < text.size()) {
    MutableByteView rest(text.data() + have, text.size() - have);
    auto got = co_await (*file)->read_at(have, rest);
    if (!got.ok() || *got == 0) break;
    have += *got;
  }
  text.resize(have);
  auto aliases = Aliases::parse(to_string(text), "private/aliases");
  if (!aliases.ok()) {
    env_->logger().log(LogLevel::kWarning, "maintenance", aliases.status().to_string());
    co_return roots;
  }
  for (const auto& [name, text_cap] : aliases->entries()) {
    auto c = cap::parse_cap(text_cap);
    if (c.ok() && c->directory) roots.push_back(*c);
  }
  co_return roots;
}

}  // namespace lafs::node
