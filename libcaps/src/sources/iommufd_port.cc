// SPDX-License-Identifier: MIT
// The iommufd ports: the kernel's system calls, and a replay of recorded answers that behaves
// as the kernel does with the structures' sizes (include/uapi/linux/iommufd.h "General ioctl
// format"; copy_struct_from_user() and iommufd_ucmd_respond() in drivers/iommu/iommufd/main.c).
#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "libcaps/iommufd.h"
#include "sources/iommufd_uapi.h"

namespace caps {
namespace {

class KernelPort final : public IommufdPort {
 public:
  std::string_view name() const override { return "kernel"; }
  int open(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY);
    return fd < 0 ? -errno : fd;
  }
  int ioctl(int handle, unsigned long request, void* arg) override {
    int rc;
    do {
      rc = ::ioctl(handle, request, arg);
    } while (rc < 0 && errno == EINTR);
    return rc < 0 ? -errno : 0;
  }
  void close(int handle) override { ::close(handle); }
};

constexpr int kIommuHandle = 1000;
constexpr int kDeviceHandle = 2000;
constexpr std::string_view kCdevDir = "/dev/vfio/devices/";

class ReplayPort final : public IommufdPort {
 public:
  explicit ReplayPort(ReplayKernel kernel)
      : kernel_(std::move(kernel)), bound_(kernel_.devices.size(), false) {}

  std::string_view name() const override { return "replay"; }

  int open(const std::string& path) override {
    if (path == "/dev/iommu") return kernel_.iommu_open_error ? -kernel_.iommu_open_error : kIommuHandle;
    if (!path.starts_with(kCdevDir)) return -ENOENT;
    const std::string_view cdev = std::string_view(path).substr(kCdevDir.size());
    for (std::size_t i = 0; i < kernel_.devices.size(); ++i) {
      const ReplayDevice& d = kernel_.devices[i];
      if (d.cdev != cdev) continue;
      if (d.open_error) return -d.open_error;
      return kDeviceHandle + static_cast<int>(i);
    }
    return -ENOENT;
  }

  int ioctl(int handle, unsigned long request, void* arg) override {
    if (request == uapi::kVfioDeviceBindIommufd) return bind(handle, arg);
    if (request == uapi::kIommuGetHwInfo) return hw_info(handle, arg);
    return -ENOTTY;
  }

  void close(int handle) override {
    // Closing a device file unbinds it (vfio_device_fops_release -> vfio_df_unbind_iommufd).
    if (const ReplayDevice* d = device(handle)) bound_[index(handle)] = false, (void)d;
  }

 private:
  std::size_t index(int handle) const { return static_cast<std::size_t>(handle - kDeviceHandle); }
  const ReplayDevice* device(int handle) const {
    if (handle < kDeviceHandle || index(handle) >= kernel_.devices.size()) return nullptr;
    return &kernel_.devices[index(handle)];
  }

  int bind(int handle, void* arg) {
    const ReplayDevice* d = device(handle);
    if (!d) return -ENOTTY;  // /dev/iommu has no VFIO ioctls
    uapi::VfioDeviceBindIommufd bind{};
    std::memcpy(&bind.argsz, arg, sizeof bind.argsz);
    // vfio_df_ioctl_bind_iommufd(): argsz below minsz or unknown flags are EINVAL.
    if (bind.argsz < sizeof bind) return -EINVAL;
    std::memcpy(&bind, arg, sizeof bind);
    if (bind.flags != 0) return -EINVAL;
    if (bind.iommufd != kIommuHandle) return -EBADF;
    if (d->bind_error) return -d->bind_error;
    if (bound_[index(handle)]) return -EINVAL;  // already bound through this file
    bound_[index(handle)] = true;
    bind.out_devid = d->dev_id;
    std::memcpy(arg, &bind, sizeof bind);
    return 0;
  }

