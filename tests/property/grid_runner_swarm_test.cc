// The capacity-planning runner (sim/scenarios/grid_runner.h) on a small scenario: real storage
// servers and client code, churn, maintenance; the same seed gives the same report.
#include "sim/scenarios/grid_runner.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "sim/scenarios/scenario_loader.h"

namespace lafs::sim {
namespace {

std::uint64_t metric(const RunReport& r, const char* name) {
  const MetricValue* v = r.find(name);
  EXPECT_NE(v, nullptr) << name;
  if (v == nullptr) return 0;
  if (const auto* u = std::get_if<std::uint64_t>(v)) return *u;
  ADD_FAILURE() << name << " is not a count";
  return 0;
}

Scenario small(double lifetime_days, int repair_below, double days) {
  auto s = parse_scenario(
      "name: 'grid-test' seed: 3 duration_days: " + std::to_string(days) +
          " servers { count: 20 capacity_bytes: 1000000000 latency_ms_mean: 10 up_mbps: 100 "
          "down_mbps: 100 } churn { server_lifetime_days_mean: " +
          std::to_string(lifetime_days) +
          " replace_departed: true } encoding { needed: 2 happy: 4 total: 5 "
          "segment_size_bytes: 65536 } workload { files: 40 file_size_bytes_min: 1000 "
          "file_size_bytes_max: 20000 reads_per_day: 10 } maintenance { check_interval_days: 10 "
          "repair_below_shares: " +
          std::to_string(repair_below) + " lease_days: 31 renew_interval_days: 10 }",
      "test");
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_TRUE(validate_scenario(*s).is_ok()) << validate_scenario(*s).to_string();
  return *s;
}

TEST(GridRunner, RepairKeepsFilesThroughChurnAndTheRunIsDeterministic) {
  const Scenario s = small(365, 5, 90);  // servers live a year on average
  auto a = run_grid_scenario(s, 3, {});
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  EXPECT_EQ(metric(*a, "files_total"), 40u);
  EXPECT_GT(metric(*a, "servers_departed"), 0u);
  std::printf("%s", report_to_json(*a).c_str());
  EXPECT_GT(metric(*a, "repairs"), 0u);
  EXPECT_GT(metric(*a, "repair_bytes"), 0u);
  EXPECT_EQ(metric(*a, "files_lost"), 0u);
  EXPECT_GT(metric(*a, "reads_attempted"), 500u);
  EXPECT_EQ(metric(*a, "reads_succeeded"), metric(*a, "reads_attempted"));
  EXPECT_EQ(metric(*a, "read_mismatches"), 0u);
  EXPECT_GT(metric(*a, "bytes_stored_end"), 0u);
  // The same scenario and seed: the same report, event for event.
  auto b = run_grid_scenario(s, 3, {});
  ASSERT_TRUE(b.ok());
  RunReport ra = *a, rb = *b;
  EXPECT_EQ(report_to_json(ra), report_to_json(rb));
  auto c = run_grid_scenario(s, 4, {});
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->trace_digest, a->trace_digest);
}

TEST(GridRunner, WithoutRepairChurnLosesFiles) {
  const Scenario s = small(30, 0, 120);  // a month's life, no repair, four months
  auto r = run_grid_scenario(s, 3, {});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(metric(*r, "repairs"), 0u);
  EXPECT_GT(metric(*r, "files_lost"), 0u);
  EXPECT_LT(metric(*r, "reads_succeeded"), metric(*r, "reads_attempted"));
}

}  // namespace
}  // namespace lafs::sim
