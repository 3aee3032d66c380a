// SPDX-License-Identifier: MIT
// The host's isolation posture: identity default domains, pcie_acs_override, IOMMU options the
// kernel does not take, groups shared for want of ACS, units without interrupt remapping. Each
// is a finding with the values named and what to change (docs/readiness.md#posture-findings).
//
// The command-line options follow the parsers of mainline Linux as read in torvalds/linux
// (amd/init.c at 00a7dd64888d, intel/iommu.c at 00939bebe51c: the 6.18-era tree):
//   drivers/iommu/amd/init.c      parse_amd_iommu_options()  amd_iommu=
//   drivers/iommu/intel/iommu.c   intel_iommu_setup()        intel_iommu=
//   drivers/iommu/iommu.c         iommu_set_def_domain_type() iommu.passthrough= (kstrtobool),
//                                 iommu_dma_setup()           iommu.strict= (kstrtobool)
//   drivers/iommu/irq_remapping.c setup_irqremap()           intremap=, and nointremap
//   arch/x86/kernel/pci-dma.c     iommu_setup()              iommu=pt / iommu=nopt (x86 only)
// The AMD and Intel parsers compare each comma-separated option with strncmp() against the
// option's length, so an option is accepted when it *starts with* a known one ("offline" is
// "off"); anything else gets pr_notice("Unknown option - '%s'") and changes nothing.
#include <algorithm>
#include <array>
#include <map>
#include <string_view>

#include "libcaps/readiness.h"
#include "posture_facts.h"

