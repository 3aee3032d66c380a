// SPDX-License-Identifier: MIT
// The capability model: what libcaps reads from a host and every tool prints or checks.
// Contract: ../shared/reference/capability-model.md. `std::nullopt` always means "unknown".
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "libcaps/diagnostic.h"

namespace caps {

/// Which on-disk layout described a unit.
enum class Layout { kIntelIommu, kAmdIommu, kGeneric, kNone };
std::string_view to_string(Layout layout);  // "intel-iommu", "amd-iommu", "generic", "none"

/// Hardware translation-table update (access/dirty flag updates), ordered.
enum class Httu { kNone, kAccess, kAccessDirty };
std::string_view to_string(Httu httu);  // "none", "access", "access+dirty"
std::optional<Httu> parse_httu(std::string_view text);

/// SMMU stall model.
enum class Stall { kDisabled, kEnabled, kForce };
std::string_view to_string(Stall stall);  // "disabled", "enabled", "force"
std::optional<Stall> parse_stall(std::string_view text);

/// Model names as the contract spells them. Every fact about a model is in libcaps' model
/// table; these constants name the four for programs and tests.
inline constexpr std::string_view kModelIntelVtd = "intel-vtd";
inline constexpr std::string_view kModelAmdVi = "amd-vi";
inline constexpr std::string_view kModelArmSmmuV3 = "arm-smmu-v3";
inline constexpr std::string_view kModelVirtioIommu = "virtio-iommu";
inline constexpr std::string_view kModelUnknown = "unknown";

/// Whether `model` is one a vIOMMU can be (a row of the model table; not kModelUnknown).
bool is_known_model(std::string_view model);

/// Every model a vIOMMU can be, in the order guest files and help texts list them.
std::span<const std::string_view> model_names();

/// The normalized properties every vendor maps onto (capability-model.md section 2).
struct Caps {
  std::optional<int> input_bits;
  std::optional<int> output_bits;
  std::optional<int> asid_bits;
  std::optional<int> ssid_bits;
  std::optional<Httu> httu;
  std::optional<Stall> stall;
  std::optional<bool> btm;
  std::optional<std::vector<std::string>> pgtable_formats;
  std::optional<bool> nested;
  std::optional<bool> ats;
  std::optional<bool> page_requests;
  std::optional<bool> dirty_tracking;
  std::optional<bool> scalable_mode;

  bool operator==(const Caps&) const = default;
};

/// One decoded register field: the spec's name and the raw field value (not adjusted).
struct Field {
  std::string name;
  uint64_t value = 0;

  bool operator==(const Field&) const = default;
};

/// A register decoded completely: every defined field, in bit order, and the reserved bits
/// that are set (never dropped).
struct Register {
  std::string name;  // spec name: "CAP_REG", "ECAP_REG", "EFR", "EFR2", "CAP_HDR"
  uint64_t raw = 0;
  std::vector<Field> fields;
  uint64_t reserved = 0;

  /// The value of the field `field_name`, if the register defines it.
  std::optional<uint64_t> field(std::string_view field_name) const;

  bool operator==(const Register&) const = default;
};

/// One register file of a unit ("cap", "ecap", "features"). AMD `features` holds EFR and,
/// on newer kernels, EFR2; `format` says which order the file used.
struct RegisterFile {
  std::string file;
  Register main;
  std::optional<Register> second;  // EFR2 for amd-iommu/features
  std::string format;              // features: "EFR", "EFR2:EFR" or "EFR:EFR2"; else empty

  bool operator==(const RegisterFile&) const = default;
};

/// What IOMMU_GET_HW_INFO said about a unit, asked through one device bound to iommufd
/// (libcaps/iommufd.h, docs/iommufd.md). Only the kernel's answer: nothing here is guessed.
struct IommufdUnitInfo {
  std::string device;         // the vfio-pci function it was asked through: "0000:3b:00.0"
  uint32_t data_type = 0;     // out_data_type (enum iommu_hw_info_type)
  uint32_t data_len = 0;      // the vendor data's length, as the kernel reported it
  std::string data;           // the vendor data as returned: lowercase hex, bytes in memory order
  std::vector<Field> fields;  // the vendor data by uapi member ("cap_reg", "idr0", "iidr")
  std::vector<Register> registers;    // decoded vendor registers (VT-d CAP_REG and ECAP_REG)
  std::optional<bool> matches_sysfs;  // VT-d: cap_reg and ecap_reg equal the sysfs cap and ecap

