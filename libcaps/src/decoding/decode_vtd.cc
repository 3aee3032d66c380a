// SPDX-License-Identifier: MIT
// Intel VT-d CAP_REG/ECAP_REG field tables and the VT-d normalizer (capability-model.md 2).
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

// kernel-abi.md 2.1 (drivers/iommu/intel/iommu.h cap_* macros), in bit order.
constexpr FieldSpec kCapFields[] = {
    {"ND", 0, 2},      {"AFL", 3, 3},       {"RWBF", 4, 4},     {"PLMR", 5, 5},  {"PHMR", 6, 6},
    {"CM", 7, 7},      {"SAGAW", 8, 12},    {"MGAW", 16, 21},   {"ZLR", 22, 22}, {"ISOCH", 23, 23},
    {"FRO", 24, 33},   {"SLLPS", 34, 37},   {"PSI", 39, 39},    {"NFR", 40, 47}, {"MAMV", 48, 53},
    {"DWD", 54, 54},   {"DRD", 55, 55},     {"FL1GP", 56, 56},  {"PI", 59, 59},  {"FL5LP", 60, 60},
    {"ECMDS", 61, 61}, {"ESIRTPS", 62, 62}, {"ESRTPS", 63, 63},
};
constexpr uint64_t kCapReserved = bits(15, 13) | bits(38, 38) | bits(58, 57);

// iommu.h ecap_* macros (docs/registers.md names the tree and commit checked); ADMS/RPRIVS
// from the VirtualBox VT-d header.
//
// Bits 27 and 28 are reserved in VT-d 3.x but the kernel still names them: ecap_dis (DIS,
// VT-d 2.x deferred invalidate) and ecap_broken_pasid (BROKEN_PASID, the VT-d 2.x PASID bit the
// kernel takes as a mark of unusable legacy PASID hardware). Real 2.x-era units set them (ecap
// 19e2ff0505e has 27), so they are decoded under the kernel's names. Bits 24 (was ECS) and 32
// are named by no current header and stay reserved; VCS (44) left the kernel header but is
// kept, as VT-d 3.x defines it.
constexpr FieldSpec kEcapFields[] = {
    {"C", 0, 0},
    {"QI", 1, 1},
    {"DT", 2, 2},
    {"IR", 3, 3},
    {"EIM", 4, 4},
    {"PT", 6, 6},
    {"SC", 7, 7},
    {"IRO", 8, 17},
    {"MHMV", 20, 23},
    {"MTS", 25, 25},
    {"NEST", 26, 26},
    {"DIS", 27, 27},
    {"BROKEN_PASID", 28, 28},
    {"PRS", 29, 29},
    {"ERS", 30, 30},
    {"SRS", 31, 31},
    {"NWFS", 33, 33},
    {"EAFS", 34, 34},
    {"PSS", 35, 39},
    {"PASID", 40, 40},
    {"DIT", 41, 41},
    {"PDS", 42, 42},
    {"SMTS", 43, 43},
    {"VCS", 44, 44},
    {"SLADS", 45, 45},
    {"SLTS", 46, 46},
    {"FLTS", 47, 47},
    {"SMPWC", 48, 48},
    {"RPS", 49, 49},
    {"PMS", 51, 51},
    {"ADMS", 52, 52},
    {"RPRIVS", 53, 53},
};
constexpr uint64_t kEcapReserved =
    bits(5, 5) | bits(19, 18) | bits(24, 24) | bits(32, 32) | bits(50, 50) | bits(63, 54);

constexpr RegisterSpec kCapSpec{"CAP_REG", kCapFields, kCapReserved};
constexpr RegisterSpec kEcapSpec{"ECAP_REG", kEcapFields, kEcapReserved};

// SAGAW bit index == agaw; the kernel looks no higher than width_to_agaw(57) = 3.
constexpr int kMaxAgaw = 3;

// ND = 7 is reserved: the domain-id width would be 18 bits, which the spec does not define.
constexpr uint64_t kNdReserved = 7;

// SAGAW bits 0 (2-level, 30-bit) and 4 (6-level, 64-bit) are reserved in VT-d 3.x. The kernel
// still takes agaw 0 when nothing wider is set, and never looks at bit 4.
constexpr uint64_t kSagawReserved = (uint64_t{1} << 0) | (uint64_t{1} << 4);

void reserved_encodings(const Reg& cap, Normalized& n) {
  const uint64_t sagaw = cap["SAGAW"];
  if ((sagaw & kSagawReserved) != 0) {
    warn(n, "cap.SAGAW=" + format_hex(sagaw) +
                " sets reserved bits (bit 0 = 2-level, bit 4 = 6-level tables)");
  }
}

