// SPDX-License-Identifier: MIT
// The device.* rules: each assigned [[device]] against the host: exists, assignable, behind
// a unit, in a viable group, and the PCIe capabilities the guest needs of it.
#include "check_rules.h"

#include <unordered_set>

namespace caps::rules {
namespace {

// ---------------------------------------------------------------------------------------------
// device.*

std::string device_key(size_t index) { return "device[" + std::to_string(index) + "].bdf"; }

/// Runs `check(index, guest device, host device)` on every [[device]] the host has
/// (device.exists reports the others).
template <class Check>
void over_devices(const Context& ctx, Check&& check) {
  for (size_t i = 0; i < ctx.guest.devices.size(); ++i) {
    if (const Device* device = ctx.devices[i]) check(i, ctx.guest.devices[i], *device);
  }
}

void device_exists(const Context& ctx, Sink& out) {
  for (size_t i = 0; i < ctx.guest.devices.size(); ++i) {
    const Located<std::string>& bdf = ctx.guest.devices[i].bdf;
    if (const Device* device = ctx.devices[i]) {
      out.add(Outcome::kPass, [&] {
        return said(device_key(i), bdf.pos, device->unit.value_or(""), "host: device " + bdf.value,
                    bdf.value + " exists");
      });
      continue;
    }
    out.add(Outcome::kFail, [&] {
      return said(device_key(i), bdf.pos, "", "host: no device " + bdf.value,
                  "device " + bdf.value + " does not exist on this host",
                  "correct the bdf or remove this [[device]]");
    });
  }
}

// vfio-pci binds only normal functions: vfio_pci_core_register_device() in
// drivers/vfio/pci/vfio_pci_core.c (vfio_pci_probe() in drivers/vfio/pci/vfio_pci.c before
// v5.15) returns -EINVAL when pdev->hdr_type != PCI_HEADER_TYPE_NORMAL. A bridge cannot be
// assigned; the devices behind it can.

/// A PCI header type as a message names it.
std::string header_kind(uint8_t header_type) {
  switch (header_type) {
    case 0:
      return "a normal PCI function";
    case 1:
      return "a PCI-to-PCI bridge";
    case 2:
      return "a CardBus bridge";
    default:
      return "a function of header type " + str(static_cast<int>(header_type));
  }
}

void device_assignable(const Context& ctx, Sink& out) {
  over_devices(ctx, [&](size_t i, const GuestDevice& guest, const Device& device) {
    const std::string& bdf = guest.bdf.value;
    auto finding = [&](std::string evidence, std::string message, std::string hint = {}) {
      return said(device_key(i), guest.bdf.pos, device.unit.value_or(""), std::move(evidence),
                  std::move(message), std::move(hint));
    };
    if (!device.pci) {
      return out.add(Outcome::kUnknown, [&] {
        return finding(bdf + ": config space not read",
                       "whether vfio-pci can bind " + bdf +
                           " is unknown: its PCI header type could not be read");
      });
    }
    const uint8_t header_type = device.pci->header_type;
    auto evidence = [&] {
      return bdf + ": config header type = " + str(static_cast<int>(header_type));
    };
    if (header_type != 0) {
      return out.add(Outcome::kFail, [&] {
        return finding(evidence(),
                       bdf + " is " + header_kind(header_type) +
                           ": vfio-pci binds only normal functions (header type 0)",
                       "assign the devices behind " + bdf + " instead");
      });
    }
    out.add(Outcome::kPass, [&] {
      return finding(evidence(), bdf + " is a normal PCI function: vfio-pci can bind it");
    });
  });
}

constexpr std::string_view kEnableIommuHint =
    "enable the IOMMU for it (in firmware; on the kernel command line intel_iommu=on for "
    "VT-d, and no amd_iommu=off or iommu=off) or assign another device";

void device_iommu(const Context& ctx, Sink& out) {
  over_devices(ctx, [&](size_t i, const GuestDevice& guest, const Device& device) {
    const std::string& bdf = guest.bdf.value;
    if (!device.unit) {
      return out.add(Outcome::kFail, [&] {
        return said(device_key(i), guest.bdf.pos, "", bdf + ": no iommu link",
                    bdf + " sits behind no IOMMU unit", std::string(kEnableIommuHint));
      });
    }
    const std::string& unit = *device.unit;
    auto evidence = [&] { return bdf + ": iommu -> " + unit; };
    if (!ctx.index.units.find(unit)) {
      return out.add(Outcome::kUnknown, [&] {
        return said(device_key(i), guest.bdf.pos, unit, evidence(),
                    bdf + " is behind " + unit + ", which this host does not describe");
      });
    }
    out.add(Outcome::kPass, [&] {
      return said(device_key(i), guest.bdf.pos, unit, evidence(), bdf + " is behind " + unit);
    });
  });
}

void device_group(const Context& ctx, Sink& out) {
  over_devices(ctx, [&](size_t i, const GuestDevice& guest, const Device& device) {
    const std::string& bdf = guest.bdf.value;
    auto unit = [&] { return device.unit.value_or(""); };
    if (!device.group) {
      return out.add(Outcome::kFail, [&] {
        return said(device_key(i), guest.bdf.pos, unit(), bdf + ": no iommu_group link",
                    bdf + " is in no IOMMU group", std::string(kEnableIommuHint));
      });
    }
    const uint64_t group = *device.group;
    auto evidence = [&] { return bdf + ": iommu_group -> " + str(group); };
    if (!ctx.index.groups.find(group)) {
      return out.add(Outcome::kUnknown, [&] {
        return said(device_key(i), guest.bdf.pos, unit(), evidence(),
                    bdf + " is in group " + str(group) + ", which this host does not describe");
      });
    }
    out.add(Outcome::kPass, [&] {
      return said(device_key(i), guest.bdf.pos, unit(), evidence(),
                  bdf + " is in group " + str(group));
    });
  });
}

// VFIO group viability, as the kernel decides it.
//
// Since v5.19 the rule is DMA ownership (drivers/iommu/iommu.c): binding a driver calls
// iommu_device_use_default_domain() from the bus dma_configure hook -- pci_dma_configure() in
// drivers/pci/pci-driver.c does so `if (!ret && !driver->driver_managed_dma)` -- which raises
// group->owner_cnt; VFIO then needs iommu_group_claim_dma_owner() (container path, at
// VFIO_GROUP_SET_CONTAINER) or iommu_device_claim_dma_owner() (iommufd path), which fail with
// -EPERM/-EBUSY while owner_cnt is non-zero. So every other group member must be unbound,
// owned by VFIO too, or bound to a driver that sets .driver_managed_dma = true: vfio-pci and
// its variant drivers (drivers/vfio/pci/*), pci-stub (drivers/pci/pci-stub.c, "PCI: pci_stub:
// Set driver_managed_dma") and pcieport (drivers/pci/pcie/portdrv.c, set in the same 5.19
// series).
//
// Before v5.19 drivers/vfio/vfio.c had vfio_dev_viable(): a member is fine if it is driver-
// less, bound to a vfio driver, bound to a driver in vfio_driver_allowed[] = { "pci-stub" },
// or -- vfio_dev_driver_allowed() -- a PCI device whose hdr_type is not
// PCI_HEADER_TYPE_NORMAL (a bridge), whatever its driver.
//
// So a bridge bound to a driver that does not set driver_managed_dma is viable before v5.19
// and not from v5.19 on, and the kernel release the tree tells (/proc/sys/kernel/osrelease)
// decides. shpchp (drivers/pci/hotplug/shpchp_core.c, `static struct pci_driver shpc_driver`)
// sets no driver_managed_dma in any mainline version read, up to the 6.x tree with
// PCI_CLASS_BRIDGE_PCI_NORMAL; VFIO_GROUP_GET_STATUS on Debian 12's 6.1 under QEMU reports a
// pcie-pci-bridge bound to shpchp not viable (real-kernels-under-qemu.md). Vendor kernels
// can carry the 5.19 code back (RHEL 9's 5.14 backports the VFIO/iommufd rework), so an
// older "*.el*" release decides nothing; with no release at all the bridge stays unknown.

constexpr KernelVersion kDmaOwnershipVersion{5, 19};

/// What the kernel release says about a bridge bound to a driver without
/// driver_managed_dma: viable (old rule), not viable (DMA ownership), or nothing.
enum class BridgeRule { kUnknown, kViable, kNotViable };

BridgeRule bridge_rule(const Platform& platform) {
  if (!platform.kernel_release) return BridgeRule::kUnknown;
  std::optional<KernelVersion> version = parse_kernel_version(*platform.kernel_release);
  if (!version) return BridgeRule::kUnknown;
  if (*version >= kDmaOwnershipVersion) return BridgeRule::kNotViable;
  if (platform.kernel_release->find(".el") != std::string::npos) return BridgeRule::kUnknown;
  return BridgeRule::kViable;
}

bool is_dma_owner_safe(std::string_view driver) {
  if (driver == "pci-stub" || driver == "pcieport") return true;
  // vfio-pci, vfio-platform, vfio-amba, vfio-cdx and the *_vfio_pci / *-vfio-pci variants.
  return driver.starts_with("vfio") || driver.find("vfio_pci") != std::string_view::npos ||
         driver.find("vfio-pci") != std::string_view::npos;
}

std::string group_evidence(const Context& ctx, const Group& group) {
  std::vector<std::string> members;
  for (const std::string& name : group.devices) {
    const Device* device = ctx.index.devices.find(name);
    std::string driver = !device                 ? "not described"
                         : !device->driver_known ? "driver unknown"
                                                 : device->driver.value_or("unbound");
    members.push_back(name + " (" + driver + ")");
  }
  return "group " + str(group.id) + ": " + join(members, ", ");
}

bool is_assigned(const Context& ctx, std::string_view bdf) {
  return ctx.index.assigned.find(bdf) != nullptr;
}

void device_group_viable(const Context& ctx, Sink& out) {
  std::unordered_set<uint64_t> seen;
  over_devices(ctx, [&](size_t i, const GuestDevice& guest, const Device& device) {
    if (!device.group) return;
    if (!seen.insert(*device.group).second) return;  // once a group
    const Group* group = ctx.index.groups.find(*device.group);
    if (!group) return;  // device.group reports it
    const std::optional<std::string>& release = ctx.host.platform.kernel_release;
    // Set when the kernel release decided a bridge: the evidence then names it.
    bool release_used = false;
    auto group_name = [&] { return "group " + str(group->id); };
    auto finding = [&](std::string message, std::string hint = {}) {
      std::string evidence = group_evidence(ctx, *group);
      if (release_used) evidence += "; kernel release " + *release;
      return said(device_key(i), guest.bdf.pos, device.unit.value_or(""), std::move(evidence),
                  std::move(message), std::move(hint));
    };
    bool blocked = false;
    bool bridge_kept_driver = false;
    if (!group->devices_known) {
      blocked = true;
      out.add(Outcome::kUnknown,
              [&] { return finding("the members of " + group_name() + " could not be read"); });
    }
    for (const std::string& name : group->devices) {
      if (is_assigned(ctx, name)) continue;
      const Device* member = ctx.index.devices.find(name);
      if (!member) {
        blocked = true;
        out.add(Outcome::kUnknown, [&] {
          return finding(group_name() + " member " + name + " is not described by this host");
        });
        continue;
      }
      if (!member->driver_known) {
        blocked = true;
        out.add(Outcome::kUnknown, [&] {
          return finding("the driver of " + group_name() + " member " + name +
                         " could not be read");
        });
        continue;
      }
      if (!member->driver || is_dma_owner_safe(*member->driver)) continue;
      const std::string& driver = *member->driver;
      if (member->pci && member->pci->header_type != 0) {
        const BridgeRule rule = bridge_rule(ctx.host.platform);
        if (rule != BridgeRule::kUnknown) release_used = true;
        if (rule == BridgeRule::kViable) {
          bridge_kept_driver = true;
          continue;
        }
        blocked = true;
        if (rule == BridgeRule::kNotViable) {
          out.add(Outcome::kFail, [&] {
            return finding(group_name() + " is not viable: bridge " + name + " is bound to " +
                               driver + ", which does not set driver_managed_dma, and linux " +
                               *release + " (5.19 or later) requires that of every bound member",
                           "unbind " + name + " from " + driver);
          });
          continue;
        }
        out.add(Outcome::kUnknown, [&] {
          return finding("bridge " + name + " in " + group_name() + " is bound to " + driver +
                             ": viable before linux 5.19, not after unless " + driver +
                             " sets driver_managed_dma, and " +
                             (release ? "linux " + *release + " may carry the 5.19 rule back"
                                      : std::string("the kernel release is unknown (no "
                                                    "proc/sys/kernel/osrelease)")),
                         "unbind " + name + " from " + driver);
        });
        continue;
      }
      blocked = true;
      out.add(Outcome::kFail, [&] {
        return finding(group_name() + " is not viable: " + name + " is bound to " + driver,
                       "bind " + name + " to vfio-pci or unbind it from " + driver);
      });
    }
    if (blocked) return;
    out.add(Outcome::kPass, [&] {
      if (group->devices.size() <= 1)
        return finding(guest.bdf.value + " is alone in " + group_name());
      if (bridge_kept_driver) {
        return finding(group_name() +
                       " is viable: every other member is assigned, unbound, "
                       "DMA-owner-safe or a bridge, which linux " +
                       *release + " (before 5.19) lets keep its driver");
      }
      return finding(group_name() +
                     " is viable: every other member is assigned, unbound or DMA-owner-safe");
    });
  });
}

/// Evidence for a device whose extended capabilities are unknown: how much of `config` the
/// reader got, when it knows.
std::string unread_extended_evidence(const std::string& bdf, const Device& device) {
  if (!device.pci || device.pci->config_size == 0) {
    return bdf + ": extended config space not readable";
  }
  return bdf + ": config is " + str(static_cast<uint64_t>(device.pci->config_size)) +
         " bytes: extended config space not readable";
}

/// Evidence for an extended capability `what` the device lacks: a 256-byte config (root
/// gets the function's cfg_size) means the kernel has no extended space for it at all.
std::string absent_evidence(const std::string& bdf, const PciInfo& pci, std::string_view what) {
  if (pci.config_size == 256) return bdf + ": config is 256 bytes: no extended configuration space";
  return bdf + ": no " + std::string(what) + " capability";
}

void device_pasid(const Context& ctx, Sink& out) {
  const auto& ssid = ctx.guest.viommu.ssid_bits;
  if (!ssid || ssid->value <= 0) return;
  const int need = ssid->value;
  over_devices(ctx, [&](size_t i, const GuestDevice& guest, const Device& device) {
    const std::string& bdf = guest.bdf.value;
    auto finding = [&](std::string evidence, std::string message, std::string hint = {}) {
      return said(device_key(i), guest.bdf.pos, device.unit.value_or(""), std::move(evidence),
                  std::move(message), std::move(hint));
    };
    if (!device.pci || !device.pci->pasid) {
      return out.add(Outcome::kUnknown, [&] {
        return finding(unread_extended_evidence(bdf, device),
                       "guest needs " + str(need) + " PASID bits but the PASID capability of " +
                           bdf + " is unknown");
      });
    }
    const std::optional<PasidCapability>& cap = *device.pci->pasid;
    if (!cap) {
      return out.add(Outcome::kFail, [&] {
        return finding(
            absent_evidence(bdf, *device.pci, "PASID"),
            "guest needs " + str(need) + " PASID bits but " + bdf + " has no PASID capability",
            set_hint(ctx.guest, "ssid_bits", "0", " or assign a PASID-capable device"));
      });
    }
    auto evidence = [&] {
      return bdf + ": PASID capability Max PASID Width = " + str(cap->max_width);
    };
    if (cap->max_width < need) {
      return out.add(Outcome::kFail, [&] {
        return finding(evidence(),
                       "guest needs " + str(need) + " PASID bits but " + bdf + " supports " +
                           supports(cap->max_width),
                       set_hint(ctx.guest, "ssid_bits", str(cap->max_width), " or lower"));
      });
    }
    out.add(Outcome::kPass, [&] {
      return finding(evidence(), "guest needs " + str(need) + " PASID bits, " + bdf + " supports " +
                                     str(cap->max_width));
    });
  });
}

/// A device capability (ATS, PRI) the guest needs when it turns on `name`.
void device_capability(const Context& ctx, Sink& out,
                       const std::optional<Located<bool>>& guest_flag, std::string_view name,
                       std::string_view what, std::optional<bool> PciInfo::*capability) {
  if (!guest_flag || !guest_flag->value) return;
  over_devices(ctx, [&](size_t i, const GuestDevice& guest, const Device& device) {
    const std::string& bdf = guest.bdf.value;
    auto finding = [&](std::string evidence, std::string message, std::string hint = {}) {
      return said(device_key(i), guest.bdf.pos, device.unit.value_or(""), std::move(evidence),
                  std::move(message), std::move(hint));
    };
    const std::optional<bool> have = device.pci ? (*device.pci).*capability : std::nullopt;
    if (!have) {
      return out.add(Outcome::kUnknown, [&] {
        return finding(
            unread_extended_evidence(bdf, device),
            "guest needs " + std::string(what) + " but whether " + bdf + " has it is unknown");
      });
    }
    if (!*have) {
      return out.add(Outcome::kFail, [&] {
        return finding(absent_evidence(bdf, *device.pci, what),
                       "guest needs " + std::string(what) + " but " + bdf + " has no " +
                           std::string(what) + " capability",
                       set_hint(ctx.guest, name, "false"));
      });
    }
    out.add(Outcome::kPass, [&] {
      return finding(bdf + ": " + std::string(what) + " capability present",
                     bdf + " supports " + std::string(what));
    });
  });
}

void device_ats(const Context& ctx, Sink& out) {
  device_capability(ctx, out, ctx.guest.viommu.ats, "ats", "ATS", &PciInfo::ats);
}

void device_pri(const Context& ctx, Sink& out) {
  device_capability(ctx, out, ctx.guest.viommu.page_requests, "page_requests", "PRI",
                    &PciInfo::pri);
}

}  // namespace

std::span<const Rule> device_rules() {
  static constexpr Rule kRules[] = {
      {"device.exists", device_exists},
      {"device.assignable", device_assignable},
      {"device.iommu", device_iommu},
      {"device.group", device_group},
      {"device.group_viable", device_group_viable},
      {"device.pasid", device_pasid},
      {"device.ats", device_ats},
      {"device.pri", device_pri},
  };
  return kRules;
}

}  // namespace caps::rules
