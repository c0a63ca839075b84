// Runs a scenario's grid workload on the simulator with the real client and server code: N
// storage servers (StorageServer with its garbage collector, leases of maintenance.lease_days),
// churn (exponential lifetimes: a departed server's shares are gone for good, replaced by an
// empty server when replace_departed; transient outages), a client that uploads the workload's
// files into a directory tree, reads random files, and maintains the tree on the maintenance
// schedule (deep-check with add-lease every renew interval; check and repair below
// repair_below_shares every check interval). The run is a pure function of (code, scenario,
// seed): its report, apart from wall_seconds, is identical every time. docs/capacity-planning.md.
#pragma once

#include <cstdint>
#include <functional>

#include "core/runtime/status.h"
#include "sim/scenarios/report.h"
#include "sim/scenarios/scenario.pb.h"

namespace lafs::sim {

struct GridRunOptions {
  bool verbose = false;  // print node logs
  // Called about every simulated day with the fraction done (0..1); may be empty.
  std::function<void(double fraction, std::uint64_t events)> progress;
  // After the scenario's duration, a liveness phase: faults, churn and outages off, every
  // server up, the network whole; then verify-and-repair rounds until every file is healthy.
  // Adds liveness_rounds and liveness_unhealthy (files still not healthy: an invariant failure)
  // to the report.
  bool liveness = false;
};

// Runs `scenario` (validated, with servers, encoding and workload) with `seed`. Metrics:
// files_total, files_lost, reads_attempted, reads_succeeded, repairs, repair_bytes,
// bytes_stored_end, server_load_cv, and more (servers_departed, outages, maintenance_cycles,
// leases_renewed, upload_failures, read_mismatches).
Result<RunReport> run_grid_scenario(const Scenario& scenario, std::uint64_t seed,
                                    const GridRunOptions& options);

}  // namespace lafs::sim
