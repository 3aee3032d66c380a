// SPDX-License-Identifier: MIT
// Tests for read_host: groups, devices and their links, unit selection, and the reasons a
// host has no unit (platform.cc).
#include <gtest/gtest.h>

#include <algorithm>

#include "libcaps/reader.h"
#include "support/memory_source.h"

namespace caps {
namespace {

using testing::MemorySource;

constexpr std::string_view kNic = "0000:3b:00.0";
constexpr std::string_view kNic2 = "0000:3b:00.1";

/// A host with one Intel unit, two NIC functions in group 12 and the platform files.
MemorySource host_with_group() {
  MemorySource s;
  s.unit_file("dmar1", "intel-iommu/cap", "d2008c40660462\n");
  s.unit_file("dmar1", "intel-iommu/ecap", "f050da\n");
  for (std::string_view dev : {kNic, kNic2}) {
    std::string d(dev);
    s.link(unit_path("dmar1", "devices/" + d), "../../../pci0000:3a/0000:3a:00.0/" + d);
    std::string in_group = "sys/kernel/iommu_groups/12/devices/" + d;
    s.link(in_group, "../../../../devices/pci0000:3a/0000:3a:00.0/" + d);
    s.link(in_group + "/iommu", "../../../../virtual/iommu/dmar1");
    s.link(in_group + "/iommu_group", "../../../../kernel/iommu_groups/12");
  }
  s.link("sys/kernel/iommu_groups/12/devices/0000:3b:00.0/driver",
         "../../../../bus/pci/drivers/vfio-pci");
  s.link("sys/kernel/iommu_groups/12/devices/0000:3b:00.1/driver",
         "../../../../bus/pci/drivers/ixgbe");
  s.file("sys/kernel/iommu_groups/12/type", "DMA-FQ\n");
  s.file("sys/kernel/iommu_groups/12/reserved_regions",
         "0x00000000fee00000 0x00000000feefffff msi\n"
         "0x000000007b800000 0x000000007f7fffff direct-relaxable\n");
  s.file("sys/firmware/acpi/tables/DMAR", "DMAR");
  s.file("proc/cmdline", "BOOT_IMAGE=/vmlinuz intel_iommu=on,sm_on quiet\n");
  return s;
}

TEST(ReadHostTest, GroupsWithTypeAndReservedRegions) {
  MemorySource s = host_with_group();
  Host h = read_host(s);
  EXPECT_EQ(h.backend, "memory");
  ASSERT_EQ(h.groups.size(), 1u);
  const Group& g = h.groups[0];
  EXPECT_EQ(g.id, 12u);
  EXPECT_EQ(g.type, "DMA-FQ");
  EXPECT_EQ(g.name, std::nullopt);
  EXPECT_EQ(g.devices, (std::vector<std::string>{"0000:3b:00.0", "0000:3b:00.1"}));
  ASSERT_EQ(g.reserved_regions.size(), 2u);
  EXPECT_EQ(g.reserved_regions[0], (ReservedRegion{0xfee00000, 0xfeefffff, "msi"}));
  EXPECT_EQ(g.reserved_regions[1].type, "direct-relaxable");
  EXPECT_TRUE(h.diagnostics.empty()) << h.diagnostics[0].message;
}

TEST(ReadHostTest, DevicesWithUnitGroupAndDriver) {
  MemorySource s = host_with_group();
  Host h = read_host(s);
  ASSERT_EQ(h.devices.size(), 2u);
  const Device& nic = h.devices[0];
  EXPECT_EQ(nic.name, kNic);
  EXPECT_EQ(nic.unit, "dmar1");
  EXPECT_EQ(nic.group, 12u);
  EXPECT_EQ(nic.driver, "vfio-pci");
  EXPECT_EQ(nic.pci, std::nullopt);  // no config file: not known as PCI
  EXPECT_EQ(h.devices[1].driver, "ixgbe");
  ASSERT_EQ(h.units.size(), 1u);
  EXPECT_EQ(h.units[0].devices.size(), 2u);
  EXPECT_TRUE(h.platform.why_no_units.empty());
  EXPECT_EQ(h.platform.acpi_tables, (std::vector<std::string>{"DMAR"}));
  EXPECT_EQ(h.platform.cmdline, "BOOT_IMAGE=/vmlinuz intel_iommu=on,sm_on quiet");
}

TEST(ReadHostTest, DeviceConfigIsParsedAndCanBeSkipped) {
  MemorySource s = host_with_group();
  std::string config(4096, '\0');
  config[0] = '\x86';
  config[1] = '\x80';
  s.file("sys/kernel/iommu_groups/12/devices/0000:3b:00.0/config", config);
  Host h = read_host(s);
  ASSERT_TRUE(h.devices[0].pci.has_value());
  EXPECT_EQ(h.devices[0].pci->vendor, 0x8086);
  EXPECT_EQ(h.devices[0].pci->ats, false);

  ReadOptions no_config;
  no_config.read_pci_config = false;
  EXPECT_EQ(read_host(s, no_config).devices[0].pci, std::nullopt);
}

TEST(ReadHostTest, UnreadableAndShortConfig) {
  MemorySource s = host_with_group();
  s.fail("sys/kernel/iommu_groups/12/devices/0000:3b:00.0/config", ReadStatus::kDenied);
  s.file("sys/kernel/iommu_groups/12/devices/0000:3b:00.1/config", std::string(10, '\xff'));
  Host h = read_host(s);
  EXPECT_EQ(h.devices[0].pci, std::nullopt);
  EXPECT_EQ(h.devices[1].pci, std::nullopt);
  ASSERT_EQ(h.diagnostics.size(), 2u);
  EXPECT_EQ(h.diagnostics[0],
            (Diagnostic{"kernel/iommu_groups/12/devices/0000:3b:00.0/config", Severity::kWarning,
                        "cannot read PCI config: permission denied"}));
  EXPECT_EQ(h.diagnostics[1].message,
            "PCI config is only 10 bytes; expected at least the 64-byte header");
}

TEST(ReadHostTest, ConfigSizeSaysWhatTheKernelHasForTheFunction) {
  MemorySource s = host_with_group();
  std::string config(256, '\0');
  config[0] = '\x86';
  config[1] = '\x80';
  const std::string dir = "sys/kernel/iommu_groups/12/devices/";
  s.file(dir + "0000:3b:00.0/config", config);                // root read, conventional PCI
  s.file(dir + "0000:3b:00.1/config", config.substr(0, 64));  // a non-root read
  Host h = read_host(s);
  ASSERT_TRUE(h.devices[0].pci && h.devices[1].pci);
  EXPECT_EQ(h.devices[0].pci->config_size, 256u);
  EXPECT_EQ(h.devices[0].pci->ats, false);
  EXPECT_EQ(h.devices[1].pci->config_size, 64u);
  EXPECT_EQ(h.devices[1].pci->ats, std::nullopt);
  EXPECT_TRUE(h.diagnostics.empty()) << h.diagnostics[0].message;

  s.file(dir + "0000:3b:00.1/config", config.substr(0, 200));  // a cut copy
  h = read_host(s);
  EXPECT_EQ(h.devices[1].pci->ats, std::nullopt);
  ASSERT_EQ(h.diagnostics.size(), 1u);
  EXPECT_EQ(h.diagnostics[0].message,
            "PCI config is 200 bytes, not a size the kernel gives (64 or 128 to non-root, 256 or "
            "4096 to root): its extended capabilities are unknown");
}

TEST(ReadHostTest, ConfigIsReadAtOffsetsNotWhole) {
  // The NIC has ATS, PRI and PASID: a byte proves the size, 16 bytes of header fields, three
  // capability headers and the PASID register: 31 of its 4096 bytes.
  MemorySource s = host_with_group();
  std::string config(4096, '\0');
  config[0x00] = '\x86';
  config[0x01] = '\x80';
  const auto put32 = [&config](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) config[at + i] = static_cast<char>(v >> (8 * i));
  };
  put32(0x100, 0x000f | 1u << 16 | 0x110u << 20);  // ATS
  put32(0x110, 0x0013 | 1u << 16 | 0x120u << 20);  // PRI
  put32(0x120, 0x001b | 1u << 16);                 // PASID, last
  put32(0x124, 20u << 8);
  const std::string dir = "sys/kernel/iommu_groups/12/devices/";
  s.file(dir + "0000:3b:00.0/config", config);
  // A non-root read of sysfs: the file says 4096 bytes and gives 64.
  s.file(dir + "0000:3b:00.1/config", config.substr(0, 64));
  s.set_size_hint(dir + "0000:3b:00.1/config", 4096);
  const Host h = read_host(s);
  ASSERT_TRUE(h.devices[0].pci && h.devices[1].pci);
  EXPECT_EQ(h.devices[0].pci, parse_pci_config(config));
  ASSERT_TRUE(h.devices[0].pci->pasid && *h.devices[0].pci->pasid);
  EXPECT_EQ(**h.devices[0].pci->pasid, (PasidCapability{20, false, false}));
  EXPECT_EQ(s.bytes_read_at(dir + "0000:3b:00.0/config"), 31u);
  EXPECT_EQ(h.devices[1].pci, parse_pci_config(config.substr(0, 64)));
  EXPECT_EQ(h.devices[1].pci->config_size, 64u);
  EXPECT_TRUE(h.diagnostics.empty()) << h.diagnostics[0].message;
}

TEST(ReadHostTest, ConfigTooLargeWhateverItsReportedSize) {
  MemorySource s = host_with_group();
  const std::string dir = "sys/kernel/iommu_groups/12/devices/";
  s.file(dir + "0000:3b:00.0/config", std::string(4097, '\0'));
  s.file(dir + "0000:3b:00.1/config", std::string(4097, '\0'));
  s.set_size_hint(dir + "0000:3b:00.1/config", 4096);  // misreported: found by reading
  const Host h = read_host(s);
  EXPECT_EQ(h.devices[0].pci, std::nullopt);
  EXPECT_EQ(h.devices[1].pci, std::nullopt);
  ASSERT_EQ(h.diagnostics.size(), 2u);
  EXPECT_EQ(h.diagnostics[0],
            (Diagnostic{"kernel/iommu_groups/12/devices/0000:3b:00.0/config", Severity::kWarning,
                        "cannot read PCI config: too large"}));
  EXPECT_EQ(h.diagnostics[1].message, "cannot read PCI config: too large");
}

TEST(ReadHostTest, BadGroupEntriesAndRegions) {
  MemorySource s = host_with_group();
  s.file("sys/kernel/iommu_groups/notanumber/type", "DMA\n");
  s.file("sys/kernel/iommu_groups/12/reserved_regions",
         "0x00000000fee00000 0x00000000feefffff msi\n"
         "garbage\n"
         "0x0000000000002000 0x0000000000001000 reserved\n");
  Host h = read_host(s);
  ASSERT_EQ(h.groups.size(), 1u);
  EXPECT_EQ(h.groups[0].reserved_regions.size(), 1u);
  ASSERT_EQ(h.diagnostics.size(), 3u);
  EXPECT_EQ(h.diagnostics[0].path, "kernel/iommu_groups/12/reserved_regions");
  EXPECT_EQ(h.diagnostics[0].message, "expected \"<start> <end> <type>\", got \"garbage\"");
  EXPECT_EQ(h.diagnostics[1].message,
            "region ends before it starts: \"0x0000000000002000 0x0000000000001000 reserved\"");
  EXPECT_EQ(h.diagnostics[2].path, "kernel/iommu_groups/notanumber");
}

// The kernel names groups in plain decimal: "012" is another directory, not group 12 again
// (read as 12 it made two groups of one id, and a report that would not load; found by
// fuzz_reader). A device link naming such a directory does not give the device group 12.
TEST(ReadHostTest, GroupNamesWithLeadingZerosAreNotGroups) {
  MemorySource s = host_with_group();
  s.file("sys/kernel/iommu_groups/012/type", "identity\n");
  s.link("sys/kernel/iommu_groups/012/devices/0000:00:1f.0", "../../../../devices/x");
  s.link("sys/kernel/iommu_groups/012/devices/0000:00:1f.0/iommu_group",
         "../../../../kernel/iommu_groups/012");
  Host h = read_host(s);
  ASSERT_EQ(h.groups.size(), 1u);
  EXPECT_EQ(h.groups[0].id, 12u);
  EXPECT_EQ(h.groups[0].type, "DMA-FQ");
  std::vector<std::string> messages;
  for (const Diagnostic& d : h.diagnostics) messages.push_back(d.path + ": " + d.message);
  EXPECT_NE(std::find(messages.begin(), messages.end(),
                      "kernel/iommu_groups/012: not a group id: \"012\" is not written the "
                      "kernel's way (decimal, no leading zeros)"),
            messages.end())
      << ::testing::PrintToString(messages);
  for (const Device& d : h.devices) {
    if (d.name == "0000:00:1f.0") ADD_FAILURE() << "a device of a group that is not read";
  }
}

TEST(ReadHostTest, DeviceSeenOnlyThroughItsUnit) {
  MemorySource s;
  s.unit_file("dmar0", "intel-iommu/cap", "d2008c40660462\n");
  s.link(unit_path("dmar0", "devices/0000:00:02.0"), "../../../pci0000:00/0000:00:02.0");
  s.link(unit_path("dmar0", "devices/0000:00:02.0/driver"), "../../../bus/pci/drivers/i915");
  Host h = read_host(s);
  ASSERT_EQ(h.devices.size(), 1u);
  EXPECT_EQ(h.devices[0].unit, "dmar0");  // from the listing: it has no iommu link here
  EXPECT_EQ(h.devices[0].group, std::nullopt);
  EXPECT_EQ(h.devices[0].driver, "i915");
}

TEST(ReadHostTest, UnitSelection) {
  MemorySource s = host_with_group();
  s.unit_file("dmar0", "intel-iommu/cap", "d2008c40660462\n");
  ReadOptions only;
  only.units = {"dmar0", "dmar7"};
  Host h = read_host(s, only);
  ASSERT_EQ(h.units.size(), 1u);
  EXPECT_EQ(h.units[0].name, "dmar0");
  EXPECT_TRUE(h.devices.empty());  // the NICs are behind dmar1
  EXPECT_TRUE(h.groups.empty());
  ASSERT_EQ(h.diagnostics.size(), 1u);
  EXPECT_EQ(h.diagnostics[0], (Diagnostic{"class/iommu/dmar7", Severity::kError, "no such unit"}));
}

TEST(ReadHostTest, UnitsInNaturalOrder) {
  MemorySource s;
  for (std::string_view u : {"dmar10", "dmar2", "dmar1"}) s.unit_file(u, "uevent", "");
  Host h = read_host(s);
  ASSERT_EQ(h.units.size(), 3u);
  EXPECT_EQ(h.units[0].name, "dmar1");
  EXPECT_EQ(h.units[1].name, "dmar2");
  EXPECT_EQ(h.units[2].name, "dmar10");
}

TEST(ReadHostTest, NoUnitBecauseIntelIommuOff) {
  MemorySource s;
  s.dir("sys/class/iommu");
  s.file("sys/firmware/acpi/tables/DMAR", "DMAR");
  s.file("sys/firmware/acpi/tables/FACP", "FACP");
  s.file("proc/cmdline", "root=/dev/sda1 intel_iommu=off\n");
  Host h = read_host(s);
  EXPECT_TRUE(h.units.empty());
  EXPECT_EQ(h.platform.why_no_units,
            (std::vector<std::string>{
                "the firmware has a DMAR table but the kernel command line has intel_iommu=off: "
                "remove it or set intel_iommu=on"}));
}

TEST(ReadHostTest, NoUnitBecauseNoFirmwareTable) {
  MemorySource s;
  s.file("sys/firmware/acpi/tables/FACP", "FACP");
  s.file("proc/cmdline", "quiet\n");
  Host h = read_host(s);
  EXPECT_EQ(h.platform.why_no_units,
            (std::vector<std::string>{
                "/sys/class/iommu does not exist: no IOMMU driver has registered a unit",
                "the firmware publishes no ACPI DMAR (Intel), IVRS (AMD), IORT (Arm) or VIOT "
                "(virtio-iommu) table: enable VT-d, AMD IOMMU or the SMMU in the firmware setup"}));
}

TEST(ReadHostTest, NoUnitWithViotTable) {
  // What Debian 12's 6.1 (# CONFIG_VIRTIO_IOMMU is not set) shows in a QEMU guest with a
  // virtio-iommu: the firmware describes it, yet no unit registers.
  MemorySource s;
  s.dir("sys/class/iommu");
  s.file("sys/firmware/acpi/tables/VIOT", "VIOT");
  s.file("sys/firmware/acpi/tables/FACP", "FACP");
  s.file("proc/cmdline", "console=ttyS0 iommu.passthrough=0\n");
  s.file("proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
  Host h = read_host(s);
  EXPECT_EQ(h.platform.acpi_tables, (std::vector<std::string>{"VIOT"}));
  EXPECT_EQ(h.platform.kernel_release, "6.1.0-18-amd64");
  EXPECT_EQ(h.platform.why_no_units,
            (std::vector<std::string>{
                "the firmware has a VIOT table (virtio-iommu) but no unit registered: the kernel "
                "lacks CONFIG_VIRTIO_IOMMU or the virtio_iommu module is not loaded"}));

  s.file("proc/sys/kernel/osrelease", "5.10.0-28-amd64\n");
  EXPECT_EQ(read_host(s).platform.why_no_units,
            (std::vector<std::string>{
                "the firmware has a VIOT table (virtio-iommu) but linux 5.10.0-28-amd64 predates "
                "VIOT support (drivers/acpi/viot.c, 5.14): no virtio-iommu unit can register; "
                "boot a 5.14 or newer kernel built with CONFIG_VIRTIO_IOMMU"}));
}

TEST(ReadHostTest, KernelReleaseIsReadWhenPresent) {
  MemorySource s = host_with_group();
  EXPECT_EQ(read_host(s).platform.kernel_release, std::nullopt);
  s.file("proc/sys/kernel/osrelease", "6.12.48+deb13-amd64\n");
  Host h = read_host(s);
  EXPECT_EQ(h.platform.kernel_release, "6.12.48+deb13-amd64");
  EXPECT_TRUE(h.diagnostics.empty()) << h.diagnostics[0].message;
}

TEST(ReadHostTest, NoUnitWithIvrsAndIommuOff) {
  MemorySource s;
  s.dir("sys/class/iommu");
  s.file("sys/firmware/acpi/tables/IVRS", "IVRS");
  s.file("proc/cmdline", "iommu=off\n");
  Host h = read_host(s);
  EXPECT_EQ(h.platform.why_no_units,
            (std::vector<std::string>{
                "iommu=off on the kernel command line disables every IOMMU driver: remove it"}));
}

TEST(ReadHostTest, NoUnitAndNothingKnown) {
  MemorySource s;
  s.dir("sys/class/iommu");
  Host h = read_host(s);
  ASSERT_EQ(h.platform.why_no_units.size(), 2u);
  EXPECT_EQ(h.platform.why_no_units[1],
            "/proc/cmdline is not readable: the kernel's IOMMU options are unknown");
}

}  // namespace
}  // namespace caps

