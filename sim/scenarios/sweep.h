// Sweeps: one scenario run for many seeds, in one process (`lafs-sim SCENARIO --seeds A..B`) or
// in shards spread over machines (`--shard i/N`) and merged (`lafs-sim merge`); and the
// aggregate over the seeds (mean, spread, a confidence interval of the loss fraction).
// The aggregate is a function of the runs alone, taken in seed order, so a merge of shards
// gives exactly the aggregate of one process running the whole range.
// docs/capacity-planning.md, "Sweeps across machines".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/runtime/status.h"
#include "sim/scenarios/report.h"

namespace lafs::sim {

// Most seeds one sweep may have (and so the most shards): a bound on memory and on the files.
inline constexpr std::uint64_t kSweepSeedsMax = 1'000'000;
// The confidence of the loss fraction's interval.
inline constexpr double kLossConfidence = 0.99;

// An inclusive range of seeds, first <= last, at most kSweepSeedsMax seeds.
struct SeedRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  friend bool operator==(const SeedRange&, const SeedRange&) = default;
};

// "A..B" (decimal, inclusive). Errors say what was expected and what was given.
Result<SeedRange> parse_seed_range(std::string_view text);
std::string seed_range_to_string(SeedRange range);  // "A..B"

// Slice `index` of `count`: the seeds s with (s - first) % count == index.
struct Shard {
  std::uint64_t index = 0;
  std::uint64_t count = 1;
  friend bool operator==(const Shard&, const Shard&) = default;
};

// "i/N" with 0 <= i < N <= kSweepSeedsMax.
Result<Shard> parse_shard(std::string_view text);
std::string shard_to_string(Shard shard);  // "i/N"

// The seeds of `range` in `shard`, ascending (empty when the shard is beyond a short range).
std::vector<std::uint64_t> shard_seeds(SeedRange range, Shard shard);

// Why the run failed an invariant, one line each ("read_mismatches: 2 reads returned bytes
// other than the file's"); empty when it held every one. Such a run makes lafs-sim exit 1.
std::vector<std::string> invariant_failures(const RunReport& report);

// The value of `name` in the run: one of the fixed numeric fields (events, simulated_days,
// wall_seconds) or a metric; nullopt when absent.
std::optional<MetricValue> run_field(const RunReport& report, const std::string& name);

// files_lost / files_total, when the run has both and files_total > 0.
std::optional<double> run_loss_fraction(const RunReport& report);

// Student's t distribution with `dof` > 0 degrees of freedom: the CDF, and its inverse for
// 0 < p < 1 (bisection on the CDF, to the last bit of a double). Uses the regularized
// incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1 (a continued fraction).
double regularized_incomplete_beta(double x, double a, double b);
double student_t_cdf(double t, double dof);
double student_t_quantile(double p, double dof);

// Mean, sample standard deviation (n - 1 in the denominator; NaN for one value), minimum and
// maximum of one numeric metric over the runs that have a finite value for it.
struct MetricStats {
  std::string name;
  std::uint64_t n = 0;
  double mean = 0;
  double stddev = 0;
  double min = 0;
  double max = 0;
};

// files_lost / files_total per run (runs with files_total > 0), its mean and the two-sided
// kLossConfidence interval mean ± t(1 - (1 - confidence) / 2, n - 1) · stddev / √n, clipped
// to [0, 1]. The interval is NaN for fewer than two runs.
struct LossFraction {
  std::uint64_t n = 0;
  double mean = 0;
  double stddev = 0;
  double t_quantile = 0;
  double ci_low = 0;
  double ci_high = 0;
};

struct SweepAggregate {
  std::uint64_t runs = 0;
  std::vector<std::uint64_t> failed_seeds;  // runs with invariant_failures, ascending
  // events, simulated_days, wall_seconds, then every numeric metric in the order first seen
  // (runs taken in seed order); strings and non-finite values are left out.
  std::vector<MetricStats> metrics;
  LossFraction loss_fraction;  // n == 0 when no run has files_total > 0
};

// The aggregate of `runs`, which must be in ascending seed order without duplicates.
SweepAggregate aggregate_runs(const std::vector<RunReport>& runs);

// The runs of one sweep, or of a shard of one, or of a merge.
struct Sweep {
  std::string scenario;            // every run's scenario name
  std::string scenario_file;       // the path given on the command line ("" if unknown)
  std::optional<SeedRange> seeds;  // the whole sweep's range, when known
  std::optional<Shard> shard;      // the slice of `seeds` these runs are, if one
  std::vector<RunReport> runs;     // ascending seed, unique
};

// The sweep as JSON, keys in this order: scenario, scenario_file (unless empty), seeds and
// shard (when set), aggregate (aggregate_runs of the runs), runs (each as report_to_json).
// Deterministic apart from wall_seconds; final newline.
std::string sweep_to_json(const Sweep& sweep);

// A file sweep_to_json wrote, or a single run's report_to_json (a sweep of one run). The
// stored aggregate is ignored (merge recomputes it). Errors name `where` (the file) and the
// field; runs must match the sweep's scenario, range and shard, and not repeat a seed.
Result<Sweep> sweep_from_json(std::string_view text, std::string_view where);

// The runs of all `parts` (read from the files `names`, for messages) as one sweep. Refuses
// parts of different scenarios and a seed that appears twice. The range is kept when every
// part names the same one; the shard is dropped.
Result<Sweep> merge_sweeps(std::vector<Sweep> parts, const std::vector<std::string>& names);

// Seeds of the sweep's range that have no run (none when the range is unknown).
std::vector<std::uint64_t> missing_seeds(const Sweep& sweep);

// One CSV row per run: seed, then every numeric metric of the aggregate, then loss_fraction.
// Integers print exactly, doubles shortest-round-trip; a missing value is an empty cell.
std::string sweep_to_csv(const Sweep& sweep);

// A human summary: runs, failed seeds, the loss fraction and its interval, and a table of the
// metrics' statistics.
std::string sweep_to_text(const Sweep& sweep, const SweepAggregate& aggregate);

}  // namespace lafs::sim
