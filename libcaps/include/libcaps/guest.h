// SPDX-License-Identifier: MIT
// The guest description iommu-compat checks (contract: ../shared/reference/guest-config.md),
// with the file position of every key so findings can point at it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libcaps/model.h"
#include "libcaps/result.h"

namespace caps {

/// A value and where it was written.
template <class T>
struct Located {
  T value{};
  SourcePos pos;

  bool operator==(const Located&) const = default;
};

/// enum pasid_table_model of the 2018 bind_pasid_table proposal.
enum class PasidTableModel { kHost, kArm1Lvl, kArm2Lvl, kAmd, kIntel };
std::string_view to_string(PasidTableModel model);  // host, arm-1lvl, arm-2lvl, amd, intel

/// SMMUv3 STE.S1DSS: what non-PASID traffic does.
enum class S1dss { kTerminate, kBypass, kSsid0 };
std::string_view to_string(S1dss s1dss);  // terminate, bypass, ssid0

struct GuestViommu {
  Located<std::string> model;
  std::optional<Located<int>> input_bits;
  std::optional<Located<int>> output_bits;
  std::optional<Located<int>> asid_bits;
  std::optional<Located<int>> ssid_bits;  // absent = 0 (no PASID)
  std::optional<Located<Httu>> httu;
  std::optional<Located<Stall>> stall;
  std::optional<Located<bool>> btm;
  std::optional<Located<std::string>> pgtable_format;
  std::optional<Located<bool>> nested;
  std::optional<Located<bool>> ats;
  std::optional<Located<bool>> page_requests;
  std::optional<Located<bool>> dirty_tracking;
  std::optional<Located<std::vector<std::string>>> units;

  bool operator==(const GuestViommu&) const = default;
};

struct GuestDevice {
  Located<std::string> bdf;

  bool operator==(const GuestDevice&) const = default;
};

/// [pasid_table]: struct pasid_table_config as proposed, plus model and s1dss.
struct GuestPasidTable {
  SourcePos pos;  // of the [pasid_table] header
  Located<uint64_t> version;
  Located<uint64_t> bytes;
  Located<PasidTableModel> model;
  Located<uint64_t> base_ptr;
  Located<int> pasid_bits;
  std::optional<Located<S1dss>> s1dss;

  bool operator==(const GuestPasidTable&) const = default;
};

/// [stage1]: the nested stage-1 data a VMM hands the kernel with IOMMU_HWPT_ALLOC — what the
/// 2018 pasid_table_config became (include/uapi/linux/iommufd.h): `struct iommu_hwpt_vtd_s1`
/// (IOMMU_HWPT_DATA_VTD_S1) or the guest STE of `struct iommu_hwpt_arm_smmuv3`
/// (IOMMU_HWPT_DATA_ARM_SMMUV3).
enum class Stage1Type { kVtdS1, kArmSmmuV3 };
std::string_view to_string(Stage1Type type);  // vtd_s1, arm_smmuv3

/// STE.Config (word 0, bits 3:1): 0b000 abort, 0b100 bypass, 0b101 stage-1 translate, 0b110
/// stage-2 translate, 0b111 both (nested).
enum class SteConfig { kAbort, kBypass, kS1Trans, kS2Trans, kNested };
std::string_view to_string(SteConfig config);  // abort, bypass, s1-trans, s2-trans, nested

/// STE.S1Fmt: the layout of the guest's context-descriptor table.
enum class S1Fmt { kLinear, kTwoLevel4k, kTwoLevel64k };
std::string_view to_string(S1Fmt format);  // linear, 2lvl-4k, 2lvl-64k

/// STE.EATS: how the device's ATS translation requests are handled.
enum class Eats { kAbort, kTrans, kSplit };
std::string_view to_string(Eats eats);  // abort, trans, split

struct GuestStage1 {
  SourcePos pos;  // of the [stage1] header
  Located<Stage1Type> type;
  // vtd_s1
  std::optional<Located<int>> addr_width;  // 48 (4-level) or 57 (5-level)
  std::optional<Located<bool>> sre;        // IOMMU_VTD_S1_SRE: supervisor requests
  std::optional<Located<bool>> eafe;       // IOMMU_VTD_S1_EAFE: extended access flag
  std::optional<Located<bool>> wpe;        // IOMMU_VTD_S1_WPE: write protect (with SRE)
  std::optional<Located<uint64_t>> pgtbl_addr;
  // arm_smmuv3 (the vSTE)
  std::optional<Located<SteConfig>> config;
  std::optional<Located<S1Fmt>> s1fmt;
  std::optional<Located<int>> s1cdmax;  // log2 of the number of context descriptors
  std::optional<Located<S1dss>> s1dss;
  std::optional<Located<uint64_t>> s1_context_ptr;
  std::optional<Located<Eats>> eats;

  bool operator==(const GuestStage1&) const = default;
};

/// [pasid_alloc]: the PASIDs the VM will allocate.
struct GuestPasidAlloc {
  SourcePos pos;  // of the [pasid_alloc] header
  Located<uint64_t> min;
  Located<uint64_t> max;
  Located<uint64_t> count;
  Located<uint64_t> quota;  // default 1000

