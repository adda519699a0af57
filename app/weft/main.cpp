// weft: the command-line tool (trace replay, backup, export, ...).
#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "common/build_info.h"
#include "weft/trace_file.h"
#include "weft/trace_replay.h"

int main(int argc, char** argv) {
  CLI::App app{"weft: command-line tool for the weft collaboration server"};
  app.set_version_flag("--version", "weft " + std::string(weft::Version()) +
                                        " (" + std::string(weft::GitCommit()) +
                                        ")");
  app.require_subcommand(0, 1);

  std::string trace_path;
  int runs = 5;
  CLI::App* trace = app.add_subcommand(
      "trace",
      "Replay an editing trace (josephg format, .json or .json.gz), check "
      "its endContent, and print one JSON line of measurements");
  trace->add_option("FILE", trace_path, "trace file")->required();
  trace->add_option("--runs", runs, "replays to take the median of")
      ->check(CLI::Range(1, 1000));

  CLI11_PARSE(app, argc, argv);
  if (trace->parsed()) {
    auto t = weft::trace::LoadTraceFile(trace_path);
    if (!t.ok()) {
      std::cerr << "weft trace: " << t.status().ToString() << "\n";
      return 2;
    }
    std::string name = trace_path.substr(trace_path.find_last_of('/') + 1);
    weft::trace::BenchResult r = weft::trace::Bench(*t, runs);
    std::cout << weft::trace::BenchJson(name, r) << std::endl;
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
  if (argc == 1) {
    std::cout << app.help();
  }
  return 0;
}
