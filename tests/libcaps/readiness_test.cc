// SPDX-License-Identifier: MIT
// Readiness checks on hosts built in memory: every check passing, warning and failing.
#include "libcaps/readiness.h"

#include <gtest/gtest.h>

#include "support/memory_source.h"

namespace caps {
namespace {

Unit unit(std::string name, std::string_view model) {
  Unit u;
  u.name = std::move(name);
  u.model = std::string(model);
  return u;
}

Unit vtd(std::string name, std::optional<bool> ir) {
  Unit u = unit(std::move(name), kModelIntelVtd);
  u.caps.input_bits = 48;
  if (ir) u.extra["interrupt_remapping"] = *ir;
  return u;
}

Group group(uint64_t id, std::string type, std::vector<std::string> devices) {
  Group g;
  g.id = id;
  g.type = std::move(type);
  g.devices = std::move(devices);
  return g;
}

Device device(std::string name, std::optional<uint64_t> group_id,
              std::optional<PciInfo> pci = std::nullopt) {
  Device d;
  d.name = std::move(name);
  d.unit = "dmar0";
  d.group = group_id;
  d.pci = pci;
  return d;
}

/// One Intel unit with interrupt remapping, one translated group of one NIC behind it.
Host ready_host() {
  Host host;
  host.backend = "dir";
  host.root = "/";
  host.units.push_back(vtd("dmar0", true));
  host.groups.push_back(group(7, "DMA-FQ", {"0000:3b:00.0"}));
  host.devices.push_back(device("0000:3b:00.0", 7));
  host.platform.acpi_tables = {"DMAR"};
  host.platform.cmdline = "ro intel_iommu=on";
  return host;
}

const AssignmentSupport kSupported{{true, "sys/bus/pci/drivers/vfio-pci exists"},
                                   {true, "sys/class/misc/iommu exists (/dev/iommu)"}};

const ReadinessCheck& find(const std::vector<ReadinessCheck>& checks, std::string_view id) {
  for (const ReadinessCheck& check : checks) {
    if (check.id == id) return check;
  }
  ADD_FAILURE() << "no check " << id;
  return checks.front();
}

TEST(Readiness, ReadyHostPassesEveryCheckInOrder) {
  const std::vector<ReadinessCheck> checks = check_readiness(ready_host(), kSupported);
  std::vector<std::string> ids;
  for (const ReadinessCheck& check : checks) {
    ids.push_back(check.id);
    EXPECT_EQ(check.status, CheckStatus::kPass) << check.id << ": " << check.detail;
    EXPECT_EQ(check.hint, "") << check.id;
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"firmware", "kernel", "interrupt-remapping", "units",
                                           "groups", "vfio-pci", "iommufd", "isolation"}));
  EXPECT_EQ(find(checks, "interrupt-remapping").detail, "dmar0: ecap.IR=1");
  EXPECT_EQ(find(checks, "isolation").detail, "group domains: 1 DMA-FQ; no posture finding");
  EXPECT_EQ(worst_status(checks), CheckStatus::kPass);
}

TEST(Readiness, NoUnitFailsWithTheReasonsAsHint) {
  Host host = ready_host();
  host.units.clear();
  host.groups.clear();
  host.devices.clear();
  host.platform.why_no_units = {"a", "b"};
  const std::vector<ReadinessCheck> checks = check_readiness(host, kSupported);
  EXPECT_EQ(find(checks, "firmware").status, CheckStatus::kPass);
  const ReadinessCheck& kernel = find(checks, "kernel");
  EXPECT_EQ(kernel.status, CheckStatus::kFail);
  EXPECT_EQ(kernel.hint, "a; b");
  for (std::string_view id : {"interrupt-remapping", "units", "groups", "isolation"}) {
    EXPECT_EQ(find(checks, id).status, CheckStatus::kFail) << id;
  }
  host.platform.acpi_tables.clear();
  EXPECT_EQ(find(check_readiness(host, kSupported), "firmware").status, CheckStatus::kFail);
}

