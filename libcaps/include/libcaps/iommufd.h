// SPDX-License-Identifier: MIT
// The iommufd source: asks the kernel what each IOMMU serving a vfio-pci function can do
// (IOMMU_GET_HW_INFO), the way QEMU and other VMMs do before they build a vIOMMU. docs/iommufd.md.
//
// For each PCI function bound to vfio-pci with a vfio cdev (sys/bus/pci/devices/<bdf>/vfio-dev/
// vfioN): open /dev/iommu, open /dev/vfio/devices/vfioN, VFIO_DEVICE_BIND_IOMMUFD,
// IOMMU_GET_HW_INFO, close both. No IOAS, no domain and no mapping is made; closing the device
// file unbinds it. The system calls go through an IommufdPort: the kernel's, or recorded
// answers replayed (tests, and hosts recorded elsewhere).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libcaps/model.h"
#include "libcaps/result.h"
#include "libcaps/source.h"

namespace caps {

/// The system calls the iommufd source makes, and nothing else.
class IommufdPort {
 public:
  virtual ~IommufdPort() = default;
  /// "kernel" or "replay".
  virtual std::string_view name() const = 0;
  /// open(path, O_RDWR | O_CLOEXEC): a handle >= 0, or -errno.
  virtual int open(const std::string& path) = 0;
  /// ioctl(handle, request, arg): 0, or -errno. `arg` points at the request's structure.
  virtual int ioctl(int handle, unsigned long request, void* arg) = 0;
  virtual void close(int handle) = 0;
};

/// The kernel's system calls.
std::unique_ptr<IommufdPort> kernel_iommufd_port();

/// One device's recorded answers, as a kernel of that era gives them.
struct ReplayDevice {
  std::string cdev;       // "vfio0": opened as /dev/vfio/devices/vfio0
  int open_error = 0;     // errno of open(2), 0 = opens
  int bind_error = 0;     // errno of VFIO_DEVICE_BIND_IOMMUFD
  uint32_t dev_id = 1;    // out_devid
  int hw_info_error = 0;  // errno of IOMMU_GET_HW_INFO
  /// sizeof(struct iommu_hw_info) of the recorded kernel: 32 (6.6) or 40 (6.7 and later). The
  /// replay fills only that much of the caller's structure, as copy_struct_from_user() and
  /// iommufd_ucmd_respond() do, and refuses a caller's structure smaller than 32 (EINVAL) or
  /// with non-zero bytes the kernel does not know (E2BIG).
  uint32_t kernel_size = 40;
  uint32_t data_type = 0;
  std::vector<uint8_t> data;  // the vendor structure, as the kernel copies it out
  uint64_t capabilities = 0;
  uint8_t max_pasid_log2 = 0;
};

/// A recorded host's answers.
struct ReplayKernel {
  int iommu_open_error = 0;  // errno of opening /dev/iommu
  std::vector<ReplayDevice> devices;
};

/// A port that answers from `kernel` and never touches the machine.
std::unique_ptr<IommufdPort> replay_iommufd_port(ReplayKernel kernel);

/// Reads a replay file (docs/iommufd.md#replay-files): `iommu open=OK|E...` and one
/// `device vfioN key=value ...` line per device; `#` starts a comment.
Result<ReplayKernel> parse_iommufd_replay(std::string_view text, std::string_view file);

/// Asks iommufd about every vfio-pci function of `host` that has a vfio cdev under `source`,
/// through `port`, and records the answers: each device's `iommufd`, the serving unit's
/// `iommufd` (the first device that answered for it; VT-d registers decoded and compared with
/// sysfs), unknown `caps.dirty_tracking` filled from IOMMU_HW_CAP_DIRTY_TRACKING, and
/// `host.iommufd` (asked, or unavailable and why). The kernel release (host.platform) decides
/// which fields of struct iommu_hw_info the kernel filled.
void probe_iommufd(Host& host, Source& source, IommufdPort& port);

/// The names errno values get in replay files and reasons ("EPERM"); "errno <n>" otherwise.
std::string errno_name(int error);

}  // namespace caps
