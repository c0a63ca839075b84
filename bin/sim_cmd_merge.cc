// `lafs-sim merge FILE...`: the results of a sweep's shards (`lafs-sim SCENARIO --seeds A..B
// --shard i/N --json FILE`, run by a batch system on many machines), or of single runs, as one
// sweep: the same JSON, CSV, report and aggregate as one process running every seed would give.
// Also the output flags and writers the scenario runs share (bin/sim_commands.h).
// docs/capacity-planning.md, "Sweeps across machines".
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "bin/sim_commands.h"
#include "sim/scenarios/html_report.h"
#include "sim/scenarios/sweep.h"

namespace lafs::sim_cli {
namespace {

constexpr int kExitInvariant = 1;
constexpr int kExitUsage = 2;
// Input files read whole; a sweep of kSweepSeedsMax runs with series is far below this.
constexpr std::uintmax_t kInputBytesMax = std::uintmax_t{16} << 30;

bool read_file(const std::string& path, std::string& text) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) {
    std::cerr << "lafs-sim merge: cannot read " << path << ": " << ec.message() << "\n";
    return false;
  }
  if (size > kInputBytesMax) {
    std::cerr << "lafs-sim merge: " << path << ": larger than " << kInputBytesMax << " bytes\n";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in) {
    std::cerr << "lafs-sim merge: cannot read " << path << "\n";
    return false;
  }
  text = std::move(buf).str();
  return true;
}

struct MergeFlags {
  std::vector<std::string> files;
  Outputs outputs;
  bool allow_missing = false;
  bool quiet = false;
};

int merge(const MergeFlags& f) {
  std::vector<sim::Sweep> parts;
  for (const std::string& path : f.files) {
    std::string text;
    if (!read_file(path, text)) return kExitUsage;
    Result<sim::Sweep> part = sim::sweep_from_json(text, path);
    if (!part.ok()) {
      std::cerr << "lafs-sim merge: " << part.status().message() << "\n";
      return kExitUsage;
    }
    parts.push_back(std::move(*part));
  }
  Result<sim::Sweep> merged = sim::merge_sweeps(std::move(parts), f.files);
  if (!merged.ok()) {
    std::cerr << "lafs-sim merge: " << merged.status().message() << "\n";
    return kExitUsage;
  }
  const std::vector<std::uint64_t> missing = sim::missing_seeds(*merged);
  if (!missing.empty()) {
    std::cerr << "lafs-sim merge: seeds of " << sim::seed_range_to_string(*merged->seeds)
              << " without a run: " << missing.size() << " (first: seed " << missing.front()
              << "); is a shard's file missing?"
              << (f.allow_missing ? " Merging what there is (--allow-missing).\n"
                                  : " Give every shard's file, or --allow-missing.\n");
    if (!f.allow_missing) return kExitUsage;
    merged->seeds.reset();  // the merge no longer is that range
  }
  return finish_sweep(*merged, f.outputs, f.quiet);
}

}  // namespace

void add_output_flags(CLI::App& app, Outputs& outputs) {
  app.add_option("--json", outputs.json_path,
                 "write the JSON report to this file (a sweep: every run and the aggregate)");
  app.add_option("--csv", outputs.csv_path,
                 "write CSV to this file: one run's time series, or a sweep's row per seed");
  app.add_option("--report", outputs.report_dir,
                 "write an HTML page with charts to DIR/index.html (DIR is created)");
}

bool write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) {
    std::cerr << "lafs-sim: cannot write " << path << "\n";
    return false;
  }
  return true;
}

bool write_report_dir(const std::string& dir, const std::string& html) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::cerr << "lafs-sim: cannot create " << dir << ": " << ec.message() << "\n";
    return false;
  }
  return write_file((std::filesystem::path(dir) / "index.html").string(), html);
}

int finish_sweep(const sim::Sweep& sweep, const Outputs& outputs, bool quiet) {
  if (!outputs.json_path.empty() && !write_file(outputs.json_path, sim::sweep_to_json(sweep))) {
    return kExitUsage;
  }
  if (!outputs.csv_path.empty() && !write_file(outputs.csv_path, sim::sweep_to_csv(sweep))) {
    return kExitUsage;
  }
  if (!outputs.report_dir.empty() &&
      !write_report_dir(outputs.report_dir, sim::sweep_report_html(sweep))) {
    return kExitUsage;
  }
  const sim::SweepAggregate aggregate = sim::aggregate_runs(sweep.runs);
  if (!quiet) std::cout << sim::sweep_to_text(sweep, aggregate);
  const std::string scenario = sweep.scenario_file.empty() ? sweep.scenario : sweep.scenario_file;
  for (const sim::RunReport& r : sweep.runs) {
    for (const std::string& why : sim::invariant_failures(r)) {
      std::cerr << "lafs-sim: INVARIANT FAILED (seed " << r.seed << "): " << why << "\n";
    }
  }
  for (std::uint64_t seed : aggregate.failed_seeds) {
    std::cerr << "replay: lafs-sim " << scenario << " --seed " << seed << "\n";
  }
  return aggregate.failed_seeds.empty() ? 0 : kExitInvariant;
}

int run_merge_command(int argc, char** argv) {
  CLI::App app{
      "Combine the JSON results of a sweep's shards (lafs-sim SCENARIO --seeds A..B --shard i/N "
      "--json FILE), or of single runs, of one scenario into one sweep and its aggregate",
      "lafs-sim merge"};
  MergeFlags f;
  app.add_option("files", f.files, "JSON files written by lafs-sim --json")->required();
  add_output_flags(app, f.outputs);
  app.add_flag("--allow-missing", f.allow_missing,
               "merge even when seeds of the sweep's range have no run (a shard failed)");
  app.add_flag("--quiet,-q", f.quiet, "print nothing but errors");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }
  return merge(f);
}

}  // namespace lafs::sim_cli
