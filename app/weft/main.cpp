// weft: the command-line tool (trace replay, backup, export, ...).
#include "weft/trace_command.h"  // `weft trace`

#include <CLI/CLI.hpp>
#include <string>

#include "common/build_info.h"

int main(int argc, char** argv) {
  CLI::App app{"weft: command-line tool for the weft collaboration server"};
  app.set_version_flag("--version", "weft " + std::string(weft::Version()) +
                                        " (" + std::string(weft::GitCommit()) +
                                        ")");
  weft::trace::AddTraceCommand(app);
  app.require_subcommand(0);
  CLI11_PARSE(app, argc, argv);
  if (argc == 1) {
    std::cout << app.help();
  }
  return 0;
}
