// SPDX-License-Identifier: MIT
// AMD-Vi CAP_HDR/EFR/EFR2 field tables, the amd-iommu/features parser and the AMD normalizer.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "libcaps/caps_properties.h"
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

// amd_iommu_types.h "Extended Feature 2 Bits" (docs/registers.md names the tree and commit):
// FEATURE_SEVSNPIO_SUP, FEATURE_GCR3TRPMODE, FEATURE_SNPAVICSUP, FEATURE_NUM_INT_REMAP_SUP
// and FEATURE_HT_RANGE_IGNORE; GAPPIDisSup (bit 4) is FEATURE_GAPPIDISSUP from the posted
// GAPPI patches. Bits 0 and 2 are named by no source read, so they are reserved even though
// real Zen 4 parts set them (EFR2 0x1d).
constexpr FieldSpec kEfr2Fields[] = {
    {"SEVSNPIOSup", 1, 1}, {"GCR3TRPMode", 3, 3},    {"GAPPIDisSup", 4, 4},
    {"SNPAVICSup", 5, 7},  {"NumIntRemapSup", 8, 9}, {"HTRangeIgnore", 11, 11},
};
constexpr uint64_t kEfr2Reserved = bits(0, 0) | bits(2, 2) | bits(10, 10) | bits(63, 12);

constexpr RegisterSpec kCapSpec{"CAP_HDR", kCapFields, kCapReserved};
constexpr RegisterSpec kEfrSpec{"EFR", kEfrFields, kEfrReserved};
constexpr RegisterSpec kEfr2Spec{"EFR2", kEfr2Fields, kEfr2Reserved};

// HATS = 3 is reserved: the kernel then disables host (v1) translation.
constexpr uint64_t kHatsReserved = 3;
// The driver only handles 16-bit PASIDs (PASID_MASK 0xffff) and BUG_ONs above.
constexpr uint64_t kMaxKernelPasmax = 15;
// GATS = 1 (GUEST_PGTABLE_5_LEVEL) is the only value that gives the kernel 5-level v2 tables;
// 0 is GUEST_PGTABLE_4_LEVEL and 2, 3 are reserved (QEMU's emulated amd-iommu sets 2). The
// kernel tests GATS == 1 alone, so a reserved value means 4-level tables to it.
constexpr uint64_t kGats5Level = 1;
constexpr uint64_t kGatsFirstReserved = 2;
// EFR2.NumIntRemapSup: 0 = 512 IRTEs per device, 1 = 2048 (FEATURE_NUM_INT_REMAP_SUP_2K);
// 2 and 3 are reserved, and the kernel then stays at 512.
constexpr uint64_t kNumIntRemap2k = 1;
constexpr uint64_t kNumIntRemapFirstReserved = 2;

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

// HATS = 3 is reported by input_bits, which it leaves unknown.
void reserved_encodings(const Reg& efr, Normalized& n) {
  const uint64_t gats = efr["GATS"];
  if (gats >= kGatsFirstReserved) {
    warn(n, "efr.GATS=" + std::to_string(gats) +
                " is a reserved encoding (0 = 4-level, 1 = 5-level guest tables); the kernel "
                "then uses 4-level guest tables");
  }
}

void efr_properties(const Reg& efr, const std::optional<Reg>& efr2, Normalized& n) {
  reserved_encodings(efr, n);
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
  // iommu.c: without it the kernel reserves the HyperTransport range below 1 TiB in every
  // domain's IOVA space.
  n.extra["ht_range_ignore"] = flag(efr2.on("HTRangeIgnore"));
  const uint64_t num_int = efr2["NumIntRemapSup"];
  if (num_int >= kNumIntRemapFirstReserved) {
    warn(n, "efr2.NumIntRemapSup=" + std::to_string(num_int) +
                " is a reserved encoding (0 = 512, 1 = 2048 interrupt remapping entries); the "
                "kernel then uses 512");
  }
  n.extra["interrupt_remap_entries"] = number(num_int == kNumIntRemap2k ? 2048 : 512);
}

// Which side of a two-value features file is EFR; see parse_amd_features.
enum class Order { kEfrFirst, kEfr2First, kUnknown };

// Every EFR seen, real or emulated, has a bit in the high dword (PASmax, GIOSup, HASup, HDSup,
// SNPSup...) except QEMU's 0x29d3; the newest EFR2 bit any kernel names is bit 11.
bool has_high_dword(uint64_t v) { return (v >> 32) != 0; }

// Sets no bit that the newest kernel leaves undefined in EFR2.
bool fits_efr2(uint64_t v) { return (v & kEfr2Reserved) == 0; }

