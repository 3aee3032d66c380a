// SPDX-License-Identifier: MIT
// Source: shared defaults (unit files are plain root-relative paths, positioned reads served
// from a whole read) and status names.
#include "libcaps/source.h"

#include <utility>

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

std::vector<LinkRead> Source::read_links(std::string_view dir,
                                         std::span<const std::string_view> names) {
  std::vector<LinkRead> out;
  out.reserve(names.size());
  std::string path(dir);
  if (!path.empty()) path += '/';
  const std::size_t prefix = path.size();
  for (std::string_view name : names) {
    path.resize(prefix);
    path += name;
    out.push_back(read_link(path));
  }
  return out;
}

namespace {

/// A file read whole, read at offsets from memory.
class WholeFile final : public PositionedFile {
 public:
  explicit WholeFile(std::string data) : data_(std::move(data)) {}

  FileRead read_at(std::size_t offset, std::size_t length) override {
    if (offset >= data_.size()) return FileRead{ReadStatus::kOk, {}, 0};
    return FileRead{ReadStatus::kOk, data_.substr(offset, length), 0};
  }
  std::size_t size_hint() const override { return data_.size(); }

 private:
  std::string data_;
};

}  // namespace

FileOpen Source::open_file(std::string_view path, std::size_t limit) {
  FileRead whole = read_file(path, limit);
  if (!whole.ok()) return FileOpen{whole.status, nullptr, whole.error};
  return FileOpen{ReadStatus::kOk, std::make_unique<WholeFile>(std::move(whole.data)), 0};
}

}  // namespace caps
