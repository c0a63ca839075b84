// Sweeps over seeds: ranges and shards, the aggregate (with Student's t for the loss
// fraction's interval), the sweep JSON and its merge, CSV and text.
#include "sim/scenarios/sweep.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/runtime/assert.h"
#include "sim/scenarios/report_json.h"

namespace lafs::sim {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Iterations of the incomplete beta's continued fraction: it converges in O(sqrt(max(a, b)))
// steps, and a sweep's t has at most kSweepSeedsMax / 2 for a.
constexpr int kBetaIterationsMax = 20000;
// Bisection steps for the t quantile: each halves the bracket; a double bracket collapses in
// well under 2,200 (1,100 doublings to find it, then 1,100 halvings at most).
constexpr int kQuantileStepsMax = 2200;
// Missing seeds listed by name in messages before "and N more".
constexpr std::size_t kSeedsListedMax = 10;

std::optional<std::uint64_t> parse_uint64(std::string_view text) {
  std::uint64_t v = 0;
  if (text.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// The continued fraction of I_x(a, b) (Numerical Recipes' betacf, modified Lentz).
double beta_continued_fraction(double x, double a, double b) {
  constexpr double kTiny = 1e-300;
  constexpr double kEpsilon = 1e-16;
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= kBetaIterationsMax; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < kEpsilon) return h;
  }
  LAFS_UNREACHABLE();  // the bound is far above what any a, b of a sweep needs
}

// P(T > t) for t >= 0: half of I_{dof/(dof+t²)}(dof/2, 1/2), accurate far into the tail.
double student_t_upper_tail(double t, double dof) {
  LAFS_ASSERT(t >= 0);
  if (std::isinf(t)) return 0;
  const double x = dof / (dof + t * t);
  return 0.5 * regularized_incomplete_beta(x, dof / 2, 0.5);
}

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  LAFS_ASSERT(ec == std::errc());
  return std::string(buf, end);
}

// A metric exactly as it is (integers as integers) for CSV; "" for strings.
std::string csv_number(const MetricValue& value) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return "";
        } else if constexpr (std::is_same_v<T, double>) {
          return format_number(x);
        } else {
          return std::to_string(x);
        }
      },
      value);
}

// Mean, sample standard deviation, min and max of `xs` (two passes, in order: deterministic).
MetricStats stats_of(std::string name, const std::vector<double>& xs) {
  MetricStats s;
  s.name = std::move(name);
  s.n = xs.size();
  LAFS_ASSERT(s.n > 0);
  double sum = 0;
  s.min = s.max = xs.front();
  for (double x : xs) {
    sum += x;
    s.min = std::min(s.min, x);
    s.max = std::max(s.max, x);
  }
  s.mean = sum / static_cast<double>(s.n);
  double squares = 0;
  for (double x : xs) squares += (x - s.mean) * (x - s.mean);
  s.stddev = s.n > 1 ? std::sqrt(squares / static_cast<double>(s.n - 1)) : kNaN;
  return s;
}

LossFraction loss_fraction_stats(const std::vector<double>& fractions) {
  LossFraction lf;
  lf.n = fractions.size();
  if (lf.n == 0) {
    lf.mean = lf.stddev = lf.t_quantile = lf.ci_low = lf.ci_high = kNaN;
    return lf;
  }
  const MetricStats s = stats_of("loss_fraction", fractions);
  lf.mean = s.mean;
  lf.stddev = s.stddev;
  if (lf.n < 2) {
    lf.t_quantile = lf.ci_low = lf.ci_high = kNaN;
    return lf;
  }
  lf.t_quantile = student_t_quantile(1 - (1 - kLossConfidence) / 2, static_cast<double>(lf.n - 1));
  const double half_width = lf.t_quantile * lf.stddev / std::sqrt(static_cast<double>(lf.n));
  lf.ci_low = std::clamp(lf.mean - half_width, 0.0, 1.0);
  lf.ci_high = std::clamp(lf.mean + half_width, 0.0, 1.0);
  LAFS_ASSERT(lf.ci_low <= lf.mean && lf.mean <= lf.ci_high);
  return lf;
}

