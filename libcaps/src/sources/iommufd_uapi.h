// SPDX-License-Identifier: MIT
// The few kernel uapi definitions the iommufd source needs, written out here because the build
// machines' headers (Debian 12: linux-libc-dev 6.1) predate them. Layouts and numbers are the
// kernel's, from include/uapi/linux/iommufd.h and include/uapi/linux/vfio.h (read at Linux
// 6.15-6.18 and linux-next; each member notes the release that added it). The ioctl numbers are
// _IO(type, nr) with no size encoded: the structures grow by their leading size/argsz member
// and the kernel copies them with copy_struct_from_user() (smaller: zero-filled; larger: the
// tail must be zero, else E2BIG).
#pragma once

#include <cstddef>
#include <cstdint>

#include <sys/ioctl.h>

namespace caps::uapi {

// --- include/uapi/linux/iommufd.h ----------------------------------------------------------

inline constexpr unsigned kIommufdType = ';';          // IOMMUFD_TYPE
inline constexpr unsigned kIommufdCmdGetHwInfo = 0x8a;  // IOMMUFD_CMD_GET_HW_INFO (6.6)
/// IOMMU_GET_HW_INFO = _IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO).
inline constexpr unsigned long kIommuGetHwInfo = _IO(kIommufdType, kIommufdCmdGetHwInfo);

/// struct iommu_hw_info. v6.6 (commit "iommufd: Add IOMMU_GET_HW_INFO"): size .. out_data_type
/// and a u32 __reserved, 32 bytes, which is also the smallest size the kernel accepts
/// (IOCTL_OP(..., __reserved) in drivers/iommu/iommufd/main.c; smaller: EINVAL).
/// v6.7 ("iommufd: Add capabilities to IOMMU_GET_HW_INFO", dirty tracking series): out_capabilities,
/// 40 bytes. v6.15 ("iommufd: Extend IOMMU_GET_HW_INFO to report PASID capability"): the first
/// byte of __reserved became out_max_pasid_log2, and IOMMU_HW_CAP_PCI_PASID_EXEC/PRIV were added;
/// the size stays 40. v6.17: IOMMU_HW_INFO_FLAG_INPUT_TYPE turns out_data_type into an in/out
/// `data_type` (same offset); this source never sets the flag.
struct IommuHwInfo {
  uint32_t size;
  uint32_t flags;
  uint32_t dev_id;
  uint32_t data_len;
  uint64_t data_uptr;
  uint32_t out_data_type;
  uint8_t out_max_pasid_log2;  // v6.15; __reserved before, which older kernels return as 0
  uint8_t reserved[3];
  uint64_t out_capabilities;  // v6.7
};
static_assert(sizeof(IommuHwInfo) == 40);
static_assert(offsetof(IommuHwInfo, out_capabilities) == 32);
/// The v6.6 size: what a kernel before 6.7 reads and writes back.
inline constexpr uint32_t kIommuHwInfoSizeV66 = 32;
/// The smallest size any kernel accepts (offsetofend(struct iommu_hw_info, __reserved)).
inline constexpr uint32_t kIommuHwInfoMinSize = 32;

/// enum iommufd_hw_capabilities.
inline constexpr uint64_t kHwCapDirtyTracking = 1u << 0;  // IOMMU_HW_CAP_DIRTY_TRACKING, v6.7
inline constexpr uint64_t kHwCapPciPasidExec = 1u << 1;   // IOMMU_HW_CAP_PCI_PASID_EXEC, v6.15
inline constexpr uint64_t kHwCapPciPasidPriv = 1u << 2;   // IOMMU_HW_CAP_PCI_PASID_PRIV, v6.15

/// enum iommu_hw_info_type.
inline constexpr uint32_t kHwInfoTypeNone = 0;            // IOMMU_HW_INFO_TYPE_NONE, v6.6
inline constexpr uint32_t kHwInfoTypeIntelVtd = 1;        // IOMMU_HW_INFO_TYPE_INTEL_VTD, v6.6
inline constexpr uint32_t kHwInfoTypeArmSmmuv3 = 2;       // IOMMU_HW_INFO_TYPE_ARM_SMMUV3, v6.14
inline constexpr uint32_t kHwInfoTypeTegra241Cmdqv = 3;   // ..._TEGRA241_CMDQV, v6.17
inline constexpr uint32_t kHwInfoTypeAmd = 4;             // IOMMU_HW_INFO_TYPE_AMD, after v6.17

/// struct iommu_hw_info_vtd (v6.6): flags (IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17), the unit's
/// CAP_REG and ECAP_REG as the driver read them (drivers/iommu/intel/iommu.c
/// intel_iommu_hw_info()).
struct IommuHwInfoVtd {
  uint32_t flags;
  uint32_t reserved;
  uint64_t cap_reg;
  uint64_t ecap_reg;
};
static_assert(sizeof(IommuHwInfoVtd) == 24);

/// struct iommu_hw_info_arm_smmuv3 (v6.14): IDR0..IDR5, IIDR, AIDR as the SMMU reports them
/// (arm_smmu_hw_info() in drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-iommufd.c).
struct IommuHwInfoArmSmmuv3 {
  uint32_t flags;
  uint32_t reserved;
  uint32_t idr[6];
  uint32_t iidr;
  uint32_t aidr;
};
static_assert(sizeof(IommuHwInfoArmSmmuv3) == 40);

// --- include/uapi/linux/vfio.h -------------------------------------------------------------

inline constexpr unsigned kVfioType = ';';  // VFIO_TYPE
inline constexpr unsigned kVfioBase = 100;  // VFIO_BASE
/// VFIO_DEVICE_BIND_IOMMUFD = _IO(VFIO_TYPE, VFIO_BASE + 18), v6.6 (CONFIG_VFIO_DEVICE_CDEV).
inline constexpr unsigned long kVfioDeviceBindIommufd = _IO(kVfioType, kVfioBase + 18);

/// struct vfio_device_bind_iommufd as of v6.6: argsz, flags, iommufd, out_devid (16 bytes; the
/// kernel's minsz). v6.17 appended `__aligned_u64 token_uuid_ptr` with
/// VFIO_DEVICE_BIND_FLAG_TOKEN for SR-IOV VF tokens; this source sends the 16-byte form, which
/// every kernel accepts, and a PF or VF that needs a token refuses the bind (no facts, a reason).
struct VfioDeviceBindIommufd {
  uint32_t argsz;
  uint32_t flags;
  int32_t iommufd;
  uint32_t out_devid;
};
static_assert(sizeof(VfioDeviceBindIommufd) == 16);

}  // namespace caps::uapi
