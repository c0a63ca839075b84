// `lafs-sim swarm --seed N | --seeds A..B [--json FILE] [--print-scenario]`: swarm testing of the
// grid (sim/scenarios/swarm.h). Each seed draws its own small grid and fault mix, runs twice with
// a liveness phase, and must hold every invariant; a failing seed prints its replay command.
#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>

#include "bin/sim_commands.h"
#include "sim/scenarios/scenario_loader.h"
#include "sim/scenarios/swarm.h"
#include "sim/scenarios/sweep.h"

namespace lafs::sim_cli {

int run_swarm_command(int argc, char** argv) {
  CLI::App app{
      "lafs-sim swarm: seeds with randomised fault mixes, each run twice, invariants "
      "checked"};
  std::optional<std::uint64_t> seed;
  std::string seeds_text, json_path;
  bool print_scenario = false, quiet = false;
  auto* one = app.add_option("--seed", seed, "one seed (a replay)");
  app.add_option("--seeds", seeds_text, "an inclusive range of seeds, A..B")->excludes(one);
  app.add_option("--json", json_path, "write the last seed's report to this file");
  app.add_flag("--print-scenario", print_scenario, "print each seed's scenario");
  app.add_flag("--quiet,-q", quiet, "print only failures");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  sim::SeedRange range;
  if (seed) {
    range = {*seed, *seed};
  } else if (!seeds_text.empty()) {
    auto r = sim::parse_seed_range(seeds_text);
    if (!r.ok()) {
      std::cerr << "lafs-sim swarm: --seeds: " << r.status().message() << "\n";
      return 2;
    }
    range = *r;
  } else {
    std::cerr << "lafs-sim swarm: give --seed N or --seeds A..B\n";
    return 2;
  }
  int status = 0;
  for (std::uint64_t s = range.first;; ++s) {
    if (print_scenario) std::cout << sim::scenario_to_text(sim::swarm_scenario(s));
    auto out = sim::run_swarm_seed(s);
    if (!out.ok()) {
      std::cerr << "lafs-sim swarm: seed " << s << ": " << out.status().to_string() << "\n";
      return 2;
    }
    if (!quiet) {
      std::cout << "seed " << s << ": " << (out->failures.empty() ? "ok" : "FAILED") << " ("
                << out->report.events << " events, digest "
                << out->report.trace_digest.substr(0, 16) << ")\n";
    }
    for (const std::string& f : out->failures) {
      std::cerr << "lafs-sim swarm: seed " << s << ": INVARIANT FAILED: " << f << "\n";
    }
    if (!out->failures.empty()) {
      std::cerr << "replay: " << sim::swarm_replay_command(s) << "\n";
      status = 1;
    }
    if (!json_path.empty() && !write_file(json_path, sim::report_to_json(out->report))) return 2;
    if (s == range.last) break;
  }
  return status;
}

}  // namespace lafs::sim_cli