  bool operator==(const GuestPasidAlloc&) const = default;
};

/// [vfio]: how the VMM assigns the devices, and what the VM asks of that (docs/guest-file.md,
/// docs/iommufd.md). Checked by the backend.* rules.
struct GuestVfio {
  SourcePos pos;  // of the [vfio] header
  /// "iommufd" (QEMU -object iommufd, libvirt <iommufd enabled='yes'/>) or "legacy" (VFIO
  /// group and container); absent: not said.
  std::optional<Located<std::string>> backend;
  /// The confidential-computing technology: "sev", "sev-snp", "tdx"; absent: not confidential.
  std::optional<Located<std::string>> confidential;
  /// Live migration with the assigned devices, which needs IOMMU dirty tracking.
  std::optional<Located<bool>> migration;

  bool operator==(const GuestVfio&) const = default;
};

/// [memory]: the guest's RAM and CPU address width, which decide the guest-physical addresses
/// VFIO maps as IOVAs (docs/guest-file.md, "The memory map"). Absent values are not checked.
struct GuestMemory {
  SourcePos pos;                                  // of the [memory] header
  std::optional<Located<uint64_t>> size;          // bytes of RAM (QEMU -m, libvirt <memory>)
  std::optional<Located<int>> phys_bits;          // -cpu phys-bits=, <maxphysaddr bits>
  /// Where the RAM above the 32-bit PCI hole starts; absent = QEMU's choice (4 GiB, or 1 TiB
  /// on AMD hosts when it would reach the HyperTransport hole, QEMU 7.1 and later).
  std::optional<Located<uint64_t>> above_4g_start;

  bool operator==(const GuestMemory&) const = default;
};

/// Which syntax a guest came in.
enum class GuestSyntax { kToml, kQemu, kLibvirt };

/// A QEMU release: the VMM rules and the defaults that changed between releases depend on it.
struct QemuVersion {
  int major = 10;
  int minor = 0;

  auto operator<=>(const QemuVersion&) const = default;
};

/// One setting of a VMM configuration, spelled the way QEMU spells it whatever the syntax it came
/// in (libvirt's `caching_mode` is `viommu.caching-mode`), and where the user wrote it.
struct VmmSetting {
  /// "viommu" (value: the QEMU device type), "viommu.<option>" (`aw-bits`, `eim`, ...),
  /// "machine" (type), "machine.<option>" (`kernel-irqchip`, `iommu`, ...), "accel", "smp"
  /// (vCPUs), "m" (MiB), "cpu" (model), "cpu.phys-bits", "cpu.x2apic", "iommufd" (its id),
  /// "vfio-pci.host", "vfio-platform.host" (host= or sysfsdev=),
  /// "vfio-pci.iommufd", "ioapic" (libvirt's driver), "unchecked" (an option no rule reads).
  std::string name;
  std::string value;
  SourcePos pos;
  /// The user's own text: "argument 7 `-device intel-iommu,aw-bits=40`", "<driver aw_bits='40'>".
  std::string from;

  bool operator==(const VmmSetting&) const = default;
};

/// The VMM configuration a QEMU command line or libvirt domain gave, for the VMM's own rules
/// (vmm_rules.cc). Empty for a TOML guest: format 1 has no keys for these facts.
struct GuestVmm {
  GuestSyntax syntax = GuestSyntax::kToml;
  QemuVersion qemu_version;          // the release the rules judge by (--qemu-version)
  std::vector<VmmSetting> settings;  // in the order written

  bool operator==(const GuestVmm&) const = default;
};

struct Guest {
  std::string file;  // the name used in messages (path as given)
  int format = 1;
  SourcePos viommu_pos;  // of the [viommu] header
  GuestViommu viommu;
  std::vector<GuestDevice> devices;
  std::optional<GuestPasidTable> pasid_table;
  std::optional<GuestPasidAlloc> pasid_alloc;
  std::optional<GuestStage1> stage1;
  std::optional<GuestVfio> vfio = std::nullopt;
  std::optional<GuestMemory> memory;
  GuestVmm vmm;

  bool operator==(const Guest&) const = default;
};

/// Parses a guest file. `file` is only used in messages. On failure returns every problem
/// found, each with `where` = the file, `pos` the key's line and column, and a message naming
/// the key.
tl::expected<Guest, std::vector<Error>> parse_guest(std::string_view text, std::string_view file);

/// Checks what a guest says, whichever front end built it (guest file, QEMU command line,
/// libvirt XML): integer ranges, the vIOMMU model name, non-empty strings, device names and
/// devices given twice, the units list. Values left out are not checked (absent is not wrong).
/// parse_guest runs the same checks on every file it reads, after the TOML syntax (keys,
/// types, positions). Each error's `where` is `guest.file` and its `pos` the value's position
/// (line 0 for a value without one). Changes nothing in `guest` today.
std::vector<Error> validate_guest(Guest& guest);

/// Serializes a guest as a guest file (format 1) that parse_guest reads back to the same
/// values (positions aside).
std::string write_guest(const Guest& guest);

}  // namespace caps
