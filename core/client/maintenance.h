// The maintenance agent: a client node keeping its own files alive (docs/checker.md). Every
// `interval` it deep-checks each configured root directory, adding or renewing this client's
// lease on every share (so the servers' garbage collector never takes them) and repairing what
// is unhealthy. Its pace is bounded: `batch_objects` objects per batch, `batch_pause` between
// batches, so a large tree costs a steady trickle, not a burst.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/client/deep_check.h"

namespace lafs::client {

struct MaintenanceOptions {
  std::vector<cap::Cap> roots;  // directory caps (write caps, so mutable files can be repaired)
  // Between the starts of two cycles. Must be well under the servers' lease duration (31 days
  // by default): a lease renewed every `interval` never lapses.
  Duration interval = hours(24 * 7);
  Duration first_delay = minutes(10);  // after start, before the first cycle
  bool verify = false;                 // read every block (costly: the whole tree is read)
  bool repair = true;
  std::uint32_t repair_below_shares = 0;  // 0: repair whenever unhealthy
  std::size_t batch_objects = 100;
  Duration batch_pause = seconds(1);
};

struct MaintenanceStats {
  std::uint64_t cycles = 0;
  std::uint64_t objects_checked = 0;
  std::uint64_t leases_renewed = 0;
  std::uint64_t unhealthy_seen = 0;
  std::uint64_t repairs_attempted = 0;
  std::uint64_t repairs_successful = 0;
  std::uint64_t errors = 0;
  std::string last_problem;  // of the last cycle with an error
};

class MaintenanceAgent {
 public:
  using ServerList = std::function<std::vector<ServerRef>()>;
  // `deep` must outlive the agent; `servers` gives the current server list each cycle.
  MaintenanceAgent(Env* env, DeepChecker* deep, ServerList servers, std::uint32_t happy,
                   MaintenanceOptions options);

  // Runs cycles until cancelled.
  Task<void> run();
  // One cycle over every root, now.
  Task<void> run_cycle();

  // Where the roots come from, asked again before each cycle of run() (a node reads them from
  // its aliases, which come and go); without it, options.roots.
  using RootSource = std::function<Task<std::vector<cap::Cap>>()>;
  void set_root_source(RootSource source) { root_source_ = std::move(source); }

  const MaintenanceStats& stats() const { return stats_; }
  const MaintenanceOptions& options() const { return options_; }

 private:
  Env* env_;
  DeepChecker* deep_;
  ServerList servers_;
  std::uint32_t happy_;
  MaintenanceOptions options_;
  RootSource root_source_;
  MaintenanceStats stats_;
};

}  // namespace lafs::client
