// The `lafs-sim` commands beside running a scenario: lafs_sim_main.cc hands them the command
// line when its first argument names one. Each returns the exit status: 0 success, 2 bad usage
// or input (with a message naming what is wrong on stderr).
#pragma once

namespace lafs::sim_cli {

// `lafs-sim model tahoe|binomial ...` (bin/sim_cmd_model.cc): the analytic durability models.
// argv[0] is "model".
int run_model_command(int argc, char** argv);

}  // namespace lafs::sim_cli
