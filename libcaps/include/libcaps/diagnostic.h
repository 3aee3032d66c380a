// SPDX-License-Identifier: MIT
// Diagnostics: warnings and errors collected as data while reading a tree; tools print them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace caps {

enum class Severity { kWarning, kError };

std::string_view to_string(Severity severity);

/// One problem found while reading. `path` is relative to /sys for sysfs files
/// ("class/iommu/dmar0/intel-iommu/cap", "kernel/iommu_groups/3/type") and absolute for
/// anything outside sysfs ("/proc/cmdline"). Messages are lowercase, name the values, and
/// have no final period.
struct Diagnostic {
  std::string path;
  Severity severity = Severity::kWarning;
  std::string message;

  bool operator==(const Diagnostic&) const = default;
};

using Diagnostics = std::vector<Diagnostic>;

/// The diagnostic path for a root-relative source path: "sys/x" -> "x", "proc/cmdline" ->
/// "/proc/cmdline".
std::string display_path(std::string_view root_relative);

}  // namespace caps
