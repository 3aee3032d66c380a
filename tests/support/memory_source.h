// SPDX-License-Identifier: MIT
// MemorySource: an in-memory Source for reader tests (files, dirs, links and statuses by path).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "libcaps/source.h"

namespace caps::testing {

/// Bytes in memory read at offsets, as the directory backend reads a file with pread. Every
/// byte handed out is added to `*counter`. After fail_bytes(begin, end, status), a read that
/// touches a byte in [begin, end) fails with `status`.
class MemoryFile final : public PositionedFile {
 public:
  MemoryFile(std::string data, std::size_t size_hint, std::size_t* counter = nullptr)
      : data_(std::move(data)), size_hint_(size_hint), counter_(counter) {}

  void fail_bytes(std::size_t begin, std::size_t end, ReadStatus status) {
    fail_begin_ = begin;
    fail_end_ = end;
    fail_status_ = status;
  }

  FileRead read_at(std::size_t offset, std::size_t length) override {
    if (offset < fail_end_ && offset + length > fail_begin_) return {fail_status_, {}, 0};
    std::string bytes = offset < data_.size() ? data_.substr(offset, length) : std::string();
    if (counter_ != nullptr) *counter_ += bytes.size();
    return {ReadStatus::kOk, std::move(bytes), 0};
  }
  std::size_t size_hint() const override { return size_hint_; }

 private:
  std::string data_;
  std::size_t size_hint_;
  std::size_t* counter_;
  std::size_t fail_begin_ = 0;
  std::size_t fail_end_ = 0;
  ReadStatus fail_status_ = ReadStatus::kError;
};

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

  /// Positioned reads of a file's bytes, counted in bytes_read_at(). `size_hint` is its size
  /// unless set_size_hint() says otherwise (sysfs reports a `config` file's whole size to a
  /// non-root reader who gets only 64 bytes of it).
  FileOpen open_file(std::string_view path, std::size_t /*limit*/) override {
    std::string p(path);
    // The same statuses as read_file; the reads' bounds are the caller's, as in the directory
    // backend.
    FileRead whole = read_file(path, std::string::npos - 1);
    if (!whole.ok()) return {whole.status, nullptr, whole.error};
    auto hint = size_hints_.find(p);
    const std::size_t size = hint != size_hints_.end() ? hint->second : whole.data.size();
    return {ReadStatus::kOk, std::make_unique<MemoryFile>(std::move(whole.data), size, &reads_[p]),
            0};
  }

  /// Makes open_file report `size` as the file's size.
  void set_size_hint(const std::string& path, std::size_t size) { size_hints_[path] = size; }
  /// Bytes read from `path` through open_file's positioned reads so far.
  std::size_t bytes_read_at(const std::string& path) const {
    auto it = reads_.find(path);
    return it == reads_.end() ? 0 : it->second;
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
  std::map<std::string, std::size_t> size_hints_;
  std::map<std::string, std::size_t> reads_;
};

}  // namespace caps::testing
