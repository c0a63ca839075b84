// lafs-sim: runs a scenario on the deterministic simulator and reports what happened.
//   lafs-sim SCENARIO [--seed N] [--json FILE] [--csv FILE] [--report DIR] [--quiet] [--verbose]
//   lafs-sim SCENARIO --seeds A..B [--shard i/N] [--json FILE] [--csv FILE] [--report DIR] ...
//   lafs-sim merge FILE... [--json OUT] [--csv OUT] [--report DIR]   (bin/sim_cmd_merge.cc)
//   lafs-sim model tahoe|binomial ...   (analytic durability models: bin/sim_cmd_model.cc)
//   lafs-sim swarm --seed N | --seeds A..B   (randomised fault mixes: bin/sim_cmd_swarm.cc)
// Exit status: 0 when every run held every invariant, 1 when an invariant failed (the replay
// command is printed for each failing seed), 2 for bad usage or an invalid scenario.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string_view>

#include "bin/sim_commands.h"
#include "sim/scenarios/grid_runner.h"
#include "sim/scenarios/html_report.h"
#include "sim/scenarios/report.h"
#include "sim/scenarios/scenario_loader.h"
#include "sim/scenarios/sweep.h"
#include "sim/scenarios/toy_runner.h"

namespace {

constexpr int kExitInvariant = 1;
constexpr int kExitUsage = 2;

struct Flags {
  std::string path;
  std::optional<std::uint64_t> seed;
  std::string seeds;  // "A..B", or empty for one run
  std::string shard;  // "i/N", or empty for the whole range
  lafs::sim_cli::Outputs outputs;
  bool quiet = false;
  bool verbose = false;
};

// One run of `scenario` with `seed`, timed; the progress line on a terminal unless quiet.
lafs::Result<lafs::sim::RunReport> run_one(const lafs::sim::Scenario& scenario, std::uint64_t seed,
                                           const Flags& f) {
  lafs::sim::ToyRunOptions options;
  options.verbose = f.verbose;
  const bool tty = isatty(STDERR_FILENO) != 0;
  if (tty && !f.quiet) {
    options.progress = [seed](double fraction, std::uint64_t events) {
      std::fprintf(stderr, "\rseed %llu: %5.1f%%  %llu events",
                   static_cast<unsigned long long>(seed), 100.0 * fraction,
                   static_cast<unsigned long long>(events));
    };
  }
  const auto start = std::chrono::steady_clock::now();
  // A `toy` block runs Foundation 1's placeholder service; otherwise the grid: real storage
  // servers and client code under the scenario's churn and maintenance (capacity planning).
  lafs::Result<lafs::sim::RunReport> report = lafs::unavailable("not run");
  if (scenario.has_toy()) {
    report = lafs::sim::run_toy_scenario(scenario, seed, options);
  } else {
    lafs::sim::GridRunOptions grid;
    grid.verbose = options.verbose;
    grid.progress = options.progress;
    report = lafs::sim::run_grid_scenario(scenario, seed, grid);
  }
  const auto stop = std::chrono::steady_clock::now();
  if (tty && !f.quiet) std::fprintf(stderr, "\n");
  if (report.ok()) report->wall_seconds = std::chrono::duration<double>(stop - start).count();
  return report;
}

int run_single(const lafs::sim::Scenario& scenario, const Flags& f) {
  const std::uint64_t seed = f.seed.value_or(scenario.seed());
  lafs::Result<lafs::sim::RunReport> report = run_one(scenario, seed, f);
  if (!report.ok()) {
    std::cerr << "lafs-sim: " << report.status().to_string() << "\n";
    return kExitUsage;
  }
  const lafs::sim_cli::Outputs& out = f.outputs;
  if (!out.json_path.empty() &&
      !lafs::sim_cli::write_file(out.json_path, lafs::sim::report_to_json(*report))) {
    return kExitUsage;
  }
  if (!out.csv_path.empty() &&
      !lafs::sim_cli::write_file(out.csv_path, lafs::sim::report_series_to_csv(*report))) {
    return kExitUsage;
  }
  if (!out.report_dir.empty() &&
      !lafs::sim_cli::write_report_dir(out.report_dir, lafs::sim::run_report_html(*report))) {
    return kExitUsage;
  }
  if (!f.quiet) std::cout << lafs::sim::report_to_text(*report);
  const std::vector<std::string> failures = lafs::sim::invariant_failures(*report);
  for (const std::string& why : failures)
    std::cerr << "lafs-sim: INVARIANT FAILED: " << why << "\n";
  if (!failures.empty()) {
    std::cerr << "replay: lafs-sim " << f.path << " --seed " << seed << "\n";
    return kExitInvariant;
  }
  return 0;
}

int run_sweep(const lafs::sim::Scenario& scenario, const Flags& f) {
  lafs::Result<lafs::sim::SeedRange> range = lafs::sim::parse_seed_range(f.seeds);
  if (!range.ok()) {
    std::cerr << "lafs-sim: --seeds: " << range.status().message() << "\n";
    return kExitUsage;
  }
  lafs::sim::Sweep sweep;
  sweep.scenario = scenario.name();
  sweep.scenario_file = f.path;
  sweep.seeds = *range;
  lafs::sim::Shard shard;
  if (!f.shard.empty()) {
    lafs::Result<lafs::sim::Shard> parsed = lafs::sim::parse_shard(f.shard);
    if (!parsed.ok()) {
      std::cerr << "lafs-sim: --shard: " << parsed.status().message() << "\n";
      return kExitUsage;
    }
    shard = *parsed;
    sweep.shard = shard;
  }
  const std::vector<std::uint64_t> seeds = lafs::sim::shard_seeds(*range, shard);
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    lafs::Result<lafs::sim::RunReport> report = run_one(scenario, seeds[i], f);
    if (!report.ok()) {
      std::cerr << "lafs-sim: seed " << seeds[i] << ": " << report.status().to_string() << "\n";
      return kExitUsage;
    }
    if (!f.quiet) {
      std::fprintf(stderr, "seed %llu (%zu of %zu): %.2f s wall\n",
                   static_cast<unsigned long long>(seeds[i]), i + 1, seeds.size(),
                   report->wall_seconds);
    }
    sweep.runs.push_back(std::move(*report));
  }
  return lafs::sim_cli::finish_sweep(sweep, f.outputs, f.quiet);
}

