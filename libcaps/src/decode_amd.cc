// AMD-Vi CAP_HDR/EFR/EFR2 field tables, the amd-iommu/features parser and the AMD normalizer.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "libcaps/decode.h"
#include "libcaps/parse.h"
#include "normalize_util.h"

namespace caps {
namespace {

using namespace normalize;  // NOLINT(google-build-using-namespace): private helpers

// The PCI capability header dword (kernel-abi.md 3.1). Bit names agree with QEMU
// hw/i386/amd_iommu.h (AMDVI_CAPAB_FLAG_IOTLBSUP 24, _HTTUNNEL 25, _NPCACHE 26, AMDVI_CAPAB_EFR_SUP
// 27, AMDVI_CAPAB_FLAT_EXT 28) and the kernel's IOMMU_CAP_IOTLB/NPCACHE/EFR.
constexpr FieldSpec kCapFields[] = {
    {"CapID", 0, 7},     {"CapPtr", 8, 15},    {"CapType", 16, 18},
    {"CapRev", 19, 23},  {"IotlbSup", 24, 24}, {"HtTunnel", 25, 25},
    {"NpCache", 26, 26}, {"EFRSup", 27, 27},   {"CapExt", 28, 28},
};
constexpr uint64_t kCapReserved = bits(63, 29);

// kernel-abi.md 3.2, checked against drivers/iommu/amd/amd_iommu_types.h (FEATURE_*) and
// MsiCapMmioSup (IOMMU_EFR_MSICAPMMIOSUP_SHIFT 46). The fields Linux does not name (GAPPISup,
// SmiF*, DualPprLog/DualEventLog, SATSSup, USSup, DevTblSegSup, PprOvrflwEarly, PPRAutoRsp,
// Marc, BlkStopMrk, PerfOpt, AttrFW, InvIotlbType, vIommu, GAUpdateDis, ForcePhyDest) follow the
// AMD IOMMU spec layout as three independent public decoders agree on it: FreeBSD bhyve's
// ivhd_print_ext_feature (sys/amd64/vmm/amd/ivhd_drv.c), Xen's union amd_iommu_ext_features
// (amd-iommu-defs.h) and a hypervisor's IOMMU_MMIO_EXT_FEAT_REGISTER bitfield. Real parts set
// these bits (Zen 2/3 sets DevTblSegSup, MarcSup, vIommuSup...), so leaving them "reserved"
// would misreport the hardware. The kernel prints bit 5 by number ("[5]"); the spec calls it
// GAPPISup. GAMSup is [23:21] (the kernel tests only bit 21, FEATURE_GAM_VAPIC).
constexpr FieldSpec kEfrFields[] = {
    {"PreFSup", 0, 0},
    {"PPRSup", 1, 1},
    {"XTSup", 2, 2},
    {"NXSup", 3, 3},
    {"GTSup", 4, 4},
    {"GAPPISup", 5, 5},
    {"IASup", 6, 6},
    {"GASup", 7, 7},
    {"HESup", 8, 8},
    {"PCSup", 9, 9},
    {"HATS", 10, 11},
    {"GATS", 12, 13},
    {"GLXSup", 14, 15},
    {"SmiFSup", 16, 17},
    {"SmiFRC", 18, 20},
    {"GAMSup", 21, 23},
    {"DualPprLogSup", 24, 25},
    {"DualEventLogSup", 28, 29},
    {"SATSSup", 31, 31},
    {"PASmax", 32, 36},
    {"USSup", 37, 37},
    {"DevTblSegSup", 38, 39},
    {"PprOvrflwEarlySup", 40, 40},
    {"PPRAutoRspSup", 41, 41},
    {"MarcSup", 42, 43},
    {"BlkStopMrkSup", 44, 44},
    {"PerfOptSup", 45, 45},
    {"MsiCapMmioSup", 46, 46},
    {"GIOSup", 48, 48},
    {"HASup", 49, 49},
    {"EPHSup", 50, 50},
    {"AttrFWSup", 51, 51},
    {"HDSup", 52, 52},
    {"InvIotlbTypeSup", 54, 54},
    {"vIommuSup", 55, 55},
    {"GAUpdateDisSup", 61, 61},
    {"ForcePhyDestSup", 62, 62},
    {"SNPSup", 63, 63},
};
constexpr uint64_t kEfrReserved =
    bits(27, 26) | bits(30, 30) | bits(47, 47) | bits(53, 53) | bits(60, 56);

// kernel-abi.md 3.3 and amd_iommu_types.h "Extended Feature 2 Bits" (FEATURE_SEVSNPIO_SUP,
// FEATURE_GCR3TRPMODE, FEATURE_GAPPIDISSUP, FEATURE_SNPAVICSUP). Bits 0 and 2 are named by no
// source read, so they are reserved even though real Zen 4 parts set them (EFR2 0x1d).
constexpr FieldSpec kEfr2Fields[] = {
    {"SEVSNPIOSup", 1, 1},
    {"GCR3TRPMode", 3, 3},
    {"GAPPIDisSup", 4, 4},
    {"SNPAVICSup", 5, 7},
};
constexpr uint64_t kEfr2Reserved = bits(0, 0) | bits(2, 2) | bits(63, 8);

// EFR2 defines nothing above bit 7 (kEfr2Fields); what parse_amd_features relies on.
constexpr uint64_t kEfr2Defined = bits(7, 0);

constexpr RegisterSpec kCapSpec{"CAP_HDR", kCapFields, kCapReserved};
constexpr RegisterSpec kEfrSpec{"EFR", kEfrFields, kEfrReserved};
constexpr RegisterSpec kEfr2Spec{"EFR2", kEfr2Fields, kEfr2Reserved};

// HATS = 3 is reserved: the kernel then disables host (v1) translation.
constexpr uint64_t kHatsReserved = 3;
// The driver only handles 16-bit PASIDs (PASID_MASK 0xffff) and BUG_ONs above.
constexpr uint64_t kMaxKernelPasmax = 15;
// GATS = 1 (GUEST_PGTABLE_5_LEVEL) is the only value that gives the kernel 5-level v2 tables.
constexpr uint64_t kGats5Level = 1;

void set_flag(Normalized& n, std::optional<bool>& property, std::string_view name, bool value,
              const Facts& facts) {
  property = value;
  n.evidence[std::string(name)] = because(facts, true_false(value));
}

// Host (v1) table width: hpt_level = HATS + 4 levels of 9 bits over a 4 KiB page.
void input_bits(const Reg& efr, Normalized& n) {
  const uint64_t hats = efr["HATS"];
  if (hats == kHatsReserved) {
    warn(n, "efr.HATS=3 is reserved (host translation disabled), input_bits unknown");
    return;
  }
  const int levels = static_cast<int>(hats) + 4;
  const int width = std::min(12 + 9 * levels, 64);
  n.caps.input_bits = width;
  n.evidence["input_bits"] = because(
      {efr.show("HATS")}, std::to_string(levels) + " levels, " + std::to_string(width) + " bits");
}

void ssid_bits(const Reg& efr, Normalized& n) {
  if (!efr.on("GTSup")) {
    n.caps.ssid_bits = 0;
    n.evidence["ssid_bits"] = because({efr.show("GTSup")}, "0 PASID bits");
    return;
  }
  const uint64_t pasmax = efr["PASmax"];
  if (pasmax > kMaxKernelPasmax) {
    warn(n, "efr.PASmax=" + std::to_string(pasmax) +
                " exceeds the 16 PASID bits the kernel driver handles (it stops with BUG_ON)");
  }
  const int width = static_cast<int>(pasmax) + 1;
  n.caps.ssid_bits = width;
  n.evidence["ssid_bits"] =
      because({efr.show("PASmax"), efr.show("GTSup")}, std::to_string(width) + " PASID bits");
}

void httu(const Reg& efr, Normalized& n) {
  Httu h = Httu::kNone;
  if (efr.on("HASup")) h = efr.on("HDSup") ? Httu::kAccessDirty : Httu::kAccess;
  n.caps.httu = h;
  n.evidence["httu"] = because({efr.show("HASup"), efr.show("HDSup")}, to_string(h));
}

void pgtable_formats(const Reg& efr, Normalized& n) {
  std::vector<std::string> formats;
  Facts facts = {efr.show("HATS"), efr.show("GTSup")};
  if (efr["HATS"] != kHatsReserved) {
    formats.push_back("amd-v1-" + std::to_string(efr["HATS"] + 4) + "L");
  }
  if (efr.on("GTSup")) {
    facts.push_back(efr.show("GATS"));
    formats.emplace_back("amd-v2-4L");
    if (efr["GATS"] == kGats5Level) formats.emplace_back("amd-v2-5L");
  }
  n.evidence["pgtable_formats"] = because(facts, formats.empty() ? "none" : join(formats));
  n.caps.pgtable_formats = std::move(formats);
}

// Nest parents need GT, GIOSup and EFR2.GCR3TRPMode (amd/iommufd.c is_nest_parent_supported).
// Without EFR2 the answer is unknown unless EFR already rules nesting out.
void nested(const Reg& efr, const std::optional<Reg>& efr2, Normalized& n) {
  const Facts facts = {efr.show("GTSup"), efr.show("GIOSup")};
  if (!efr.on("GTSup") || !efr.on("GIOSup")) {
    set_flag(n, n.caps.nested, "nested", false, facts);
    return;
  }
  if (!efr2) return;
  set_flag(n, n.caps.nested, "nested", efr2->on("GCR3TRPMode"),
           {facts[0], facts[1], efr2->show("GCR3TRPMode")});
}

void efr_properties(const Reg& efr, const std::optional<Reg>& efr2, Normalized& n) {
  input_bits(efr, n);
  ssid_bits(efr, n);
  httu(efr, n);
  pgtable_formats(efr, n);
  nested(efr, efr2, n);
  set_flag(n, n.caps.page_requests, "page_requests", efr.on("PPRSup"), {efr.show("PPRSup")});
  set_flag(n, n.caps.dirty_tracking, "dirty_tracking", efr.on("HDSup"), {efr.show("HDSup")});
}

void cap_extras(const Reg& cap, Normalized& n) {
  n.extra["np_cache"] = flag(cap.on("NpCache"));
  n.extra["ht_tunnel"] = flag(cap.on("HtTunnel"));
  n.extra["efr_supported"] = flag(cap.on("EFRSup"));
}

void efr_extras(const Reg& efr, Normalized& n) {
  auto& x = n.extra;
  x["prefetch"] = flag(efr.on("PreFSup"));
  x["x2apic"] = flag(efr.on("XTSup"));
  x["no_execute"] = flag(efr.on("NXSup"));
  x["guest_translation"] = flag(efr.on("GTSup"));
  x["invalidate_all"] = flag(efr.on("IASup"));
  x["guest_apic"] = flag(efr.on("GASup"));
  x["hardware_error_registers"] = flag(efr.on("HESup"));
  x["performance_counters"] = flag(efr.on("PCSup"));
  x["guest_5level"] = flag(efr["GATS"] == kGats5Level);
  x["glx_levels"] = number(efr["GLXSup"] + 1);
  // FEATURE_GAM_VAPIC is bit 21 alone, the low bit of GAMSup; dmesg prints it as GA_vAPIC.
  x["guest_vapic"] = flag((efr["GAMSup"] & 1) != 0);
  x["msi_cap_mmio"] = flag(efr.on("MsiCapMmioSup"));
  x["guest_io_protection"] = flag(efr.on("GIOSup"));
  x["enhanced_ppr"] = flag(efr.on("EPHSup"));
  x["snp"] = flag(efr.on("SNPSup"));
  // init.c: amd_iommu_max_pasid = (1 << (PASmax + 1)) - 1, used only with GT.
  if (efr.on("GTSup")) x["max_pasids"] = number((uint64_t{1} << (efr["PASmax"] + 1)) - 1);
}

void efr2_extras(const Reg& efr2, Normalized& n) {
  n.extra["sev_tio"] = flag(efr2.on("SEVSNPIOSup"));
  n.extra["gcr3_trp_mode"] = flag(efr2.on("GCR3TRPMode"));
  n.extra["gappi_disable"] = flag(efr2.on("GAPPIDisSup"));
  n.extra["snp_avic"] = number(efr2["SNPAVICSup"]);
}

// Which side of a two-value features file is EFR; see parse_amd_features.
enum class Order { kEfrFirst, kEfr2First };

bool can_be_efr2(uint64_t v) { return (v & ~kEfr2Defined) == 0; }

}  // namespace

const RegisterSpec& amd_cap_spec() { return kCapSpec; }
const RegisterSpec& amd_efr_spec() { return kEfrSpec; }
const RegisterSpec& amd_efr2_spec() { return kEfr2Spec; }

Normalized normalize_amd(const Register* cap_reg, const Register* efr_reg,
                         const Register* efr2_reg) {
  Normalized n;
  const std::optional<Reg> cap = view("cap", kCapSpec, cap_reg);
  std::optional<Reg> efr = view("efr", kEfrSpec, efr_reg);
  std::optional<Reg> efr2 = view("efr2", kEfr2Spec, efr2_reg);

  // DomainID is a 16-bit DTE field on every AMD-Vi (MAX_DOMAIN_ID 65536): no register says it.
  n.caps.asid_bits = 16;
  n.evidence["asid_bits"] = "DTE.DomainID[15:0] -> 16 bits";

  if (cap) {
    set_flag(n, n.caps.ats, "ats", cap->on("IotlbSup"), {cap->show("IotlbSup")});
    cap_extras(*cap, n);
  }
  // The kernel reads MMIO EFR/EFR2 only when the header says EFRSup; otherwise what the file
  // shows is 0 or a firmware (IVHD) copy this tool cannot check, so nothing is derived from it.
  if (cap && !cap->on("EFRSup") && (efr || efr2)) {
    const std::string what = efr ? "features " + format_hex(efr->reg.raw) : "EFR2";
    warn(n, "cap.EFRSup=0: the kernel does not read EFR, " + what + " ignored");
    efr.reset();
    efr2.reset();
  }
  if (efr) {
    efr_properties(*efr, efr2, n);
    efr_extras(*efr, n);
  }
  if (efr2) efr2_extras(*efr2, n);
  return n;
}

// The file is "EFR" (oldest kernels), "EFR2:EFR" (SNP era, per IOMMU) or "EFR:EFR2" (current
// mainline, system-wide AND), and nothing in the text says which two-value order it is. EFR2
// defines only bits [7:0], while a real EFR always has feature bits above bit 7 (HATS, GATS,
// GLX, PASmax, ...), so:
//   1. a value with any bit above 7 cannot be EFR2: if exactly one side has such bits, it is
//      EFR (both having them is an error: neither can be EFR2);
//   2. else (both fit in 8 bits) if one side is 0 and the other not, the non-zero side is EFR,
//      since an IOMMU with EFRSup has some EFR feature: a weak rule, so it warns;
//   3. else if both are equal the order does not change the values (an IOMMU without EFRSup
//      prints "0:0"): accepted with a warning, format "EFR:EFR2";
//   4. else the order cannot be told: an error naming both values.
Result<AmdFeatures> parse_amd_features(std::string_view text) {
  const std::string_view line = trim_newlines(text);
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    auto efr = parse_hex(line);
    if (!efr) return make_error("", "bad features value: " + efr.error().message);
    return AmdFeatures{*efr, std::nullopt, "EFR", {}};
  }
  if (line.find(':', colon + 1) != std::string_view::npos) {
    return make_error("", "features " + quote(line) + " has more than two ':'-separated values");
  }
  auto first = parse_hex(line.substr(0, colon));
  if (!first) return make_error("", "bad first features value: " + first.error().message);
  auto second = parse_hex(line.substr(colon + 1));
  if (!second) return make_error("", "bad second features value: " + second.error().message);