namespace caps {
namespace posture {

Arch host_arch(const Host& host) {
  bool x86 = false;
  bool arm = false;
  for (const std::string& table : host.platform.acpi_tables) {
    x86 = x86 || table == "DMAR" || table == "IVRS";
    arm = arm || table == "IORT";
  }
  for (const Unit& unit : host.units) {
    x86 = x86 || unit.model == kModelIntelVtd || unit.model == kModelAmdVi;
    arm = arm || unit.model == kModelArmSmmuV3;
  }
  if (x86) return Arch::kX86;
  if (arm) return Arch::kArm;
  return Arch::kUnknown;
}

CmdlineFacts read_cmdline_facts(const Host& host) {
  CmdlineFacts facts;
  if (!host.platform.cmdline) return facts;
  facts.known = true;
  facts.params = parse_cmdline(*host.platform.cmdline);
  const bool not_x86 = host_arch(host) == Arch::kArm;
  // Early parameters are handled in command-line order, so the last word that sets a fact wins.
  for (const CmdlineParam& param : facts.params) {
    const std::string word = param.value ? param.name + "=" + *param.value : param.name;
    if (param.name == "pcie_acs_override") facts.acs_override = word;
    if (same_param(param.name, "vfio_iommu_type1.allow_unsafe_interrupts") ||
        same_param(param.name, "iommufd.allow_unsafe_interrupts")) {
      // A bool module parameter without a value is true (param_set_bool()).
      const std::optional<bool> on = param.value ? kernel_bool(*param.value) : true;
      if (on == true) facts.unsafe_interrupts = word;
      if (on == false) facts.unsafe_interrupts.reset();
    }
    if (param.name == "iommu.passthrough" && param.value) {
      if (const std::optional<bool> pt = kernel_bool(*param.value)) {
        facts.passthrough = *pt;
        facts.passthrough_source = word;
      }
    }
    if (not_x86) continue;
    if (param.name == "nointremap") facts.intremap_off = word;
    if (param.name == "iommu" || param.name == "intremap") {
      for (const std::string& option : param_options({param}, param.name)) {
        const std::string said = param.name + "=" + option;
        if (param.name == "iommu" && option.starts_with("pt")) {
          facts.passthrough = true;
          facts.passthrough_source = said;
        } else if (param.name == "iommu" && option.starts_with("nopt")) {
          facts.passthrough = false;
          facts.passthrough_source = said;
        } else if (param.name == "intremap" && option.starts_with("on")) {
          facts.intremap_off.reset();
        } else if (param.name == "intremap" && option.starts_with("off")) {
          facts.intremap_off = said;
        } else if (param.name == "intremap" && option.starts_with("nosid")) {
          facts.intremap_nosid = said;
        }
      }
    }
  }
  return facts;
}

Remapping unit_remapping(const Unit& unit, const CmdlineFacts& cmdline) {
  if (unit.model == kModelIntelVtd) {
    auto it = unit.extra.find("interrupt_remapping");
    if (it == unit.extra.end() || !std::holds_alternative<bool>(it->second)) {
      return {std::nullopt, "ecap.IR unknown"};
    }
    if (!std::get<bool>(it->second)) return {false, "ecap.IR=0"};
    if (cmdline.intremap_off) return {false, *cmdline.intremap_off + " on the kernel command line"};
    return {true, "ecap.IR=1"};
  }
  if (unit.model == kModelAmdVi) {
    if (cmdline.intremap_off) return {false, *cmdline.intremap_off + " on the kernel command line"};
    return {true, "AMD-Vi remaps interrupts"};
  }
  if (unit.model == kModelArmSmmuV3) return {std::nullopt, "MSI isolation is the GIC ITS's"};
  if (unit.model == kModelVirtioIommu) return {std::nullopt, "virtio-iommu remaps no interrupts"};
  return {std::nullopt, "model unknown"};
}

}  // namespace posture

namespace {

using posture::Arch;
using posture::CmdlineFacts;

/// Names listed in a detail before "and N more".
constexpr size_t kListLimit = 6;

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

std::string joined(const std::vector<std::string>& parts, std::string_view separator) {
  std::string text;
  for (const std::string& part : parts) {
    if (!text.empty()) text += separator;
    text += part;
  }
  return text;
}

ReadinessCheck finding(std::string id, std::string title, CheckStatus status, std::string detail,
                       std::string hint) {
  return {std::move(id), std::move(title), status, std::move(detail), std::move(hint)};
}

void identity_domain(const Host& host, const CmdlineFacts& cmdline,
                     std::vector<ReadinessCheck>& out) {
  std::vector<std::string> groups;
  for (const Group& group : host.groups) {
    if (group.type == "identity") groups.push_back(std::to_string(group.id));
  }
  const bool asked = cmdline.passthrough == true;
  if (groups.empty() && !asked) return;
  std::string detail;
  if (!groups.empty()) {
    detail = (groups.size() == 1 ? "group " : "groups ") + name_list(groups) +
             ": default domain type identity";
  }
  if (asked) {
    detail += (detail.empty() ? "" : "; ") + cmdline.passthrough_source +
              " on the kernel command line makes identity the default domain";
  } else {
    detail +=
        "; the command line asks for no passthrough: the kernel's build default "
        "(CONFIG_IOMMU_DEFAULT_PASSTHROUGH=y) or the IOMMU driver chose it";
  }
  std::string hint =
      "the host drivers of devices in identity groups can DMA to all host memory, guests' "
      "included (devices assigned to a VM are unaffected: VFIO gives their group its own "
      "domain); for DMA protection ";
  hint += asked ? "remove " + cmdline.passthrough_source + " (or set iommu.passthrough=0)"
                : "boot with iommu.passthrough=0";
  hint += ", or write DMA to a group's type file while no driver is bound to its devices";
  out.push_back(finding("identity-domain", "Identity (passthrough) domains", CheckStatus::kWarn,
                        std::move(detail), std::move(hint)));
}

void acs_override(const CmdlineFacts& cmdline, std::vector<ReadinessCheck>& out) {
  if (!cmdline.acs_override) return;
  out.push_back(finding(
      "acs-override", "ACS override", CheckStatus::kWarn,
      *cmdline.acs_override + " on the kernel command line",
      "pcie_acs_override is not in mainline Linux: it is an out-of-tree patch some distribution "
      "kernels carry that makes the kernel believe ports and functions isolate with ACS when "
      "the hardware does not, so the groups it splits are fake: their devices can still reach "
      "each other peer-to-peer, and a guest's device can DMA into a neighbour given to the host "
      "or another guest; remove it and assign whole groups, or move the device to a slot "
      "behind an ACS-capable port"));
}

/// An option parser of the kernel: the parameter, its accepted options (matched as strncmp()
/// prefixes) and where they are read.
struct OptionParser {
  std::string_view param;
  std::string_view where;
  std::vector<std::string_view> options;
};

const std::array<OptionParser, 3>& option_parsers() {
  static const std::array<OptionParser, 3> kParsers{{
      {"amd_iommu",
       "parse_amd_iommu_options() in drivers/iommu/amd/init.c",
       {"fullflush", "force_enable", "off", "force_isolation", "pgtbl_v1", "pgtbl_v2",
        "irtcachedis", "nohugepages", "v2_pgsizes_only"}},
      {"intel_iommu",
       "intel_iommu_setup() in drivers/iommu/intel/iommu.c",
       {"on", "off", "igfx_off", "forcedac", "strict", "sp_off", "sm_on", "sm_off",
        "tboot_noforce"}},
      {"intremap",
       "setup_irqremap() in drivers/iommu/irq_remapping.c",
       {"on", "off", "nosid", "no_x2apic_optout", "nopost", "posted_msi"}},
  }};
  return kParsers;
}

/// What to do instead of an option the driver does not take.
std::string instead(std::string_view param, std::string_view option) {
  if (option == "pt" || option == "passthrough") {
    return "for passthrough the parameter is iommu=pt or iommu.passthrough=1";
  }
  if (param == "amd_iommu" && option == "on") {
    return "AMD-Vi is on whenever the firmware has an IVRS table (amd_iommu=off is the only "
           "switch)";
  }
  return "remove it";
}

/// Whether the host runs the driver that reads `param`: false only when the tree tells the
/// driver's firmware table and units are both absent while others are there.
bool driver_in_play(const Host& host, std::string_view param) {
  const bool facts = !host.platform.acpi_tables.empty() || !host.units.empty();
  if (!facts) return true;
  auto has_table = [&](std::string_view table) {
    return std::find(host.platform.acpi_tables.begin(), host.platform.acpi_tables.end(), table) !=
           host.platform.acpi_tables.end();
  };
  auto has_model = [&](std::string_view model) {
    return std::any_of(host.units.begin(), host.units.end(),
                       [&](const Unit& unit) { return unit.model == model; });
  };
  if (param == "amd_iommu") return has_table("IVRS") || has_model(kModelAmdVi);
  if (param == "intel_iommu") return has_table("DMAR") || has_model(kModelIntelVtd);
  return posture::host_arch(host) != Arch::kArm;  // intremap=, iommu=: x86 parameters
}

void cmdline_values(const Host& host, const CmdlineFacts& cmdline,
                    std::vector<ReadinessCheck>& out) {
  std::vector<std::string> unknown;
  std::vector<std::string> unknown_hints;
  std::vector<std::string> ignored;
  for (const OptionParser& parser : option_parsers()) {
    const std::vector<std::string> options = param_options(cmdline.params, parser.param);
    if (options.empty()) continue;
    if (!driver_in_play(host, parser.param)) {
      ignored.push_back(std::string(parser.param) + "=" + joined(options, ","));
      continue;
    }
    for (const std::string& option : options) {
      const bool known = std::any_of(parser.options.begin(), parser.options.end(),
                                     [&](std::string_view o) { return option.starts_with(o); });
      if (known) continue;
      const std::string word = std::string(parser.param) + "=" + option;
      unknown.push_back(word + ": \"" + option + "\" is not an option of " +
                        std::string(parser.where) + " (it takes " +
                        joined({parser.options.begin(), parser.options.end()}, ", ") +
                        "); the kernel ignores it");
      unknown_hints.push_back(word + ": " + instead(parser.param, option));
    }
  }
  // iommu.passthrough= and iommu.strict= are kstrtobool() values; anything else is a
  // "Malformed early option" and changes nothing.
  for (std::string_view param : {"iommu.passthrough", "iommu.strict"}) {
    for (const CmdlineParam& p : cmdline.params) {
      if (p.name != param) continue;
      const std::string value = p.value.value_or("");
      if (kernel_bool(value)) continue;
      const std::string word = std::string(param) + "=" + value;
      unknown.push_back(
          word + ": \"" + value +
          "\" is not a kstrtobool() value (1/0, y/n, on/off), "
          "so the kernel ignores it (" +
          std::string(param) + " is read by " +
          (param == "iommu.strict" ? "iommu_dma_setup()" : "iommu_set_def_domain_type()") +
          " in drivers/iommu/iommu.c)");
      unknown_hints.push_back(word + ": write " + std::string(param) + "=1 or =0");
    }
  }
  if (posture::host_arch(host) == Arch::kArm) {
    for (const CmdlineParam& p : cmdline.params) {
      if (p.name == "iommu" || p.name == "nointremap") {
        ignored.push_back(p.value ? p.name + "=" + *p.value : p.name);
      }
    }
  }
  if (!unknown.empty()) {
    out.push_back(finding("cmdline-unknown", "IOMMU options rejected", CheckStatus::kWarn,
                          joined(unknown, "; "), joined(unknown_hints, "; ")));
  }
  if (!ignored.empty()) {
    out.push_back(finding(
        "cmdline-ignored", "IOMMU options ignored", CheckStatus::kWarn,
        joined(ignored, ", ") + " on the kernel command line: " +
            (posture::host_arch(host) == Arch::kArm
                 ? std::string("this host is not x86 (iort/SMMU), where iommu= and intremap= "
                               "are not parameters and intel_iommu=/amd_iommu= have no driver")
                 : std::string("the firmware describes no IOMMU of that driver")),
        "these options do nothing here: remove them so the command line says what the host "
        "runs (on Arm the generic iommu.passthrough= and iommu.strict= apply)"));
  }
}

/// "DDDD:BB:DD" of a PCI function name, or the whole name.
std::string_view slot_of(std::string_view name) {
  const size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(0, dot);
}

void shared_group(const Host& host, std::vector<ReadinessCheck>& out) {
  std::vector<std::string> clauses;
  std::vector<std::string> groups;
  for (const Group& group : host.groups) {
    std::vector<std::string> endpoints;
    std::vector<std::string> bridges;
    for (const std::string& name : group.devices) {
      const Device* device = host.find_device(name);
      if (!device || posture::is_endpoint(*device)) {
        endpoints.push_back(name);
      } else {
        bridges.push_back(name);
      }
    }
    if (endpoints.size() < 2) continue;
    groups.push_back(std::to_string(group.id));
    const bool one_slot =
        std::all_of(endpoints.begin(), endpoints.end(),
                    [&](const std::string& n) { return slot_of(n) == slot_of(endpoints.front()); });
    std::string why = one_slot ? "functions of " + std::string(slot_of(endpoints.front())) +
                                     " with no ACS between them"
                               : "no ACS on the path between them";
    if (!bridges.empty()) why += ", with bridge " + name_list(bridges) + " in the group";
    clauses.push_back("group " + std::to_string(group.id) + ": " + name_list(endpoints) + " (" +
                      why + ")");
  }
  if (clauses.empty()) return;
  out.push_back(finding(
      "shared-group", "Devices sharing a group", CheckStatus::kWarn, joined(clauses, "; "),
      "a group is the smallest unit VFIO assigns: give all its endpoints to one guest (or leave "
      "the others unbound or on vfio-pci); to give them to different guests, use slots behind "
      "root or switch ports with ACS (pcie_acs_override only pretends)"));
}

void interrupt_remapping_off(const Host& host, const CmdlineFacts& cmdline,
                             std::vector<ReadinessCheck>& out) {
  std::map<std::string, std::vector<std::string>> off;  // fact -> units
  for (const Unit& unit : host.units) {
    const posture::Remapping remapping = posture::unit_remapping(unit, cmdline);
    if (remapping.remaps == false) off[remapping.fact].push_back(unit.name);
  }
  if (off.empty()) return;
  std::vector<std::string> clauses;
  for (const auto& [fact, units] : off) clauses.push_back(name_list(units) + ": " + fact);
  std::string detail = joined(clauses, "; ");
  if (cmdline.unsafe_interrupts) {
    out.push_back(finding(
        "interrupt-remapping-off", "Interrupt remapping off", CheckStatus::kWarn,
        detail + "; " + *cmdline.unsafe_interrupts + " lets VFIO assign their devices anyway",
        "a guest can forge MSIs (any interrupt vector) through devices behind these units: enable "
        "interrupt remapping (VT-d with ecap.IR in the firmware, no intremap=off) and drop " +
            *cmdline.unsafe_interrupts));
    return;
  }
  out.push_back(finding(
      "interrupt-remapping-off", "Interrupt remapping off", CheckStatus::kFail, std::move(detail),
      "VFIO refuses to assign devices behind these units (\"No interrupt remapping support\"): "
      "enable interrupt remapping in the firmware and remove intremap=off / nointremap; "
      "allow_unsafe_interrupts=1 would let a guest forge MSIs"));
}

void unsafe_interrupts(const Host& host, const CmdlineFacts& cmdline,
                       std::vector<ReadinessCheck>& out) {
  if (!cmdline.unsafe_interrupts) return;
  const bool all_remap = !host.units.empty() &&
                         std::all_of(host.units.begin(), host.units.end(), [&](const Unit& unit) {
                           return posture::unit_remapping(unit, cmdline).remaps == true;
                         });
  out.push_back(finding(
      "unsafe-interrupts", "Unsafe interrupts allowed", CheckStatus::kWarn,
      *cmdline.unsafe_interrupts + " on the kernel command line" +
          (all_remap ? ": every unit remaps interrupts, so it changes nothing today"
                     : ": VFIO assigns devices whose MSIs are not isolated"),
      "remove " + *cmdline.unsafe_interrupts +
          ": with it a device behind a unit without interrupt remapping lets its guest forge "
          "MSIs to the host"));
}

}  // namespace

std::vector<ReadinessCheck> check_posture(const Host& host) {
  const CmdlineFacts cmdline = posture::read_cmdline_facts(host);
  std::vector<ReadinessCheck> out;
  identity_domain(host, cmdline, out);
  acs_override(cmdline, out);
  cmdline_values(host, cmdline, out);
  shared_group(host, out);
  interrupt_remapping_off(host, cmdline, out);
  unsafe_interrupts(host, cmdline, out);
  return out;
}

}  // namespace caps
