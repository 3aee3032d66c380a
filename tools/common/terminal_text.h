// SPDX-License-Identifier: MIT
// Text made safe for a terminal: what both tools print of names, paths and messages.
#pragma once

#include <string>
#include <string_view>

namespace tools {

/// `text` safe for a terminal: valid UTF-8 other than control characters as is; a backslash
/// as "\\"; control characters and bytes that are not valid UTF-8 as "\xNN".
std::string printable(std::string_view text);

/// A libcaps message made safe for a terminal like `printable`, but with backslashes kept:
/// messages quote values with caps::quote(), which already wrote bad bytes as "\xNN".
std::string printable_message(std::string_view text);

}  // namespace tools
