// `lafs debug introducer` and `lafs debug storage-server`: an introducer and storage servers as
// real processes (RealEnv: TCP, POSIX files, RocksDB), for integration tests and by hand until
// the node daemon (`lafs run`) exists. Both bind to --listen (port 0 for any), write the bound
// address to --port-file atomically once listening, and stop cleanly on SIGTERM/SIGINT.
#include <iostream>
#include <memory>
#include <string>

#include "bin/commands.h"
#include "bin/process_util.h"
#include "core/introducer/introducer_server.h"
#include "core/introducer/publisher.h"
#include "core/rpc/rpc_pool.h"
#include "core/rpc/rpc_server.h"
#include "core/storage/storage_service.h"
#include "net/real/real_run.h"

namespace lafs::cli {
namespace {

struct GridArgs {
  std::string listen = "127.0.0.1:0";
  std::string port_file;
  std::string key_seed;
  std::string dir;
  std::string introducer;      // storage-server: where to announce
  std::string introducer_key;  // its node key, hex
  std::string nickname;
};

// Listens, reports the address, then runs `serve` until a signal or its end.
template <typename Serve>
int run_listening(const char* name, const GridArgs& args, EnvHolder& holder,
                  const net::NodeKey& key, SignalWatcher& watcher, Serve serve) {
  real::RealEnv& env = *holder.env;
  auto listener = env.network().listen(args.listen);
  if (!listener.ok()) {
    std::cerr << "lafs debug " << name << ": listen: " << listener.status().to_string() << "\n";
    return 1;
  }
  const std::string bound = (*listener)->address();
  Scope scope(env.executor());
  scope.spawn(serve(listener->get(), bound));
  std::cout << "node-key: " << net::to_hex(key.public_key()) << "\n"
            << "listening: " << bound << std::endl;
  if (!args.port_file.empty()) {
    Status s = write_file_atomically(args.port_file, bound + "\n");
    if (!s.is_ok()) {
      std::cerr << "lafs debug " << name << ": " << s.to_string() << "\n";
      return 1;
    }
  }
  env.real_executor().run_until([&] { return scope.size() == 0 || watcher.signalled(); });
  scope.cancel();
  std::cout << "stopped" << (watcher.signalled() ? " by signal" : "") << std::endl;
  return watcher.signalled() ? 0 : 1;
}

int run_introducer(const GridArgs& args) {
  SignalWatcher::block();
  auto key = key_from_seed_hex(args.key_seed);
  if (!key.ok()) {
    std::cerr << "lafs debug introducer: " << key.status().message() << "\n";
    return 2;
  }
  auto holder = open_env(args.dir);
  if (!holder.ok()) {
    std::cerr << "lafs debug introducer: " << holder.status().to_string() << "\n";
    return 1;
  }
  Env* env = holder->env.get();
  SignalWatcher watcher(holder->env->real_executor());
  introducer::IntroducerServer introducer(env);
  rpc::RpcServer rpc(env);
  introducer.register_methods(rpc);
  const net::NodeKey* k = &*key;
  return run_listening("introducer", args, *holder, *key, watcher,
                       [env, k, &rpc](Listener* l, std::string) -> Task<void> {
                         return rpc::run_rpc_listener(env, l, k, &rpc, {});
                       });
}

Task<void> serve_storage(Env* env, Listener* listener, const net::NodeKey* key,
                         storage::StorageServer* server, rpc::RpcServer* rpc,
                         introducer::Publisher* publisher) {
  Scope tasks(env->executor());
  tasks.spawn(server->run_maintenance());
  if (publisher != nullptr) tasks.spawn(publisher->run());
  const net::SecureOptions secure;
  co_await rpc::run_rpc_listener(env, listener, key, rpc, secure);
}

int run_storage_server(const GridArgs& args) {
  SignalWatcher::block();
  auto key = key_from_seed_hex(args.key_seed);
  if (!key.ok()) {
    std::cerr << "lafs debug storage-server: " << key.status().message() << "\n";
    return 2;
  }
  std::optional<net::PublicKey> introducer_key;
  if (!args.introducer.empty()) {
    auto ik = net::public_key_from_hex(args.introducer_key);
    if (!ik.ok()) {
      std::cerr << "lafs debug storage-server: --introducer-key: want 64 hex digits\n";
      return 2;
    }
    introducer_key = *ik;
  }
  auto holder = open_env(args.dir, 2);
  if (!holder.ok()) {
    std::cerr << "lafs debug storage-server: " << holder.status().to_string() << "\n";
    return 1;
  }
  real::RealEnv& env = *holder->env;
  SignalWatcher watcher(env.real_executor());
  auto server = real::run_task(env.real_executor(),
                               storage::StorageServer::open(&env, storage::StorageOptions{}));
  if (!server.ok()) {
    std::cerr << "lafs debug storage-server: " << server.status().to_string() << "\n";
    return 1;
  }
  rpc::RpcServer rpc(&env);
  storage::register_storage_methods(rpc, server->get());
  rpc::RpcPool pool(&env, &*key, {});
  std::unique_ptr<introducer::Publisher> publisher;
  const net::NodeKey* k = &*key;
  Env* e = &env;
  return run_listening("storage-server", args, *holder, *key, watcher,
                       [&, e, k](Listener* l, std::string bound) -> Task<void> {
                         if (introducer_key) {
                           introducer::Announcement a;
                           a.node_key = k->public_key();
                           a.nickname = args.nickname.empty() ? "storage" : args.nickname;
                           a.addresses = {bound};
                           auto space = real::run_task(env.real_executor(), (*server)->space());
                           if (space.ok()) {
                             a.available_bytes = space->available_bytes;
                             a.read_only = space->read_only;
                           }
                           publisher = std::make_unique<introducer::Publisher>(
                               e, &pool, rpc::Peer{args.introducer, *introducer_key}, k, a);
                         }
                         return serve_storage(e, l, k, server->get(), &rpc, publisher.get());
                       });
}

}  // namespace

void add_grid_commands(CLI::App& debug) {
  auto intro_args = std::make_shared<GridArgs>();
  auto* intro = debug.add_subcommand("introducer", "Run an introducer over TCP");
  intro->add_option("--listen", intro_args->listen, "host:port to bind (port 0: any)");
  intro->add_option("--port-file", intro_args->port_file, "Write the bound host:port here");
  intro->add_option("--key-seed", intro_args->key_seed, "64 hex digits: the node key's seed")
      ->required();
  intro->add_option("--dir", intro_args->dir, "Data directory (default: a temporary one)");
  intro->callback([intro_args] { exit_code = run_introducer(*intro_args); });

  auto args = std::make_shared<GridArgs>();
  auto* ss = debug.add_subcommand("storage-server", "Run a storage server over TCP");
  ss->add_option("--listen", args->listen, "host:port to bind (port 0: any)");
  ss->add_option("--port-file", args->port_file, "Write the bound host:port here");
  ss->add_option("--key-seed", args->key_seed, "64 hex digits: the node key's seed")->required();
  ss->add_option("--dir", args->dir, "Data directory (default: a temporary one)");
  ss->add_option("--introducer", args->introducer, "Introducer host:port to announce to");
  ss->add_option("--introducer-key", args->introducer_key, "The introducer's node key, hex");
  ss->add_option("--nickname", args->nickname, "Name in the announcement");
  ss->callback([args] { exit_code = run_storage_server(*args); });
}

}  // namespace lafs::cli
