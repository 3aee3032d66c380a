// SPDX-License-Identifier: MIT
// Register decoders (pure functions over integers, driven by constexpr field tables) and the
// vendor normalizers that map decoded registers onto the common Caps.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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

/// Arm SMMUv3 SMMU_IDR0..SMMU_IDR5 (index 0..5; any other index is a programming error,
/// std::out_of_range), SMMU_IIDR and SMMU_AIDR (Arm IHI 0070; kernel arm-smmu-v3.h; the
/// sources of each field are in decode_smmuv3.cc and docs/registers.md). The registers are
/// 32 bits wide: bits [63:32] of the tables are reserved.
const RegisterSpec& smmuv3_idr_spec(unsigned n);
const RegisterSpec& smmuv3_iidr_spec();
const RegisterSpec& smmuv3_aidr_spec();

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

/// Arm SMMUv3: the six ID registers (idr[n] = SMMU_IDRn, each may be missing), SMMU_IIDR and
/// SMMU_AIDR (may be missing). Properties whose register is missing stay unknown.
Normalized normalize_smmuv3(const std::array<const Register*, 6>& idr, const Register* iidr,
                            const Register* aidr);

/// The register files of an SMMUv3 unit, named as its decoder names them.
inline constexpr std::array<std::string_view, 8> kSmmuv3RegisterFiles = {
    "idr0", "idr1", "idr2", "idr3", "idr4", "idr5", "iidr", "aidr"};

/// An SMMUv3 unit decoded from its raw registers: every register (files kSmmuv3RegisterFiles,
/// in that order) and the normalized capabilities.
struct Smmuv3Decoded {
  std::vector<RegisterFile> registers;
  Normalized normalized;
};

/// Decodes SMMUv3 registers as iommufd's IOMMU_GET_HW_INFO gives them (the idr[6], iidr and
/// aidr members of struct iommu_hw_info_arm_smmuv3, include/uapi/linux/iommufd.h: raw MMIO
/// reads of SMMU_IDR0..5, SMMU_IIDR and SMMU_AIDR).
Smmuv3Decoded decode_smmuv3(const std::array<uint32_t, 6>& idr, uint32_t iidr, uint32_t aidr);

/// struct iommu_hw_info_arm_smmuv3 (include/uapi/linux/iommufd.h, 40 bytes) as the kernel fills it.
struct Smmuv3HwInfo {
  uint32_t flags = 0;     // IOMMU_HW_INFO_ARM_SMMUV3_* (bit 0: ERRATA_REPEAT_TLBI_CFGI)
  uint32_t reserved = 0;  // __reserved: the kernel writes 0
  std::array<uint32_t, 6> idr{};
  uint32_t iidr = 0;
  uint32_t aidr = 0;
};

/// decode_smmuv3 of the struct; a non-zero __reserved or an unknown flag bit is a warning, and
/// the known flags become extras.
Smmuv3Decoded decode_smmuv3(const Smmuv3HwInfo& info);

/// SMMU_IDR5.OAS as a width in bits (kernel arm_smmu_device_hw_probe(): 0..6 -> 32, 36, 40, 42,
/// 44, 48, 52); nullopt for 7 (56 bits in SMMUv3.4+, which the kernel truncates to 48).
std::optional<int> smmuv3_oas_bits(uint32_t oas);

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
