// SPDX-License-Identifier: MIT
// The rule table (the families of check_rules_*.cc, in report order), the context every rule
// sees, and the helpers the families share.
#include "check_rules.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vmm/vmm_internal.h"

namespace caps::rules {

// ---------------------------------------------------------------------------------------------
// Helpers the rule families share

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string str(int value) { return std::to_string(value); }
std::string str(uint64_t value) { return std::to_string(value); }
std::string str(bool value) { return value ? "true" : "false"; }
std::string str(Httu value) { return std::string(to_string(value)); }
std::string str(Stall value) { return std::string(to_string(value)); }
std::string str(const std::vector<std::string>& value) { return join(value, ", "); }

SourcePos pos_or(SourcePos pos, SourcePos fallback) { return pos.line == 0 ? fallback : pos; }

Finding said(std::string_view key, SourcePos pos, std::string unit, std::string evidence,
             std::string message, std::string hint) {
  Finding f;
  f.guest_key = std::string(key);
  f.pos = pos;
  f.unit = std::move(unit);
  f.evidence = std::move(evidence);
  f.message = std::move(message);
  f.hint = std::move(hint);
  return f;
}

std::string set_hint(const Guest& guest, std::string_view fact, std::string_view value,
                     std::string_view tail) {
  const std::string toml =
      "set " + std::string(fact) + " = " + std::string(value) + std::string(tail);
  if (guest.vmm.syntax == GuestSyntax::kToml) return toml;
  const bool libvirt = guest.vmm.syntax == GuestSyntax::kLibvirt;
  const std::string_view device = vmm::viommu_device(guest.vmm);
  // -machine virt,iommu=smmuv3 takes no options (they are arm-smmuv3's, as a -device).
  const vmm::FactOption* option = device == "smmuv3" ? nullptr : vmm::option_of_fact(device, fact);
  const std::string_view attribute =
      option != nullptr ? vmm::libvirt_attribute_of(option->option) : std::string_view();
  const std::string where =
      libvirt              ? "<iommu model='" + std::string(vmm::libvirt_model_of(device)) + "'>"
      : device == "smmuv3" ? std::string("-machine virt,iommu=smmuv3")
                           : "-device " + std::string(device);
  const std::string none = (libvirt ? "libvirt's " + where + " has no <driver> attribute for "
                                    : "QEMU's " + where + " has no option for ") +
                           std::string(fact) + " (it would need " + toml.substr(4) + ")";
  if (option == nullptr || (libvirt && attribute.empty())) return none;
  std::string v(value);
  std::string t(tail);
  if (value == "false" || value == "true") {
    v = value == "true" ? "on" : "off";
  } else if (option->wide > 0) {
    // QEMU takes two values only: the widest that does not exceed `value`.
    const std::optional<int64_t> n = vmm::parse_int(value);
    if (n && *n < option->narrow) {
      return (libvirt ? "libvirt's " + where + " takes " + std::string(attribute)
                      : "QEMU's " + where + " takes " + std::string(option->option)) +
             " " + str(option->narrow) + " or " + str(option->wide) + " only (it would need " +
             toml.substr(4) + ")";
    }
    if (n) v = str(*n >= option->wide ? option->wide : option->narrow);
    if (n && tail == " or lower") t.clear();
  }
  if (libvirt) {
    if (t.starts_with(" or lower")) t = " (or lower)" + t.substr(9);
    return "set <driver " + std::string(attribute) + "='" + v + "'/> in " + where + t;
  }
  // " or lower" belongs to the value; any other tail ("or assign ...") to the whole sentence.
  if (t.starts_with(" or lower")) {
    v += " or lower";
    t.erase(0, 9);
  }
  return "set " + std::string(option->option) + "=" + v + " on " + where + t;
}

std::string model_evidence(const Unit& unit) {
  auto it = unit.evidence.find("model");
  if (it != unit.evidence.end()) return unit.name + ": " + it->second;
  return unit.name + ": model = " + unit.model + " (" + std::string(to_string(unit.layout)) +
         " layout)";
}

std::string supports(int bits) { return bits <= 0 ? std::string("none") : str(bits); }

bool fits(uint64_t value, int bits) {
  if (bits <= 0) return value == 0;
  if (bits >= 64) return true;
  return value < (uint64_t{1} << bits);
}

int bits_needed(uint64_t value) {
  int bits = 0;
  while (value != 0) {
    ++bits;
    value >>= 1;
  }
  return bits;
}

uint64_t largest_in(int bits) {
  if (bits <= 0) return 0;
  if (bits >= 64) return UINT64_MAX;
  return (uint64_t{1} << bits) - 1;
}

namespace {

/// The units a guest is checked against, given the host devices of its [[device]]s
/// (Context::devices); `ordered` sorts them naturally, which only the text of findings needs.
UnitSelection select_units(const Guest& guest, const Host& host, const Index& index,
                           const std::vector<const Device*>& devices, bool ordered) {
  UnitSelection out;
  std::vector<bool> chosen(host.units.size());
  auto add = [&](const Unit* unit) {
    const auto at = static_cast<size_t>(unit - host.units.data());
    if (chosen[at]) return;
    chosen[at] = true;
    out.units.push_back(unit);
  };
  const auto& named = guest.viommu.units;
  if (named && !named->value.empty()) {
    out.source = UnitSource::kNamed;
    for (const std::string& name : named->value) {
      if (const Unit* unit = index.units.find(name)) {
        add(unit);
      } else {
        out.missing.push_back(name);
      }
    }
  } else {
    out.source = UnitSource::kDevices;
    for (const Device* device : devices) {
      const Unit* unit = device && device->unit ? index.units.find(*device->unit) : nullptr;
      if (unit) add(unit);
    }
    if (out.units.empty()) {
      out.source = UnitSource::kAll;
      out.units.reserve(host.units.size());
      for (const Unit& unit : host.units) out.units.push_back(&unit);
    }
  }
  if (ordered) {
    std::sort(out.units.begin(), out.units.end(),
              [](const Unit* a, const Unit* b) { return natural_less(a->name, b->name); });
  }
  return out;
}

std::vector<const Device*> find_devices(const Guest& guest, const Index& index) {
  std::vector<const Device*> out;
  out.reserve(guest.devices.size());
  for (const GuestDevice& device : guest.devices)
    out.push_back(index.devices.find(device.bdf.value));
  return out;
}

}  // namespace

Context make_context(const Guest& guest, const Host& host, bool ordered) {
  Index index(guest, host);
  std::vector<const Device*> devices = find_devices(guest, index);
  UnitSelection selection = select_units(guest, host, index, devices, ordered);
  return Context{guest, host, std::move(index), std::move(selection), std::move(devices)};
}

std::span<const Rule> all_rules() {
  static const std::vector<Rule> kRules = [] {
    std::vector<Rule> rules;
    for (std::span<const Rule> family :
         {unit_rules(), width_rules(), feature_rules(), smmuv3_rules(), pasid_table_rules(),
          pasid_alloc_rules(), stage1_rules(), device_rules(), backend_rules(),
          posture_rules(), region_rules()}) {
      rules.insert(rules.end(), family.begin(), family.end());
    }
    return rules;
  }();
  return kRules;
}

}  // namespace caps::rules
