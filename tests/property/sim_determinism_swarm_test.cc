// Whole-simulation tests: a faulty 200-node run is a pure function of (code, scenario, seed),
// and swarms of short runs with randomised fault mixes keep the cluster-wide invariant. A
// failure prints the lafs-sim command that replays it.
#include <gtest/gtest.h>

#include <string>

#include "net/sim/sim_random.h"
#include "sim/scenarios/report.h"
#include "sim/scenarios/scenario_loader.h"
#include "sim/scenarios/toy_runner.h"

namespace lafs::sim {
namespace {

std::string without_wall_seconds(std::string json) {
  std::size_t at = json.find("\"wall_seconds\"");
  EXPECT_NE(at, std::string::npos);
  std::size_t eol = json.find('\n', at);
  return json.erase(at, eol - at);
}

Scenario faulty_200_nodes() {
  auto s = load_scenario_file(std::string(LAFS_SOURCE_DIR) + "/sim/scenarios/default.textproto");
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  Scenario out = *s;
  out.set_duration_days(1);  // a day keeps the sanitizer build fast; every fault still fires
  out.mutable_faults()->set_partition_interval_days_mean(0.25);
  out.mutable_faults()->set_crash_interval_days_mean(0.5);
  out.mutable_faults()->set_clock_jump_interval_days_mean(0.5);
  out.mutable_faults()->set_clock_jump_ms_max(60'000);
  return out;
}

std::uint64_t metric(const RunReport& r, const char* name) {
  const MetricValue* v = r.find(name);
  EXPECT_NE(v, nullptr) << name;
  return v ? std::get<std::uint64_t>(*v) : 0;
}

TEST(SimDeterminism, SameSeedSameJsonDifferentSeedDifferentDigest) {
  Scenario s = faulty_200_nodes();
  auto a = run_toy_scenario(s, 1, {});
  auto b = run_toy_scenario(s, 1, {});
  auto c = run_toy_scenario(s, 2, {});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  a->wall_seconds = 1.5;  // the one field allowed to differ: make sure the comparison ignores it
  b->wall_seconds = 2.5;
  EXPECT_EQ(without_wall_seconds(report_to_json(*a)), without_wall_seconds(report_to_json(*b)));
  EXPECT_NE(a->trace_digest, c->trace_digest);
  // The run really was faulty, busy and of the stated size.
  EXPECT_EQ(metric(*a, "toy_nodes"), 200u);
  EXPECT_GT(metric(*a, "node_crashes"), 100u);
  EXPECT_GT(metric(*a, "partitions"), 0u);
  EXPECT_GT(metric(*a, "clock_jumps"), 0u);
  EXPECT_GT(metric(*a, "net_frames_dropped"), 0u);
  EXPECT_GT(metric(*a, "net_frames_duplicated"), 0u);
  EXPECT_GT(metric(*a, "toy_requests_succeeded"), 10'000u);
  EXPECT_GT(metric(*a, "toy_requests_timed_out"), 0u);
  EXPECT_EQ(metric(*a, "toy_violations"), 0u)
      << "replay: lafs-sim sim/scenarios/default.textproto --seed 1";
}

// TigerBeetle-style swarm: each seed draws its own fault mix; every run must keep the invariant
// (no acknowledged counter value lost) and replay to the same digest.
TEST(SimSwarm, RandomFaultMixesKeepInvariant) {
  constexpr int kSeeds = 12;
  for (std::uint64_t seed = 100; seed < 100 + kSeeds; ++seed) {
    SimRandom mix(seed);
    Scenario s;
    s.set_name("swarm");
    s.set_duration_days(0.5);
    auto* f = s.mutable_faults();
    f->set_message_loss(mix.next_double() * 0.2);
    f->set_duplication(mix.next_double() * 0.1);
    f->set_reorder(mix.next_double() * 0.3);
    f->set_latency_ms_jitter(mix.next_double() * 50);
    f->set_partition_interval_days_mean(mix.chance(0.5) ? 0.1 : 0);
    f->set_partition_duration_hours_mean(1 + mix.next_double() * 3);
    f->set_partition_fraction(mix.next_double());
    f->set_crash_interval_days_mean(0.05 + mix.next_double() * 0.5);
    f->set_crash_downtime_hours_mean(0.1 + mix.next_double() * 2);
    f->set_crash_loss(mix.next_double());
    f->set_crash_torn(mix.next_double());
    f->set_clock_skew_ms_max(mix.next_double() * 5'000);
    s.mutable_toy()->set_nodes(5 + static_cast<int>(mix.uniform(30)));
    s.mutable_toy()->set_requests_per_node_per_day(500 + mix.next_double() * 2'000);
    apply_scenario_defaults(&s);
    ASSERT_TRUE(validate_scenario(s).is_ok()) << validate_scenario(s).to_string();
    auto a = run_toy_scenario(s, seed, {});
    auto b = run_toy_scenario(s, seed, {});
    ASSERT_TRUE(a.ok() && b.ok());
    const std::string replay = "seed " + std::to_string(seed) + "; scenario:\n" +
                               scenario_to_text(s) + "replay: lafs-sim FILE --seed " +
                               std::to_string(seed);
    EXPECT_EQ(metric(*a, "toy_violations"), 0u) << replay;
    EXPECT_EQ(a->trace_digest, b->trace_digest) << replay;
    EXPECT_GT(metric(*a, "toy_requests_succeeded"), 0u) << replay;
  }
}

}  // namespace
}  // namespace lafs::sim
