// lafs: the node daemon and the command-line tool (docs/cli.md).
#include <CLI/CLI.hpp>
#include <iostream>

#include "bin/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"lafs: a least-authority, erasure-coded, encrypted file store"};
  app.require_subcommand(1);
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