TEST(Readiness, UnitsWithoutAnAcpiTablePassTheFirmwareCheck) {
  Host host = ready_host();
  host.platform.acpi_tables.clear();
  const ReadinessCheck check = find(check_readiness(host, kSupported), "firmware");
  EXPECT_EQ(check.status, CheckStatus::kPass);
  EXPECT_EQ(check.detail,
            "no ACPI DMAR, IVRS, IORT or VIOT table, but the kernel found 1 unit (device tree?)");
}

TEST(Readiness, InterruptRemappingByUnitModel) {
  Host host = ready_host();
  host.units = {vtd("dmar0", true), vtd("dmar1", false), vtd("dmar2", false)};
  ReadinessCheck check = find(check_readiness(host, kSupported), "interrupt-remapping");
  EXPECT_EQ(check.status, CheckStatus::kFail);
  EXPECT_EQ(check.detail, "dmar1, dmar2: ecap.IR=0; dmar0: ecap.IR=1");
  EXPECT_NE(check.hint.find("allow_unsafe_interrupts"), std::string::npos);

  host.units = {vtd("dmar0", std::nullopt)};
  EXPECT_EQ(find(check_readiness(host, kSupported), "interrupt-remapping").status,
            CheckStatus::kWarn);

  host.units = {unit("ivhd0", kModelAmdVi)};
  EXPECT_EQ(find(check_readiness(host, kSupported), "interrupt-remapping").status,
            CheckStatus::kPass);
  host.units = {unit("smmu3.0x0", kModelArmSmmuV3)};
  check = find(check_readiness(host, kSupported), "interrupt-remapping");
  EXPECT_EQ(check.status, CheckStatus::kWarn);
  EXPECT_EQ(check.detail, "smmu3.0x0: MSI isolation is the GIC ITS's");
}

TEST(Readiness, IntremapOffOnTheCommandLineFails) {
  Host host = ready_host();
  host.platform.cmdline = "ro intel_iommu=on intremap=off";
  const ReadinessCheck check = find(check_readiness(host, kSupported), "interrupt-remapping");
  EXPECT_EQ(check.status, CheckStatus::kFail);
  EXPECT_EQ(check.detail, "intremap=off on the kernel command line");
}

TEST(Readiness, UnknownModelAndReadErrorsWarn) {
  Host host = ready_host();
  host.units.push_back(unit("0000:00:01.0", kModelUnknown));
  ReadinessCheck check = find(check_readiness(host, kSupported), "units");
  EXPECT_EQ(check.status, CheckStatus::kWarn);
  EXPECT_EQ(check.detail, "intel-vtd: dmar0; unknown: 0000:00:01.0");

  host = ready_host();
  host.units[0].diagnostics.push_back(
      {"class/iommu/dmar0/intel-iommu/cap", Severity::kError, "garbage"});
  check = find(check_readiness(host, kSupported), "units");
  EXPECT_EQ(check.status, CheckStatus::kWarn);
  EXPECT_EQ(check.detail, "intel-vtd: dmar0; 1 error reading");
}

// SMMUv3 and virtio-iommu units on mainline kernels: the model comes from the unit's name or
// parent driver, but the kernel publishes no capability. That is not "capabilities known".
TEST(Readiness, KnownModelWithoutAnyCapabilityWarns) {
  Host host = ready_host();
  host.units.push_back(unit("smmu3.0x0000000009050000", kModelArmSmmuV3));
  const ReadinessCheck check = find(check_readiness(host, kSupported), "units");
  EXPECT_EQ(check.status, CheckStatus::kWarn);
  EXPECT_EQ(check.detail, "arm-smmu-v3: smmu3.0x0000000009050000; intel-vtd: dmar0");
  EXPECT_NE(check.hint.find("smmu3.0x0000000009050000: the kernel publishes no capability"),
            std::string::npos)
      << check.hint;
}