  bool operator==(const IommufdUnitInfo&) const = default;
};

/// iommufd's enum iommu_hw_info_type as a name: "none", "intel-vtd", "arm-smmuv3",
/// "tegra241-cmdqv", "amd"; "type-<n>" for a number this version does not know.
std::string iommufd_data_type_name(uint32_t type);

/// A typed vendor extra (interrupt remapping, posted interrupts, SNP, ...).
using Scalar = std::variant<bool, int64_t, std::string>;

/// One IOMMU unit: /sys/class/iommu/<name>.
struct Unit {
  std::string name;
  std::string model = std::string(kModelUnknown);
  Layout layout = Layout::kNone;
  Caps caps;
  /// Why each known normalized property has its value, by property name:
  /// {"ssid_bits", "ecap.PSS=19, ecap.PASID=1, ecap.SMTS=1"}. Checkers quote it.
  std::map<std::string, std::string> evidence;
  std::vector<RegisterFile> registers;  // in file-name order
  /// Plain file values of the layout that are not registers (intel: version, address,
  /// domains_*; generic: model number and unknown extra properties), by file name.
  std::map<std::string, std::string> properties;
  std::map<std::string, Scalar> extra;
  std::vector<std::string> devices;  // names under devices/, natural order
  Diagnostics diagnostics;
  /// IOMMU_GET_HW_INFO through a device this unit serves; nullopt when not asked or no answer.
  std::optional<IommufdUnitInfo> iommufd = std::nullopt;

  bool operator==(const Unit&) const = default;
};

/// One line of /sys/kernel/iommu_groups/<id>/reserved_regions (end is inclusive).
struct ReservedRegion {
  uint64_t start = 0;
  uint64_t end = 0;
  std::string type;  // direct, direct-relaxable, reserved, msi

  bool operator==(const ReservedRegion&) const = default;
};

/// One IOMMU group: /sys/kernel/iommu_groups/<id>.
struct Group {
  uint64_t id = 0;
  std::optional<std::string> type;  // DMA, DMA-FQ, identity, blocked, unmanaged, unknown
  std::optional<std::string> name;
  std::vector<std::string> devices;  // natural order
  std::vector<ReservedRegion> reserved_regions;
  /// False when devices/ could not be listed: then `devices` may miss members, and nothing
  /// can be certified about the group.
  bool devices_known = true;
  /// False when reserved_regions could not be read whole (missing, unreadable, a line that does
  /// not parse, or a host from a kernel log): the list may miss a region, so the region.* rules
  /// cannot certify the group.
  bool reserved_regions_known = true;

  bool operator==(const Group&) const = default;
};

/// The largest PASID width PCIe can carry (PASID capability Max PASID Width, pci_regs.h).
inline constexpr int kPciePasidBits = 20;

/// The PCIe PASID extended capability (pci_regs.h PCI_EXT_CAP_ID_PASID).
struct PasidCapability {
  int max_width = 0;  // Max PASID Width, cap [12:8]
  bool exec = false;  // Execute Permission Supported
  bool priv = false;  // Privileged Mode Supported

  bool operator==(const PasidCapability&) const = default;
};

/// What a device's PCI config space says, when its `config` file is readable. The kernel
/// gives root the function's whole config space: 4096 bytes with PCIe extended space, 256
/// without (conventional PCI, or no ECAM): then it has no extended capabilities. A non-root
/// read gets 64 bytes (128 for CardBus) whatever the device has: extended capabilities stay
/// unknown (nullopt) then, never "absent".
struct PciInfo {
  uint16_t vendor = 0;
  uint16_t device = 0;
  uint32_t class_code = 0;  // 24-bit class code
  uint8_t header_type = 0;  // low 7 bits of config 0x0e: 0 normal, 1 bridge, 2 cardbus
  /// nullopt: extended config space not readable. Inner nullopt: capability absent.
  std::optional<std::optional<PasidCapability>> pasid;
  std::optional<bool> ats;
  std::optional<bool> pri;
  /// How many bytes `config` gave (pci_read_config() in drivers/pci/pci-sysfs.c: 64 or 128
  /// for non-root, else the function's cfg_size, 256 or 4096); 0 = not known (a host report
  /// written before this was recorded).
  uint32_t config_size = 0;