boost::json::object aggregate_to_json(const SweepAggregate& a) {
  boost::json::object obj;
  obj["runs"] = a.runs;
  boost::json::array failed;
  for (std::uint64_t s : a.failed_seeds) failed.emplace_back(s);
  obj["failed_seeds"] = std::move(failed);
  boost::json::object lf;
  lf["n"] = a.loss_fraction.n;
  lf["mean"] = a.loss_fraction.mean;
  lf["stddev"] = a.loss_fraction.stddev;
  lf["confidence"] = kLossConfidence;
  lf["t_quantile"] = a.loss_fraction.t_quantile;
  lf["ci_low"] = a.loss_fraction.ci_low;
  lf["ci_high"] = a.loss_fraction.ci_high;
  obj["loss_fraction"] = std::move(lf);
  boost::json::object metrics;
  for (const MetricStats& m : a.metrics) {
    boost::json::object s;
    s["n"] = m.n;
    s["mean"] = m.mean;
    s["stddev"] = m.stddev;
    s["min"] = m.min;
    s["max"] = m.max;
    metrics[m.name] = std::move(s);
  }
  obj["metrics"] = std::move(metrics);
  return obj;
}

Status sweep_error(std::string_view where, const std::string& message) {
  return invalid_argument(std::string(where) + ": " + message);
}

// The runs' own checks: one scenario, seeds unique and ascending, inside the range and shard.
Status check_runs(Sweep& sweep, std::string_view where) {
  std::sort(sweep.runs.begin(), sweep.runs.end(),
            [](const RunReport& a, const RunReport& b) { return a.seed < b.seed; });
  for (std::size_t i = 0; i < sweep.runs.size(); ++i) {
    const RunReport& r = sweep.runs[i];
    const std::string seed = "run of seed " + std::to_string(r.seed);
    if (r.scenario != sweep.scenario) {
      return sweep_error(where, seed + ": scenario '" + r.scenario +
                                    "' differs from the sweep's '" + sweep.scenario + "'");
    }
    if (i > 0 && sweep.runs[i - 1].seed == r.seed) {
      return sweep_error(where, "seed " + std::to_string(r.seed) + " appears twice");
    }
    if (sweep.seeds && (r.seed < sweep.seeds->first || r.seed > sweep.seeds->last)) {
      return sweep_error(
          where, seed + ": outside the sweep's seeds " + seed_range_to_string(*sweep.seeds));
    }
    if (sweep.seeds && sweep.shard &&
        (r.seed - sweep.seeds->first) % sweep.shard->count != sweep.shard->index) {
      return sweep_error(where, seed + ": not in shard " + shard_to_string(*sweep.shard));
    }
  }
  return Status{};
}

Result<Sweep> sweep_from_object(const boost::json::object& obj, std::string_view where) {
  Sweep sweep;
  for (const auto& kv : obj) {
    const std::string_view k = kv.key();
    if (k != "scenario" && k != "scenario_file" && k != "seeds" && k != "shard" &&
        k != "aggregate" && k != "runs") {
      return sweep_error(where, std::string(k) +
                                    ": unknown key (a sweep has scenario, scenario_file, seeds, "
                                    "shard, aggregate, runs)");
    }
  }
  const boost::json::value* scenario = obj.if_contains("scenario");
  if (scenario == nullptr || !scenario->is_string()) {
    return sweep_error(where, "scenario: missing or not a string");
  }
  sweep.scenario = std::string(scenario->get_string());
  if (const boost::json::value* f = obj.if_contains("scenario_file")) {
    if (!f->is_string()) return sweep_error(where, "scenario_file: must be a string");
    sweep.scenario_file = std::string(f->get_string());
  }
  if (const boost::json::value* s = obj.if_contains("seeds")) {
    if (!s->is_string()) return sweep_error(where, "seeds: must be a string \"A..B\"");
    Result<SeedRange> range = parse_seed_range(s->get_string());
    if (!range.ok()) return sweep_error(where, "seeds: " + range.status().message());
    sweep.seeds = *range;
  }
  if (const boost::json::value* s = obj.if_contains("shard")) {
    if (!s->is_string()) return sweep_error(where, "shard: must be a string \"i/N\"");
    if (!sweep.seeds) return sweep_error(where, "shard: given without seeds");
    Result<Shard> shard = parse_shard(s->get_string());
    if (!shard.ok()) return sweep_error(where, "shard: " + shard.status().message());
    sweep.shard = *shard;
  }
  const boost::json::value* runs = obj.if_contains("runs");
  if (runs == nullptr || !runs->is_array()) {
    return sweep_error(where, "runs: must be an array of run reports");
  }
  if (runs->get_array().size() > kSweepSeedsMax) {
    return sweep_error(where, "runs: more than " + std::to_string(kSweepSeedsMax));
  }
  for (std::size_t i = 0; i < runs->get_array().size(); ++i) {
    const std::string run_where = std::string(where) + ": runs[" + std::to_string(i) + "]";
    LAFS_ASSIGN_OR_RETURN(RunReport r, report_from_json_value(runs->get_array()[i], run_where));
    sweep.runs.push_back(std::move(r));
  }
  LAFS_RETURN_IF_ERROR(check_runs(sweep, where));
  return sweep;
}

