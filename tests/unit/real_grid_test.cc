// A real grid on 127.0.0.1: an introducer and five storage servers as separate `lafs` processes
// (RealEnv: TCP, POSIX files, RocksDB). The client here learns the servers from the introducer
// (verifying every announcement), uploads a file through them and reads it back, also after one
// storage server is killed with SIGKILL. Every child is stopped by its guard.
#include <gtest/gtest.h>

#include "core/client/client_service.h"
#include "net/real/real_env.h"
#include "net/real/real_run.h"
#include "net/real/temp_dir.h"
#include "tests/unit/child_process.h"

namespace lafs {
namespace {

using testing::Child;
using testing::wait_for_port_file;

#ifdef LAFS_BINARY
constexpr const char* kLafs = LAFS_BINARY;
#else
constexpr const char* kLafs = nullptr;
#endif

constexpr int kServers = 5;

std::string seed_hex(int i) {
  std::string s(64, '0');
  s[62] = "0123456789abcdef"[(i / 16) % 16];
  s[63] = "0123456789abcdef"[i % 16];
  return s;
}

net::PublicKey key_of(int i) {
  auto seed = net::public_key_from_hex(seed_hex(i));
  LAFS_ASSERT(seed.ok());
  return net::NodeKey::from_seed(*seed).public_key();
}

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + (i >> 9));
  return b;
}

TEST(RealGrid, IntroducerAndStorageServersAsProcessesMoveAFile) {
  ASSERT_NE(kLafs, nullptr) << "built without LAFS_BINARY";
  auto dir = real::TempDir::make("lafs-grid-");
  ASSERT_TRUE(dir.ok());
  Child introducer({kLafs, "debug", "introducer", "--port-file", dir->sub("intro.port"),
                    "--key-seed", seed_hex(0), "--dir", dir->sub("intro")},
                   dir->sub("intro.log"));
  ASSERT_TRUE(introducer.started());
  const std::string intro_addr = wait_for_port_file(dir->sub("intro.port"), introducer);
  ASSERT_FALSE(intro_addr.empty()) << introducer.log();
  const std::string intro_key = net::to_hex(key_of(0));
  std::vector<std::unique_ptr<Child>> servers;
  for (int i = 1; i <= kServers; ++i) {
    const std::string n = std::to_string(i);
    servers.push_back(std::make_unique<Child>(
        std::vector<std::string>{kLafs, "debug", "storage-server", "--port-file",
                                 dir->sub("s" + n + ".port"), "--key-seed", seed_hex(i), "--dir",
                                 dir->sub("s" + n), "--introducer", intro_addr, "--introducer-key",
                                 intro_key, "--nickname", "s" + n},
        dir->sub("s" + n + ".log")));
    ASSERT_FALSE(wait_for_port_file(dir->sub("s" + n + ".port"), *servers.back()).empty())
        << servers.back()->log();
  }

  // The client: learns the grid from the introducer.
  real::RealEnvOptions o;
  o.data_dir = dir->sub("client");
  o.kv_dir = dir->sub("client-kv");
  o.compute_threads = 1;
  o.log_level_min = LogLevel::kError;
  auto env = real::RealEnv::open(o);
  ASSERT_TRUE(env.ok());
  auto& ex = (*env)->real_executor();
  const net::NodeKey client_key = net::NodeKey::from_seed(key_of(99));
  rpc::RpcPool pool(env->get(), &client_key, {});
  client::ClientSecrets secrets;
  client::ClientServiceOptions co;
  co.subscriber.poll_interval = milliseconds(100);
  co.encoding.needed = 2;
  co.encoding.happy = 4;
  co.encoding.total = 5;
  co.encoding.segment_size = 64 * 1024;
  client::ClientService service(env->get(), &pool, rpc::Peer{intro_addr, key_of(0)}, &secrets, co);
  Scope scope(ex);
  scope.spawn(service.run());
  ex.run_until([&] { return service.server_count() == kServers; }, seconds(30));
  ASSERT_EQ(service.server_count(), static_cast<std::size_t>(kServers));

  const Bytes plain = pattern(1'000'000);
  auto up = real::run_task(ex, service.upload(plain), seconds(60));
  ASSERT_TRUE(up.ok()) << up.status().to_string();
  EXPECT_EQ(up->servers_used, 5u);
  auto down = real::run_task(ex, service.download(up->cap), seconds(60));
  ASSERT_TRUE(down.ok()) << down.status().to_string();
  EXPECT_EQ(*down, plain);

  // One server dies without a word: the file still comes back from the others.
  servers[0]->kill_now();
  auto again = real::run_task(ex, service.download(up->cap), seconds(60));
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(*again, plain);

  scope.cancel();
  for (auto& s : servers) {
    if (s->started()) {
      EXPECT_TRUE(s->stop(SIGTERM, std::chrono::seconds(10)).has_value()) << s->log();
    }
  }
  EXPECT_TRUE(introducer.stop(SIGTERM, std::chrono::seconds(10)).has_value());
}

}  // namespace
}  // namespace lafs
