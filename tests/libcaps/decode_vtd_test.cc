// SPDX-License-Identifier: MIT
// Tests for libcaps/src/decoding/decode_vtd.cc: CAP_REG/ECAP_REG tables on real and edge values,
// and normalize_vtd against capability-model.md section 2. Expected values are worked out by hand
// from kernel-abi.md 2.1/2.2; the nibble arithmetic is written next to each value.
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

TEST(DecodeVtd, TablesCoverEveryBitOnce) {
  expect_covers_all_bits(vtd_cap_spec());
  expect_covers_all_bits(vtd_ecap_spec());
  EXPECT_EQ(vtd_cap_spec().name, "CAP_REG");
  EXPECT_EQ(vtd_ecap_spec().name, "ECAP_REG");
}

TEST(DecodeVtd, ReservedMasksAsDocumented) {
  // CAP: [15:13] = 0xe000, bit 38 = 0x40_0000_0000, [58:57] = 0x0600_0000_0000_0000.
  EXPECT_EQ(vtd_cap_spec().reserved_mask, 0x060000400000e000u);
  // ECAP: bit 5 = 0x20, [19:18] = 0xc0000, bit 24 = 0x100_0000 -> low word 0x010c0020 (bits
  // 27 and 28 are the kernel's DIS and BROKEN_PASID); bit 32 = hi bit 0, bit 50 = hi bit 18
  // (0x40000), [63:54] = hi bits 22..31 (0xffc00000) -> high word 0xffc40001.
  EXPECT_EQ(vtd_ecap_spec().reserved_mask, 0xffc40001010c0020u);
}

// Every cap_*/ecap_* macro of drivers/iommu/intel/iommu.h in the newest tree read (gregkh/linux
// v6.17.8, commit 05e1afc5; docs/registers.md), as {macro, lo, hi}: a bit the kernel names
// must be a decoded field, never "reserved".
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

TEST(DecodeVtd, DecodesEveryBitTheNewestKernelHeaderNames) {
  expect_decoded(vtd_cap_spec(), {{"cap_ndoms", 0, 2},
                                  {"cap_afl", 3, 3},
                                  {"cap_rwbf", 4, 4},
                                  {"cap_plmr", 5, 5},
                                  {"cap_phmr", 6, 6},
                                  {"cap_caching_mode", 7, 7},
                                  {"cap_sagaw", 8, 12},
                                  {"cap_mgaw", 16, 21},
                                  {"cap_zlr", 22, 22},
                                  {"cap_isoch", 23, 23},
                                  {"cap_fault_reg_offset", 24, 33},
                                  {"cap_super_page_val", 34, 37},
                                  {"cap_pgsel_inv", 39, 39},
                                  {"cap_num_fault_regs", 40, 47},
                                  {"cap_max_amask_val", 48, 53},
                                  {"cap_write_drain", 54, 54},
                                  {"cap_read_drain", 55, 55},
                                  {"cap_fl1gp_support", 56, 56},
                                  {"cap_pi_support", 59, 59},
                                  {"cap_fl5lp_support", 60, 60},
                                  {"cap_ecmds", 61, 61},
                                  {"cap_esirtps", 62, 62},
                                  {"cap_esrtps", 63, 63}});
  expect_decoded(vtd_ecap_spec(), {{"ecap_coherent", 0, 0},
                                   {"ecap_qis", 1, 1},
                                   {"ecap_dev_iotlb_support", 2, 2},
                                   {"ecap_ir_support", 3, 3},
                                   {"ecap_eim_support", 4, 4},
                                   {"ecap_pass_through", 6, 6},
                                   {"ecap_sc_support", 7, 7},
                                   {"ecap_iotlb_offset", 8, 17},
                                   {"ecap_max_handle_mask", 20, 23},
                                   {"ecap_mts", 25, 25},
                                   {"ecap_nest", 26, 26},
                                   {"ecap_dis", 27, 27},
                                   {"ecap_broken_pasid", 28, 28},
                                   {"ecap_prs", 29, 29},
                                   {"ecap_ers", 30, 30},
                                   {"ecap_srs", 31, 31},
                                   {"ecap_nwfs", 33, 33},
                                   {"ecap_eafs", 34, 34},
                                   {"ecap_pss", 35, 39},
                                   {"ecap_pasid", 40, 40},
                                   {"ecap_dit", 41, 41},
                                   {"ecap_pds", 42, 42},
                                   {"ecap_smts", 43, 43},
                                   {"ecap_slads", 45, 45},
                                   {"ecap_slts", 46, 46},
                                   {"ecap_flts", 47, 47},
                                   {"ecap_smpwc", 48, 48},
                                   {"ecap_rps", 49, 49},
                                   {"ecap_pms", 51, 51}});
}

TEST(DecodeVtd, KernelOnlyEcapBitsUnderTheKernelsNames) {
  // Client main unit 19e2ff0505e sets bit 27 (ecap_dis); 0x1000_0000 is ecap_broken_pasid.
  EXPECT_EQ(decode(vtd_ecap_spec(), 0x19e2ff0505e).field("DIS"), 1u);
  EXPECT_EQ(decode(vtd_ecap_spec(), 0x10000000).field("BROKEN_PASID"), 1u);
  EXPECT_EQ(decode(vtd_ecap_spec(), 0x10000000).reserved, 0u);
}

