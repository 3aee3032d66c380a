// SPDX-License-Identifier: MIT
// Helpers the fuzz targets share: UTF-8 validity and repair as the host-report writer does
// it, and comparing two Hosts member by member (Host has no operator==).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "libcaps/model.h"
#include "libcaps/parse.h"

namespace caps::fuzz {

/// Length of the well-formed UTF-8 sequence at text[pos], or 0 (Unicode table 3-7).
FUZZ_NO_COVERAGE inline std::size_t utf8_length(std::string_view text, std::size_t pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) length = 2;
  if (lead >= 0xE0 && lead <= 0xEF) length = 3;
  if (lead >= 0xF0 && lead <= 0xF4) length = 4;
  if (lead == 0xE0) lo = 0xA0;
  if (lead == 0xED) hi = 0x9F;
  if (lead == 0xF0) lo = 0x90;
  if (lead == 0xF4) hi = 0x8F;
  if (length == 0 || pos + length > text.size()) return 0;
  for (std::size_t n = 1; n < length; ++n) {
    const auto b = static_cast<unsigned char>(text[pos + n]);
    if (b < (n == 1 ? lo : 0x80) || b > (n == 1 ? hi : 0xBF)) return 0;
  }
  return length;
}

FUZZ_NO_COVERAGE inline bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

/// `text` with each maximal ill-formed subpart replaced by one U+FFFD: what write_host_report
/// writes for it (TOML text must be UTF-8; string_literal.cc, through the library's own
/// utf8_invalid_length). One U+FFFD a byte, as this helper did before, disagreed with the writer
/// on a truncated sequence (fuzz_reader, a command line with one).
FUZZ_NO_COVERAGE inline std::string repair_utf8(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = caps::utf8_sequence_length(text, i);
    if (n == 0) {
      out.append("\xEF\xBF\xBD");
      i += caps::utf8_invalid_length(text, i);
      continue;
    }
    out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

inline void repair(std::string& s) { s = repair_utf8(s); }
inline void repair(std::optional<std::string>& s) {
  if (s) repair(*s);
}
inline void repair(std::vector<std::string>& v) {
  for (std::string& s : v) repair(s);
}
/// Map keys are repaired too; `collided` is set when two keys become one.
template <class V>
void repair(std::map<std::string, V>& m, bool& collided) {
  std::map<std::string, V> out;
  for (auto& [key, value] : m) {
    if constexpr (std::is_same_v<V, std::string>) repair(value);
    if constexpr (std::is_same_v<V, Scalar>) {
      if (auto* s = std::get_if<std::string>(&value)) repair(*s);
    }
    collided |= !out.emplace(repair_utf8(key), std::move(value)).second;
  }
  m = std::move(out);
}
inline void repair(Diagnostics& diagnostics) {
  for (Diagnostic& d : diagnostics) {
    repair(d.path);
    repair(d.message);
  }
}
inline void repair(Register& r) {
  repair(r.name);
  for (Field& f : r.fields) repair(f.name);
}

/// The host as a report writes it: every string repaired. Returns false when repairing made
/// two map keys equal (the report then cannot hold both).
inline bool repair_host(Host& host) {
  bool collided = false;
  for (Unit& u : host.units) {
    repair(u.name);
    repair(u.model);
    if (u.caps.pgtable_formats) repair(*u.caps.pgtable_formats);
    repair(u.evidence, collided);
    for (RegisterFile& r : u.registers) {
      repair(r.file);
      repair(r.format);
      repair(r.main);
      if (r.second) repair(*r.second);
    }
    repair(u.properties, collided);
    repair(u.extra, collided);
    repair(u.devices);
    repair(u.diagnostics);
  }
  for (Group& g : host.groups) {
    repair(g.type);
    repair(g.name);
    repair(g.devices);
    for (ReservedRegion& r : g.reserved_regions) repair(r.type);
  }
  for (Device& d : host.devices) {
    repair(d.name);
    repair(d.unit);
    repair(d.driver);
  }
  repair(host.platform.acpi_tables);
  repair(host.platform.cmdline);
  repair(host.platform.kernel_release);
  repair(host.platform.why_no_units);
  repair(host.diagnostics);
  return !collided;
}

/// Every member but backend and root, which a loaded report sets itself.
inline void require_same_host(const Host& a, const Host& b, std::string_view context) {
  require(a.units == b.units, "same units", context);
  require(a.groups == b.groups, "same groups", context);
  require(a.devices == b.devices, "same devices", context);
  require(a.platform == b.platform, "same platform", context);
  require(a.diagnostics == b.diagnostics, "same diagnostics", context);
}

}  // namespace caps::fuzz
