// SPDX-License-Identifier: MIT
// The keys, enumerated values and syntactic ranges parse_guest knows: one table each, shared by
// the parser (unknown-key checks, did-you-mean suggestions) and its tests (schema coverage).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "libcaps/caps_properties.h"
#include "libcaps/guest.h"
#include "libcaps/model.h"
#include "model/model_table.h"

namespace caps {

/// Keys of each table of the guest file, in the order write_guest emits them.
inline constexpr std::array<std::string_view, 8> kGuestTopKeys = {
    "format", "viommu", "device", "pasid_table", "pasid_alloc", "stage1", "vfio", "memory"};
/// [viommu]: the model, the normalized properties a guest sets (caps_properties.h), the units.
inline constexpr std::array<std::string_view, caps_guest_key_count() + 2> kGuestViommuKeys = [] {
  std::array<std::string_view, caps_guest_key_count() + 2> keys{};
  keys.front() = "model";
  const auto properties = caps_guest_keys();
  std::copy(properties.begin(), properties.end(), keys.begin() + 1);
  keys.back() = "units";
  return keys;
}();
inline constexpr std::array<std::string_view, 1> kGuestDeviceKeys = {"bdf"};
inline constexpr std::array<std::string_view, 6> kGuestPasidTableKeys = {
    "version", "bytes", "model", "base_ptr", "pasid_bits", "s1dss"};
inline constexpr std::array<std::string_view, 4> kGuestPasidAllocKeys = {"min", "max", "count",
                                                                         "quota"};

/// [stage1]: the type, then struct iommu_hwpt_vtd_s1's fields, then the vSTE's.
inline constexpr std::array<std::string_view, 12> kGuestStage1Keys = {
    "type",   "addr_width", "sre",     "eafe",  "wpe",            "pgtbl_addr",
    "config", "s1fmt",      "s1cdmax", "s1dss", "s1_context_ptr", "eats"};
/// [vfio] (GuestVfio) and its enumerated values.
inline constexpr std::array<std::string_view, 3> kGuestVfioKeys = {"backend", "confidential",
                                                                   "migration"};
inline constexpr std::array<std::string_view, 2> kGuestVfioBackends = {"iommufd", "legacy"};
inline constexpr std::array<std::string_view, 3> kGuestConfidentialKinds = {"sev", "sev-snp",
                                                                            "tdx"};
inline constexpr std::array<std::string_view, 3> kGuestMemoryKeys = {"size", "phys_bits",
                                                                    "above_4g_start"};

/// The only guest file format this version reads and writes.
inline constexpr int64_t kGuestFormat = 1;

/// viommu.model values (kept a string in the Guest: the checker compares it with host models).
inline constexpr const auto& kGuestViommuModels = kModelNames;

/// Enumerators the guest file can name, spelled by their to_string().
inline constexpr std::array<Httu, 3> kGuestHttuValues = {Httu::kNone, Httu::kAccess,
                                                         Httu::kAccessDirty};
inline constexpr std::array<Stall, 3> kGuestStallValues = {Stall::kDisabled, Stall::kEnabled,
                                                           Stall::kForce};
inline constexpr std::array<PasidTableModel, 5> kGuestPasidTableModels = {
    PasidTableModel::kHost, PasidTableModel::kArm1Lvl, PasidTableModel::kArm2Lvl,
    PasidTableModel::kAmd, PasidTableModel::kIntel};
inline constexpr std::array<S1dss, 3> kGuestS1dssValues = {S1dss::kTerminate, S1dss::kBypass,
                                                           S1dss::kSsid0};
inline constexpr std::array<Stage1Type, 2> kGuestStage1Types = {Stage1Type::kVtdS1,
                                                                Stage1Type::kArmSmmuV3};
inline constexpr std::array<SteConfig, 5> kGuestSteConfigs = {
    SteConfig::kAbort, SteConfig::kBypass, SteConfig::kS1Trans, SteConfig::kS2Trans,
    SteConfig::kNested};
inline constexpr std::array<S1Fmt, 3> kGuestS1Fmts = {S1Fmt::kLinear, S1Fmt::kTwoLevel4k,
                                                      S1Fmt::kTwoLevel64k};
inline constexpr std::array<Eats, 3> kGuestEatsValues = {Eats::kAbort, Eats::kTrans, Eats::kSplit};

/// An inclusive range of integer values.
struct GuestRange {
  int64_t lo = 0;
  int64_t hi = std::numeric_limits<int64_t>::max();
};

/// Syntactic ranges: what a well-formed file may say. Whether a host supports a value is the
/// checker's job, so these are deliberately wider than any hardware (ssid_bits up to 32 lets the
/// checker report the PCIe 20-bit limit with a hint instead of a parse error).
/// The range of a width of the normalized properties (its row of kCapsProperties).
constexpr GuestRange caps_range(std::string_view name) {
  GuestRange range;
  for_each_caps_property([&](const auto& property) {
    if (property.name == name) range = {property.lo, property.hi};
  });
  return range;
}
inline constexpr GuestRange kGuestAddressBitsRange = caps_range("input_bits");  // and output
inline constexpr GuestRange kGuestAsidBitsRange = caps_range("asid_bits");
inline constexpr GuestRange kGuestSsidBitsRange = caps_range("ssid_bits");
inline constexpr GuestRange kGuestPasidBitsRange = {0, 255};  // u8 pasid_bits of the config
inline constexpr GuestRange kGuestUnsignedRange = {};         // version, bytes, base_ptr, alloc
inline constexpr GuestRange kGuestAddressWidthRange = {0, 64};  // stage1.addr_width
inline constexpr GuestRange kGuestS1CdMaxRange = {0, 31};       // STE.S1CDMax is 5 bits
/// [memory]: a size of at least one byte; a CPU address width (QEMU takes 32..52 on x86); RAM
/// above the 32-bit hole starts at 4 GiB or higher.
inline constexpr GuestRange kGuestMemorySizeRange = {1, std::numeric_limits<int64_t>::max()};
inline constexpr GuestRange kGuestPhysBitsRange = {1, 64};
inline constexpr GuestRange kGuestAbove4gRange = {int64_t{1} << 32,
                                                  std::numeric_limits<int64_t>::max()};

/// [pasid_alloc] quota when absent: the per-VM default of the VFIO PASID series.
inline constexpr uint64_t kGuestDefaultQuota = 1000;

/// Hostile-input bounds checked before toml++ sees the text. toml++ limits nested arrays and
/// inline tables (256) but builds dotted keys (`a.b.c...`) recursively and overflows the stack
/// near 50 000 levels; a real guest file has a handful of dots outside strings and comments.
inline constexpr size_t kGuestMaxBytes = size_t{1} << 20;
inline constexpr size_t kGuestMaxDots = 1000;

}  // namespace caps
