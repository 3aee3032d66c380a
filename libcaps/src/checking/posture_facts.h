// SPDX-License-Identifier: MIT
// What the kernel command line and the units say about a host's isolation, shared by the
// posture findings of `iommu-probe --check` (posture.cc), the readiness lines and the posture.*
// rules of iommu-compat (check_rules_posture.cc).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "libcaps/model.h"
#include "text/cmdline.h"

namespace caps::posture {

/// The IOMMU-relevant facts of /proc/cmdline, each with the words that set it.
struct CmdlineFacts {
  bool known = false;  // the tree has a readable proc/cmdline
  std::vector<CmdlineParam> params;
  /// Interrupt remapping disabled for every x86 unit: "intremap=off" or "nointremap"
  /// (drivers/iommu/irq_remapping.c, setup_irqremap() and setup_nointremap(); the last
  /// intremap=on/off wins).
  std::optional<std::string> intremap_off;
  /// "intremap=nosid": remapping without source-id checks (disable_sourceid_checking).
  std::optional<std::string> intremap_nosid;
  /// The word that lets VFIO assign devices without interrupt remapping:
  /// vfio_iommu_type1.allow_unsafe_interrupts or iommufd.allow_unsafe_interrupts, true.
  std::optional<std::string> unsafe_interrupts;
  /// The pcie_acs_override=... word (a patch not in mainline Linux).
  std::optional<std::string> acs_override;
  /// What the command line sets the default domain to: true identity, false translated,
  /// nullopt not set; with the word that decided ("iommu=pt", "iommu.passthrough=1").
  std::optional<bool> passthrough;
  std::string passthrough_source;
};

/// Which architecture's parameters the kernel takes: x86 (a DMAR or IVRS table, or a VT-d or
/// AMD-Vi unit), Arm (IORT or an SMMUv3 unit and nothing x86), or unknown.
enum class Arch { kUnknown, kX86, kArm };
Arch host_arch(const Host& host);

/// Reads the facts from `host.platform.cmdline`; on a host that is not x86, `iommu=` and
/// `intremap=` are not parameters at all (arch/x86/kernel/pci-dma.c, irq_remapping.c) and set
/// nothing.
CmdlineFacts read_cmdline_facts(const Host& host);

/// Whether a unit remaps interrupts as the host runs: nullopt when sysfs cannot tell (SMMUv3,
/// whose MSIs the GIC ITS isolates, virtio-iommu, an unknown model, a VT-d unit without ecap);
/// with the fact: "ecap.IR=0", "intremap=off on the kernel command line".
struct Remapping {
  std::optional<bool> remaps;
  std::string fact;
};
Remapping unit_remapping(const Unit& unit, const CmdlineFacts& cmdline);

/// Whether a device would go to a guest (bridges stay with the host).
inline bool is_endpoint(const Device& device) {
  return !device.pci || device.pci->header_type != 1;
}

}  // namespace caps::posture
