// SPDX-License-Identifier: MIT
// Host readiness checks: one small function per line of `iommu-probe --check`.
#include "libcaps/readiness.h"

#include <algorithm>
#include <map>

#include "posture_facts.h"

namespace caps {
namespace {

/// iommufd (drivers/iommu/iommufd, /dev/iommu) was merged in Linux 6.2.
constexpr KernelVersion kIommufdVersion{6, 2};
/// Names listed in a detail before "and N more".
constexpr size_t kListLimit = 4;

ReadinessCheck make(std::string id, std::string title) {
  ReadinessCheck check;
  check.id = std::move(id);
  check.title = std::move(title);
  return check;
}

void set(ReadinessCheck& check, CheckStatus status, std::string detail, std::string hint = {}) {
  check.status = status;
  check.detail = std::move(detail);
  check.hint = std::move(hint);
}

/// "a, b, c, d and 2 more".
std::string name_list(const std::vector<std::string>& names) {
  std::string text;
  for (size_t i = 0; i < names.size() && i < kListLimit; ++i) {
    if (i > 0) text += ", ";
    text += names[i];
  }
  if (names.size() > kListLimit) {
    text += " and " + std::to_string(names.size() - kListLimit) + " more";
  }
  return text;
}

/// Appends `part` to `text`, after `separator` unless `text` is empty.
void append(std::string& text, std::string_view separator, std::string_view part) {
  if (!text.empty()) text += separator;
  text += part;
}

/// Fails `check` when the host has no unit, which every check of units' facts needs.
bool fail_without_units(const Host& host, ReadinessCheck& check) {
  if (!host.units.empty()) return false;
  set(check, CheckStatus::kFail, "no IOMMU unit", "enable the IOMMU first");
  return true;
}

std::string count(size_t n, std::string_view singular, std::string_view plural) {
  return std::to_string(n) + " " + std::string(n == 1 ? singular : plural);
}

bool dir_exists(Source& source, std::string_view path) { return source.list_dir(path).ok(); }

/// Where the host's facts were read: a kernel log (iommu-probe --from-log) names no sysfs path.
bool from_log(const Host& host) { return host.backend == "log"; }
std::string where(const Host& host, std::string_view sysfs_dir) {
  return from_log(host) ? std::string("the kernel log") : std::string(sysfs_dir);
}

ReadinessCheck check_firmware(const Host& host) {
  ReadinessCheck check = make("firmware", "IOMMU described by the firmware");
  const std::vector<std::string>& tables = host.platform.acpi_tables;
  if (!tables.empty()) {
    std::string names;
    for (const std::string& table : tables) append(names, ", ", table);
    set(check, CheckStatus::kPass,
        "ACPI " + names + " in " + where(host, "sys/firmware/acpi/tables"));
  } else if (!host.units.empty()) {
    set(check, CheckStatus::kPass,
        "no ACPI DMAR, IVRS, IORT or VIOT table, but the kernel found " +
            count(host.units.size(), "unit", "units") + " (device tree?)");
  } else {
    set(check, CheckStatus::kFail, "no ACPI DMAR, IVRS, IORT or VIOT table",
        "enable the IOMMU in the firmware setup (VT-d, AMD-Vi/IOMMU, SMMU)");
  }
  return check;
}

ReadinessCheck check_kernel(const Host& host) {
  ReadinessCheck check = make("kernel", "IOMMU enabled by the kernel");
  if (host.units.empty()) {
    std::string why;
    for (const std::string& reason : host.platform.why_no_units) append(why, "; ", reason);
    set(check, CheckStatus::kFail, "no unit in " + where(host, "sys/class/iommu"),
        why.empty() ? "enable the IOMMU in the firmware and the kernel" : why);
    return check;
  }
  std::vector<std::string> names;
  for (const Unit& unit : host.units) names.push_back(unit.name);
  set(check, CheckStatus::kPass,
      count(names.size(), "unit", "units") + " in " + where(host, "sys/class/iommu") + ": " +
          name_list(names));
  return check;
}

/// Whether a unit remaps interrupts: true, false, or nullopt when sysfs cannot tell; with
/// the fact it rests on.
std::pair<std::optional<bool>, std::string> remaps_interrupts(const Unit& unit) {
  posture::Remapping remapping = posture::unit_remapping(unit, posture::CmdlineFacts{});
  return {remapping.remaps, std::move(remapping.fact)};
}

ReadinessCheck check_interrupt_remapping(const Host& host) {
  ReadinessCheck check = make("interrupt-remapping", "Interrupt remapping");
  if (fail_without_units(host, check)) return check;
  // Units grouped by the fact, so five identical units make one clause.
  std::map<std::string, std::vector<std::string>> by_fact;
  bool unsupported = false;
  bool unknown = false;
  for (const Unit& unit : host.units) {
    auto [remaps, fact] = remaps_interrupts(unit);
    by_fact[fact].push_back(unit.name);
    unsupported = unsupported || remaps == false;
    unknown = unknown || !remaps;
  }
  std::string detail;
  for (const auto& [fact, units] : by_fact) {
    append(detail, "; ", name_list(units) + ": " + fact);
  }
  const posture::CmdlineFacts cmdline = posture::read_cmdline_facts(host);
  if (cmdline.intremap_off) {
    set(check, CheckStatus::kFail, *cmdline.intremap_off + " on the kernel command line",
        "remove " + *cmdline.intremap_off + ": VFIO refuses devices without interrupt remapping");
  } else if (unsupported) {
    set(check, CheckStatus::kFail, detail,
        "VFIO refuses to assign devices behind a unit without interrupt remapping (unless "
        "vfio_iommu_type1.allow_unsafe_interrupts=1, which lets a guest forge MSIs)");
  } else if (unknown) {
    set(check, CheckStatus::kWarn, detail,
        "sysfs does not show it: a VFIO bind fails with \"No interrupt remapping support\" if "
        "MSIs are not isolated");
  } else {
    set(check, CheckStatus::kPass, detail);
  }
  return check;
}

size_t error_count(const Diagnostics& diagnostics) {
  return std::count_if(diagnostics.begin(), diagnostics.end(),
                       [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

ReadinessCheck check_units(const Host& host) {
  ReadinessCheck check = make("units", "Unit capabilities known");
  if (fail_without_units(host, check)) return check;
  std::map<std::string, std::vector<std::string>> by_model;
  std::vector<std::string> unknown;
  size_t errors = error_count(host.diagnostics);
  for (const Unit& unit : host.units) {
    by_model[unit.model].push_back(unit.name);
    // A model known from the unit's name or parent driver alone (SMMUv3 and virtio-iommu on
    // mainline kernels) is not a capability: with no fact at all, the unit's are unknown.
    if (!is_known_model(unit.model) || unit.caps == Caps{}) unknown.push_back(unit.name);
    errors += error_count(unit.diagnostics);
  }
  std::string detail;
  for (const auto& [model, units] : by_model) {
    append(detail, "; ", model + ": " + name_list(units));
  }
  if (!unknown.empty()) {
    set(check, CheckStatus::kWarn, detail,
        name_list(unknown) +
            ": the kernel publishes no capability files the probe recognizes; a guest that "
            "needs their facts stays undecided");
  } else if (errors > 0) {
    set(check, CheckStatus::kWarn, detail + "; " + count(errors, "error", "errors") + " reading",
        "run iommu-probe for the diagnostics");
  } else {
    set(check, CheckStatus::kPass, detail);
  }
  return check;
}

ReadinessCheck check_groups(const Host& host) {
  ReadinessCheck check = make("groups", "IOMMU groups");
  if (host.groups.empty()) {
    set(check, CheckStatus::kFail, "no group in " + where(host, "sys/kernel/iommu_groups"),
        host.units.empty() ? "enable the IOMMU first"
                           : "no device is behind a unit: VFIO has nothing to assign");
    return check;
  }
  std::vector<std::string> ungrouped;
  for (const Device& device : host.devices) {
    if (device.unit && !device.group) ungrouped.push_back(device.name);
  }
  std::vector<std::string> unlisted;
  for (const Group& group : host.groups) {
    if (!group.devices_known) unlisted.push_back(std::to_string(group.id));
  }
  const std::string groups = count(host.groups.size(), "group", "groups");
  if (!ungrouped.empty()) {
    set(check, CheckStatus::kWarn, groups + "; not in a group: " + name_list(ungrouped),
        "a device behind a unit without a group cannot be assigned");
  } else if (!unlisted.empty()) {
    set(check, CheckStatus::kWarn, groups + "; members unreadable: " + name_list(unlisted),
        "run iommu-probe for the diagnostics");
  } else {
    set(check, CheckStatus::kPass, groups + ", every device behind a unit in one");
  }
  return check;
}

ReadinessCheck check_facility(std::string id, std::string title, const Facility& facility,
                              std::string missing_hint) {
  ReadinessCheck check = make(std::move(id), std::move(title));
  if (facility.present == true) {
    set(check, CheckStatus::kPass, facility.evidence);
  } else if (facility.present == false) {
    set(check, CheckStatus::kWarn, facility.evidence, std::move(missing_hint));
  } else {
    set(check, CheckStatus::kWarn, "unknown: " + facility.evidence, "run on the live host to know");
  }
  return check;
}

/// The iommufd line: what IOMMU_GET_HW_INFO answered when the probe asked (--iommufd), else
/// whether /dev/iommu exists.
ReadinessCheck check_iommufd(const Host& host, const Facility& facility) {
  constexpr std::string_view kHint =
      "the legacy VFIO container works without it; for iommufd (QEMU -object iommufd), "
      "modprobe iommufd on 6.2 or later";
  const IommufdStatus& asked = host.iommufd;
  size_t answered = 0;
  size_t refused = 0;
  for (const Device& device : host.devices) {
    if (!device.iommufd) continue;
    ++(device.iommufd->error.empty() ? answered : refused);
  }
  if (asked.state == "asked") {
    ReadinessCheck check = make("iommufd", "iommufd (/dev/iommu)");
    set(check, CheckStatus::kPass,
        "IOMMU_GET_HW_INFO answered for " + count(answered, "vfio-pci device", "vfio-pci devices") +
            (refused ? " (" + std::to_string(refused) + " refused)" : "") + ", via " + asked.via);
    return check;
  }
  // Asked, and nothing answered: a device was there to ask (probe_iommufd records each one's
  // failure), so /dev/iommu or the bind failed, and that is the answer; with nothing to ask (no
  // vfio-pci device with a cdev, or an old kernel), the line says what /dev/iommu is.
  if (asked.state == "unavailable" && refused > 0) {
    ReadinessCheck check = make("iommufd", "iommufd (/dev/iommu)");
    set(check, CheckStatus::kWarn, "IOMMU_GET_HW_INFO: " + asked.reason, std::string(kHint));
    return check;
  }
  ReadinessCheck check =
      check_facility("iommufd", "iommufd (/dev/iommu)", facility, std::string(kHint));
  if (asked.state == "unavailable") check.detail += "; not asked: " + asked.reason;
  return check;
}

ReadinessCheck check_isolation(const Host& host) {
  ReadinessCheck check = make("isolation", "Isolation");
  if (host.groups.empty()) {
    set(check, CheckStatus::kFail, "no IOMMU group", "enable the IOMMU first");
    return check;
  }
  std::map<std::string, size_t> types;
  for (const Group& group : host.groups) ++types[group.type.value_or("unknown")];
  std::string detail;
  for (const auto& [type, n] : types) append(detail, ", ", std::to_string(n) + " " + type);
  detail = "group domains: " + detail;
  // The posture findings (check_posture) name the groups, the values and the fixes; this line
  // only says which of them the host has, so nothing is said twice.
  std::vector<std::string> ids;
  CheckStatus worst = CheckStatus::kPass;
  for (const ReadinessCheck& finding : check_posture(host)) {
    ids.push_back(finding.id);
    worst = std::max(worst, finding.status);
  }
  if (ids.empty()) {
    set(check, CheckStatus::kPass, detail + "; no posture finding");
    return check;
  }
  std::string names;
  for (const std::string& id : ids) append(names, ", ", id);
  set(check, worst, detail + "; posture: " + names,
      "the posture findings below name the groups, units and options, and what to change");
  return check;
}

}  // namespace

std::string_view to_string(CheckStatus status) {
  switch (status) {
    case CheckStatus::kPass:
      return "pass";
    case CheckStatus::kWarn:
      return "warn";
    case CheckStatus::kFail:
      return "fail";
  }
  return "fail";
}

AssignmentSupport read_assignment_support(Source& source,
                                          const std::optional<std::string>& kernel_release) {
  AssignmentSupport support;
  // A live host always has sys/module; a snapshot (gather.sh, a fixture) records neither it nor
  // drivers that nothing is bound to, so there absence proves nothing.
  const bool modules_recorded = dir_exists(source, "sys/module");
  constexpr std::string_view kVfioDriver = "sys/bus/pci/drivers/vfio-pci";
  if (dir_exists(source, kVfioDriver)) {
    support.vfio_pci = {true, std::string(kVfioDriver) + " exists"};
  } else if (modules_recorded) {
    support.vfio_pci = {false, "no " + std::string(kVfioDriver) + ": vfio-pci is not loaded"};
  } else {
    support.vfio_pci = {std::nullopt, "no " + std::string(kVfioDriver) + " and no sys/module"};
  }

  const std::optional<KernelVersion> version =
      kernel_release ? parse_kernel_version(*kernel_release) : std::nullopt;
  const DirRead misc = source.list_dir("sys/class/misc");
  const bool has_iommu =
      misc.ok() && std::any_of(misc.entries.begin(), misc.entries.end(),
                               [](const DirEntry& e) { return e.name == "iommu"; });
  if (has_iommu) {
    support.iommufd = {true, "sys/class/misc/iommu exists (/dev/iommu)"};
  } else if (version && *version < kIommufdVersion) {
    support.iommufd = {false, "kernel " + *kernel_release + " predates iommufd (6.2)"};
  } else if (misc.ok()) {
    support.iommufd = {false, "no sys/class/misc/iommu: iommufd is not loaded"};
  } else {
    support.iommufd = {std::nullopt, "no sys/class/misc in the tree"};
  }
  return support;
}

std::vector<ReadinessCheck> check_readiness(const Host& host, const AssignmentSupport& support) {
  return {
      check_firmware(host),
      check_kernel(host),
      check_interrupt_remapping(host),
      check_units(host),
      check_groups(host),
      check_facility("vfio-pci", "vfio-pci driver", support.vfio_pci,
                     "modprobe vfio-pci (libvirt loads it when it assigns a device)"),
      check_iommufd(host, support.iommufd),
      check_isolation(host),
  };
}

CheckStatus worst_status(const std::vector<ReadinessCheck>& checks) {
  CheckStatus worst = CheckStatus::kPass;
  for (const ReadinessCheck& check : checks) worst = std::max(worst, check.status);
  return worst;
}

}  // namespace caps
