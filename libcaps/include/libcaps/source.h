// SPDX-License-Identifier: MIT
// Source: the one interface every reader uses to see a sysfs tree (directory or libudev).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libcaps/diagnostic.h"
#include "libcaps/result.h"

namespace caps {

/// How a read went. "Missing" is kept apart from "unreadable" and from "not a file".
enum class ReadStatus {
  kOk,
  kMissing,     // ENOENT / ENOTDIR
  kDenied,      // EACCES / EPERM
  kNotRegular,  // a directory, FIFO, socket or device where a file was expected (or vice versa)
  kTooLarge,    // more bytes than the caller's limit
  kEscapes,     // a `..` or a symlink would leave the root
  kLoop,        // too many symlinks
  kError,       // any other errno
};

std::string_view to_string(ReadStatus status);

struct FileRead {
  ReadStatus status = ReadStatus::kError;
  std::string data;  // raw bytes, untrimmed; empty unless kOk
  int error = 0;     // errno, when there was one

  bool ok() const { return status == ReadStatus::kOk; }
};

enum class EntryType { kFile, kDir, kLink, kOther };

struct DirEntry {
  std::string name;
  EntryType type = EntryType::kOther;
};

struct DirRead {
  ReadStatus status = ReadStatus::kError;
  std::vector<DirEntry> entries;  // sorted by name (byte order); no "." or ".."
  int error = 0;

  bool ok() const { return status == ReadStatus::kOk; }
};

struct LinkRead {
  ReadStatus status = ReadStatus::kError;
  std::string target;  // the link text, not resolved
  int error = 0;

  bool ok() const { return status == ReadStatus::kOk; }
};

/// A file opened for reads at offsets, so a caller reads only the bytes it needs: every dword
/// of a live PCI function's `config` is a config cycle (a trap to the hypervisor in a virtual
/// machine), and the probe needs a few dozen of its 4096 bytes.
class PositionedFile {
 public:
  virtual ~PositionedFile() = default;
  /// Up to `length` bytes from `offset`; fewer only where the file ends.
  virtual FileRead read_at(std::size_t offset, std::size_t length) = 0;
  /// The size the file system reports (st_size). A hint, not a promise: sysfs reports a
  /// `config` file's whole size even to a non-root reader, who gets only its first 64 bytes.
  virtual std::size_t size_hint() const = 0;
};

struct FileOpen {
  ReadStatus status = ReadStatus::kError;
  std::unique_ptr<PositionedFile> file;  // null unless kOk
  int error = 0;

  bool ok() const { return status == ReadStatus::kOk; }
};

/// Sysfs attribute files are at most a page; anything longer is not a kernel attribute.
inline constexpr std::size_t kAttrLimit = 4096;
/// PCI config space is at most 4 KiB.
inline constexpr std::size_t kConfigLimit = 4096;

/// A read-only view of a host's /sys and /proc. Paths are relative to the root and never
/// start with '/': "sys/kernel/iommu_groups/3/type", "proc/cmdline". Implementations never
/// read outside their root, never follow a symlink out of it, and never block on special
/// files. Not thread-safe.
class Source {
 public:
  virtual ~Source() = default;

  /// "dir" or "udev".
  virtual std::string_view backend() const = 0;
  /// The directory that holds sys/ and proc/ ("/" on a live host).
  virtual const std::string& root() const = 0;

  /// The names in sys/class/iommu (the IOMMU class devices).
  virtual DirRead list_units() = 0;
  /// A file under a unit's directory: `path` is "intel-iommu/cap", "arm-smmu-v3/model".
  virtual FileRead read_unit_file(std::string_view unit, std::string_view path, std::size_t limit);
  /// A directory under a unit: "" for the unit itself, "devices", "arm-smmu-v3/pgtable_format".
  virtual DirRead list_unit_dir(std::string_view unit, std::string_view path);

  /// Any file under the root.
  virtual FileRead read_file(std::string_view path, std::size_t limit) = 0;
  /// Any file under the root, opened for positioned reads with read_file's guarantees (beneath
  /// the root, a regular file, never blocking). The caller reads at most `limit` + 1 bytes of
  /// it. The default reads the file whole through read_file(path, limit) and serves the reads
  /// from memory (so it can say kTooLarge here); backends that can read at offsets override it.
  virtual FileOpen open_file(std::string_view path, std::size_t limit);
  /// Any directory under the root.
  virtual DirRead list_dir(std::string_view path) = 0;
  /// The text of a symlink under the root (not followed).
  virtual LinkRead read_link(std::string_view path) = 0;
  /// The links `names` (single components) in the directory `dir`, in order: each the same
  /// as read_link(dir + "/" + name), or read_link(name) when `dir` is empty. The default calls
  /// read_link for each; the directory backend opens `dir` once for all of them.
  virtual std::vector<LinkRead> read_links(std::string_view dir,
                                           std::span<const std::string_view> names);

  /// Problems the backend itself found since the last call (the libudev backend: its
  /// enumeration and the class directory disagree). read_host collects them.
  virtual Diagnostics take_diagnostics() { return {}; }
};

/// The directory backend rooted at `root` (must exist and be a directory).
Result<std::unique_ptr<Source>> open_dir_source(const std::string& root);

/// The libudev backend: units enumerated and attribute values read by libudev; listings, checks
/// and every other file through the directory backend at `root`, which must be the tree
/// libudev sees as /sys's parent: "/" on a live host, the testbed (UMOCKDEV_DIR, absolute)
/// under umockdev. Only meaningful there.
Result<std::unique_ptr<Source>> open_udev_source(const std::string& root = "/");

/// The root-relative path of a unit file: unit_path("dmar0", "intel-iommu/cap").
std::string unit_path(std::string_view unit, std::string_view path);

}  // namespace caps