// Nibbles are written n15..n0 (bits 63..0) under each value.
const RegCase kCapCases[] = {
    // Newer Xeon, cap 9ed008c40780466 = 0 9 e d 0 0 8 c 4 0 7 8 0 4 6 6.
    // n0=6: bits 1,2 -> ND=6. n1=6: PLMR, PHMR. n2=4: bit 10 -> SAGAW=0b00100=4.
    // n4=8 (bit 19), n5=7 (bits 20,21,22): MGAW [21:16]=0b111000=56, ZLR=1, ISOCH=0.
    // n7=4: bit 30 -> FRO [33:24] = 1<<6 = 64. n8=c: bits 34,35 -> SLLPS=3.
    // n9=8: bit 39 PSI. n10,n11=0: NFR=0. n12=d (48,50,51), n13=e (53,54,55):
    // MAMV [53:48] = 0b101101 = 45, DWD=1, DRD=1. n14=9: bit 56 FL1GP, bit 59 PI. n15=0.
    {"xeon-sm cap",
     0x9ed008c40780466,
     {{"ND", 6},    {"AFL", 0},   {"RWBF", 0},  {"PLMR", 1},    {"PHMR", 1},  {"CM", 0},
      {"SAGAW", 4}, {"MGAW", 56}, {"ZLR", 1},   {"ISOCH", 0},   {"FRO", 64},  {"SLLPS", 3},
      {"PSI", 1},   {"NFR", 0},   {"MAMV", 45}, {"DWD", 1},     {"DRD", 1},   {"FL1GP", 1},
      {"PI", 1},    {"FL5LP", 0}, {"ECMDS", 0}, {"ESIRTPS", 0}, {"ESRTPS", 0}},
     0},
    // Client graphics, cap d2008c40660462 = 0 0 d 2 0 0 8 c 4 0 6 6 0 4 6 2.
    // n0=2: ND=2 (kernel-abi: domains_supported 256). n1=6: PLMR, PHMR. n2=4: SAGAW=4.
    // n4=6 (17,18), n5=6 (21,22): MGAW=0b100110=38, ZLR=1. n7=4: FRO=64. n8=c: SLLPS=3.
    // n9=8: PSI. n12=2 (49), n13=d (52,54,55): MAMV=0b010010=18, DWD, DRD. n14=0.
    {"client-gfx cap",
     0xd2008c40660462,
     {{"ND", 2},    {"AFL", 0},   {"RWBF", 0},  {"PLMR", 1},    {"PHMR", 1},  {"CM", 0},
      {"SAGAW", 4}, {"MGAW", 38}, {"ZLR", 1},   {"ISOCH", 0},   {"FRO", 64},  {"SLLPS", 3},
      {"PSI", 1},   {"NFR", 0},   {"MAMV", 18}, {"DWD", 1},     {"DRD", 1},   {"FL1GP", 0},
      {"PI", 0},    {"FL5LP", 0}, {"ECMDS", 0}, {"ESIRTPS", 0}, {"ESRTPS", 0}},
     0},
    // Skylake-SP, cap 8d2078c106f0466 = 0 8 d 2 0 7 8 c 1 0 6 f 0 4 6 6.
    // ND=6, PLMR, PHMR, SAGAW=4. n4=f (16-19), n5=6 (21,22): MGAW=0b101111=47, ZLR.
    // n7=1: bit 28 -> FRO=1<<4=16. n8=c: SLLPS=3. n9=8: PSI. n10=7: NFR=7.
    // n12=2, n13=d: MAMV=18, DWD, DRD. n14=8: bit 59 PI.
    {"skylake-sp cap",
     0x8d2078c106f0466,
     {{"ND", 6},    {"AFL", 0},   {"RWBF", 0},  {"PLMR", 1},    {"PHMR", 1},  {"CM", 0},
      {"SAGAW", 4}, {"MGAW", 47}, {"ZLR", 1},   {"ISOCH", 0},   {"FRO", 16},  {"SLLPS", 3},
      {"PSI", 1},   {"NFR", 7},   {"MAMV", 18}, {"DWD", 1},     {"DRD", 1},   {"FL1GP", 0},
      {"PI", 1},    {"FL5LP", 0}, {"ECMDS", 0}, {"ESIRTPS", 0}, {"ESRTPS", 0}},
     0},
    // Client main unit, cap 1c0000c40660462 = 0 1 c 0 0 0 0 c 4 0 6 6 0 4 6 2.
    // As the graphics unit below bit 34, but n9=0: PSI=0; n12=0, n13=c (54,55): MAMV=0,
    // DWD, DRD; n14=1: FL1GP.
    {"client-main cap",
     0x1c0000c40660462,
     {{"ND", 2},    {"AFL", 0},   {"RWBF", 0},  {"PLMR", 1},    {"PHMR", 1},  {"CM", 0},
      {"SAGAW", 4}, {"MGAW", 38}, {"ZLR", 1},   {"ISOCH", 0},   {"FRO", 64},  {"SLLPS", 3},
      {"PSI", 0},   {"NFR", 0},   {"MAMV", 0},  {"DWD", 1},     {"DRD", 1},   {"FL1GP", 1},
      {"PI", 0},    {"FL5LP", 0}, {"ECMDS", 0}, {"ESIRTPS", 0}, {"ESRTPS", 0}},
     0},
    {"zero cap",
     0,
     {{"ND", 0},    {"AFL", 0},   {"RWBF", 0},  {"PLMR", 0},    {"PHMR", 0},  {"CM", 0},
      {"SAGAW", 0}, {"MGAW", 0},  {"ZLR", 0},   {"ISOCH", 0},   {"FRO", 0},   {"SLLPS", 0},
      {"PSI", 0},   {"NFR", 0},   {"MAMV", 0},  {"DWD", 0},     {"DRD", 0},   {"FL1GP", 0},
      {"PI", 0},    {"FL5LP", 0}, {"ECMDS", 0}, {"ESIRTPS", 0}, {"ESRTPS", 0}},
     0},
    // All ones: every field at its maximum (ND 3 bits = 7, SAGAW 5 bits = 31, MGAW 6 = 63,
    // FRO 10 = 1023, SLLPS 4 = 15, NFR 8 = 255, MAMV 6 = 63), reserved = the whole mask.
    {"all-ones cap",
     UINT64_MAX,
     {{"ND", 7},     {"AFL", 1},   {"RWBF", 1},  {"PLMR", 1},    {"PHMR", 1},   {"CM", 1},
      {"SAGAW", 31}, {"MGAW", 63}, {"ZLR", 1},   {"ISOCH", 1},   {"FRO", 1023}, {"SLLPS", 15},
      {"PSI", 1},    {"NFR", 255}, {"MAMV", 63}, {"DWD", 1},     {"DRD", 1},    {"FL1GP", 1},
      {"PI", 1},     {"FL5LP", 1}, {"ECMDS", 1}, {"ESIRTPS", 1}, {"ESRTPS", 1}},
     0x060000400000e000},
    // Only reserved bits 13 (0x2000), 38 (0x40_0000_0000) and 58 (0x400_0000_0000_0000).
    {"reserved-only cap",
     0x0400004000002000,
     {{"ND", 0},    {"AFL", 0},   {"RWBF", 0},  {"PLMR", 0},    {"PHMR", 0},  {"CM", 0},
      {"SAGAW", 0}, {"MGAW", 0},  {"ZLR", 0},   {"ISOCH", 0},   {"FRO", 0},   {"SLLPS", 0},
      {"PSI", 0},   {"NFR", 0},   {"MAMV", 0},  {"DWD", 0},     {"DRD", 0},   {"FL1GP", 0},
      {"PI", 0},    {"FL5LP", 0}, {"ECMDS", 0}, {"ESIRTPS", 0}, {"ESRTPS", 0}},
     0x0400004000002000},
};

