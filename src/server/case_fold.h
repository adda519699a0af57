#pragma once

#include <string>
#include <string_view>

namespace weft::server {

// Lower-cases `utf8` for case-insensitive search in the scripts titles
// are mostly written in: ASCII, Latin-1, Latin Extended-A, Greek
// (accented capitals too; final sigma folds to sigma) and Cyrillic, plus
// capital sharp s to sharp s. Other characters, and bytes that are not
// UTF-8, are kept as they are. Not full Unicode case folding (no table of
// every script, no one-to-many folds such as sharp s to "ss").
std::string FoldCase(std::string_view utf8);

}  // namespace weft::server
