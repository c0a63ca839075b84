// The `lafs-sim` commands beside running a scenario: lafs_sim_main.cc hands them the command
// line when its first argument names one. Each returns the exit status: 0 success, 2 bad usage
// or input (with a message naming what is wrong on stderr). Also the output flags and writers
// that the scenario runs and `merge` share.
#pragma once

#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace lafs::sim {
struct Sweep;
}  // namespace lafs::sim

namespace lafs::sim_cli {

// `lafs-sim model tahoe|binomial ...` (bin/sim_cmd_model.cc): the analytic durability models.
// argv[0] is "model".
int run_model_command(int argc, char** argv);

// `lafs-sim merge FILE... [--json OUT] [--csv OUT] [--report DIR] [--allow-missing]`
// (bin/sim_cmd_merge.cc): combines sweep shards (or single runs) of one scenario into one
// sweep and its aggregate. Exit 1 when a run failed an invariant. argv[0] is "merge".
int run_merge_command(int argc, char** argv);

// `lafs-sim swarm --seed N | --seeds A..B` (bin/sim_cmd_swarm.cc): seeds with randomised fault
// mixes, each run twice with a liveness phase. Exit 1 when a seed failed an invariant (its replay
// command is printed). argv[0] is "swarm".
int run_swarm_command(int argc, char** argv);

// Where --json, --csv and --report write ("" for not at all).
struct Outputs {
  std::string json_path;
  std::string csv_path;
  std::string report_dir;
};

// Adds --json, --csv and --report to `app`, storing into `outputs` (which must outlive it).
void add_output_flags(CLI::App& app, Outputs& outputs);

// Writes `content` to `path` (replacing it); false, with a message on stderr, on failure.
bool write_file(const std::string& path, const std::string& content);

// Creates `dir` if needed and writes `html` to dir/index.html; false, with a message, on failure.
bool write_report_dir(const std::string& dir, const std::string& html);

// The end of a sweep or a merge: writes the outputs, prints the summary unless `quiet`, and a
// replay command for each run that failed an invariant. Returns 0, 1 (an invariant failed) or
// 2 (an output could not be written).
int finish_sweep(const sim::Sweep& sweep, const Outputs& outputs, bool quiet);

}  // namespace lafs::sim_cli
