// SPDX-License-Identifier: MIT
// The IOMMU models and unit layouts libcaps knows: one row per vendor holding every fact that
// differs between vendors, and one row per sysfs layout holding its reader. Code asks a row
// for a fact; it does not compare model names. Adding a vendor is adding a row here (and, if
// the kernel gives it its own layout, a reader): docs/architecture.md lists the steps.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "libcaps/guest.h"
#include "libcaps/model.h"
#include "libcaps/source.h"

namespace caps {

// ---------------------------------------------------------------------------------------------
// Layouts: how a unit's capabilities are laid out under /sys/class/iommu/<unit>/

/// One layout and the function that reads it.
struct UnitLayout {
  Layout layout;
  /// to_string(layout). A kernel layout is announced by a directory of this name in the unit.
  std::string_view name;
  /// Reads the unit's capabilities from its directory `dir`; null for Layout::kNone.
  void (*read)(Source& source, Unit& unit, const std::string& dir);
  /// The layout by design publishes no output width and no stall model (the intel-iommu and
  /// amd-iommu files the kernel writes), so their absence says nothing about the hardware.
  bool omits_output_and_stall;
};

/// The readers of the layouts (read_unit.cc, read_generic.cc).
void read_intel_layout(Source& source, Unit& unit, const std::string& dir);
void read_amd_layout(Source& source, Unit& unit, const std::string& dir);
void read_generic(Source& source, Unit& unit, const std::string& dir);

inline constexpr std::array<UnitLayout, 4> kLayouts = {{
    {Layout::kIntelIommu, "intel-iommu", read_intel_layout, true},
    {Layout::kAmdIommu, "amd-iommu", read_amd_layout, true},
    // The <model>/<property> layout proposed on the kernel list in 2018 (read_generic.cc).
    {Layout::kGeneric, "generic", read_generic, false},
    // The unit exists but publishes no capabilities (mainline SMMUv3, virtio-iommu, DART...).
    {Layout::kNone, "none", nullptr, false},
}};

/// The row of `layout`.
const UnitLayout& layout_info(Layout layout);

/// The row of the layout called `name`; null for any other name.
const UnitLayout* find_layout(std::string_view name);

/// The layout names quoted, as a message lists them: "\"intel-iommu\", ... or \"none\"".
std::string layout_list();

// ---------------------------------------------------------------------------------------------
// Models

/// One vendor's IOMMU: the facts every reader, rule and suggestion asks.
struct ModelInfo {
  /// The contract's name (guest files, host reports, the generic layout's directory).
  std::string_view name;
  /// The generic layout's `model` file (capability-model.md section 1): 1 and 2 come from
  /// the 2018 proposal, 3 and 4 are this project's additions.
  uint64_t generic_number;
  /// The layout the kernel's own driver writes for it; null when it publishes none.
  const UnitLayout* kernel_layout;
  /// How a unit of this model is known when it publishes no capabilities: the prefix its
  /// driver gives the unit's name, and the driver bound to the unit's parent device
  /// (class/iommu/<unit>/device/driver). Empty: not used.
  std::string_view unit_name_prefix;
  std::string_view unit_name_source;  // where the prefix comes from, for the evidence
  std::string_view parent_driver;
  /// The ACPI table that describes its units (capability-model.md, platform facts).
  std::string_view firmware_table;
  /// Who makes it, as a message names the table's origin ("DMAR (Intel)").
  std::string_view vendor;
  /// What the firmware setup calls the switch that enables it; empty: none (paravirtual).
  std::string_view firmware_switch;
  /// Its page-table formats: "vtd-" names a family of formats by prefix, any other entry
  /// (no trailing '-') one format exactly.
  std::span<const std::string_view> pgtable_families;
  /// Prefixes of the formats a guest builds itself (stage 1), which nesting walks.
  std::span<const std::string_view> first_stage_prefixes;
  /// The guest PASID-table formats ([pasid_table] model) that belong to a unit of this model.
  std::span<const PasidTableModel> pasid_tables;
  /// Alignment of a PASID table's base (VT-d PASID directory, AMD GCR3 root, SMMUv3 CD
  /// table; kernel-abi.md section 7); 0: it has no such table.
  uint64_t table_alignment;
  /// It has a stall model and broadcast TLB maintenance (SMMU features).
  bool stall_and_btm;
  /// Its PASID table is an SMMUv3 CD table, whose STE.S1DSS [pasid_table] s1dss sets.
  bool s1dss;
  /// A nested vIOMMU of this model is an accelerated one that the VMM compares field by field
  /// with the host unit's ID registers (QEMU smmuv3-accel): the smmuv3.* rules run, and suggest
  /// sets `nested` only where they pass.
  bool accelerated_host_checks;
  /// Paravirtual: it runs on any host IOMMU, with no hardware nesting and no page tables
  /// shared with the host.
  bool paravirtual;
};

namespace model_facts {
inline constexpr std::array<std::string_view, 1> kVtdFormats = {"vtd-"};
inline constexpr std::array<std::string_view, 1> kVtdFirstStage = {"vtd-fs-"};
inline constexpr std::array<PasidTableModel, 1> kVtdTables = {PasidTableModel::kIntel};
inline constexpr std::array<std::string_view, 1> kAmdFormats = {"amd-"};
inline constexpr std::array<std::string_view, 1> kAmdFirstStage = {"amd-v2-"};
inline constexpr std::array<PasidTableModel, 1> kAmdTables = {PasidTableModel::kAmd};
inline constexpr std::array<std::string_view, 2> kSmmuFormats = {"lpae-", "v7s"};
inline constexpr std::array<std::string_view, 1> kSmmuFirstStage = {"lpae-"};
inline constexpr std::array<PasidTableModel, 2> kSmmuTables = {PasidTableModel::kArm1Lvl,
                                                               PasidTableModel::kArm2Lvl};
}  // namespace model_facts

/// Every model, in the order guest files, schemas and help texts list them.
inline constexpr std::array<ModelInfo, 4> kModels = {{
    {.name = kModelIntelVtd,
     .generic_number = 1,
     .kernel_layout = &kLayouts[0],
     .unit_name_prefix = {},
     .unit_name_source = {},
     .parent_driver = {},
     .firmware_table = "DMAR",
     .vendor = "Intel",
     .firmware_switch = "VT-d",
     .pgtable_families = model_facts::kVtdFormats,
     .first_stage_prefixes = model_facts::kVtdFirstStage,
     .pasid_tables = model_facts::kVtdTables,
     .table_alignment = 4096,
     .stall_and_btm = false,
     .s1dss = false,
     .accelerated_host_checks = false,
     .paravirtual = false},
    {.name = kModelAmdVi,
     .generic_number = 3,
     .kernel_layout = &kLayouts[1],
     .unit_name_prefix = {},
     .unit_name_source = {},
     .parent_driver = {},
     .firmware_table = "IVRS",
     .vendor = "AMD",
     .firmware_switch = "AMD IOMMU",
     .pgtable_families = model_facts::kAmdFormats,
     .first_stage_prefixes = model_facts::kAmdFirstStage,
     .pasid_tables = model_facts::kAmdTables,
     .table_alignment = 4096,
     .stall_and_btm = false,
     .s1dss = false,
     .accelerated_host_checks = false,
     .paravirtual = false},
    // Mainline arm-smmu-v3 publishes no capability files; arm_smmu_device_probe()
    // (drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c) registers the unit as "smmu3.%pa".
    {.name = kModelArmSmmuV3,
     .generic_number = 2,
     .kernel_layout = nullptr,
     .unit_name_prefix = "smmu3.",
     .unit_name_source = "the arm-smmu-v3 driver's \"smmu3.%pa\"",
     .parent_driver = "arm-smmu-v3",
     .firmware_table = "IORT",
     .vendor = "Arm",
     .firmware_switch = "the SMMU",
     .pgtable_families = model_facts::kSmmuFormats,
     .first_stage_prefixes = model_facts::kSmmuFirstStage,
     .pasid_tables = model_facts::kSmmuTables,
     .table_alignment = 64,
     .stall_and_btm = true,
     .s1dss = true,
     .accelerated_host_checks = true,
     .paravirtual = false},
    // virtio-iommu publishes nothing either; viommu_probe() (drivers/iommu/virtio-iommu.c)
    // registers the unit under the virtio device, named after the virtio transport's parent.
    // VIOT (ACPI 6.4 "Virtual I/O Translation") describes it and its endpoints.
    {.name = kModelVirtioIommu,
     .generic_number = 4,
     .kernel_layout = nullptr,
     .unit_name_prefix = {},
     .unit_name_source = {},
     .parent_driver = "virtio_iommu",
     .firmware_table = "VIOT",
     .vendor = "virtio-iommu",
     .firmware_switch = {},
     .pgtable_families = {},
     .first_stage_prefixes = {},
     .pasid_tables = {},
     .table_alignment = 0,
     .stall_and_btm = false,
     .s1dss = false,
     .accelerated_host_checks = false,
     .paravirtual = true},
}};

/// The model names, in table order (the guest file's viommu.model values).
inline constexpr std::array<std::string_view, kModels.size()> kModelNames = [] {
  std::array<std::string_view, kModels.size()> names{};
  for (size_t i = 0; i < kModels.size(); ++i) names[i] = kModels[i].name;
  return names;
}();

/// The row of the model `name`; null for "unknown" or any other name.
const ModelInfo* find_model(std::string_view name);

/// The model whose kernel layout is `layout`; null for none.
const ModelInfo* model_with_kernel_layout(Layout layout);

/// The model whose generic-layout number is `number`; null for none.
const ModelInfo* model_with_generic_number(uint64_t number);

/// The unit model a guest PASID-table format belongs to; null for `host` (any unit).
const ModelInfo* model_for_table(PasidTableModel table);

/// Whether `format` is one of the model's page-table formats.
bool in_pgtable_family(const ModelInfo& model, std::string_view format);

/// `items` as a message lists them: "a, b, c" + `last` + "d" (`last` = " or ", ", ", ...).
std::string list_of(std::span<const std::string> items, std::string_view last);

/// The model names as a list for a message: "a, b, c or d" with `last` = " or ", or
/// "a, b, c, d" with `last` = ", ".
std::string model_list(std::string_view last);

}  // namespace caps
