// SPDX-License-Identifier: MIT
// Platform facts (ACPI IOMMU tables, kernel command line, kernel release) and, for a host
// without units, why it has none, as far as the tree tells.
#include <algorithm>
#include <array>

#include "model/model_table.h"
#include "read_internal.h"
#include "read_util.h"
#include "text/cmdline.h"

namespace caps {

namespace {

constexpr std::string_view kTablesDir = "sys/firmware/acpi/tables";
constexpr std::string_view kOsrelease = "proc/sys/kernel/osrelease";
/// Kernel command lines are at most a few KiB (COMMAND_LINE_SIZE); allow generously.
constexpr size_t kCmdlineLimit = 64 * 1024;

bool has_table(const Platform& platform, std::string_view table) {
  return std::find(platform.acpi_tables.begin(), platform.acpi_tables.end(), table) !=
         platform.acpi_tables.end();
}

/// Why a VIOT table gave no unit. Linux parses VIOT since v5.14 (drivers/acpi/viot.c), and
/// the virtio-iommu driver is CONFIG_VIRTIO_IOMMU, which Debian 12's 6.1 leaves unset.
std::string explain_viot(const Platform& platform) {
  std::optional<KernelVersion> version =
      platform.kernel_release ? parse_kernel_version(*platform.kernel_release) : std::nullopt;
  if (version && *version < KernelVersion{5, 14}) {
    return "the firmware has a VIOT table (virtio-iommu) but linux " + *platform.kernel_release +
           " predates VIOT support (drivers/acpi/viot.c, 5.14): no virtio-iommu unit can "
           "register; boot a 5.14 or newer kernel built with CONFIG_VIRTIO_IOMMU";
  }
  return "the firmware has a VIOT table (virtio-iommu) but no unit registered: the kernel "
         "lacks CONFIG_VIRTIO_IOMMU or the virtio_iommu module is not loaded";
}

/// Why no unit, when the firmware has none of the models' tables: each table and whose it is,
/// then the firmware switches to turn on.
std::string no_firmware_table() {
  std::vector<std::string> tables;
  std::vector<std::string> switches;
  for (const ModelInfo& model : kModels) {
    tables.push_back(std::string(model.firmware_table) + " (" + std::string(model.vendor) + ")");
    if (!model.firmware_switch.empty()) switches.emplace_back(model.firmware_switch);
  }
  return "the firmware publishes no ACPI " + list_of(tables, " or ") + " table: enable " +
         list_of(switches, " or ") + " in the firmware setup";
}

std::vector<std::string> explain(const Platform& platform, bool class_dir_exists,
                                 bool tables_visible) {
  std::vector<std::string> why;
  if (!class_dir_exists) {
    why.push_back("/sys/class/iommu does not exist: no IOMMU driver has registered a unit");
  }
  if (!tables_visible) {
    why.push_back(
        "/sys/firmware/acpi/tables is not there: no ACPI (a device-tree system), "
        "or the tree was copied without it, so the firmware's IOMMU tables are unknown");
  } else if (platform.acpi_tables.empty()) {
    why.push_back(no_firmware_table());
  }
  if (!platform.cmdline) {
    why.push_back("/proc/cmdline is not readable: the kernel's IOMMU options are unknown");
    return why;
  }
  const std::vector<CmdlineParam> words = parse_cmdline(*platform.cmdline);
  bool iommu_off = has_option(words, "iommu", "off");
  if (iommu_off) {
    why.push_back("iommu=off on the kernel command line disables every IOMMU driver: remove it");
  }
  if (has_table(platform, "DMAR")) {
    if (has_option(words, "intel_iommu", "off")) {
      why.push_back(
          "the firmware has a DMAR table but the kernel command line has "
          "intel_iommu=off: remove it or set intel_iommu=on");
    } else if (!has_option(words, "intel_iommu", "on") && !iommu_off) {
      why.push_back(
          "the firmware has a DMAR table but the command line has no intel_iommu=on, "
          "and kernels built with CONFIG_INTEL_IOMMU_DEFAULT_ON=n leave VT-d off: "
          "add intel_iommu=on");
    } else if (!iommu_off) {
      why.push_back(
          "the firmware has a DMAR table and intel_iommu=on is set, yet no unit "
          "registered: look for DMAR errors in the kernel log");
    }
  }
  if (has_table(platform, "IVRS")) {
    if (has_option(words, "amd_iommu", "off")) {
      why.push_back(
          "the firmware has an IVRS table but the kernel command line has "
          "amd_iommu=off: remove it");
    } else if (!iommu_off) {
      why.push_back(
          "the firmware has an IVRS table but no ivhd unit registered: AMD-Vi failed "
          "to initialize, or the kernel removed the units because DMA translation is "
          "unsupported; look for AMD-Vi errors in the kernel log");
    }
  }
  if (has_table(platform, "IORT") && !iommu_off) {
    why.push_back(
        "the firmware has an IORT table but no SMMU unit registered: the arm-smmu-v3 "
        "driver is not loaded or failed to probe");
  }
  if (has_table(platform, "VIOT")) why.push_back(explain_viot(platform));
  return why;
}

}  // namespace

void read_platform(Source& source, Host& host, bool class_dir_exists, bool explain_absence) {
  Platform& platform = host.platform;
  DirRead tables = source.list_dir(kTablesDir);
  if (tables.ok()) {
    for (const ModelInfo& model : kModels) {  // the firmware tables of every model
      const std::string_view table = model.firmware_table;
      bool present = std::any_of(tables.entries.begin(), tables.entries.end(),
                                 [&](const DirEntry& e) { return e.name == table; });
      if (present) platform.acpi_tables.emplace_back(table);
    }
  } else if (tables.status != ReadStatus::kMissing) {
    add_diagnostic(host.diagnostics, kTablesDir, Severity::kWarning,
                   "cannot list: " + describe(tables.status, tables.error));
  }
  platform.cmdline =
      read_value(source, "proc/cmdline", host.diagnostics, IfMissing::kSilent, kCmdlineLimit);
  platform.kernel_release =
      read_value(source, std::string(kOsrelease), host.diagnostics, IfMissing::kSilent);
  if (host.units.empty() && explain_absence) {
    platform.why_no_units = explain(platform, class_dir_exists, tables.ok());
  }
}

}  // namespace caps