const RegCase kEcapCases[] = {
    // Newer Xeon, ecap 3ee9e86f050df: n12..n0 = 3 e e 9 e 8 6 f 0 5 0 d f.
    // n0=f: C QI DT IR. n1=d: EIM, PT, SC (bit 5 clear). n3=5 (12,14): IRO=16+64=80.
    // n5=f: MHMV=15. n6=6: MTS, NEST. n7=8: bit 31 SRS (PRS=0). n8=e: NWFS, EAFS, bit 35.
    // n9=9: bits 36,39 -> PSS=0b10011=19. n10=e: DIT PDS SMTS, bit 40 PASID=0.
    // n11=e: SLADS SLTS FLTS (VCS=0). n12=3: SMPWC RPS.
    {"xeon-sm ecap",
     0x3ee9e86f050df,
     {{"C", 1},    {"QI", 1},    {"DT", 1},           {"IR", 1},    {"EIM", 1},
      {"PT", 1},   {"SC", 1},    {"IRO", 80},         {"MHMV", 15}, {"MTS", 1},
      {"NEST", 1}, {"DIS", 0},   {"BROKEN_PASID", 0}, {"PRS", 0},   {"ERS", 0},
      {"SRS", 1},  {"NWFS", 1},  {"EAFS", 1},         {"PSS", 19},  {"PASID", 0},
      {"DIT", 1},  {"PDS", 1},   {"SMTS", 1},         {"VCS", 0},   {"SLADS", 1},
      {"SLTS", 1}, {"FLTS", 1},  {"SMPWC", 1},        {"RPS", 1},   {"PMS", 0},
      {"ADMS", 0}, {"RPRIVS", 0}},
     0},
    // Client graphics, ecap f050da: n5..n0 = f 0 5 0 d a.
    // n0=a: QI, IR. n1=d: EIM, PT, SC. n3=5: IRO=80. n5=f: MHMV=15.
    {"client-gfx ecap",
     0xf050da,
     {{"C", 0},    {"QI", 1},    {"DT", 0},           {"IR", 1},    {"EIM", 1},
      {"PT", 1},   {"SC", 1},    {"IRO", 80},         {"MHMV", 15}, {"MTS", 0},
      {"NEST", 0}, {"DIS", 0},   {"BROKEN_PASID", 0}, {"PRS", 0},   {"ERS", 0},
      {"SRS", 0},  {"NWFS", 0},  {"EAFS", 0},         {"PSS", 0},   {"PASID", 0},
      {"DIT", 0},  {"PDS", 0},   {"SMTS", 0},         {"VCS", 0},   {"SLADS", 0},
      {"SLTS", 0}, {"FLTS", 0},  {"SMPWC", 0},        {"RPS", 0},   {"PMS", 0},
      {"ADMS", 0}, {"RPRIVS", 0}},
     0},
    // Skylake-SP, ecap f020df: n0=f: C QI DT IR. n1=d: EIM PT SC. n3=2: bit 13 -> IRO=32.
    {"skylake-sp ecap",
     0xf020df,
     {{"C", 1},    {"QI", 1},    {"DT", 1},           {"IR", 1},    {"EIM", 1},
      {"PT", 1},   {"SC", 1},    {"IRO", 32},         {"MHMV", 15}, {"MTS", 0},
      {"NEST", 0}, {"DIS", 0},   {"BROKEN_PASID", 0}, {"PRS", 0},   {"ERS", 0},
      {"SRS", 0},  {"NWFS", 0},  {"EAFS", 0},         {"PSS", 0},   {"PASID", 0},
      {"DIT", 0},  {"PDS", 0},   {"SMTS", 0},         {"VCS", 0},   {"SLADS", 0},
      {"SLTS", 0}, {"FLTS", 0},  {"SMPWC", 0},        {"RPS", 0},   {"PMS", 0},
      {"ADMS", 0}, {"RPRIVS", 0}},
     0},
    // Client main unit (VT-d 2.x era), ecap 19e2ff0505e: n10..n0 = 1 9 e 2 f f 0 5 0 5 e.
    // n0=e: QI DT IR. n1=5: EIM, PT. n3=5: IRO=80. n5=f: MHMV=15. n6=f: bit 24 (ECS,
    // reserved), MTS, NEST, DIS (bit 27, the kernel's ecap_dis). n7=2: PRS. n8=e: NWFS EAFS,
    // bit 35. n9=9: PSS=19. n10=1: PASID. Reserved = bit 24 = 0x100_0000.
    {"client-main ecap",
     0x19e2ff0505e,
     {{"C", 0},    {"QI", 1},    {"DT", 1},           {"IR", 1},    {"EIM", 1},
      {"PT", 1},   {"SC", 0},    {"IRO", 80},         {"MHMV", 15}, {"MTS", 1},
      {"NEST", 1}, {"DIS", 1},   {"BROKEN_PASID", 0}, {"PRS", 1},   {"ERS", 0},
      {"SRS", 0},  {"NWFS", 1},  {"EAFS", 1},         {"PSS", 19},  {"PASID", 1},
      {"DIT", 0},  {"PDS", 0},   {"SMTS", 0},         {"VCS", 0},   {"SLADS", 0},
      {"SLTS", 0}, {"FLTS", 0},  {"SMPWC", 0},        {"RPS", 0},   {"PMS", 0},
      {"ADMS", 0}, {"RPRIVS", 0}},
     0x1000000},
    // All ones: IRO 10 bits = 1023, MHMV 4 = 15, PSS 5 = 31; reserved = the whole mask.
    {"all-ones ecap",
     UINT64_MAX,
     {{"C", 1},    {"QI", 1},    {"DT", 1},           {"IR", 1},    {"EIM", 1},
      {"PT", 1},   {"SC", 1},    {"IRO", 1023},       {"MHMV", 15}, {"MTS", 1},
      {"NEST", 1}, {"DIS", 1},   {"BROKEN_PASID", 1}, {"PRS", 1},   {"ERS", 1},
      {"SRS", 1},  {"NWFS", 1},  {"EAFS", 1},         {"PSS", 31},  {"PASID", 1},
      {"DIT", 1},  {"PDS", 1},   {"SMTS", 1},         {"VCS", 1},   {"SLADS", 1},
      {"SLTS", 1}, {"FLTS", 1},  {"SMPWC", 1},        {"RPS", 1},   {"PMS", 1},
      {"ADMS", 1}, {"RPRIVS", 1}},
     0xffc40001010c0020},
    // Bit 28 alone (0x1000_0000): the kernel's ecap_broken_pasid, reserved in VT-d 3.x but
    // named by the newest header, so a field rather than a reserved bit.
    {"legacy-pasid bit",
     0x10000000,
     {{"C", 0},    {"QI", 0},    {"DT", 0},           {"IR", 0},   {"EIM", 0},
      {"PT", 0},   {"SC", 0},    {"IRO", 0},          {"MHMV", 0}, {"MTS", 0},
      {"NEST", 0}, {"DIS", 0},   {"BROKEN_PASID", 1}, {"PRS", 0},  {"ERS", 0},
      {"SRS", 0},  {"NWFS", 0},  {"EAFS", 0},         {"PSS", 0},  {"PASID", 0},
      {"DIT", 0},  {"PDS", 0},   {"SMTS", 0},         {"VCS", 0},  {"SLADS", 0},
      {"SLTS", 0}, {"FLTS", 0},  {"SMPWC", 0},        {"RPS", 0},  {"PMS", 0},
      {"ADMS", 0}, {"RPRIVS", 0}},
     0},
};

