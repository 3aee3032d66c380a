// SPDX-License-Identifier: MIT
// Register decoders (pure functions over integers, driven by constexpr field tables) and the
// vendor normalizers that map decoded registers onto the common Caps.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "libcaps/model.h"
#include "libcaps/result.h"

namespace caps {

/// One field of a register: the spec's name and its inclusive bit range [hi:lo].
struct FieldSpec {
  std::string_view name;
  unsigned lo;
  unsigned hi;
};

/// A register layout: its spec name, every defined field, and the reserved bits.
struct RegisterSpec {
  std::string_view name;
  std::span<const FieldSpec> fields;
  uint64_t reserved_mask;
};

/// Decodes `raw` against `spec`: every field in table order, and `reserved` = raw & mask.
Register decode(const RegisterSpec& spec, uint64_t raw);

/// Intel VT-d CAP_REG and ECAP_REG (kernel-abi.md 2.1, 2.2).
const RegisterSpec& vtd_cap_spec();
const RegisterSpec& vtd_ecap_spec();
/// AMD-Vi capability header dword (amd-iommu/cap), EFR and EFR2 (kernel-abi.md 3.1-3.3).
const RegisterSpec& amd_cap_spec();
const RegisterSpec& amd_efr_spec();
const RegisterSpec& amd_efr2_spec();

/// What a normalizer derives from a unit's registers.
struct Normalized {
  Caps caps;
  std::map<std::string, std::string> evidence;  // property -> "ecap.PSS=19, ..."
  std::map<std::string, Scalar> extra;          // vendor extras
  Diagnostics diagnostics;                      // paths left empty; the reader fills them
};

/// VT-d: either register may be missing (nullptr); properties that need it stay unknown.
Normalized normalize_vtd(const Register* cap, const Register* ecap);

/// AMD-Vi: `cap` is the capability header, `efr`/`efr2` as read from `features`; each may
/// be missing. A missing EFR2 leaves `nested` unknown when the EFR side would allow it.
Normalized normalize_amd(const Register* cap, const Register* efr, const Register* efr2);

/// AMD-Vi when amd-iommu/features did not say which value is EFR: `first` and `second` are the
/// file's values decoded as EFR and EFR2. Both readings are normalized and only the facts they
/// agree on are kept; the rest stay unknown.
Normalized normalize_amd_either_order(const Register* cap, const Register& first,
                                      const Register& second);

/// AmdFeatures::format when the order of the two values could not be told.
inline constexpr std::string_view kAmdFeaturesAmbiguous = "ambiguous";

/// The two values of amd-iommu/features and which one is EFR.
struct AmdFeatures {
  uint64_t efr = 0;
  std::optional<uint64_t> efr2;  // absent in the oldest, EFR-only format
  std::string format;            // "EFR", "EFR2:EFR", "EFR:EFR2" or kAmdFeaturesAmbiguous
  Diagnostics diagnostics;       // e.g. an order that had to be guessed

  /// When the order is unknown, efr/efr2 hold the file's first/second value.
  bool order_known() const { return format != kAmdFeaturesAmbiguous; }
};

/// Parses amd-iommu/features in any of the three kernel-era formats (rules in decode_amd.cc and
/// docs/registers.md). Fails only when the text is not one or two bare hex values; an order it
/// cannot tell is a warning and format kAmdFeaturesAmbiguous.
Result<AmdFeatures> parse_amd_features(std::string_view text);

}  // namespace caps
