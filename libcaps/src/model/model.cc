// SPDX-License-Identifier: MIT
// Names of the model's enumerations, natural ordering and look-ups (layouts and models are
// named by model_table.cc).
#include "libcaps/model.h"

#include <algorithm>
#include <cctype>

#include "libcaps/parse.h"

namespace caps {

std::optional<KernelVersion> parse_kernel_version(std::string_view release) {
  // Each part is a short decimal number; anything longer is not a release string.
  auto number = [&](std::string_view& rest) -> std::optional<int> {
    size_t n = 0;
    int value = 0;
    while (n < rest.size() && n < 4 && std::isdigit(static_cast<unsigned char>(rest[n]))) {
      value = value * 10 + (rest[n] - '0');
      ++n;
    }
    if (n == 0 || (n < rest.size() && std::isdigit(static_cast<unsigned char>(rest[n])))) {
      return std::nullopt;
    }
    rest.remove_prefix(n);
    return value;
  };
  std::string_view rest = release;
  std::optional<int> major = number(rest);
  if (!major || rest.empty() || rest.front() != '.') return std::nullopt;
  rest.remove_prefix(1);
  std::optional<int> minor = number(rest);
  if (!minor) return std::nullopt;
  return KernelVersion{*major, *minor};
}

std::string_view to_string(Httu httu) {
  switch (httu) {
    case Httu::kNone:
      return "none";
    case Httu::kAccess:
      return "access";
    case Httu::kAccessDirty:
      return "access+dirty";
  }
  return "none";
}

std::optional<Httu> parse_httu(std::string_view text) {
  for (Httu h : {Httu::kNone, Httu::kAccess, Httu::kAccessDirty}) {
    if (text == to_string(h)) return h;
  }
  return std::nullopt;
}

std::string_view to_string(Stall stall) {
  switch (stall) {
    case Stall::kDisabled:
      return "disabled";
    case Stall::kEnabled:
      return "enabled";
    case Stall::kForce:
      return "force";
  }
  return "disabled";
}

std::optional<Stall> parse_stall(std::string_view text) {
  for (Stall s : {Stall::kDisabled, Stall::kEnabled, Stall::kForce}) {
    if (text == to_string(s)) return s;
  }
  return std::nullopt;
}

std::optional<uint64_t> Register::field(std::string_view field_name) const {
  for (const Field& f : fields) {
    if (f.name == field_name) return f.value;
  }
  return std::nullopt;
}

const Unit* Host::find_unit(std::string_view name) const {
  for (const Unit& u : units) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

const Device* Host::find_device(std::string_view name) const {
  for (const Device& d : devices) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

const Group* Host::find_group(uint64_t id) const {
  for (const Group& g : groups) {
    if (g.id == id) return &g;
  }
  return nullptr;
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool natural_less(std::string_view a, std::string_view b) {
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      // Compare digit runs as numbers: skip leading zeros, then longer run is larger.
      size_t ie = i;
      size_t je = j;
      while (ie < a.size() && is_digit(a[ie])) ++ie;
      while (je < b.size() && is_digit(b[je])) ++je;
      size_t iz = i;
      size_t jz = j;
      while (iz + 1 < ie && a[iz] == '0') ++iz;
      while (jz + 1 < je && b[jz] == '0') ++jz;
      if (ie - iz != je - jz) return ie - iz < je - jz;
      int c = a.substr(iz, ie - iz).compare(b.substr(jz, je - jz));
      if (c != 0) return c < 0;
      if (ie - i != je - j) return ie - i < je - j;  // fewer leading zeros first
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

bool device_less(std::string_view a, std::string_view b) {
  const bool pa = is_pci_address(a, PciAddressForm::kShape);
  const bool pb = is_pci_address(b, PciAddressForm::kShape);
  if (pa && pb) return a < b;
  if (pa != pb) return pa;
  return natural_less(a, b);
}

}  // namespace caps
