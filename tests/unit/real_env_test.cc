// Tests of RealEnv: it opens its disk and KV store under the given directories, and every piece
// works together on one executor (disk, KV, network, compute, clock, random, logger).
#include "net/real/real_env.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "net/real/real_run.h"
#include "net/real/temp_dir.h"

namespace lafs::real {
namespace {

Task<Status> use_everything(Env* env) {
  // Disk: a durable file.
  auto f = co_await env->disk().open("f", OpenOptions{.create = true});
  if (!f.ok()) co_return f.status();
  LAFS_CO_RETURN_IF_ERROR(co_await (*f)->write_at(0, as_bytes("disk")));
  LAFS_CO_RETURN_IF_ERROR(co_await (*f)->sync());
  LAFS_CO_RETURN_IF_ERROR(co_await env->disk().sync_dir(""));
  // KV: a synced put, read back.
  LAFS_CO_RETURN_IF_ERROR(co_await env->kv().put("k", "kv", true));
  auto v = co_await env->kv().get("k");
  if (!v.ok()) co_return v.status();
  if (*v != std::optional<std::string>("kv")) co_return internal_error("kv value");
  // Compute.
  const int x = co_await offload(env->compute(), [] { return 6 * 7; });
  if (x != 42) co_return internal_error("offload");
  // Network: a frame to ourselves.
  auto l = env->network().listen("127.0.0.1:0");
  if (!l.ok()) co_return l.status();
  auto c = co_await env->network().connect((*l)->address());
  if (!c.ok()) co_return c.status();
  auto s = co_await (*l)->accept();
  if (!s.ok()) co_return s.status();
  LAFS_CO_RETURN_IF_ERROR(co_await (*c)->send(to_bytes("net")));
  auto frame = co_await (*s)->receive();
  if (!frame.ok()) co_return frame.status();
  if (to_string(*frame) != "net") co_return internal_error("frame");
  // Clock and randomness.
  const MonoTime t0 = env->clock().monotonic_now();
  co_await sleep_for(env->executor(), milliseconds(2));
  if (env->clock().monotonic_now() - t0 < milliseconds(2)) co_return internal_error("clock");
  if (env->random().next_u64() == env->random().next_u64()) co_return internal_error("random");
  env->logger().log(LogLevel::kDebug, "test", "below the level: not printed");
  co_return Status{};
}

TEST(RealEnv, EveryPieceWorksOnOneExecutor) {
  Result<TempDir> dir = TempDir::make("lafs-env-");
  ASSERT_TRUE(dir.ok());
  RealEnvOptions o;
  o.data_dir = dir->sub("data");
  o.kv_dir = dir->sub("kv");
  o.compute_threads = 2;
  auto env = RealEnv::open(o);
  ASSERT_TRUE(env.ok()) << env.status().to_string();
  Status s = run_task((*env)->real_executor(), use_everything(env->get()));
  EXPECT_TRUE(s.is_ok()) << s.to_string();
}

TEST(RealEnv, MissingDirectoriesAreRefused) {
  Result<TempDir> dir = TempDir::make("lafs-env-");
  ASSERT_TRUE(dir.ok());
  RealEnvOptions o;
  o.kv_dir = dir->sub("kv");
  EXPECT_EQ(RealEnv::open(o).status().code(), ErrorCode::kInvalidArgument);
  o.data_dir = dir->sub("data");
  o.kv_dir = "";
  EXPECT_EQ(RealEnv::open(o).status().code(), ErrorCode::kInvalidArgument);
  o.kv_dir = dir->sub("kv");
  o.data_dir = dir->sub("no/such/parent");
  EXPECT_EQ(RealEnv::open(o).status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace lafs::real
