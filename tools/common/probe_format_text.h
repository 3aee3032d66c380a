// SPDX-License-Identifier: MIT
// iommu-probe's text output: a summary table of units, then a unit -> group -> device tree.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "libcaps/model.h"

namespace tools {

struct TextOptions {
  /// Print every decoded register field under its unit (the --registers option).
  bool registers = false;
};

/// Writes `host` for people: a header line, a table of units ("?" for unknown), a tree of
/// units, groups and devices, the reasons when there is no unit, and the diagnostics count.
/// Deterministic. Names from the tree are printed through `printable`.
void format_text(const caps::Host& host, std::ostream& out, const TextOptions& options = {});

/// `text` safe for a terminal: valid UTF-8 other than control characters as is; a backslash
/// as "\\"; control characters and bytes that are not valid UTF-8 as "\xNN".
std::string printable(std::string_view text);

/// A libcaps message made safe for a terminal like `printable`, but with backslashes kept:
/// messages quote values with caps::quote(), which already wrote bad bytes as "\xNN".
std::string printable_message(std::string_view text);

}  // namespace tools
