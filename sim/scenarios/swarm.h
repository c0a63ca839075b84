// Swarm testing of the grid (issue 11, TigerBeetle style): each seed draws its own small grid and
// its own fault mix — message loss, duplication and reordering, partitions between the client and
// servers, server crashes with lost or torn unsynced writes, bit rot — runs it twice, and checks
// the invariants: every read returns the file's bytes or an error; the two runs' reports are
// identical (trace digest included); and after a liveness phase with the faults off, every file
// is healthy again (nothing acknowledged is lost while its shares survive: servers here crash and
// rot but never depart). `lafs-sim swarm --seed N` replays one seed; tests/property/
// grid_swarm_test.cc runs many in CI.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/runtime/status.h"
#include "sim/scenarios/report.h"
#include "sim/scenarios/scenario.pb.h"

namespace lafs::sim {

// The scenario of swarm seed `seed`: a pure function of the seed (its own random stream, not the
// simulator's), valid by construction.
Scenario swarm_scenario(std::uint64_t seed);

struct SwarmOutcome {
  RunReport report;                   // the first run's
  std::vector<std::string> failures;  // invariants broken, one line each; empty: the seed passed
};

// Runs seed `seed` twice with the liveness phase and checks the invariants. Errors: only a
// scenario the runner refuses (a bug in swarm_scenario).
Result<SwarmOutcome> run_swarm_seed(std::uint64_t seed);

// "lafs-sim swarm --seed N": the replay command printed for a failing seed.
std::string swarm_replay_command(std::uint64_t seed);

}  // namespace lafs::sim
