// SPDX-License-Identifier: MIT
// The backend.* rules: what the guest's [vfio] section (the VMM's device-assignment backend,
// migration, a confidential guest) needs of the host, and which of its needs only iommufd
// meets. Each rule cites the kernel or QEMU code it mirrors (docs/rules.md).
#include "check_rules.h"

#include "libcaps/parse.h"

namespace caps::rules {
namespace {

constexpr uint64_t kCapDirtyTracking = 1u << 0;  // IOMMU_HW_CAP_DIRTY_TRACKING (iommufd.h)

bool is_iommufd(const GuestVfio& vfio) { return vfio.backend && vfio.backend->value == "iommufd"; }
bool is_legacy(const GuestVfio& vfio) { return vfio.backend && vfio.backend->value == "legacy"; }

SourcePos backend_pos(const GuestVfio& vfio) {
  return vfio.backend ? vfio.backend->pos : vfio.pos;
}

std::string device_key(size_t index) { return "device[" + std::to_string(index) + "].bdf"; }

const std::string kUseIommufd =
    "use the iommufd backend ([vfio] backend = \"iommufd\"; QEMU -object iommufd,id=iommufd0 "
    "and iommufd=iommufd0 on each vfio-pci; libvirt <iommufd enabled='yes'/>)";

/// backend.host: an iommufd backend needs /dev/iommu (CONFIG_IOMMUFD, 6.2) and vfio device
/// cdevs (CONFIG_VFIO_DEVICE_CDEV, 6.6): QEMU's iommufd backend opens /dev/iommu
/// (backends/iommufd.c iommufd_backend_connect()) and each device's /dev/vfio/devices/vfioN
/// (hw/vfio/iommufd.c iommufd_cdev_getfd()).
void backend_host(const Context& ctx, Sink& out) {
  const std::optional<GuestVfio>& vfio = ctx.guest.vfio;
  if (!vfio || !is_iommufd(*vfio)) return;
  const SourcePos pos = backend_pos(*vfio);
  const Host& host = ctx.host;
  std::optional<KernelVersion> kernel;
  if (host.platform.kernel_release) kernel = parse_kernel_version(*host.platform.kernel_release);
  const IommufdStatus& s = host.iommufd;
  if (s.state == "asked") {
    out.add(Outcome::kPass, [&] {
      return said("vfio.backend", pos, "", "host: iommufd answered (" + s.via + ")",
                  "the host has iommufd and vfio device cdevs");
    });
    return;
  }
  std::string why;
  if (kernel && *kernel < KernelVersion{6, 6}) {
    why = "kernel " + *host.platform.kernel_release +
          (*kernel < KernelVersion{6, 2} ? " predates iommufd (6.2)"
                                         : " predates vfio device cdevs (6.6)");
  } else if (s.reason.starts_with("no /dev/iommu") || s.reason.find("none with a vfio cdev") !=
                                                          std::string::npos) {
    why = s.reason;
  }
  if (!why.empty()) {
    out.add(Outcome::kFail, [&] {
      return said("vfio.backend", pos, "", "host: " + why,
                  "the iommufd backend needs /dev/iommu and vfio device cdevs, which this host "
                  "lacks",
                  "use a kernel of 6.6 or later with CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV, "
                  "or [vfio] backend = \"legacy\"");
    });
    return;
  }
  out.add(Outcome::kUnknown, [&] {
    return said("vfio.backend", pos, "",
                "host: iommufd " + s.state + (s.reason.empty() ? "" : ": " + s.reason),
                "whether the host has iommufd is not known",
                "probe the host as root with a device bound to vfio-pci (iommu-probe --iommufd "
                "on)");
  });
}

/// backend.nested: a nested (or accelerated) vIOMMU needs iommufd. Nesting is a user stage-1
/// HWPT on a nesting-parent HWPT (IOMMU_HWPT_ALLOC with IOMMU_HWPT_ALLOC_NEST_PARENT,
/// drivers/iommu/iommufd/hw_pagetable.c); the type1 container has no nesting since
/// VFIO_TYPE1_NESTING_IOMMU was removed (drivers/vfio/vfio_iommu_type1.c, Linux 6.6). QEMU
/// builds accelerated vIOMMUs only on an iommufd backend (hw/arm/smmuv3-accel.c,
/// hw/i386/intel_iommu_accel.c).
void backend_nested(const Context& ctx, Sink& out) {
  const std::optional<GuestVfio>& vfio = ctx.guest.vfio;
  const std::optional<Located<bool>>& nested = ctx.guest.viommu.nested;
  if (!vfio || !vfio->backend || !nested || !nested->value || ctx.guest.devices.empty()) return;
  if (is_iommufd(*vfio)) {
    out.add(Outcome::kPass, [&] {
      return said("vfio.backend", backend_pos(*vfio), "", "guest: nested = true, backend iommufd",
                  "nested translation through iommufd");
    });
    return;
  }
  out.add(Outcome::kFail, [&] {
    return said("vfio.backend", backend_pos(*vfio), "", "guest: nested = true, backend legacy",
                "a nested vIOMMU over assigned devices needs iommufd: the legacy VFIO container "
                "has no nesting",
                kUseIommufd);
  });
}

/// backend.dirty_tracking: migrating a VM with assigned devices by IOMMU dirty tracking needs
/// iommufd and a device whose IOMMU tracks dirty pages: IOMMU_HWPT_ALLOC_DIRTY_TRACKING is
/// refused (EOPNOTSUPP) without IOMMU_CAP_DIRTY_TRACKING (iommufd_hwpt_paging_alloc(),
/// drivers/iommu/iommufd/hw_pagetable.c), which IOMMU_GET_HW_INFO reports as
/// IOMMU_HW_CAP_DIRTY_TRACKING; QEMU asks for it only on an iommufd backend
/// (hw/vfio/iommufd.c, iommufd_cdev_autodomains_get()). The type1 container's dirty log
/// (VFIO_IOMMU_DIRTY_PAGES, drivers/vfio/vfio_iommu_type1.c) reports every pinned page dirty.
void backend_dirty_tracking(const Context& ctx, Sink& out) {
  const std::optional<GuestVfio>& vfio = ctx.guest.vfio;
  if (!vfio || !vfio->migration || !vfio->migration->value) return;
  const SourcePos pos = vfio->migration->pos;
  if (!is_iommufd(*vfio)) {
    out.add(Outcome::kWarn, [&] {
      return said("vfio.migration", pos, "",
                  "guest: migration = true, backend " +
                      (vfio->backend ? vfio->backend->value : std::string("not given")),
                  "without iommufd the legacy container reports every pinned page dirty: "
                  "migration copies all guest memory assigned devices can reach",
                  kUseIommufd);
    });
    return;
  }
  for (size_t i = 0; i < ctx.guest.devices.size(); ++i) {
    const Device* device = ctx.devices[i];
    if (device == nullptr) continue;  // device.exists says so
    const std::string& bdf = device->name;
    const SourcePos at = ctx.guest.devices[i].bdf.pos;
    if (device->iommufd && device->iommufd->capabilities) {
      const uint64_t caps = *device->iommufd->capabilities;
      const bool dirty = (caps & kCapDirtyTracking) != 0;
      out.add(dirty ? Outcome::kPass : Outcome::kFail, [&] {
        return said(device_key(i), at, device->unit.value_or(""),
                    "host: " + bdf + " iommufd out_capabilities " + format_hex(caps),
                    dirty ? bdf + ": its IOMMU tracks dirty pages (IOMMU_HW_CAP_DIRTY_TRACKING)"
                          : bdf + ": its IOMMU does not track dirty pages: iommufd refuses "
                                  "IOMMU_HWPT_ALLOC_DIRTY_TRACKING",
                    dirty ? "" : "assign a device behind an IOMMU with dirty tracking, or "
                                 "migrate with the device's own dirty tracking");
      });
      continue;
    }
    const Unit* unit = device->unit ? ctx.index.units.find(*device->unit) : nullptr;
    if (unit && unit->caps.dirty_tracking == false) {
      out.add(Outcome::kFail, [&] {
        return said(device_key(i), at, unit->name,
                    unit_evidence(*unit, "dirty_tracking", unit->caps.dirty_tracking),
                    bdf + ": its IOMMU does not track dirty pages",
                    "assign a device behind an IOMMU with dirty tracking");
      });
      continue;
    }
    out.add(Outcome::kUnknown, [&] {
      return said(device_key(i), at, device->unit.value_or(""),
                  "host: " + bdf + ": iommufd not asked about it",
                  bdf + ": whether its IOMMU tracks dirty pages is not known",
                  "probe the host with iommu-probe --iommufd on, as root");
    });
  }
}

/// backend.pasid: a guest that uses PASIDs on an assigned device needs the device's PASID
/// visible through iommufd: PASID attach exists only on a vfio cdev bound to iommufd
/// (VFIO_DEVICE_ATTACH_IOMMUFD_PT with VFIO_DEVICE_ATTACH_PASID, drivers/vfio/device_cdev.c,
/// 6.15), and iommufd_get_hw_info() (drivers/iommu/iommufd/device.c) reports
/// out_max_pasid_log2 only for a device whose PASID the IOMMU driver enabled
/// (dev->iommu->max_pasids).
void backend_pasid(const Context& ctx, Sink& out) {
  const std::optional<GuestVfio>& vfio = ctx.guest.vfio;
  const std::optional<Located<int>>& ssid = ctx.guest.viommu.ssid_bits;
  if (!vfio || !vfio->backend || !ssid || ssid->value <= 0) return;
  const int need = ssid->value;
  for (size_t i = 0; i < ctx.guest.devices.size(); ++i) {
    const Device* device = ctx.devices[i];
    if (device == nullptr) continue;
    const std::string& bdf = device->name;
    const SourcePos at = ctx.guest.devices[i].bdf.pos;
    if (is_legacy(*vfio)) {
      out.add(Outcome::kFail, [&] {
        return said(device_key(i), at, device->unit.value_or(""),
                    "guest: ssid_bits = " + str(need) + ", backend legacy",
                    bdf + ": PASIDs of an assigned device are attached only through iommufd",
                    kUseIommufd);
      });
      continue;
    }
    if (!device->iommufd || !device->iommufd->max_pasid_log2) {
      out.add(Outcome::kUnknown, [&] {
        return said(device_key(i), at, device->unit.value_or(""),
                    "host: " + bdf + ": " +
                        (device->iommufd && !device->iommufd->error.empty()
                             ? device->iommufd->error
                             : std::string("no out_max_pasid_log2 (not asked, or a kernel "
                                           "before 6.15)")),
                    bdf + ": whether iommufd exposes its PASID is not known",
                    "probe the host with iommu-probe --iommufd on, as root, on 6.15 or later");
      });
      continue;
    }
    const int have = *device->iommufd->max_pasid_log2;
    const bool ok = have >= need;
    out.add(ok ? Outcome::kPass : Outcome::kFail, [&] {
      return said(device_key(i), at, device->unit.value_or(""),
                  "host: " + bdf + " iommufd out_max_pasid_log2 = " + str(have),
                  ok ? bdf + ": iommufd exposes " + str(have) + "-bit PASIDs"
                     : bdf + ": iommufd exposes " + supports(have) + " PASID bits, the guest uses " +
                           str(need),
                  ok ? "" : "lower ssid_bits to " + str(have) +
                                " or assign a device whose PASID the host enables");
    });
  }
}

/// backend.confidential: a confidential guest with assigned devices needs iommufd. Trusted
/// device assignment (TDX Connect, SEV-TIO: TDISP) is built on iommufd's vIOMMU and vDEVICE
/// objects (IOMMU_VIOMMU_ALLOC, IOMMU_VDEVICE_ALLOC in drivers/iommu/iommufd/viommu.c, 6.13);
/// the type1 container has neither.
void backend_confidential(const Context& ctx, Sink& out) {
  const std::optional<GuestVfio>& vfio = ctx.guest.vfio;
  if (!vfio || !vfio->confidential || ctx.guest.devices.empty()) return;
  const std::string& kind = vfio->confidential->value;
  if (is_iommufd(*vfio)) {
    out.add(Outcome::kPass, [&] {
      return said("vfio.confidential", vfio->confidential->pos, "",
                  "guest: confidential = " + kind + ", backend iommufd",
                  "a confidential guest's devices through iommufd");
    });
    return;
  }
  out.add(Outcome::kFail, [&] {
    return said("vfio.confidential", vfio->confidential->pos, "",
                "guest: confidential = " + kind + ", backend " +
                    (vfio->backend ? vfio->backend->value : std::string("not given")),
                "a confidential (" + kind + ") guest's assigned devices need iommufd",
                kUseIommufd);
  });
}

constexpr Rule kRules[] = {
    {"backend.host", backend_host},
    {"backend.nested", backend_nested},
    {"backend.dirty_tracking", backend_dirty_tracking},
    {"backend.pasid", backend_pasid},
    {"backend.confidential", backend_confidential},
};

}  // namespace

std::span<const Rule> backend_rules() { return kRules; }

}  // namespace caps::rules
