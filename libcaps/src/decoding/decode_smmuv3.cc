// SPDX-License-Identifier: MIT
// Arm SMMUv3 SMMU_IDR0..5, SMMU_IIDR and SMMU_AIDR field tables and the SMMUv3 normalizer
// (capability-model.md section 2, docs/registers.md "Arm SMMUv3").
//
// Sources, in order of authority: the kernel's drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h
// (torvalds/linux at 0401bbf56da5, read for this file) and arm_smmu_device_hw_probe() in
// arm-smmu-v3.c for what the kernel makes of each field; the Arm SMMUv3 architecture
// specification (Arm IHI 0070, section 6.3 "Register formats") for the fields the kernel does not
// name, as FreeBSD's sys/arm64/iommu/smmureg.h and QEMU's hw/arm/smmuv3-internal.h spell them
// (kernel-abi.md section 4 marks which). A bit none of them names is reported as reserved.
#include <algorithm>
#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "libcaps/decode.h"
#include "libcaps/parse.h"
#include "normalize_util.h"

namespace caps {
namespace {

using namespace normalize;  // NOLINT(google-build-using-namespace): private helpers

// The registers are 32 bits; the tables are 64 bits wide like every other register table.
constexpr uint64_t kHigh = bits(63, 32);

// SMMU_IDR0. Kernel IDR0_* macros: S2P, S1P, TTF, COHACC, HTTU, HYP, ATS, ASID16, MSI, SEV, PRI,
// VMID16, CD2L, TTENDIAN, STALL_MODEL, ST_LVL (the spec's ST_LEVEL). From the spec (FreeBSD
// smmureg.h IDR0_*): BTM [5] (the kernel names it only in the unmerged SVA/BTM patches),
// DORMHINT [8], NS1ATS [11], ATOS [15], VMW [17], VATOS [20], TERM_MODEL [26] (also QEMU's
// FIELD(IDR0, TERM_MODEL) and the iommufd uapi comment). Bits 23 and [31:29] are named by none
// of these sources (later spec revisions use some): reported as reserved.
constexpr FieldSpec kIdr0Fields[] = {
    {"S2P", 0, 0},           {"S1P", 1, 1},          {"TTF", 2, 3},        {"COHACC", 4, 4},
    {"BTM", 5, 5},           {"HTTU", 6, 7},         {"DORMHINT", 8, 8},   {"HYP", 9, 9},
    {"ATS", 10, 10},         {"NS1ATS", 11, 11},     {"ASID16", 12, 12},   {"MSI", 13, 13},
    {"SEV", 14, 14},         {"ATOS", 15, 15},       {"PRI", 16, 16},      {"VMW", 17, 17},
    {"VMID16", 18, 18},      {"CD2L", 19, 19},       {"VATOS", 20, 20},    {"TTENDIAN", 21, 22},
    {"STALL_MODEL", 24, 25}, {"TERM_MODEL", 26, 26}, {"ST_LEVEL", 27, 28},
};
constexpr uint64_t kIdr0Reserved = bits(23, 23) | bits(31, 29) | kHigh;

// SMMU_IDR1. Kernel IDR1_*: SIDSIZE, SSIDSIZE, PRIQS, EVTQS (the spec's EVENTQS), CMDQS,
// ATTR_TYPES_OVR, REL, QUEUES_PRESET, TABLES_PRESET. Spec: ATTR_PERMS_OVR [26]. Bit 31 reserved.
constexpr FieldSpec kIdr1Fields[] = {
    {"SIDSIZE", 0, 5},          {"SSIDSIZE", 6, 10}, {"PRIQS", 11, 15},
    {"EVENTQS", 16, 20},        {"CMDQS", 21, 25},   {"ATTR_PERMS_OVR", 26, 26},
    {"ATTR_TYPES_OVR", 27, 27}, {"REL", 28, 28},     {"QUEUES_PRESET", 29, 29},
    {"TABLES_PRESET", 30, 30},
};
constexpr uint64_t kIdr1Reserved = bits(31, 31) | kHigh;

// SMMU_IDR2: BA_VATOS [9:0] (spec), the VATOS page's base; the kernel never reads IDR2.
constexpr FieldSpec kIdr2Fields[] = {{"BA_VATOS", 0, 9}};
constexpr uint64_t kIdr2Reserved = bits(31, 10) | kHigh;

// SMMU_IDR3. Kernel: RIL [10] (IDR3_RIL), FWB [8] and BBML [12:11] (kernel-abi.md 4.3, newer
// trees). QEMU's smmuv3-internal.h: HAD [2], XNX [4] (FIELD(IDR3, ...)). The rest is reported as
// reserved: the spec's later optional features there are not named by any source read.
constexpr FieldSpec kIdr3Fields[] = {
    {"HAD", 2, 2}, {"XNX", 4, 4}, {"FWB", 8, 8}, {"RIL", 10, 10}, {"BBML", 11, 12},
};
constexpr uint64_t kIdr3Reserved =
    bits(1, 0) | bits(3, 3) | bits(7, 5) | bits(9, 9) | bits(31, 13) | kHigh;

// SMMU_IDR4 is IMPLEMENTATION DEFINED as a whole (spec).
constexpr FieldSpec kIdr4Fields[] = {{"IMPDEF", 0, 31}};
constexpr uint64_t kIdr4Reserved = kHigh;

// SMMU_IDR5. Kernel IDR5_*: OAS, GRAN4K, GRAN16K, GRAN64K, VAX, STALL_MAX.
constexpr FieldSpec kIdr5Fields[] = {
    {"OAS", 0, 2},     {"GRAN4K", 4, 4}, {"GRAN16K", 5, 5},
    {"GRAN64K", 6, 6}, {"VAX", 10, 11},  {"STALL_MAX", 16, 31},
};
constexpr uint64_t kIdr5Reserved = bits(3, 3) | bits(9, 7) | bits(15, 12) | kHigh;

// SMMU_IIDR. Kernel IIDR_*: IMPLEMENTER, REVISION, VARIANT, PRODUCTID.
constexpr FieldSpec kIidrFields[] = {
    {"Implementer", 0, 11},
    {"Revision", 12, 15},
    {"Variant", 16, 19},
    {"ProductID", 20, 31},
};
constexpr uint64_t kIidrReserved = kHigh;

// SMMU_AIDR (spec): ArchMinorRev [3:0], ArchMajorRev [7:4]; 0x00 = SMMUv3.0, 0x01 = SMMUv3.1 ...
constexpr FieldSpec kAidrFields[] = {{"ArchMinorRev", 0, 3}, {"ArchMajorRev", 4, 7}};
constexpr uint64_t kAidrReserved = bits(31, 8) | kHigh;

constexpr std::array<RegisterSpec, 6> kIdrSpecs = {{
    {"SMMU_IDR0", kIdr0Fields, kIdr0Reserved},
    {"SMMU_IDR1", kIdr1Fields, kIdr1Reserved},
    {"SMMU_IDR2", kIdr2Fields, kIdr2Reserved},
    {"SMMU_IDR3", kIdr3Fields, kIdr3Reserved},
    {"SMMU_IDR4", kIdr4Fields, kIdr4Reserved},
    {"SMMU_IDR5", kIdr5Fields, kIdr5Reserved},
}};
constexpr RegisterSpec kIidrSpec{"SMMU_IIDR", kIidrFields, kIidrReserved};
constexpr RegisterSpec kAidrSpec{"SMMU_AIDR", kAidrFields, kAidrReserved};

// Field encodings (kernel arm-smmu-v3.h; spec where marked).
constexpr uint64_t kTtfAarch32 = 1;       // spec: AArch32 (LPAE) only
constexpr uint64_t kTtfAarch64 = 2;       // IDR0_TTF_AARCH64
constexpr uint64_t kTtfBoth = 3;          // IDR0_TTF_AARCH32_64
constexpr uint64_t kHttuAccess = 1;       // IDR0_HTTU_ACCESS
constexpr uint64_t kHttuAccessDirty = 2;  // IDR0_HTTU_ACCESS_DIRTY
constexpr uint64_t kStallBoth = 0;        // IDR0_STALL_MODEL_STALL: stall and terminate
constexpr uint64_t kStallTerminate = 1;   // spec: terminate only (no stall)
constexpr uint64_t kStallForce = 2;       // IDR0_STALL_MODEL_FORCE
constexpr uint64_t kVax52 = 1;            // IDR5_VAX_52_BIT
constexpr uint64_t kStLevel2 = 1;         // IDR0_ST_LVL_2LVL
constexpr int kMaxSsidBits = 20;          // spec: SSIDSIZE is at most 20 (PCIe PASID width)

struct Regs {
  std::array<std::optional<Reg>, 6> idr;
  std::optional<Reg> iidr;
  std::optional<Reg> aidr;
};

void set_flag(Normalized& n, std::optional<bool>& property, std::string_view name, bool value,
              const Facts& facts) {
  property = value;
  n.evidence.insert_or_assign(std::string(name), because(facts, true_false(value)));
}

void set_width(Normalized& n, std::optional<int>& property, std::string_view name, int width,
               const Facts& facts, std::string_view what = " bits") {
  property = width;
  n.evidence.insert_or_assign(std::string(name),
                              because(facts, std::to_string(width) + std::string(what)));
}

// Reserved encodings of multi-bit fields: warned, and the property they feed stays unknown.
void reserved_encodings(const Regs& r, Normalized& n) {
  if (const auto& idr0 = r.idr[0]) {
    if ((*idr0)["TTF"] == 0) warn(n, "idr0.TTF=0 is reserved (no translation table format)");
    if ((*idr0)["HTTU"] == 3)
      warn(n,
           "idr0.HTTU=3 (SMMUv3.4: access, dirty and table access flags) is not a value the "
           "kernel's arm_smmu_get_httu() knows: it enables no HTTU, so httu is none");
    if ((*idr0)["STALL_MODEL"] == 3) warn(n, "idr0.STALL_MODEL=3 is reserved, stall unknown");
    if ((*idr0)["TTENDIAN"] == 1) warn(n, "idr0.TTENDIAN=1 is reserved");
    if ((*idr0)["ST_LEVEL"] > kStLevel2)
      warn(n, "idr0.ST_LEVEL=" + std::to_string((*idr0)["ST_LEVEL"]) + " is reserved");
  }
  if (const auto& idr1 = r.idr[1]) {
    if ((*idr1)["SSIDSIZE"] > kMaxSsidBits)
      warn(n, "idr1.SSIDSIZE=" + std::to_string((*idr1)["SSIDSIZE"]) +
                  " is above the architecture's 20 bits, ssid_bits unknown");
  }
  if (const auto& idr5 = r.idr[5]) {
    if ((*idr5)["VAX"] > kVax52)
      warn(n, "idr5.VAX=" + std::to_string((*idr5)["VAX"]) + " is reserved, taken as 48-bit VA");
    if ((*idr5)["OAS"] == 7)
      warn(n, "idr5.OAS=7 is not a size the kernel knows: it truncates the output to 48 bits");
  }
}

// arm_smmu_device_hw_probe(): OAS 0..6 -> 32..52 bits, anything else -> 48 ("unknown output
// address size. Truncating to 48-bit"). The kernel's ias is max(oas, 40 if TTF is
// AArch32+AArch64): that is the "ias N-bit, oas N-bit" line it logs, and the stage-2 input size.
void widths(const Regs& r, Normalized& n) {
  std::optional<int> oas;
  if (const auto& idr5 = r.idr[5]) {
    oas = smmuv3_oas_bits(static_cast<uint32_t>((*idr5)["OAS"])).value_or(48);
    set_width(n, n.caps.output_bits, "output_bits", *oas, {idr5->show("OAS")});
  }
  if (const auto& idr0 = r.idr[0]) {
    set_width(n, n.caps.asid_bits, "asid_bits", idr0->on("ASID16") ? 16 : 8,
              {idr0->show("ASID16")});
    if (oas) {
      const int kernel_ias = std::max(oas.value(), (*idr0)["TTF"] == kTtfBoth ? 40 : 0);
      n.extra.insert_or_assign("kernel_ias", number(static_cast<uint64_t>(kernel_ias)));
    }
  }
  if (const auto& idr1 = r.idr[1]) {
    const uint64_t ssid = (*idr1)["SSIDSIZE"];
    if (ssid <= kMaxSsidBits) {
      // iommu.max_pasids = 1 << SSIDSIZE: SSIDSIZE is the PASID width; 0 means no substreams.
      set_width(n, n.caps.ssid_bits, "ssid_bits", static_cast<int>(ssid), {idr1->show("SSIDSIZE")},
                ssid == 0 ? " PASID bits (no substreams)" : " PASID bits");
      n.extra.insert_or_assign("max_pasids", number(uint64_t{1} << ssid));
    }
    n.extra.insert_or_assign("sid_bits", number((*idr1)["SIDSIZE"]));
    n.evidence.insert_or_assign(
        "sid_bits", because({idr1->show("SIDSIZE")}, std::to_string((*idr1)["SIDSIZE"]) + " bits"));
  }
  // The input address a DMA domain takes: the kernel's default domain is stage 1 when S1P
  // (48-bit VA, 52 with IDR5.VAX = 1; arm_smmu_domain_finalise() also caps it at the CPU's
  // VA_BITS, which the registers do not tell); a stage-2-only unit takes the kernel's ias.
  const auto& idr0 = r.idr[0];
  const auto& idr5 = r.idr[5];
  if (idr0 && idr5) {
    if (idr0->on("S1P")) {
      const int ias = (*idr5)["VAX"] == kVax52 ? 52 : 48;
      set_width(n, n.caps.input_bits, "input_bits", ias, {idr0->show("S1P"), idr5->show("VAX")},
                " bits (stage-1 VA)");
    } else if (idr0->on("S2P") && oas) {
      const int ias = std::max(oas.value(), (*idr0)["TTF"] == kTtfBoth ? 40 : 0);
      set_width(n, n.caps.input_bits, "input_bits", ias,
                {idr0->show("S1P"), idr0->show("S2P"), idr0->show("TTF"), idr5->show("OAS")},
                " bits (stage-2 IPA, the kernel's ias)");
    }
  }
}

void idr0_properties(const Reg& idr0, Normalized& n) {
  // arm_smmu_get_httu(): HTTU 2 sets ARM_SMMU_FEAT_HD and HA, 1 sets HA; 0 and 3 (defined by
  // SMMUv3.4, unknown to the kernel) set neither.
  const uint64_t httu = idr0["HTTU"];
  n.caps.httu = httu == kHttuAccessDirty ? Httu::kAccessDirty
                : httu == kHttuAccess    ? Httu::kAccess
                                         : Httu::kNone;
  n.evidence.insert_or_assign("httu", because({idr0.show("HTTU")}, to_string(*n.caps.httu)));
  // arm_smmu_dbm_capable(): dirty tracking (IOMMU_CAP_DIRTY_TRACKING, iommufd's
  // IOMMU_HW_CAP_DIRTY_TRACKING) needs ARM_SMMU_FEAT_HD and coherent table walks.
  set_flag(n, n.caps.dirty_tracking, "dirty_tracking",
           httu == kHttuAccessDirty && idr0.on("COHACC"), {idr0.show("HTTU"), idr0.show("COHACC")});
  const uint64_t stall = idr0["STALL_MODEL"];
  if (stall != 3) {
    // STALL_MODEL 0: stall and terminate (ARM_SMMU_FEAT_STALLS), 1: terminate only, 2: stall
    // forced (ARM_SMMU_FEAT_STALL_FORCE).
    n.caps.stall = stall == kStallForce  ? Stall::kForce
                   : stall == kStallBoth ? Stall::kEnabled
                                         : Stall::kDisabled;
    static_assert(kStallTerminate == 1);
    n.evidence.insert_or_assign("stall",
                                because({idr0.show("STALL_MODEL")}, to_string(*n.caps.stall)));
  }
  set_flag(n, n.caps.btm, "btm", idr0.on("BTM"), {idr0.show("BTM")});
  set_flag(n, n.caps.ats, "ats", idr0.on("ATS"), {idr0.show("ATS")});
  set_flag(n, n.caps.page_requests, "page_requests", idr0.on("PRI"), {idr0.show("PRI")});
  // ARM_SMMU_FEAT_NESTING: TRANS_S1 (S1P) and TRANS_S2 (S2P).
  set_flag(n, n.caps.nested, "nested", idr0.on("S1P") && idr0.on("S2P"),
           {idr0.show("S1P"), idr0.show("S2P")});

  // Page-table formats (io-pgtable): TTF 2 = AArch64 (lpae-64), 3 = AArch32 and AArch64,
  // 1 = AArch32 only (lpae-32; the kernel refuses such a unit: "AArch64 table format not
  // supported!").
  std::vector<std::string> formats;
  const uint64_t ttf = idr0["TTF"];
  if (ttf == kTtfAarch64 || ttf == kTtfBoth) formats.emplace_back("lpae-64");
  if (ttf == kTtfAarch32 || ttf == kTtfBoth) formats.emplace_back("lpae-32");
  if (ttf == kTtfAarch32)
    warn(n, "idr0.TTF=1: no AArch64 tables, the kernel driver refuses the unit");
  std::string listed;
  for (const std::string& f : formats) listed += (listed.empty() ? "" : ", ") + f;
  n.evidence.insert_or_assign("pgtable_formats",
                              because({idr0.show("TTF")}, listed.empty() ? "none" : listed));
  n.caps.pgtable_formats = std::move(formats);

  // Facts an accelerated vSMMU is checked against (check_rules_smmuv3.cc): extras, each with
  // its evidence.
  auto& x = n.extra;
  static constexpr std::string_view kEndian[] = {"mixed", "reserved", "little", "big"};
  x.insert_or_assign("tt_endian", Scalar{std::string(kEndian[idr0["TTENDIAN"]])});
  x.insert_or_assign("stream_table_levels", number(idr0["ST_LEVEL"] == kStLevel2 ? 2 : 1));
  n.evidence.insert_or_assign("tt_endian",
                              because({idr0.show("TTENDIAN")}, kEndian[idr0["TTENDIAN"]]));
  n.evidence.insert_or_assign(
      "stream_table_levels",
      because({idr0.show("ST_LEVEL")}, idr0["ST_LEVEL"] == kStLevel2 ? "2 levels" : "linear"));
  x.insert_or_assign("coherent_walks", flag(idr0.on("COHACC")));
  x.insert_or_assign("cd_2level", flag(idr0.on("CD2L")));
  x.insert_or_assign("stage1", flag(idr0.on("S1P")));
  x.insert_or_assign("stage2", flag(idr0.on("S2P")));
  x.insert_or_assign("vmid16", flag(idr0.on("VMID16")));
  x.insert_or_assign("msi", flag(idr0.on("MSI")));
  x.insert_or_assign("hyp", flag(idr0.on("HYP")));
  x.insert_or_assign("term_model_abort_only", flag(idr0.on("TERM_MODEL")));
}

// arm_smmu_device_iidr_probe() (arm-smmu-v3.c; arm-smmu-v3-common.c in newer trees): Arm
// errata turn features off by IIDR. MMU-600 (implementer 0x43b, product 0x483) before r2: no
// nesting (erratum 1209401). MMU-700 (0x487): no BTM (erratum 2812531) and, before r1p1, no
// nesting (errata 2268618, 2812531; older trees turn nesting off on every MMU-700).
constexpr uint64_t kImplementerArm = 0x43b;
constexpr uint64_t kProductMmu600 = 0x483;
constexpr uint64_t kProductMmu700 = 0x487;

void iidr_errata(const Reg& iidr, Normalized& n) {
  if (iidr["Implementer"] != kImplementerArm) return;
  const uint64_t product = iidr["ProductID"];
  const uint64_t variant = iidr["Variant"];
  const uint64_t revision = iidr["Revision"];
  const Facts facts = {iidr.show("Implementer"), iidr.show("ProductID"), iidr.show("Variant"),
                       iidr.show("Revision")};
  auto turn_off = [&](std::optional<bool>& property, const std::string& name,
                      std::string_view erratum) {
    if (property != true) return;
    property = false;
    n.evidence[name] += "; " + because(facts, "false (" + std::string(erratum) + ")");
  };
  if (product == kProductMmu600 && variant < 2) {
    turn_off(n.caps.nested, "nested", "Arm MMU-600 erratum 1209401");
  } else if (product == kProductMmu700) {
    turn_off(n.caps.btm, "btm", "Arm MMU-700 erratum 2812531");
    if (variant < 1 || (variant == 1 && revision < 1))
      turn_off(n.caps.nested, "nested", "Arm MMU-700 errata 2268618, 2812531");
  }
}

std::string granules(const Reg& idr5) {
  std::string out;
  for (auto [field, size] : {std::pair{"GRAN4K", "4K"}, {"GRAN16K", "16K"}, {"GRAN64K", "64K"}}) {
    if (idr5.on(field)) out += (out.empty() ? "" : ",") + std::string(size);
  }
  return out.empty() ? "none" : out;
}

void other_extras(const Regs& r, Normalized& n) {
  auto& x = n.extra;
  if (const auto& idr3 = r.idr[3]) {
    x.insert_or_assign("range_invalidation", flag(idr3->on("RIL")));
    n.evidence.insert_or_assign("range_invalidation",
                                because({idr3->show("RIL")}, true_false(idr3->on("RIL"))));
    x.insert_or_assign("bbml", number((*idr3)["BBML"]));
  }
  if (const auto& idr5 = r.idr[5]) {
    x.insert_or_assign("granules", Scalar{granules(*idr5)});
    n.evidence.insert_or_assign(
        "granules", because({idr5->show("GRAN4K"), idr5->show("GRAN16K"), idr5->show("GRAN64K")},
                            granules(*idr5)));
    x.insert_or_assign("va_bits", number((*idr5)["VAX"] == kVax52 ? 52 : 48));
    x.insert_or_assign("stall_max", number((*idr5)["STALL_MAX"]));
  }
  if (const auto& aidr = r.aidr) {
    x.insert_or_assign("arch_version", Scalar{std::to_string((*aidr)["ArchMajorRev"] + 3) + "." +
                                              std::to_string((*aidr)["ArchMinorRev"])});
  }
  if (const auto& iidr = r.iidr) {
    x.insert_or_assign("implementer", Scalar{format_hex((*iidr)["Implementer"])});
    x.insert_or_assign("product_id", Scalar{format_hex((*iidr)["ProductID"])});
  }
}

}  // namespace

const RegisterSpec& smmuv3_idr_spec(unsigned n) {
  if (n >= kIdrSpecs.size()) throw std::out_of_range("SMMU_IDR index above 5");
  return kIdrSpecs[n];
}
const RegisterSpec& smmuv3_iidr_spec() { return kIidrSpec; }
const RegisterSpec& smmuv3_aidr_spec() { return kAidrSpec; }

std::optional<int> smmuv3_oas_bits(uint32_t oas) {
  static constexpr int kBits[] = {32, 36, 40, 42, 44, 48, 52};
  if (oas >= std::size(kBits)) return std::nullopt;
  return kBits[oas];
}

Normalized normalize_smmuv3(const std::array<const Register*, 6>& idr, const Register* iidr,
                            const Register* aidr) {
  Normalized n;
  Regs r;
  static constexpr std::string_view kPrefix[] = {"idr0", "idr1", "idr2", "idr3", "idr4", "idr5"};
  for (unsigned i = 0; i < 6; ++i) r.idr[i] = view(kPrefix[i], kIdrSpecs[i], idr[i]);
  r.iidr = view("iidr", kIidrSpec, iidr);
  r.aidr = view("aidr", kAidrSpec, aidr);
  reserved_encodings(r, n);
  widths(r, n);
  if (r.idr[0]) idr0_properties(*r.idr[0], n);
  if (r.iidr) iidr_errata(*r.iidr, n);
  other_extras(r, n);
  return n;
}

Smmuv3Decoded decode_smmuv3(const std::array<uint32_t, 6>& idr, uint32_t iidr, uint32_t aidr) {
  Smmuv3Decoded d;
  d.registers.reserve(kSmmuv3RegisterFiles.size());
  for (unsigned i = 0; i < 6; ++i) {
    d.registers.push_back(
        RegisterFile{std::string(kSmmuv3RegisterFiles[i]), decode(kIdrSpecs[i], idr[i]), {}, {}});
  }
  d.registers.push_back(RegisterFile{"iidr", decode(kIidrSpec, iidr), {}, {}});
  d.registers.push_back(RegisterFile{"aidr", decode(kAidrSpec, aidr), {}, {}});
  std::array<const Register*, 6> idrs{};
  for (unsigned i = 0; i < 6; ++i) idrs[i] = &d.registers[i].main;
  d.normalized = normalize_smmuv3(idrs, &d.registers[6].main, &d.registers[7].main);
  return d;
}

Smmuv3Decoded decode_smmuv3(const Smmuv3HwInfo& info) {
  Smmuv3Decoded d = decode_smmuv3(info.idr, info.iidr, info.aidr);
  // IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI (1 << 0): the unit needs every TLBI/CFGI
  // command issued twice (include/uapi/linux/iommufd.h, newest trees).
  constexpr uint32_t kRepeatTlbiCfgi = 1u << 0;
  d.normalized.extra.insert_or_assign("errata_repeat_tlbi_cfgi",
                                      flag((info.flags & kRepeatTlbiCfgi) != 0));
  if ((info.flags & ~kRepeatTlbiCfgi) != 0)
    warn(d.normalized, "iommu_hw_info_arm_smmuv3.flags=" + format_hex(info.flags) +
                           " has bits this decoder does not know");
  if (info.reserved != 0)
    warn(d.normalized,
         "iommu_hw_info_arm_smmuv3.__reserved=" + format_hex(info.reserved) + " is not 0");
  return d;
}

}  // namespace caps
