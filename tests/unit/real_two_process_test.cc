// Two real processes on 127.0.0.1: `lafs debug toy-server` (the simulator's counter service over
// RealEnv) as a child, and an RpcPool client here. Many concurrent calls; the server is killed
// with SIGKILL mid-calls and every call in flight must fail promptly (long before its deadline);
// a server restarted on a new port with the same key and data serves again, and no acknowledged
// increment was lost. Every child is killed and reaped by its guard, also when a test fails.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/runtime/when.h"
#include "core/toy/counter_service.h"
#include "net/real/real_env.h"
#include "net/real/real_run.h"
#include "net/real/temp_dir.h"
#include "tests/unit/child_process.h"
#include "tests/unit/temp_real_env.h"

namespace lafs {
namespace {

using testing::Child;
using testing::read_file;
using testing::wait_for_port_file;

#ifdef LAFS_BINARY
constexpr const char* kLafs = LAFS_BINARY;
#else
constexpr const char* kLafs = nullptr;
#endif

// A server key seed (hex), the same across restarts.
const std::string kSeedHex(64, '7');
// Long deadlines: a call must fail because the connection broke, never because time ran out.
constexpr Duration kCallTimeout = seconds(30);
// How soon after the SIGKILL every call in flight must have failed.
constexpr Duration kPromptFailure = seconds(3);

std::unique_ptr<Child> start_server(const real::TempDir& dir, const std::string& port_file) {
  ::unlink(port_file.c_str());
  return std::make_unique<Child>(
      std::vector<std::string>{kLafs, "debug", "toy-server", "--listen", "127.0.0.1:0",
                               "--port-file", port_file, "--key-seed", kSeedHex, "--data-dir",
                               dir.sub("server")},
      dir.sub("server.log"));
}

// What the client saw; shared by its workers (all on the one executor thread).
struct Load {
  std::set<std::uint64_t> values;
  std::uint64_t max_value = 0;
  int succeeded = 0;
  std::vector<Status> failures;
  std::vector<MonoTime> failed_at;
  int workers_done = 0;
};

std::string first_failure(const Load& load) {
  return load.failures.empty() ? "no failure" : load.failures[0].to_string();
}

// Increments until `calls` have started in all (or forever when -1); stops at its first failure
// when `stop_on_failure`.
Task<void> worker(real::RealEnv* env, rpc::RpcPool* pool, rpc::Peer peer, int* budget,
                  bool stop_on_failure, Load* load) {
  while (*budget != 0) {
    if (*budget > 0) --*budget;
    auto v = co_await toy::counter_increment(pool, peer, kCallTimeout, 64);
    if (v.ok()) {
      ++load->succeeded;
      load->values.insert(*v);
      load->max_value = std::max(load->max_value, *v);
      continue;
    }
    load->failures.push_back(v.status());
    load->failed_at.push_back(env->executor().now());
    if (stop_on_failure) break;
  }
  ++load->workers_done;
}

struct ClientEnv {
  ClientEnv() {
    testing::open_temp_real_env("lafs-toy-client-", &dir, &env);
    key.emplace(net::NodeKey::generate(env->random()));
  }
  std::optional<real::TempDir> dir;
  std::unique_ptr<real::RealEnv> env;
  std::optional<net::NodeKey> key;
};

// Runs `workers` workers sharing `budget` calls until all have finished.
void run_load(ClientEnv* c, rpc::RpcPool* pool, rpc::Peer peer, int budget, int workers,
              Load* load) {
  Scope scope(c->env->executor());
  for (int i = 0; i < workers; ++i) {
    scope.spawn(worker(c->env.get(), pool, peer, &budget, /*stop_on_failure=*/false, load));
  }
  c->env->real_executor().run_until([&] { return scope.size() == 0; }, seconds(60));
  ASSERT_EQ(scope.size(), 0u) << "the load did not finish";
}

// Runs `toy-call` as a third process; its exit status and output.
std::pair<int, std::string> run_toy_call(const real::TempDir& dir, const std::string& addr,
                                         const std::string& key_hex, int calls, int timeout_ms) {
  const std::string log = dir.sub("toy-call.log");
  ::unlink(log.c_str());
  Child call(
      {kLafs, "debug", "toy-call", "--server", addr, "--server-key", key_hex, "--calls",
       std::to_string(calls), "--concurrency", "8", "--timeout-ms", std::to_string(timeout_ms)},
      log);
  if (!call.started()) return {-1, "could not start toy-call"};
  auto status = call.wait(std::chrono::seconds(30));
  if (!status || !WIFEXITED(*status)) return {-1, "toy-call did not exit: " + call.log()};
  return {WEXITSTATUS(*status), call.log()};
}

TEST(RealTwoProcess, KilledServerFailsCallsPromptlyAndARestartedOneServesAgain) {
  // tests/CMakeLists.txt always defines it when the lafs binary is built: its absence is a
  // build error, not a reason to pass.
  ASSERT_NE(kLafs, nullptr) << "LAFS_BINARY is not defined";
  auto d = real::TempDir::make("lafs-toy-two-");
  ASSERT_TRUE(d.ok());
  const real::TempDir& dir = *d;
  auto seed = net::public_key_from_hex(kSeedHex);
  ASSERT_TRUE(seed.ok());
  const net::PublicKey server_key = net::NodeKey::from_seed(*seed).public_key();

  // 1. The server starts on a port of its choosing and reports it.
  auto server = start_server(dir, dir.sub("port1"));
  ASSERT_TRUE(server->started());
  const std::string addr1 = wait_for_port_file(dir.sub("port1"), *server);
  ASSERT_FALSE(addr1.empty()) << server->log();
  EXPECT_NE(server->log().find("node-key: " + net::to_hex(server_key)), std::string::npos)
      << server->log();

  ClientEnv client;
  rpc::RpcPool pool(client.env.get(), &*client.key, {});

  // 2. Many concurrent calls over one connection: every increment acknowledged exactly once.
  Load warm;
  run_load(&client, &pool, rpc::Peer{addr1, server_key}, 400, 32, &warm);
  ASSERT_EQ(warm.succeeded, 400) << first_failure(warm);
  EXPECT_EQ(warm.values.size(), 400u);
  EXPECT_EQ(*warm.values.begin(), 1u);
  EXPECT_EQ(*warm.values.rbegin(), 400u);
  EXPECT_EQ(pool.stats().connects, 1u);

  // 3. Under load, SIGKILL: every worker's call in flight fails promptly, not at its deadline.
  Load load;
  MonoTime killed_at{};
  {
    int forever = -1;
    Scope scope(client.env->executor());
    constexpr int kWorkers = 32;
    for (int i = 0; i < kWorkers; ++i) {
      scope.spawn(worker(client.env.get(), &pool, rpc::Peer{addr1, server_key}, &forever,
                         /*stop_on_failure=*/true, &load));
    }
    client.env->real_executor().run_until([&] { return load.succeeded >= 300; }, seconds(30));
    ASSERT_GE(load.succeeded, 300) << "no progress before the kill";
    ASSERT_EQ(load.failures.size(), 0u) << load.failures[0].to_string();
    server->kill_now();
    killed_at = client.env->executor().now();
    client.env->real_executor().run_until([&] { return scope.size() == 0; },
                                          kPromptFailure + seconds(5));
    ASSERT_EQ(scope.size(), 0u) << "calls still waiting after the server died";
    ASSERT_EQ(load.failures.size(), static_cast<std::size_t>(kWorkers));
  }
  for (std::size_t i = 0; i < load.failures.size(); ++i) {
    EXPECT_EQ(load.failures[i].code(), ErrorCode::kUnavailable) << load.failures[i].to_string();
    EXPECT_LT(load.failed_at[i] - killed_at, kPromptFailure) << load.failures[i].to_string();
  }
  const std::uint64_t acked_max = std::max(warm.max_value, load.max_value);

  // 4. While it is down, a call is refused at once.
  {
    const MonoTime start = client.env->executor().now();
    auto down = real::run_task(
        client.env->real_executor(),
        toy::counter_increment(&pool, rpc::Peer{addr1, server_key}, kCallTimeout, 0));
    EXPECT_EQ(down.status().code(), ErrorCode::kUnavailable) << down.status().to_string();
    EXPECT_LT(client.env->executor().now() - start, kPromptFailure);
    auto [rc, out] = run_toy_call(dir, addr1, net::to_hex(server_key), 3, 5000);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("succeeded: 0 failed: 3"), std::string::npos) << out;
    EXPECT_NE(out.find("Unavailable: 3"), std::string::npos) << out;
  }

