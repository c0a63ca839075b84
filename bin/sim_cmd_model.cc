// `lafs-sim model tahoe|binomial ...`: the analytic durability models of
// sim/scenarios/analytic_model.h on the command line, as "name  value" lines or, with --json, a
// JSON object (docs/capacity-planning.md, "Analytic models"). Bad arguments exit 2 with a
// message naming the flag.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "bin/sim_commands.h"
#include "core/runtime/assert.h"
#include "sim/scenarios/analytic_model.h"
#include "sim/scenarios/report.h"

namespace lafs::sim_cli {
namespace {

constexpr int kExitUsage = 2;
// Longest --years accepted: the model's own bound on the duration, in Tahoe's years.
constexpr double kYearsMax = static_cast<double>(sim::kModelDurationSecondsMax) /
                             static_cast<double>(sim::kTahoeYearSeconds);

// Shortest text that reads back as the same double. In JSON always with a '.' or an exponent,
// so that readers keep it a double, and null for infinities and NaN (JSON has neither).
std::string format_double(double v, bool json) {
  if (!std::isfinite(v)) {
    if (json) return "null";
    return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  LAFS_ASSERT(ec == std::errc());
  std::string out(buf, end);
  if (json && out.find_first_of(".e") == std::string::npos) out += ".0";
  return out;
}

std::string format_value(const sim::MetricValue& value, bool json) {
  return std::visit(
      [json](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return json ? "\"" + x + "\"" : x;  // our own fixed words: nothing to escape
        } else if constexpr (std::is_same_v<T, double>) {
          return format_double(x, json);
        } else {
          return std::to_string(x);
        }
      },
      value);
}

// The rows as a two-space indented JSON object, or as aligned "name  value" lines.
void print_rows(const std::vector<sim::Metric>& rows, bool json) {
  std::string out;
  if (json) {
    out += "{\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      out += "  \"" + rows[i].name + "\": " + format_value(rows[i].value, true);
      out += i + 1 < rows.size() ? ",\n" : "\n";
    }
    out += "}\n";
  } else {
    std::size_t width = 0;
    for (const sim::Metric& row : rows) width = std::max(width, row.name.size());
    for (const sim::Metric& row : rows) {
      out += row.name;
      out.append(width - row.name.size() + 2, ' ');
      out += format_value(row.value, false) + "\n";
    }
  }
  std::cout << out;
}

// The models name their parameters like the flags, with '_' for '-' ("repair_below: must
// be ..."); shows each error line with the flag's spelling ("--repair-below: must be ...").
std::string as_flag_errors(const std::string& message) {
  std::string out;
  std::size_t line_start = 0;
  while (line_start < message.size()) {
    std::size_t line_end = message.find('\n', line_start);
    if (line_end == std::string::npos) line_end = message.size();
    std::string line = message.substr(line_start, line_end - line_start);
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::replace(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon), '_', '-');
      line = "--" + line;
    }
    out += "  " + line + "\n";
    line_start = line_end + 1;
  }
  return out;
}

int usage_error(std::string_view command, const std::string& message) {
  std::cerr << "lafs-sim model " << command << ": invalid arguments:\n" << message;
  return kExitUsage;
}

struct TahoeFlags {
  double lifetime_years = 8;
  int k = 3;
  int repair_below = 7;
  int n = 10;
  double years = 5;
  std::int64_t step_seconds = sim::kTahoeMonthSeconds;
  std::int64_t check_interval_seconds = sim::kTahoeMonthSeconds;
  bool corrected = false;
  bool json = false;
};

int run_tahoe(const TahoeFlags& f) {
  // The two flags in years are converted here, so their rules are checked here, in years; the
  // model then checks the others, given stand-ins for these that break no rule.
  std::string errors;
  const double year_seconds = static_cast<double>(sim::kTahoeYearSeconds);
  const bool lifetime_ok = f.lifetime_years > 0;
  if (!lifetime_ok) {
    errors +=
        "  --lifetime-years: must be > 0, got " + format_double(f.lifetime_years, false) + "\n";
  }
  bool years_ok = f.years > 0 && f.years <= kYearsMax;
  if (!years_ok) {
    errors += "  --years: must be > 0 and <= " + format_double(kYearsMax, false) + ", got " +
              format_double(f.years, false) + "\n";
  } else if (std::llround(f.years * year_seconds) < 1) {
    years_ok = false;
    errors += "  --years: must be at least one second (" + format_double(1 / year_seconds, false) +
              " years), got " + format_double(f.years, false) + "\n";
  }

  sim::TahoeModelParams params;
  params.lifetime_seconds = lifetime_ok ? f.lifetime_years * year_seconds : 1.0;
  params.k = f.k;
  params.repair_below = f.repair_below;
  params.n = f.n;
  // Tahoe steps on whole seconds; rounding a fraction of a second off the duration changes
  // nothing unless it crosses a multiple of the step.
  params.duration_seconds = years_ok ? std::llround(f.years * year_seconds) : 1;
  params.step_seconds = f.step_seconds;
  params.check_interval_seconds = f.check_interval_seconds;
  params.variant =
      f.corrected ? sim::TahoeModelVariant::kCorrected : sim::TahoeModelVariant::kFaithful;
  const Status valid = sim::validate_tahoe_model(params);
  if (!valid.is_ok()) errors += as_flag_errors(valid.message());
  if (!errors.empty()) return usage_error("tahoe", errors);
  Result<sim::TahoeModelResult> r = sim::run_tahoe_model(params);
  if (!r.ok()) return usage_error("tahoe", as_flag_errors(r.status().message()));

  print_rows(
      {
          {"model", std::string("tahoe")},
          {"variant", std::string(f.corrected ? "corrected" : "faithful")},
          {"k", std::int64_t{params.k}},
          {"repair_below", std::int64_t{params.repair_below}},
          {"n", std::int64_t{params.n}},
          {"lifetime_seconds", params.lifetime_seconds},
          {"duration_seconds", params.duration_seconds},
          {"step_seconds", params.step_seconds},
          {"check_interval_seconds", params.check_interval_seconds},
          {"steps", r->steps},
          {"modelled_seconds", r->steps * params.step_seconds},
          {"checks", r->checks},
          {"p_lost_unmaintained", r->p_lost_unmaintained},
          {"p_lost_maintained", r->p_lost_maintained},
          {"expected_repairs", r->expected_repairs},
          {"expected_new_shares", r->expected_new_shares},
      },
      f.json);
  return 0;
}

