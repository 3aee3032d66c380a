// SPDX-License-Identifier: MIT
// Tests for libcaps/src/decoding/decode_amd.cc: CAP_HDR/EFR/EFR2 tables on real and edge values,
// the amd-iommu/features formats, and normalize_amd against capability-model.md section 2. Expected
// values are worked out by hand from kernel-abi.md 3.1-3.3 (nibble arithmetic in the comments) and
// cross-checked against the names the kernel printed in dmesg for the same EFR.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "libcaps/decode.h"
#include "support/register_cases.h"

namespace caps {
namespace {

using testing::expect_covers_all_bits;
using testing::RegCase;

TEST(DecodeAmd, TablesCoverEveryBitOnce) {
  expect_covers_all_bits(amd_cap_spec());
  expect_covers_all_bits(amd_efr_spec());
  expect_covers_all_bits(amd_efr2_spec());
  EXPECT_EQ(amd_cap_spec().name, "CAP_HDR");
  EXPECT_EQ(amd_efr_spec().name, "EFR");
  EXPECT_EQ(amd_efr2_spec().name, "EFR2");
}

const RegCase kCapCases[] = {
    // QEMU's amd-iommu header (hw/i386/amd_iommu.h AMDVI_CAPAB_FEATURES): bits 28..24 set
    // (0x1f00_0000), CapType 3 (3 << 16), CapID 0x0f -> 0x1f03000f.
    {"qemu cap",
     0x1f03000f,
     {{"CapID", 15},
      {"CapPtr", 0},
      {"CapType", 3},
      {"CapRev", 0},
      {"IotlbSup", 1},
      {"HtTunnel", 1},
      {"NpCache", 1},
      {"EFRSup", 1},
      {"CapExt", 0x1}},
     0},
    // Made up in the shape of bare metal: CapID 0x0f, CapPtr 0x64, CapType 3, CapRev 1
    // (1 << 19 = 0x80000), IotlbSup (bit 24), EFRSup (bit 27) -> 0x090b640f.
    {"metal-like cap",
     0x090b640f,
     {{"CapID", 15},
      {"CapPtr", 0x64},
      {"CapType", 3},
      {"CapRev", 1},
      {"IotlbSup", 1},
      {"HtTunnel", 0},
      {"NpCache", 0},
      {"EFRSup", 1},
      {"CapExt", 0}},
     0},
    // All ones: CapRev 5 bits = 31, reserved = bits 63..29.
    {"all-ones cap",
     UINT64_MAX,
     {{"CapID", 255},
      {"CapPtr", 255},
      {"CapType", 7},
      {"CapRev", 31},
      {"IotlbSup", 1},
      {"HtTunnel", 1},
      {"NpCache", 1},
      {"EFRSup", 1},
      {"CapExt", 1}},
     0xffffffffe0000000},
    // A 32-bit header with bits 31..29 set: 0xe0000000 is all reserved.
    {"reserved cap",
     0xe0000000,
     {{"CapID", 0},
      {"CapPtr", 0},
      {"CapType", 0},
      {"CapRev", 0},
      {"IotlbSup", 0},
      {"HtTunnel", 0},
      {"NpCache", 0},
      {"EFRSup", 0},
      {"CapExt", 0}},
     0xe0000000},
};

const RegCase kEfrCases[] = {
    // QEMU's amd-iommu (hw/i386/amd_iommu.h AMDVI_DEFAULT_EXT_FEATURES), EFR 0x29d3 as Linux
    // 6.1 printed it ("0:29d3"): n0=3: PreF PPR. n1=d: GT(4) IA(6) GA(7). n2=9: HE(8), bit 11
    // -> HATS=0b10=2. n3=2: bit 13 -> GATS=0b10=2, a reserved encoding (decoded, warned on by
    // the normalizer). dmesg: "PreF PPR GT IA GA HE".
    {"qemu efr",
     0x29d3,
     {{"PreFSup", 1},
      {"PPRSup", 1},
      {"XTSup", 0},
      {"NXSup", 0},
      {"GTSup", 1},
      {"GAPPISup", 0},
      {"IASup", 1},
      {"GASup", 1},
      {"HESup", 1},
      {"PCSup", 0},
      {"HATS", 2},
      {"GATS", 2},
      {"GLXSup", 0},
      {"SmiFSup", 0},
      {"SmiFRC", 0},
      {"GAMSup", 0},
      {"DualPprLogSup", 0},
      {"DualEventLogSup", 0},
      {"SATSSup", 0},
      {"PASmax", 0},
      {"USSup", 0},
      {"DevTblSegSup", 0},
      {"PprOvrflwEarlySup", 0},
      {"PPRAutoRspSup", 0},
      {"MarcSup", 0},
      {"BlkStopMrkSup", 0},
      {"PerfOptSup", 0},
      {"MsiCapMmioSup", 0},
      {"GIOSup", 0},
      {"HASup", 0},
      {"EPHSup", 0},
      {"AttrFWSup", 0},
      {"HDSup", 0},
      {"InvIotlbTypeSup", 0},
      {"vIommuSup", 0},
      {"GAUpdateDisSup", 0},
      {"ForcePhyDestSup", 0},
      {"SNPSup", 0}},
     0},
    // Zen 2/3, EFR 0x58f77ef22294a5a = n15..n0 0 5 8 f 7 7 e f 2 2 2 9 4 a 5 a.
    // n0=a: PPR(1) NX(3). n1=5: GT(4) IA(6). n2=a: PC(9), bit 11 -> HATS=0b10=2.
    // n3=4: bit 14 -> GATS=0, GLX=1. n4=9: bits 16,19 -> SmiFSup=1, SmiFRC=0b010=2.
    // n5=2: bit 21 -> GAMSup=1. n6=2: bit 25 -> DualPprLogSup=2. n7=2: bit 29 ->
    // DualEventLogSup=2, SATSSup=0. n8=f, n9=e: bits 32-35 and 37-39 -> PASmax=0b01111=15,
    // USSup=1, DevTblSegSup=3. n10=7: 40,41,42 -> PprOvrflwEarly, PPRAutoRsp, MarcSup=1.
    // n11=7: 44,45,46 -> BlkStopMrk, PerfOpt, MsiCapMmio. n12=f: GIOSup HASup EPHSup AttrFW.
    // n13=8: 55 -> vIommuSup, HDSup=0. n14=5: 56, 58 (reserved). n15=0: SNP=0.
    // dmesg: "PPR NX GT IA PC GA_vAPIC" -- matches (no PreF, X2APIC, GA, HE).
    {"zen2/3 efr",
     0x58f77ef22294a5a,
     {{"PreFSup", 0},
      {"PPRSup", 1},
      {"XTSup", 0},
      {"NXSup", 1},
      {"GTSup", 1},
      {"GAPPISup", 0},
      {"IASup", 1},
      {"GASup", 0},
      {"HESup", 0},
      {"PCSup", 1},
      {"HATS", 2},
      {"GATS", 0},
      {"GLXSup", 1},
      {"SmiFSup", 1},
      {"SmiFRC", 2},
      {"GAMSup", 1},
      {"DualPprLogSup", 2},
      {"DualEventLogSup", 2},
      {"SATSSup", 0},
      {"PASmax", 15},
      {"USSup", 1},
      {"DevTblSegSup", 3},
      {"PprOvrflwEarlySup", 1},
      {"PPRAutoRspSup", 1},
      {"MarcSup", 1},
      {"BlkStopMrkSup", 1},
      {"PerfOptSup", 1},
      {"MsiCapMmioSup", 1},
      {"GIOSup", 1},
      {"HASup", 1},
      {"EPHSup", 1},
      {"AttrFWSup", 1},
      {"HDSup", 0},
      {"InvIotlbTypeSup", 0},
      {"vIommuSup", 1},
      {"GAUpdateDisSup", 0},
      {"ForcePhyDestSup", 0},
      {"SNPSup", 0}},
     0x0500000000000000},
    // Zen 4 SNP, EFR 0xa5bf7320a2294aee = a 5 b f 7 3 2 0 a 2 2 9 4 a e e.
    // n0=e: PPR X2APIC NX. n1=e: GAPPISup (bit 5; dmesg "[5]"), IA, GA. n2=a: PC, HATS=2.
    // n3=4: GATS=0, GLX=1. n4=9: SmiFSup=1, SmiFRC=2. n5=2: GAMSup=1. n6=2: DualPprLogSup=2.
    // n7=a: 29, 31 -> DualEventLogSup=2, SATSSup=1. n8=0, n9=2: PASmax=0, USSup (37).
    // n10=3: 40,41. n11=7: 44,45,46. n12=f: 48-51. n13=b: HDSup(52), 53 (reserved),
    // vIommuSup(55). n14=5: 56, 58 (reserved). n15=a: GAUpdateDisSup(61), SNPSup(63).
    // dmesg: "PPR X2APIC NX [5] IA GA PC GA_vAPIC SNP" -- matches (no PreF, GT, HE).
    {"zen4 efr",
     0xa5bf7320a2294aee,
     {{"PreFSup", 0},
      {"PPRSup", 1},
      {"XTSup", 1},
      {"NXSup", 1},
      {"GTSup", 0},
      {"GAPPISup", 1},
      {"IASup", 1},
      {"GASup", 1},
      {"HESup", 0},
      {"PCSup", 1},
      {"HATS", 2},
      {"GATS", 0},
      {"GLXSup", 1},
      {"SmiFSup", 1},
      {"SmiFRC", 2},
      {"GAMSup", 1},
      {"DualPprLogSup", 2},
      {"DualEventLogSup", 2},
      {"SATSSup", 1},
      {"PASmax", 0},
      {"USSup", 1},
      {"DevTblSegSup", 0},
      {"PprOvrflwEarlySup", 1},
      {"PPRAutoRspSup", 1},
      {"MarcSup", 0},
      {"BlkStopMrkSup", 1},
      {"PerfOptSup", 1},
      {"MsiCapMmioSup", 1},
      {"GIOSup", 1},
      {"HASup", 1},
      {"EPHSup", 1},
      {"AttrFWSup", 1},
      {"HDSup", 1},
      {"InvIotlbTypeSup", 0},
      {"vIommuSup", 1},
      {"GAUpdateDisSup", 1},
      {"ForcePhyDestSup", 0},
      {"SNPSup", 1}},
     0x0520000000000000},
    // Older APU, EFR 0x800000853: n0=3: PreF PPR. n1=5: GT IA. n2=8: HATS=2.
    // n8=8: bit 35 -> PASmax=0b01000=8. dmesg: "PreF PPR GT IA" -- matches.
    {"apu efr",
     0x800000853,
     {{"PreFSup", 1},
      {"PPRSup", 1},
      {"XTSup", 0},
      {"NXSup", 0},
      {"GTSup", 1},
      {"GAPPISup", 0},
      {"IASup", 1},
      {"GASup", 0},
      {"HESup", 0},
      {"PCSup", 0},
      {"HATS", 2},
      {"GATS", 0},
      {"GLXSup", 0},
      {"SmiFSup", 0},
      {"SmiFRC", 0},
      {"GAMSup", 0},
      {"DualPprLogSup", 0},
      {"DualEventLogSup", 0},
      {"SATSSup", 0},
      {"PASmax", 8},
      {"USSup", 0},
      {"DevTblSegSup", 0},
      {"PprOvrflwEarlySup", 0},
      {"PPRAutoRspSup", 0},
      {"MarcSup", 0},
      {"BlkStopMrkSup", 0},
      {"PerfOptSup", 0},
      {"MsiCapMmioSup", 0},
      {"GIOSup", 0},
      {"HASup", 0},
      {"EPHSup", 0},
      {"AttrFWSup", 0},
      {"HDSup", 0},
      {"InvIotlbTypeSup", 0},
      {"vIommuSup", 0},
      {"GAUpdateDisSup", 0},
      {"ForcePhyDestSup", 0},
      {"SNPSup", 0}},
     0},
    // All ones: every field at its maximum; reserved = [27:26], 30, 47, 53, [60:56]:
    // low 0x0c000000 + 0x40000000 = 0x4c000000; high (n-32) 15, 21, [28:24] =
    // 0x8000 + 0x200000 + 0x1f000000 = 0x1f208000.
    {"all-ones efr",
     UINT64_MAX,
     {{"PreFSup", 1},
      {"PPRSup", 1},
      {"XTSup", 1},
      {"NXSup", 1},
      {"GTSup", 1},
      {"GAPPISup", 1},
      {"IASup", 1},
      {"GASup", 1},
      {"HESup", 1},
      {"PCSup", 1},
      {"HATS", 3},
      {"GATS", 3},
      {"GLXSup", 3},
      {"SmiFSup", 3},
      {"SmiFRC", 7},
      {"GAMSup", 7},
      {"DualPprLogSup", 3},
      {"DualEventLogSup", 3},
      {"SATSSup", 1},
      {"PASmax", 31},
      {"USSup", 1},
      {"DevTblSegSup", 3},
      {"PprOvrflwEarlySup", 1},
      {"PPRAutoRspSup", 1},
      {"MarcSup", 3},
      {"BlkStopMrkSup", 1},
      {"PerfOptSup", 1},
      {"MsiCapMmioSup", 1},
      {"GIOSup", 1},
      {"HASup", 1},
      {"EPHSup", 1},
      {"AttrFWSup", 1},
      {"HDSup", 1},
      {"InvIotlbTypeSup", 1},
      {"vIommuSup", 1},
      {"GAUpdateDisSup", 1},
      {"ForcePhyDestSup", 1},
      {"SNPSup", 1}},
     0x1f2080004c000000},
};

const RegCase kEfr2Cases[] = {
    // Zen 4 SNP, EFR2 0x1d = 0b0001_1101: bits 0, 2 (reserved), GCR3TRPMode(3),
    // GAPPIDisSup(4); SNPAVICSup [7:5] = 0.
    {"zen4 efr2",
     0x1d,
     {{"SEVSNPIOSup", 0},
      {"GCR3TRPMode", 1},
      {"GAPPIDisSup", 1},
      {"SNPAVICSup", 0},
      {"NumIntRemapSup", 0},
      {"HTRangeIgnore", 0}},
     0x5},
    // 0x22 = bits 1, 5: SEVSNPIOSup, SNPAVICSup = 1 (the kernel's "GAM with SNP" value).
    {"snp avic efr2",
     0x22,
     {{"SEVSNPIOSup", 1},
      {"GCR3TRPMode", 0},
      {"GAPPIDisSup", 0},
      {"SNPAVICSup", 1},
      {"NumIntRemapSup", 0},
      {"HTRangeIgnore", 0}},
     0},
    // QEMU's amd-iommu with numint2k=on: AMDVI_FEATURE_NUM_INT_REMAP_SUP, NumIntRemapSup = 1
    // (bit 8 = 0x100), the kernel's FEATURE_NUM_INT_REMAP_SUP_2K.
    {"qemu numint2k efr2",
     0x100,
     {{"SEVSNPIOSup", 0},
      {"GCR3TRPMode", 0},
      {"GAPPIDisSup", 0},
      {"SNPAVICSup", 0},
      {"NumIntRemapSup", 1},
      {"HTRangeIgnore", 0}},
     0},
    // A current-mainline part with bits 8, 9 and 11 over Zen 4's 0x1d: 0xb00 | 0x1d = 0xb1d.
    // NumIntRemapSup [9:8] = 3 (a reserved encoding), HTRangeIgnore (11); bits 0, 2 reserved.
    {"high-bits efr2",
     0xb1d,
     {{"SEVSNPIOSup", 0},
      {"GCR3TRPMode", 1},
      {"GAPPIDisSup", 1},
      {"SNPAVICSup", 0},
      {"NumIntRemapSup", 3},
      {"HTRangeIgnore", 1}},
     0x5},
    {"zero efr2",
     0,
     {{"SEVSNPIOSup", 0},
      {"GCR3TRPMode", 0},
      {"GAPPIDisSup", 0},
      {"SNPAVICSup", 0},
      {"NumIntRemapSup", 0},
      {"HTRangeIgnore", 0}},
     0},
    // All ones: SNPAVICSup = 7, NumIntRemapSup = 3; reserved bits 0, 2, 10, [63:12].
    {"all-ones efr2",
     UINT64_MAX,
     {{"SEVSNPIOSup", 1},
      {"GCR3TRPMode", 1},
      {"GAPPIDisSup", 1},
      {"SNPAVICSup", 7},
      {"NumIntRemapSup", 3},
      {"HTRangeIgnore", 1}},
     0xfffffffffffff405},
};

// Every FEATURE_* / IOMMU_CAP_* bit of drivers/iommu/amd/amd_iommu_types.h in the newest tree
// read (joergroedel/linux-iommu, commit 45ccfdd3; docs/registers.md), as {macro, lo, hi}: a
// bit the kernel names must be a decoded field, never "reserved".
struct KernelBits {
  const char* macro;
  unsigned lo, hi;
};

void expect_decoded(const RegisterSpec& spec, std::initializer_list<KernelBits> named) {
  for (const KernelBits& k : named) {
    for (unsigned b = k.lo; b <= k.hi; ++b) {
      EXPECT_EQ(spec.reserved_mask & (uint64_t{1} << b), 0u)
          << spec.name << ": " << k.macro << " bit " << b << " is reported as reserved";
    }
  }
}

TEST(DecodeAmd, DecodesEveryBitTheNewestKernelHeaderNames) {
  expect_decoded(
      amd_cap_spec(),
      {{"IOMMU_CAP_IOTLB", 24, 24}, {"IOMMU_CAP_NPCACHE", 26, 26}, {"IOMMU_CAP_EFR", 27, 27}});
  expect_decoded(amd_efr_spec(), {{"FEATURE_PREFETCH", 0, 0},
                                  {"FEATURE_PPR", 1, 1},
                                  {"FEATURE_X2APIC", 2, 2},
                                  {"FEATURE_NX", 3, 3},
                                  {"FEATURE_GT", 4, 4},
                                  {"FEATURE_IA", 6, 6},
                                  {"FEATURE_GA", 7, 7},
                                  {"FEATURE_HE", 8, 8},
                                  {"FEATURE_PC", 9, 9},
                                  {"FEATURE_HATS", 10, 11},
                                  {"FEATURE_GATS", 12, 13},
                                  {"FEATURE_GLX", 14, 15},
                                  {"FEATURE_GAM_VAPIC", 21, 21},
                                  {"FEATURE_PASMAX", 32, 36},
                                  {"IOMMU_EFR_MSICAPMMIOSUP_SHIFT", 46, 46},
                                  {"FEATURE_GIOSUP", 48, 48},
                                  {"FEATURE_HASUP", 49, 49},
                                  {"FEATURE_EPHSUP", 50, 50},
                                  {"FEATURE_HDSUP", 52, 52},
                                  {"FEATURE_SNP", 63, 63}});
  expect_decoded(amd_efr2_spec(), {{"FEATURE_SEVSNPIO_SUP", 1, 1},
                                   {"FEATURE_GCR3TRPMODE", 3, 3},
                                   {"FEATURE_GAPPIDISSUP (posted)", 4, 4},
                                   {"FEATURE_SNPAVICSUP", 5, 7},
                                   {"FEATURE_NUM_INT_REMAP_SUP", 8, 9},
                                   {"FEATURE_HT_RANGE_IGNORE", 11, 11}});
}

TEST(DecodeAmd, CapRealAndEdgeValues) {
  for (const RegCase& c : kCapCases) {
    EXPECT_EQ(decode(amd_cap_spec(), c.raw), (Register{"CAP_HDR", c.raw, c.fields, c.reserved}))
        << c.what;
  }
}

TEST(DecodeAmd, EfrRealAndEdgeValues) {
  for (const RegCase& c : kEfrCases) {
    EXPECT_EQ(decode(amd_efr_spec(), c.raw), (Register{"EFR", c.raw, c.fields, c.reserved}))
        << c.what;
  }
}

TEST(DecodeAmd, Efr2RealAndEdgeValues) {
  for (const RegCase& c : kEfr2Cases) {
    EXPECT_EQ(decode(amd_efr2_spec(), c.raw), (Register{"EFR2", c.raw, c.fields, c.reserved}))
        << c.what;
  }
}

// The kernel's dmesg decode (init.c print_iommu_info): feat_str for bits 0..9, then GA_vAPIC
// (bit 21) and SNP (bit 63). Rebuilt here from our field names, it must match the log line.
std::string dmesg_names(const Register& efr) {
  const std::pair<const char*, const char*> named[] = {
      {"PreFSup", "PreF"}, {"PPRSup", "PPR"}, {"XTSup", "X2APIC"}, {"NXSup", "NX"}, {"GTSup", "GT"},
      {"GAPPISup", "[5]"}, {"IASup", "IA"},   {"GASup", "GA"},     {"HESup", "HE"}, {"PCSup", "PC"},
  };
  std::string out;
  auto add = [&out](const char* s) { out += (out.empty() ? "" : " ") + std::string(s); };
  for (const auto& [field, printed] : named) {
    const bool set = efr.field(field).value() != 0;
    if (set) add(printed);
  }
  if (efr.field("GAMSup").value() & 1) add("GA_vAPIC");
  if (efr.field("SNPSup").value()) add("SNP");
  return out;
}

TEST(DecodeAmd, MatchesTheKernelsOwnDmesgNames) {
  EXPECT_EQ(dmesg_names(decode(amd_efr_spec(), 0x58f77ef22294a5a)), "PPR NX GT IA PC GA_vAPIC");
  EXPECT_EQ(dmesg_names(decode(amd_efr_spec(), 0xa5bf7320a2294aee)),
            "PPR X2APIC NX [5] IA GA PC GA_vAPIC SNP");
  EXPECT_EQ(dmesg_names(decode(amd_efr_spec(), 0x800000853)), "PreF PPR GT IA");
  EXPECT_EQ(dmesg_names(decode(amd_efr_spec(), 0x29d3)), "PreF PPR GT IA GA HE");
}

// ---- parse_amd_features ----

struct FeaturesCase {
  std::string_view text;
  uint64_t efr;
  std::optional<uint64_t> efr2;
  std::string format;
  std::vector<std::string> warnings;
};

TEST(ParseAmdFeatures, AllThreeFormats) {
  const FeaturesCase cases[] = {
      {"58f77ef22294a5a", 0x58f77ef22294a5a, std::nullopt, "EFR", {}},
      {"58f77ef22294a5a\n", 0x58f77ef22294a5a, std::nullopt, "EFR", {}},
      {"0", 0, std::nullopt, "EFR", {}},
      // One side has bits above 7, so only it can be EFR.
      {"0:58f77ef22294a5a", 0x58f77ef22294a5a, 0, "EFR2:EFR", {}},
      {"58f77ef22294a5a:0", 0x58f77ef22294a5a, 0, "EFR:EFR2", {}},
      {"a5bf7320a2294aee:1d", 0xa5bf7320a2294aee, 0x1d, "EFR:EFR2", {}},
      {"1d:a5bf7320a2294aee\n", 0xa5bf7320a2294aee, 0x1d, "EFR2:EFR", {}},
      {"0:800000853", 0x800000853, 0, "EFR2:EFR", {}},
      // EFR2 bits 8, 9 and 11 (NumIntRemapSup, HTRangeIgnore) in the current mainline order:
      // the side with a high-dword bit is EFR.
      {"a5bf7320a2294aee:b1d", 0xa5bf7320a2294aee, 0xb1d, "EFR:EFR2", {}},
      {"b1d:a5bf7320a2294aee", 0xa5bf7320a2294aee, 0xb1d, "EFR2:EFR", {}},
      {"58f77ef22294a5a:b00", 0x58f77ef22294a5a, 0xb00, "EFR:EFR2", {}},
      // QEMU's amd-iommu: EFR 0x29d3 has no high dword but bits 0 and 13, which no EFR2
      // defines; 0 and 0x100 (numint2k=on) are well-formed EFR2 values. 6.1 wrote "0:29d3".
      {"0:29d3", 0x29d3, 0, "EFR2:EFR", {}},
      {"29d3:0", 0x29d3, 0, "EFR:EFR2", {}},
      {"29d3:100", 0x29d3, 0x100, "EFR:EFR2", {}},
      {"100:29d3", 0x29d3, 0x100, "EFR2:EFR", {}},
      // 0xff has bits 0 and 2, which no EFR2 defines; 0x100 is NumIntRemapSup=1.
      {"ff:100", 0xff, 0x100, "EFR:EFR2", {}},
      // Both fit EFR2's defined bits: the weak rules, with a warning.
      {"0:5a",
       0x5a,
       0,
       "EFR2:EFR",
       {"features order guessed: of 0x0 and 0x5a the non-zero value is taken as EFR"}},
      {"5a:0",
       0x5a,
       0,
       "EFR:EFR2",
       {"features order guessed: of 0x5a and 0x0 the non-zero value is taken as EFR"}},
      {"0:0", 0, 0, "EFR:EFR2", {"features order unknown: both values are 0x0, read as EFR:EFR2"}},
      {"1d:1d",
       0x1d,
       0x1d,
       "EFR:EFR2",
       {"features order unknown: both values are 0x1d, read as EFR:EFR2"}},
  };
  for (const FeaturesCase& c : cases) {
    auto r = parse_amd_features(c.text);
    ASSERT_TRUE(r) << c.text << ": " << r.error().to_string();
    EXPECT_EQ(r->efr, c.efr) << c.text;
    EXPECT_EQ(r->efr2, c.efr2) << c.text;
    EXPECT_EQ(r->format, c.format) << c.text;
    std::vector<std::string> warnings;
    for (const Diagnostic& d : r->diagnostics) {
      EXPECT_EQ(d.severity, Severity::kWarning);
      warnings.push_back(d.message);
    }
    EXPECT_EQ(warnings, c.warnings) << c.text;
  }
}

// An order no rule decides is a warning, never a refusal: the values stay in file order and
// the format says the order is unknown.
TEST(ParseAmdFeatures, UndecidableOrderIsAWarningNotAnError) {
  const FeaturesCase cases[] = {
      // Both have bits no EFR2 defines (0 and 2), neither a high dword.
      {"1d:5",
       0x1d,
       0x5,
       "ambiguous",
       {"features order unknown: either of 0x1d and 0x5 could be EFR; only what both readings "
        "agree on is used"}},
      // Both have high-dword bits: real EFRs, or an EFR2 with bits defined after this code.
      {"58f77ef22294a5a:a5bf7320a2294aee",
       0x58f77ef22294a5a,
       0xa5bf7320a2294aee,
       "ambiguous",
       {"features order unknown: either of 0x58f77ef22294a5a and 0xa5bf7320a2294aee could be "
        "EFR; only what both readings agree on is used"}},
      // Both well-formed EFR2 values, both non-zero.
      {"100:8",
       0x100,
       0x8,
       "ambiguous",
       {"features order unknown: either of 0x100 and 0x8 could be EFR; only what both readings "
        "agree on is used"}},
  };
  for (const FeaturesCase& c : cases) {
    auto r = parse_amd_features(c.text);
    ASSERT_TRUE(r) << c.text << ": " << r.error().to_string();
    EXPECT_EQ(r->efr, c.efr) << c.text;
    EXPECT_EQ(r->efr2, c.efr2) << c.text;
    EXPECT_EQ(r->format, c.format) << c.text;
    EXPECT_FALSE(r->order_known()) << c.text;
    ASSERT_EQ(r->diagnostics.size(), 1u) << c.text;
    EXPECT_EQ(r->diagnostics[0], (Diagnostic{"", Severity::kWarning, c.warnings[0]})) << c.text;
  }
}

TEST(ParseAmdFeatures, RejectsMalformedText) {
  const std::pair<std::string_view, std::string> cases[] = {
      {"1:2:3", "features \"1:2:3\" has more than two ':'-separated values"},
      {"", "bad features value: empty value, expected bare hex"},
      {"\n", "bad features value: empty value, expected bare hex"},
      {":1d", "bad first features value: empty value, expected bare hex"},
      {"1d:", "bad second features value: empty value, expected bare hex"},
      {"0x1d:58f77ef22294a5a",
       "bad first features value: unexpected 0x prefix in \"0x1d\", expected bare hex"},
      {"zz", "bad features value: not bare hex: \"zz\" has \"z\" at offset 0"},
      {"58f7 7ef2", "bad features value: not bare hex: \"58f7 7ef2\" has \" \" at offset 4"},
      {"1d: 58f77ef22294a5a",
       "bad second features value: not bare hex: \" 58f77ef22294a5a\" has \" \" at offset 0"},
  };
  for (const auto& [text, message] : cases) {
    auto r = parse_amd_features(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().message, message);
  }
}

// ---- normalize_amd ----

struct Regs {
  std::optional<uint64_t> cap, efr, efr2;
};

Normalized normalize(const Regs& in) {
  const Register c = decode(amd_cap_spec(), in.cap.value_or(0));
  const Register e = decode(amd_efr_spec(), in.efr.value_or(0));
  const Register e2 = decode(amd_efr2_spec(), in.efr2.value_or(0));
  return normalize_amd(in.cap ? &c : nullptr, in.efr ? &e : nullptr, in.efr2 ? &e2 : nullptr);
}

constexpr uint64_t kMetalCap = 0x090b640f;  // IotlbSup, EFRSup (decoded above)

TEST(NormalizeAmd, Zen23) {
  const Normalized n = normalize({kMetalCap, 0x58f77ef22294a5a, 0});
  Caps want;
  want.input_bits = 64;  // HATS 2 -> 6 levels -> 12 + 54 = 66, capped at 64
  want.asid_bits = 16;
  want.ssid_bits = 16;        // GTSup, PASmax 15 + 1
  want.httu = Httu::kAccess;  // HASup=1, HDSup=0
  want.pgtable_formats = std::vector<std::string>{"amd-v1-6L", "amd-v2-4L"};
  want.nested = false;  // GTSup, GIOSup, but EFR2.GCR3TRPMode=0
  want.ats = true;
  want.page_requests = true;
  want.dirty_tracking = false;
  EXPECT_EQ(n.caps, want);
  EXPECT_TRUE(n.diagnostics.empty());

  const std::map<std::string, std::string> evidence = {
      {"input_bits", "efr.HATS=2 -> 6 levels, 64 bits"},
      {"asid_bits", "DTE.DomainID[15:0] -> 16 bits"},
      {"ssid_bits", "efr.PASmax=15, efr.GTSup=1 -> 16 PASID bits"},
      {"httu", "efr.HASup=1, efr.HDSup=0 -> access"},
      {"pgtable_formats", "efr.HATS=2, efr.GTSup=1, efr.GATS=0 -> amd-v1-6L, amd-v2-4L"},
      {"nested", "efr.GTSup=1, efr.GIOSup=1, efr2.GCR3TRPMode=0 -> false"},
      {"ats", "cap.IotlbSup=1 -> true"},
      {"page_requests", "efr.PPRSup=1 -> true"},
      {"dirty_tracking", "efr.HDSup=0 -> false"},
  };
  EXPECT_EQ(n.evidence, evidence);

  EXPECT_EQ(n.extra.at("max_pasids"), Scalar{int64_t{65535}});  // (1 << 16) - 1
  EXPECT_EQ(n.extra.at("glx_levels"), Scalar{int64_t{2}});      // GLX 1 + 1
  EXPECT_EQ(n.extra.at("guest_vapic"), Scalar{true});
  EXPECT_EQ(n.extra.at("x2apic"), Scalar{false});
  EXPECT_EQ(n.extra.at("snp"), Scalar{false});
  EXPECT_EQ(n.extra.at("guest_5level"), Scalar{false});
  EXPECT_EQ(n.extra.at("np_cache"), Scalar{false});
  EXPECT_EQ(n.extra.at("gcr3_trp_mode"), Scalar{false});
}

TEST(NormalizeAmd, Zen4Snp) {
  const Normalized n = normalize({kMetalCap, 0xa5bf7320a2294aee, 0x1d});
  Caps want;
  want.input_bits = 64;
  want.asid_bits = 16;
  want.ssid_bits = 0;  // GTSup=0
  want.httu = Httu::kAccessDirty;
  want.pgtable_formats = std::vector<std::string>{"amd-v1-6L"};
  want.nested = false;  // GTSup=0, whatever EFR2 says
  want.ats = true;
  want.page_requests = true;
  want.dirty_tracking = true;
  EXPECT_EQ(n.caps, want);
  EXPECT_EQ(n.evidence.at("ssid_bits"), "efr.GTSup=0 -> 0 PASID bits");
  EXPECT_EQ(n.evidence.at("nested"), "efr.GTSup=0, efr.GIOSup=1 -> false");
  EXPECT_EQ(n.extra.at("snp"), Scalar{true});
  EXPECT_EQ(n.extra.at("x2apic"), Scalar{true});
  EXPECT_EQ(n.extra.at("guest_apic"), Scalar{true});
  EXPECT_EQ(n.extra.at("gcr3_trp_mode"), Scalar{true});
  EXPECT_EQ(n.extra.at("snp_avic"), Scalar{int64_t{0}});
  EXPECT_EQ(n.extra.count("max_pasids"), 0u);
  EXPECT_TRUE(n.diagnostics.empty());
}

TEST(NormalizeAmd, OlderApu) {
  const Normalized n = normalize({kMetalCap, 0x800000853, 0});
  EXPECT_EQ(n.caps.ssid_bits, 9);  // PASmax 8 + 1
  EXPECT_EQ(n.caps.httu, Httu::kNone);
  EXPECT_EQ(n.caps.nested, false);  // GIOSup=0
  EXPECT_EQ(n.evidence.at("nested"), "efr.GTSup=1, efr.GIOSup=0 -> false");
  EXPECT_EQ(n.extra.at("max_pasids"), Scalar{int64_t{511}});
}

TEST(NormalizeAmd, HatsWidths) {
  struct Case {
    uint64_t efr;
    std::optional<int> bits;
    std::vector<std::string> formats;
  };
  const Case cases[] = {
      {0x000, 48, {"amd-v1-4L"}},  // 4 levels: 12 + 36
      {0x400, 57, {"amd-v1-5L"}},  // HATS 1 (bit 10): 12 + 45
      {0x800, 64, {"amd-v1-6L"}},  // HATS 2: 66 capped
      {0xc00, std::nullopt, {}},   // HATS 3: reserved, no host table
  };
  for (const Case& c : cases) {
    const Normalized n = normalize({std::nullopt, c.efr, std::nullopt});
    EXPECT_EQ(n.caps.input_bits, c.bits) << std::hex << c.efr;
    EXPECT_EQ(n.caps.pgtable_formats, c.formats) << std::hex << c.efr;
  }
  const Normalized reserved = normalize({std::nullopt, 0xc00, std::nullopt});
  ASSERT_EQ(reserved.diagnostics.size(), 1u);
  EXPECT_EQ(reserved.diagnostics[0],
            (Diagnostic{"", Severity::kWarning,
                        "efr.HATS=3 is reserved (host translation disabled), input_bits unknown"}));
  EXPECT_EQ(reserved.evidence.count("input_bits"), 0u);
}

TEST(NormalizeAmd, GuestFiveLevel) {
  // GTSup (0x10) + GATS 1 (0x1000).
  const Normalized n = normalize({std::nullopt, 0x1010, std::nullopt});
  EXPECT_EQ(n.caps.pgtable_formats,
            (std::vector<std::string>{"amd-v1-4L", "amd-v2-4L", "amd-v2-5L"}));
  EXPECT_EQ(n.extra.at("guest_5level"), Scalar{true});
}

TEST(NormalizeAmd, PasmaxAboveKernelLimitWarns) {
  // GTSup + PASmax 31 (0x1f << 32) = 0x1f00000010.
  const Normalized n = normalize({std::nullopt, 0x1f00000010, std::nullopt});
  EXPECT_EQ(n.caps.ssid_bits, 32);
  ASSERT_EQ(n.diagnostics.size(), 1u);
  EXPECT_EQ(n.diagnostics[0].message,
            "efr.PASmax=31 exceeds the 16 PASID bits the kernel driver handles (it stops with "
            "BUG_ON)");
  // PASmax 15 is the kernel's maximum: no warning.
  EXPECT_TRUE(normalize({std::nullopt, 0xf00000010, std::nullopt}).diagnostics.empty());
}

TEST(NormalizeAmd, NestedNeedsEfr2) {
  // GTSup (bit 4) + GIOSup (bit 48 = 0x1_0000_0000_0000) = 0x1000000000010.
  constexpr uint64_t kGtGio = 0x1000000000010;
  const Normalized unknown = normalize({std::nullopt, kGtGio, std::nullopt});
  EXPECT_EQ(unknown.caps.nested, std::nullopt);
  EXPECT_EQ(unknown.evidence.count("nested"), 0u);

  const Normalized yes = normalize({std::nullopt, kGtGio, 0x8});  // GCR3TRPMode
  EXPECT_EQ(yes.caps.nested, true);
  EXPECT_EQ(yes.evidence.at("nested"), "efr.GTSup=1, efr.GIOSup=1, efr2.GCR3TRPMode=1 -> true");

  // Without GIOSup, EFR alone rules nesting out even with no EFR2.
  EXPECT_EQ(normalize({std::nullopt, 0x10, std::nullopt}).caps.nested, false);
}

TEST(NormalizeAmd, HttuLevels) {
  // HASup = bit 49 (0x2_0000_0000_0000), HDSup = bit 52 (0x10_0000_0000_0000).
  EXPECT_EQ(normalize({std::nullopt, 0x2000000000000, std::nullopt}).caps.httu, Httu::kAccess);
  EXPECT_EQ(normalize({std::nullopt, 0x12000000000000, std::nullopt}).caps.httu,
            Httu::kAccessDirty);
  // HDSup without HASup: dirty tracking yes, but httu has no "dirty only".
  const Normalized dirty_only = normalize({std::nullopt, 0x10000000000000, std::nullopt});
  EXPECT_EQ(dirty_only.caps.httu, Httu::kNone);
  EXPECT_EQ(dirty_only.caps.dirty_tracking, true);
}

TEST(NormalizeAmd, EfrIgnoredWithoutEfrSup) {
  // CapID 0x0f, CapType 3, IotlbSup, no EFRSup: 0x0103000f.
  const Normalized n = normalize({0x0103000f, 0x58f77ef22294a5a, 0});
  Caps want;
  want.asid_bits = 16;
  want.ats = true;
  EXPECT_EQ(n.caps, want);
  ASSERT_EQ(n.diagnostics.size(), 1u);
  EXPECT_EQ(n.diagnostics[0],
            (Diagnostic{"", Severity::kWarning,
                        "cap.EFRSup=0: the kernel does not read EFR, features 0x58f77ef22294a5a "
                        "ignored"}));
  EXPECT_EQ(n.extra.count("snp"), 0u);
  EXPECT_EQ(n.extra.count("gcr3_trp_mode"), 0u);
  EXPECT_EQ(n.extra.at("efr_supported"), Scalar{false});
}

TEST(NormalizeAmd, MissingRegisters) {
  const Normalized none = normalize_amd(nullptr, nullptr, nullptr);
  Caps want;
  want.asid_bits = 16;
  EXPECT_EQ(none.caps, want);
  EXPECT_EQ(none.evidence.size(), 1u);
  EXPECT_TRUE(none.diagnostics.empty());

  // No cap: ats unknown, EFR used as is.
  const Normalized no_cap = normalize({std::nullopt, 0x58f77ef22294a5a, 0});
  EXPECT_EQ(no_cap.caps.ats, std::nullopt);
  EXPECT_EQ(no_cap.caps.input_bits, 64);

  // No features: only the header's answers.
  const Normalized cap_only = normalize({kMetalCap, std::nullopt, std::nullopt});
  EXPECT_EQ(cap_only.caps.ats, true);
  EXPECT_EQ(cap_only.caps.input_bits, std::nullopt);
  EXPECT_EQ(cap_only.caps.page_requests, std::nullopt);
}

TEST(NormalizeAmd, QemuReservedGatsWarns) {
  // QEMU's amd-iommu (cap 0x1f03000f, EFR 0x29d3, read as "0:29d3" from Linux 6.1): 0x29d3 =
  // bits 0,1,4,6,7,8,11,13: PreF PPR GT IA GA HE, HATS [11:10] = 2, GATS [13:12] = 2.
  const Normalized n = normalize({0x1f03000f, 0x29d3, 0});
  EXPECT_EQ(n.caps.pgtable_formats, (std::vector<std::string>{"amd-v1-6L", "amd-v2-4L"}));
  EXPECT_EQ(n.extra.at("guest_5level"), Scalar{false});
  const std::vector<Diagnostic> expected = {
      {"", Severity::kWarning,
       "efr.GATS=2 is a reserved encoding (0 = 4-level, 1 = 5-level guest tables); the kernel "
       "then uses 4-level guest tables"}};
  EXPECT_EQ(n.diagnostics, expected);
  // GATS 3 is reserved too; 0 and 1 are not.
  EXPECT_EQ(normalize({std::nullopt, 0x3000, std::nullopt}).diagnostics.size(), 1u);
  EXPECT_TRUE(normalize({std::nullopt, 0x1000, std::nullopt}).diagnostics.empty());
  EXPECT_TRUE(normalize({std::nullopt, 0x0, std::nullopt}).diagnostics.empty());
}

TEST(NormalizeAmd, Efr2InterruptRemapAndHtRange) {
  // EFR2 0 (Zen 2/3): 512 entries, HT range reserved.
  const Normalized zen2 = normalize({kMetalCap, 0x58f77ef22294a5a, 0});
  EXPECT_EQ(zen2.extra.at("interrupt_remap_entries"), Scalar{int64_t{512}});
  EXPECT_EQ(zen2.extra.at("ht_range_ignore"), Scalar{false});
  // QEMU numint2k=on: EFR2 0x100, NumIntRemapSup = 1 -> 2048.
  const Normalized qemu = normalize({0x1f03000f, 0x29d3, 0x100});
  EXPECT_EQ(qemu.extra.at("interrupt_remap_entries"), Scalar{int64_t{2048}});
  // Mainline-era part: 0xb1d = Zen 4's 0x1d plus bits 8, 9, 11: HTRangeIgnore, and
  // NumIntRemapSup = 3, a reserved encoding the kernel treats as 512.
  const Normalized high = normalize({kMetalCap, 0xa5bf7320a2294aee, 0xb1d});
  EXPECT_EQ(high.extra.at("ht_range_ignore"), Scalar{true});
  EXPECT_EQ(high.extra.at("interrupt_remap_entries"), Scalar{int64_t{512}});
  EXPECT_EQ(high.extra.at("gcr3_trp_mode"), Scalar{true});
  EXPECT_EQ(high.caps.dirty_tracking, true);
  const std::vector<Diagnostic> expected = {
      {"", Severity::kWarning,
       "efr2.NumIntRemapSup=3 is a reserved encoding (0 = 512, 1 = 2048 interrupt remapping "
       "entries); the kernel then uses 512"}};
  EXPECT_EQ(high.diagnostics, expected);
  // 0x900: NumIntRemapSup = 1 with HTRangeIgnore, no warning.
  const Normalized both = normalize({kMetalCap, 0xa5bf7320a2294aee, 0x91d});
  EXPECT_EQ(both.extra.at("interrupt_remap_entries"), Scalar{int64_t{2048}});
  EXPECT_TRUE(both.diagnostics.empty());
}

TEST(NormalizeAmd, EitherOrderKeepsOnlyAgreedFacts) {
  // Zen 2's and Zen 4's EFRs side by side: each has high-dword bits, so no rule can tell them
  // apart. Read as EFR:EFR2, Zen 2 is EFR (GT, PASmax 15, HASup only); as EFR2:EFR, Zen 4
  // (no GT, HASup+HDSup). Both give HATS 2, PPRSup, and the header's IotlbSup.
  const Register cap = decode(amd_cap_spec(), kMetalCap);
  const Register first = decode(amd_efr_spec(), 0x58f77ef22294a5a);
  const Register second = decode(amd_efr2_spec(), 0xa5bf7320a2294aee);
  const Normalized n = normalize_amd_either_order(&cap, first, second);
  Caps want;
  want.input_bits = 64;
  want.asid_bits = 16;
  want.ats = true;
  want.page_requests = true;
  EXPECT_EQ(n.caps, want);
  EXPECT_EQ(n.evidence.at("input_bits"), "efr.HATS=2 -> 6 levels, 64 bits");
  EXPECT_EQ(n.evidence.count("ssid_bits"), 0u);
  EXPECT_EQ(n.evidence.count("nested"), 0u);
  EXPECT_EQ(n.extra.at("prefetch"), Scalar{false});  // bit 0 clear in both
  EXPECT_EQ(n.extra.count("x2apic"), 0u);            // bit 2: Zen 2 no, Zen 4 yes
  EXPECT_EQ(n.extra.count("snp"), 0u);               // bit 63: Zen 2 no, Zen 4 yes
  EXPECT_EQ(n.extra.at("efr_supported"), Scalar{true});
  // Either value read as EFR2 has NumIntRemapSup [9:8] = 2 (0xa5a, 0xaee): both readings
  // warn alike, so the warning stands without a reading's name.
  const std::vector<Diagnostic> expected = {
      {"", Severity::kWarning,
       "efr2.NumIntRemapSup=2 is a reserved encoding (0 = 512, 1 = 2048 interrupt remapping "
       "entries); the kernel then uses 512"}};
  EXPECT_EQ(n.diagnostics, expected);

  // A warning only one reading raises names that reading: 0x29d3 as EFR has GATS=2.
  const Register qemu = decode(amd_efr_spec(), 0x29d3);
  const Register small = decode(amd_efr2_spec(), 0x1d);
  const Normalized q = normalize_amd_either_order(nullptr, qemu, small);
  ASSERT_FALSE(q.diagnostics.empty());
  EXPECT_EQ(q.diagnostics[0].message,
            "as EFR:EFR2: efr.GATS=2 is a reserved encoding (0 = 4-level, 1 = 5-level guest "
            "tables); the kernel then uses 4-level guest tables");
}

TEST(NormalizeAmd, ScalableModeStaysUnknown) {
  const Normalized n = normalize({UINT64_MAX, UINT64_MAX, UINT64_MAX});
  EXPECT_EQ(n.caps.scalable_mode, std::nullopt);
  EXPECT_EQ(n.caps.output_bits, std::nullopt);
  EXPECT_EQ(n.caps.stall, std::nullopt);
  EXPECT_EQ(n.caps.btm, std::nullopt);
  EXPECT_EQ(n.caps.input_bits, std::nullopt);  // HATS 3
  EXPECT_EQ(n.caps.nested, true);
  EXPECT_EQ(n.caps.ssid_bits, 32);
  EXPECT_EQ(n.diagnostics.size(), 4u);  // GATS 3, HATS 3, PASmax 31, NumIntRemapSup 3
}

}  // namespace
}  // namespace caps
