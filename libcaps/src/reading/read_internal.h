// SPDX-License-Identifier: MIT
// Pieces of the host reader shared between its files (not part of the libcaps API).
#pragma once

#include <string>
#include <string_view>

#include "libcaps/model.h"
#include "libcaps/source.h"

namespace caps {

/// Whether `dir` under the unit is a generic-layout model directory: named after a known
/// model, or holding a `model` file.
bool is_generic_layout_dir(Source& source, std::string_view unit, std::string_view dir);


/// Reads /sys/firmware/acpi/tables, /proc/cmdline and /proc/sys/kernel/osrelease into
/// `host.platform`; when the host has no unit and `explain_absence` (no unit selection
/// emptied it), also says why.
void read_platform(Source& source, Host& host, bool class_dir_exists, bool explain_absence);

}  // namespace caps