// The kernel's domain width: __iommu_calculate_sagaw picks the AGAW set by translation mode
// (first stage exists only with scalable mode and FLTS), then the highest agaw <= 3 present,
// clamped to MGAW (kernel-abi.md 2.4).
void input_bits(const Reg& cap, const std::optional<Reg>& ecap, Normalized& n) {
  const uint64_t sl = cap["SAGAW"];
  const uint64_t fl = (uint64_t{1} << 2) | (cap.on("FL5LP") ? uint64_t{1} << 3 : 0);
  uint64_t sagaw = sl;
  Facts facts;
  if (!ecap) {
    facts = {cap.show("SAGAW"), cap.show("MGAW"), "no ecap, second stage only"};
  } else if (!ecap->on("SMTS") || !ecap->on("FLTS")) {
    facts = {cap.show("SAGAW"), cap.show("MGAW"), ecap->show("SMTS")};
    if (ecap->on("SMTS")) facts.push_back(ecap->show("FLTS"));
  } else if (!ecap->on("SLTS")) {
    sagaw = fl;
    facts = {cap.show("FL5LP"), cap.show("MGAW"), ecap->show("SMTS"), ecap->show("FLTS"),
             ecap->show("SLTS")};
  } else {
    sagaw = fl & sl;
    facts = {cap.show("SAGAW"),  cap.show("FL5LP"),  cap.show("MGAW"),
             ecap->show("SMTS"), ecap->show("FLTS"), ecap->show("SLTS")};
  }
  int agaw = kMaxAgaw;
  while (agaw >= 0 && (sagaw & (uint64_t{1} << agaw)) == 0) --agaw;
  if (agaw < 0) {
    warn(n, "no usable agaw: effective SAGAW " + format_hex(sagaw) + " from " + join(facts) +
                " has none of bits 0-3, input_bits unknown");
    return;
  }
  const int width = std::min(30 + 9 * agaw, static_cast<int>(cap["MGAW"]) + 1);
  n.caps.input_bits = width;
  n.evidence.insert_or_assign("input_bits", because(facts, std::to_string(width) + " bits"));
}

void asid_bits(const Reg& cap, Normalized& n) {
  const uint64_t nd = cap["ND"];
  if (nd == kNdReserved) {
    warn(n, "cap.ND=7 is reserved, asid_bits unknown");
    return;
  }
  const int width = 4 + 2 * static_cast<int>(nd);
  n.caps.asid_bits = width;
  n.evidence.insert_or_assign("asid_bits",
                              because({cap.show("ND")}, std::to_string(width) + " bits"));
}

void set_flag(Normalized& n, std::optional<bool>& property, std::string_view name, bool value,
              const Facts& facts) {
  property = value;
  n.evidence.insert_or_assign(std::string(name), because(facts, true_false(value)));
}

// Everything ECAP alone decides. PASIDs and nesting need scalable mode, as the kernel's
// pasid_supported() and nested_supported(); dirty tracking is ssads_supported() (SMPWC too).
void ecap_properties(const Reg& ecap, Normalized& n) {
  const bool smts = ecap.on("SMTS");
  if (ecap.on("PASID") && smts) {
    const int width = static_cast<int>(ecap["PSS"]) + 1;
    n.caps.ssid_bits = width;
    n.evidence.insert_or_assign("ssid_bits",
                                because({ecap.show("PSS"), ecap.show("PASID"), ecap.show("SMTS")},
                                        std::to_string(width) + " PASID bits"));
  } else {
    n.caps.ssid_bits = 0;
    n.evidence.insert_or_assign("ssid_bits",
                                because({ecap.show("PASID"), ecap.show("SMTS")}, "0 PASID bits"));
  }

  n.caps.httu = ecap.on("SLADS") ? Httu::kAccessDirty : Httu::kNone;
  n.evidence.insert_or_assign("httu", because({ecap.show("SLADS")}, to_string(*n.caps.httu)));

  set_flag(n, n.caps.nested, "nested", smts && ecap.on("NEST"),
           {ecap.show("SMTS"), ecap.show("NEST")});
  set_flag(n, n.caps.ats, "ats", ecap.on("DT"), {ecap.show("DT")});
  set_flag(n, n.caps.page_requests, "page_requests", ecap.on("PRS"), {ecap.show("PRS")});
  set_flag(n, n.caps.dirty_tracking, "dirty_tracking", smts && ecap.on("SLADS") && ecap.on("SMPWC"),
           {ecap.show("SMTS"), ecap.show("SLADS"), ecap.show("SMPWC")});
  set_flag(n, n.caps.scalable_mode, "scalable_mode", smts, {ecap.show("SMTS")});
}

