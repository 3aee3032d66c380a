// SPDX-License-Identifier: MIT
// A guest converted between the guest file, QEMU options and a libvirt domain, with the facts
// the target syntax could not express found by a read-back (convert.h).
#include "convert.h"

#include <algorithm>
#include <optional>
#include <sstream>
#include <string>

#include "libcaps/caps_properties.h"
#include "libcaps/guest_vmm.h"
#include "libcaps/parse.h"

namespace tools {
namespace {

std::string show(const std::string& v) { return v; }
std::string show(int v) { return std::to_string(v); }
std::string show(uint64_t v) { return caps::format_hex(v); }
std::string show(bool v) { return v ? "true" : "false"; }
std::string show(caps::Httu v) { return std::string(caps::to_string(v)); }
std::string show(caps::Stall v) { return std::string(caps::to_string(v)); }
std::string show(const std::vector<std::string>& v) {
  std::string out = "[";
  for (const std::string& s : v) out += (out.size() > 1 ? ", " : "") + s;
  return out + "]";
}

/// Compares one optional key of [viommu], ignoring where it was written.
template <class T>
void compare(std::string_view key, const std::optional<caps::Located<T>>& in,
             const std::optional<caps::Located<T>>& out, std::vector<std::string>& losses,
             std::string_view table = "viommu") {
  if (in.has_value() == out.has_value() && (!in || in->value == out->value)) return;
  const std::string was = in ? show(in->value) : "not set";
  const std::string now = out ? show(out->value) : "not expressible";
  losses.push_back(std::string(table) + "." + std::string(key) + ": " + was + " in the input, " +
                   now + " in the output");
}

/// [memory], key by key (absent and empty tables alike: neither asks anything).
void compare_memory(const caps::Guest& in, const caps::Guest& out,
                    std::vector<std::string>& losses) {
  const caps::GuestMemory none;
  const caps::GuestMemory& a = in.memory ? *in.memory : none;
  const caps::GuestMemory& b = out.memory ? *out.memory : none;
  compare("size", a.size, b.size, losses, "memory");
  compare("phys_bits", a.phys_bits, b.phys_bits, losses, "memory");
  compare("above_4g_start", a.above_4g_start, b.above_4g_start, losses, "memory");
}

/// [vfio], the keys the input says: a VMM's output says more on its own (QEMU's vfio-pci
/// devices are on the legacy backend unless they name an iommufd), which is no loss.
void compare_vfio(const caps::Guest& in, const caps::Guest& out, std::vector<std::string>& losses) {
  if (!in.vfio) return;
  const caps::GuestVfio none;
  const caps::GuestVfio& b = out.vfio ? *out.vfio : none;
  if (in.vfio->backend) compare("backend", in.vfio->backend, b.backend, losses, "vfio");
  if (in.vfio->confidential)
    compare("confidential", in.vfio->confidential, b.confidential, losses, "vfio");
  if (in.vfio->migration) compare("migration", in.vfio->migration, b.migration, losses, "vfio");
}

void compare_viommu(const caps::GuestViommu& in, const caps::GuestViommu& out,
                    std::vector<std::string>& losses) {
  if (in.model.value != out.model.value) {
    losses.push_back("viommu.model: " + in.model.value + " in the input, " + out.model.value +
                     " in the output");
  }
  // Every [viommu] key a guest can set, from the property table, in its order.
  caps::for_each_caps_property([&](const auto& property) {
    if (property.guest != nullptr)
      compare(property.guest_key, in.*property.guest, out.*property.guest, losses);
  });
  compare("units", in.units, out.units, losses);
}

std::vector<std::string> device_names(const caps::Guest& guest) {
  std::vector<std::string> names;
  for (const caps::GuestDevice& d : guest.devices) names.push_back(d.bdf.value);
  return names;
}

/// VMM settings the guest file carries in its own keys, so a TOML target keeps them.
bool carried_by_guest_keys(const std::string& name) {
  static constexpr std::string_view kCarried[] = {
      "viommu",          "vfio-pci.host",       "viommu.aw-bits", "viommu.oas",
      "viommu.ssidsize", "viommu.device-iotlb", "viommu.ats"};
  return std::find(std::begin(kCarried), std::end(kCarried), name) != std::end(kCarried);
}

/// The input's VMM settings (QEMU options, libvirt attributes) the output does not have with
/// the same value.
void compare_vmm(const caps::Guest& in, const caps::Guest& out, std::string_view to,
                 std::vector<std::string>& losses) {
  for (const caps::VmmSetting& s : in.vmm.settings) {
    if (to == "toml" && carried_by_guest_keys(s.name)) continue;
    // Judged by value in compare_memory: -m 16G comes back as -m 16777216k.
    if (s.name == "m" || s.name == "cpu.phys-bits") continue;
    const auto same = [&](const caps::VmmSetting& o) {
      return o.name == s.name && o.value == s.value;
    };
    if (std::any_of(out.vmm.settings.begin(), out.vmm.settings.end(), same)) continue;
    std::string now = to == "toml"
                          ? "a guest file has no key for it (the VMM rules no longer see it)"
                          : "left out of the output (only vIOMMU settings are written)";
    for (const caps::VmmSetting& o : out.vmm.settings) {
      if (o.name == s.name) now = o.value + " in the output";
    }
    losses.push_back(s.name + "=" + s.value + " (" + s.from + "): " + now);
  }
}

tl::expected<caps::Guest, std::vector<caps::Error>> read_back(const std::string& text,
                                                              std::string_view to,
                                                              caps::QemuVersion version) {
  if (to == "qemu") return caps::parse_qemu_guest(text, "converted", version);
  if (to == "libvirt") return caps::parse_libvirt_guest(text, "converted", version);
  return caps::parse_guest(text, "converted");
}

}  // namespace

Conversion convert_guest(const caps::Guest& guest, std::string_view to, caps::QemuVersion version) {
  Conversion c;
  c.text = to == "qemu"      ? caps::write_qemu_args(guest, version) + "\n"
           : to == "libvirt" ? caps::write_libvirt_iommu(guest, version)
                             : caps::write_guest(guest);
  auto back = read_back(c.text, to, version);
  if (!back) {
    for (const caps::Error& e : back.error())
      c.losses.push_back("the output does not read back: " + e.to_string());
    return c;
  }
  compare_viommu(guest.viommu, back->viommu, c.losses);
  if (device_names(guest) != device_names(*back)) {
    c.losses.push_back("devices: " + show(device_names(guest)) + " in the input, " +
                       show(device_names(*back)) + " in the output");
  }
  // Positions aside, the tables must come back whole.
  const auto table = [](const std::optional<caps::GuestPasidTable>& t) {
    std::optional<caps::GuestPasidTable> copy = t;
    if (copy)
      *copy = {{},
               {copy->version.value, {}},
               {copy->bytes.value, {}},
               {copy->model.value, {}},
               {copy->base_ptr.value, {}},
               {copy->pasid_bits.value, {}},
               copy->s1dss ? std::optional<caps::Located<caps::S1dss>>({copy->s1dss->value, {}})
                           : std::nullopt};
    return copy;
  };
  if (table(guest.pasid_table) != table(back->pasid_table)) {
    c.losses.push_back("[pasid_table]: in the input, not expressible in " + std::string(to));
  }
  const auto alloc = [](const std::optional<caps::GuestPasidAlloc>& a) {
    std::optional<caps::GuestPasidAlloc> copy = a;
    if (copy)
      *copy = {{},
               {copy->min.value, {}},
               {copy->max.value, {}},
               {copy->count.value, {}},
               {copy->quota.value, {}}};
    return copy;
  };
  if (alloc(guest.pasid_alloc) != alloc(back->pasid_alloc)) {
    c.losses.push_back("[pasid_alloc]: in the input, not expressible in " + std::string(to));
  }
  // [stage1]: a VMM writes none, but reads one back from its nesting option (derive_stage1);
  // anything else the input's section says is lost.
  const auto stage1 = [](const std::optional<caps::GuestStage1>& s) {
    std::optional<caps::GuestStage1> copy = s;
    if (!copy) return copy;
    const auto strip = [](auto& located) {
      if (located) located->pos = {};
    };
    copy->pos = copy->type.pos = {};
    strip(copy->addr_width);
    strip(copy->sre);
    strip(copy->eafe);
    strip(copy->wpe);
    strip(copy->pgtbl_addr);
    strip(copy->config);
    strip(copy->s1fmt);
    strip(copy->s1cdmax);
    strip(copy->s1dss);
    strip(copy->s1_context_ptr);
    strip(copy->eats);
    return copy;
  };
  if (stage1(guest.stage1) != stage1(back->stage1)) {
    c.losses.push_back("[stage1]: in the input, not expressible in " + std::string(to));
  }
  compare_memory(guest, *back, c.losses);
  compare_vfio(guest, *back, c.losses);
  compare_vmm(guest, *back, to, c.losses);
  return c;
}

}  // namespace tools
