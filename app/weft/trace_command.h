#pragma once

// `weft trace FILE [--runs N]`: replays an editing trace, prints one JSON
// line of measurements, exits 1 if the final text differs from endContent
// (2 if the file cannot be read).

#include <CLI/CLI.hpp>

namespace weft::trace {

// Registers the subcommand on `app`; its callback exits the process.
CLI::App* AddTraceCommand(CLI::App& app);

}  // namespace weft::trace
