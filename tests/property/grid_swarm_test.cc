// Swarm testing of the grid (sim/scenarios/swarm.h): many short seeds, each with its own fault
// mix (message loss, duplication, reordering, partitions, server crashes with lost or torn
// unsynced writes, bit rot), each run twice; every read right or an error, identical reports,
// and every file healthy after the liveness phase. CI runs seeds 1..LAFS_SWARM_SEEDS (default
// 16); a failing seed prints `lafs-sim swarm --seed N`, which replays it exactly.
#include "sim/scenarios/swarm.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

namespace lafs::sim {
namespace {

std::uint64_t seeds() {
  const char* v = std::getenv("LAFS_SWARM_SEEDS");
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : 16;
}

TEST(GridSwarm, RandomFaultMixesHoldTheInvariants) {
  std::uint64_t faults_seen = 0;
  for (std::uint64_t seed = 1; seed <= seeds(); ++seed) {
    auto out = run_swarm_seed(seed);
    ASSERT_TRUE(out.ok()) << "seed " << seed << ": " << out.status().to_string();
    for (const std::string& f : out->failures) {
      ADD_FAILURE() << "seed " << seed << ": " << f << "\nreplay: " << swarm_replay_command(seed);
    }
    const auto* crashes = out->report.find("crashes");
    const auto* partitions = out->report.find("partitions");
    const auto* rot = out->report.find("bits_rotted");
    ASSERT_TRUE(crashes && partitions && rot);
    faults_seen += std::get<std::uint64_t>(*crashes) + std::get<std::uint64_t>(*partitions) +
                   std::get<std::uint64_t>(*rot);
    std::printf("seed %llu: %llu events, %llu crashes, %llu partitions, %llu bits rotted\n",
                static_cast<unsigned long long>(seed),
                static_cast<unsigned long long>(out->report.events),
                static_cast<unsigned long long>(std::get<std::uint64_t>(*crashes)),
                static_cast<unsigned long long>(std::get<std::uint64_t>(*partitions)),
                static_cast<unsigned long long>(std::get<std::uint64_t>(*rot)));
  }
  // The mixes do inject faults (a swarm of calm seeds would prove nothing).
  EXPECT_GT(faults_seen, seeds());
}

// Different seeds draw different mixes; the same seed the same one.
TEST(GridSwarm, EachSeedDrawsItsOwnMix) {
  EXPECT_EQ(swarm_scenario(7).SerializeAsString(), swarm_scenario(7).SerializeAsString());
  EXPECT_NE(swarm_scenario(7).SerializeAsString(), swarm_scenario(8).SerializeAsString());
}

}  // namespace
}  // namespace lafs::sim