TEST(DecodeVtd, CapRealAndEdgeValues) {
  for (const RegCase& c : kCapCases) {
    EXPECT_EQ(decode(vtd_cap_spec(), c.raw), (Register{"CAP_REG", c.raw, c.fields, c.reserved}))
        << c.what;
  }
}

TEST(DecodeVtd, EcapRealAndEdgeValues) {
  for (const RegCase& c : kEcapCases) {
    EXPECT_EQ(decode(vtd_ecap_spec(), c.raw), (Register{"ECAP_REG", c.raw, c.fields, c.reserved}))
        << c.what;
  }
}

struct OneField {
  const char* name;
  uint64_t raw;    // the field at its maximum, nothing else
  uint64_t value;  // that maximum
};

TEST(DecodeVtd, EachMultiBitFieldAtMaxAlone) {
  const OneField cap[] = {
      {"ND", 0x7, 7},                  // [2:0]
      {"SAGAW", 0x1f00, 31},           // [12:8]
      {"MGAW", 0x3f0000, 63},          // [21:16]
      {"FRO", 0x3ff000000, 1023},      // [33:24]: 0x3ff << 24
      {"SLLPS", 0x3c00000000, 15},     // [37:34]: 0xf << 34
      {"NFR", 0xff0000000000, 255},    // [47:40]
      {"MAMV", 0x3f000000000000, 63},  // [53:48]
  };
  for (const OneField& f : cap) {
    const Register r = decode(vtd_cap_spec(), f.raw);
    for (const Field& got : r.fields) {
      EXPECT_EQ(got.value, got.name == f.name ? f.value : 0) << f.name << " vs " << got.name;
    }
    EXPECT_EQ(r.reserved, 0u) << f.name;
  }
  const OneField ecap[] = {
      {"IRO", 0x3ff00, 1023},     // [17:8]
      {"MHMV", 0xf00000, 15},     // [23:20]
      {"PSS", 0xf800000000, 31},  // [39:35]: 0x1f << 35
  };
  for (const OneField& f : ecap) {
    const Register r = decode(vtd_ecap_spec(), f.raw);
    for (const Field& got : r.fields) {
      EXPECT_EQ(got.value, got.name == f.name ? f.value : 0) << f.name << " vs " << got.name;
    }
    EXPECT_EQ(r.reserved, 0u) << f.name;
  }
}