TEST(Readiness, GroupsMissingOrIncomplete) {
  Host host = ready_host();
  host.devices.push_back(device("0000:3c:00.0", std::nullopt));
  ReadinessCheck check = find(check_readiness(host, kSupported), "groups");
  EXPECT_EQ(check.status, CheckStatus::kWarn);
  EXPECT_EQ(check.detail, "1 group; not in a group: 0000:3c:00.0");

  host = ready_host();
  host.groups[0].devices_known = false;
  EXPECT_EQ(find(check_readiness(host, kSupported), "groups").status, CheckStatus::kWarn);

  host.groups.clear();
  EXPECT_EQ(find(check_readiness(host, kSupported), "groups").status, CheckStatus::kFail);
}

TEST(Readiness, IsolationWarnsOnPassthroughAndSharedGroups) {
  Host host = ready_host();
  host.groups[0].type = "identity";
  ReadinessCheck check = find(check_readiness(host, kSupported), "isolation");
  EXPECT_EQ(check.status, CheckStatus::kWarn);
  // The posture findings name the groups; the line names the findings (posture_test.cc).
  EXPECT_EQ(check.detail, "group domains: 1 identity; posture: identity-domain");
  EXPECT_EQ(check.hint,
            "the posture findings below name the groups, units and options, and what to change");

  // A bridge in the group is not an endpoint; a second NIC is.
  host = ready_host();
  PciInfo bridge;
  bridge.header_type = 1;
  host.devices.push_back(device("0000:3a:00.0", 7, bridge));
  host.groups[0].devices.push_back("0000:3a:00.0");
  EXPECT_EQ(find(check_readiness(host, kSupported), "isolation").status, CheckStatus::kPass);
  host.devices.push_back(device("0000:3b:00.1", 7));
  host.groups[0].devices.push_back("0000:3b:00.1");
  check = find(check_readiness(host, kSupported), "isolation");
  EXPECT_EQ(check.status, CheckStatus::kWarn);
  EXPECT_EQ(check.detail, "group domains: 1 DMA-FQ; posture: shared-group");
}

TEST(Readiness, FacilitiesMissingOrUnknownWarn) {
  const AssignmentSupport missing{{false, "no vfio"}, {std::nullopt, "no misc"}};
  const std::vector<ReadinessCheck> checks = check_readiness(ready_host(), missing);
  EXPECT_EQ(find(checks, "vfio-pci").status, CheckStatus::kWarn);
  EXPECT_EQ(find(checks, "vfio-pci").detail, "no vfio");
  EXPECT_EQ(find(checks, "iommufd").status, CheckStatus::kWarn);
  EXPECT_EQ(find(checks, "iommufd").detail, "unknown: no misc");
  EXPECT_EQ(worst_status(checks), CheckStatus::kWarn);
}

TEST(Readiness, AHostFromAKernelLogNamesTheLogNotSysfs) {
  Host host = ready_host();
  host.backend = "log";
  std::vector<ReadinessCheck> checks = check_readiness(host, kSupported);
  EXPECT_EQ(find(checks, "firmware").detail, "ACPI DMAR in the kernel log");
  EXPECT_EQ(find(checks, "kernel").detail, "1 unit in the kernel log: dmar0");
  host.units.clear();
  host.groups.clear();
  checks = check_readiness(host, kSupported);
  EXPECT_EQ(find(checks, "kernel").detail, "no unit in the kernel log");
  EXPECT_EQ(find(checks, "groups").detail, "no group in the kernel log");
  host.backend = "dir";
  checks = check_readiness(host, kSupported);
  EXPECT_EQ(find(checks, "kernel").detail, "no unit in sys/class/iommu");
  EXPECT_EQ(find(checks, "groups").detail, "no group in sys/kernel/iommu_groups");
}

