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

/// [pasid_alloc]: the PASIDs the VM will allocate.
struct GuestPasidAlloc {
  SourcePos pos;  // of the [pasid_alloc] header
  Located<uint64_t> min;
  Located<uint64_t> max;
  Located<uint64_t> count;
  Located<uint64_t> quota;  // default 1000

  bool operator==(const GuestPasidAlloc&) const = default;
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