std::string list_seeds(const std::vector<std::uint64_t>& seeds) {
  std::string out;
  for (std::size_t i = 0; i < seeds.size() && i < kSeedsListedMax; ++i) {
    out += (i > 0 ? ", " : "") + std::to_string(seeds[i]);
  }
  if (seeds.size() > kSeedsListedMax) {
    out += " and " + std::to_string(seeds.size() - kSeedsListedMax) + " more";
  }
  return out;
}

}  // namespace

Result<SeedRange> parse_seed_range(std::string_view text) {
  const std::size_t dots = text.find("..");
  const std::string quoted = "'" + std::string(text) + "'";
  if (dots == std::string_view::npos) {
    return invalid_argument("expected A..B (first and last seed, inclusive, e.g. 1..20), got " +
                            quoted);
  }
  const std::optional<std::uint64_t> first = parse_uint64(text.substr(0, dots));
  const std::optional<std::uint64_t> last = parse_uint64(text.substr(dots + 2));
  if (!first || !last) {
    return invalid_argument(
        "expected A..B with A and B decimal seeds (0 to 18446744073709551615), got " + quoted);
  }
  if (*first > *last) {
    return invalid_argument("the first seed must not be above the last, got " + quoted);
  }
  if (*last - *first >= kSweepSeedsMax) {
    return invalid_argument("at most " + std::to_string(kSweepSeedsMax) +
                            " seeds in one sweep, got " + quoted);
  }
  return SeedRange{*first, *last};
}

std::string seed_range_to_string(SeedRange range) {
  return std::to_string(range.first) + ".." + std::to_string(range.last);
}

Result<Shard> parse_shard(std::string_view text) {
  const std::size_t slash = text.find('/');
  const std::string quoted = "'" + std::string(text) + "'";
  if (slash == std::string_view::npos) {
    return invalid_argument("expected i/N (slice i of N, 0 <= i < N, e.g. 0/4), got " + quoted);
  }
  const std::optional<std::uint64_t> index = parse_uint64(text.substr(0, slash));
  const std::optional<std::uint64_t> count = parse_uint64(text.substr(slash + 1));
  if (!index || !count) {
    return invalid_argument("expected i/N with decimal i and N, got " + quoted);
  }
  if (*count == 0 || *count > kSweepSeedsMax) {
    return invalid_argument("N must be between 1 and " + std::to_string(kSweepSeedsMax) + ", got " +
                            quoted);
  }
  if (*index >= *count) {
    return invalid_argument("i must be below N (slices are numbered from 0), got " + quoted);
  }
  return Shard{*index, *count};
}

std::string shard_to_string(Shard shard) {
  return std::to_string(shard.index) + "/" + std::to_string(shard.count);
}