// ---- normalize_vtd ----

Normalized normalize(std::optional<uint64_t> cap, std::optional<uint64_t> ecap) {
  const Register c = decode(vtd_cap_spec(), cap.value_or(0));
  const Register e = decode(vtd_ecap_spec(), ecap.value_or(0));
  return normalize_vtd(cap ? &c : nullptr, ecap ? &e : nullptr);
}

TEST(NormalizeVtd, NewerXeonScalableMode) {
  // cap 9ed008c40780466 / ecap 3ee9e86f050df, fields as decoded above.
  const Normalized n = normalize(0x9ed008c40780466, 0x3ee9e86f050df);
  Caps want;
  // SMTS, FLTS, SLTS all set: fl = BIT(2) (FL5LP=0), sl = SAGAW 0b00100 -> fl & sl = BIT(2)
  // -> agaw 2 -> 48 bits; MGAW+1 = 57 does not clamp.
  want.input_bits = 48;
  want.asid_bits = 16;  // 4 + 2*6
  want.ssid_bits = 0;   // PASID=0
  want.httu = Httu::kAccessDirty;
  want.pgtable_formats = std::vector<std::string>{"vtd-ss-48", "vtd-fs-48"};
  want.nested = true;
  want.ats = true;
  want.page_requests = false;
  want.dirty_tracking = true;
  want.scalable_mode = true;
  EXPECT_EQ(n.caps, want);
  EXPECT_TRUE(n.diagnostics.empty());

  const std::map<std::string, std::string> evidence = {
      {"input_bits",
       "cap.SAGAW=4, cap.FL5LP=0, cap.MGAW=56, ecap.SMTS=1, ecap.FLTS=1, ecap.SLTS=1 -> 48 bits"},
      {"asid_bits", "cap.ND=6 -> 16 bits"},
      {"ssid_bits", "ecap.PASID=0, ecap.SMTS=1 -> 0 PASID bits"},
      {"httu", "ecap.SLADS=1 -> access+dirty"},
      {"pgtable_formats", "cap.SAGAW=4, ecap.FLTS=1, cap.FL5LP=0 -> vtd-ss-48, vtd-fs-48"},
      {"nested", "ecap.SMTS=1, ecap.NEST=1 -> true"},
      {"ats", "ecap.DT=1 -> true"},
      {"page_requests", "ecap.PRS=0 -> false"},
      {"dirty_tracking", "ecap.SMTS=1, ecap.SLADS=1, ecap.SMPWC=1 -> true"},
      {"scalable_mode", "ecap.SMTS=1 -> true"},
  };
  EXPECT_EQ(n.evidence, evidence);

  EXPECT_EQ(n.extra.at("domains"), Scalar{int64_t{65536}});  // 1 << (4 + 12)
  EXPECT_EQ(n.extra.at("second_stage_large_pages"), Scalar{std::string("2M,1G")});
  EXPECT_EQ(n.extra.at("first_stage_1g_pages"), Scalar{true});
  EXPECT_EQ(n.extra.at("first_stage_5level"), Scalar{false});
  EXPECT_EQ(n.extra.at("posted_interrupts"), Scalar{true});
  EXPECT_EQ(n.extra.at("caching_mode"), Scalar{false});
  EXPECT_EQ(n.extra.at("fault_recording_registers"), Scalar{int64_t{1}});  // NFR 0 + 1
  EXPECT_EQ(n.extra.at("max_guest_address_width"), Scalar{int64_t{57}});
  EXPECT_EQ(n.extra.at("interrupt_remapping"), Scalar{true});
  EXPECT_EQ(n.extra.at("extended_interrupt_mode"), Scalar{true});
  EXPECT_EQ(n.extra.at("pass_through"), Scalar{true});
  EXPECT_EQ(n.extra.at("snoop_control"), Scalar{true});
  EXPECT_EQ(n.extra.at("page_request_drain"), Scalar{true});
  EXPECT_EQ(n.extra.count("max_pasids"), 0u);  // no PASID support
}

