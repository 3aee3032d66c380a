// SPDX-License-Identifier: MIT
// Small reads with diagnostics: one call reads, trims and reports a sysfs value.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "libcaps/diagnostic.h"
#include "libcaps/source.h"

namespace caps {

/// Whether a missing file is worth a diagnostic, and of which severity.
enum class IfMissing { kSilent, kWarn, kError };

/// A value read from a sysfs attribute: the trimmed text, or how the read failed.
struct ValueRead {
  std::optional<std::string> text;
  ReadStatus status = ReadStatus::kError;

  bool absent() const { return status == ReadStatus::kMissing; }
};

/// Reads a unit's attribute (`path` relative to the unit, e.g. "intel-iommu/cap") through
/// Source::read_unit_file, with the same trimming and diagnostics as read_value.
ValueRead read_unit_value(Source& source, std::string_view unit, std::string_view path,
                          Diagnostics& diagnostics, IfMissing if_missing = IfMissing::kWarn,
                          std::size_t limit = kAttrLimit);

/// Reads `path` (root-relative) as a sysfs attribute: bounded to a page, trailing newlines
/// trimmed. Anything but success adds a diagnostic (missing ones only as `if_missing` says)
/// and returns nullopt.
std::optional<std::string> read_value(Source& source, const std::string& path,
                                      Diagnostics& diagnostics,
                                      IfMissing if_missing = IfMissing::kWarn,
                                      std::size_t limit = kAttrLimit);

/// The diagnostic message for a failed access: "missing", "permission denied", ...
std::string describe(ReadStatus status, int error);

/// Adds {display_path(path), severity, message}.
void add_diagnostic(Diagnostics& diagnostics, std::string_view path, Severity severity,
                    std::string message);

/// The last component of a link text: "../../../bus/pci/drivers/vfio-pci" -> "vfio-pci".
std::string link_basename(std::string_view target);

}  // namespace caps
