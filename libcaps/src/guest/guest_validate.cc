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
    if (guest.stage1) stage1(*guest.stage1);
    if (guest.memory) {
      in_range("memory.size", guest.memory->size, kGuestMemorySizeRange);
      in_range("memory.phys_bits", guest.memory->phys_bits, kGuestPhysBitsRange);
      in_range("memory.above_4g_start", guest.memory->above_4g_start, kGuestAbove4gRange);
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

  /// An unsigned value against a range of int64_t (values above INT64_MAX are out of every
  /// range: a TOML file cannot hold them).
  void in_range(std::string path, const std::optional<Located<uint64_t>>& value, GuestRange range) {
    if (!value) return;
    const uint64_t v = value->value;
    if (v <= static_cast<uint64_t>(range.hi) && static_cast<int64_t>(v) >= range.lo) return;
    std::string message = std::string(path) + ": expected " + std::to_string(range.lo) + ".." +
                          std::to_string(range.hi) + ", got " + std::to_string(v);
    problem(std::move(path), value->pos, std::move(message));
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

  /// [stage1]: ranges, and each key belongs to the type it describes (a vtd_s1 has no STE).
  void stage1(const GuestStage1& s) {
    in_range("stage1.addr_width", s.addr_width, kGuestAddressWidthRange);
    in_range("stage1.s1cdmax", s.s1cdmax, kGuestS1CdMaxRange);
    const bool vtd = s.type.value == Stage1Type::kVtdS1;
    const std::string_view other = vtd ? "arm_smmuv3" : "vtd_s1";
    auto only = [&](std::string_view key, bool present, SourcePos pos, bool vtd_key) {
      if (!present || vtd_key == vtd) return;
      std::string path = "stage1." + std::string(key);
      problem(path, pos,
              path + ": belongs to type = \"" + std::string(other) + "\", not \"" +
                  std::string(to_string(s.type.value)) + "\"");
    };
    auto pos_of = [](const auto& located) { return located ? located->pos : SourcePos{}; };
    only("addr_width", s.addr_width.has_value(), pos_of(s.addr_width), true);
    only("sre", s.sre.has_value(), pos_of(s.sre), true);
    only("eafe", s.eafe.has_value(), pos_of(s.eafe), true);
    only("wpe", s.wpe.has_value(), pos_of(s.wpe), true);
    only("pgtbl_addr", s.pgtbl_addr.has_value(), pos_of(s.pgtbl_addr), true);
    only("config", s.config.has_value(), pos_of(s.config), false);
    only("s1fmt", s.s1fmt.has_value(), pos_of(s.s1fmt), false);
    only("s1cdmax", s.s1cdmax.has_value(), pos_of(s.s1cdmax), false);
    only("s1dss", s.s1dss.has_value(), pos_of(s.s1dss), false);
    only("s1_context_ptr", s.s1_context_ptr.has_value(), pos_of(s.s1_context_ptr), false);
    only("eats", s.eats.has_value(), pos_of(s.eats), false);
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
