// The libudev backend: units and their attributes through libudev, everything else through a
// directory source on "/". The only file that includes libudev.h.
#include <libudev.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

class UdevSource final : public Source {
 public:
  UdevSource(UdevPtr u, std::unique_ptr<Source> dir) : udev_(std::move(u)), dir_(std::move(dir)) {}

  std::string_view backend() const override { return "udev"; }
  const std::string& root() const override { return root_; }

  DirRead list_units() override {
    EnumeratePtr en(udev_enumerate_new(udev_.get()));
    if (!en) return DirRead{ReadStatus::kError, {}, errno};
    if (const int r = udev_enumerate_add_match_subsystem(en.get(), kSubsystem); r < 0) {
      return DirRead{status_of(-r), {}, -r};
    }
    if (const int r = udev_enumerate_scan_devices(en.get()); r < 0) {
      // One broken unit (a symlink loop, say) fails the whole scan. The class directory
      // still lists every unit, and each bad one then fails on its own, as with the
      // directory backend.
      return dir_->list_dir("sys/class/iommu");
    }
    std::map<std::string, EntryType> names;
    udev_list_entry* entry = nullptr;
    udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(en.get())) {
      DevicePtr dev(udev_device_new_from_syspath(udev_.get(), udev_list_entry_get_name(entry)));
      if (!dev) continue;  // removed since the scan
      const char* sysname = udev_device_get_sysname(dev.get());
      if (sysname == nullptr) continue;
      // /sys/class/iommu/<name> is always a class symlink, as the directory backend shows it.
      names.emplace(sysname, EntryType::kLink);
      Lookup& slot = devices_[sysname];
      if (!slot.dev) slot = Lookup{std::move(dev), 0};
    }
    if (names.empty()) {
      // libudev cannot tell "no class directory" from "an empty one"; the directory can.
      DirRead dir = dir_->list_dir("sys/class/iommu");
      if (!dir.ok()) return dir;
    }
    return DirRead{ReadStatus::kOk, to_entries(names), 0};
  }

  FileRead read_unit_file(std::string_view unit, std::string_view path,
                          std::size_t limit) override {
    const std::optional<std::string> attr = normalize(path);
    if (!attr) return FileRead{ReadStatus::kEscapes, {}, EXDEV};
    if (attr->empty()) return FileRead{ReadStatus::kNotRegular, {}, EISDIR};
    const Lookup& lookup = device(unit);
    if (!lookup.dev) return FileRead{status_of(lookup.error), {}, lookup.error};
    // sd-device opens attributes in blocking mode and reads them whole: a FIFO would hang
    // forever and a huge file would be read into memory. Look first (stat is redirected by
    // umockdev like the rest). Sysfs attributes report a size of one page.
    struct stat st {};
    const std::string abs = "/" + unit_path(unit, *attr);
    if (::stat(abs.c_str(), &st) != 0) return FileRead{status_of(errno), {}, errno};
    if (!S_ISREG(st.st_mode)) return FileRead{ReadStatus::kNotRegular, {}, 0};
    static const long page = sysconf(_SC_PAGESIZE);  // 64 KiB on some arm64 kernels
    if (static_cast<uint64_t>(st.st_size) > limit && st.st_size > page) {
      return FileRead{ReadStatus::kTooLarge, {}, 0};
    }
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

  /// From the sysattr list, which holds every readable file and symlink below the device,
  /// recursively ("intel-iommu/cap", "devices/0000:00:02.0"). A name with more components
  /// after `path` is a kDir, anything else a kFile: the list cannot tell symlinks from files,
  /// and it leaves out directories with no readable file and child devices' directories.
  DirRead list_unit_dir(std::string_view unit, std::string_view path) override {
    const std::optional<std::string> dir = normalize(path);
    if (!dir) return DirRead{ReadStatus::kEscapes, {}, EXDEV};
    const Lookup& lookup = device(unit);
    if (!lookup.dev) return DirRead{status_of(lookup.error), {}, lookup.error};
    const std::string prefix = dir->empty() ? std::string() : *dir + "/";
    std::map<std::string, EntryType> names;
    udev_list_entry* entry = nullptr;
    udev_list_entry_foreach(entry, udev_device_get_sysattr_list_entry(lookup.dev.get())) {
      const std::string_view name = udev_list_entry_get_name(entry);
      if (name == *dir) return DirRead{ReadStatus::kNotRegular, {}, ENOTDIR};
      if (name.substr(0, prefix.size()) != prefix) continue;
      const std::string_view rest = name.substr(prefix.size());
      const std::size_t slash = rest.find('/');
      const EntryType type = slash == std::string_view::npos ? EntryType::kFile : EntryType::kDir;
      auto [it, added] = names.emplace(std::string(rest.substr(0, slash)), type);
      if (!added && type == EntryType::kDir) it->second = EntryType::kDir;
    }
    if (names.empty() && !dir->empty()) {
      // Nothing listed: an empty directory (a unit's "devices" often is) or no directory.
      DirRead real = dir_->list_dir(unit_path(unit, *dir));
      if (!real.ok()) return real;
    }
    return DirRead{ReadStatus::kOk, to_entries(names), 0};
  }

  FileRead read_file(std::string_view path, std::size_t limit) override {
    return dir_->read_file(path, limit);
  }
  DirRead list_dir(std::string_view path) override { return dir_->list_dir(path); }
  LinkRead read_link(std::string_view path) override { return dir_->read_link(path); }

 private:
  /// A unit's device, or the errno of looking it up; both are cached.
  struct Lookup {
    DevicePtr dev;
    int error = 0;
  };

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
  std::unique_ptr<Source> dir_;  // "/" for everything that is not a unit attribute
  std::map<std::string, Lookup, std::less<>> devices_;
  std::string root_ = "/";
};

}  // namespace

Result<std::unique_ptr<Source>> open_udev_source() {
  Result<std::unique_ptr<Source>> dir = open_dir_source("/");
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
