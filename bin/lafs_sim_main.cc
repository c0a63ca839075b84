// lafs-sim: runs a scenario on the deterministic simulator and reports what happened.
//   lafs-sim SCENARIO [--seed N] [--json FILE] [--quiet] [--verbose]
//   lafs-sim model tahoe|binomial ...   (analytic durability models: bin/sim_cmd_model.cc)
// Exit status: 0 when the run held every invariant, 1 when an invariant failed (the replay
// command is printed), 2 for bad usage or an invalid scenario.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string_view>

#include "bin/sim_commands.h"
#include "sim/scenarios/grid_runner.h"
#include "sim/scenarios/report.h"
#include "sim/scenarios/scenario_loader.h"
#include "sim/scenarios/toy_runner.h"

namespace {

int run(const std::string& path, std::optional<std::uint64_t> seed_override,
        const std::string& json_path, bool quiet, bool verbose) {
  auto scenario = lafs::sim::load_scenario_file(path);
  if (!scenario.ok()) {
    std::cerr << "lafs-sim: " << scenario.status().message() << "\n";
    return 2;
  }
  if (scenario->name().empty()) scenario->set_name(path);
  const std::uint64_t seed = seed_override.value_or(scenario->seed());
  lafs::sim::ToyRunOptions options;
  options.verbose = verbose;
  const bool tty = isatty(STDERR_FILENO) != 0;
  if (tty && !quiet) {
    options.progress = [](double fraction, std::uint64_t events) {
      std::fprintf(stderr, "\r%5.1f%%  %llu events", 100.0 * fraction,
                   static_cast<unsigned long long>(events));
    };
  }
  const auto start = std::chrono::steady_clock::now();
  // A `toy` block runs Foundation 1's placeholder service; otherwise the grid: real storage
  // servers and client code under the scenario's churn and maintenance (capacity planning).
  lafs::Result<lafs::sim::RunReport> report = lafs::unavailable("not run");
  if (scenario->has_toy()) {
    report = lafs::sim::run_toy_scenario(*scenario, seed, options);
  } else {
    lafs::sim::GridRunOptions grid;
    grid.verbose = options.verbose;
    grid.progress = options.progress;
    report = lafs::sim::run_grid_scenario(*scenario, seed, grid);
  }
  const auto stop = std::chrono::steady_clock::now();
  if (tty && !quiet) std::fprintf(stderr, "\n");
  if (!report.ok()) {
    std::cerr << "lafs-sim: " << report.status().to_string() << "\n";
    return 2;
  }
  report->wall_seconds = std::chrono::duration<double>(stop - start).count();
  if (!json_path.empty()) {
    std::ofstream out(json_path, std::ios::binary | std::ios::trunc);
    out << lafs::sim::report_to_json(*report);
    if (!out) {
      std::cerr << "lafs-sim: cannot write " << json_path << "\n";
      return 2;
    }
  }
  if (!quiet) std::cout << lafs::sim::report_to_text(*report);
  const auto* mismatches = report->find("read_mismatches");
  if (mismatches && std::get<std::uint64_t>(*mismatches) > 0) {
    std::cerr << "lafs-sim: INVARIANT FAILED: a read returned bytes other than the file's\n"
              << "replay: lafs-sim " << path << " --seed " << seed << "\n";
    return 1;
  }
  const auto* violations = report->find("toy_violations");
  if (violations && std::get<std::uint64_t>(*violations) > 0) {
    std::cerr << "lafs-sim: INVARIANT FAILED: acknowledged counter values went backwards\n"
              << "replay: lafs-sim " << path << " --seed " << seed << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Commands other than running a scenario, chosen by the first argument (bin/sim_commands.h).
  if (argc >= 2 && std::string_view(argv[1]) == "model") {
    return lafs::sim_cli::run_model_command(argc - 1, argv + 1);
  }
  CLI::App app{"lafs-sim: run a scenario on the deterministic lafs simulator"};
  std::string path;
  std::optional<std::uint64_t> seed;
  std::string json_path;
  bool quiet = false, verbose = false;
  app.add_option("scenario", path, "scenario file (Protocol Buffers text format)")->required();
  app.add_option("--seed", seed, "seed (overrides the scenario's)");
  app.add_option("--json", json_path, "write the JSON report to this file");
  app.add_flag("--quiet,-q", quiet, "print nothing but errors");
  app.add_flag("--verbose,-v", verbose, "print every node's log lines");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return run(path, seed, json_path, quiet, verbose);
}
