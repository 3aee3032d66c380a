// SPDX-License-Identifier: MIT
// Hosts for tests, built once: hand-built units of each layout, a hostile unit, a sample host
// with groups and devices in every optional state, a host without units; small hosts made of
// given units; and the names of the fixture hosts under fake-sysfs/hosts.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "libcaps/model.h"

namespace caps::testing {

inline caps::Register make_register(std::string name, uint64_t raw, std::vector<caps::Field> fields,
                                    uint64_t reserved = 0) {
  return caps::Register{std::move(name), raw, std::move(fields), reserved};
}

inline caps::Unit intel_unit() {
  caps::Unit u;
  u.name = "dmar0";
  u.model = "intel-vtd";
  u.layout = caps::Layout::kIntelIommu;
  u.caps.input_bits = 48;
  u.caps.asid_bits = 16;
  u.caps.ssid_bits = 20;
  u.caps.httu = caps::Httu::kAccessDirty;
  u.caps.pgtable_formats = {"vtd-ss-39", "vtd-ss-48", "vtd-fs-48"};
  u.caps.nested = true;
  u.caps.ats = true;
  u.caps.page_requests = true;
  u.caps.dirty_tracking = true;
  u.caps.scalable_mode = true;
  u.evidence = {{"input_bits", "cap.MGAW=47, cap.SAGAW=6"}, {"ssid_bits", "ecap.PSS=19"}};
  u.registers.push_back(
      {"cap",
       make_register(
           "CAP_REG", 0x9ed008c40780466,
           {{"ND", 6},    {"AFL", 0},     {"RWBF", 0},  {"PLMR", 0},    {"PHMR", 0},  {"CM", 0},
            {"SAGAW", 6}, {"MGAW", 47},   {"ZLR", 1},   {"FRO", 0x200}, {"SLLPS", 3}, {"PSI", 1},
            {"NFR", 3},   {"MAMV", 9},    {"DWD", 1},   {"DRD", 1},     {"FL1GP", 1}, {"PI", 1},
            {"FL5LP", 0}, {"ESIRTPS", 0}, {"ESRTPS", 0}}),
       std::nullopt, ""});
  u.registers.push_back(
      {"ecap",
       make_register("ECAP_REG", 0xf0df, {{"C", 1}, {"QI", 1}, {"DT", 1}, {"PASID", 1}},
                     0x8000000000000000),
       std::nullopt, ""});
  u.properties = {{"address", "0xd37fc000"}, {"version", "6:0"}};
  u.extra = {{"interrupt_remapping", true}, {"large_pages", int64_t{3}}};
  u.devices = {"0000:00:02.0", "0000:3b:00.0", "0000:3b:00.1"};
  return u;
}

inline caps::Unit amd_unit() {
  caps::Unit u;
  u.name = "ivhd0";
  u.model = "amd-vi";
  u.layout = caps::Layout::kAmdIommu;
  u.caps.input_bits = 64;
  u.caps.asid_bits = 16;
  u.caps.ssid_bits = 16;
  u.caps.httu = caps::Httu::kAccess;
  u.caps.pgtable_formats = {"amd-v1-6L", "amd-v2-4L"};
  u.caps.nested = false;
  u.caps.ats = true;
  u.caps.page_requests = true;
  u.caps.dirty_tracking = false;
  u.registers.push_back({"cap",
                         make_register("CAP_HDR", 0x19640f, {{"CapID", 15}, {"IotlbSup", 1}}),
                         std::nullopt, ""});
  u.registers.push_back({"features",
                         make_register("EFR", 0x25bf732fa2295afe, {{"PPRSup", 1}, {"GTSup", 1}}),
                         make_register("EFR2", 0x10, {{"GCR3TRPMode", 0}}, 0x10), "EFR2:EFR"});
  u.extra = {{"snp", false}};
  u.devices = {"0000:c0:00.2"};
  return u;
}

inline caps::Unit generic_unit() {
  caps::Unit u;
  u.name = "smmu0";
  u.model = "arm-smmu-v3";
  u.layout = caps::Layout::kGeneric;
  u.caps.input_bits = 48;
  u.caps.asid_bits = 16;
  u.caps.ssid_bits = 0;
  u.caps.stall = caps::Stall::kForce;
  u.caps.btm = true;
  u.caps.pgtable_formats = std::vector<std::string>{};
  u.properties = {{"model", "2"}, {"vendor_quirk", "yes"}};
  u.diagnostics.push_back({"class/iommu/smmu0/arm-smmu-v3/output_bits", caps::Severity::kWarning,
                           "not a decimal number: \"4x\""});
  return u;
}

/// A unit whose names were written by someone hostile.
inline caps::Unit hostile_unit() {
  caps::Unit u;
  u.name = "evil\"\\\n\x1b[2J\xff";
  u.properties = {{"we ird.key\"", "line1\nline2\t\x01"}, {"", "empty key"}};
  u.extra = {{"neg", int64_t{-5}}, {"text", std::string("\x7f\xc3\xa9")}};
  return u;
}

inline caps::Host sample_host() {
  caps::Host h;
  h.backend = "dir";
  h.root = "fake-sysfs/hosts/sample";
  h.units = {intel_unit(), amd_unit(), generic_unit(), hostile_unit()};
  h.groups.push_back({3,
                      "DMA-FQ",
                      std::nullopt,
                      {"0000:00:02.0"},
                      {{0xfee00000, 0xfeefffff, "msi"}, {0x7b800000, 0x7fffffff, "direct"}}});
  h.groups.push_back({12, std::nullopt, "weird group", {"0000:3b:00.0", "0000:3b:00.1"}, {}});
  h.groups.push_back({20, "identity", std::nullopt, {"0000:00:1f.0"}, {}});

  caps::Device gpu{"0000:00:02.0", "dmar0", 3, "i915", caps::PciInfo{}};
  gpu.pci->vendor = 0x8086;
  gpu.pci->device = 0x9a49;
  gpu.pci->class_code = 0x030000;
  gpu.pci->pasid = std::optional<caps::PasidCapability>(caps::PasidCapability{20, true, true});
  gpu.pci->ats = true;
  gpu.pci->pri = true;
  caps::Device nic0{"0000:3b:00.0", "dmar0", 12, std::nullopt, caps::PciInfo{}};
  nic0.pci->vendor = 0x8086;
  nic0.pci->device = 0x1572;
  nic0.pci->class_code = 0x020000;
  caps::Device nic1 = nic0;
  nic1.name = "0000:3b:00.1";
  nic1.driver = "i40e";
  nic1.pci->header_type = 1;
  nic1.pci->pasid = std::optional<caps::PasidCapability>();
  nic1.pci->ats = false;
  nic1.pci->pri = false;
  caps::Device lpc{"0000:00:1f.0", std::nullopt, 20, "lpc_ich", std::nullopt};
  caps::Device amd{"0000:c0:00.2", "ivhd0", std::nullopt, std::nullopt, std::nullopt};
  h.devices = {gpu, lpc, amd, nic0, nic1};

  h.platform.acpi_tables = {"DMAR", "IVRS"};
  h.platform.cmdline = "BOOT_IMAGE=/vmlinuz intel_iommu=on";
  h.diagnostics.push_back(
      {"kernel/iommu_groups/12/type", caps::Severity::kWarning, "missing, group type unknown"});
  h.diagnostics.push_back({"/proc/cmdline", caps::Severity::kError, "permission denied"});
  return h;
}

/// A host of the directory backend at `root` holding `units` and nothing else.
inline caps::Host host_of(std::string root, std::vector<caps::Unit> units) {
  caps::Host h;
  h.backend = "dir";
  h.root = std::move(root);
  h.units = std::move(units);
  return h;
}

/// A host at "t" holding one unit.
inline caps::Host host_with(caps::Unit unit) { return host_of("t", {std::move(unit)}); }

/// `host` with its units removed; groups, devices and platform facts kept.
inline caps::Host without_units(caps::Host host) {
  host.units.clear();
  return host;
}

/// The fixture hosts, sorted by name: the directories of fake-sysfs/hosts that carry a SOURCE
/// file (IOMMU_SOURCE_DIR is the source tree, a compile definition of every unit test).
inline std::vector<std::string> fixture_host_names() {
  namespace fs = std::filesystem;
  std::vector<std::string> hosts;
  for (const fs::directory_entry& e :
       fs::directory_iterator(IOMMU_SOURCE_DIR "/fake-sysfs/hosts")) {
    if (e.is_directory() && fs::exists(e.path() / "SOURCE")) hosts.push_back(e.path().filename());
  }
  std::sort(hosts.begin(), hosts.end());
  return hosts;
}

/// A host without units: only the reasons.
inline caps::Host empty_host() {
  caps::Host h;
  h.backend = "udev";
  h.root = "/";
  h.platform.why_no_units = {"no DMAR, IVRS or IORT table in /sys/firmware/acpi/tables",
                             "kernel command line has intel_iommu=off"};
  return h;
}

}  // namespace caps::testing
