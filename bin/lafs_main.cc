// lafs: the node daemon and the command-line tool (docs/cli.md).
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <string>

#include "bin/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"lafs: a least-authority, erasure-coded, encrypted file store"};
  app.require_subcommand(1);
  // Tahoe's habit: `lafs -d NODEDIR put ...`. The file commands also take -d after the command,
  // which wins; both beat $LAFS_NODE_DIR, which this sets.
  std::string node_dir;
  app.add_option("-d,--node-directory", node_dir, "The node directory the file commands use");
  app.parse_complete_callback([&node_dir] {
    if (!node_dir.empty()) ::setenv("LAFS_NODE_DIR", node_dir.c_str(), 1);
  });
  lafs::cli::add_node_commands(app);
  lafs::cli::add_file_commands(app);
  CLI::App* debug = app.add_subcommand("debug", "Tools for developers and operators");
  debug->require_subcommand(1);
  lafs::cli::add_dump_cap_command(*debug);
  lafs::cli::add_toy_commands(*debug);
  lafs::cli::add_grid_commands(*debug);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return lafs::cli::exit_code;
}