struct BinomialFlags {
  int k = 3;
  int n = 10;
  double lifetime_days = 0;
  double duration_days = 0;
  bool json = false;
};

int run_binomial(const BinomialFlags& f) {
  sim::BinomialModelParams params;
  params.k = f.k;
  params.n = f.n;
  params.lifetime_days = f.lifetime_days;
  params.duration_days = f.duration_days;
  Result<double> p_lost = sim::binomial_loss_probability(params);
  if (!p_lost.ok()) return usage_error("binomial", as_flag_errors(p_lost.status().message()));
  print_rows(
      {
          {"model", std::string("binomial")},
          {"k", std::int64_t{params.k}},
          {"n", std::int64_t{params.n}},
          {"lifetime_days", params.lifetime_days},
          {"duration_days", params.duration_days},
          {"p_share_survives", sim::share_survival_probability(params)},
          {"p_lost", *p_lost},
      },
      f.json);
  return 0;
}

}  // namespace

int run_model_command(int argc, char** argv) {
  CLI::App app{"Analytic durability models: the chance that a file is lost", "lafs-sim model"};
  app.require_subcommand(1);

  TahoeFlags t;
  CLI::App* tahoe = app.add_subcommand(
      "tahoe",
      "Tahoe-LAFS's reliability model (allmydata/reliability.py): a Markov chain over surviving "
      "shares, with check-and-repair. Defaults are Tahoe's; Tahoe's test uses "
      "--step-seconds 100000");
  tahoe
      ->add_option("--lifetime-years", t.lifetime_years,
                   "mean share lifetime, in years of 365 days (exponential)")
      ->capture_default_str();
  tahoe->add_option("--k", t.k, "shares needed to read the file")->capture_default_str();
  tahoe
      ->add_option("--repair-below", t.repair_below,
                   "a check finding k <= shares < this repairs to n (k: never repair)")
      ->capture_default_str();
  tahoe->add_option("--n", t.n, "shares written")->capture_default_str();
  tahoe->add_option("--years", t.years, "duration, in years of 365 days")->capture_default_str();
  tahoe->add_option("--step-seconds", t.step_seconds, "time quantum of the chain")
      ->capture_default_str();
  tahoe
      ->add_option("--check-interval-seconds", t.check_interval_seconds,
                   "time between checks (default: Tahoe's month, 31 days)")
      ->capture_default_str();
  tahoe->add_flag("--corrected", t.corrected,
                  "keep the probability of files that reach zero shares (Tahoe's model drops it)");
  tahoe->add_flag("--json", t.json, "print a JSON object");

  BinomialFlags b;
  CLI::App* binomial = app.add_subcommand(
      "binomial", "No repair: P(Binomial(n, e^(-duration/lifetime)) < k), the closed form");
  binomial->add_option("--k", b.k, "shares needed to read the file")->capture_default_str();
  binomial->add_option("--n", b.n, "shares written")->capture_default_str();
  binomial->add_option("--lifetime-days", b.lifetime_days, "mean share lifetime (exponential)")
      ->required();
  binomial->add_option("--duration-days", b.duration_days, "time without repair")->required();
  binomial->add_flag("--json", b.json, "print a JSON object");

  // CLI11 would only say that a subcommand is required; name the word it did not know.
  if (argc >= 2 && argv[1][0] != '-' && std::string_view(argv[1]) != tahoe->get_name() &&
      std::string_view(argv[1]) != binomial->get_name()) {
    std::cerr << "lafs-sim model: unknown model '" << argv[1]
              << "' (models: tahoe, binomial; lafs-sim model --help)\n";
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }
  if (tahoe->parsed()) return run_tahoe(t);
  return run_binomial(b);
}

}  // namespace lafs::sim_cli