  int hw_info(int handle, void* arg) {
    if (handle != kIommuHandle) return -ENOTTY;  // a VFIO device has no iommufd ioctls
    uint32_t user_size = 0;
    std::memcpy(&user_size, arg, sizeof user_size);
    if (user_size < uapi::kIommuHwInfoMinSize) return -EINVAL;
    uapi::IommuHwInfo cmd{};
    std::memcpy(&cmd, arg, std::min<std::size_t>(user_size, sizeof cmd));
    const ReplayDevice* d = nullptr;
    for (std::size_t i = 0; i < kernel_.devices.size(); ++i) {
      if (bound_[i] && kernel_.devices[i].dev_id == cmd.dev_id) d = &kernel_.devices[i];
    }
    if (!d) return -ENOENT;
    // Bytes of the caller's structure beyond what this kernel knows must be zero.
    const auto* bytes = static_cast<const unsigned char*>(arg);
    for (uint32_t i = d->kernel_size; i < user_size; ++i) {
      if (bytes[i] != 0) return -E2BIG;
    }
    if (cmd.flags != 0 || cmd.reserved[0] || cmd.reserved[1] || cmd.reserved[2]) {
      return -EOPNOTSUPP;
    }
    if (d->hw_info_error) return -d->hw_info_error;
    // The vendor data: at most the caller's length, zero-filled up to it; data_len becomes the
    // kernel's own length.
    if (cmd.data_len != 0) {
      if (cmd.data_uptr == 0) return -EFAULT;  // copy_to_user() to NULL
      auto* out = reinterpret_cast<unsigned char*>(static_cast<uintptr_t>(cmd.data_uptr));
      const std::size_t copied = std::min<std::size_t>(cmd.data_len, d->data.size());
      std::copy_n(d->data.begin(), copied, out);
      std::fill(out + copied, out + cmd.data_len, 0);
    }
    cmd.data_len = static_cast<uint32_t>(d->data.size());
    cmd.out_data_type = d->data_type;
    cmd.out_max_pasid_log2 = d->max_pasid_log2;  // __reserved (0) before 6.15
    cmd.out_capabilities = d->capabilities;
    std::memcpy(arg, &cmd, std::min<std::size_t>({user_size, d->kernel_size, sizeof cmd}));
    return 0;
  }

  ReplayKernel kernel_;
  std::vector<bool> bound_;
};

constexpr std::pair<int, std::string_view> kErrnoNames[] = {
    {EPERM, "EPERM"},   {ENOENT, "ENOENT"}, {EIO, "EIO"},       {EBADF, "EBADF"},
    {ENOMEM, "ENOMEM"}, {EACCES, "EACCES"}, {EFAULT, "EFAULT"}, {EBUSY, "EBUSY"},
    {ENODEV, "ENODEV"}, {EINVAL, "EINVAL"}, {ENOTTY, "ENOTTY"}, {E2BIG, "E2BIG"},
    {ENXIO, "ENXIO"},   {EOPNOTSUPP, "EOPNOTSUPP"}, {EOVERFLOW, "EOVERFLOW"},
};

std::optional<int> errno_of(std::string_view name) {
  if (name == "OK" || name == "0") return 0;
  for (const auto& [value, text] : kErrnoNames) {
    if (text == name) return value;
  }
  return std::nullopt;
}

std::optional<uint64_t> number(std::string_view text) {
  int base = 10;
  if (text.starts_with("0x")) {
    text.remove_prefix(2);
    base = 16;
  }
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::vector<uint8_t>> hex_bytes(std::string_view text) {
  if (text == "-") return std::vector<uint8_t>{};
  if (text.size() % 2 != 0) return std::nullopt;
  std::vector<uint8_t> bytes;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    uint8_t b = 0;
    const auto [end, ec] = std::from_chars(text.data() + i, text.data() + i + 2, b, 16);
    if (ec != std::errc() || end != text.data() + i + 2) return std::nullopt;
    bytes.push_back(b);
  }
  return bytes;
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < line.size()) {
    const std::size_t start = line.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) break;
    const std::size_t stop = std::min(line.find_first_of(" \t", start), line.size());
    out.push_back(line.substr(start, stop - start));
    pos = stop;
  }
  return out;
}

}  // namespace

