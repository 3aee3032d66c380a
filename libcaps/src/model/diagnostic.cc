// SPDX-License-Identifier: MIT
// Diagnostic helpers: severity names and the display form of source paths.
#include "libcaps/diagnostic.h"

namespace caps {

std::string_view to_string(Severity severity) {
  return severity == Severity::kError ? "error" : "warning";
}

std::string display_path(std::string_view root_relative) {
  constexpr std::string_view kSys = "sys/";
  if (root_relative.starts_with(kSys)) return std::string(root_relative.substr(kSys.size()));
  return "/" + std::string(root_relative);
}

}  // namespace caps