TEST(NormalizeVtd, ClientGraphicsLegacyMode) {
  // cap d2008c40660462 / ecap f050da: SMTS=0 -> sl = SAGAW 4 -> agaw 2 -> 48 bits, clamped to
  // MGAW+1 = 39.
  const Normalized n = normalize(0xd2008c40660462, 0xf050da);
  Caps want;
  want.input_bits = 39;
  want.asid_bits = 8;  // 4 + 2*2
  want.ssid_bits = 0;
  want.httu = Httu::kNone;
  want.pgtable_formats = std::vector<std::string>{"vtd-ss-48"};
  want.nested = false;
  want.ats = false;
  want.page_requests = false;
  want.dirty_tracking = false;
  want.scalable_mode = false;
  EXPECT_EQ(n.caps, want);
  EXPECT_EQ(n.evidence.at("input_bits"), "cap.SAGAW=4, cap.MGAW=38, ecap.SMTS=0 -> 39 bits");
  EXPECT_EQ(n.evidence.at("pgtable_formats"), "cap.SAGAW=4, ecap.FLTS=0 -> vtd-ss-48");
  EXPECT_EQ(n.evidence.at("ssid_bits"), "ecap.PASID=0, ecap.SMTS=0 -> 0 PASID bits");
  EXPECT_EQ(n.extra.at("domains"), Scalar{int64_t{256}});  // kernel-abi 1.2: ND=2 -> 256
  EXPECT_TRUE(n.diagnostics.empty());
}

TEST(NormalizeVtd, SkylakeSp) {
  // cap 8d2078c106f0466 / ecap f020df: SMTS=0, SAGAW 4 -> 48, MGAW+1 = 48.
  const Normalized n = normalize(0x8d2078c106f0466, 0xf020df);
  EXPECT_EQ(n.caps.input_bits, 48);
  EXPECT_EQ(n.caps.asid_bits, 16);
  EXPECT_EQ(n.caps.ats, true);
  EXPECT_EQ(n.caps.scalable_mode, false);
  EXPECT_EQ(n.caps.pgtable_formats, (std::vector<std::string>{"vtd-ss-48"}));
  EXPECT_EQ(n.extra.at("fault_recording_registers"), Scalar{int64_t{8}});  // NFR 7 + 1
}

TEST(NormalizeVtd, PasidNeedsScalableMode) {
  // Client main unit: ecap 19e2ff0505e has PASID=1, PSS=19 but SMTS=0, like the kernel's
  // pasid_supported() that gives no PASIDs; NEST=1 without SMTS is not nesting either.
  const Normalized n = normalize(0x1c0000c40660462, 0x19e2ff0505e);
  EXPECT_EQ(n.caps.ssid_bits, 0);
  EXPECT_EQ(n.caps.nested, false);
  EXPECT_EQ(n.caps.page_requests, true);
  EXPECT_EQ(n.evidence.at("ssid_bits"), "ecap.PASID=1, ecap.SMTS=0 -> 0 PASID bits");
  EXPECT_EQ(n.extra.count("max_pasids"), 0u);

  // PASID (bit 40 = 0x100_0000_0000) + SMTS (bit 43 = 0x800_0000_0000) + PSS=19 (19 << 35 =
  // 0x98_0000_0000) = 0x998_0000_0000.
  const Normalized sm = normalize(std::nullopt, 0x99800000000);
  EXPECT_EQ(sm.caps.ssid_bits, 20);
  EXPECT_EQ(sm.evidence.at("ssid_bits"), "ecap.PSS=19, ecap.PASID=1, ecap.SMTS=1 -> 20 PASID bits");
  EXPECT_EQ(sm.extra.at("max_pasids"), Scalar{int64_t{1} << 20});  // 2 << 19
}

