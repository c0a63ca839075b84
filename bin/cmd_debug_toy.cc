// `lafs debug toy-server` / `toy-call`: not built yet.
#include <iostream>

#include "bin/commands.h"

namespace lafs::cli {

void add_toy_commands(CLI::App& debug) {
  auto* server = debug.add_subcommand("toy-server", "Serve the toy counter over TCP");
  server->callback([] {
    std::cerr << "lafs debug toy-server: not built yet\n";
    exit_code = 2;
  });
}

}  // namespace lafs::cli
