// SPDX-License-Identifier: MIT
// Source: shared defaults (unit files are plain root-relative paths) and status names.
#include "libcaps/source.h"

namespace caps {

std::string_view to_string(ReadStatus status) {
  switch (status) {
    case ReadStatus::kOk:
      return "ok";
    case ReadStatus::kMissing:
      return "missing";
    case ReadStatus::kDenied:
      return "permission denied";
    case ReadStatus::kNotRegular:
      return "not a regular file";
    case ReadStatus::kTooLarge:
      return "too large";
    case ReadStatus::kEscapes:
      return "escapes the root";
    case ReadStatus::kLoop:
      return "too many levels of symbolic links";
    case ReadStatus::kError:
      return "read error";
  }
  return "read error";
}

std::string unit_path(std::string_view unit, std::string_view path) {
  std::string out = "sys/class/iommu/";
  out += unit;
  if (!path.empty()) {
    out += '/';
    out += path;
  }
  return out;
}

FileRead Source::read_unit_file(std::string_view unit, std::string_view path, std::size_t limit) {
  return read_file(unit_path(unit, path), limit);
}

DirRead Source::list_unit_dir(std::string_view unit, std::string_view path) {
  return list_dir(unit_path(unit, path));
}

}  // namespace caps
