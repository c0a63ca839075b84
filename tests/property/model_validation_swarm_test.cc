// The simulator against the analytic durability models (issue 11, "Validation"): the shipped
// validation scenarios (sim/scenarios/validate-*.textproto) run with the real client and server
// code for many seeds; their mean loss fraction must lie within the 99% confidence interval
// around the model's prediction, the interval's width coming from the spread over the seeds
// (files that share servers fail together, so a binomial interval would be too narrow):
//   |mean - prediction| <= t(0.995, seeds - 1) * stddev / sqrt(seeds).
// Each test also checks that the interval is narrow enough to tell a wrong model apart (the
// prediction without repair, or with a 1.5x longer lifetime, lies outside it), so passing means
// something.
//
// CI runs the fast subset: 20 seeds of 60 files. The full tables in docs/capacity-planning.md
// come from LAFS_VALIDATION_SEEDS=30 LAFS_VALIDATION_FILES=1000 (or `lafs-sim SCENARIO --seeds
// 1..30`). A failing seed's replay: lafs-sim sim/scenarios/validate-*.textproto --seed N.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "sim/scenarios/analytic_model.h"
#include "sim/scenarios/grid_runner.h"
#include "sim/scenarios/scenario_loader.h"
#include "sim/scenarios/sweep.h"

namespace lafs::sim {
namespace {

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

std::uint64_t count(const RunReport& r, const char* name) {
  const MetricValue* v = r.find(name);
  if (v == nullptr || !std::holds_alternative<std::uint64_t>(*v)) {
    ADD_FAILURE() << name << " missing";
    return 0;
  }
  return std::get<std::uint64_t>(*v);
}

struct Spread {
  std::size_t seeds = 0;
  double mean = 0, half_width = 0;
};

// Runs the scenario for seeds 1..N with LAFS_VALIDATION_FILES files; the loss fraction's mean
// over the seeds and its 99% interval half-width (the sweep aggregate's Student t).
Spread run_seeds(const char* file) {
  auto s = load_scenario_file(std::string(LAFS_SOURCE_DIR) + "/sim/scenarios/" + file);
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  Scenario scenario = *s;
  scenario.mutable_workload()->set_files(static_cast<int>(env_or("LAFS_VALIDATION_FILES", 60)));
  const std::uint64_t seeds = std::max<std::uint64_t>(20, env_or("LAFS_VALIDATION_SEEDS", 20));
  std::vector<RunReport> runs;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    auto r = run_grid_scenario(scenario, seed, {});
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    if (!r.ok()) continue;
    EXPECT_EQ(count(*r, "files_total"), static_cast<std::uint64_t>(scenario.workload().files()))
        << "replay: lafs-sim sim/scenarios/" << file << " --seed " << seed;
    EXPECT_EQ(count(*r, "read_mismatches"), 0u)
        << "replay: lafs-sim sim/scenarios/" << file << " --seed " << seed;
    runs.push_back(std::move(*r));
  }
  const LossFraction lf = aggregate_runs(runs).loss_fraction;
  Spread out;
  out.seeds = lf.n;
  out.mean = lf.mean;
  out.half_width = lf.n > 0 ? lf.t_quantile * lf.stddev / std::sqrt(static_cast<double>(lf.n)) : 0;
  std::printf(
      "%s: %llu seeds of %d files: loss fraction mean %.5f, stddev %.5f, 99%% half-width "
      "%.5f\n",
      file, static_cast<unsigned long long>(lf.n), scenario.workload().files(), lf.mean, lf.stddev,
      out.half_width);
  return out;
}

TEST(ModelValidation, NoRepairMatchesTheBinomialClosedForm) {
  const Spread got = run_seeds("validate-binomial.textproto");
  ASSERT_GE(got.seeds, 20u);
  auto p = binomial_loss_probability({3, 10, 100, 120});
  ASSERT_TRUE(p.ok());
  std::printf("binomial model: %.5f\n", *p);
  EXPECT_LE(std::abs(got.mean - *p), got.half_width)
      << "simulated " << got.mean << " vs model " << *p << " (99% half-width " << got.half_width
      << ")";
  // Power: a model with 1.5x the share lifetime is told apart.
  auto wrong = binomial_loss_probability({3, 10, 150, 120});
  ASSERT_TRUE(wrong.ok());
  EXPECT_GT(std::abs(got.mean - *wrong), got.half_width) << "wrong model " << *wrong;
}

TEST(ModelValidation, MonthlyRepairMatchesTahoesReliabilityModel) {
  const Spread got = run_seeds("validate-tahoe.textproto");
  ASSERT_GE(got.seeds, 20u);
  TahoeModelParams m;
  m.lifetime_seconds = 60.0 * kModelSecondsPerDay;
  m.k = 3;
  m.repair_below = 7;
  m.n = 10;
  m.duration_seconds = 180 * kModelSecondsPerDay;  // 181 one-day steps: the scenario's 181 days
  m.step_seconds = kModelSecondsPerDay;
  m.check_interval_seconds = 30 * kModelSecondsPerDay;
  m.variant = TahoeModelVariant::kCorrected;
  auto p = run_tahoe_model(m);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->steps, 181);
  std::printf("tahoe model: maintained %.5f, unmaintained %.5f\n", p->p_lost_maintained,
              p->p_lost_unmaintained);
  EXPECT_LE(std::abs(got.mean - p->p_lost_maintained), got.half_width)
      << "simulated " << got.mean << " vs model " << p->p_lost_maintained << " (99% half-width "
      << got.half_width << ")";
  // Power: without repair the model predicts near-certain loss, far outside the interval.
  EXPECT_GT(std::abs(got.mean - p->p_lost_unmaintained), got.half_width);
}

}  // namespace
}  // namespace lafs::sim