std::vector<std::uint64_t> shard_seeds(SeedRange range, Shard shard) {
  LAFS_ASSERT(range.first <= range.last);
  LAFS_ASSERT(shard.index < shard.count);
  std::vector<std::uint64_t> seeds;
  const std::uint64_t span = range.last - range.first;  // the last offset; no overflow
  for (std::uint64_t offset = shard.index; offset <= span; offset += shard.count) {
    seeds.push_back(range.first + offset);
    if (span - offset < shard.count) break;  // the next offset is past the end (or overflows)
  }
  LAFS_ASSERT(seeds.size() <= kSweepSeedsMax);
  return seeds;
}

std::optional<MetricValue> run_field(const RunReport& report, const std::string& name) {
  if (name == "events") return MetricValue(report.events);
  if (name == "simulated_days") return MetricValue(report.simulated_days);
  if (name == "wall_seconds") return MetricValue(report.wall_seconds);
  const MetricValue* v = report.find(name);
  if (v == nullptr) return std::nullopt;
  return *v;
}

std::optional<double> run_loss_fraction(const RunReport& report) {
  const MetricValue* lost = report.find("files_lost");
  const MetricValue* total = report.find("files_total");
  if (lost == nullptr || total == nullptr) return std::nullopt;
  const std::optional<double> l = metric_as_double(*lost), t = metric_as_double(*total);
  if (!l || !t || !(*t > 0) || !std::isfinite(*l)) return std::nullopt;
  return *l / *t;
}

std::vector<std::string> invariant_failures(const RunReport& report) {
  std::vector<std::string> out;
  auto positive = [&](const char* name) {
    const MetricValue* v = report.find(name);
    const std::optional<double> d = v ? metric_as_double(*v) : std::nullopt;
    return d && *d > 0;
  };
  if (positive("read_mismatches")) {
    out.emplace_back("a read returned bytes other than the file's (read_mismatches)");
  }
  if (positive("toy_violations")) {
    out.emplace_back("acknowledged counter values went backwards (toy_violations)");
  }
  return out;
}

double regularized_incomplete_beta(double x, double a, double b) {
  LAFS_ASSERT(a > 0 && b > 0);
  LAFS_ASSERT(x >= 0 && x <= 1);
  if (x == 0 || x == 1) return x;
  // x^a (1-x)^b / (a B(a, b)), in logarithms; the fraction converges fast on the side of the
  // mean a / (a + b), so the other side is computed through I_x(a, b) = 1 - I_{1-x}(b, a).
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                                a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * beta_continued_fraction(x, a, b) / a;
  return 1 - front * beta_continued_fraction(1 - x, b, a) / b;
}

double student_t_cdf(double t, double dof) {
  LAFS_ASSERT(dof > 0);
  if (std::isnan(t)) return kNaN;
  const double tail = student_t_upper_tail(std::fabs(t), dof);
  return t >= 0 ? 1 - tail : tail;
}

double student_t_quantile(double p, double dof) {
  LAFS_ASSERT(dof > 0);
  LAFS_ASSERT(p > 0 && p < 1);
  if (p == 0.5) return 0;
  // By symmetry, find t >= 0 with P(T > t) = q, the smaller tail: the tail is computed
  // directly (not as 1 - CDF), so quantiles far out keep their precision.
  const double q = p > 0.5 ? 1 - p : p;
  double lo = 0, hi = 1;
  int steps = 0;
  while (student_t_upper_tail(hi, dof) > q) {
    lo = hi;
    hi *= 2;
    LAFS_ASSERT(++steps <= kQuantileStepsMax);
  }
  // The tail falls as t grows: keep tail(lo) > q >= tail(hi) until the bracket is one ulp.
  while (true) {
    const double mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) break;
    if (student_t_upper_tail(mid, dof) > q) {
      lo = mid;
    } else {
      hi = mid;
    }
    LAFS_ASSERT(++steps <= kQuantileStepsMax);
  }
  return p > 0.5 ? hi : -hi;
}

