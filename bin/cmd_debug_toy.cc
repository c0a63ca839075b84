// `lafs debug toy-server` / `lafs debug toy-call`: the simulator's toy counter service (core/toy/)
// run as real processes over TCP, RocksDB and the OS clock: exactly the code lafs-sim runs, with
// the real Env underneath. Used by the two-process tests and by hand.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "bin/commands.h"
#include "bin/process_util.h"
#include "core/net/node_key.h"
#include "core/toy/counter_service.h"
#include "net/real/real_env.h"
#include "net/real/temp_dir.h"

namespace lafs::cli {
namespace {

// Calls one toy-call keeps in flight at most, whatever --concurrency says.
constexpr int kToyCallConcurrencyMax = 4096;

struct ServerArgs {
  std::string listen = "127.0.0.1:0";
  std::string port_file;
  std::string key_seed;
  std::string data_dir;
};

int run_toy_server(const ServerArgs& args) {
  SignalWatcher::block();  // before RealEnv starts its threads, so they inherit the mask
  auto key = key_from_seed_hex(args.key_seed);
  if (!key.ok()) {
    std::cerr << "lafs debug toy-server: " << key.status().message() << "\n";
    return 2;
  }
  auto holder = open_env(args.data_dir);
  if (!holder.ok()) {
    std::cerr << "lafs debug toy-server: " << holder.status().to_string() << "\n";
    return 1;
  }
  real::RealEnv& env = *holder->env;
  SignalWatcher watcher(env.real_executor());
  toy::CounterServerStats stats;
  std::string bound;
  Scope scope(env.executor());
  scope.spawn(toy::run_counter_server(&env, args.listen, *key, {}, &stats, &bound));
  env.real_executor().run_until(
      [&] { return !bound.empty() || scope.size() == 0 || watcher.signalled(); });
  if (bound.empty()) {
    if (watcher.signalled()) return 0;
    std::cerr << "lafs debug toy-server: could not listen on " << args.listen << "\n";
    return 1;
  }
  std::cout << "node-key: " << net::to_hex(key->public_key()) << "\n"
            << "listening: " << bound << std::endl;
  if (!args.port_file.empty()) {
    Status s = write_file_atomically(args.port_file, bound + "\n");
    if (!s.is_ok()) {
      std::cerr << "lafs debug toy-server: " << s.to_string() << "\n";
      return 1;
    }
  }
  env.real_executor().run_until([&] { return scope.size() == 0 || watcher.signalled(); });
  scope.cancel();
  std::cout << "stopped" << (watcher.signalled() ? " by signal " : "")
            << (watcher.signalled() ? std::to_string(watcher.signal()) : "")
            << "; increments served: " << stats.increments << std::endl;
  return watcher.signalled() ? 0 : 1;
}

struct CallArgs {
  std::string server;
  std::string server_key;
  std::string key_seed;
  int calls = 1;
  int concurrency = 1;
  int timeout_ms = 5000;
  std::size_t payload_bytes = 0;
};

struct CallTally {
  int next = 0;  // calls started
  int succeeded = 0;
  std::uint64_t last_value = 0;
  std::map<std::string, std::pair<int, std::string>> failures;  // code -> count, first message
};

Task<void> call_worker(rpc::RpcPool* pool, rpc::Peer peer, const CallArgs* args, CallTally* t) {
  while (t->next < args->calls) {
    ++t->next;
    auto v = co_await toy::counter_increment(pool, peer, milliseconds(args->timeout_ms),
                                             args->payload_bytes);
    if (v.ok()) {
      ++t->succeeded;
      if (*v > t->last_value) t->last_value = *v;
      continue;
    }
    auto& f = t->failures[std::string(error_code_name(v.status().code()))];
    if (f.first++ == 0) f.second = v.status().message();
  }
}

int run_toy_call(const CallArgs& args) {
  auto server_key = net::public_key_from_hex(args.server_key);
  if (!server_key.ok()) {
    std::cerr << "lafs debug toy-call: --server-key: want 64 hex digits\n";
    return 2;
  }
  auto holder = open_env("");
  if (!holder.ok()) {
    std::cerr << "lafs debug toy-call: " << holder.status().to_string() << "\n";
    return 1;
  }
  real::RealEnv& env = *holder->env;
  std::optional<net::NodeKey> key;
  if (args.key_seed.empty()) {
    key.emplace(net::NodeKey::generate(env.random()));
  } else {
    auto k = key_from_seed_hex(args.key_seed);
    if (!k.ok()) {
      std::cerr << "lafs debug toy-call: " << k.status().message() << "\n";
      return 2;
    }
    key.emplace(*k);
  }
  CallTally tally;
  {
    rpc::RpcPool pool(&env, &*key, {});
    Scope scope(env.executor());
    for (int i = 0; i < args.concurrency; ++i) {
      scope.spawn(call_worker(&pool, rpc::Peer{args.server, *server_key}, &args, &tally));
    }
    env.real_executor().run_until([&] { return scope.size() == 0; });
  }
  const int failed = args.calls - tally.succeeded;
  std::cout << "calls: " << args.calls << " succeeded: " << tally.succeeded << " failed: " << failed
            << " last-value: " << tally.last_value << "\n";
  for (const auto& [code, f] : tally.failures) {
    std::cout << "  " << code << ": " << f.first << " (first: " << f.second << ")\n";
  }
  std::cout.flush();
  return failed == 0 ? 0 : 1;
}

}  // namespace

void add_toy_commands(CLI::App& debug) {
  auto* server = debug.add_subcommand(
      "toy-server", "Serve the toy counter over TCP until SIGTERM or SIGINT (for tests)");
  auto sargs = std::make_shared<ServerArgs>();
  server->add_option("--listen", sargs->listen, "Address to listen on; port 0 picks a free one")
      ->capture_default_str();
  server->add_option("--port-file", sargs->port_file,
                     "Once listening, write the bound host:port here (atomically)");
  server->add_option("--key-seed", sargs->key_seed, "The node key's seed: 64 hex digits")
      ->required();
  server->add_option(
      "--data-dir", sargs->data_dir,
      "Where the counter is stored (default: a temporary directory removed at exit)");
  server->callback([sargs] { exit_code = run_toy_server(*sargs); });

  auto* call = debug.add_subcommand(
      "toy-call", "Increment a toy server's counter N times, C calls in flight; exit 0 if all did");
  auto cargs = std::make_shared<CallArgs>();
  call->add_option("--server", cargs->server, "The server's host:port")->required();
  call->add_option("--server-key", cargs->server_key, "The server's node key (64 hex digits)")
      ->required();
  call->add_option("--calls", cargs->calls, "How many increments")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  call->add_option("--concurrency", cargs->concurrency, "Calls in flight at once")
      ->check(CLI::Range(1, kToyCallConcurrencyMax))
      ->capture_default_str();
  call->add_option("--timeout-ms", cargs->timeout_ms, "Deadline of each call")
      ->check(CLI::Range(1, 3'600'000))
      ->capture_default_str();
  call->add_option("--payload-bytes", cargs->payload_bytes, "Padding carried by each call")
      ->check(CLI::Range(std::size_t{0}, toy::kCounterPayloadBytesMax))
      ->capture_default_str();
  call->add_option("--key-seed", cargs->key_seed, "This client's key seed (default: random)");
  call->callback([cargs] { exit_code = run_toy_call(*cargs); });
}

}  // namespace lafs::cli
