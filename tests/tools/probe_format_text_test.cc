// SPDX-License-Identifier: MIT
// Tests for tools/iommu-probe/probe_format_text: whole outputs for hand-built hosts.
#include "iommu-probe/probe_format_text.h"

#include <sstream>

#include <gtest/gtest.h>

#include "support/sample_hosts.h"

namespace tools {
namespace {

using caps::testing::empty_host;
using caps::testing::host_with;
using caps::testing::hostile_unit;
using caps::testing::make_register;
using caps::testing::sample_host;
using caps::testing::without_units;

std::string text(const caps::Host& host, bool registers) {
  std::ostringstream out;
  format_text(host, out, {.registers = registers});
  return out.str();
}

TEST(FormatText, SampleHost) {
  EXPECT_EQ(text(sample_host(), false),
            R"(host fake-sysfs/hosts/sample (backend dir): 4 units, 3 groups, 5 devices

unit                    model        layout       input  output  asid  ssid  httu          nested  ats  pri  dirty  sm
dmar0                   intel-vtd    intel-iommu  48     ?       16    20    access+dirty  yes     yes  yes  yes    yes
ivhd0                   amd-vi       amd-iommu    64     ?       16    16    access        no      yes  yes  no     ?
smmu0                   arm-smmu-v3  generic      48     ?       16    0     ?             ?       ?    ?    ?      ?
evil"\\\x0a\x1b[2J\xff  unknown      none         ?      ?       ?     ?     ?             ?       ?    ?    ?      ?

dmar0
  group 3 (DMA-FQ)
    0000:00:02.0  i915         pasid=20 (exec, priv)  ats=yes  pri=yes
  group 12 (type ?) weird group
    0000:3b:00.0  (no driver)
    0000:3b:00.1  i40e         pasid=no               ats=no   pri=no
ivhd0
  (no group)
    0000:c0:00.2  (no driver)
smmu0
  (no devices)
evil"\\\x0a\x1b[2J\xff
  (no devices)
(no unit)
  group 20 (identity)
    0000:00:1f.0  lpc_ich

diagnostics: 2 warnings, 1 error
)");
}

TEST(FormatText, SampleHostWithRegisters) {
  EXPECT_EQ(text(sample_host(), true),
            R"(host fake-sysfs/hosts/sample (backend dir): 4 units, 3 groups, 5 devices

unit                    model        layout       input  output  asid  ssid  httu          nested  ats  pri  dirty  sm
dmar0                   intel-vtd    intel-iommu  48     ?       16    20    access+dirty  yes     yes  yes  yes    yes
ivhd0                   amd-vi       amd-iommu    64     ?       16    16    access        no      yes  yes  no     ?
smmu0                   arm-smmu-v3  generic      48     ?       16    0     ?             ?       ?    ?    ?      ?
evil"\\\x0a\x1b[2J\xff  unknown      none         ?      ?       ?     ?     ?             ?       ?    ?    ?      ?

dmar0
  cap (CAP_REG) 0x9ed008c40780466
    ND=6  AFL=0  RWBF=0  PLMR=0  PHMR=0  CM=0  SAGAW=6  MGAW=47  ZLR=1  FRO=512  SLLPS=3  PSI=1
    NFR=3  MAMV=9  DWD=1  DRD=1  FL1GP=1  PI=1  FL5LP=0  ESIRTPS=0  ESRTPS=0
  ecap (ECAP_REG) 0xf0df
    C=1  QI=1  DT=1  PASID=1
    reserved bits set: 0x8000000000000000
  group 3 (DMA-FQ)
    0000:00:02.0  i915         pasid=20 (exec, priv)  ats=yes  pri=yes
  group 12 (type ?) weird group
    0000:3b:00.0  (no driver)
    0000:3b:00.1  i40e         pasid=no               ats=no   pri=no
ivhd0
  cap (CAP_HDR) 0x19640f
    CapID=15  IotlbSup=1
  features (EFR) 0x25bf732fa2295afe  format EFR2:EFR
    PPRSup=1  GTSup=1
  features (EFR2) 0x10
    GCR3TRPMode=0
    reserved bits set: 0x10
  (no group)
    0000:c0:00.2  (no driver)
smmu0
  (no devices)
evil"\\\x0a\x1b[2J\xff
  (no devices)
(no unit)
  group 20 (identity)
    0000:00:1f.0  lpc_ich

diagnostics: 2 warnings, 1 error
)");
}

TEST(FormatText, HostWithoutUnitsGivesTheReasons) {
  EXPECT_EQ(text(empty_host(), false),
            R"(host / (backend udev): 0 units, 0 groups, 0 devices

no IOMMU unit:
  - no DMAR, IVRS or IORT table in /sys/firmware/acpi/tables
  - kernel command line has intel_iommu=off

diagnostics: none
)");
}

TEST(FormatText, DevicesOfUnitsThatWereNotRead) {
  EXPECT_EQ(text(without_units(sample_host()), false),
            R"(host fake-sysfs/hosts/sample (backend dir): 0 units, 3 groups, 5 devices

dmar0 (not read)
  group 3 (DMA-FQ)
    0000:00:02.0  i915         pasid=20 (exec, priv)  ats=yes  pri=yes
  group 12 (type ?) weird group
    0000:3b:00.0  (no driver)
    0000:3b:00.1  i40e         pasid=no               ats=no   pri=no
ivhd0 (not read)
  (no group)
    0000:c0:00.2  (no driver)
(no unit)
  group 20 (identity)
    0000:00:1f.0  lpc_ich

no IOMMU unit

diagnostics: 1 warning, 1 error
)");
}

TEST(FormatText, HostileNamesAreEscaped) {
  EXPECT_EQ(text(host_with(hostile_unit()), true),
            R"(host t (backend dir): 1 unit, 0 groups, 0 devices

unit                    model    layout  input  output  asid  ssid  httu  nested  ats  pri  dirty  sm
evil"\\\x0a\x1b[2J\xff  unknown  none    ?      ?       ?     ?     ?     ?       ?    ?    ?      ?

evil"\\\x0a\x1b[2J\xff
  (no devices)

diagnostics: none
)");
}

TEST(FormatText, RegisterFieldsWrapBeforeColumn100) {
  std::vector<caps::Field> fields;
  for (int i = 0; i < 60; ++i)
    fields.push_back({"FIELD" + std::to_string(i), uint64_t{123456789} * static_cast<uint64_t>(i)});
  caps::Unit unit;
  unit.name = "u";
  unit.registers.push_back({"cap", make_register("CAP_REG", 1, fields), std::nullopt, ""});
  const std::string out = text(host_with(unit), true);
  std::istringstream lines(out);
  std::size_t field_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    EXPECT_LE(line.size(), 100u) << line;
    if (line.starts_with("    FIELD")) ++field_lines;
  }
  EXPECT_GT(field_lines, 5u);
  EXPECT_NE(out.find("FIELD59=7283950551\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace tools
