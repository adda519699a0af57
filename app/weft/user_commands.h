#pragma once

// `weft user create` and `weft user reset-password`: account administration
// from the command line, on the same store weftd uses (--store, --data-dir,
// --database-url and their WEFT_* variables, as for weftd). The password is
// read from the first line of standard input, never from a flag (flags show
// up in `ps` and shell history).

#include <CLI/CLI.hpp>

namespace weft::app {

// Adds the `user` subcommand and its two subcommands to `app`. Their
// callbacks throw CLI::RuntimeError with exit code 1 on failure (after
// printing why to stderr), which CLI11_PARSE turns into the exit code.
void AddUserCommands(CLI::App& app);

}  // namespace weft::app
