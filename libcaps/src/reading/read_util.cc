// SPDX-License-Identifier: MIT
// Small reads with diagnostics: bounded, trimmed, every failure reported with its path.
#include "read_util.h"

#include <cstring>

#include "libcaps/parse.h"

namespace caps {

std::string describe(ReadStatus status, int error) {
  std::string text(to_string(status));
  if (status == ReadStatus::kError && error != 0) text += std::string(": ") + std::strerror(error);
  return text;
}

void add_diagnostic(Diagnostics& diagnostics, std::string_view path, Severity severity,
                    std::string message) {
  diagnostics.push_back({display_path(path), severity, std::move(message)});
}

namespace {

/// Turns a raw read into a value, reporting failures against `path` (root-relative).
ValueRead to_value(const FileRead& read, std::string_view path, Diagnostics& diagnostics,
                   IfMissing if_missing, std::size_t limit) {
  if (read.ok()) return {std::string(trim_newlines(read.data)), read.status};
  if (read.status == ReadStatus::kMissing) {
    if (if_missing != IfMissing::kSilent) {
      add_diagnostic(diagnostics, path,
                     if_missing == IfMissing::kError ? Severity::kError : Severity::kWarning,
                     "missing");
    }
    return {std::nullopt, read.status};
  }
  std::string message = "cannot read: " + describe(read.status, read.error);
  if (read.status == ReadStatus::kTooLarge) {
    message = "cannot read: larger than " + std::to_string(limit) + " bytes";
  }
  add_diagnostic(diagnostics, path, Severity::kError, std::move(message));
  return {std::nullopt, read.status};
}

}  // namespace

ValueRead read_unit_value(Source& source, std::string_view unit, std::string_view path,
                          Diagnostics& diagnostics, IfMissing if_missing, std::size_t limit) {
  return to_value(source.read_unit_file(unit, path, limit), unit_path(unit, path), diagnostics,
                  if_missing, limit);
}

std::optional<std::string> read_value(Source& source, const std::string& path,
                                      Diagnostics& diagnostics, IfMissing if_missing,
                                      std::size_t limit) {
  return to_value(source.read_file(path, limit), path, diagnostics, if_missing, limit).text;
}

std::string link_basename(std::string_view target) {
  while (target.size() > 1 && target.back() == '/') target.remove_suffix(1);
  size_t slash = target.rfind('/');
  if (slash != std::string_view::npos) target.remove_prefix(slash + 1);
  return std::string(target);
}

}  // namespace caps