TEST(NormalizeVtd, DirtyTrackingNeedsSmpwc) {
  // SMTS (bit 43) + SLADS (bit 45 = 0x2000_0000_0000) = 0x2800_0000_0000, no SMPWC.
  const Normalized n = normalize(std::nullopt, 0x280000000000);
  EXPECT_EQ(n.caps.httu, Httu::kAccessDirty);
  EXPECT_EQ(n.caps.dirty_tracking, false);
  EXPECT_EQ(n.evidence.at("dirty_tracking"), "ecap.SMTS=1, ecap.SLADS=1, ecap.SMPWC=0 -> false");
  // + SMPWC (bit 48 = 0x1_0000_0000_0000).
  EXPECT_EQ(normalize(std::nullopt, 0x1280000000000).caps.dirty_tracking, true);
}

TEST(NormalizeVtd, FirstStageOnly) {
  // cap: FL5LP (bit 60) + MGAW=56 (0x38 << 16) and SAGAW=0 -> 0x1000000000380000.
  // ecap: SMTS (43) + FLTS (47 = 0x8000_0000_0000), no SLTS -> 0x880000000000.
  // fl = BIT(2)|BIT(3) -> agaw 3 -> 57 = MGAW+1.
  const Normalized n = normalize(0x1000000000380000, 0x880000000000);
  EXPECT_EQ(n.caps.input_bits, 57);
  EXPECT_EQ(n.evidence.at("input_bits"),
            "cap.FL5LP=1, cap.MGAW=56, ecap.SMTS=1, ecap.FLTS=1, ecap.SLTS=0 -> 57 bits");
  EXPECT_EQ(n.caps.pgtable_formats, (std::vector<std::string>{"vtd-fs-48", "vtd-fs-57"}));
}

TEST(NormalizeVtd, ScalableWithoutFirstStageUsesSecondStage) {
  // cap SAGAW=0b01110 (0xe00) + MGAW=56 -> 0x380e00; ecap SMTS only (0x80000000000).
  const Normalized n = normalize(0x380e00, 0x80000000000);
  EXPECT_EQ(n.caps.input_bits, 57);  // highest agaw 3
  EXPECT_EQ(n.evidence.at("input_bits"),
            "cap.SAGAW=14, cap.MGAW=56, ecap.SMTS=1, ecap.FLTS=0 -> 57 bits");
  EXPECT_EQ(n.caps.pgtable_formats,
            (std::vector<std::string>{"vtd-ss-39", "vtd-ss-48", "vtd-ss-57"}));
}

TEST(NormalizeVtd, NoUsableAgaw) {
  struct Case {
    const char* what;
    uint64_t cap, ecap;
    std::string message;
  };
  const Case cases[] = {
      {"zero", 0, 0,
       "no usable agaw: effective SAGAW 0x0 from cap.SAGAW=0, cap.MGAW=0, ecap.SMTS=0 has none "
       "of bits 0-3, input_bits unknown"},
      // SAGAW bit 1 (0x200) & fl BIT(2) = 0: ecap SMTS|SLTS|FLTS = bits 43,46,47 = 0xc80000000000.
      {"empty intersection", 0x2f0200, 0xc80000000000,
       "no usable agaw: effective SAGAW 0x0 from cap.SAGAW=2, cap.FL5LP=0, cap.MGAW=47, "
       "ecap.SMTS=1, ecap.FLTS=1, ecap.SLTS=1 has none of bits 0-3, input_bits unknown"},
  };
  for (const Case& c : cases) {
    const Normalized n = normalize(c.cap, c.ecap);
    EXPECT_EQ(n.caps.input_bits, std::nullopt) << c.what;
    EXPECT_EQ(n.evidence.count("input_bits"), 0u) << c.what;
    ASSERT_EQ(n.diagnostics.size(), 1u) << c.what;
    EXPECT_EQ(n.diagnostics[0], (Diagnostic{"", Severity::kWarning, c.message})) << c.what;
  }
}

TEST(NormalizeVtd, SagawBitZeroIsThirtyBits) {
  // The kernel's agaw loop goes down to agaw 0 (2-level, 30 bits): SAGAW=1, MGAW=47.
  const Normalized n = normalize(0x2f0100, 0);
  EXPECT_EQ(n.caps.input_bits, 30);
  EXPECT_EQ(n.caps.pgtable_formats, std::vector<std::string>{});  // no format for bit 0
  // Bit 0 is a reserved encoding in VT-d 3.x: said, not silently used.
  ASSERT_EQ(n.diagnostics.size(), 1u);
  EXPECT_EQ(n.diagnostics[0],
            (Diagnostic{"", Severity::kWarning,
                        "cap.SAGAW=0x1 sets reserved bits (bit 0 = 2-level, bit 4 = 6-level "
                        "tables)"}));
}

