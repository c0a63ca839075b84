// Large directories, in the simulator: a 10,000-entry mutable directory on 10 storage servers
// (3-of-10), then adds and removes of single entries. For each change: CPU (the whole process —
// client and all ten servers — so an upper bound on the client's), bytes the client sent to
// servers (all shares) and bytes it read. For comparison, one whole republish of the same
// directory: what Tahoe-LAFS does on every change. docs/performance.md has the results.
//   lafs_directory_bench [--entries N] [--ops N]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#include "core/client/directory.h"
#include "tests/unit/sim_grid.h"

namespace lafs::client {
namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// A realistic child: an immutable file's read cap (about 150 characters).
cap::Cap file_cap(std::uint32_t i) {
  cap::ChkReadCap c;
  auto k = c.key.mutable_view();
  for (std::size_t b = 0; b < k.size(); ++b) k[b] = static_cast<std::uint8_t>(i * 31 + b);
  for (std::size_t b = 0; b < c.extension_hash.size(); ++b)
    c.extension_hash[b] = static_cast<std::uint8_t>(i * 7 + b);
  c.params = {3, 10, 1000 + i};
  return cap::Cap{c, false};
}

std::string name_of(std::uint32_t i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "photo-%06u-from-the-holiday.jpg", i);
  return buf;
}

struct Summary {
  std::vector<double> values;
  void add(double v) { values.push_back(v); }
  double pct(double p) {
    std::sort(values.begin(), values.end());
    return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
  }
};