// SAGAW bits 0 (2-level) and 4 (6-level) are reserved in the current spec: no format for them.
void pgtable_formats(const Reg& cap, const Reg& ecap, Normalized& n) {
  static constexpr std::string_view kSecondStage[] = {"", "vtd-ss-39", "vtd-ss-48", "vtd-ss-57"};
  std::vector<std::string> formats;
  Facts facts = {cap.show("SAGAW"), ecap.show("FLTS")};
  for (unsigned agaw = 1; agaw <= kMaxAgaw; ++agaw) {
    if (cap["SAGAW"] & (uint64_t{1} << agaw)) formats.emplace_back(kSecondStage[agaw]);
  }
  if (ecap.on("FLTS")) {
    facts.push_back(cap.show("FL5LP"));
    formats.emplace_back("vtd-fs-48");
    if (cap.on("FL5LP")) formats.emplace_back("vtd-fs-57");
  }
  std::string result;
  for (const std::string& f : formats) result += (result.empty() ? "" : ", ") + f;
  n.evidence.insert_or_assign("pgtable_formats", because(facts, result.empty() ? "none" : result));
  n.caps.pgtable_formats = std::move(formats);
}

// Second-stage large pages by offset width 21/30/39/48 bits. The kernel comment calls the last
// one "1TiB", but a 48-bit offset is 256 TiB.
std::string large_pages(uint64_t sllps) {
  static constexpr std::string_view kSizes[] = {"2M", "1G", "512G", "256T"};
  std::string out;
  for (unsigned i = 0; i < 4; ++i) {
    if ((sllps & (uint64_t{1} << i)) == 0) continue;
    out += (out.empty() ? "" : ",") + std::string(kSizes[i]);
  }
  return out.empty() ? "none" : out;
}

void cap_extras(const Reg& cap, Normalized& n) {
  auto& x = n.extra;
  x.insert_or_assign("caching_mode", flag(cap.on("CM")));
  if (cap["ND"] != kNdReserved)
    x.insert_or_assign("domains", number(uint64_t{1} << (4 + 2 * cap["ND"])));
  x.insert_or_assign("required_write_buffer_flushing", flag(cap.on("RWBF")));
  x.insert_or_assign("max_guest_address_width", number(cap["MGAW"] + 1));
  x.insert_or_assign("page_selective_invalidation", flag(cap.on("PSI")));
  x.insert_or_assign("second_stage_large_pages", Scalar{large_pages(cap["SLLPS"])});
  x.insert_or_assign("first_stage_1g_pages", flag(cap.on("FL1GP")));
  x.insert_or_assign("first_stage_5level", flag(cap.on("FL5LP")));
  x.insert_or_assign("fault_recording_registers", number(cap["NFR"] + 1));
  x.insert_or_assign("posted_interrupts", flag(cap.on("PI")));
}

void ecap_extras(const Reg& ecap, Normalized& n) {
  auto& x = n.extra;
  x.insert_or_assign("page_walk_coherency", flag(ecap.on("C")));
  x.insert_or_assign("queued_invalidation", flag(ecap.on("QI")));
  x.insert_or_assign("interrupt_remapping", flag(ecap.on("IR")));
  x.insert_or_assign("extended_interrupt_mode", flag(ecap.on("EIM")));
  x.insert_or_assign("pass_through", flag(ecap.on("PT")));
  x.insert_or_assign("snoop_control", flag(ecap.on("SC")));
  x.insert_or_assign("execute_requests", flag(ecap.on("ERS")));
  x.insert_or_assign("supervisor_requests", flag(ecap.on("SRS")));
  x.insert_or_assign("page_request_drain", flag(ecap.on("PDS")));
  x.insert_or_assign("first_stage_translation", flag(ecap.on("FLTS")));
  x.insert_or_assign("second_stage_translation", flag(ecap.on("SLTS")));
  // dmar.c sets max_pasids only when pasid_supported().
  if (ecap.on("PASID") && ecap.on("SMTS"))
    x.insert_or_assign("max_pasids", number(uint64_t{2} << ecap["PSS"]));
}

}  // namespace

const RegisterSpec& vtd_cap_spec() { return kCapSpec; }
const RegisterSpec& vtd_ecap_spec() { return kEcapSpec; }

Normalized normalize_vtd(const Register* cap_reg, const Register* ecap_reg) {
  Normalized n;
  const std::optional<Reg> cap = view("cap", kCapSpec, cap_reg);
  const std::optional<Reg> ecap = view("ecap", kEcapSpec, ecap_reg);
  if (cap) {
    reserved_encodings(*cap, n);
    input_bits(*cap, ecap, n);
    asid_bits(*cap, n);
    cap_extras(*cap, n);
  }
  if (ecap) {
    ecap_properties(*ecap, n);
    ecap_extras(*ecap, n);
  }
  if (cap && ecap) pgtable_formats(*cap, *ecap, n);
  return n;
}

}  // namespace caps
