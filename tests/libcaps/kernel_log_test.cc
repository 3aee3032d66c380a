// SPDX-License-Identifier: MIT
// Tests for libcaps/src/reading/kernel_log.cc: prefixes, wrapped lines, each known line, the
// why-no-unit facts, and the real logs of the VM tier's guests against their sysfs trees.
#include "libcaps/kernel_log.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "libcaps/decode.h"
#include "libcaps/reader.h"
#include "libcaps/source.h"
#include "support/log_agreement.h"

namespace caps {
namespace {

const std::filesystem::path kSourceDir = IOMMU_SOURCE_DIR;

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(KernelLogMessage, StripsEveryPrefix) {
  const std::string_view m = "DMAR: IOMMU enabled";
  EXPECT_EQ(kernel_log_message("[    0.092356] DMAR: IOMMU enabled"), m);
  EXPECT_EQ(kernel_log_message("[Wed Dec  2 16:42:02 2026] DMAR: IOMMU enabled"), m);
  EXPECT_EQ(kernel_log_message("Dec 02 16:42:02 host kernel: DMAR: IOMMU enabled\r"), m);
  EXPECT_EQ(kernel_log_message("Dec  2 16:42:02 host kernel: [    0.09] DMAR: IOMMU enabled"), m);
  EXPECT_EQ(kernel_log_message("2026-12-02T16:42:02+0000 host kernel: DMAR: IOMMU enabled"), m);
  EXPECT_EQ(kernel_log_message("<6>[    0.092356] DMAR: IOMMU enabled"), m);
  EXPECT_EQ(kernel_log_message("kern  :info  : [    0.092356] DMAR: IOMMU enabled"), m);
  EXPECT_EQ(kernel_log_message("  DMAR: IOMMU enabled  "), m);
  // A bracket that is no timestamp stays.
  EXPECT_EQ(kernel_log_message("[drm] Initialized"), "[drm] Initialized");
}

// Real register values (shared/reference/real-registers.md): a Xeon with scalable mode,
// version 6:0 at aa3fc000, in journalctl's form.
TEST(KernelLog, VtdLineDecodesLikeSysfs) {
  KernelLogRead read = read_kernel_log(
      "Dec 02 16:42:02 host kernel: Linux version 6.8.0-49-generic (buildd@lcy02) #49\n"
      "Dec 02 16:42:02 host kernel: DMAR: dmar0: reg_base_addr aa3fc000 ver 6:0 cap "
      "9ed008c40780466 ecap 3ee9e86f050df\n",
      "journal.txt");
  ASSERT_EQ(read.host.units.size(), 1u);
  const Unit& unit = read.host.units[0];
  EXPECT_EQ(unit.name, "dmar0");
  EXPECT_EQ(unit.model, kModelIntelVtd);
  EXPECT_EQ(unit.layout, Layout::kIntelIommu);
  ASSERT_EQ(unit.registers.size(), 2u);
  EXPECT_EQ(unit.registers[0].main, decode(vtd_cap_spec(), 0x9ed008c40780466));
  EXPECT_EQ(unit.registers[1].main, decode(vtd_ecap_spec(), 0x3ee9e86f050df));
  const Normalized n = normalize_vtd(&unit.registers[0].main, &unit.registers[1].main);
  EXPECT_EQ(unit.caps, n.caps);
  EXPECT_EQ(unit.extra, n.extra);
  EXPECT_EQ(unit.properties.at("version"), "6:0");
  EXPECT_EQ(unit.properties.at("address"), "0xaa3fc000");
  for (const auto& [name, text] : unit.evidence) {
    EXPECT_TRUE(text.ends_with("(from the log, line 2)")) << name << ": " << text;
  }
  EXPECT_EQ(read.host.backend, "log");
  EXPECT_EQ(read.host.root, "journal.txt");
  EXPECT_EQ(read.host.platform.kernel_release, "6.8.0-49-generic");
  EXPECT_EQ(read.unknown, 0u);
}

TEST(KernelLog, OldVtdNameAndWrappedLine) {
  KernelLogRead read = read_kernel_log(
      "[    0.1] IOMMU 1: reg_base_addr fed91000 ver 1:0 cap c0000020660462\n"
      "ecap f0101a\n"
      "[    0.2] something else\n",
      "report");
  ASSERT_EQ(read.host.units.size(), 1u);
  EXPECT_EQ(read.host.units[0].name, "dmar1");
  EXPECT_EQ(read.host.units[0].registers[1].main.raw, 0xf0101au);
  EXPECT_TRUE(read.host.units[0].evidence.at("model").ends_with("(from the log, lines 1-2)"));
  EXPECT_EQ(read.known, 2u);
  EXPECT_EQ(read.unknown, 1u);
}

// A mailer wrapped the AMD line inside its parentheses (Zen 2/3 values, real-registers.md).
TEST(KernelLog, WrappedAmdLine) {
  KernelLogRead read = read_kernel_log(
      "[    1.0] AMD-Vi: Extended features (0x58f77ef22294a5a,\n"
      "0x0): PPR NX GT IA PC GA_vAPIC\n",
      "mail");
  ASSERT_EQ(read.host.units.size(), 1u);
  EXPECT_EQ(read.host.units[0].registers[0].main.raw, 0x58f77ef22294a5au);
  EXPECT_EQ(read.host.units[0].evidence.at("model"),
            "AMD-Vi Extended features line: model = amd-vi (from the log, lines 1-2)");
  EXPECT_EQ(read.known, 2u);
}

TEST(KernelLog, CutLineIsAWarningNotAUnit) {
  KernelLogRead read =
      read_kernel_log("[    0.1] DMAR: dmar0: reg_base_addr fed90000 ver 1:0 cap d2008c22260206\n"
                      "[    0.2] DMAR: next\n",
                      "cut");
  EXPECT_TRUE(read.host.units.empty());
  ASSERT_EQ(read.host.diagnostics.size(), 1u);
  EXPECT_EQ(read.host.diagnostics[0].path, "log line 1");
  EXPECT_EQ(read.host.diagnostics[0].severity, Severity::kWarning);
}

// AMD: the three kernel-era forms. EFR values from real-registers.md (Zen 4 SNP, older APU).
TEST(KernelLog, AmdForms) {
  KernelLogRead read = read_kernel_log(
      "[    1.0] pci 0000:00:00.2: AMD-Vi: Found IOMMU cap 0x40\n"
      "[    1.0] AMD-Vi: Extended features (0xa5bf7320a2294aee, 0x1d): PPR X2APIC NX [5] IA GA "
      "PC GA_vAPIC SNP\n"
      "[    1.0] pci 0000:40:00.2: AMD-Vi: Extended features (0x800000853): PreF PPR GT IA\n"
      "[    1.0] AMD-Vi: Extended features (0x800000853, 0):\n",
      "amd");
  ASSERT_EQ(read.host.units.size(), 3u);
  const Unit& snp = read.host.units[0];
  EXPECT_EQ(snp.name, "ivhd0");
  EXPECT_EQ(snp.model, kModelAmdVi);
  ASSERT_EQ(snp.registers.size(), 1u);
  EXPECT_EQ(snp.registers[0].main, decode(amd_efr_spec(), 0xa5bf7320a2294aee));
  ASSERT_TRUE(snp.registers[0].second);
  EXPECT_EQ(snp.registers[0].second->raw, 0x1du);
  const Normalized n = normalize_amd(nullptr, &snp.registers[0].main, &*snp.registers[0].second);
  EXPECT_EQ(snp.caps, n.caps);
  EXPECT_FALSE(snp.caps.ats);  // the capability header is not in the log
  EXPECT_EQ(read.host.units[1].name, "ivhd1");
  EXPECT_FALSE(read.host.units[1].registers[0].second);
  EXPECT_EQ(read.host.units[2].registers[0].second->raw, 0u);  // %#llx prints zero as "0"
}

TEST(KernelLog, SmmuLine) {
  KernelLogRead read = read_kernel_log(
      "[    0.771405] arm-smmu-v3 9050000.smmuv3: ias 44-bit, oas 44-bit (features 0x00008305)\n"
      "[    0.8] arm-smmu-v3 arm-smmu-v3.0.auto: ias 48-bit, oas 48-bit (features 0x00002e3f)\n",
      "arm");
  ASSERT_EQ(read.host.units.size(), 2u);
  const Unit& acpi = read.host.units[0];
  const Unit& dt = read.host.units[1];
  EXPECT_EQ(dt.name, "smmu3.0x0000000009050000");
  EXPECT_EQ(dt.model, kModelArmSmmuV3);
  EXPECT_EQ(dt.caps.output_bits, 44);
  EXPECT_FALSE(dt.caps.input_bits);  // the driver's ias is not the input size
  EXPECT_EQ(dt.caps.ats, false);
  EXPECT_EQ(dt.caps.page_requests, false);
  EXPECT_EQ(dt.caps.nested, false);  // TRANS_S1 without TRANS_S2
  EXPECT_EQ(dt.caps.stall, Stall::kDisabled);
  EXPECT_FALSE(dt.caps.btm);  // bit 16 moved between releases
  // 0x2e3f: bits 0-5 (2_LVL_STRTAB .. ATS), TRANS_S1, TRANS_S2, STALLS, STALL_FORCE.
  EXPECT_EQ(acpi.name, "arm-smmu-v3.0.auto");
  EXPECT_EQ(acpi.caps.ats, true);
  EXPECT_EQ(acpi.caps.page_requests, true);
  EXPECT_EQ(acpi.caps.nested, true);
  EXPECT_EQ(acpi.caps.stall, Stall::kForce);
  EXPECT_EQ(read.host.diagnostics.size(), 1u);  // no address in the ACPI name
}

// 7.3 dropped smmu->ias: the line of the VM tier's qemu-smmuv3-iommufd-7.3 guest, as printed.
TEST(KernelLog, SmmuLineWithoutIas) {
  KernelLogRead read = read_kernel_log(
      "[    0.244129] arm-smmu-v3 9050000.smmuv3: oas 44-bit (features 0x01008305)\n"
      "[    0.3] arm-smmu-v3 9060000.smmuv3: oas x-bit (features 0x01008305)\n"
      "[    0.4] arm-smmu-v3 9070000.smmuv3: oas 48-bit\n",
      "arm");
  ASSERT_EQ(read.host.units.size(), 1u);
  const Unit& u = read.host.units[0];
  EXPECT_EQ(u.name, "smmu3.0x0000000009050000");
  EXPECT_EQ(u.model, kModelArmSmmuV3);
  EXPECT_EQ(u.caps.output_bits, 44);
  EXPECT_FALSE(u.caps.input_bits);
  EXPECT_EQ(u.caps.ats, false);
  EXPECT_EQ(u.caps.nested, false);
  EXPECT_EQ(u.caps.stall, Stall::kDisabled);
  // The unparsable width is a warning; the line cut before "(features" is not a unit.
  ASSERT_FALSE(read.host.diagnostics.empty());
  EXPECT_NE(read.host.diagnostics[0].message.find("does not parse"), std::string::npos);
}

TEST(KernelLog, GroupsAndRemoval) {
  KernelLogRead read = read_kernel_log(
      "[    0.0] Linux version 6.1.0-50-amd64 (x)\n"
      "[    0.1] DMAR: dmar0: reg_base_addr fed90000 ver 1:0 cap d2008c22260206 ecap f00f4a\n"
      "[    1.4] pci 0000:00:1f.2: Adding to iommu group 5\n"
      "[    1.4] pci 0000:00:1f.0: Adding to iommu group 5\n"
      "[    1.5] nvme 0000:02:00.0: Adding to iommu group 7\n"
      "[    9.0] pci 0000:02:00.0: Removing from iommu group 7\n",
      "g");
  ASSERT_EQ(read.host.groups.size(), 1u);
  EXPECT_EQ(read.host.groups[0].id, 5u);
  EXPECT_EQ(read.host.groups[0].devices,
            (std::vector<std::string>{"0000:00:1f.0", "0000:00:1f.2"}));
  EXPECT_TRUE(read.host.groups[0].devices_known);
  ASSERT_EQ(read.host.devices.size(), 2u);
  EXPECT_EQ(read.host.devices[0].unit, "dmar0");
  EXPECT_FALSE(read.host.devices[0].driver_known);
  EXPECT_EQ(read.host.units[0].devices.size(), 2u);
}

TEST(KernelLog, WhyNoUnit) {
  KernelLogRead read = read_kernel_log(
      "[    0.0] Linux version 6.1.0-50-amd64 (x)\n"
      "[    0.0] Command line: BOOT_IMAGE=/vmlinuz intel_iommu=off quiet\n"
      "[    0.0] ACPI: DMAR 0x000000003FFE309A 000088 (v01 BOCHS  BXPC     00000001)\n"
      "[    0.1] DMAR: IOMMU disabled\n",
      "off");
  EXPECT_TRUE(read.host.units.empty());
  EXPECT_EQ(read.host.platform.acpi_tables, (std::vector<std::string>{"DMAR"}));
  EXPECT_EQ(read.host.platform.cmdline, "BOOT_IMAGE=/vmlinuz intel_iommu=off quiet");
  const auto& why = read.host.platform.why_no_units;
  ASSERT_EQ(why.size(), 3u);
  EXPECT_NE(why[0].find("DMAR: IOMMU disabled\" (from the log, line 4)"), std::string::npos);
  EXPECT_NE(why[1].find("intel_iommu=off on the kernel command line (from the log, line 2)"),
            std::string::npos);
  EXPECT_NE(why[2].find("ACPI DMAR table"), std::string::npos);
}

TEST(KernelLog, TwoBootsKeepTheLast) {
  KernelLogRead read = read_kernel_log(
      "Linux version 5.15.0 (a)\n"
      "DMAR: dmar0: reg_base_addr fed90000 ver 1:0 cap d2008c22260206 ecap f00f4a\n"
      "Linux version 6.1.0 (b)\n",
      "two");
  EXPECT_TRUE(read.host.units.empty());
  EXPECT_EQ(read.host.platform.kernel_release, "6.1.0");
  ASSERT_EQ(read.host.diagnostics.size(), 1u);
  EXPECT_EQ(read.host.diagnostics[0].path, "log line 3");
}

TEST(KernelLog, GarbageIsCountedNeverFatal) {
  std::string text = "\x01\xff binary\n[ not a stamp ] x\n\n)(\nAMD-Vi: Extended features (zz):\n";
  KernelLogRead read = read_kernel_log(text, "junk");
  EXPECT_TRUE(read.host.units.empty());
  EXPECT_EQ(read.lines, 5u);
  EXPECT_EQ(read.unknown, 3u);
  EXPECT_EQ(read.host.diagnostics.size(), 1u);
}

// Done-when of issue 11 item 4: the real kernel log of each VM-tier guest gives the same unit
// facts as the sysfs tree of the same machine (the checked-in fake-sysfs/hosts/<case>, which
// vm.fixture holds equal to a fresh capture).
class LogAgreesWithTree : public ::testing::TestWithParam<std::string> {};

TEST_P(LogAgreesWithTree, SameUnitFacts) {
  const std::string name = GetParam();
  // tests/kernel-log/logs/NAME.dmesg, or the log the VM tier keeps beside a fixture's tree
  // (the iommufd cases' fake-sysfs/hosts/NAME/dmesg, of the boot that wrote the tree).
  const std::filesystem::path logged = kSourceDir / "tests/kernel-log/logs" / (name + ".dmesg");
  const std::string text = slurp(std::filesystem::exists(logged)
                                     ? logged
                                     : kSourceDir / "fake-sysfs/hosts" / name / "dmesg");
  ASSERT_FALSE(text.empty());
  KernelLogRead log = read_kernel_log(text, name + ".dmesg");
  auto source = open_dir_source((kSourceDir / "fake-sysfs/hosts" / name).string());
  ASSERT_TRUE(source);
  Host tree = read_host(**source);
  // The one warning a VM guest's log gives: virtio-iommu's unit is named by its PCI function
  // in sysfs, which the log does not give (6.1 has no virtio-iommu driver: no unit at all).
  for (const Diagnostic& d : log.host.diagnostics) {
    EXPECT_TRUE(name == "qemu-virtio-iommu-6.12" && d.message.starts_with("virtio-iommu unit"))
        << d.path << ": " << d.message;
  }
  std::vector<std::string> problems = testing::log_tree_disagreements(log.host, tree);
  std::string all;
  for (const std::string& p : problems) all += p + "\n";
  EXPECT_TRUE(problems.empty()) << all;
  EXPECT_EQ(log.host.units.empty(), name == "qemu-virtio-iommu-6.1");
  EXPECT_EQ(log.unknown + log.known, log.lines);
}

std::vector<std::string> logged_cases() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(kSourceDir / "tests/kernel-log/logs")) {
    if (e.path().extension() == ".dmesg") names.push_back(e.path().stem().string());
  }
  for (const auto& e : std::filesystem::directory_iterator(kSourceDir / "fake-sysfs/hosts")) {
    if (std::filesystem::is_regular_file(e.path() / "dmesg") &&
        std::find(names.begin(), names.end(), e.path().filename().string()) == names.end()) {
      names.push_back(e.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(VmGuests, LogAgreesWithTree, ::testing::ValuesIn(logged_cases()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string n = param.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace caps