SweepAggregate aggregate_runs(const std::vector<RunReport>& runs) {
  SweepAggregate a;
  a.runs = runs.size();
  // Metric names in the order first seen; their finite values in seed order.
  std::vector<std::string> names = {"events", "simulated_days", "wall_seconds"};
  std::map<std::string, std::vector<double>> values;
  std::vector<double> fractions;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const RunReport& r = runs[i];
    LAFS_ASSERT_MSG(i == 0 || runs[i - 1].seed < r.seed, "runs not in ascending seed order");
    if (!invariant_failures(r).empty()) a.failed_seeds.push_back(r.seed);
    for (const Metric& m : r.metrics) {
      if (metric_as_double(m.value) &&
          std::find(names.begin(), names.end(), m.name) == names.end()) {
        names.push_back(m.name);
      }
    }
    for (const std::string& name : names) {
      const std::optional<MetricValue> v = run_field(r, name);
      const std::optional<double> d = v ? metric_as_double(*v) : std::nullopt;
      if (d && std::isfinite(*d)) values[name].push_back(*d);
    }
    if (const std::optional<double> f = run_loss_fraction(r)) fractions.push_back(*f);
  }
  for (const std::string& name : names) {
    auto it = values.find(name);
    if (it != values.end() && !it->second.empty()) a.metrics.push_back(stats_of(name, it->second));
  }
  a.loss_fraction = loss_fraction_stats(fractions);
  return a;
}

std::string sweep_to_json(const Sweep& sweep) {
  boost::json::object obj;
  obj["scenario"] = sweep.scenario;
  if (!sweep.scenario_file.empty()) obj["scenario_file"] = sweep.scenario_file;
  if (sweep.seeds) obj["seeds"] = seed_range_to_string(*sweep.seeds);
  if (sweep.shard) {
    LAFS_ASSERT_MSG(sweep.seeds.has_value(), "a shard of no range");
    obj["shard"] = shard_to_string(*sweep.shard);
  }
  obj["aggregate"] = aggregate_to_json(aggregate_runs(sweep.runs));
  boost::json::array runs;
  for (const RunReport& r : sweep.runs) {
    LAFS_ASSERT_MSG(r.scenario == sweep.scenario, "a run of another scenario in a sweep");
    runs.emplace_back(report_to_json_value(r));
  }
  obj["runs"] = std::move(runs);
  std::string out = write_pretty_json(obj);
  out += '\n';
  return out;
}

Result<Sweep> sweep_from_json(std::string_view text, std::string_view where) {
  LAFS_ASSIGN_OR_RETURN(boost::json::value v, parse_json(text, where));
  if (!v.is_object()) return sweep_error(where, "not a sweep or run report (a JSON object)");
  const boost::json::object& obj = v.get_object();
  if (obj.contains("runs")) return sweep_from_object(obj, where);
  // A single run's report: a sweep of one run.
  LAFS_ASSIGN_OR_RETURN(RunReport r, report_from_json_value(v, where));
  Sweep sweep;
  sweep.scenario = r.scenario;
  sweep.runs.push_back(std::move(r));
  return sweep;
}

Result<Sweep> merge_sweeps(std::vector<Sweep> parts, const std::vector<std::string>& names) {
  LAFS_ASSERT(parts.size() == names.size());
  if (parts.empty()) return invalid_argument("merge: no files");
  Sweep merged;
  merged.scenario = parts[0].scenario;
  merged.seeds = parts[0].seeds;
  std::map<std::uint64_t, std::size_t> seed_part;  // seed -> index of the part that had it
  for (std::size_t i = 0; i < parts.size(); ++i) {
    Sweep& part = parts[i];
    if (part.scenario != merged.scenario) {
      return invalid_argument(names[i] + ": scenario '" + part.scenario + "' differs from '" +
                              merged.scenario + "' in " + names[0]);
    }
    if (merged.scenario_file.empty()) merged.scenario_file = part.scenario_file;
    if (!(part.seeds == merged.seeds)) merged.seeds.reset();
    for (RunReport& r : part.runs) {
      auto [it, inserted] = seed_part.emplace(r.seed, i);
      if (!inserted) {
        return invalid_argument("seed " + std::to_string(r.seed) + " appears in both " +
                                names[it->second] + " and " + names[i]);
      }
      merged.runs.push_back(std::move(r));
    }
  }
  if (merged.runs.size() > kSweepSeedsMax) {
    return invalid_argument("merge: more than " + std::to_string(kSweepSeedsMax) + " runs");
  }
  std::sort(merged.runs.begin(), merged.runs.end(),
            [](const RunReport& a, const RunReport& b) { return a.seed < b.seed; });
  return merged;
}

