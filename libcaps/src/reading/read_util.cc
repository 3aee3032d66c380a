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

/// The value of a successful read: its bytes without trailing newlines, moved, not copied.
ValueRead trimmed(FileRead& read) {
  read.data.resize(trim_newlines(read.data).size());
  return {std::move(read.data), read.status};
}

/// Turns a failed read into a value, reporting the failure against `path` (root-relative).
ValueRead failed_value(const FileRead& read, std::string_view path, Diagnostics& diagnostics,
                       IfMissing if_missing, std::size_t limit) {
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
  FileRead read = source.read_unit_file(unit, path, limit);
  if (read.ok()) return trimmed(read);
  return failed_value(read, unit_path(unit, path), diagnostics, if_missing, limit);
}

std::optional<std::string> read_value(Source& source, const std::string& path,
                                      Diagnostics& diagnostics, IfMissing if_missing,
                                      std::size_t limit) {
  FileRead read = source.read_file(path, limit);
  if (read.ok()) return trimmed(read).text;
  return failed_value(read, path, diagnostics, if_missing, limit).text;
}

std::string link_basename(std::string_view target) {
  while (target.size() > 1 && target.back() == '/') target.remove_suffix(1);
  size_t slash = target.rfind('/');
  if (slash != std::string_view::npos) target.remove_prefix(slash + 1);
  return std::string(target);
}

}  // namespace caps
