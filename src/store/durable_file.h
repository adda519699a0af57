#pragma once

// Files the `weft` tool writes for operators (backups, exported
// documents): named only once they are whole and synced, never over a
// file that exists (a mistyped target must not replace a store or another
// backup), and synced with their directory so that a name survives a
// power loss.

#include <string>

#include "common/status.h"

namespace weft::store {

// Whether `path` exists; kUnavailable when that cannot be told.
Result<bool> Exists(const std::string& path);

// fsyncs `path` (a file, or a directory: what a rename or a new name needs
// to survive a power loss).
Status Sync(const std::string& path);

// The directory `path` is in ("." for a bare name).
std::string DirectoryOf(const std::string& path);

// Gives `from` the name `to` unless `to` exists (kAlreadyExists, "<what>
// target <to> exists"): a hard link, then the caller removes `from`; where
// the filesystem has no hard links (FAT, some network mounts), renameat2's
// RENAME_NOREPLACE; where that is missing too, a check then a rename (a
// run racing in between could be replaced).
Status NameWithoutReplacing(const std::string& from, const std::string& to,
                            const std::string& what);

// Writes `bytes` to `path`, which must not exist (kAlreadyExists): into a
// file of this run's own beside it (mkstemp: exclusive, never through a
// symlink someone planted, unique for runs side by side), fsynced, named
// `path` without replacing anything, then the directory fsynced. Every
// failure says why and leaves no file behind.
Status WriteNewFile(const std::string& path, const std::string& bytes,
                    const std::string& what);

}  // namespace weft::store
