// SPDX-License-Identifier: MIT
// Tests for read_unit: layout detection, the intel-iommu and amd-iommu readers, and the model of
// a unit that publishes no capabilities.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "libcaps/reader.h"
#include "support/memory_source.h"

namespace caps {
namespace {

using testing::MemorySource;

/// The "newer Xeon, scalable mode capable" row of real-registers.md.
MemorySource xeon(std::string_view unit = "dmar0") {
  MemorySource s;
  s.unit_file(unit, "intel-iommu/cap", "9ed008c40780466\n");
  s.unit_file(unit, "intel-iommu/ecap", "3ee9e86f050df\n");
  s.unit_file(unit, "intel-iommu/version", "6:0\n");
  s.unit_file(unit, "intel-iommu/address", "aa3fc000\n");
  s.unit_file(unit, "intel-iommu/domains_supported", "65536\n");
  s.unit_file(unit, "intel-iommu/domains_used", "3\n");
  s.link(unit_path(unit, "devices/0000:6a:00.0"), "../../../pci0000:6a/0000:6a:00.0");
  s.link(unit_path(unit, "devices/0000:6a:00.10"), "../../../pci0000:6a/0000:6a:00.10");
  s.link(unit_path(unit, "devices/0000:6a:00.2"), "../../../pci0000:6a/0000:6a:00.2");
  return s;
}

TEST(ReadUnitTest, IntelRealRegisters) {
  MemorySource s = xeon();
  Unit u = read_unit(s, "dmar0");
  EXPECT_EQ(u.layout, Layout::kIntelIommu);
  EXPECT_EQ(u.model, "intel-vtd");
  ASSERT_EQ(u.registers.size(), 2u);
  EXPECT_EQ(u.registers[0].file, "cap");
  EXPECT_EQ(u.registers[0].main.raw, 0x9ed008c40780466u);
  EXPECT_EQ(u.registers[1].file, "ecap");
  // cap: ND [2:0] = 0x6 -> 16 domain-id bits; SAGAW [12:8] = 0x04 (48-bit only);
  // MGAW [21:16] = 0x38 -> 57. ecap: SMTS, FLTS and SLTS set, so the kernel intersects the
  // first-stage set (48) with SAGAW: 48.
  EXPECT_EQ(u.registers[0].main.field("ND"), 6u);
  EXPECT_EQ(u.registers[0].main.field("MGAW"), 0x38u);
  EXPECT_EQ(u.caps.asid_bits, 16);
  EXPECT_EQ(u.caps.input_bits, 48);
  // ecap bit 40 (PASID) is clear in this real value: no PASIDs despite PSS=19.
  EXPECT_EQ(u.registers[1].main.field("PSS"), 19u);
  EXPECT_EQ(u.caps.ssid_bits, 0);
  EXPECT_EQ(u.caps.scalable_mode, true);
  EXPECT_EQ(u.caps.nested, true);          // ecap bit 26
  EXPECT_EQ(u.caps.dirty_tracking, true);  // SMTS, SLADS (45), SMPWC (48)
  EXPECT_EQ(u.caps.ats, true);             // DT, bit 2
  EXPECT_EQ(u.caps.page_requests, false);  // PRS, bit 29, clear
  EXPECT_EQ(u.caps.output_bits, std::nullopt);
  EXPECT_EQ(u.caps.pgtable_formats, (std::vector<std::string>{"vtd-ss-48", "vtd-fs-48"}));
  EXPECT_EQ(u.properties.at("version"), "6:0");
  EXPECT_EQ(u.properties.at("address"), "0xaa3fc000");
  EXPECT_EQ(u.properties.at("domains_supported"), "65536");
  EXPECT_EQ(u.devices, (std::vector<std::string>{"0000:6a:00.0", "0000:6a:00.2", "0000:6a:00.10"}));
  EXPECT_TRUE(u.diagnostics.empty()) << u.diagnostics[0].message;
}

TEST(ReadUnitTest, IntelMissingEcapLeavesEcapFactsUnknown) {
  MemorySource s = xeon();
  s.fail(unit_path("dmar0", "intel-iommu/ecap"), ReadStatus::kMissing);
  Unit u = read_unit(s, "dmar0");
  ASSERT_EQ(u.registers.size(), 1u);
  EXPECT_EQ(u.caps.asid_bits, 16);  // from cap alone
  EXPECT_EQ(u.caps.ssid_bits, std::nullopt);
  EXPECT_EQ(u.caps.nested, std::nullopt);
  EXPECT_EQ(u.caps.ats, std::nullopt);
  ASSERT_FALSE(u.diagnostics.empty());
  EXPECT_EQ(u.diagnostics[0],
            (Diagnostic{"class/iommu/dmar0/intel-iommu/ecap", Severity::kError, "missing"}));
}

TEST(ReadUnitTest, IntelGarbageRegisterIsAnErrorNotAValue) {
  MemorySource s = xeon();
  s.unit_file("dmar0", "intel-iommu/cap", "0x9ed008c40780466\n");
  Unit u = read_unit(s, "dmar0");
  ASSERT_EQ(u.registers.size(), 1u);
  EXPECT_EQ(u.registers[0].file, "ecap");
  EXPECT_EQ(u.caps.asid_bits, std::nullopt);
  EXPECT_EQ(u.caps.input_bits, std::nullopt);
  ASSERT_FALSE(u.diagnostics.empty());
  EXPECT_EQ(u.diagnostics[0].path, "class/iommu/dmar0/intel-iommu/cap");
  EXPECT_EQ(u.diagnostics[0].severity, Severity::kError);
}

TEST(ReadUnitTest, IntelOversizedAndNonRegularFiles) {
  MemorySource s = xeon();
  s.fail(unit_path("dmar0", "intel-iommu/cap"), ReadStatus::kTooLarge);
  s.fail(unit_path("dmar0", "intel-iommu/version"), ReadStatus::kNotRegular);
  Unit u = read_unit(s, "dmar0");
  EXPECT_EQ(u.caps.asid_bits, std::nullopt);
  EXPECT_EQ(u.properties.count("version"), 0u);
  ASSERT_GE(u.diagnostics.size(), 2u);
  EXPECT_EQ(u.diagnostics[0].message, "cannot read: larger than 4096 bytes");
  EXPECT_EQ(u.diagnostics[1].message, "cannot read: not a regular file");
}

TEST(ReadUnitTest, IntelDomainsSupportedMustAgreeWithNd) {
  MemorySource s = xeon();
  s.unit_file("dmar0", "intel-iommu/domains_supported", "256\n");
  Unit u = read_unit(s, "dmar0");
  ASSERT_EQ(u.diagnostics.size(), 1u);
  EXPECT_EQ(u.diagnostics[0].message, "disagrees with cap.ND=6 (65536 domains)");
}

TEST(ReadUnitTest, IntelBadProperties) {
  MemorySource s = xeon();
  s.unit_file("dmar0", "intel-iommu/version", "six\n");
  s.unit_file("dmar0", "intel-iommu/address", "-1\n");
  Unit u = read_unit(s, "dmar0");
  EXPECT_EQ(u.properties.count("version"), 0u);
  EXPECT_EQ(u.properties.count("address"), 0u);
  ASSERT_EQ(u.diagnostics.size(), 2u);
  EXPECT_EQ(u.diagnostics[0].message, "expected <major>:<minor>, got \"six\"");
}

TEST(ReadUnitTest, AmdCurrentFeaturesFormat) {
  MemorySource s;
  // CapID 0x0f, CapPtr 0x40, CapType 3, CapRev 1, IotlbSup, EFRSup.
  s.unit_file("ivhd0", "amd-iommu/cap", "90b400f\n");
  s.unit_file("ivhd0", "amd-iommu/features", "a5bf7320a2294aee:1d\n");
  Unit u = read_unit(s, "ivhd0");
  EXPECT_EQ(u.layout, Layout::kAmdIommu);
  EXPECT_EQ(u.model, "amd-vi");
  ASSERT_EQ(u.registers.size(), 2u);
  EXPECT_EQ(u.registers[1].file, "features");
  EXPECT_EQ(u.registers[1].format, "EFR:EFR2");
  EXPECT_EQ(u.registers[1].main.raw, 0xa5bf7320a2294aeeu);
  ASSERT_TRUE(u.registers[1].second.has_value());
  EXPECT_EQ(u.registers[1].second->raw, 0x1du);
  // EFR low word 0x4aee: PPRSup (bit 1) set, GTSup (bit 4) clear, HATS [11:10] = 2 -> 6
  // levels -> 64 bits. High word 0xa5bf7320: HASup (bit 49) and HDSup (bit 52) set.
  EXPECT_EQ(u.caps.input_bits, 64);
  EXPECT_EQ(u.caps.asid_bits, 16);
  EXPECT_EQ(u.caps.ssid_bits, 0);
  EXPECT_EQ(u.caps.nested, false);
  EXPECT_EQ(u.caps.page_requests, true);
  EXPECT_EQ(u.caps.httu, Httu::kAccessDirty);
  EXPECT_EQ(u.caps.dirty_tracking, true);
  EXPECT_EQ(u.caps.ats, true);
}

// Issue 8: EFR2 bits above 7 (the kernel's NumIntRemapSup [9:8], HTRangeIgnore 11) once made
// the whole file fail and every AMD fact unknown.
TEST(ReadUnitTest, AmdEfr2HighBitsInBothOrders) {
  for (std::string_view text : {"a5bf7320a2294aee:b1d\n", "b1d:a5bf7320a2294aee\n"}) {
    MemorySource s;
    s.unit_file("ivhd0", "amd-iommu/cap", "90b400f\n");
    s.unit_file("ivhd0", "amd-iommu/features", std::string(text));
    Unit u = read_unit(s, "ivhd0");
    ASSERT_EQ(u.registers.size(), 2u) << text;
    EXPECT_EQ(u.registers[1].main.raw, 0xa5bf7320a2294aeeu) << text;
    ASSERT_TRUE(u.registers[1].second.has_value()) << text;
    EXPECT_EQ(u.registers[1].second->field("HTRangeIgnore"), 1u) << text;
    EXPECT_EQ(u.registers[1].second->field("NumIntRemapSup"), 3u) << text;
    EXPECT_EQ(u.caps.input_bits, 64) << text;
    EXPECT_EQ(u.caps.dirty_tracking, true) << text;
    EXPECT_EQ(u.extra.at("ht_range_ignore"), Scalar{true}) << text;
    // NumIntRemapSup = 3 is reserved: a warning on the unit, nothing refused.
    ASSERT_EQ(u.diagnostics.size(), 1u) << text;
    EXPECT_EQ(u.diagnostics[0].severity, Severity::kWarning) << text;
    EXPECT_EQ(u.diagnostics[0].path, "class/iommu/ivhd0/amd-iommu") << text;
  }
}

TEST(ReadUnitTest, AmdQemuFeatures) {
  // QEMU 7.2's amd-iommu under Linux 6.1 (real-kernels-under-qemu.md): cap 1f03000f,
  // features "0:29d3"; QEMU with numint2k=on adds EFR2 0x100.
  for (std::string_view text : {"0:29d3\n", "29d3:100\n"}) {
    MemorySource s;
    s.unit_file("ivhd0", "amd-iommu/cap", "1f03000f\n");
    s.unit_file("ivhd0", "amd-iommu/features", std::string(text));
    Unit u = read_unit(s, "ivhd0");
    ASSERT_EQ(u.registers.size(), 2u) << text;
    EXPECT_EQ(u.registers[1].main.raw, 0x29d3u) << text;
    EXPECT_EQ(u.registers[1].main.field("GATS"), 2u) << text;
    EXPECT_EQ(u.caps.pgtable_formats, (std::vector<std::string>{"amd-v1-6L", "amd-v2-4L"})) << text;
    ASSERT_EQ(u.diagnostics.size(), 1u) << text;
    EXPECT_EQ(u.diagnostics[0].message,
              "efr.GATS=2 is a reserved encoding (0 = 4-level, 1 = 5-level guest tables); the "
              "kernel then uses 4-level guest tables")
        << text;
  }
}

TEST(ReadUnitTest, AmdUndecidableFeaturesOrderKeepsAgreedFacts) {
  MemorySource s;
  s.unit_file("ivhd0", "amd-iommu/cap", "90b400f\n");
  s.unit_file("ivhd0", "amd-iommu/features", "58f77ef22294a5a:a5bf7320a2294aee\n");
  Unit u = read_unit(s, "ivhd0");
  ASSERT_EQ(u.registers.size(), 2u);
  EXPECT_EQ(u.registers[1].format, "ambiguous");
  EXPECT_EQ(u.caps.input_bits, 64);  // HATS 2 either way
  EXPECT_EQ(u.caps.page_requests, true);
  EXPECT_EQ(u.caps.ssid_bits, std::nullopt);  // 16 one way, 0 the other
  EXPECT_EQ(u.caps.dirty_tracking, std::nullopt);
  // The order warning, then NumIntRemapSup = 2 that either value read as EFR2 has.
  ASSERT_EQ(u.diagnostics.size(), 2u);
  EXPECT_EQ(u.diagnostics[0].path, "class/iommu/ivhd0/amd-iommu/features");
  EXPECT_EQ(u.diagnostics[0].severity, Severity::kWarning);
  EXPECT_EQ(u.diagnostics[0].message,
            "features order unknown: either of 0x58f77ef22294a5a and 0xa5bf7320a2294aee could be "
            "EFR; only what both readings agree on is used");
  EXPECT_EQ(u.diagnostics[1].path, "class/iommu/ivhd0/amd-iommu");
}

TEST(ReadUnitTest, AmdGarbageFeatures) {
  MemorySource s;
  s.unit_file("ivhd0", "amd-iommu/cap", "90b400f\n");
  s.unit_file("ivhd0", "amd-iommu/features", "zz:1d\n");
  Unit u = read_unit(s, "ivhd0");
  ASSERT_EQ(u.registers.size(), 1u);
  EXPECT_EQ(u.caps.ssid_bits, std::nullopt);
  EXPECT_EQ(u.caps.ats, true);
  ASSERT_FALSE(u.diagnostics.empty());
  EXPECT_EQ(u.diagnostics[0].path, "class/iommu/ivhd0/amd-iommu/features");
  EXPECT_EQ(u.diagnostics[0].severity, Severity::kError);
}

TEST(ReadUnitTest, UnitWithoutCapabilityFilesKeepsItsModelUnknownWhenNothingTells) {
  MemorySource s;
  s.unit_file("iommu0", "uevent", "SUBSYSTEM=iommu\n");
  Unit u = read_unit(s, "iommu0");
  EXPECT_EQ(u.layout, Layout::kNone);
  EXPECT_EQ(u.model, "unknown");
  EXPECT_TRUE(u.evidence.empty());
  EXPECT_TRUE(u.diagnostics.empty());
}

// Mainline arm-smmu-v3 publishes no capability files; its unit is named "smmu3.%pa".
TEST(ReadUnitTest, SmmuV3UnitIsKnownByTheNameItsDriverGives) {
  MemorySource s;
  s.unit_file("smmu3.0x0000000009050000", "uevent", "SUBSYSTEM=iommu\n");
  Unit u = read_unit(s, "smmu3.0x0000000009050000");
  EXPECT_EQ(u.layout, Layout::kNone);
  EXPECT_EQ(u.model, "arm-smmu-v3");
  EXPECT_EQ(u.evidence, (std::map<std::string, std::string>{
                            {"model",
                             "named smmu3.* (the arm-smmu-v3 driver's \"smmu3.%pa\"): model = "
                             "arm-smmu-v3 (no capabilities published)"}}));
  EXPECT_EQ(u.caps, Caps{});  // the capabilities stay unknown
  EXPECT_TRUE(u.registers.empty());
  EXPECT_TRUE(u.diagnostics.empty());
}

// virtio-iommu names its unit after the virtio transport's parent (a PCI address here); the
// driver bound to the unit's parent device says what it is.
TEST(ReadUnitTest, VirtioIommuUnitIsKnownByItsParentsDriver) {
  MemorySource s;
  s.unit_file("0000:00:01.0", "uevent", "SUBSYSTEM=iommu\n");
  s.link(unit_path("0000:00:01.0", "device/driver"),
         "../../../../bus/virtio/drivers/virtio_iommu");
  Unit u = read_unit(s, "0000:00:01.0");
  EXPECT_EQ(u.layout, Layout::kNone);
  EXPECT_EQ(u.model, "virtio-iommu");
  EXPECT_EQ(u.evidence, (std::map<std::string, std::string>{
                            {"model",
                             "device/driver -> virtio_iommu: model = virtio-iommu (no "
                             "capabilities published)"}}));
  EXPECT_EQ(u.caps, Caps{});
  EXPECT_TRUE(u.diagnostics.empty());
}

// The parent's driver is the stronger fact: another driver's unit named like an SMMU's is not
// taken for one, and a parent driver no model claims leaves the model unknown.
TEST(ReadUnitTest, ParentDriverDecidesBeforeTheName) {
  MemorySource s;
  s.unit_file("smmu3.0x1000", "uevent", "SUBSYSTEM=iommu\n");
  s.link(unit_path("smmu3.0x1000", "device/driver"), "../../bus/virtio/drivers/virtio_iommu");
  EXPECT_EQ(read_unit(s, "smmu3.0x1000").model, "virtio-iommu");
  MemorySource other;
  other.unit_file("dart0", "uevent", "SUBSYSTEM=iommu\n");
  other.link(unit_path("dart0", "device/driver"), "../../bus/platform/drivers/apple-dart");
  Unit u = read_unit(other, "dart0");
  EXPECT_EQ(u.model, "unknown");
  EXPECT_TRUE(u.evidence.empty());
}

TEST(ReadUnitTest, SeveralLayoutsPreferTheKernelOne) {
  MemorySource s = xeon();
  s.unit_file("dmar0", "intel-vtd/model", "1\n");
  Unit u = read_unit(s, "dmar0");
  EXPECT_EQ(u.layout, Layout::kIntelIommu);
  ASSERT_EQ(u.diagnostics.size(), 1u);
  EXPECT_EQ(u.diagnostics[0].message,
            "several layouts describe this unit (intel-iommu, intel-vtd); using intel-iommu");
}

TEST(ReadUnitTest, UnlistableUnit) {
  MemorySource s;
  s.dir("sys/class/iommu");
  s.fail(unit_path("dmar9", ""), ReadStatus::kLoop);
  Unit u = read_unit(s, "dmar9");
  EXPECT_EQ(u.layout, Layout::kNone);
  ASSERT_EQ(u.diagnostics.size(), 1u);
  EXPECT_EQ(u.diagnostics[0].message,
            "cannot list unit directory: too many levels of symbolic links");
}

}  // namespace
}  // namespace caps