namespace caps {
namespace {

TEST(ReadHostTest, UnreadableDriverLinkIsUnknownNotUnbound) {
  MemorySource s = host_with_group();
  s.fail("sys/kernel/iommu_groups/12/devices/0000:3b:00.1/driver", ReadStatus::kDenied);
  Host h = read_host(s);
  ASSERT_EQ(h.devices.size(), 2u);
  EXPECT_TRUE(h.devices[0].driver_known);
  EXPECT_EQ(h.devices[1].driver, std::nullopt);
  EXPECT_FALSE(h.devices[1].driver_known);
  ASSERT_EQ(h.diagnostics.size(), 1u);
  EXPECT_EQ(h.diagnostics[0].message, "cannot read link: permission denied");
}

TEST(ReadHostTest, UnlistableGroupHasUnknownMembers) {
  MemorySource s = host_with_group();
  s.fail("sys/kernel/iommu_groups/12/devices", ReadStatus::kDenied);
  Host h = read_host(s);
  ASSERT_EQ(h.groups.size(), 1u);
  EXPECT_FALSE(h.groups[0].devices_known);
  EXPECT_TRUE(h.groups[0].devices.empty());
}

}  // namespace
}  // namespace caps

namespace caps {
namespace {

TEST(ReadHostTest, PciDevicesBehindNoUnitAreListed) {
  MemorySource s = host_with_group();
  // The AMD IOMMU's own function: its iommu/ is a directory holding the unit, not a link.
  s.link("sys/bus/pci/devices/0000:00:00.2", "../../../devices/pci0000:00/0000:00:00.2");
  s.dir("sys/bus/pci/devices/0000:00:00.2/iommu/ivhd0");
  s.link("sys/bus/pci/devices/0000:00:1f.0", "../../../devices/pci0000:00/0000:00:1f.0");
  s.link("sys/bus/pci/devices/0000:00:1f.0/driver", "../../../../bus/pci/drivers/lpc_ich");
  Host h = read_host(s);
  ASSERT_EQ(h.devices.size(), 4u);
  EXPECT_EQ(h.devices[0].name, "0000:00:00.2");
  EXPECT_EQ(h.devices[0].unit, std::nullopt);
  EXPECT_EQ(h.devices[0].group, std::nullopt);
  EXPECT_EQ(h.devices[1].name, "0000:00:1f.0");
  EXPECT_EQ(h.devices[1].driver, "lpc_ich");
  EXPECT_EQ(h.devices[2].name, "0000:3b:00.0");
  EXPECT_TRUE(h.diagnostics.empty()) << h.diagnostics[0].message;
}

}  // namespace
}  // namespace caps
