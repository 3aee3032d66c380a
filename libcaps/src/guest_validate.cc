// SPDX-License-Identifier: MIT
// validate_guest: the range, value and device-name checks every guest front end (TOML, QEMU
// command line, libvirt domain) shares, so no rule knows which syntax a guest came in.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "guest_keys.h"
#include "libcaps/guest.h"

namespace caps {
namespace {

class Validator {
 public:
  explicit Validator(const Guest& guest) : file_(guest.file) {}

  void error(SourcePos pos, std::string message) {
    if (pos.line == 0) pos = {1, 1};
    errors_.push_back({file_ + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column),
                       std::move(message)});
  }

  void range(const std::optional<Located<int>>& value, std::string_view key, GuestRange r) {
    if (!value || (value->value >= r.lo && value->value <= r.hi)) return;
    error(value->pos, std::string(key) + ": expected " + std::to_string(r.lo) + ".." +
                          std::to_string(r.hi) + ", got " + std::to_string(value->value));
  }

  std::vector<Error> take() {
    std::stable_sort(errors_.begin(), errors_.end(), [](const Error& a, const Error& b) {
      return position(a.where) < position(b.where);
    });
    return std::move(errors_);
  }

 private:
  /// (line, column) of "file:line:col", for reporting in text order.
  static std::pair<int, int> position(const std::string& where) {
    size_t c2 = where.rfind(':');
    size_t c1 = c2 == std::string::npos || c2 == 0 ? std::string::npos : where.rfind(':', c2 - 1);
    if (c1 == std::string::npos) return {0, 0};
    return {std::atoi(where.c_str() + c1 + 1), std::atoi(where.c_str() + c2 + 1)};
  }

  std::string file_;
  std::vector<Error> errors_;
};

bool is_hex(std::string_view text, size_t min_digits, size_t max_digits) {
  if (text.size() < min_digits || text.size() > max_digits) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

/// DDDD:BB:DD.F as sysfs names PCI devices (lowercase hex, device 00-1f, function 0-7).
bool is_pci_address(std::string_view name) {
  if (name.size() < 12) return false;
  size_t dot = name.rfind('.');
  size_t colon2 = name.rfind(':');
  if (dot == std::string_view::npos || colon2 == std::string_view::npos || colon2 == 0 ||
      dot < colon2) {
    return false;
  }
  size_t colon1 = name.rfind(':', colon2 - 1);
  if (colon1 == std::string_view::npos) return false;
  std::string_view device = name.substr(colon2 + 1, dot - colon2 - 1);
  std::string_view function = name.substr(dot + 1);
  return is_hex(name.substr(0, colon1), 4, 8) &&
         is_hex(name.substr(colon1 + 1, colon2 - colon1 - 1), 2, 2) && is_hex(device, 2, 2) &&
         device[0] <= '1' && function.size() == 1 && function[0] >= '0' && function[0] <= '7';
}

}  // namespace

std::vector<Error> validate_guest(Guest& guest) {
  Validator v(guest);
  GuestViommu& viommu = guest.viommu;
  if (std::find(kGuestViommuModels.begin(), kGuestViommuModels.end(), viommu.model.value) ==
      kGuestViommuModels.end()) {
    v.error(viommu.model.pos, "viommu.model: `" + viommu.model.value + "` is not a vIOMMU model");
  }
  v.range(viommu.input_bits, "viommu.input_bits", kGuestAddressBitsRange);
  v.range(viommu.output_bits, "viommu.output_bits", kGuestAddressBitsRange);
  v.range(viommu.asid_bits, "viommu.asid_bits", kGuestAsidBitsRange);
  v.range(viommu.ssid_bits, "viommu.ssid_bits", kGuestSsidBitsRange);

  std::map<std::string, SourcePos> seen;
  for (size_t i = 0; i < guest.devices.size(); ++i) {
    const Located<std::string>& bdf = guest.devices[i].bdf;
    std::string path = "device[" + std::to_string(i) + "].bdf";
    if (!is_pci_address(bdf.value)) {
      v.error(bdf.pos, path + ": `" + bdf.value + "` is not a PCI address DDDD:BB:DD.F");
      continue;
    }
    auto [first, inserted] = seen.emplace(bdf.value, bdf.pos);
    if (!inserted) {
      v.error(bdf.pos, path + ": `" + bdf.value + "` is assigned twice (first at line " +
                           std::to_string(first->second.line) + ")");
    }
  }
  if (guest.pasid_table) {
    Located<int>& bits = guest.pasid_table->pasid_bits;
    v.range(std::optional<Located<int>>(bits), "pasid_table.pasid_bits", kGuestPasidBitsRange);
  }
  if (guest.pasid_alloc && guest.pasid_alloc->quota.pos.line == 0 &&
      guest.pasid_alloc->quota.value == 0) {
    guest.pasid_alloc->quota.value = kGuestDefaultQuota;
  }
  return v.take();
}

}  // namespace caps
