#include "weft/trace_command.h"

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "weft/trace_file.h"
#include "weft/trace_replay.h"

namespace weft::trace {

namespace {

int RunTrace(const std::string& path, int runs) {
  auto t = LoadTraceFile(path);
  if (!t.ok()) {
    std::cerr << "weft trace: " << t.status().ToString() << "\n";
    return 2;
  }
  std::string name = path.substr(path.find_last_of('/') + 1);
  BenchResult r = Bench(*t, runs);
  std::cout << BenchJson(name, r) << std::endl;
  if (r.visible_chars > 0) {
    double overhead =
        (static_cast<double>(r.loaded_doc_bytes) - r.text_utf8_bytes) /
        static_cast<double>(r.visible_chars);
    std::cerr << "weft trace: loaded document holds " << r.loaded_doc_bytes
              << " heap bytes for " << r.visible_chars << " visible chars ("
              << overhead << " bytes/char beyond the UTF-8 text)\n";
  }
  if (!r.ok) {
    std::cerr << "weft trace: " << r.error << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

CLI::App* AddTraceCommand(CLI::App& app) {
  struct Options {
    std::string path;
    int runs = 5;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "trace",
      "Replay an editing trace (josephg format, .json or .json.gz), check "
      "its endContent, and print one JSON line of measurements");
  cmd->add_option("FILE", opts->path, "trace file")->required();
  cmd->add_option("--runs", opts->runs, "replays to take the median of")
      ->check(CLI::Range(1, 1000));
  cmd->callback([opts] {
    int rc = RunTrace(opts->path, opts->runs);
    std::cout.flush();
    std::exit(rc);
  });
  return cmd;
}

}  // namespace weft::trace
