// Deep-check (core/client/deep_check.h) in the simulator: a small tree's walk and report, and
// the cost of a 10,000-object tree (printed, and bounded: the share listing is batched).
#include "core/client/deep_check.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "core/client/directory.h"
#include "tests/unit/sim_grid.h"

namespace lafs::client {
namespace {

using testing::Grid;

struct Tree {
  explicit Tree(int servers) : g(servers, 5) {
    DirectoryOptions d;
    d.mutable_params = {3, 10, kDirPageBytes, 0};
    d.immutable_params = {3, 7, 10, 16 << 10};
    d.happy = 7;
    dirs =
        std::make_unique<DirectoryClient>(g.client_node, g.mutable_client.get(), g.client.get(), d);
    checker = std::make_unique<Checker>(g.client_node, g.pool.get(), &g.secrets, g.client.get(),
                                        g.mutable_client.get());
    deep = std::make_unique<DeepChecker>(checker.get(), dirs.get());
  }
  ~Tree() {
    deep.reset();
    checker.reset();
    dirs.reset();
  }
  cap::Cap file(std::size_t size, std::uint32_t seed) {
    auto up = g.run(g.client->upload(testing::pattern(size, seed), g.refs, {3, 7, 10, 16 << 10}));
    LAFS_ASSERT(up.ok());
    return up->cap;
  }
  cap::Cap dir(std::vector<std::pair<std::string, cap::Cap>> children) {
    auto made = g.run(dirs->create(g.refs, std::move(children)));
    LAFS_ASSERT(made.ok());
    return *made;
  }
  Grid g;
  std::unique_ptr<DirectoryClient> dirs;
  std::unique_ptr<Checker> checker;
  std::unique_ptr<DeepChecker> deep;
};

TEST(DeepCheck, WalksEveryObjectOnceAndRepairsWhatIsUnhealthy) {
  Tree t(10);
  const cap::Cap a = t.file(5'000, 1), b = t.file(20, 2);  // b is literal
  const cap::Cap sub = t.dir({{"a-again", a}});
  const cap::Cap root = t.dir({{"a", a}, {"b", b}, {"sub", sub}});
  // The same file under two names is checked once; a share of it is deleted.
  const crypto::StorageIndex si = *cap::storage_index(a);
  for (auto& n : t.g.nodes) {
    auto held = t.g.run(n.server->get_buckets(si));
    if (held.ok() && !held->empty()) {
      const auto cancel = to_bytes32(crypto::lease_cancel_secret(
          t.g.secrets.lease, si, server_id(t.g.refs[&n - &t.g.nodes[0]])));
      (void)t.g.run(n.server->cancel_lease(si, cancel));
      break;
    }
  }
  std::vector<std::string> paths;
  DeepCheckSink sink = [&paths](const DeepCheckObject& o) -> Task<Status> {
    paths.push_back(o.path);
    co_return Status{};
  };
  DeepCheckOptions o;
  o.repair = true;
  o.check.add_lease = true;
  auto sum = t.g.run(t.deep->run(root, t.g.refs, 7, o, sink));
  ASSERT_TRUE(sum.ok()) << sum.status().to_string();
  EXPECT_EQ(paths, (std::vector<std::string>{"", "a", "b", "sub"}));
  EXPECT_EQ(sum->objects_checked, 4u);
  EXPECT_EQ(sum->directories, 2u);
  EXPECT_EQ(sum->files, 2u);
  EXPECT_EQ(sum->objects_unhealthy, 1u);
  EXPECT_EQ(sum->unhealthy_paths, std::vector<std::string>{"a"});
  EXPECT_EQ(sum->repairs_attempted, 1u);
  EXPECT_EQ(sum->repairs_successful, 1u);
  EXPECT_GT(sum->leases_renewed, 0u);
  // Again: all healthy now.
  paths.clear();
  auto again = t.g.run(t.deep->run(root, t.g.refs, 7, o, sink));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->objects_healthy, 4u);
  EXPECT_EQ(again->repairs_attempted, 0u);
  // Not a directory: refused.
  DeepCheckSink none = [](const DeepCheckObject&) -> Task<Status> { co_return Status{}; };
  EXPECT_EQ(t.g.run(t.deep->run(a, t.g.refs, 7, o, none)).status().code(),
            ErrorCode::kInvalidArgument);
}

// A tree of objects (default 2,000: a root, 20 directories and 1,979 small files; set
// LAFS_DEEP_CHECK_OBJECTS=10000 for the 10,000-object figures in docs/performance.md), 3-of-10
// on 10 servers. The cost is printed and bounded: one share listing per server per batch of 500
// objects, not one per object.
TEST(DeepCheck, TreeCost) {
  std::uint64_t want = 2'000;
  if (const char* env = std::getenv("LAFS_DEEP_CHECK_OBJECTS"))
    want = std::strtoull(env, nullptr, 10);
  ASSERT_GE(want, 200u);
  ASSERT_EQ(want % 100, 0u) << "a multiple of 100";
  const std::uint64_t dirs = want / 100;  // each with 99 files, the last with 98
  Tree t(10);
  std::vector<std::pair<std::string, cap::Cap>> top;
  std::uint32_t seed = 100;
  for (std::uint64_t d = 0; d < dirs; ++d) {
    std::vector<std::pair<std::string, cap::Cap>> files;
    const int count = d + 1 == dirs ? 98 : 99;
    for (int f = 0; f < count; ++f) files.push_back({"f" + std::to_string(f), t.file(100, ++seed)});
    top.push_back({"d" + std::to_string(d), t.dir(std::move(files))});
  }
  const cap::Cap root = t.dir(std::move(top));
  const std::uint64_t batches = (want + 499) / 500;
  // Twice: listing only, then adding or renewing the lease on every share.
  for (bool add_lease : {false, true}) {
    const auto net_before = t.g.sim->network().stats();
    std::uint64_t objects = 0;
    DeepCheckSink sink = [&objects](const DeepCheckObject& o) -> Task<Status> {
      ++objects;
      EXPECT_TRUE(o.error.empty()) << o.path << ": " << o.error;
      co_return Status{};
    };
    DeepCheckOptions o;
    o.check.add_lease = add_lease;
    const MonoTime started = t.g.sim->loop().now();
    auto sum = t.g.run(t.deep->run(root, t.g.refs, 7, o, sink));
    ASSERT_TRUE(sum.ok());
    const Duration took = t.g.sim->loop().now() - started;
    EXPECT_EQ(objects, want);
    EXPECT_EQ(sum->objects_checked, want);
    EXPECT_EQ(sum->objects_healthy, want);
    // Listing: 10 servers x one get_buckets per batch of 500 objects; headers: one slot read
    // per directory per server holding it.
    // With add-lease, one batched add_lease per server per batch too.
    const std::uint64_t bound = 10 * batches * (add_lease ? 2 : 1) + (dirs + 1) * 10;
    EXPECT_LE(sum->cost.rpcs, bound);
    const auto net = t.g.sim->network().stats();
    std::printf(
        "deep-check of %llu objects (3-of-10, 10 servers%s): checker RPCs %llu (share "
        "listings %llu), network frames %llu, bytes %llu, simulated time %.1f s\n",
        static_cast<unsigned long long>(want), add_lease ? ", add-lease" : "",
        static_cast<unsigned long long>(sum->cost.rpcs),
        static_cast<unsigned long long>(10 * batches),
        static_cast<unsigned long long>(net.frames_delivered - net_before.frames_delivered),
        static_cast<unsigned long long>(net.bytes_delivered - net_before.bytes_delivered),
        to_seconds_f(took));
  }
}

}  // namespace
}  // namespace lafs::client