  bool operator==(const PciInfo&) const = default;
};

/// What iommufd said about one vfio-pci function (IOMMU_GET_HW_INFO's per-device answers), or
/// why it could not be asked.
struct IommufdDeviceInfo {
  std::string cdev;  // its vfio cdev: "vfio3" (/dev/vfio/devices/vfio3)
  /// out_capabilities (IOMMU_HW_CAP_*); nullopt: not asked, or a kernel before 6.7.
  std::optional<uint64_t> capabilities;
  /// out_max_pasid_log2 (0: no PASID); nullopt: not asked, or a kernel before 6.15.
  std::optional<int> max_pasid_log2;
  /// Why it was not answered ("VFIO_DEVICE_BIND_IOMMUFD: EBUSY ..."); empty when answered.
  std::string error;

  bool operator==(const IommufdDeviceInfo&) const = default;
};

/// A device behind a unit or in a group.
struct Device {
  std::string name;                   // dev_name: "0000:3b:00.0"
  std::optional<std::string> unit;    // basename of its `iommu` link
  std::optional<uint64_t> group;      // basename of its `iommu_group` link
  std::optional<std::string> driver;  // basename of its `driver` link; nullopt = unbound
  std::optional<PciInfo> pci;         // nullopt: not PCI, or config unreadable
  /// False when the `driver` link exists but could not be read: bound or not is unknown.
  bool driver_known = true;
  /// A vfio-pci function with a vfio cdev, when iommufd was asked about it.
  std::optional<IommufdDeviceInfo> iommufd = std::nullopt;

  bool operator==(const Device&) const = default;
};

/// Facts that explain a host without units and decide version-dependent kernel rules:
/// firmware tables, kernel command line and kernel release.
struct Platform {
  std::vector<std::string> acpi_tables;  // which of DMAR, IVRS, IORT, VIOT exist
  std::optional<std::string> cmdline;    // /proc/cmdline, if readable
  /// /proc/sys/kernel/osrelease ("6.1.0-18-amd64"), if the tree has it.
  std::optional<std::string> kernel_release;
  std::vector<std::string> why_no_units;  // filled only when there is no unit

  bool operator==(const Platform&) const = default;
};

/// Whether iommufd was asked about the host's devices, and if it could not be, why.
struct IommufdStatus {
  /// "not-asked" (not requested, or not a live host), "unavailable" (asked, no answer: see
  /// reason), "asked" (at least one device answered).
  std::string state = "not-asked";
  std::string reason;  // why not asked or unavailable; empty when asked
  std::string via;     // "kernel" (ioctls) or "replay" (recorded answers); empty if not asked

  bool operator==(const IommufdStatus&) const = default;
};

/// Everything read from one host (a live /sys, a fake tree or a saved report).
struct Host {
  std::string backend;          // "dir", "udev" or "report"
  std::string root;             // sysfs root, or the report's path
  std::vector<Unit> units;      // natural name order
  std::vector<Group> groups;    // by id
  std::vector<Device> devices;  // behind a unit, in a group, or on PCI; natural order
  Platform platform;
  Diagnostics diagnostics;
  IommufdStatus iommufd = {};

  const Unit* find_unit(std::string_view name) const;
  const Device* find_device(std::string_view name) const;
  const Group* find_group(uint64_t id) const;
};

/// A kernel's major.minor, which version-dependent kernel rules compare.
struct KernelVersion {
  int major = 0;
  int minor = 0;

  auto operator<=>(const KernelVersion&) const = default;
};

/// The version at the start of a kernel release string ("6.1.0-18-amd64" -> 6.1, "5.19" ->
/// 5.19); nullopt when it does not start with "<major>.<minor>".
std::optional<KernelVersion> parse_kernel_version(std::string_view release);

/// Natural order: "dmar2" < "dmar10", digits compared as numbers.
bool natural_less(std::string_view a, std::string_view b);

/// Device order: PCI addresses ("0000:00:1d.0", fixed-width hex) by their bytes, so 00:02.0
/// comes before 00:1d.0; any other names in natural order, after the PCI ones.
bool device_less(std::string_view a, std::string_view b);

}  // namespace caps
