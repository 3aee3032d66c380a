// SPDX-License-Identifier: MIT
// The posture.* rules: the host isolation facts of `iommu-probe --check`'s posture findings
// that bear on a guest's assigned devices: interrupt remapping behind each device's unit, and
// a pcie_acs_override that makes the device's group boundary a claim rather than hardware.
#include "check_rules.h"
#include "posture_facts.h"

namespace caps::rules {
namespace {

std::string device_key(size_t index) { return "device[" + std::to_string(index) + "].bdf"; }

/// Runs `check(index, guest device, host device)` on every [[device]] the host has.
template <class Check>
void over_devices(const Context& ctx, Check&& check) {
  for (size_t i = 0; i < ctx.guest.devices.size(); ++i) {
    if (const Device* device = ctx.devices[i]) check(i, ctx.guest.devices[i], *device);
  }
}

// VFIO refuses a device whose MSIs the IOMMU does not isolate: vfio_iommu_type1_attach_group()
// (drivers/vfio/vfio_iommu_type1.c) and iommufd_device_bind() fail with "No interrupt remapping
// support. Use the module param \"allow_unsafe_interrupts\" to enable VFIO IOMMU support on this
// platform" unless allow_unsafe_interrupts is set. On Arm the GIC ITS isolates MSIs and sysfs
// does not show it; the readiness line warns there, and this rule says nothing rather than make
// every Arm guest undecided over a fact no tree records.
void posture_interrupt_remapping(const Context& ctx, Sink& out) {
  if (ctx.guest.devices.empty()) return;
  const posture::CmdlineFacts cmdline = posture::read_cmdline_facts(ctx.host);
  over_devices(ctx, [&](size_t i, const GuestDevice& guest, const Device& device) {
    if (!device.unit) return;  // device.iommu reports it
    const Unit* unit = ctx.index.units.find(*device.unit);
    if (!unit) return;
    if (unit->model == kModelArmSmmuV3 || unit->model == kModelVirtioIommu) return;
    const posture::Remapping remapping = posture::unit_remapping(*unit, cmdline);
    const std::string& bdf = guest.bdf.value;
    auto finding = [&](std::string message, std::string hint = {}) {
      return said(device_key(i), guest.bdf.pos, unit->name, unit->name + ": " + remapping.fact,
                  std::move(message), std::move(hint));
    };
    if (!remapping.remaps) {
      return out.add(Outcome::kUnknown, [&] {
        return finding("whether " + unit->name + " remaps the interrupts of " + bdf +
                       " is unknown (" + remapping.fact + ")");
      });
    }
    if (*remapping.remaps) {
      return out.add(Outcome::kPass,
                     [&] { return finding(unit->name + " remaps the interrupts of " + bdf); });
    }
    if (cmdline.unsafe_interrupts) {
      return out.add(Outcome::kWarn, [&] {
        return finding(
            unit->name + " does not remap interrupts; " + *cmdline.unsafe_interrupts +
                " lets VFIO assign " + bdf + " anyway, and the guest can forge MSIs",
            "enable interrupt remapping on the host and drop " + *cmdline.unsafe_interrupts);
      });
    }
    out.add(Outcome::kFail, [&] {
      return finding(unit->name + " does not remap interrupts: VFIO refuses to assign " + bdf +
                         " (\"No interrupt remapping support\")",
                     "enable interrupt remapping on the host (firmware; no intremap=off or "
                     "nointremap) or assign a device behind another unit");
    });
  });
}

// pcie_acs_override is an out-of-tree patch: the groups it splits are not isolated by ACS.
// Without a command line (a host report that did not record it) the rule says nothing: its worst
// outcome is a warning, and an unknown would make the pair undecided, which overstates it.
void posture_acs_override(const Context& ctx, Sink& out) {
  if (ctx.guest.devices.empty()) return;
  const posture::CmdlineFacts cmdline = posture::read_cmdline_facts(ctx.host);
  if (!cmdline.known) return;
  over_devices(ctx, [&](size_t i, const GuestDevice& guest, const Device& device) {
    if (!device.group) return;  // device.group reports it
    const std::string group = "group " + str(*device.group);
    const std::string& bdf = guest.bdf.value;
    if (cmdline.acs_override) {
      return out.add(Outcome::kWarn, [&] {
        return said(device_key(i), guest.bdf.pos, device.unit.value_or(""),
                    "/proc/cmdline: " + *cmdline.acs_override,
                    "the boundary of " + group + " around " + bdf + " is what " +
                        *cmdline.acs_override +
                        " claims, not what the hardware enforces: devices in other groups can "
                        "still reach it peer-to-peer",
                    "remove pcie_acs_override and assign " + bdf + "'s whole group");
      });
    }
    out.add(Outcome::kPass, [&] {
      return said(device_key(i), guest.bdf.pos, device.unit.value_or(""),
                  "/proc/cmdline: no pcie_acs_override",
                  group + " is the kernel's own grouping (no pcie_acs_override)");
    });
  });
}

}  // namespace

std::span<const Rule> posture_rules() {
  static constexpr Rule kRules[] = {
      {"posture.interrupt_remapping", posture_interrupt_remapping},
      {"posture.acs_override", posture_acs_override},
  };
  return kRules;
}

}  // namespace caps::rules