int run(std::uint32_t entries, std::uint32_t ops) {
  testing::Grid g(10);
  DirectoryOptions o;
  o.mutable_params = {3, 10, kDirPageBytes, 0};
  o.happy = 7;
  DirectoryClient dirs(g.client_node, g.mutable_client.get(), g.client.get(), o);
  std::vector<std::pair<std::string, cap::Cap>> children;
  for (std::uint32_t i = 0; i < entries; ++i) children.push_back({name_of(2 * i), file_cap(i)});
  double t0 = cpu_seconds();
  auto dir = g.run(dirs.create(g.refs, children));
  if (!dir.ok()) {
    std::fprintf(stderr, "create: %s\n", dir.status().to_string().c_str());
    return 1;
  }
  const double create_cpu = cpu_seconds() - t0;
  const auto after_create = g.mutable_client->stats();
  std::printf("directory of %u entries created: %.1f ms CPU, %.1f KiB sent\n", entries,
              create_cpu * 1e3, static_cast<double>(after_create.bytes_written) / 1024);

  Summary add_cpu, add_sent, add_read, rm_cpu, rm_sent, rm_read, add_disk, rm_disk, hot_disk;
  auto disk_bytes = [&g] {
    std::uint64_t total = 0;
    for (auto* n : g.server_nodes) total += n->sim_disk().bytes_written();
    return total;
  };
  std::uint64_t full_before = g.mutable_client->stats().full_publishes;
  for (std::uint32_t op = 0; op < ops; ++op) {
    const std::uint32_t i = (op * 7919u) % entries;
    auto before = g.mutable_client->stats();
    std::uint64_t d0 = disk_bytes();
    double c0 = cpu_seconds();
    Status s = g.run(dirs.add(*dir, name_of(2 * i + 1), file_cap(entries + op), false, g.refs));
    const double c1 = cpu_seconds();
    if (!s.is_ok()) {
      std::fprintf(stderr, "add: %s\n", s.to_string().c_str());
      return 1;
    }
    auto after = g.mutable_client->stats();
    if (op == 0) {
      std::printf("first add: sent %llu read %llu bytes\n",
                  static_cast<unsigned long long>(after.bytes_written - before.bytes_written),
                  static_cast<unsigned long long>(after.bytes_read - before.bytes_read));
    }
    add_cpu.add((c1 - c0) * 1e3);
    add_disk.add(static_cast<double>(disk_bytes() - d0) / 1024);
    d0 = disk_bytes();
    add_sent.add(static_cast<double>(after.bytes_written - before.bytes_written) / 1024);
    add_read.add(static_cast<double>(after.bytes_read - before.bytes_read) / 1024);
    before = after;
    c0 = cpu_seconds();
    s = g.run(dirs.remove(*dir, name_of(2 * ((op * 104729u) % entries)), g.refs));
    const double c2 = cpu_seconds();
    if (!s.is_ok() && s.code() != ErrorCode::kNotFound) {
      std::fprintf(stderr, "remove: %s\n", s.to_string().c_str());
      return 1;
    }
    after = g.mutable_client->stats();
    rm_cpu.add((c2 - c0) * 1e3);
    rm_disk.add(static_cast<double>(disk_bytes() - d0) / 1024);
    rm_sent.add(static_cast<double>(after.bytes_written - before.bytes_written) / 1024);
    rm_read.add(static_cast<double>(after.bytes_read - before.bytes_read) / 1024);
  }
  // A hot spot: names that sort next to each other all land in one leaf, which splits again
  // and again (and so do its parents, now and then): the worst case per change.
  Summary hot_cpu, hot_sent;
  for (std::uint32_t op = 0; op < ops; ++op) {
    auto before = g.mutable_client->stats();
    const std::uint64_t d0 = disk_bytes();
    const double c0 = cpu_seconds();
    Status s =
        g.run(dirs.add(*dir, name_of(2 * (entries / 2)) + "-copy-" + std::to_string(1000 + op),
                       file_cap(op), false, g.refs));
    const double c1 = cpu_seconds();
    if (!s.is_ok()) {
      std::fprintf(stderr, "hot add: %s\n", s.to_string().c_str());
      return 1;
    }
    auto after = g.mutable_client->stats();
    hot_cpu.add((c1 - c0) * 1e3);
    hot_sent.add(static_cast<double>(after.bytes_written - before.bytes_written) / 1024);
    hot_disk.add(static_cast<double>(disk_bytes() - d0) / 1024);
  }
  const std::uint64_t whole = g.mutable_client->stats().full_publishes - full_before;
  std::printf("%u adds, %u removes, %u hot-spot adds; whole republishes among them: %llu\n", ops,
              ops, ops, static_cast<unsigned long long>(whole));
  std::printf("%-8s %10s %10s %10s\n", "", "p50", "p95", "max");
  auto row = [](const char* what, Summary& s, const char* unit) {
    std::printf("%-14s %8.2f %8.2f %8.2f %s\n", what, s.pct(0.5), s.pct(0.95), s.pct(1.0), unit);
  };
  row("add CPU", add_cpu, "ms");
  row("add sent", add_sent, "KiB");
  row("add read", add_read, "KiB");
  row("add disk", add_disk, "KiB (all servers' share files)");
  row("remove CPU", rm_cpu, "ms");
  row("remove sent", rm_sent, "KiB");
  row("remove read", rm_read, "KiB");
  row("remove disk", rm_disk, "KiB");
  row("hot add CPU", hot_cpu, "ms");
  row("hot add sent", hot_sent, "KiB");
  row("hot add disk", hot_disk, "KiB");

  // Listing, and the Tahoe-style alternative: republishing the whole directory once.
  double c0 = cpu_seconds();
  auto listed = g.run(dirs.list(*dir, g.refs));
  const double list_cpu = cpu_seconds() - c0;
  if (!listed.ok()) return 1;
  auto w = std::get<cap::SskWriteCap>(dir->file);
  auto got = g.run(g.mutable_client->retrieve(cap::Cap{w, false}, g.refs));
  if (!got.ok()) return 1;
  auto before = g.mutable_client->stats();
  c0 = cpu_seconds();
  auto p = g.run(g.mutable_client->publish(w, got->contents, g.refs, o.mutable_params, 7));
  const double full_cpu = cpu_seconds() - c0;
  if (!p.ok()) return 1;
  const auto after = g.mutable_client->stats();
  std::printf("list of %zu entries: %.1f ms CPU; directory file %zu KiB\n", listed->size(),
              list_cpu * 1e3, got->contents.size() / 1024);
  std::printf("whole republish (Tahoe's cost per change): %.1f ms CPU, %.1f KiB sent\n",
              full_cpu * 1e3,
              static_cast<double>(after.bytes_written - before.bytes_written) / 1024);
  return 0;
}

}  // namespace
}  // namespace lafs::client

int main(int argc, char** argv) {
  std::uint32_t entries = 10'000;
  std::uint32_t ops = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--entries") == 0)
      entries = static_cast<std::uint32_t>(std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--ops") == 0)
      ops = static_cast<std::uint32_t>(std::atoi(argv[i + 1]));
  }
  return lafs::client::run(entries, ops);
}
