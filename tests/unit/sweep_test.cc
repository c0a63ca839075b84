// Tests of sweeps over seeds (sim/scenarios/sweep.h): seed ranges and shards, Student's t
// against published values, the aggregate on known inputs, and the merge: shards merged give
// exactly the sweep one process would write; mismatched scenarios and repeated seeds refused.
#include "sim/scenarios/sweep.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <vector>

namespace lafs::sim {
namespace {

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

template <typename T>
std::string error_of(const Result<T>& r) {
  return r.ok() ? "<ok>" : r.status().message();
}

TEST(SweepSeeds, RangesParseAndBadOnesSayWhy) {
  Result<SeedRange> r = parse_seed_range("1..3");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (SeedRange{1, 3}));
  EXPECT_EQ(seed_range_to_string(*r), "1..3");
  EXPECT_EQ(*parse_seed_range("7..7"), (SeedRange{7, 7}));
  EXPECT_EQ(*parse_seed_range("0..999999"), (SeedRange{0, 999999}));
  EXPECT_EQ(*parse_seed_range("18446744073709551615..18446744073709551615"),
            (SeedRange{kU64Max, kU64Max}));
  EXPECT_NE(error_of(parse_seed_range("3..1")).find("must not be above the last, got '3..1'"),
            std::string::npos);
  EXPECT_NE(error_of(parse_seed_range("0..1000000")).find("at most 1000000 seeds"),
            std::string::npos);
  for (const char* bad : {"", "1", "1-3", "1..", "..3", "a..b", "1..2..3", "-1..3", "1 ..3",
                          "18446744073709551616..1", "0x1..2"}) {
    EXPECT_FALSE(parse_seed_range(bad).ok()) << bad;
    EXPECT_NE(error_of(parse_seed_range(bad)).find("expected A..B"), std::string::npos) << bad;
  }
}

TEST(SweepSeeds, ShardsParseAndBadOnesSayWhy) {
  EXPECT_EQ(*parse_shard("0/2"), (Shard{0, 2}));
  EXPECT_EQ(*parse_shard("1/2"), (Shard{1, 2}));
  EXPECT_EQ(shard_to_string(Shard{3, 8}), "3/8");
  EXPECT_NE(error_of(parse_shard("2/2")).find("i must be below N"), std::string::npos);
  EXPECT_NE(error_of(parse_shard("0/0")).find("N must be between 1 and"), std::string::npos);
  for (const char* bad : {"", "1", "/2", "1/", "a/2", "-1/2", "1/2/3", "0/1000001"}) {
    EXPECT_FALSE(parse_shard(bad).ok()) << bad;
  }
}

// Every seed of the range is in exactly one shard, the one that (s - A) % N names.
TEST(SweepSeeds, ShardsPartitionTheRange) {
  for (const SeedRange range :
       {SeedRange{1, 3}, SeedRange{0, 0}, SeedRange{5, 104}, SeedRange{kU64Max - 6, kU64Max}}) {
    for (std::uint64_t n : {1, 2, 3, 7, 10, 200}) {
      std::vector<std::uint64_t> all;
      for (std::uint64_t i = 0; i < n; ++i) {
        for (std::uint64_t s : shard_seeds(range, Shard{i, n})) {
          EXPECT_EQ((s - range.first) % n, i);
          all.push_back(s);
        }
      }
      std::sort(all.begin(), all.end());
      ASSERT_EQ(all.size(), range.last - range.first + 1) << n;
      for (std::size_t k = 0; k < all.size(); ++k) EXPECT_EQ(all[k], range.first + k);
    }
  }
}

// Published two-sided 99% critical values (t at 0.995, to the tables' four places), then more
// digits computed with mpmath (40 digits: findroot on betainc) for these and other entries.
TEST(StudentT, QuantileMatchesTables) {
  EXPECT_NEAR(student_t_quantile(0.995, 19), 2.8609, 5e-5);
  EXPECT_NEAR(student_t_quantile(0.995, 9), 3.2498, 5e-5);
  EXPECT_NEAR(student_t_quantile(0.995, 1), 63.657, 5e-4);
  EXPECT_NEAR(student_t_quantile(0.995, 4), 4.604094871349992, 1e-9);
  EXPECT_NEAR(student_t_quantile(0.975, 10), 2.2281388519862742, 1e-9);
  EXPECT_NEAR(student_t_quantile(0.95, 30), 1.6972608865939574, 1e-9);
  EXPECT_NEAR(student_t_quantile(0.995, 19), 2.8609346064649788, 1e-9);
  EXPECT_NEAR(student_t_quantile(0.995, 9), 3.2498355415921257, 1e-9);
  EXPECT_NEAR(student_t_quantile(0.995, 1), 63.656741162871524, 1e-9);
  // Many degrees of freedom: near the normal quantile 2.5758293...
  EXPECT_NEAR(student_t_quantile(0.995, 1e6), 2.5758342201053342, 1e-9);
}

// One and two degrees of freedom have closed forms: tan(pi (p - 1/2)) and
// (2p - 1) / sqrt(2 p (1 - p)).
TEST(StudentT, QuantileMatchesClosedFormsToRounding) {
  for (double p : {0.51, 0.6, 0.9, 0.975, 0.995, 0.999999, 0.01, 1e-9}) {
    // tan(pi (p - 1/2)) = -cot(pi p), written so that p near 0 or 1 keeps its digits.
    const double t1 =
        p < 0.5 ? -1 / std::tan(std::numbers::pi * p) : 1 / std::tan(std::numbers::pi * (1 - p));
    EXPECT_NEAR(student_t_quantile(p, 1), t1, 1e-9 * std::fabs(t1)) << p;
    const double t2 = (2 * p - 1) / std::sqrt(2 * p * (1 - p));
    EXPECT_NEAR(student_t_quantile(p, 2), t2, 1e-9 * std::fabs(t2)) << p;
  }
  EXPECT_EQ(student_t_quantile(0.5, 7), 0.0);
}

TEST(StudentT, CdfInvertsQuantileAndIsSymmetric) {
  for (double dof : {1.0, 2.0, 3.5, 19.0, 1000.0}) {
    for (double p : {0.001, 0.2, 0.5, 0.8, 0.995}) {
      const double t = student_t_quantile(p, dof);
      EXPECT_NEAR(student_t_cdf(t, dof), p, 1e-12) << dof << " " << p;
      EXPECT_NEAR(student_t_quantile(1 - p, dof), -t, 1e-12 * (1 + std::fabs(t)))
          << dof << " " << p;
    }
  }
}

TEST(StudentT, IncompleteBetaSpecialCases) {
  for (double x : {0.0, 1e-6, 0.1, 0.5, 0.9, 1.0}) {
    EXPECT_NEAR(regularized_incomplete_beta(x, 1, 1), x, 1e-14) << x;
    EXPECT_NEAR(regularized_incomplete_beta(x, 3, 1), x * x * x, 1e-14) << x;
    EXPECT_NEAR(regularized_incomplete_beta(x, 0.5, 0.5),
                2 / std::numbers::pi * std::asin(std::sqrt(x)), 1e-13)
        << x;
    EXPECT_NEAR(regularized_incomplete_beta(x, 2.5, 7),
                1 - regularized_incomplete_beta(1 - x, 7, 2.5), 1e-14)
        << x;
  }
}

RunReport run(std::uint64_t seed, std::uint64_t files_lost, std::uint64_t files_total = 100) {
  RunReport r;
  r.scenario = "grid";
  r.seed = seed;
  r.trace_digest = "d" + std::to_string(seed);
  r.events = 1000 * seed;
  r.simulated_days = 30;
  r.wall_seconds = 0.5;
  r.set("files_total", files_total);
  r.set("files_lost", files_lost);
  r.set("note", std::string("text is not aggregated"));
  return r;
}

const MetricStats* stats(const SweepAggregate& a, const std::string& name) {
  for (const MetricStats& m : a.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

// Losses of 1..5 of 100 files: fractions 0.01..0.05, mean 0.03, standard deviation
// sqrt(2.5) / 100, and the 99% interval mean ± t(0.995, 4) · sd / sqrt(5), clipped at 0.
TEST(SweepAggregate, KnownInputsGiveKnownMeanAndInterval) {
  std::vector<RunReport> runs;
  for (std::uint64_t s = 1; s <= 5; ++s) runs.push_back(run(s, s));
  runs[2].set("read_mismatches", std::uint64_t{1});  // seed 3 failed an invariant
  runs[4].set("toy_violations", std::int64_t{2});    // and seed 5
  runs[1].set("only_in_two", 7.5);
  runs[3].set("only_in_two", std::numeric_limits<double>::quiet_NaN());  // left out
  runs[3].set("only_in_two_b", 1.0);
  const SweepAggregate a = aggregate_runs(runs);

  EXPECT_EQ(a.runs, 5u);
  EXPECT_EQ(a.failed_seeds, (std::vector<std::uint64_t>{3, 5}));
  const LossFraction& lf = a.loss_fraction;
  EXPECT_EQ(lf.n, 5u);
  EXPECT_NEAR(lf.mean, 0.03, 1e-15);
  const double sd = std::sqrt(2.5) / 100;
  EXPECT_NEAR(lf.stddev, sd, 1e-15);
  EXPECT_NEAR(lf.t_quantile, 4.604094871349992, 1e-11);
  const double half = 4.604094871349992 * sd / std::sqrt(5.0);
  EXPECT_EQ(lf.ci_low, 0.0);  // 0.03 - 0.0326 clipped
  EXPECT_NEAR(lf.ci_high, 0.03 + half, 1e-12);

  const MetricStats* lost = stats(a, "files_lost");
  ASSERT_NE(lost, nullptr);
  EXPECT_EQ(lost->n, 5u);
  EXPECT_DOUBLE_EQ(lost->mean, 3);
  EXPECT_DOUBLE_EQ(lost->stddev, std::sqrt(2.5));
  EXPECT_EQ(lost->min, 1);
  EXPECT_EQ(lost->max, 5);
  ASSERT_NE(stats(a, "events"), nullptr);
  EXPECT_DOUBLE_EQ(stats(a, "events")->mean, 3000);
  EXPECT_EQ(stats(a, "note"), nullptr);  // strings are not aggregated
  ASSERT_NE(stats(a, "only_in_two"), nullptr);
  EXPECT_EQ(stats(a, "only_in_two")->n, 1u);  // the NaN is left out
  EXPECT_TRUE(std::isnan(stats(a, "only_in_two")->stddev));
  // Fixed fields first, then metrics in the order first seen.
  std::vector<std::string> names;
  for (const MetricStats& m : a.metrics) names.push_back(m.name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "events", "simulated_days", "wall_seconds", "files_total", "files_lost",
                       "only_in_two", "read_mismatches", "only_in_two_b", "toy_violations"}));
}

TEST(SweepAggregate, OneRunHasNoIntervalAndNoFilesNoFraction) {
  SweepAggregate a = aggregate_runs({run(1, 2)});
  EXPECT_EQ(a.loss_fraction.n, 1u);
  EXPECT_DOUBLE_EQ(a.loss_fraction.mean, 0.02);
  EXPECT_TRUE(std::isnan(a.loss_fraction.ci_low));
  EXPECT_TRUE(std::isnan(a.loss_fraction.ci_high));
  a = aggregate_runs({run(1, 0, 0), run(2, 0, 0)});  // files_total 0: no fraction
  EXPECT_EQ(a.loss_fraction.n, 0u);
  a = aggregate_runs({});
  EXPECT_EQ(a.runs, 0u);
  EXPECT_TRUE(a.metrics.empty());
}

// Seeds A..B of synthetic runs with awkward doubles and series, as one process would hold them.
Sweep whole_sweep(SeedRange range) {
  std::mt19937_64 rng(range.first);
  Sweep sweep;
  sweep.scenario = "grid \"quoted\"";
  sweep.scenario_file = "sim/scenarios/grid.textproto";
  sweep.seeds = range;
  for (std::uint64_t s = range.first; s <= range.last; ++s) {
    RunReport r = run(s, rng() % 10, 10 + rng() % 90);
    r.scenario = sweep.scenario;
    r.simulated_days = std::ldexp(static_cast<double>(rng()), -60);
    r.wall_seconds = 1.0 / static_cast<double>(1 + rng() % 97);
    r.set("server_load_cv", std::ldexp(static_cast<double>(rng()), -64));
    if (s % 3 == 0) r.set("sometimes", static_cast<std::int64_t>(rng() % 5) - 2);
    r.series.push_back(Series{"checks",
                              {"day", "unrecoverable", "shares_0"},
                              {{0, 0, 0}, {0.1 * static_cast<double>(s), 1.0 / 3, 2}}});
    sweep.runs.push_back(std::move(r));
  }
  return sweep;
}

// The shards of `whole` as their processes would write them, read back from their JSON.
std::vector<Sweep> shards_of(const Sweep& whole, std::uint64_t n) {
  std::vector<Sweep> shards;
  for (std::uint64_t i = 0; i < n; ++i) {
    Sweep shard = whole;
    shard.shard = Shard{i, n};
    shard.runs.clear();
    for (std::uint64_t seed : shard_seeds(*whole.seeds, Shard{i, n})) {
      shard.runs.push_back(whole.runs[seed - whole.seeds->first]);
    }
    Result<Sweep> back = sweep_from_json(sweep_to_json(shard), "shard" + std::to_string(i));
    EXPECT_TRUE(back.ok()) << error_of(back);
    shards.push_back(std::move(*back));
  }
  return shards;
}

TEST(SweepMerge, MergedShardsEqualTheWholeSweepByteForByte) {
  const Sweep whole = whole_sweep(SeedRange{10, 26});
  const std::string expected = sweep_to_json(whole);
  for (std::uint64_t n : {1, 2, 3, 5, 17, 40}) {
    std::vector<Sweep> shards = shards_of(whole, n);
    std::vector<std::string> names;
    for (std::uint64_t i = 0; i < n; ++i) names.push_back("shard" + std::to_string(i) + ".json");
    std::reverse(shards.begin(), shards.end());  // file order does not matter
    std::reverse(names.begin(), names.end());
    Result<Sweep> merged = merge_sweeps(std::move(shards), names);
    ASSERT_TRUE(merged.ok()) << error_of(merged);
    EXPECT_TRUE(missing_seeds(*merged).empty());
    EXPECT_EQ(sweep_to_json(*merged), expected) << n << " shards";
    EXPECT_EQ(sweep_to_csv(*merged), sweep_to_csv(whole));
  }
}

TEST(SweepMerge, SingleRunFilesMergeIntoASweep) {
  const Sweep whole = whole_sweep(SeedRange{1, 4});
  std::vector<Sweep> parts;
  std::vector<std::string> names;
  for (const RunReport& r : whole.runs) {
    Result<Sweep> part = sweep_from_json(report_to_json(r), "run.json");
    ASSERT_TRUE(part.ok()) << error_of(part);
    parts.push_back(std::move(*part));
    names.push_back("run" + std::to_string(r.seed) + ".json");
  }
  Result<Sweep> merged = merge_sweeps(std::move(parts), names);
  ASSERT_TRUE(merged.ok()) << error_of(merged);
  EXPECT_FALSE(merged->seeds.has_value());  // single runs name no range
  Sweep expected = whole;
  expected.seeds.reset();
  expected.scenario_file.clear();
  EXPECT_EQ(sweep_to_json(*merged), sweep_to_json(expected));
}

TEST(SweepMerge, RefusesAnotherScenarioAndRepeatedSeeds) {
  const Sweep whole = whole_sweep(SeedRange{1, 6});
  std::vector<Sweep> shards = shards_of(whole, 2);
  Sweep other = shards[1];
  other.scenario = "other";
  for (RunReport& r : other.runs) r.scenario = "other";
  Result<Sweep> r = merge_sweeps({shards[0], other}, {"a.json", "b.json"});
  EXPECT_NE(error_of(r).find("b.json: scenario 'other' differs from 'grid \"quoted\"' in a.json"),
            std::string::npos)
      << error_of(r);
  r = merge_sweeps({shards[0], shards[1], shards[0]}, {"a.json", "b.json", "c.json"});
  EXPECT_NE(error_of(r).find("seed 1 appears in both a.json and c.json"), std::string::npos)
      << error_of(r);
  r = merge_sweeps({}, {});
  EXPECT_FALSE(r.ok());
}

TEST(SweepMerge, MissingShardLeavesSeedsMissing) {
  const Sweep whole = whole_sweep(SeedRange{10, 19});
  std::vector<Sweep> shards = shards_of(whole, 3);
  Result<Sweep> merged = merge_sweeps({shards[0], shards[2]}, {"0.json", "2.json"});
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(missing_seeds(*merged), (std::vector<std::uint64_t>{11, 14, 17}));
}

TEST(SweepJson, FilesThatLieAboutTheirRunsAreRefused) {
  const Sweep whole = whole_sweep(SeedRange{1, 4});
  Sweep bad = shards_of(whole, 2)[0];                    // seeds 1 and 3
  bad.runs.insert(bad.runs.begin() + 1, whole.runs[1]);  // seed 2 belongs to shard 1/2
  EXPECT_NE(error_of(sweep_from_json(sweep_to_json(bad), "f.json")).find("not in shard 0/2"),
            std::string::npos);
  bad = whole;
  bad.seeds = SeedRange{2, 4};
  EXPECT_NE(error_of(sweep_from_json(sweep_to_json(bad), "f.json")).find("outside the sweep's"),
            std::string::npos);
  std::string text = sweep_to_json(whole);
  text.replace(text.rfind("\"scenario\": \"grid"), 17, "\"scenario\": \"gold");
  EXPECT_NE(error_of(sweep_from_json(text, "f.json")).find("differs from the sweep's"),
            std::string::npos)
      << error_of(sweep_from_json(text, "f.json"));
  for (const char* garbage : {"", "[]", "{\"runs\": 1}", "{\"scenario\": \"s\", \"runs\": [1]}",
                              "{\"scenario\": \"s\", \"runs\": [], \"extra\": 1}",
                              "{\"scenario\": \"s\", \"shard\": \"0/2\", \"runs\": []}",
                              "{\"scenario\": \"s\", \"seeds\": \"3..1\", \"runs\": []}"}) {
    Result<Sweep> r = sweep_from_json(garbage, "g.json");
    EXPECT_FALSE(r.ok()) << garbage;
    EXPECT_EQ(error_of(r).rfind("g.json", 0), 0u) << error_of(r);  // names the file first
  }
}

// Mutations of a sweep file: read or refused, never a crash.
TEST(SweepJson, MutatedFilesReadOrFailCleanly) {
  const std::string json = sweep_to_json(whole_sweep(SeedRange{1, 3}));
  std::mt19937_64 rng(5);
  for (int i = 0; i < 2000; ++i) {
    std::string text = json;
    const std::size_t at = rng() % text.size();
    if (rng() % 2) {
      text[at] = static_cast<char>(rng());
    } else {
      text.erase(at, rng() % 20);
    }
    Result<Sweep> r = sweep_from_json(text, "m.json");
    if (r.ok()) (void)sweep_to_json(*r);
  }
}

TEST(SweepCsv, OneRowPerSeedWithExactIntegers) {
  std::vector<RunReport> runs = {run(1, 2), run(2, 0)};
  runs[0].set("big", kU64Max);
  runs[1].set("neg", std::int64_t{-3});
  Sweep sweep;
  sweep.scenario = "grid";
  sweep.runs = runs;
  EXPECT_EQ(sweep_to_csv(sweep),
            "seed,events,simulated_days,wall_seconds,files_total,files_lost,big,neg,"
            "loss_fraction\n"
            "1,1000,30,0.5,100,2,18446744073709551615,,0.02\n"
            "2,2000,30,0.5,100,0,,-3,0\n");
}

TEST(SweepText, SummaryHasTheIntervalAndFailedSeeds) {
  std::vector<RunReport> runs = {run(1, 2), run(2, 0), run(3, 1)};
  runs[1].set("read_mismatches", std::uint64_t{1});
  Sweep sweep;
  sweep.scenario = "grid";
  sweep.seeds = SeedRange{1, 3};
  sweep.runs = runs;
  const std::string text = sweep_to_text(sweep, aggregate_runs(runs));
  for (const char* needle : {"grid, 3 runs of seeds 1..3", "failed runs    1 (seeds 2)",
                             "loss_fraction  mean 0.01 over 3 runs, 99% CI [0, ", "files_lost"}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle << "\n" << text;
  }
}

TEST(SweepInvariants, FailuresAreNamed) {
  RunReport r = run(1, 0);
  EXPECT_TRUE(invariant_failures(r).empty());
  r.set("read_mismatches", std::uint64_t{0});
  EXPECT_TRUE(invariant_failures(r).empty());
  r.set("read_mismatches", std::int64_t{2});
  r.set("toy_violations", 1.0);
  EXPECT_EQ(invariant_failures(r).size(), 2u);
}

}  // namespace
}  // namespace lafs::sim