TEST(NormalizeVtd, ReservedSagawBitFourWarns) {
  // SAGAW bit 4 only (0x1000), MGAW 47 (0x2f0000): the reserved encoding, then no agaw.
  const Normalized n = normalize(0x2f1000, 0);
  EXPECT_EQ(n.caps.input_bits, std::nullopt);
  const std::vector<Diagnostic> expected = {
      {"", Severity::kWarning,
       "cap.SAGAW=0x10 sets reserved bits (bit 0 = 2-level, bit 4 = 6-level tables)"},
      {"", Severity::kWarning,
       "no usable agaw: effective SAGAW 0x10 from cap.SAGAW=16, cap.MGAW=47, ecap.SMTS=0 has "
       "none of bits 0-3, input_bits unknown"}};
  EXPECT_EQ(n.diagnostics, expected);
}

TEST(NormalizeVtd, RealSagawValuesDoNotWarn) {
  // Every cap in real-registers.md and QEMU's default (d2008c22260206) sets SAGAW bits 1-3 only.
  for (uint64_t cap : {0xd2008c40660462u, 0x1c0000c40660462u, 0xc0000020660462u, 0x8d2078c106f0466u,
                       0x9ed008c40780466u, 0xd2008c22260206u}) {
    EXPECT_TRUE(normalize(cap, 0xf050da).diagnostics.empty()) << std::hex << cap;
  }
}

TEST(NormalizeVtd, AllOnes) {
  const Normalized n = normalize(UINT64_MAX, UINT64_MAX);
  // fl = BIT(2)|BIT(3), sl = 0b11111 -> agaw 3 -> 57; MGAW+1 = 64.
  EXPECT_EQ(n.caps.input_bits, 57);
  EXPECT_EQ(n.caps.asid_bits, std::nullopt);  // ND=7 reserved
  EXPECT_EQ(n.caps.ssid_bits, 32);            // PSS 31 + 1
  EXPECT_EQ(n.caps.pgtable_formats, (std::vector<std::string>{"vtd-ss-39", "vtd-ss-48", "vtd-ss-57",
                                                              "vtd-fs-48", "vtd-fs-57"}));
  EXPECT_EQ(n.extra.at("second_stage_large_pages"), Scalar{std::string("2M,1G,512G,256T")});
  EXPECT_EQ(n.extra.count("domains"), 0u);
  EXPECT_EQ(n.extra.at("max_pasids"), Scalar{int64_t{1} << 32});  // 2 << 31
  ASSERT_EQ(n.diagnostics.size(), 2u);
  EXPECT_EQ(n.diagnostics[0].message,
            "cap.SAGAW=0x1f sets reserved bits (bit 0 = 2-level, bit 4 = 6-level tables)");
  EXPECT_EQ(n.diagnostics[1].message, "cap.ND=7 is reserved, asid_bits unknown");
}

TEST(NormalizeVtd, MissingEcap) {
  const Normalized n = normalize(0x9ed008c40780466, std::nullopt);
  Caps want;
  want.input_bits = 48;  // sl only: SAGAW 4 -> agaw 2
  want.asid_bits = 16;
  EXPECT_EQ(n.caps, want);
  EXPECT_EQ(n.evidence.at("input_bits"),
            "cap.SAGAW=4, cap.MGAW=56, no ecap, second stage only -> 48 bits");
  EXPECT_EQ(n.evidence.size(), 2u);
  EXPECT_EQ(n.extra.count("interrupt_remapping"), 0u);
  EXPECT_EQ(n.extra.count("posted_interrupts"), 1u);
}

TEST(NormalizeVtd, MissingCap) {
  const Normalized n = normalize(std::nullopt, 0x3ee9e86f050df);
  EXPECT_EQ(n.caps.input_bits, std::nullopt);
  EXPECT_EQ(n.caps.asid_bits, std::nullopt);
  EXPECT_EQ(n.caps.pgtable_formats, std::nullopt);  // needs SAGAW too
  EXPECT_EQ(n.caps.scalable_mode, true);
  EXPECT_EQ(n.evidence.count("input_bits"), 0u);
  EXPECT_EQ(n.extra.count("domains"), 0u);
  EXPECT_EQ(n.extra.count("interrupt_remapping"), 1u);
}

TEST(NormalizeVtd, NothingKnown) {
  const Normalized n = normalize_vtd(nullptr, nullptr);
  EXPECT_EQ(n.caps, Caps{});
  EXPECT_TRUE(n.evidence.empty());
  EXPECT_TRUE(n.extra.empty());
  EXPECT_TRUE(n.diagnostics.empty());
}

TEST(NormalizeVtd, UsesRawNotTheGivenFieldList) {
  // A register whose field list was lost (say, read back from a report) still normalizes.
  const Register cap{"CAP_REG", 0xd2008c40660462, {}, 0};
  const Normalized n = normalize_vtd(&cap, nullptr);
  EXPECT_EQ(n.caps.asid_bits, 8);
}

}  // namespace
}  // namespace caps
