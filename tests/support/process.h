#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace weft::testing {

// Small POSIX process helpers for tests that start real servers.

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0).
Result<std::uint16_t> FreeLoopbackPort();

// A fresh private directory under `parent` (created if missing).
Result<std::string> MakeTempDir(const std::string& parent,
                                const std::string& prefix);

// Removes a directory tree, ignoring errors.
void RemoveTree(const std::string& path);

struct SpawnOptions {
  // Run the child as this system user (only when we are root).
  std::optional<std::string> user;
  // stdout and stderr of the child go here (appended); /dev/null if empty.
  std::string log_path;
  // Signal the child gets when the test process dies, so a crashed test
  // never leaves a server behind.
  int parent_death_signal = 9;  // SIGKILL
  // "NAME=value" entries added to (or replacing in) the inherited environment.
  std::vector<std::string> env;
};

// Starts argv[0] (searched in PATH) with `argv`. Returns the child's pid.
Result<pid_t> Spawn(const std::vector<std::string>& argv,
                    const SpawnOptions& options);

// Runs a command to completion; returns its exit code (or 128+signal).
Result<int> RunToCompletion(const std::vector<std::string>& argv,
                            const SpawnOptions& options);

// Runs a command to completion with `line` and a newline on its stdin.
Result<int> RunWithStdinLine(const std::vector<std::string>& argv,
                             const std::string& line, SpawnOptions options);

// Sends `signo`, waits up to `grace` for the child to exit, then SIGKILLs.
// Returns the exit status as waitpid reports it.
int StopProcess(pid_t pid, int signo, std::chrono::milliseconds grace);

// True when the child has exited (reaps it).
bool HasExited(pid_t pid);

// Changes the owner of `path` (recursively) to `user`; no-op unless root.
Status ChownTree(const std::string& path, const std::string& user);

// The current process is root.
bool IsRoot();

}  // namespace weft::testing
