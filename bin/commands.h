// The `lafs` command line: each command family registers its subcommands on the CLI11 app.
// Every command returns its exit status through `exit_code` (0 success, 1 failure of the
// operation, 2 bad usage or input) and prints errors naming what is wrong to stderr.
#pragma once

#include <CLI/CLI.hpp>

namespace lafs::cli {

// Set by the command that ran; main() returns it.
inline int exit_code = 0;

// `lafs debug dump-cap CAP [--json]` (bin/cmd_dump_cap.cc).
void add_dump_cap_command(CLI::App& debug);

// `lafs debug toy-server ...` and `lafs debug toy-call ...` (bin/cmd_debug_toy.cc): the toy
// counter service of the simulator, run over real TCP.
void add_toy_commands(CLI::App& debug);

// `lafs debug introducer ...` and `lafs debug storage-server ...` (bin/cmd_debug_grid.cc).
void add_grid_commands(CLI::App& debug);

// `lafs create-introducer`, `create-node`, `run` and `grid` (bin/cmd_node.cc).
void add_node_commands(CLI::App& app);

// The file commands, clients of a node's web API: `put`, `get`, `ls`, `mkdir`, `cp`, `mv`, `rm`,
// `ln`, the alias commands, `check`, `deep-check`, `status` (bin/cmd_files.cc).
void add_file_commands(CLI::App& app);

}  // namespace lafs::cli