std::string errno_name(int error) {
  for (const auto& [value, text] : kErrnoNames) {
    if (value == error) return std::string(text);
  }
  return "errno " + std::to_string(error);
}

std::unique_ptr<IommufdPort> kernel_iommufd_port() { return std::make_unique<KernelPort>(); }

std::unique_ptr<IommufdPort> replay_iommufd_port(ReplayKernel kernel) {
  return std::make_unique<ReplayPort>(std::move(kernel));
}

Result<ReplayKernel> parse_iommufd_replay(std::string_view text, std::string_view file) {
  ReplayKernel kernel;
  int line_number = 0;
  auto fail = [&](const std::string& message) -> Result<ReplayKernel> {
    return tl::unexpected(Error{std::string(file), message, {line_number, 0}});
  };
  while (!text.empty()) {
    ++line_number;
    const std::size_t newline = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(std::min(newline + 1, text.size()));
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    const std::vector<std::string_view> w = words(line);
    if (w.empty()) continue;
    std::size_t first = 1;
    ReplayDevice device;
    if (w[0] == "device") {
      if (w.size() < 2 || !w[1].starts_with("vfio")) {
        return fail("expected `device vfioN key=value ...`");
      }
      device.cdev = std::string(w[1]);
      first = 2;
    } else if (w[0] != "iommu") {
      return fail("expected `iommu` or `device`, got `" + std::string(w[0]) + "`");
    }
    for (std::size_t i = first; i < w.size(); ++i) {
      const std::size_t eq = w[i].find('=');
      if (eq == std::string_view::npos) return fail("expected key=value, got `" + std::string(w[i]) + "`");
      const std::string_view key = w[i].substr(0, eq);
      const std::string_view value = w[i].substr(eq + 1);
      auto bad = [&] { return fail("bad value for " + std::string(key) + ": `" + std::string(value) + "`"); };
      if (w[0] == "iommu") {
        if (key != "open") return fail("unknown key " + std::string(key) + " (iommu has open=)");
        const std::optional<int> e = errno_of(value);
        if (!e) return bad();
        kernel.iommu_open_error = *e;
        continue;
      }
      if (key == "open" || key == "bind" || key == "hw_info") {
        const std::optional<int> e = errno_of(value);
        if (!e) return bad();
        (key == "open" ? device.open_error : key == "bind" ? device.bind_error : device.hw_info_error) = *e;
      } else if (key == "data") {
        std::optional<std::vector<uint8_t>> bytes = hex_bytes(value);
        if (!bytes || bytes->size() > 4096) return bad();
        device.data = std::move(*bytes);
      } else {
        const std::optional<uint64_t> n = number(value);
        if (!n) return bad();
        if (key == "dev_id" && *n <= UINT32_MAX) {
          device.dev_id = static_cast<uint32_t>(*n);
        } else if (key == "size" && *n >= 8 && *n <= 4096) {
          device.kernel_size = static_cast<uint32_t>(*n);
        } else if (key == "type" && *n <= UINT32_MAX) {
          device.data_type = static_cast<uint32_t>(*n);
        } else if (key == "caps") {
          device.capabilities = *n;
        } else if (key == "pasid_log2" && *n <= 255) {
          device.max_pasid_log2 = static_cast<uint8_t>(*n);
        } else if (key == "dev_id" || key == "size" || key == "type" || key == "pasid_log2") {
          return bad();
        } else {
          return fail("unknown key " + std::string(key));
        }
      }
    }
    if (w[0] == "device") kernel.devices.push_back(std::move(device));
  }
  return kernel;
}

}  // namespace caps
