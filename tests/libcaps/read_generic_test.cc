// SPDX-License-Identifier: MIT
// Tests for the generic <model>/<property> layout reader (through read_unit).
#include <gtest/gtest.h>

#include "libcaps/reader.h"
#include "support/memory_source.h"

namespace caps {
namespace {

using testing::MemorySource;

constexpr std::string_view kUnit = "smmu3.0x0000000009050000";

MemorySource full_smmu() {
  MemorySource s;
  auto f = [&](std::string_view p, std::string v) {
    s.unit_file(kUnit, "arm-smmu-v3/" + std::string(p), std::move(v));
  };
  f("model", "2\n");
  f("asid_bits", "16\n");
  f("ssid_bits", "20\n");
  f("input_bits", "48\n");
  f("output_bits", "44\n");
  f("btm", "enabled\n");
  f("httu", "access+dirty\n");
  f("stall", "force\n");
  f("pgtable_format/v7s", "");
  f("pgtable_format/lpae-64", "");
  f("tlb_invalidate_threshold", "4096\n");  // an optional feature added later
  s.unit_file(kUnit, "uevent", "SUBSYSTEM=iommu\n");
  return s;
}

TEST(ReadGenericTest, EveryProperty) {
  MemorySource s = full_smmu();
  Unit u = read_unit(s, std::string(kUnit));
  EXPECT_EQ(u.layout, Layout::kGeneric);
  EXPECT_EQ(u.model, "arm-smmu-v3");
  EXPECT_EQ(u.caps.asid_bits, 16);
  EXPECT_EQ(u.caps.ssid_bits, 20);
  EXPECT_EQ(u.caps.input_bits, 48);
  EXPECT_EQ(u.caps.output_bits, 44);
  EXPECT_EQ(u.caps.btm, true);
  EXPECT_EQ(u.caps.httu, Httu::kAccessDirty);
  EXPECT_EQ(u.caps.stall, Stall::kForce);
  EXPECT_EQ(u.caps.dirty_tracking, true);
  EXPECT_EQ(u.caps.pgtable_formats, (std::vector<std::string>{"lpae-64", "v7s"}));
  // Not in the proposal's list and not given as optional files: unknown.
  EXPECT_EQ(u.caps.nested, std::nullopt);
  EXPECT_EQ(u.caps.ats, std::nullopt);
  EXPECT_EQ(u.caps.page_requests, std::nullopt);
  EXPECT_EQ(u.caps.scalable_mode, std::nullopt);
  EXPECT_EQ(u.properties.at("model"), "2");
  EXPECT_EQ(u.properties.at("tlb_invalidate_threshold"), "4096");
  EXPECT_EQ(u.evidence.at("ssid_bits"), "arm-smmu-v3/ssid_bits=20");
  EXPECT_EQ(u.evidence.at("pgtable_formats"), "arm-smmu-v3/pgtable_format/{lpae-64,v7s}");
  EXPECT_TRUE(u.diagnostics.empty());
}

TEST(ReadGenericTest, DefaultsForMissingOptionalFiles) {
  MemorySource s;
  s.unit_file(kUnit, "arm-smmu-v3/model", "2\n");
  Unit u = read_unit(s, std::string(kUnit));
  EXPECT_EQ(u.model, "arm-smmu-v3");
  EXPECT_EQ(u.caps.ssid_bits, 0);  // no ssid_bits: no PASID
  EXPECT_EQ(u.caps.btm, false);
  EXPECT_EQ(u.caps.httu, Httu::kNone);
  EXPECT_EQ(u.caps.stall, Stall::kDisabled);
  EXPECT_EQ(u.caps.dirty_tracking, false);
  // No documented default: unknown.
  EXPECT_EQ(u.caps.asid_bits, std::nullopt);
  EXPECT_EQ(u.caps.input_bits, std::nullopt);
  EXPECT_EQ(u.caps.output_bits, std::nullopt);
  EXPECT_EQ(u.caps.pgtable_formats, std::nullopt);
  EXPECT_EQ(u.evidence.at("ssid_bits"), "no arm-smmu-v3/ssid_bits: default 0");
}

TEST(ReadGenericTest, UnreadableFileIsNotTheDefault) {
  MemorySource s = full_smmu();
  s.fail(unit_path(kUnit, "arm-smmu-v3/ssid_bits"), ReadStatus::kDenied);
  s.fail(unit_path(kUnit, "arm-smmu-v3/btm"), ReadStatus::kDenied);
  Unit u = read_unit(s, std::string(kUnit));
  EXPECT_EQ(u.caps.ssid_bits, std::nullopt);
  EXPECT_EQ(u.caps.btm, std::nullopt);
  ASSERT_EQ(u.diagnostics.size(), 2u);
  EXPECT_EQ(u.diagnostics[0],
            (Diagnostic{"class/iommu/smmu3.0x0000000009050000/arm-smmu-v3/ssid_bits",
                        Severity::kError, "cannot read: permission denied"}));
}

TEST(ReadGenericTest, GarbageValuesAreErrorsAndUnknown) {
  MemorySource s = full_smmu();
  s.unit_file(kUnit, "arm-smmu-v3/ssid_bits", "2O\n");
  s.unit_file(kUnit, "arm-smmu-v3/input_bits", "65\n");
  s.unit_file(kUnit, "arm-smmu-v3/httu", "dirty\n");
  Unit u = read_unit(s, std::string(kUnit));
  EXPECT_EQ(u.caps.ssid_bits, std::nullopt);
  EXPECT_EQ(u.caps.input_bits, std::nullopt);
  EXPECT_EQ(u.caps.httu, std::nullopt);
  EXPECT_EQ(u.caps.dirty_tracking, std::nullopt);
  ASSERT_EQ(u.diagnostics.size(), 3u);
  for (const Diagnostic& d : u.diagnostics) EXPECT_EQ(d.severity, Severity::kError);
  EXPECT_EQ(u.diagnostics[1].message, "out of range: 65 (expected 1..64)");
  EXPECT_EQ(u.diagnostics[2].message, "unknown value \"dirty\"");
}

TEST(ReadGenericTest, ModelNumberMustAgreeWithDirectory) {
  MemorySource s = full_smmu();
  s.unit_file(kUnit, "arm-smmu-v3/model", "1\n");
  Unit u = read_unit(s, std::string(kUnit));
  EXPECT_EQ(u.model, "unknown");
  ASSERT_EQ(u.diagnostics.size(), 1u);
  EXPECT_EQ(u.diagnostics[0].message,
            "model number 1 is intel-vtd but the directory is \"arm-smmu-v3\"");
}

TEST(ReadGenericTest, UnknownModelNumberAndDirectory) {
  MemorySource s;
  s.unit_file("acme0", "acme-iommu/model", "9\n");
  s.unit_file("acme0", "acme-iommu/ssid_bits", "8\n");
  Unit u = read_unit(s, "acme0");
  EXPECT_EQ(u.layout, Layout::kGeneric);
  EXPECT_EQ(u.model, "unknown");
  EXPECT_EQ(u.caps.ssid_bits, 8);
  ASSERT_EQ(u.diagnostics.size(), 1u);
  EXPECT_EQ(u.diagnostics[0].message,
            "unknown model number 9: a new number announces a mandatory feature this tool "
            "does not know");
}

TEST(ReadGenericTest, MissingModelFileTakesTheDirectoryName) {
  MemorySource s;
  s.unit_file("virtio0", "virtio-iommu/input_bits", "64\n");
  Unit u = read_unit(s, "virtio0");
  EXPECT_EQ(u.model, "virtio-iommu");
  EXPECT_EQ(u.caps.input_bits, 64);
  ASSERT_EQ(u.diagnostics.size(), 1u);
  EXPECT_EQ(u.diagnostics[0].severity, Severity::kWarning);
}

TEST(ReadGenericTest, PlainFilePgtableFormat) {
  MemorySource s;
  s.unit_file(kUnit, "arm-smmu-v3/model", "2\n");
  s.unit_file(kUnit, "arm-smmu-v3/pgtable_format", "lpae-64\n");
  Unit u = read_unit(s, std::string(kUnit));
  EXPECT_EQ(u.caps.pgtable_formats, (std::vector<std::string>{"lpae-64"}));
}

TEST(ReadGenericTest, OptionalFeatureFiles) {
  MemorySource s = full_smmu();
  s.unit_file(kUnit, "arm-smmu-v3/nested", "1\n");
  s.unit_file(kUnit, "arm-smmu-v3/ats", "enabled\n");
  s.unit_file(kUnit, "arm-smmu-v3/pri", "0\n");
  Unit u = read_unit(s, std::string(kUnit));
  EXPECT_EQ(u.caps.nested, true);
  EXPECT_EQ(u.caps.ats, true);
  EXPECT_EQ(u.caps.page_requests, false);
  EXPECT_EQ(u.properties.count("pri"), 0u);  // a known property, not an extra
}

TEST(ReadGenericTest, PowerAndDevicesAreNotLayouts) {
  // Named so that no model claims it (an smmu3.* name would make it arm-smmu-v3).
  MemorySource s;
  s.unit_file("iommu0", "power/async", "disabled\n");
  s.link(unit_path("iommu0", "devices/0000:00:01.0"), "../../../0000:00:01.0");
  Unit u = read_unit(s, "iommu0");
  EXPECT_EQ(u.layout, Layout::kNone);
  EXPECT_EQ(u.model, "unknown");
  EXPECT_EQ(u.devices, (std::vector<std::string>{"0000:00:01.0"}));
  EXPECT_TRUE(u.diagnostics.empty());
}

}  // namespace
}  // namespace caps