  // 5. Restarted on a new port with the same key and data: the client reconnects, and the
  // counter continues above every value acknowledged before the kill (it was synced first).
  server = start_server(dir, dir.sub("port2"));
  ASSERT_TRUE(server->started());
  const std::string addr2 = wait_for_port_file(dir.sub("port2"), *server);
  ASSERT_FALSE(addr2.empty()) << server->log();
  Load after;
  const std::uint64_t connects_before = pool.stats().connects;
  run_load(&client, &pool, rpc::Peer{addr2, server_key}, 200, 32, &after);
  ASSERT_EQ(after.succeeded, 200) << first_failure(after);
  EXPECT_GT(*after.values.begin(), acked_max);
  EXPECT_EQ(after.values.size(), 200u);
  EXPECT_EQ(pool.stats().connects, connects_before + 1);

  // 6. The command-line client agrees.
  auto [rc, out] = run_toy_call(dir, addr2, net::to_hex(server_key), 50, 10000);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("succeeded: 50 failed: 0"), std::string::npos) << out;

  // 7. SIGTERM stops the server cleanly.
  auto status = server->stop(SIGTERM, std::chrono::seconds(10));
  ASSERT_TRUE(status.has_value()) << "toy-server ignored SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << server->log();
  EXPECT_NE(server->log().find("stopped by signal"), std::string::npos) << server->log();
}

// A wrong --server-key: toy-call reports PermissionDenied and exits 1.
TEST(RealTwoProcess, ToyCallWithTheWrongServerKeyFails) {
  // tests/CMakeLists.txt always defines it when the lafs binary is built: its absence is a
  // build error, not a reason to pass.
  ASSERT_NE(kLafs, nullptr) << "LAFS_BINARY is not defined";
  auto d = real::TempDir::make("lafs-toy-two-");
  ASSERT_TRUE(d.ok());
  auto server = start_server(*d, d->sub("port"));
  ASSERT_TRUE(server->started());
  const std::string addr = wait_for_port_file(d->sub("port"), *server);
  ASSERT_FALSE(addr.empty()) << server->log();
  auto [rc, out] = run_toy_call(*d, addr, std::string(64, 'a'), 2, 5000);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("PermissionDenied: 2"), std::string::npos) << out;
  auto status = server->stop(SIGINT, std::chrono::seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << server->log();
}

}  // namespace
}  // namespace lafs