// Keeps `property` only where both readings give the same value (joining their evidence when
// it differs); otherwise it becomes unknown rather than take one reading's word.
template <typename T>
void keep_agreed(std::optional<T> Caps::*property, std::string_view name, const Normalized& other,
                 Normalized& n) {
  const std::string key(name);
  if (n.caps.*property == other.caps.*property) {
    auto mine = n.evidence.find(key);
    auto theirs = other.evidence.find(key);
    if (mine != n.evidence.end() && theirs != other.evidence.end() &&
        mine->second != theirs->second) {
      mine->second = "as EFR:EFR2 " + mine->second + "; as EFR2:EFR " + theirs->second;
    }
    return;
  }
  (n.caps.*property).reset();
  n.evidence.erase(key);
}

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
    const std::string what = efr ? "features " + format_hex(efr->raw) : "EFR2";
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

Normalized normalize_amd_either_order(const Register* cap, const Register& first,
                                      const Register& second) {
  const Register first_as_efr2 = decode(kEfr2Spec, first.raw);
  const Register second_as_efr = decode(kEfrSpec, second.raw);
  Normalized n = normalize_amd(cap, &first, &second);
  const Normalized other = normalize_amd(cap, &second_as_efr, &first_as_efr2);
  // Every normalized property: one the two readings disagree on is unknown.
  for_each_caps_property(
      [&](const auto& property) { keep_agreed(property.member, property.name, other, n); });
  std::erase_if(n.extra, [&other](const auto& kv) {
    auto it = other.extra.find(kv.first);
    return it == other.extra.end() || it->second != kv.second;
  });
  // A warning one reading alone raises (say GATS=2) is kept, naming that reading.
  Diagnostics diagnostics;
  auto in = [](const Diagnostics& list, const Diagnostic& d) {
    return std::find(list.begin(), list.end(), d) != list.end();
  };
  for (const Diagnostic& d : n.diagnostics) {
    diagnostics.push_back(
        in(other.diagnostics, d) ? d : Diagnostic{d.path, d.severity, "as EFR:EFR2: " + d.message});
  }
  for (const Diagnostic& d : other.diagnostics) {
    if (!in(n.diagnostics, d)) {
      diagnostics.push_back(Diagnostic{d.path, d.severity, "as EFR2:EFR: " + d.message});
    }
  }
  n.diagnostics = std::move(diagnostics);
  return n;
}

// The file is "EFR" (oldest kernels), "EFR2:EFR" (SNP era, per IOMMU) or "EFR:EFR2" (current
// mainline, system-wide AND), and nothing in the text says which two-value order it is. The
// rules, strongest first, each deciding only when exactly one side passes its test:
//   1. the side with a bit in the high dword is EFR: every real EFR has one (PASmax, GIOSup,
//      HASup, SNPSup...), and no kernel defines an EFR2 bit above 11;
//   2. the side with a bit the newest kernel leaves undefined in EFR2 is EFR, the other being
//      a well-formed EFR2 (QEMU's 0x29d3 has bits 0 and 13; its EFR2 is 0 or 0x100);
//   3. equal values read the same either way (an IOMMU without EFRSup prints "0:0"): a
//      warning, format "EFR:EFR2";
//   4. of a zero and a non-zero value that both fit EFR2, the non-zero one is EFR: a weak
//      rule, so it warns;
//   5. otherwise the order is unknown: a warning and format "ambiguous"; the values are kept
//      in file order (first as EFR) and normalize_amd_either_order keeps only the facts both
//      readings give. A value is never refused for bits this code does not know: those are
//      reported as reserved.
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
  auto warn_order = [&diagnostics](std::string message) {
    diagnostics.push_back(Diagnostic{"", Severity::kWarning, std::move(message)});
  };
  Order order = Order::kUnknown;
  if (a == b) {
    order = Order::kEfrFirst;
    warn_order("features order unknown: both values are " + format_hex(a) + ", read as EFR:EFR2");
  } else if (has_high_dword(a) != has_high_dword(b)) {
    order = has_high_dword(a) ? Order::kEfrFirst : Order::kEfr2First;
  } else if (fits_efr2(a) != fits_efr2(b)) {
    order = fits_efr2(a) ? Order::kEfr2First : Order::kEfrFirst;
  } else if (fits_efr2(a) && (a == 0) != (b == 0)) {
    order = a == 0 ? Order::kEfr2First : Order::kEfrFirst;
    warn_order("features order guessed: of " + pair + " the non-zero value is taken as EFR");
  } else {
    warn_order("features order unknown: either of " + pair +
               " could be EFR; only what both readings agree on is used");
  }
  if (order == Order::kEfr2First) return AmdFeatures{b, a, "EFR2:EFR", std::move(diagnostics)};
  const std::string_view format =
      order == Order::kUnknown ? kAmdFeaturesAmbiguous : std::string_view("EFR:EFR2");
  return AmdFeatures{a, b, std::string(format), std::move(diagnostics)};
}

}  // namespace caps
