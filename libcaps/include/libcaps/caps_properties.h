// SPDX-License-Identifier: MIT
// The normalized capabilities (Caps) as one table: each property's name, member, guest key,
// generic-layout file and how suggest merges it across units. The host-report writer and
// loader, the probe's JSON and text output, the generic-layout reader, suggest and the guest
// keys all walk this table, so a new property is a Caps member plus one row here.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "libcaps/guest.h"
#include "libcaps/model.h"

namespace caps {

/// How suggest_guest turns the units' values of a property into one guest value.
enum class Merge {
  kLeast,   // the least over all units (widths, httu); a bound may cap it (ssid_bits)
  kAll,     // a feature: true when every unit has it, left out otherwise
  kNested,  // kAll, when every unit is of the guest's model (hardware nesting)
  kStall,   // disabled if a unit has no stall support, else enabled
  kCommon,  // a list: the guest's preferred entry common to every unit (pgtable formats)
  kNone,    // not something a guest sets
};

/// The generic sysfs layout's file for a property, and what its absence means.
template <class T>
struct GenericFile {
  std::string_view name;         // the file under <model>/; empty: the layout has none
  std::optional<T> if_absent{};  // the documented default; nullopt: unknown
  int order = 0;                 // when the reader reads it (and reports its problems): 1, 2, ...
};

/// One normalized property whose value is a T (int, bool, Httu, Stall or a list of strings);
/// a guest file sets it as a G (T, but one string for the list of page-table formats).
template <class T, class G = T>
struct CapsProperty {
  using Value = T;
  std::string_view name;  // key in host reports, JSON and evidence ("input_bits")
  std::optional<T> Caps::*member;
  std::string_view guest_key{};  // [viommu] key of guest files; empty: a guest cannot set it
  std::optional<Located<G>> GuestViommu::*guest = nullptr;
  int lo = 0;  // widths: the values that make sense, in sysfs and in guest files alike
  int hi = 0;
  GenericFile<T> generic{};
  Merge merge = Merge::kNone;
  std::string_view only_model{};   // suggest sets it only for this vIOMMU model (empty: all)
  int bound = 0;                   // kLeast: at most this when > 0 (the PCIe PASID width)
  std::string_view text_column{};  // column of iommu-probe's unit table; empty: not shown
};

using Formats = std::vector<std::string>;

/// Every normalized property, in the order reports, JSON and guest files list them.
inline constexpr auto kCapsProperties = std::make_tuple(
    CapsProperty<int>{.name = "input_bits",
                      .member = &Caps::input_bits,
                      .guest_key = "input_bits",
                      .guest = &GuestViommu::input_bits,
                      .lo = 1,
                      .hi = 64,
                      .generic = {"input_bits", std::nullopt, 3},
                      .merge = Merge::kLeast,
                      .text_column = "input"},
    CapsProperty<int>{.name = "output_bits",
                      .member = &Caps::output_bits,
                      .guest_key = "output_bits",
                      .guest = &GuestViommu::output_bits,
                      .lo = 1,
                      .hi = 64,
                      .generic = {"output_bits", std::nullopt, 4},
                      .merge = Merge::kLeast,
                      .text_column = "output"},
    CapsProperty<int>{.name = "asid_bits",
                      .member = &Caps::asid_bits,
                      .guest_key = "asid_bits",
                      .guest = &GuestViommu::asid_bits,
                      .lo = 0,
                      .hi = 32,
                      .generic = {"asid_bits", std::nullopt, 1},
                      .merge = Merge::kLeast,
                      .text_column = "asid"},
    // Up to 32 in a guest file, so that the checker can report the PCIe limit with a hint.
    CapsProperty<int>{.name = "ssid_bits",
                      .member = &Caps::ssid_bits,
                      .guest_key = "ssid_bits",
                      .guest = &GuestViommu::ssid_bits,
                      .lo = 0,
                      .hi = 32,
                      .generic = {"ssid_bits", 0, 2},
                      .merge = Merge::kLeast,
                      .bound = kPciePasidBits,
                      .text_column = "ssid"},
    CapsProperty<Httu>{.name = "httu",
                       .member = &Caps::httu,
                       .guest_key = "httu",
                       .guest = &GuestViommu::httu,
                       .generic = {"httu", Httu::kNone, 6},
                       .merge = Merge::kLeast,
                       .text_column = "httu"},
    CapsProperty<Stall>{.name = "stall",
                        .member = &Caps::stall,
                        .guest_key = "stall",
                        .guest = &GuestViommu::stall,
                        .generic = {"stall", Stall::kDisabled, 7},
                        .merge = Merge::kStall,
                        .only_model = kModelArmSmmuV3},
    CapsProperty<bool>{.name = "btm",
                       .member = &Caps::btm,
                       .guest_key = "btm",
                       .guest = &GuestViommu::btm,
                       .generic = {"btm", false, 5},
                       .merge = Merge::kAll,
                       .only_model = kModelArmSmmuV3},
    // A guest names the one format it uses; a unit lists all it offers.
    CapsProperty<Formats, std::string>{.name = "pgtable_formats",
                                       .member = &Caps::pgtable_formats,
                                       .guest_key = "pgtable_format",
                                       .guest = &GuestViommu::pgtable_format,
                                       .generic = {"pgtable_format", std::nullopt, 11},
                                       .merge = Merge::kCommon},
    CapsProperty<bool>{.name = "nested",
                       .member = &Caps::nested,
                       .guest_key = "nested",
                       .guest = &GuestViommu::nested,
                       .generic = {"nested", std::nullopt, 8},
                       .merge = Merge::kNested,
                       .text_column = "nested"},
    CapsProperty<bool>{.name = "ats",
                       .member = &Caps::ats,
                       .guest_key = "ats",
                       .guest = &GuestViommu::ats,
                       .generic = {"ats", std::nullopt, 9},
                       .merge = Merge::kAll,
                       .text_column = "ats"},
    CapsProperty<bool>{.name = "page_requests",
                       .member = &Caps::page_requests,
                       .guest_key = "page_requests",
                       .guest = &GuestViommu::page_requests,
                       .generic = {"pri", std::nullopt, 10},
                       .merge = Merge::kAll,
                       .text_column = "pri"},
    // The generic layout has no file: access+dirty httu means dirty tracking.
    CapsProperty<bool>{.name = "dirty_tracking",
                       .member = &Caps::dirty_tracking,
                       .guest_key = "dirty_tracking",
                       .guest = &GuestViommu::dirty_tracking,
                       .merge = Merge::kAll,
                       .text_column = "dirty"},
    CapsProperty<bool>{
        .name = "scalable_mode", .member = &Caps::scalable_mode, .text_column = "sm"});

/// Calls `f(property)` for every row of kCapsProperties, in order.
template <class F>
constexpr void for_each_caps_property(F&& f) {
  std::apply([&](const auto&... property) { (f(property), ...); }, kCapsProperties);
}

/// The number of rows.
inline constexpr std::size_t kCapsPropertyCount = std::tuple_size_v<decltype(kCapsProperties)>;

/// The property names (host-report and JSON keys), in table order.
constexpr std::array<std::string_view, kCapsPropertyCount> caps_property_names() {
  std::array<std::string_view, kCapsPropertyCount> names{};
  std::size_t i = 0;
  for_each_caps_property([&](const auto& p) { names[i++] = p.name; });
  return names;
}

/// How many properties a guest file can set.
constexpr std::size_t caps_guest_key_count() {
  std::size_t n = 0;
  for_each_caps_property([&](const auto& p) { n += p.guest_key.empty() ? 0 : 1; });
  return n;
}

/// The guest keys of the properties a guest can set, in table order.
constexpr std::array<std::string_view, caps_guest_key_count()> caps_guest_keys() {
  std::array<std::string_view, caps_guest_key_count()> keys{};
  std::size_t i = 0;
  for_each_caps_property([&](const auto& p) {
    if (!p.guest_key.empty()) keys[i++] = p.guest_key;
  });
  return keys;
}

}  // namespace caps
