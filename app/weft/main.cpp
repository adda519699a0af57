// weft: the command-line tool (trace replay, backup, export, ...).
#include "weft/trace_command.h"  // `weft trace`

#include <CLI/CLI.hpp>
#include <string>

#include "common/build_info.h"
#include "store/store_commands.h"
#include "store_open.h"
#include "user_commands.h"

int main(int argc, char** argv) {
  CLI::App app{"weft: command-line tool for the weft collaboration server"};
  app.set_version_flag("--version", "weft " + std::string(weft::Version()) +
                                        " (" + std::string(weft::GitCommit()) +
                                        ")");
  weft::trace::AddTraceCommand(app);
  // One command per call: the commands share the variables below, and
  // with two the last one's exit code hid the first one's failure.
  app.require_subcommand(0, 1);

  // Storage commands (logic in src/store/store_commands.cpp).
  std::string db, file, doc;
  weft::store::StoreTarget target;
  int rc = 0;
  auto* backup = app.add_subcommand("backup", "Back up a live SQLite store");
  backup->add_option("--sqlite", db, "store file")->required();
  backup->add_option("--to", file, "backup file (must not exist)")->required();
  backup->callback([&] {
    rc = weft::store::RunBackupCommand(db, file, std::cerr,
                                       weft::app::ValidateSnapshot);
  });
  auto* restore =
      app.add_subcommand("restore", "Restore a SQLite store (weftd stopped)");
  restore->add_option("--from", file, "backup file")->required();
  restore->add_option("--sqlite", db, "store file")->required();
  restore->callback([&] {
    rc = weft::store::RunRestoreCommand(file, db, std::cerr,
                                        weft::app::ValidateSnapshot);
  });
  for (const char* name : {"export", "import"}) {
    bool is_export = std::string(name) == "export";
    auto* c =
        app.add_subcommand(name, is_export ? "Export one document to a file"
                                           : "Import one document from a file");
    c->add_option("--sqlite", target.sqlite_path, "SQLite store file");
    c->add_option("--postgres", target.pg_conninfo,
                  "PostgreSQL connection string");
    c->add_option(
         "--file", file,
         is_export ? "document file (must not exist)" : "document file")
        ->required();
    if (is_export) c->add_option("--doc", doc, "document id")->required();
    c->callback([&, is_export] {
      rc = is_export
               ? weft::store::RunExportCommand(target, doc, file, std::cerr)
               : weft::store::RunImportCommand(target, file, std::cerr,
                                               weft::app::ValidateSnapshot);
    });
  }
  // Account commands (app/weft/user_commands.cpp).
  weft::app::AddUserCommands(app);
  CLI11_PARSE(app, argc, argv);
  if (rc != 0) return rc;
  if (argc == 1) {
    std::cout << app.help();
  }
  return 0;
}
