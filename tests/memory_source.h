// SPDX-License-Identifier: MIT
// MemorySource: an in-memory Source for reader tests (files, dirs, links and statuses by path).
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "libcaps/source.h"

namespace caps::testing {

/// Paths are root-relative ("sys/class/iommu/dmar0/intel-iommu/cap"). Directories exist
/// implicitly as parents of files and links. Unit paths resolve through sys/class/iommu
/// directly (no class links needed).
class MemorySource : public Source {
 public:
  std::string_view backend() const override { return "memory"; }
  const std::string& root() const override { return root_; }

  /// Adds a file with `data` as its exact bytes.
  void file(const std::string& path, std::string data) { files_[path] = std::move(data); }
  /// Adds a symlink whose text is `target` (never followed).
  void link(const std::string& path, std::string target) { links_[path] = std::move(target); }
  /// Adds an (empty) directory.
  void dir(const std::string& path) { dirs_.insert(path); }
  /// Makes every access to `path` fail with `status`.
  void fail(const std::string& path, ReadStatus status) { failures_[path] = status; }
  /// Adds a unit attribute file: unit_file("dmar0", "intel-iommu/cap", "d2\n").
  void unit_file(std::string_view unit, std::string_view path, std::string data) {
    file(unit_path(unit, path), std::move(data));
  }

  DirRead list_units() override { return list_dir("sys/class/iommu"); }

  FileRead read_file(std::string_view path, std::size_t limit) override {
    std::string p(path);
    if (auto f = failures_.find(p); f != failures_.end()) return {f->second, {}, 0};
    auto it = files_.find(p);
    if (it == files_.end()) {
      if (is_dir(p) || links_.count(p)) return {ReadStatus::kNotRegular, {}, 0};
      return {ReadStatus::kMissing, {}, 0};
    }
    if (it->second.size() > limit) return {ReadStatus::kTooLarge, {}, 0};
    return {ReadStatus::kOk, it->second, 0};
  }

  DirRead list_dir(std::string_view path) override {
    std::string p(path);
    if (auto f = failures_.find(p); f != failures_.end()) return {f->second, {}, 0};
    if (files_.count(p)) return {ReadStatus::kNotRegular, {}, 0};
    if (!is_dir(p)) return {ReadStatus::kMissing, {}, 0};
    std::map<std::string, EntryType> names;
    std::string prefix = p + "/";
    auto collect = [&](const std::string& full, EntryType leaf) {
      if (!full.starts_with(prefix)) return;
      std::string rest = full.substr(prefix.size());
      size_t slash = rest.find('/');
      if (slash == std::string::npos) {
        names.emplace(rest, leaf);
      } else {
        names[rest.substr(0, slash)] = EntryType::kDir;
      }
    };
    for (const auto& [f, _] : files_) collect(f, EntryType::kFile);
    for (const auto& [l, _] : links_) collect(l, EntryType::kLink);
    for (const auto& d : dirs_) collect(d, EntryType::kDir);
    DirRead out{ReadStatus::kOk, {}, 0};
    for (const auto& [name, type] : names) out.entries.push_back({name, type});
    return out;
  }

  LinkRead read_link(std::string_view path) override {
    std::string p(path);
    if (auto f = failures_.find(p); f != failures_.end()) return {f->second, {}, 0};
    auto it = links_.find(p);
    if (it != links_.end()) return {ReadStatus::kOk, it->second, 0};
    if (files_.count(p) || is_dir(p)) return {ReadStatus::kNotRegular, {}, 0};
    return {ReadStatus::kMissing, {}, 0};
  }

 private:
  bool is_dir(const std::string& p) const {
    if (dirs_.count(p)) return true;
    std::string prefix = p + "/";
    auto has_prefix = [&](const auto& m) {
      auto it = m.lower_bound(prefix);
      return it != m.end() && std::string_view(it->first).starts_with(prefix);
    };
    if (has_prefix(files_) || has_prefix(links_)) return true;
    auto d = dirs_.lower_bound(prefix);
    return d != dirs_.end() && d->starts_with(prefix);
  }

  std::string root_ = "(memory)";
  std::map<std::string, std::string> files_;
  std::map<std::string, std::string> links_;
  std::set<std::string> dirs_;
  std::map<std::string, ReadStatus> failures_;
};

}  // namespace caps::testing
