// Runs a scenario's toy workload (Foundation 1's placeholder service) on the simulator: many
// nodes, each a counter server and a client of random peers, under the scenario's faults. The
// run is a pure function of (code, scenario, seed): its report, apart from wall_seconds, is
// identical every time.
#pragma once

#include <cstdint>
#include <functional>

#include "core/runtime/status.h"
#include "net/sim/simulation.h"
#include "sim/scenarios/report.h"
#include "sim/scenarios/scenario.pb.h"

namespace lafs::sim {

// The simulator's options for a scenario: network (latency, bandwidth, loss, duplication,
// reordering, jitter) and what a crash does to unsynced disk and KV state.
SimulationOptions simulation_options(const Scenario& s, std::uint64_t seed, bool verbose);

struct ToyRunOptions {
  bool verbose = false;  // print node logs
  // Called about every simulated hour with the fraction done (0..1); may be empty.
  std::function<void(double fraction, std::uint64_t events)> progress;
};

// Runs `scenario` (validated, with a `toy` block) with `seed`. The report has the fixed fields
// (wall_seconds left 0 for the caller to fill in) and toy metrics; `toy_violations` > 0 means
// the cluster-wide invariant failed (a server's acknowledged counter went backwards).
Result<RunReport> run_toy_scenario(const Scenario& scenario, std::uint64_t seed,
                                   const ToyRunOptions& options);

}  // namespace lafs::sim
