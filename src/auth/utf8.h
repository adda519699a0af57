#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace weft::auth {

// The number of Unicode code points in `text` when it is well-formed UTF-8
// (no overlong forms, no surrogates, nothing above U+10FFFF); nullopt
// otherwise. Pure; thread-safe.
std::optional<std::size_t> Utf8Length(std::string_view text);

// Whether `text` contains a C0 control character (U+0000..U+001F) or DEL.
bool HasControlCharacter(std::string_view text);

// Whether well-formed UTF-8 `text` holds a character that shows: one that
// is not white space, a control, or invisible (zero-width and bidi
// controls, soft hyphen, fillers, variation selectors, tags, U+2800).
// False for ill-formed UTF-8.
bool HasVisibleCharacter(std::string_view text);

}  // namespace weft::auth
