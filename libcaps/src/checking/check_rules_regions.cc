// SPDX-License-Identifier: MIT
// The region.* rules: the reserved regions of the assigned devices' IOMMU groups
// (/sys/kernel/iommu_groups/<n>/reserved_regions) against what the guest needs: a direct
// (non-relaxable) region that forbids assignment, and guest RAM -- which QEMU maps through VFIO
// at IOVA = guest-physical address -- that falls in a window the host IOMMU cannot translate,
// AMD's HyperTransport hole among them. The guest memory map is modelled in guest_ram() below
// (docs/rules.md, "Reserved regions").
#include <algorithm>
#include <unordered_set>

#include "check_rules.h"
#include "libcaps/parse.h"

namespace caps::rules {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t k4GiB = 4 * kGiB;
constexpr uint64_t k1TiB = uint64_t{1} << 40;

// The HyperTransport reserved range of AMD systems: HT_RANGE_START/HT_RANGE_END in
// drivers/iommu/amd/amd_iommu_types.h, AMD_HT_START/AMD_HT_END in QEMU's hw/i386/pc.c (AMD
// IOMMU spec, "Special Address Controls").
constexpr uint64_t kHtStart = 0xfd00000000;
constexpr uint64_t kHtEnd = 0xffffffffff;

/// An inclusive range of addresses and what it is.
struct Span {
  uint64_t start = 0;
  uint64_t end = 0;
  std::string what;
};

bool overlaps(uint64_t a_start, uint64_t a_end, uint64_t b_start, uint64_t b_end) {
  return a_start <= b_end && b_start <= a_end;
}

std::string range_text(uint64_t start, uint64_t end) {
  return format_hex(start) + "-" + format_hex(end);
}

std::string region_text(const ReservedRegion& r) {
  return range_text(r.start, r.end) + " " + r.type;
}

std::string regions_evidence(const Group& group) {
  std::vector<std::string> parts;
  for (const ReservedRegion& r : group.reserved_regions) parts.push_back(region_text(r));
  return "group " + str(group.id) + " reserved_regions: " + join(parts, ", ");
}

std::string device_key(size_t index) { return "device[" + std::to_string(index) + "].bdf"; }

/// Runs `check(index, guest device, host device, group, unit)` once per IOMMU group of the
/// assigned devices that the host describes and that lists reserved regions (a group without
/// any says nothing: the device.* rules report missing groups). `unit` may be null.
template <class Check>
void over_groups(const Context& ctx, Check&& check) {
  std::unordered_set<uint64_t> seen;
  for (size_t i = 0; i < ctx.guest.devices.size(); ++i) {
    const Device* device = ctx.devices[i];
    if (!device || !device->group || !seen.insert(*device->group).second) continue;
    const Group* group = ctx.index.groups.find(*device->group);
    // A group whose list could not be read whole is checked too: its rules say unknown.
    if (!group || (group->reserved_regions_known && group->reserved_regions.empty())) continue;
    const Unit* unit = device->unit ? ctx.index.units.find(*device->unit) : nullptr;
    check(i, ctx.guest.devices[i], *device, *group, unit);
  }
}

bool is_amd(const Unit* unit) { return unit && unit->model == kModelAmdVi; }

// ---------------------------------------------------------------------------------------------
// The guest memory map
//
// QEMU maps all guest RAM into every VFIO container at IOVA = guest-physical address when the VM
// starts (hw/vfio/listener.c, vfio_listener_region_add; with a vIOMMU too, while the guest has
// not enabled it), so each RAM range must be an IOVA the host accepts. The layout modelled:
//
// - x86 (every vIOMMU but SMMUv3, unless the host is Arm): QEMU's q35 machine, which
//   intel-iommu and amd-iommu need. pc_q35_init() (hw/i386/pc_q35.c): RAM of 0xb0000000
//   (2.75 GiB) or more is split at lowmem = 2 GiB, smaller RAM lies wholly below 4 GiB; the
//   rest starts at 4 GiB (x86ms->above_4g_mem_start). pc_memory_init() (hw/i386/pc.c, QEMU
//   7.1 and later, machine types 7.1 and later: enforce_amd_1tb_hole) moves it to 1 TiB
//   (AMD_ABOVE_1TB_START) when the vCPU is AMD and pc_max_used_gpa() -- the end of the 64-bit
//   PCI hole: above-4G RAM rounded up to 1 GiB plus pci-hole64-size, 32 GiB on q35
//   (Q35_PCI_HOST_HOLE64_SIZE_DEFAULT) -- reaches AMD_HT_START, and then refuses to start
//   unless phys-bits reach that end ("Address space limit ... phys-bits too low"). The vCPU is
//   taken to be the host's vendor (-cpu host / host-passthrough, as device assignment uses).
//   Not modelled: -machine pc (i440fx splits at 3 GiB), max-ram-below-4g, memory hotplug
//   (maxmem), a non-default pci-hole64-size.
// - Arm (an SMMUv3 vIOMMU, or an Arm host): the virt machine's RAM starts at 1 GiB
//   (VIRT_MEM in hw/arm/virt.c) and is contiguous.

constexpr uint64_t kQ35Split = 0xb0000000;      // RAM this large is split ...
constexpr uint64_t kQ35Lowmem = 0x80000000;     // ... at 2 GiB; smaller RAM ends below 2.75 GiB
constexpr uint64_t kQ35Hole64 = uint64_t{1} << 35;  // Q35_PCI_HOST_HOLE64_SIZE_DEFAULT
constexpr uint64_t kArmRamBase = 0x40000000;    // hw/arm/virt.c VIRT_MEM

struct GuestRam {
  std::vector<Span> ranges;
  bool relocated = false;  // QEMU moved RAM above 4 GiB to 1 TiB (AMD host)
  uint64_t max_used = 0;   // x86: the end of the 64-bit PCI hole (pc_max_used_gpa)
  std::string model;       // how the layout was chosen, for evidence
};

uint64_t round_up(uint64_t value, uint64_t to) { return (value + to - 1) / to * to; }

bool arm_guest(const Context& ctx) {
  if (ctx.guest.viommu.model.value == kModelArmSmmuV3) return true;
  return std::any_of(ctx.host.units.begin(), ctx.host.units.end(),
                     [](const Unit& u) { return u.model == kModelArmSmmuV3; });
}

bool amd_host(const Context& ctx) {
  return std::any_of(ctx.selection.units.begin(), ctx.selection.units.end(),
                     [](const Unit* u) { return u->model == kModelAmdVi; });
}

/// The guest's RAM ranges; empty when the guest gives no size.
GuestRam guest_ram(const Context& ctx) {
  GuestRam out;
  const std::optional<GuestMemory>& memory = ctx.guest.memory;
  if (!memory || !memory->size) return out;
  const uint64_t size = memory->size->value;
  if (arm_guest(ctx)) {
    out.model = "Arm virt machine: RAM from 1 GiB";
    out.ranges.push_back({kArmRamBase, kArmRamBase + size - 1, "guest RAM"});
    return out;
  }
  const uint64_t below = size >= kQ35Split ? kQ35Lowmem : size;
  const uint64_t above = size - below;
  uint64_t start = k4GiB;
  out.model = "q35: " + std::string(size >= kQ35Split ? "RAM split at 2 GiB" : "RAM below 4 GiB");
  if (memory->above_4g_start) {
    start = memory->above_4g_start->value;
    out.model += ", above_4g_start " + format_hex(start);
  }
  auto max_used = [&](uint64_t from) { return round_up(from + above, kGiB) + kQ35Hole64 - 1; };
  out.max_used = max_used(start);
  if (!memory->above_4g_start && above > 0 && amd_host(ctx) && out.max_used >= kHtStart) {
    start = k1TiB;
    out.relocated = true;
    out.max_used = max_used(start);
    out.model += ", RAM above 4 GiB moved to 1 TiB (AMD host, QEMU 7.1 and later)";
  }
  out.ranges.push_back({0, below - 1, "guest RAM below 4 GiB"});
  if (above > 0) out.ranges.push_back({start, start + above - 1, "guest RAM above 4 GiB"});
  return out;
}

std::string ram_text(const GuestRam& ram) {
  std::vector<std::string> parts;
  for (const Span& s : ram.ranges) parts.push_back(range_text(s.start, s.end));
  return join(parts, " and ");
}

// ---------------------------------------------------------------------------------------------
// region.direct
//
// A direct region (IOMMU_RESV_DIRECT: a VT-d RMRR, an AMD IVMD unity map) must stay mapped 1:1
// at all times, so the device cannot be moved into a VFIO domain:
// - VT-d since linux 3.17: intel_iommu_attach_device() (drivers/iommu/intel/iommu.c, before
//   5.8 drivers/iommu/intel-iommu.c) refuses an IOMMU_DOMAIN_UNMANAGED domain when
//   device_is_rmrr_locked(): "Device is ineligible for IOMMU domain attach due to platform
//   RMRR requirement.  Contact your platform vendor." (-EPERM). From 5.3 the RMRRs of USB and
//   graphics devices, which device_rmrr_is_relaxable() exempts, are listed as
//   direct-relaxable (IOMMU_RESV_DIRECT_RELAXABLE); before, they were listed as direct too.
// - Every vendor since linux 6.6: "iommu: Prevent RESV_DIRECT devices from blocking domains"
//   moved the rule into __iommu_device_set_domain() (drivers/iommu/iommu.c): a device with
//   dev->iommu->require_direct cannot take the blocking domain iommu_group_claim_dma_owner()
//   attaches, so VFIO and iommufd fail ("Firmware has requested this device have a 1:1 IOMMU
//   mapping, rejecting configuring the device without a 1:1 mapping. Contact your platform
//   vendor.", -EINVAL), and the VT-d check was removed.
// The kernel applies it per group (VFIO claims the whole group), and reserved_regions is the
// union of the group's members' regions.

constexpr KernelVersion kRelaxableVersion{5, 3};
constexpr KernelVersion kCoreDirectVersion{6, 6};

void region_direct(const Context& ctx, Sink& out) {
  const std::optional<std::string>& release = ctx.host.platform.kernel_release;
  const std::optional<KernelVersion> version =
      release ? parse_kernel_version(*release) : std::nullopt;
  // A vendor kernel ("*.el*") may carry the 6.6 rule back (as it does VFIO's rework).
  const bool vendor_kernel = release && release->find(".el") != std::string::npos;
  over_groups(ctx, [&](size_t i, const GuestDevice& guest, const Device& device,
                       const Group& group, const Unit* unit) {
    std::vector<const ReservedRegion*> direct;
    bool relaxable = false;
    for (const ReservedRegion& r : group.reserved_regions) {
      if (r.type == "direct") direct.push_back(&r);
      if (r.type == "direct-relaxable") relaxable = true;
    }
    const std::string& bdf = guest.bdf.value;
    auto finding = [&](std::string message, std::string hint = {}) {
      std::string evidence = regions_evidence(group);
      if (unit) evidence += "; " + model_evidence(*unit);
      if (release) evidence += "; kernel release " + *release;
      return said(device_key(i), guest.bdf.pos, device.unit.value_or(""), std::move(evidence),
                  std::move(message), std::move(hint));
    };
    // A direct region read is decisive; a list read only in part cannot show there is none.
    if (direct.empty() && !group.reserved_regions_known) {
      return out.add(Outcome::kUnknown, [&] {
        return finding("group " + str(group.id) +
                       "'s reserved_regions could not be read whole: a direct region may be "
                       "missing from it");
      });
    }
    if (direct.empty()) {
      return out.add(Outcome::kPass, [&] {
        return finding(relaxable ? "group " + str(group.id) +
                                       " has only direct-relaxable regions, which VFIO may "
                                       "override: " + bdf + " can be assigned"
                                 : "group " + str(group.id) + " has no direct region");
      });
    }
    std::vector<std::string> ranges;
    for (const ReservedRegion* r : direct) ranges.push_back(range_text(r->start, r->end));
    const std::string which = "group " + str(group.id) + " has a direct (non-relaxable) region " +
                              join(ranges, ", ");
    const bool vtd = unit && unit->model == kModelIntelVtd;
    const bool core = version && *version >= kCoreDirectVersion;
    const std::string hint =
        "assign a device whose group has no direct region; the region is the firmware's (a "
        "VT-d RMRR or an AMD IVMD): a firmware setting or update may remove it";
    if (core) {
      return out.add(Outcome::kFail, [&] {
        return finding(which + ": linux " + *release +
                           " (6.6 or later) refuses VFIO the group (\"Firmware has requested "
                           "this device have a 1:1 IOMMU mapping\")",
                       hint);
      });
    }
    if (vtd && (!version || *version >= kRelaxableVersion)) {
      return out.add(Outcome::kFail, [&] {
        return finding(which + ": VT-d refuses to attach " + bdf +
                           " to a VFIO domain (\"Device is ineligible for IOMMU domain attach "
                           "due to platform RMRR requirement\")",
                       hint);
      });
    }
    if (vtd) {
      return out.add(Outcome::kUnknown, [&] {
        return finding(which + ": linux " + *release +
                       " (before 5.3) lists the RMRRs of USB and graphics devices, which VT-d "
                       "lets VFIO take, as direct too");
      });
    }
    if (version && !vendor_kernel) {
      return out.add(Outcome::kPass, [&] {
        return finding(which + ": linux " + *release +
                       " (before 6.6) refuses direct regions on VT-d only, so " + bdf +
                       " can be assigned");
      });
    }
    out.add(Outcome::kUnknown, [&] {
      return finding(which + ": linux 6.6 and later refuse VFIO such a group on every IOMMU, and " +
                     (release ? "linux " + *release + " may carry that rule back"
                              : std::string("the kernel release is unknown")));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// region.ram
//
// VFIO refuses a DMA mapping that touches a reserved region of an attached group:
// vfio_iommu_type1 builds its IOVA list without the group's regions (vfio_iommu_resv_exclude(),
// which skips IOMMU_RESV_DIRECT_RELAXABLE only) and VFIO_IOMMU_MAP_DMA checks each mapping
// against it (vfio_iommu_iova_dma_valid(), drivers/vfio/vfio_iommu_type1.c, linux 5.4 and later);
// iommufd reserves the same regions in the IOAS (iopt_table_enforce_dev_resv_regions(),
// drivers/iommu/iommufd/io_pagetable.c). Before 5.4 the mapping succeeds and DMA to those
// addresses goes to the window instead (MSI doorbell, firmware memory). So guest RAM must avoid
// every listed region but direct-relaxable ones. AMD's HyperTransport window is
// region.ht_hole's.

bool is_ht_window(const ReservedRegion& r, const Unit* unit) {
  return is_amd(unit) && r.start >= kHtStart && r.end <= kHtEnd;
}

void region_ram(const Context& ctx, Sink& out) {
  const std::optional<GuestMemory>& memory = ctx.guest.memory;
  if (!memory || !memory->size) return;
  const GuestRam ram = guest_ram(ctx);
  const SourcePos pos = pos_or(memory->size->pos, memory->pos);
  over_groups(ctx, [&](size_t, const GuestDevice&, const Device& device, const Group& group,
                       const Unit* unit) {
    std::vector<std::string> clashes;
    for (const ReservedRegion& r : group.reserved_regions) {
      if (r.type == "direct-relaxable" || is_ht_window(r, unit)) continue;
      for (const Span& s : ram.ranges) {
        if (!overlaps(r.start, r.end, s.start, s.end)) continue;
        clashes.push_back(s.what + " " + range_text(s.start, s.end) + " overlaps " +
                          region_text(r));
      }
    }
    auto finding = [&](std::string message, std::string hint = {}) {
      return said("memory.size", pos, device.unit.value_or(""),
                  regions_evidence(group) + "; " + ram.model, std::move(message), std::move(hint));
    };
    if (clashes.empty() && !group.reserved_regions_known) {
      return out.add(Outcome::kUnknown, [&] {
        return finding("group " + str(group.id) +
                       "'s reserved_regions could not be read whole: guest RAM " + ram_text(ram) +
                       " may overlap a region missing from it");
      });
    }
    if (clashes.empty()) {
      return out.add(Outcome::kPass, [&] {
        return finding("guest RAM " + ram_text(ram) + " avoids the reserved regions of group " +
                       str(group.id));
      });
    }
    out.add(Outcome::kFail, [&] {
      return finding(join(clashes, "; ") + " (group " + str(group.id) +
                         "): VFIO refuses to map guest RAM there as IOVAs",
                     "give the guest less RAM below 4 GiB than the region's start, or assign a "
                     "device whose group does not reserve it");
    });
  });
}

// ---------------------------------------------------------------------------------------------
// region.ht_hole
//
// AMD IOMMUs do not translate the HyperTransport range 0xfd_0000_0000-0xff_ffff_ffff unless
// EFR2.HTRangeIgnore (bit 11, FEATURE_HT_RANGE_IGNORE) is set: amd_iommu_get_resv_regions()
// (drivers/iommu/amd/iommu.c) reserves it for every device unless amd_iommu_ht_range_ignore();
// kernels before that check reserve it always. When the group lists its regions, that list is
// the kernel's decision; otherwise EFR2 decides. The guest needs IOVAs there when its RAM is
// there (QEMU before 7.1, machine types before 7.1, or above_4g_start), and QEMU 7.1 and later
// move RAM to 1 TiB instead, which phys_bits must then reach. A guest with the intel-vtd vIOMMU
// may also pick IOVAs there when its input width covers it (40 bits or more): the guest's VT-d
// driver knows nothing of the hole (an amd-vi vIOMMU guest reserves it itself).

void region_ht_hole(const Context& ctx, Sink& out) {
  const std::optional<GuestMemory>& memory = ctx.guest.memory;
  if (!memory) return;
  const GuestRam ram = guest_ram(ctx);
  const SourcePos pos = pos_or(memory->size ? memory->size->pos : SourcePos{}, memory->pos);
  const auto& input = ctx.guest.viommu.input_bits;
  const bool wide_vtd =
      ctx.guest.viommu.model.value == kModelIntelVtd && input && input->value >= 40;
  if (ram.ranges.empty() && !wide_vtd) return;  // nothing asks for IOVAs up there
  std::unordered_set<uint64_t> seen;
  for (size_t i = 0; i < ctx.guest.devices.size(); ++i) {
    const Device* device = ctx.devices[i];
    if (!device || !device->group || !device->unit) continue;
    const Unit* unit = ctx.index.units.find(*device->unit);
    const Group* group = ctx.index.groups.find(*device->group);
    if (!is_amd(unit) || !group || !seen.insert(group->id).second) continue;
    // Reserved by the kernel's list, else by EFR2.
    std::optional<bool> reserved;
    std::string evidence;
    if (group->reserved_regions_known && !group->reserved_regions.empty()) {
      reserved = std::any_of(group->reserved_regions.begin(), group->reserved_regions.end(),
                             [&](const ReservedRegion& r) {
                               return r.type != "direct-relaxable" &&
                                      overlaps(r.start, r.end, kHtStart, kHtEnd);
                             });
      evidence = regions_evidence(*group);
    } else if (auto it = unit->extra.find("ht_range_ignore"); it != unit->extra.end()) {
      if (const bool* ignore = std::get_if<bool>(&it->second)) reserved = !*ignore;
    }
    if (evidence.empty()) {
      evidence = unit->name + ": efr2.HTRangeIgnore" +
                 (reserved ? std::string(*reserved ? "=0" : "=1") : std::string(" unknown"));
    }
    const std::string hole = range_text(kHtStart, kHtEnd);
    auto finding = [&](std::string message, std::string hint = {}) {
      return said("memory.size", pos, unit->name, evidence + "; " + ram.model, std::move(message),
                  std::move(hint));
    };
    if (!reserved) {
      out.add(Outcome::kUnknown, [&] {
        return finding("whether " + unit->name + " translates the HyperTransport range " + hole +
                       " is unknown (no EFR2, no reserved_regions)");
      });
      continue;
    }
    if (!*reserved) {
      out.add(Outcome::kPass, [&] {
        return finding(unit->name + " translates the HyperTransport range " + hole +
                       " (EFR2.HTRangeIgnore): guest RAM may lie there");
      });
      continue;
    }
    bool problem = false;
    for (const Span& s : ram.ranges) {
      if (!overlaps(s.start, s.end, kHtStart, kHtEnd)) continue;
      problem = true;
      out.add(Outcome::kFail, [&] {
        return finding(s.what + " " + range_text(s.start, s.end) +
                           " overlaps the HyperTransport range " + hole + ", which " + unit->name +
                           " does not translate: VFIO refuses to map it",
                       "use QEMU 7.1 or later with a machine type of 7.1 or later (it moves RAM "
                       "above 4 GiB to 1 TiB on AMD hosts) and leave above_4g_start out, or "
                       "give the guest less RAM");
      });
    }
    const std::optional<Located<int>>& phys = memory->phys_bits;
    if (ram.relocated && phys && !fits(ram.max_used, phys->value)) {
      problem = true;
      out.add(Outcome::kFail, [&] {
        Finding f = finding("QEMU moves the guest's RAM above 4 GiB to 1 TiB past the "
                            "HyperTransport range, which needs addresses up to " +
                                format_hex(ram.max_used) + ", and then refuses phys-bits " +
                                str(phys->value) + " (\"phys-bits too low\")",
                            "set phys_bits = " + str(bits_needed(ram.max_used)) + " or higher");
        f.guest_key = "memory.phys_bits";
        f.pos = pos_or(phys->pos, memory->pos);
        return f;
      });
    }
    if (wide_vtd) {
      problem = true;
      out.add(Outcome::kWarn, [&] {
        Finding f = finding("the guest's intel-vtd vIOMMU takes " + str(input->value) +
                            "-bit IOVAs, which reach the HyperTransport range " + hole + " that " +
                            unit->name + " does not translate; the guest does not know of it, "
                            "so a mapping there fails");
        f.guest_key = "viommu.input_bits";
        f.pos = input->pos;
        return f;
      });
    }
    if (problem) continue;
    out.add(Outcome::kPass, [&] {
      return finding("guest RAM " + ram_text(ram) + " avoids the HyperTransport range " + hole);
    });
  }
}

}  // namespace

std::span<const Rule> region_rules() {
  static constexpr Rule kRules[] = {
      {"region.direct", region_direct},
      {"region.ram", region_ram},
      {"region.ht_hole", region_ht_hole},
  };
  return kRules;
}

}  // namespace caps::rules
