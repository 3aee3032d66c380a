// SPDX-License-Identifier: MIT
// validate_guest: what a guest says checked for sense, whichever front end (guest file, QEMU
// command line, libvirt XML) built it. The TOML syntax (keys, types, positions) is guest.cc's.
#include "guest_validate.h"

#include <algorithm>
#include <map>
#include <type_traits>
#include <utility>

#include "libcaps/caps_properties.h"
#include "libcaps/parse.h"
#include "libcaps/spelling.h"

namespace caps {

std::string range_message(std::string_view path, GuestRange range, int64_t value) {
  return std::string(path) + ": expected " + std::to_string(range.lo) + ".." +
         std::to_string(range.hi) + ", got " + std::to_string(value);
}

std::string not_one_of(std::string_view path, std::string_view value,
                       std::span<const std::string_view> choices) {
  std::string out = std::string(path) + ": `" + std::string(value) + "` is not one of ";
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) out += " | ";
    out += choices[i];
  }
  if (std::optional<std::string_view> near = nearest(value, choices)) {
    out += "; did you mean `" + std::string(*near) + "`?";
  }
  return out;
}

std::string empty_string_message(std::string_view path) {
  return std::string(path) + ": expected a non-empty string";
}

std::optional<std::string> UnitsCheck::add(std::string_view name) {
  if (name.empty()) return "expected a non-empty string";
  if (!seen_.insert(name).second) return "`" + std::string(name) + "` is listed twice";
  return std::nullopt;
}

namespace {

/// Collects the problems of one guest.
class Validator {
 public:
  std::vector<GuestProblem> run(const Guest& guest) {
    viommu(guest.viommu);
    devices(guest.devices);
    if (guest.pasid_table) {
      in_range("pasid_table.pasid_bits", guest.pasid_table->pasid_bits, kGuestPasidBitsRange);
    }
    return std::move(problems_);
  }

 private:
  void problem(std::string path, SourcePos pos, std::string message) {
    problems_.push_back({std::move(path), pos, std::move(message)});
  }

  void in_range(std::string path, const Located<int>& value, GuestRange range) {
    if (value.value >= range.lo && value.value <= range.hi) return;
    std::string message = range_message(path, range, value.value);
    problem(std::move(path), value.pos, std::move(message));
  }
  void in_range(std::string path, const std::optional<Located<int>>& value, GuestRange range) {
    if (value) in_range(std::move(path), *value, range);
  }

  void non_empty(std::string path, const std::optional<Located<std::string>>& value) {
    if (!value || !value->value.empty()) return;
    std::string message = empty_string_message(path);
    problem(std::move(path), value->pos, std::move(message));
  }

  void viommu(const GuestViommu& v) {
    const std::string model = "viommu.model";
    if (v.model.value.empty()) {
      problem(model, v.model.pos, empty_string_message(model));
    } else if (std::find(kGuestViommuModels.begin(), kGuestViommuModels.end(), v.model.value) ==
               kGuestViommuModels.end()) {
      problem(model, v.model.pos, not_one_of(model, v.model.value, kGuestViommuModels));
    }
    for_each_caps_property([&](const auto& property) {
      if constexpr (std::is_same_v<typename std::decay_t<decltype(property)>::Value, int>) {
        in_range("viommu." + std::string(property.guest_key), v.*property.guest,
                 {property.lo, property.hi});
      }
    });
    non_empty("viommu.pgtable_format", v.pgtable_format);
    if (v.units) units(*v.units);
  }

  /// A front end other than the guest file has no position per element: the list's is used.
  void units(const Located<std::vector<std::string>>& units) {
    if (units.value.empty()) {
      problem("viommu.units", units.pos,
              "viommu.units: expected a non-empty array (leave `units` out to check every unit)");
      return;
    }
    UnitsCheck check;
    for (size_t i = 0; i < units.value.size(); ++i) {
      if (std::optional<std::string> message = check.add(units.value[i])) {
        std::string path = "viommu.units[" + std::to_string(i) + "]";
        problem(path, units.pos, path + ": " + *message);
      }
    }
  }

  /// A [[device]] is a PCI address or, for VFIO platform devices, a platform device name (no
  /// ':'), checked only for characters a sysfs name cannot hold.
  bool device_name(const Located<std::string>& bdf, const std::string& path) {
    const std::string& name = bdf.value;
    if (name.empty()) {
      problem(path, bdf.pos, empty_string_message(path));
      return false;
    }
    if (name.find(':') == std::string::npos) {
      // A name that is not UTF-8 cannot be written into a guest file or a libvirt domain, and
      // two such names can become one when repaired: refuse it here, for every front end.
      if (!is_valid_utf8(name)) {
        problem(path, bdf.pos, path + ": the device name is not valid UTF-8");
        return false;
      }
      bool sysfs_name = std::none_of(name.begin(), name.end(), [](char c) {
        return c == '/' || static_cast<unsigned char>(c) <= ' ' || c == '\x7f';
      });
      if (sysfs_name) return true;
      problem(path, bdf.pos,
              path + ": `" + name + "` is neither a PCI address DDDD:BB:DD.F nor a device name");
      return false;
    }
    if (is_pci_address(name, PciAddressForm::kSysfs)) return true;
    if (std::count(name.begin(), name.end(), ':') == 1 &&
        is_pci_address("0000:" + name, PciAddressForm::kSysfs)) {
      problem(path, bdf.pos,
              path + ": `" + name + "` has no PCI domain; write `0000:" + name + "`");
      return false;
    }
    problem(path, bdf.pos,
            path + ": `" + name +
                "` is not a PCI address DDDD:BB:DD.F (lowercase hex, device 00-1f, function 0-7)");
    return false;
  }

  void devices(const std::vector<GuestDevice>& devices) {
    std::map<std::string_view, size_t> seen;  // name -> index of its first device
    for (size_t i = 0; i < devices.size(); ++i) {
      const Located<std::string>& bdf = devices[i].bdf;
      std::string path = "device[" + std::to_string(i) + "].bdf";
      if (!device_name(bdf, path)) continue;
      auto [first, inserted] = seen.emplace(bdf.value, i);
      if (inserted) continue;
      const SourcePos first_pos = devices[first->second].bdf.pos;
      const std::string where = first_pos.line > 0
                                    ? "at line " + std::to_string(first_pos.line)
                                    : "as device[" + std::to_string(first->second) + "]";
      problem(path, bdf.pos,
              path + ": `" + bdf.value + "` is assigned twice (first " + where + ")");
    }
  }

  std::vector<GuestProblem> problems_;
};

}  // namespace

std::vector<GuestProblem> guest_problems(const Guest& guest) { return Validator().run(guest); }

std::vector<Error> validate_guest(Guest& guest) {
  std::vector<Error> out;
  for (GuestProblem& p : guest_problems(guest)) {
    out.push_back({guest.file, std::move(p.message), p.pos});
  }
  return out;
}

}  // namespace caps
