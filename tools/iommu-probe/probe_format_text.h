// SPDX-License-Identifier: MIT
// iommu-probe's text output: a summary table of units, then a unit -> group -> device tree.
#pragma once

#include <ostream>

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

}  // namespace tools
