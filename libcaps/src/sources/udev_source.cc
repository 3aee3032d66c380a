// SPDX-License-Identifier: MIT
// The libudev backend: units and their attribute values through libudev, everything else through
// a directory source on the same tree. The only file that includes libudev.h.
#include <libudev.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libcaps/diagnostic.h"
#include "libcaps/parse.h"
#include "libcaps/source.h"

namespace caps {
namespace {

struct UdevUnref {
  void operator()(udev* u) const { udev_unref(u); }
};
struct DeviceUnref {
  void operator()(udev_device* d) const { udev_device_unref(d); }
};
struct EnumerateUnref {
  void operator()(udev_enumerate* e) const { udev_enumerate_unref(e); }
};
using UdevPtr = std::unique_ptr<udev, UdevUnref>;
using DevicePtr = std::unique_ptr<udev_device, DeviceUnref>;
using EnumeratePtr = std::unique_ptr<udev_enumerate, EnumerateUnref>;

constexpr const char* kSubsystem = "iommu";

ReadStatus status_of(int error) {
  switch (error) {
    case ENOENT:
    case ENODEV:
    case ENOTDIR:
      return ReadStatus::kMissing;
    case EACCES:
    case EPERM:  // sd-device's answer for an attribute without S_IRUSR
      return ReadStatus::kDenied;
    case EISDIR:
    case EINVAL:  // sd-device's answer for a symlink other than driver/subsystem/module
      return ReadStatus::kNotRegular;
    case E2BIG:  // larger than sd-device reads from a virtual file
      return ReadStatus::kTooLarge;
    case ELOOP:
      return ReadStatus::kLoop;
    default:
      return ReadStatus::kError;
  }
}

/// `path` as sysattr components: empty and "." components dropped, nullopt if any is ".."
/// (a sysattr is by definition inside its device directory).
std::optional<std::string> normalize(std::string_view path) {
  std::string out;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") return std::nullopt;
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

/// A unit name is one sysfs name; libudev would turn a '/' into a path under /sys.
bool valid_unit(std::string_view unit) {
  return !unit.empty() && unit != "." && unit != ".." &&
         unit.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

/// At most this many names in a disagreement message; a tree may have 10,000 units.
constexpr std::size_t kMaxNamesShown = 8;

/// `names` quoted and comma-separated, the first kMaxNamesShown of them.
std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i == kMaxNamesShown) return out + ", ... (" + std::to_string(names.size()) + " in all)";
    if (i > 0) out += ", ";
    out += quote(names[i]);
  }
  return out;
}

/// libudev enumerates the units and supplies attribute values; listings, type checks and every
/// file outside a unit go through a directory reader rooted at the same tree as libudev's /sys
/// ("/" on a live host, the testbed under umockdev). That reader never leaves its root, never
/// blocks and reads at most the caller's limit, so on a hostile tree both backends give the same
/// statuses, and the platform files (proc/cmdline, ACPI tables) are the tree's own.
class UdevSource final : public Source {
 public:
  UdevSource(UdevPtr u, std::unique_ptr<Source> dir) : udev_(std::move(u)), dir_(std::move(dir)) {}

  std::string_view backend() const override { return "udev"; }
  const std::string& root() const override { return dir_->root(); }

  /// The union of libudev's enumeration and the class directory, so a unit one of them misses
  /// is still read (and fails on its own, as with the directory backend). When they differ the
  /// backend says so: libudev seeing nothing on a tree that has units means it is not looking
  /// at that tree (umockdev without an absolute UMOCKDEV_DIR, for one).
  DirRead list_units() override {
    DirRead listed = dir_->list_units();
    std::set<std::string> enumerated;
    if (const int error = enumerate(enumerated); error != 0) {
      // One broken unit (a symlink loop, say) fails the whole scan; the class directory still
      // lists every unit, and each bad one then fails on its own.
      return listed;
    }
    std::set<std::string> in_dir;
    for (const DirEntry& e : listed.entries) in_dir.insert(e.name);
    if (!listed.ok() && enumerated.empty()) return listed;
    if (enumerated != in_dir) report_disagreement(enumerated, in_dir, listed);
    std::map<std::string, EntryType> names;
    for (const DirEntry& e : listed.entries) names.emplace(e.name, e.type);
    // /sys/class/iommu/<name> is a class symlink on every kernel.
    for (const std::string& name : enumerated) names.emplace(name, EntryType::kLink);
    return DirRead{ReadStatus::kOk, to_entries(names), 0};
  }

  FileRead read_unit_file(std::string_view unit, std::string_view path,
                          std::size_t limit) override {
    const std::optional<std::string> attr = normalize(path);
    if (!attr) return FileRead{ReadStatus::kEscapes, {}, EXDEV};
    if (attr->empty()) return FileRead{ReadStatus::kNotRegular, {}, EISDIR};
    if (!valid_unit(unit)) return FileRead{ReadStatus::kMissing, {}, ENOENT};
    // The directory reader first: sd-device would block on a FIFO, read a huge file whole and
    // follow a unit link out of the tree. Sysfs attributes are a page at most, so reading one
    // twice costs nothing.
    FileRead checked = dir_->read_unit_file(unit, *attr, limit);
    if (!checked.ok()) return checked;
    const Lookup& lookup = device(unit);
    // A unit only the class directory lists (already reported by list_units).
    if (!lookup.dev) return checked;
    errno = 0;
    const char* value = udev_device_get_sysattr_value(lookup.dev.get(), attr->c_str());
    if (value == nullptr) {
      const int error = errno != 0 ? errno : ENOENT;
      return FileRead{status_of(error), {}, error};
    }
    // libudev has stripped the trailing newline the kernel wrote; readers trim it anyway.
    const std::string_view text = value;
    if (text.size() > limit) return FileRead{ReadStatus::kTooLarge, {}, 0};
    return FileRead{ReadStatus::kOk, std::string(text), 0};
  }

