// SPDX-License-Identifier: MIT
// Builds small sysfs trees at test time, in the shape fake-sysfs/README.md describes, so that
// one piece of each can be made hostile (a FIFO, a loop, a 50 MB file, a strange name).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace hostile {

/// A tree rooted at `root` with sys/class/iommu and proc/cmdline. Units live in
/// sys/devices/virtual/iommu/NAME with `uevent`, `subsystem` and the class link, as the
/// kernel (and libudev under umockdev) expects. Every helper throws on failure.
class Tree {
 public:
  explicit Tree(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  /// sys/devices/virtual/iommu/NAME
  std::filesystem::path unit_dir(std::string_view name) const;

  /// A unit with no attributes: its directory, uevent, subsystem link and class link.
  std::filesystem::path add_unit_shell(std::string_view name);
  /// A well-formed VT-d unit (client graphics values) that reads without any diagnostic.
  std::filesystem::path add_intel_unit(std::string_view name);
  /// A well-formed generic-layout SMMUv3 unit (arm-smmu-v3/ with model 2).
  std::filesystem::path add_generic_unit(std::string_view name);

  /// Writes `content` to `path` (relative to the root or absolute), making parent dirs.
  void write(const std::filesystem::path& path, std::string_view content) const;
  /// Replaces whatever is at `path` with a symlink whose text is `target`.
  void symlink(std::string_view target, const std::filesystem::path& path) const;
  /// Removes whatever is at `path` (a file, link or whole directory).
  void remove(const std::filesystem::path& path) const;

 private:
  std::filesystem::path resolve(const std::filesystem::path& path) const;

  std::filesystem::path root_;
};

/// Makes a FIFO, a unix socket or a character device at `path` (after removing what is
/// there). The error text (strerror) when it could not, empty on success.
std::string make_fifo(const std::filesystem::path& path);
std::string make_socket(const std::filesystem::path& path);
std::string make_char_device(const std::filesystem::path& path, unsigned major, unsigned minor);

}  // namespace hostile