int run(const Flags& f) {
  auto scenario = lafs::sim::load_scenario_file(f.path);
  if (!scenario.ok()) {
    std::cerr << "lafs-sim: " << scenario.status().message() << "\n";
    return kExitUsage;
  }
  if (scenario->name().empty()) scenario->set_name(f.path);
  if (f.seeds.empty()) return run_single(*scenario, f);
  return run_sweep(*scenario, f);
}

}  // namespace

int main(int argc, char** argv) {
  // Commands other than running a scenario, chosen by the first argument (bin/sim_commands.h).
  if (argc >= 2 && std::string_view(argv[1]) == "model") {
    return lafs::sim_cli::run_model_command(argc - 1, argv + 1);
  }
  if (argc >= 2 && std::string_view(argv[1]) == "merge") {
    return lafs::sim_cli::run_merge_command(argc - 1, argv + 1);
  }
  if (argc >= 2 && std::string_view(argv[1]) == "swarm") {
    return lafs::sim_cli::run_swarm_command(argc - 1, argv + 1);
  }
  CLI::App app{"lafs-sim: run a scenario on the deterministic lafs simulator"};
  app.footer(
      "Other commands: lafs-sim merge FILE... (combine sweep shards), lafs-sim model "
      "tahoe|binomial (analytic models), lafs-sim swarm --seeds A..B (fault mixes). "
      "docs/capacity-planning.md");
  Flags f;
  app.add_option("scenario", f.path, "scenario file (Protocol Buffers text format)")->required();
  CLI::Option* seed = app.add_option("--seed", f.seed, "seed (overrides the scenario's)");
  CLI::Option* seeds = app.add_option("--seeds", f.seeds,
                                      "run seeds A..B (inclusive) one after another and "
                                      "aggregate them (a sweep)")
                           ->excludes(seed);
  app.add_option("--shard", f.shard,
                 "run only slice i of N of the --seeds range: the seeds s with (s - A) % N == i "
                 "(combine the slices with lafs-sim merge)")
      ->needs(seeds);
  lafs::sim_cli::add_output_flags(app, f.outputs);
  app.add_flag("--quiet,-q", f.quiet, "print nothing but errors");
  app.add_flag("--verbose,-v", f.verbose, "print every node's log lines");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }
  return run(f);
}