  const uint64_t a = *first;
  const uint64_t b = *second;
  const std::string pair = format_hex(a) + " and " + format_hex(b);
  Diagnostics diagnostics;
  Order order = Order::kEfrFirst;
  if (!can_be_efr2(a) && !can_be_efr2(b)) {
    return make_error("", "features " + quote(line) + ": neither of " + pair +
                              " can be EFR2 (both have bits above bit 7)");
  }
  if (!can_be_efr2(a) || !can_be_efr2(b)) {
    order = can_be_efr2(a) ? Order::kEfr2First : Order::kEfrFirst;
  } else if ((a == 0) != (b == 0)) {
    order = a == 0 ? Order::kEfr2First : Order::kEfrFirst;
    diagnostics.push_back(
        Diagnostic{"", Severity::kWarning,
                   "features order guessed: of " + pair + " the non-zero value is taken as EFR"});
  } else if (a == b) {
    diagnostics.push_back(Diagnostic{
        "", Severity::kWarning,
        "features order unknown: both values are " + format_hex(a) + ", read as EFR:EFR2"});
  } else {
    return make_error("", "features " + quote(line) + ": cannot tell EFR from EFR2 in " + pair +
                              " (both fit EFR2's bits [7:0])");
  }
  if (order == Order::kEfr2First) return AmdFeatures{b, a, "EFR2:EFR", std::move(diagnostics)};
  return AmdFeatures{a, b, "EFR:EFR2", std::move(diagnostics)};
}

}  // namespace caps
