// Garbage collection at scale, in the simulator: a storage server holding 100,000 shares whose
// leases have all expired collects them all while a client keeps reading a live share. Reports
// how long the crawl took (simulated), how many reads it served meanwhile and the worst read
// latency, plus wall and CPU figures. docs/performance.md has the results.
//   lafs_storage_gc_bench [--shares N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "core/storage/storage_server.h"
#include "net/sim/sim_run.h"
#include "net/sim/simulation.h"

namespace lafs::storage {
namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

StorageIndex si_for(int i) {
  StorageIndex si{};
  for (int b = 0; b < 4; ++b) si[b] = static_cast<std::uint8_t>(i >> (8 * b));
  si[15] = 0x5a;
  return si;
}

int run(int shares) {
  sim::SimulationOptions o;
  o.seed = 1;
  o.disk.metadata_latency = microseconds(20);
  o.disk.read_latency = microseconds(50);
  o.disk.write_latency = microseconds(20);
  o.disk.sync_latency = microseconds(500);
  sim::Simulation sim(o);
  sim::SimNode* node = &sim.add_node("server");
  node->start();
  StorageOptions so;  // defaults: 500 leases per slice, 100 ms between slices
  auto opened = sim::run_task(sim.loop(), StorageServer::open(node, so));
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().to_string().c_str());
    return 1;
  }
  std::unique_ptr<StorageServer> server = std::move(*opened);
  LeaseSecretBytes renew{}, cancel{};
  renew.fill(1);
  cancel.fill(2);
  const Bytes block(256, 0xab);

  auto upload = [&](const StorageIndex& si) -> bool {
    auto a = sim::run_task(sim.loop(), server->allocate(si, {0}, block.size(), renew, cancel, "c"));
    if (!a.ok() || a->allocated.size() != 1) return false;
    const std::uint64_t id = a->allocated[0].upload_id;
    return sim::run_task(sim.loop(), server->write(si, 0, id, 0, block)).is_ok() &&
           sim::run_task(sim.loop(), server->close(si, 0, id)).is_ok();
  };

  const auto wall0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();
  for (int i = 0; i < shares; ++i) {
    if (!upload(si_for(i))) {
      std::fprintf(stderr, "upload %d failed\n", i);
      return 1;
    }
  }
  const double populate_cpu = cpu_seconds() - cpu0;
  node->sim_clock().jump(hours(24 * 40));  // every lease is now past expiry + margin
  StorageIndex live = si_for(-1);
  if (!upload(live)) return 1;

  const double cpu1 = cpu_seconds();
  const auto wall1 = std::chrono::steady_clock::now();
  const MonoTime crawl_start = sim.loop().now();
  node->scope().spawn(server->run_maintenance());
  Duration worst{0};
  Duration total{0};
  std::uint64_t reads = 0;
  while (server->gc_stats().cycles == 0) {
    const MonoTime t0 = sim.loop().now();
    auto r = sim::run_task(sim.loop(), server->read(live, 0, 0, block.size()));
    if (!r.ok() || *r != block) {
      std::fprintf(stderr, "read during the crawl failed: %s\n", r.status().to_string().c_str());
      return 1;
    }
    const Duration took = sim.loop().now() - t0;
    worst = std::max(worst, took);
    total += took;
    ++reads;
    sim.loop().run_until(sim.loop().now() + milliseconds(100));
  }
  const double crawl_sim_s = std::chrono::duration<double>(sim.loop().now() - crawl_start).count();
  const double crawl_cpu = cpu_seconds() - cpu1;
  const double crawl_wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall1).count();
  const GcStats& gc = server->gc_stats();
  std::printf("shares: %d (populated in %.1f s CPU)\n", shares, populate_cpu);
  std::printf(
      "collector: %llu slices, %llu leases examined, %llu shares deleted, %llu bytes freed\n",
      static_cast<unsigned long long>(gc.slices),
      static_cast<unsigned long long>(gc.leases_examined),
      static_cast<unsigned long long>(gc.shares_deleted),
      static_cast<unsigned long long>(gc.bytes_freed));
  std::printf("crawl: %.1f s simulated, %.2f s CPU, %.2f s wall\n", crawl_sim_s, crawl_cpu,
              crawl_wall);
  std::printf(
      "reads during the crawl: %llu, mean %.3f ms, worst %.3f ms (simulated)\n",
      static_cast<unsigned long long>(reads),
      reads ? std::chrono::duration<double, std::milli>(total).count() / static_cast<double>(reads)
            : 0.0,
      std::chrono::duration<double, std::milli>(worst).count());
  std::printf("shares left: %llu (the live one)\n",
              static_cast<unsigned long long>(server->stats().shares));
  (void)wall0;
  return gc.shares_deleted == static_cast<std::uint64_t>(shares) ? 0 : 1;
}

}  // namespace
}  // namespace lafs::storage

int main(int argc, char** argv) {
  int shares = 100'000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--shares") == 0) shares = std::atoi(argv[i + 1]);
  }
  if (shares <= 0) {
    std::fprintf(stderr, "usage: lafs_storage_gc_bench [--shares N]\n");
    return 2;
  }
  return lafs::storage::run(shares);
}
