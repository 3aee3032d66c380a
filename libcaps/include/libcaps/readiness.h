// SPDX-License-Identifier: MIT
// Host readiness for device assignment: the checks `iommu-probe --check` prints, one line each,
// in the manner of virt-host-validate but from everything libcaps knows about the host.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libcaps/model.h"
#include "libcaps/source.h"

namespace caps {

/// Ordered: the worst status of a run decides its exit code.
enum class CheckStatus { kPass, kWarn, kFail };
std::string_view to_string(CheckStatus status);  // "pass", "warn", "fail"

/// One line of a readiness run.
struct ReadinessCheck {
  std::string id;     // stable: "firmware", "kernel", "interrupt-remapping", "units", ...
  std::string title;  // "IOMMU in firmware"
  CheckStatus status = CheckStatus::kPass;
  std::string detail;  // what was found, values named
  std::string hint;    // what to change; empty on pass

  bool operator==(const ReadinessCheck&) const = default;
};

/// Whether a kernel facility is there, and the file that says so. `present` is nullopt when
/// the tree does not record it (a snapshot without sys/module or sys/class/misc).
struct Facility {
  std::optional<bool> present;
  std::string evidence;  // "sys/bus/pci/drivers/vfio-pci", "no sys/module in the tree"

  bool operator==(const Facility&) const = default;
};

/// The facts readiness needs beyond the capability model, read from the same tree.
struct AssignmentSupport {
  Facility vfio_pci;  // the vfio-pci driver is registered
  Facility iommufd;   // /dev/iommu (the iommufd misc device) exists

  bool operator==(const AssignmentSupport&) const = default;
};

/// Reads sys/bus/pci/drivers/vfio-pci, sys/module and sys/class/misc/iommu under the source's
/// root. `kernel_release` (Platform::kernel_release) tells a kernel older than iommufd.
AssignmentSupport read_assignment_support(Source& source,
                                          const std::optional<std::string>& kernel_release);

/// The checks, in a fixed order: firmware, kernel, interrupt-remapping, units, groups,
/// vfio-pci, iommufd, isolation. Pure.
std::vector<ReadinessCheck> check_readiness(const Host& host, const AssignmentSupport& support);

/// The host's isolation posture: one finding (a ReadinessCheck that never passes) for each
/// weakness the tree shows, in a fixed order of ids: "identity-domain" (groups whose default
/// domain is identity, and the iommu=pt / iommu.passthrough=1 behind them), "acs-override"
/// (pcie_acs_override on the command line), "cmdline-unknown" (IOMMU options the kernel's
/// parsers do not accept, like amd_iommu=on), "cmdline-ignored" (options of a driver or an
/// architecture the host does not have), "shared-group" (endpoints sharing a group: no ACS
/// between them), "interrupt-remapping-off" (units that do not remap interrupts) and
/// "unsafe-interrupts" (allow_unsafe_interrupts set). None when the posture is clean. Pure;
/// docs/readiness.md cites the kernel code each one follows.
std::vector<ReadinessCheck> check_posture(const Host& host);

/// The worst status of `checks` (kPass for none).
CheckStatus worst_status(const std::vector<ReadinessCheck>& checks);

}  // namespace caps