TEST(Readiness, IommufdLineSaysWhatTheKernelAnswered) {
  Host host = ready_host();
  const AssignmentSupport no_misc{{true, "vfio"}, {std::nullopt, "no sys/class/misc in the tree"}};
  // Asked: the answers, whatever sys/class/misc says.
  host.iommufd = {"asked", "", "kernel"};
  host.devices[0].iommufd = IommufdDeviceInfo{"vfio0", 0, 0, ""};
  Device refused = device("0000:3b:00.1", 7);
  refused.iommufd = IommufdDeviceInfo{"vfio1", {}, {}, "VFIO_DEVICE_BIND_IOMMUFD: EBUSY"};
  host.devices.push_back(refused);
  ReadinessCheck check = find(check_readiness(host, no_misc), "iommufd");
  EXPECT_EQ(check.status, CheckStatus::kPass);
  EXPECT_EQ(check.detail, "IOMMU_GET_HW_INFO answered for 1 vfio-pci device (1 refused), via kernel");
  // Asked, nothing answered: the kernel's refusal is the line, not /dev/iommu's presence.
  host.devices[0].iommufd->error = "VFIO_DEVICE_BIND_IOMMUFD: EPERM";
  host.iommufd = {"unavailable", "no device answered: 0000:3b:00.0: VFIO_DEVICE_BIND_IOMMUFD: EPERM",
                  "kernel"};
  check = find(check_readiness(host, kSupported), "iommufd");
  EXPECT_EQ(check.status, CheckStatus::kWarn);
  EXPECT_EQ(check.detail,
            "IOMMU_GET_HW_INFO: no device answered: 0000:3b:00.0: VFIO_DEVICE_BIND_IOMMUFD: EPERM");
  // Nothing to ask: /dev/iommu decides, and the line says why nothing was asked.
  host.devices[0].iommufd.reset();
  host.devices[1].iommufd.reset();
  host.iommufd = {"unavailable", "no device is bound to vfio-pci", "kernel"};
  check = find(check_readiness(host, kSupported), "iommufd");
  EXPECT_EQ(check.status, CheckStatus::kPass);
  EXPECT_EQ(check.detail,
            "sys/class/misc/iommu exists (/dev/iommu); not asked: no device is bound to vfio-pci");
  host.iommufd = {};
  EXPECT_EQ(find(check_readiness(host, kSupported), "iommufd").detail,
            "sys/class/misc/iommu exists (/dev/iommu)");
}

TEST(Readiness, ReadAssignmentSupportFromTheTree) {
  testing::MemorySource live;
  live.dir("sys/module/kvm");
  live.dir("sys/class/misc/kvm");
  AssignmentSupport support = read_assignment_support(live, "6.8.0-51-generic");
  EXPECT_EQ(support.vfio_pci.present, false);
  EXPECT_EQ(support.iommufd.present, false);
  EXPECT_EQ(support.iommufd.evidence, "no sys/class/misc/iommu: iommufd is not loaded");

  live.dir("sys/bus/pci/drivers/vfio-pci");
  live.link("sys/class/misc/iommu", "../../devices/virtual/misc/iommu");
  support = read_assignment_support(live, "6.8.0-51-generic");
  EXPECT_EQ(support.vfio_pci.present, true);
  EXPECT_EQ(support.iommufd.present, true);

  // A snapshot without sys/module or sys/class/misc: unknown, except a kernel before 6.2.
  testing::MemorySource snapshot;
  snapshot.dir("sys/bus/pci/drivers/nvme");
  support = read_assignment_support(snapshot, "6.12.0");
  EXPECT_EQ(support.vfio_pci.present, std::nullopt);
  EXPECT_EQ(support.iommufd.present, std::nullopt);
  support = read_assignment_support(snapshot, "6.1.0-28-amd64");
  EXPECT_EQ(support.iommufd.present, false);
  EXPECT_EQ(support.iommufd.evidence, "kernel 6.1.0-28-amd64 predates iommufd (6.2)");
}

}  // namespace
}  // namespace caps