  /// From the directory reader: libudev's sysattr list cannot tell symlinks from files, and it
  /// leaves out unreadable files, child devices and directories with no readable file (an
  /// empty arm-smmu-v3/pgtable_format/ would vanish).
  DirRead list_unit_dir(std::string_view unit, std::string_view path) override {
    const std::optional<std::string> dir = normalize(path);
    if (!dir) return DirRead{ReadStatus::kEscapes, {}, EXDEV};
    if (!valid_unit(unit)) return DirRead{ReadStatus::kMissing, {}, ENOENT};
    return dir_->list_unit_dir(unit, *dir);
  }

  FileRead read_file(std::string_view path, std::size_t limit) override {
    return dir_->read_file(path, limit);
  }
  FileOpen open_file(std::string_view path, std::size_t limit) override {
    return dir_->open_file(path, limit);
  }
  DirRead list_dir(std::string_view path) override { return dir_->list_dir(path); }
  LinkRead read_link(std::string_view path) override { return dir_->read_link(path); }

  Diagnostics take_diagnostics() override { return std::exchange(diagnostics_, {}); }

 private:
  /// A unit's device, or the errno of looking it up; both are cached.
  struct Lookup {
    DevicePtr dev;
    int error = 0;
  };

  /// Adds the sysnames of the iommu devices libudev finds; nonzero (an errno) when the scan
  /// fails.
  int enumerate(std::set<std::string>& names) {
    EnumeratePtr en(udev_enumerate_new(udev_.get()));
    if (!en) return errno != 0 ? errno : ENOMEM;
    if (const int r = udev_enumerate_add_match_subsystem(en.get(), kSubsystem); r < 0) return r;
    if (const int r = udev_enumerate_scan_devices(en.get()); r < 0) return r;
    udev_list_entry* entry = nullptr;
    udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(en.get())) {
      DevicePtr dev(udev_device_new_from_syspath(udev_.get(), udev_list_entry_get_name(entry)));
      if (!dev) continue;  // removed since the scan
      const char* sysname = udev_device_get_sysname(dev.get());
      if (sysname == nullptr) continue;
      names.insert(sysname);
      Lookup& slot = devices_[sysname];
      if (!slot.dev) slot = Lookup{std::move(dev), 0};
    }
    return 0;
  }

  void report_disagreement(const std::set<std::string>& enumerated,
                           const std::set<std::string>& in_dir, const DirRead& listed) {
    std::string message = "libudev enumerated " + std::to_string(enumerated.size()) + " units";
    if (!listed.ok()) {
      message +=
          " but the directory cannot be listed (" + std::string(to_string(listed.status)) + ")";
    } else {
      message += " but the directory lists " + std::to_string(in_dir.size());
      std::vector<std::string> only_dir;
      std::set_difference(in_dir.begin(), in_dir.end(), enumerated.begin(), enumerated.end(),
                          std::back_inserter(only_dir));
      if (!only_dir.empty()) message += "; only the directory lists " + join_names(only_dir);
    }
    std::vector<std::string> only_udev;
    std::set_difference(enumerated.begin(), enumerated.end(), in_dir.begin(), in_dir.end(),
                        std::back_inserter(only_udev));
    if (!only_udev.empty()) message += "; only libudev lists " + join_names(only_udev);
    message += enumerated.empty()
                   ? "; libudev is not reading this tree (under umockdev, UMOCKDEV_DIR must name "
                     "it)"
                   : "; every unit either one lists is read";
    diagnostics_.push_back(
        Diagnostic{display_path("sys/class/iommu"), Severity::kError, std::move(message)});
  }

  const Lookup& device(std::string_view unit) {
    if (auto it = devices_.find(unit); it != devices_.end()) return it->second;
    Lookup lookup;
    if (valid_unit(unit)) {
      const std::string name(unit);
      errno = 0;
      lookup.dev.reset(
          udev_device_new_from_subsystem_sysname(udev_.get(), kSubsystem, name.c_str()));
      if (!lookup.dev) lookup.error = errno != 0 ? errno : ENOENT;
    } else {
      lookup.error = ENOENT;
    }
    return devices_.emplace(std::string(unit), std::move(lookup)).first->second;
  }

  static std::vector<DirEntry> to_entries(const std::map<std::string, EntryType>& names) {
    std::vector<DirEntry> out;
    out.reserve(names.size());
    for (const auto& [name, type] : names) out.push_back(DirEntry{name, type});
    return out;
  }

  UdevPtr udev_;
  std::unique_ptr<Source> dir_;  // the same tree as libudev's /sys, for everything else
  std::map<std::string, Lookup, std::less<>> devices_;
  Diagnostics diagnostics_;
};

}  // namespace

Result<std::unique_ptr<Source>> open_udev_source(const std::string& root) {
  Result<std::unique_ptr<Source>> dir = open_dir_source(root);
  if (!dir) return dir;
  errno = 0;
  UdevPtr u(udev_new());
  if (!u) {
    const std::string reason = errno != 0 ? std::strerror(errno) : "unknown error";
    return make_error("libudev", "udev_new failed: " + reason);
  }
  return std::unique_ptr<Source>(new UdevSource(std::move(u), std::move(*dir)));
}

}  // namespace caps