std::vector<std::uint64_t> missing_seeds(const Sweep& sweep) {
  std::vector<std::uint64_t> missing;
  if (!sweep.seeds) return missing;
  std::size_t next = 0;  // runs are ascending: walk them beside the range
  for (std::uint64_t offset = 0; offset <= sweep.seeds->last - sweep.seeds->first; ++offset) {
    const std::uint64_t seed = sweep.seeds->first + offset;
    while (next < sweep.runs.size() && sweep.runs[next].seed < seed) ++next;
    if (next == sweep.runs.size() || sweep.runs[next].seed != seed) missing.push_back(seed);
    if (seed == sweep.seeds->last) break;  // last may be the largest uint64
  }
  return missing;
}

std::string sweep_to_csv(const Sweep& sweep) {
  const SweepAggregate a = aggregate_runs(sweep.runs);
  std::string out = "seed";
  for (const MetricStats& m : a.metrics) out += "," + m.name;
  out += ",loss_fraction\n";
  for (const RunReport& r : sweep.runs) {
    out += std::to_string(r.seed);
    for (const MetricStats& m : a.metrics) {
      const std::optional<MetricValue> v = run_field(r, m.name);
      out += ",";
      if (v) out += csv_number(*v);
    }
    out += ",";
    if (const std::optional<double> f = run_loss_fraction(r)) out += format_number(*f);
    out += "\n";
  }
  return out;
}

std::string sweep_to_text(const Sweep& sweep, const SweepAggregate& a) {
  std::string out = "lafs-sim sweep: " + sweep.scenario + ", " + std::to_string(a.runs) + " run" +
                    (a.runs == 1 ? "" : "s");
  if (sweep.seeds) out += " of seeds " + seed_range_to_string(*sweep.seeds);
  if (sweep.shard) out += " (shard " + shard_to_string(*sweep.shard) + ")";
  out += "\n";
  out += "  failed runs    " + std::to_string(a.failed_seeds.size());
  if (!a.failed_seeds.empty()) out += " (seeds " + list_seeds(a.failed_seeds) + ")";
  out += "\n";
  char line[256];
  const LossFraction& lf = a.loss_fraction;
  if (lf.n == 0) {
    out += "  loss_fraction  (no run has files_total)\n";
  } else {
    std::snprintf(line, sizeof line, "  loss_fraction  mean %.6g over %llu runs", lf.mean,
                  static_cast<unsigned long long>(lf.n));
    out += line;
    if (lf.n >= 2) {
      std::snprintf(line, sizeof line, ", %g%% CI [%.6g, %.6g] (t = %.5g, %llu dof)",
                    100 * kLossConfidence, lf.ci_low, lf.ci_high, lf.t_quantile,
                    static_cast<unsigned long long>(lf.n - 1));
      out += line;
    }
    out += "\n";
  }
  std::size_t width = 6;
  for (const MetricStats& m : a.metrics) width = std::max(width, m.name.size());
  auto name_cell = [&](const std::string& name) {
    out += "  " + name;
    out.append(width - name.size(), ' ');
  };
  name_cell("metric");
  std::snprintf(line, sizeof line, "  %14s  %14s  %14s  %14s\n", "mean", "stddev", "min", "max");
  out += line;
  for (const MetricStats& m : a.metrics) {
    name_cell(m.name);
    std::snprintf(line, sizeof line, "  %14.6g  %14.6g  %14.6g  %14.6g\n", m.mean, m.stddev, m.min,
                  m.max);
    out += line;
  }
  return out;
}

}  // namespace lafs::sim
