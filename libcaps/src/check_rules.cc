// The compatibility rules of guest-config.md section 2: one small function per rule id, each
// returning findings that name the limiting unit, the fact behind it and the fix.
#include "check_rules.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace caps::rules {
namespace {

// ---------------------------------------------------------------------------------------------
// Small helpers

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

std::string hex(uint64_t value) {
  std::array<char, 17> buffer{};
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, 16);
  (void)ec;  // 17 characters always hold a 64-bit value
  return "0x" + std::string(buffer.data(), end);
}

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string str(int value) { return std::to_string(value); }
std::string str(uint64_t value) { return std::to_string(value); }
std::string str(bool value) { return value ? "true" : "false"; }
std::string str(Httu value) { return std::string(to_string(value)); }
std::string str(Stall value) { return std::string(to_string(value)); }
std::string str(const std::vector<std::string>& value) { return join(value, ", "); }

/// The key's position, or the section header's when the key was not written (a default).
SourcePos pos_or(SourcePos pos, SourcePos fallback) { return pos.line == 0 ? fallback : pos; }

Finding make_finding(Outcome outcome, std::string key, SourcePos pos, std::string unit,
                     std::string evidence, std::string message, std::string hint = {}) {
  Finding f;
  f.outcome = outcome;
  f.guest_key = std::move(key);
  f.pos = pos;
  f.unit = std::move(unit);
  f.evidence = std::move(evidence);
  f.message = std::move(message);
  f.hint = std::move(hint);
  return f;
}

/// "<unit>: <why>" from Unit::evidence, else "<unit>: <property> = <value>".
template <class T>
std::string unit_evidence(const Unit& unit, std::string_view property,
                          const std::optional<T>& value) {
  auto it = unit.evidence.find(std::string(property));
  if (it != unit.evidence.end()) return unit.name + ": " + it->second;
  if (!value) {
    return unit.name + ": " + std::string(property) + " unknown (" +
           std::string(to_string(unit.layout)) + " layout)";
  }
  return unit.name + ": " + std::string(property) + " = " + str(*value);
}

std::string model_evidence(const Unit& unit) {
  auto it = unit.evidence.find("model");
  if (it != unit.evidence.end()) return unit.name + ": " + it->second;
  return unit.name + ": model = " + unit.model + " (" + std::string(to_string(unit.layout)) +
         " layout)";
}

/// A width as a message says it: "none" for 0.
std::string supports(int bits) { return bits <= 0 ? std::string("none") : str(bits); }

/// True if `value` fits in `bits` bits.
bool fits(uint64_t value, int bits) {
  if (bits <= 0) return value == 0;
  if (bits >= 64) return true;
  return value < (uint64_t{1} << bits);
}

/// Bits needed to write `value` (0 for 0).
int bits_needed(uint64_t value) {
  int bits = 0;
  while (value != 0) {
    ++bits;
    value >>= 1;
  }
  return bits;
}

uint64_t largest_in(int bits) {
  if (bits <= 0) return 0;
  if (bits >= 64) return UINT64_MAX;
  return (uint64_t{1} << bits) - 1;
}

/// The smallest known value of a property over the checked units.
template <class T>
std::optional<T> tightest(const Context& ctx, std::optional<T> Caps::*property) {
  std::optional<T> out;
  for (const Unit* unit : ctx.selection.units) {
    const std::optional<T>& value = unit->caps.*property;
    if (value && (!out || *value < *out)) out = value;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Folding per-unit results: one finding per unit that does not pass, or one pass finding

/// One unit's result for a rule. Among passes, the lowest `rank` is the limiting unit whose
/// message is reported.
struct UnitResult {
  Outcome outcome = Outcome::kPass;
  std::string message;
  std::string hint;
  std::string evidence;
  int64_t rank = 0;
};

Findings over_units(const Context& ctx, const std::string& key, SourcePos pos,
                    const std::function<UnitResult(const Unit&)>& check_unit) {
  Findings out;
  std::vector<std::pair<const Unit*, UnitResult>> passes;
  for (const Unit* unit : ctx.selection.units) {
    UnitResult result = check_unit(*unit);
    if (result.outcome == Outcome::kPass) {
      passes.emplace_back(unit, std::move(result));
      continue;
    }
    out.push_back(make_finding(result.outcome, key, pos, unit->name, std::move(result.evidence),
                               std::move(result.message), std::move(result.hint)));
  }
  if (!out.empty() || passes.empty()) return out;
  auto limiting = std::min_element(passes.begin(), passes.end(), [](const auto& a, const auto& b) {
    return a.second.rank < b.second.rank;
  });
  std::vector<std::string> evidence;
  for (const auto& pass : passes) evidence.push_back(pass.second.evidence);
  out.push_back(make_finding(Outcome::kPass, key, pos, limiting->first->name, join(evidence, "; "),
                             limiting->second.message));
  return out;
}

// ---------------------------------------------------------------------------------------------
// units.exist

std::string unit_names(const std::vector<const Unit*>& units) {
  std::vector<std::string> names;
  for (const Unit* unit : units) names.push_back(unit->name);
  return join(names, ", ");
}

std::string host_unit_names(const Host& host) {
  std::vector<std::string> names;
  for (const Unit& unit : host.units) names.push_back(unit.name);
  return join(names, ", ");
}

Findings units_exist(const Context& ctx) {
  const Host& host = ctx.host;
  const auto& named = ctx.guest.viommu.units;
  std::string key = named ? "viommu.units" : "";
  SourcePos pos = named ? named->pos : ctx.guest.viommu_pos;
  if (host.units.empty()) {
    std::string why = host.platform.why_no_units.empty()
                          ? std::string("host: no unit under /sys/class/iommu")
                          : "host: " + join(host.platform.why_no_units, "; ");
    return {make_finding(Outcome::kFail, key, pos, "", why,
                         "host has no IOMMU unit: nothing to put a vIOMMU on",
                         "enable the IOMMU in firmware and on the kernel command line "
                         "(intel_iommu=on or amd_iommu=on)")};
  }
  Findings out;
  for (const std::string& name : ctx.selection.missing) {
    out.push_back(make_finding(Outcome::kFail, key, pos, "", "host: units " + host_unit_names(host),
                               "unit " + name + " does not exist on this host",
                               "use one of " + host_unit_names(host)));
  }
  if (!out.empty()) return out;
  std::string why = ctx.selection.source == UnitSource::kNamed     ? "named in viommu.units"
                    : ctx.selection.source == UnitSource::kDevices ? "serving the assigned devices"
                                                                   : "all units";
  return {make_finding(Outcome::kPass, key, pos, "", "host: units " + host_unit_names(host),
                       "checking " + unit_names(ctx.selection.units) + " (" + why + ")")};
}

// ---------------------------------------------------------------------------------------------
// model

bool is_known_model(std::string_view model) {
  return model == kModelIntelVtd || model == kModelAmdVi || model == kModelArmSmmuV3 ||
         model == kModelVirtioIommu;
}

Findings model(const Context& ctx) {
  const Located<std::string>& guest = ctx.guest.viommu.model;
  const std::string key = "viommu.model";
  if (!is_known_model(guest.value)) {
    return {make_finding(Outcome::kFail, key, guest.pos, "", "",
                         "unknown vIOMMU model " + quoted(guest.value),
                         "set model to one of intel-vtd, amd-vi, arm-smmu-v3, virtio-iommu")};
  }
  const bool nested = ctx.guest.viommu.nested && ctx.guest.viommu.nested->value;
  return over_units(ctx, key, guest.pos, [&](const Unit& unit) {
    UnitResult r;
    r.evidence = model_evidence(unit);
    if (unit.model == kModelUnknown) {
      r.outcome = Outcome::kUnknown;
      r.message = unit.name + " has an unknown model: no vIOMMU can be certified against it";
      return r;
    }
    if (unit.model == guest.value) {
      r.message =
          guest.value + " matches " + unit.name + (nested ? " (hardware nesting)" : std::string());
      return r;
    }
    if (nested) {
      r.outcome = Outcome::kFail;
      r.message = "nested " + guest.value + " needs the host unit to be " + guest.value + " but " +
                  unit.name + " is " + unit.model;
      r.hint = "set model = " + quoted(unit.model) + " or nested = false";
      return r;
    }
    if (guest.value == kModelVirtioIommu) {
      r.message = "virtio-iommu runs on any host IOMMU (" + unit.name + " is " + unit.model + ")";
      return r;
    }
    r.outcome = Outcome::kWarn;
    r.message =
        guest.value + " is emulated on " + unit.name + " (" + unit.model + "): no hardware nesting";
    return r;
  });
}

// ---------------------------------------------------------------------------------------------
// width.*

/// One address or id width the guest asks for and the unit property that bounds it.
struct WidthRule {
  std::string_view name;  // the guest key below [viommu]
  std::string_view what;  // how a message names the bits
  std::optional<Located<int>> GuestViommu::*guest;
  std::optional<int> Caps::*host;
  bool pcie_bound;  // PASIDs also stop at the PCIe limit
};

Findings width(const Context& ctx, const WidthRule& rule) {
  const std::optional<Located<int>>& guest = ctx.guest.viommu.*rule.guest;
  if (!guest || guest->value <= 0) return {};
  const int need = guest->value;
  const std::string name(rule.name);
  std::optional<int> limit = tightest(ctx, rule.host);
  if (rule.pcie_bound && limit) limit = std::min(*limit, kPciePasidBits);
  return over_units(ctx, "viommu." + name, guest->pos, [&](const Unit& unit) {
    UnitResult r;
    const std::optional<int>& have = unit.caps.*rule.host;
    r.evidence = unit_evidence(unit, name, have);
    if (!have) {
      r.outcome = Outcome::kUnknown;
      r.message = "guest needs " + str(need) + " " + std::string(rule.what) + " but " + name +
                  " of " + unit.name + " is unknown";
      return r;
    }
    if (need > *have) {
      r.outcome = Outcome::kFail;
      r.message = "guest needs " + str(need) + " " + std::string(rule.what) + " but " + unit.name +
                  " supports " + supports(*have);
      r.hint = "set " + name + " = " + str(limit.value_or(*have)) +
               (limit.value_or(*have) > 0 ? " or lower" : "");
      return r;
    }
    r.message = "guest needs " + str(need) + " " + std::string(rule.what) + ", " + unit.name +
                " supports " + str(*have);
    r.rank = *have;
    return r;
  });
}

Findings width_input_bits(const Context& ctx) {
  return width(ctx,
               {"input_bits", "input bits", &GuestViommu::input_bits, &Caps::input_bits, false});
}

Findings width_output_bits(const Context& ctx) {
  return width(
      ctx, {"output_bits", "output bits", &GuestViommu::output_bits, &Caps::output_bits, false});
}

Findings width_asid_bits(const Context& ctx) {
  return width(ctx, {"asid_bits", "ASID bits", &GuestViommu::asid_bits, &Caps::asid_bits, false});
}

Findings width_ssid_bits(const Context& ctx) {
  return width(ctx, {"ssid_bits", "PASID bits", &GuestViommu::ssid_bits, &Caps::ssid_bits, true});
}

Findings width_pcie_pasid_limit(const Context& ctx) {
  Findings out;
  const std::string evidence = "PCIe: PASID capability Max PASID Width is at most " +
                               str(kPciePasidBits) + " bits (pci_regs.h PCI_PASID_CAP_WIDTH)";
  auto check = [&](const std::string& key, const std::string& name, SourcePos pos, int bits) {
    if (bits <= kPciePasidBits) {
      out.push_back(
          make_finding(Outcome::kPass, key, pos, "", evidence,
                       str(bits) + " PASID bits within the PCIe limit of " + str(kPciePasidBits)));
      return;
    }
    out.push_back(make_finding(
        Outcome::kFail, key, pos, "", evidence,
        "guest needs " + str(bits) + " PASID bits but PCIe allows at most " + str(kPciePasidBits),
        "set " + name + " = " + str(kPciePasidBits) + " or lower"));
  };
  const auto& ssid = ctx.guest.viommu.ssid_bits;
  if (ssid && ssid->value > 0) check("viommu.ssid_bits", "ssid_bits", ssid->pos, ssid->value);
  if (const auto& table = ctx.guest.pasid_table) {
    check("pasid_table.pasid_bits", "pasid_bits", pos_or(table->pasid_bits.pos, table->pos),
          table->pasid_bits.value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// feature.*

Findings feature_httu(const Context& ctx) {
  const auto& guest = ctx.guest.viommu.httu;
  if (!guest || guest->value == Httu::kNone) return {};
  const Httu need = guest->value;
  const std::optional<Httu> limit = tightest(ctx, &Caps::httu);
  return over_units(ctx, "viommu.httu", guest->pos, [&](const Unit& unit) {
    UnitResult r;
    const std::optional<Httu>& have = unit.caps.httu;
    r.evidence = unit_evidence(unit, "httu", have);
    if (!have) {
      r.outcome = Outcome::kUnknown;
      r.message = "guest needs httu " + str(need) + " but httu of " + unit.name + " is unknown";
      return r;
    }
    if (*have < need) {
      r.outcome = Outcome::kFail;
      r.message = "guest needs httu " + str(need) + " but " + unit.name + " has " + str(*have);
      r.hint = "set httu = " + quoted(str(limit.value_or(*have)));
      return r;
    }
    r.message = "guest needs httu " + str(need) + ", " + unit.name + " has " + str(*have);
    r.rank = static_cast<int64_t>(*have);
    return r;
  });
}

/// Whether the unit was read from the kernel's intel-iommu or amd-iommu layout, which by
/// design carry no output width and no stall model.
bool is_x86_kernel_layout(const Unit& unit) {
  return unit.layout == Layout::kIntelIommu || unit.layout == Layout::kAmdIommu;
}

Findings feature_stall(const Context& ctx) {
  const auto& guest = ctx.guest.viommu.stall;
  if (!guest) return {};
  const Stall need = guest->value;
  return over_units(ctx, "viommu.stall", guest->pos, [&](const Unit& unit) {
    UnitResult r;
    const std::optional<Stall>& have = unit.caps.stall;
    r.evidence = unit_evidence(unit, "stall", have);
    if (!have && need == Stall::kDisabled && is_x86_kernel_layout(unit)) {
      // VT-d and AMD-Vi have no stall model (faults go through page requests), so nothing
      // there can force stalls on. Only their kernel layouts are known to lack the fact.
      r.message = "stall does not apply to " + unit.name + " (" + unit.model + ")";
      return r;
    }
    if (!have) {
      r.outcome = Outcome::kUnknown;
      r.message = "guest sets stall = " + str(need) + " but stall of " + unit.name + " is unknown";
      return r;
    }
    if (*have == Stall::kForce && need == Stall::kDisabled) {
      r.outcome = Outcome::kFail;
      r.message = "guest disables stall but " + unit.name + " forces it";
      r.hint = "set stall = \"enabled\"";
      return r;
    }
    if (need != Stall::kDisabled && *have == Stall::kDisabled) {
      r.outcome = Outcome::kFail;
      r.message = "guest needs stall " + str(need) + " but " + unit.name + " has stall disabled";
      r.hint = "set stall = \"disabled\"";
      return r;
    }
    r.message = "guest stall " + str(need) + ", " + unit.name + " has " + str(*have);
    return r;
  });
}

/// A feature the guest turns on with `name = true` and the host must have.
struct BoolFeature {
  std::string_view name;      // guest key below [viommu]
  std::string_view property;  // Caps property (and evidence key)
  std::string_view what;      // how a message names it
  std::optional<Located<bool>> GuestViommu::*guest;
  std::optional<bool> Caps::*host;
};

Findings bool_feature(const Context& ctx, const BoolFeature& feature) {
  const std::optional<Located<bool>>& guest = ctx.guest.viommu.*feature.guest;
  if (!guest || !guest->value) return {};
  const std::string what(feature.what);
  return over_units(ctx, "viommu." + std::string(feature.name), guest->pos, [&](const Unit& unit) {
    UnitResult r;
    const std::optional<bool>& have = unit.caps.*feature.host;
    r.evidence = unit_evidence(unit, feature.property, have);
    if (!have) {
      r.outcome = Outcome::kUnknown;
      r.message = "guest needs " + what + " but whether " + unit.name + " has it is unknown";
      return r;
    }
    if (!*have) {
      r.outcome = Outcome::kFail;
      r.message = "guest needs " + what + " but " + unit.name + " does not support it";
      r.hint = "set " + std::string(feature.name) + " = false";
      return r;
    }
    r.message = "guest needs " + what + ", " + unit.name + " has it";
    return r;
  });
}

Findings feature_btm(const Context& ctx) {
  return bool_feature(ctx,
                      {"btm", "btm", "broadcast TLB maintenance", &GuestViommu::btm, &Caps::btm});
}

Findings feature_nested(const Context& ctx) {
  return bool_feature(
      ctx, {"nested", "nested", "nested translation", &GuestViommu::nested, &Caps::nested});
}

Findings feature_ats(const Context& ctx) {
  return bool_feature(ctx, {"ats", "ats", "ATS (device-TLB)", &GuestViommu::ats, &Caps::ats});
}

Findings feature_page_requests(const Context& ctx) {
  return bool_feature(ctx, {"page_requests", "page_requests", "page requests (PRI)",
                            &GuestViommu::page_requests, &Caps::page_requests});
}

Findings feature_dirty_tracking(const Context& ctx) {
  return bool_feature(ctx, {"dirty_tracking", "dirty_tracking", "dirty tracking",
                            &GuestViommu::dirty_tracking, &Caps::dirty_tracking});
}

Findings feature_pgtable_format(const Context& ctx) {
  const auto& guest = ctx.guest.viommu.pgtable_format;
  if (!guest) return {};
  const std::string& need = guest->value;
  return over_units(ctx, "viommu.pgtable_format", guest->pos, [&](const Unit& unit) {
    UnitResult r;
    const auto& have = unit.caps.pgtable_formats;
    r.evidence = unit_evidence(unit, "pgtable_formats", have);
    if (!have) {
      r.outcome = Outcome::kUnknown;
      r.message =
          "guest builds " + need + " page tables but the formats of " + unit.name + " are unknown";
      return r;
    }
    if (std::find(have->begin(), have->end(), need) == have->end()) {
      r.outcome = Outcome::kFail;
      if (have->empty()) {
        r.message = "guest builds " + need + " page tables but " + unit.name +
                    " lists no page-table format";
        r.hint = "remove pgtable_format";
        return r;
      }
      r.message = "guest builds " + need + " page tables but " + unit.name + " supports " +
                  join(*have, ", ");
      r.hint = "set pgtable_format to one of " + join(*have, ", ");
      return r;
    }
    r.message = unit.name + " supports " + need + " page tables";
    return r;
  });
}

// ---------------------------------------------------------------------------------------------
// pasid_table.*

bool is_arm(PasidTableModel model) {
  return model == PasidTableModel::kArm1Lvl || model == PasidTableModel::kArm2Lvl;
}

/// The unit model a table format belongs to; nullopt for `host` (any unit).
std::optional<std::string_view> unit_model_for(PasidTableModel model) {
  switch (model) {
    case PasidTableModel::kIntel:
      return kModelIntelVtd;
    case PasidTableModel::kAmd:
      return kModelAmdVi;
    case PasidTableModel::kArm1Lvl:
    case PasidTableModel::kArm2Lvl:
      return kModelArmSmmuV3;
    case PasidTableModel::kHost:
      return std::nullopt;
  }
  return std::nullopt;
}

/// The table formats that fit a unit model, as a hint spells them.
std::string table_models_for(std::string_view unit_model) {
  if (unit_model == kModelIntelVtd) return "\"intel\" or \"host\"";
  if (unit_model == kModelAmdVi) return "\"amd\" or \"host\"";
  if (unit_model == kModelArmSmmuV3) return "\"arm-1lvl\", \"arm-2lvl\" or \"host\"";
  return "\"host\"";
}

/// Alignment of the table base: VT-d PASID directory and AMD GCR3 root are 4 KiB aligned,
/// an SMMUv3 CD table 64 bytes (kernel-abi.md section 7).
std::optional<uint64_t> alignment_for(std::string_view unit_model) {
  if (unit_model == kModelIntelVtd || unit_model == kModelAmdVi) return 4096;
  if (unit_model == kModelArmSmmuV3) return 64;
  return std::nullopt;
}

std::string table_key(std::string_view name) { return "pasid_table." + std::string(name); }

Findings pasid_table_version(const Context& ctx) {
  const auto& table = ctx.guest.pasid_table;
  if (!table) return {};
  const SourcePos pos = pos_or(table->version.pos, table->pos);
  const std::string evidence = "PASID_TABLE_CFG_VERSION_1 = 1";
  if (table->version.value == kPasidTableVersion1) {
    return {make_finding(Outcome::kPass, table_key("version"), pos, "", evidence,
                         "pasid_table version 1 is known")};
  }
  return {make_finding(
      Outcome::kFail, table_key("version"), pos, "", evidence,
      "pasid_table version " + str(table->version.value) + " is unknown (only 1 is defined)",
      "set version = 1")};
}

Findings pasid_table_bytes(const Context& ctx) {
  const auto& table = ctx.guest.pasid_table;
  if (!table) return {};
  const SourcePos pos = pos_or(table->bytes.pos, table->pos);
  const std::string evidence =
      "pasid_table_config version 1 is " + str(kPasidTableV1Bytes) + " bytes";
  if (table->bytes.value == kPasidTableV1Bytes) {
    return {make_finding(Outcome::kPass, table_key("bytes"), pos, "", evidence,
                         "pasid_table bytes = " + str(kPasidTableV1Bytes) + " matches version 1")};
  }
  return {make_finding(Outcome::kFail, table_key("bytes"), pos, "", evidence,
                       "pasid_table bytes = " + str(table->bytes.value) + " but version 1 is " +
                           str(kPasidTableV1Bytes) + " bytes",
                       "set bytes = " + str(kPasidTableV1Bytes))};
}

Findings pasid_table_model(const Context& ctx) {
  const auto& table = ctx.guest.pasid_table;
  if (!table) return {};
  const PasidTableModel model = table->model.value;
  const std::string name(to_string(model));
  const SourcePos pos = pos_or(table->model.pos, table->pos);
  const std::optional<std::string_view> want = unit_model_for(model);
  return over_units(ctx, table_key("model"), pos, [&](const Unit& unit) {
    UnitResult r;
    r.evidence = model_evidence(unit);
    if (!want) {
      r.message = "a host table follows " + unit.name + "'s own format";
      return r;
    }
    if (unit.model == kModelUnknown) {
      r.outcome = Outcome::kUnknown;
      r.message = "pasid_table model " + name + " needs the unit to be " + std::string(*want) +
                  " but " + unit.name + "'s model is unknown";
      return r;
    }
    if (unit.model != *want) {
      r.outcome = Outcome::kFail;
      r.message = "pasid_table model " + name + " needs the unit to be " + std::string(*want) +
                  " but " + unit.name + " is " + unit.model;
      r.hint = "set model = " + table_models_for(unit.model);
      return r;
    }
    r.message = "pasid_table model " + name + " fits " + unit.name + " (" + unit.model + ")";
    return r;
  });
}

Findings pasid_table_base_ptr(const Context& ctx) {
  const auto& table = ctx.guest.pasid_table;
  if (!table) return {};
  const uint64_t base = table->base_ptr.value;
  const std::string key = table_key("base_ptr");
  const SourcePos pos = pos_or(table->base_ptr.pos, table->pos);
  const PasidTableModel model = table->model.value;
  const std::string model_name(to_string(model));
  if (base == 0) {
    return {make_finding(Outcome::kFail, key, pos, "", "", "pasid_table base_ptr is 0",
                         "set base_ptr to the guest-physical address of the table")};
  }
  auto misaligned = [&](uint64_t alignment, const std::string& whose) {
    return "base_ptr " + hex(base) + " is not aligned to " + str(alignment) + " bytes (" + whose +
           " tables)";
  };
  auto aligned_hint = [&](uint64_t alignment) {
    return "set base_ptr = " + hex(base & ~(alignment - 1)) + " or another " + str(alignment) +
           "-byte aligned address";
  };
  Findings out;
  const std::optional<std::string_view> table_unit_model = unit_model_for(model);
  if (table_unit_model) {
    const uint64_t alignment = *alignment_for(*table_unit_model);
    if (base % alignment != 0) {
      out.push_back(make_finding(Outcome::kFail, key, pos, "",
                                 model_name + " tables are " + str(alignment) + "-byte aligned",
                                 misaligned(alignment, model_name), aligned_hint(alignment)));
    }
  }
  Findings per_unit = over_units(ctx, key, pos, [&](const Unit& unit) {
    UnitResult r;
    r.evidence = unit_evidence(unit, "output_bits", unit.caps.output_bits);
    if (!table_unit_model) {
      const std::optional<uint64_t> alignment = alignment_for(unit.model);
      if (!alignment) {
        r.outcome = Outcome::kUnknown;
        r.evidence = model_evidence(unit);
        r.message = "cannot tell the table alignment a host table needs on " + unit.name +
                    " (model " + unit.model + ")";
        return r;
      }
      if (base % *alignment != 0) {
        r.outcome = Outcome::kFail;
        r.evidence = model_evidence(unit);
        r.message = misaligned(*alignment, unit.model);
        r.hint = aligned_hint(*alignment);
        return r;
      }
    }
    // base_ptr is a guest-physical address. The unit's output width bounds it when known.
    // The intel-iommu and amd-iommu layouts never publish one; there the input width does,
    // since a nested table's GPA is translated by the second stage, whose input is the
    // unit's input_bits. Anywhere else a missing output width leaves the check unknown.
    const bool by_output = unit.caps.output_bits.has_value() || !is_x86_kernel_layout(unit);
    const std::optional<int>& limit_bits = by_output ? unit.caps.output_bits : unit.caps.input_bits;
    const std::string limit_name = by_output ? "output" : "input";
    if (!by_output) r.evidence = unit_evidence(unit, "input_bits", unit.caps.input_bits);
    if (!limit_bits) {
      r.outcome = Outcome::kUnknown;
      r.message = "cannot check base_ptr " + hex(base) + " against the address width of " +
                  unit.name + " (unknown)";
      return r;
    }
    if (!fits(base, *limit_bits)) {
      r.outcome = Outcome::kFail;
      r.message = "base_ptr " + hex(base) + " needs " + str(bits_needed(base)) +
                  " address bits but " + unit.name + " has " + str(*limit_bits) + " " + limit_name +
                  " bits";
      r.hint = "place the table below " + hex(largest_in(*limit_bits) + 1);
      return r;
    }
    r.message = "base_ptr " + hex(base) + " is aligned and within " + unit.name + "'s " +
                str(*limit_bits) + " " + limit_name + " bits";
    r.rank = *limit_bits;
    return r;
  });
  // A misaligned table fails already; its per-unit pass would only contradict that.
  for (Finding& f : per_unit) {
    if (!out.empty() && f.outcome == Outcome::kPass) continue;
    out.push_back(std::move(f));
  }
  return out;
}

Findings pasid_table_pasid_bits(const Context& ctx) {
  const auto& table = ctx.guest.pasid_table;
  if (!table) return {};
  const int bits = table->pasid_bits.value;
  const std::string key = table_key("pasid_bits");
  const SourcePos pos = pos_or(table->pasid_bits.pos, table->pos);
  if (bits < 1) {
    return {make_finding(Outcome::kFail, key, pos, "", "",
                         "pasid_table pasid_bits is " + str(bits) + " but a table needs at least 1",
                         "set pasid_bits = 1 or higher")};
  }
  const std::optional<int> limit = tightest(ctx, &Caps::ssid_bits);
  return over_units(ctx, key, pos, [&](const Unit& unit) {
    UnitResult r;
    const std::optional<int>& have = unit.caps.ssid_bits;
    r.evidence = unit_evidence(unit, "ssid_bits", have);
    if (!have) {
      r.outcome = Outcome::kUnknown;
      r.message = "pasid_table needs " + str(bits) + " PASID bits but ssid_bits of " + unit.name +
                  " is unknown";
      return r;
    }
    if (bits > *have) {
      r.outcome = Outcome::kFail;
      r.message = "pasid_table needs " + str(bits) + " PASID bits but " + unit.name + " supports " +
                  supports(*have);
      const int to = limit.value_or(*have);
      r.hint = to > 0 ? "set pasid_bits = " + str(to) + " or lower"
                      : "remove [pasid_table]: " + unit.name + " has no PASID support";
      return r;
    }
    r.message =
        "pasid_table needs " + str(bits) + " PASID bits, " + unit.name + " supports " + str(*have);
    r.rank = *have;
    return r;
  });
}

Findings pasid_table_s1dss(const Context& ctx) {
  const auto& table = ctx.guest.pasid_table;
  if (!table || !table->s1dss) return {};
  const std::string key = table_key("s1dss");
  const SourcePos pos = pos_or(table->s1dss->pos, table->pos);
  const std::string s1dss(to_string(table->s1dss->value));
  const PasidTableModel model = table->model.value;
  const std::string evidence = "s1dss is the SMMUv3 STE.S1DSS field";
  if (is_arm(model)) {
    return {make_finding(
        Outcome::kPass, key, pos, "", evidence,
        "s1dss = " + s1dss + " applies to an " + std::string(to_string(model)) + " table")};
  }
  if (model != PasidTableModel::kHost) {
    return {make_finding(
        Outcome::kFail, key, pos, "", evidence,
        "s1dss applies only to arm-1lvl and arm-2lvl tables, not " + std::string(to_string(model)),
        "remove s1dss")};
  }
  // A host table is an SMMUv3 CD table only on an SMMUv3 unit.
  return over_units(ctx, key, pos, [&](const Unit& unit) {
    UnitResult r;
    r.evidence = model_evidence(unit);
    if (unit.model == kModelUnknown) {
      r.outcome = Outcome::kUnknown;
      r.message = "s1dss needs an arm-smmu-v3 unit but " + unit.name + "'s model is unknown";
      return r;
    }
    if (unit.model != kModelArmSmmuV3) {
      r.outcome = Outcome::kFail;
      r.message = "s1dss needs an arm-smmu-v3 unit but " + unit.name + " is " + unit.model;
      r.hint = "remove s1dss";
      return r;
    }
    r.message = "s1dss = " + s1dss + " applies to " + unit.name + "'s CD table";
    return r;
  });
}

// ---------------------------------------------------------------------------------------------
// pasid_alloc.*

std::string alloc_key(std::string_view name) { return "pasid_alloc." + std::string(name); }

Findings pasid_alloc_range(const Context& ctx) {
  const auto& alloc = ctx.guest.pasid_alloc;
  if (!alloc) return {};
  const uint64_t min = alloc->min.value;
  const uint64_t max = alloc->max.value;
  const SourcePos max_pos = pos_or(alloc->max.pos, alloc->pos);
  if (min > max) {
    return {make_finding(Outcome::kFail, alloc_key("min"), pos_or(alloc->min.pos, alloc->pos), "",
                         "", "pasid_alloc min " + str(min) + " is above max " + str(max),
                         "set max = " + str(min) + " or higher")};
  }
  // The guest's own limits: the PCIe width, then viommu.ssid_bits and pasid_table.pasid_bits.
  struct GuestLimit {
    int bits;
    std::string source;
  };
  GuestLimit guest_limit{kPciePasidBits, "PCIe allows " + str(kPciePasidBits)};
  const auto& ssid = ctx.guest.viommu.ssid_bits;
  if (ssid && ssid->value < guest_limit.bits) {
    guest_limit = {ssid->value, "viommu.ssid_bits is " + str(ssid->value)};
  }
  const auto& table = ctx.guest.pasid_table;
  if (table && table->pasid_bits.value < guest_limit.bits) {
    guest_limit = {table->pasid_bits.value,
                   "pasid_table.pasid_bits is " + str(table->pasid_bits.value)};
  }
  int effective = guest_limit.bits;
  if (const std::optional<int> host = tightest(ctx, &Caps::ssid_bits)) {
    effective = std::min(effective, *host);
  }
  const std::string hint = effective > 0
                               ? "set max = " + str(largest_in(effective)) + " or lower"
                               : std::string("remove [pasid_alloc]: no PASID is available");
  const std::string needs =
      "pasid_alloc max " + str(max) + " needs " + str(bits_needed(max)) + " PASID bits but ";
  Findings out;
  if (!fits(max, guest_limit.bits)) {
    out.push_back(make_finding(Outcome::kFail, alloc_key("max"), max_pos, "", guest_limit.source,
                               needs + guest_limit.source, hint));
  }
  Findings per_unit = over_units(ctx, alloc_key("max"), max_pos, [&](const Unit& unit) {
    UnitResult r;
    const std::optional<int>& have = unit.caps.ssid_bits;
    r.evidence = unit_evidence(unit, "ssid_bits", have);
    if (!have) {
      r.outcome = Outcome::kUnknown;
      r.message = "pasid_alloc max " + str(max) + " needs " + str(bits_needed(max)) +
                  " PASID bits but ssid_bits of " + unit.name + " is unknown";
      return r;
    }
    if (!fits(max, *have)) {
      r.outcome = Outcome::kFail;
      r.message = needs + unit.name + " supports " + supports(*have);
      r.hint = hint;
      return r;
    }
    r.message = "pasid_alloc " + str(min) + ".." + str(max) + " fits " + unit.name + "'s " +
                str(*have) + " PASID bits";
    r.rank = *have;
    return r;
  });
  for (Finding& f : per_unit) {
    if (!out.empty() && f.outcome == Outcome::kPass) continue;
    out.push_back(std::move(f));
  }
  return out;
}

Findings pasid_alloc_count(const Context& ctx) {
  const auto& alloc = ctx.guest.pasid_alloc;
  if (!alloc || alloc->min.value > alloc->max.value) return {};  // range reports min > max
  const uint64_t available = alloc->max.value - alloc->min.value + 1;
  const uint64_t count = alloc->count.value;
  const SourcePos pos = pos_or(alloc->count.pos, alloc->pos);
  const std::string range = str(alloc->min.value) + ".." + str(alloc->max.value);
  const std::string evidence = "pasid_alloc: " + str(available) + " PASIDs in " + range;
  if (count <= available) {
    return {make_finding(Outcome::kPass, alloc_key("count"), pos, "", evidence,
                         str(count) + " PASIDs fit in " + range)};
  }
  return {make_finding(
      Outcome::kFail, alloc_key("count"), pos, "", evidence,
      "pasid_alloc count " + str(count) + " exceeds the " + str(available) + " PASIDs in " + range,
      "set count = " + str(available) + " or lower, or widen min..max")};
}

Findings pasid_alloc_quota(const Context& ctx) {
  const auto& alloc = ctx.guest.pasid_alloc;
  if (!alloc) return {};
  const uint64_t count = alloc->count.value;
  const uint64_t quota = alloc->quota.value;
  const SourcePos pos = pos_or(alloc->count.pos, alloc->pos);
  const std::string evidence = "pasid_alloc: quota = " + str(quota);
  if (count <= quota) {
    return {make_finding(Outcome::kPass, alloc_key("count"), pos, "", evidence,
                         str(count) + " PASIDs within the quota of " + str(quota))};
  }
  return {
      make_finding(Outcome::kFail, alloc_key("count"), pos, "", evidence,
                   "pasid_alloc count " + str(count) + " exceeds the per-VM quota of " + str(quota),
                   "set count = " + str(quota) + " or lower, or raise quota")};
}

Findings pasid_alloc_reserved_pasid0(const Context& ctx) {
  const auto& alloc = ctx.guest.pasid_alloc;
  if (!alloc) return {};
  const SourcePos pos = pos_or(alloc->min.pos, alloc->pos);
  const std::string evidence = "PASID 0 is reserved (RID_PASID on VT-d)";
  if (alloc->min.value >= 1) {
    return {make_finding(Outcome::kPass, alloc_key("min"), pos, "", evidence,
                         "pasid_alloc starts at " + str(alloc->min.value) + ", above PASID 0")};
  }
  return {make_finding(Outcome::kFail, alloc_key("min"), pos, "", evidence,
                       "pasid_alloc min = 0 but PASID 0 is reserved (RID_PASID on VT-d)",
                       "set min = 1")};
}

// ---------------------------------------------------------------------------------------------
// device.*

std::string device_key(size_t index) { return "device[" + std::to_string(index) + "].bdf"; }

/// Runs `check` on every [[device]] the host has (device.exists reports the others).
Findings over_devices(
    const Context& ctx,
    const std::function<void(size_t, const GuestDevice&, const Device&, Findings&)>& check) {
  Findings out;
  for (size_t i = 0; i < ctx.guest.devices.size(); ++i) {
    const GuestDevice& guest = ctx.guest.devices[i];
    const Device* device = ctx.host.find_device(guest.bdf.value);
    if (device) check(i, guest, *device, out);
  }
  return out;
}

Findings device_exists(const Context& ctx) {
  Findings out;
  for (size_t i = 0; i < ctx.guest.devices.size(); ++i) {
    const Located<std::string>& bdf = ctx.guest.devices[i].bdf;
    const Device* device = ctx.host.find_device(bdf.value);
    if (device) {
      out.push_back(make_finding(Outcome::kPass, device_key(i), bdf.pos, device->unit.value_or(""),
                                 "host: device " + bdf.value, bdf.value + " exists"));
      continue;
    }
    out.push_back(make_finding(Outcome::kFail, device_key(i), bdf.pos, "",
                               "host: no device " + bdf.value,
                               "device " + bdf.value + " does not exist on this host",
                               "correct the bdf or remove this [[device]]"));
  }
  return out;
}

constexpr std::string_view kEnableIommuHint =
    "enable the IOMMU for it (intel_iommu=on or amd_iommu=on) or assign another device";

Findings device_iommu(const Context& ctx) {
  return over_devices(
      ctx, [&](size_t i, const GuestDevice& guest, const Device& device, Findings& out) {
        const std::string& bdf = guest.bdf.value;
        if (!device.unit) {
          out.push_back(make_finding(Outcome::kFail, device_key(i), guest.bdf.pos, "",
                                     bdf + ": no iommu link", bdf + " sits behind no IOMMU unit",
                                     std::string(kEnableIommuHint)));
          return;
        }
        const std::string evidence = bdf + ": iommu -> " + *device.unit;
        if (!ctx.host.find_unit(*device.unit)) {
          out.push_back(make_finding(
              Outcome::kUnknown, device_key(i), guest.bdf.pos, *device.unit, evidence,
              bdf + " is behind " + *device.unit + ", which this host does not describe"));
          return;
        }
        out.push_back(make_finding(Outcome::kPass, device_key(i), guest.bdf.pos, *device.unit,
                                   evidence, bdf + " is behind " + *device.unit));
      });
}

Findings device_group(const Context& ctx) {
  return over_devices(
      ctx, [&](size_t i, const GuestDevice& guest, const Device& device, Findings& out) {
        const std::string& bdf = guest.bdf.value;
        const std::string unit = device.unit.value_or("");
        if (!device.group) {
          out.push_back(make_finding(Outcome::kFail, device_key(i), guest.bdf.pos, unit,
                                     bdf + ": no iommu_group link", bdf + " is in no IOMMU group",
                                     std::string(kEnableIommuHint)));
          return;
        }
        const std::string evidence = bdf + ": iommu_group -> " + str(*device.group);
        if (!ctx.host.find_group(*device.group)) {
          out.push_back(make_finding(
              Outcome::kUnknown, device_key(i), guest.bdf.pos, unit, evidence,
              bdf + " is in group " + str(*device.group) + ", which this host does not describe"));
          return;
        }
        out.push_back(make_finding(Outcome::kPass, device_key(i), guest.bdf.pos, unit, evidence,
                                   bdf + " is in group " + str(*device.group)));
      });
}

// VFIO group viability, as the kernel decides it.
//
// Since v5.19 the rule is DMA ownership (drivers/iommu/iommu.c): binding a driver calls
// iommu_device_use_default_domain() from the bus dma_configure hook -- pci_dma_configure() in
// drivers/pci/pci-driver.c does so `if (!ret && !driver->driver_managed_dma)` -- which raises
// group->owner_cnt; VFIO then needs iommu_group_claim_dma_owner() (container path, at
// VFIO_GROUP_SET_CONTAINER) or iommu_device_claim_dma_owner() (iommufd path), which fail with
// -EPERM/-EBUSY while owner_cnt is non-zero. So every other group member must be unbound,
// owned by VFIO too, or bound to a driver that sets .driver_managed_dma = true: vfio-pci and
// its variant drivers (drivers/vfio/pci/*), pci-stub (drivers/pci/pci-stub.c, "PCI: pci_stub:
// Set driver_managed_dma") and pcieport (drivers/pci/pcie/portdrv.c, set in the same 5.19
// series).
//
// Before v5.19 drivers/vfio/vfio.c had vfio_dev_viable(): a member is fine if it is driver-
// less, bound to a vfio driver, bound to a driver in vfio_driver_allowed[] = { "pci-stub" },
// or -- vfio_dev_driver_allowed() -- a PCI device whose hdr_type is not
// PCI_HEADER_TYPE_NORMAL (a bridge), whatever its driver.
//
// The host report does not carry the kernel version, so a bridge bound to a driver not known
// to set driver_managed_dma is viable on old kernels and not on new ones: unknown.

bool is_dma_owner_safe(std::string_view driver) {
  if (driver == "pci-stub" || driver == "pcieport") return true;
  // vfio-pci, vfio-platform, vfio-amba, vfio-cdx and the *_vfio_pci / *-vfio-pci variants.
  return driver.starts_with("vfio") || driver.find("vfio_pci") != std::string_view::npos ||
         driver.find("vfio-pci") != std::string_view::npos;
}

std::string group_evidence(const Host& host, const Group& group) {
  std::vector<std::string> members;
  for (const std::string& name : group.devices) {
    const Device* device = host.find_device(name);
    std::string driver = !device                 ? "not described"
                         : !device->driver_known ? "driver unknown"
                                                 : device->driver.value_or("unbound");
    members.push_back(name + " (" + driver + ")");
  }
  return "group " + str(group.id) + ": " + join(members, ", ");
}

Findings device_group_viable(const Context& ctx) {
  std::set<std::string> assigned;
  for (const GuestDevice& guest : ctx.guest.devices) assigned.insert(guest.bdf.value);
  std::set<uint64_t> seen;
  return over_devices(ctx, [&](size_t i, const GuestDevice& guest, const Device& device,
                               Findings& out) {
    if (!device.group || !seen.insert(*device.group).second) return;  // once per group
    const Group* group = ctx.host.find_group(*device.group);
    if (!group) return;  // device.group reports it
    const std::string key = device_key(i);
    const SourcePos pos = guest.bdf.pos;
    const std::string unit = device.unit.value_or("");
    const std::string evidence = group_evidence(ctx.host, *group);
    const std::string group_name = "group " + str(group->id);
    Findings blockers;
    if (!group->devices_known) {
      blockers.push_back(make_finding(Outcome::kUnknown, key, pos, unit, evidence,
                                      "the members of " + group_name + " could not be read"));
    }
    for (const std::string& name : group->devices) {
      if (assigned.count(name) != 0) continue;
      const Device* member = ctx.host.find_device(name);
      if (!member) {
        blockers.push_back(
            make_finding(Outcome::kUnknown, key, pos, unit, evidence,
                         group_name + " member " + name + " is not described by this host"));
        continue;
      }
      if (!member->driver_known) {
        blockers.push_back(
            make_finding(Outcome::kUnknown, key, pos, unit, evidence,
                         "the driver of " + group_name + " member " + name + " could not be read"));
        continue;
      }
      if (!member->driver || is_dma_owner_safe(*member->driver)) continue;
      const std::string& driver = *member->driver;
      if (member->pci && member->pci->header_type != 0) {
        blockers.push_back(make_finding(Outcome::kUnknown, key, pos, unit, evidence,
                                        "bridge " + name + " in " + group_name + " is bound to " +
                                            driver +
                                            ": viable before linux 5.19, not after unless " +
                                            driver + " sets driver_managed_dma",
                                        "unbind " + name + " from " + driver));
        continue;
      }
      blockers.push_back(
          make_finding(Outcome::kFail, key, pos, unit, evidence,
                       group_name + " is not viable: " + name + " is bound to " + driver,
                       "bind " + name + " to vfio-pci or unbind it from " + driver));
    }
    if (!blockers.empty()) {
      for (Finding& f : blockers) out.push_back(std::move(f));
      return;
    }
    const std::string message =
        group->devices.size() <= 1
            ? guest.bdf.value + " is alone in " + group_name
            : group_name + " is viable: every other member is assigned, unbound or DMA-owner-safe";
    out.push_back(make_finding(Outcome::kPass, key, pos, unit, evidence, message));
  });
}

Findings device_pasid(const Context& ctx) {
  const auto& ssid = ctx.guest.viommu.ssid_bits;
  if (!ssid || ssid->value <= 0) return {};
  const int need = ssid->value;
  return over_devices(
      ctx, [&](size_t i, const GuestDevice& guest, const Device& device, Findings& out) {
        const std::string& bdf = guest.bdf.value;
        const std::string unit = device.unit.value_or("");
        const std::string key = device_key(i);
        if (!device.pci || !device.pci->pasid) {
          out.push_back(make_finding(Outcome::kUnknown, key, guest.bdf.pos, unit,
                                     bdf + ": extended config space not readable",
                                     "guest needs " + str(need) +
                                         " PASID bits but the PASID "
                                         "capability of " +
                                         bdf + " is unknown"));
          return;
        }
        const std::optional<PasidCapability>& cap = *device.pci->pasid;
        if (!cap) {
          out.push_back(make_finding(
              Outcome::kFail, key, guest.bdf.pos, unit, bdf + ": no PASID capability",
              "guest needs " + str(need) + " PASID bits but " + bdf + " has no PASID capability",
              "set ssid_bits = 0 or assign a PASID-capable device"));
          return;
        }
        const std::string evidence =
            bdf + ": PASID capability Max PASID Width = " + str(cap->max_width);
        if (cap->max_width < need) {
          out.push_back(make_finding(Outcome::kFail, key, guest.bdf.pos, unit, evidence,
                                     "guest needs " + str(need) + " PASID bits but " + bdf +
                                         " supports " + supports(cap->max_width),
                                     "set ssid_bits = " + str(cap->max_width) + " or lower"));
          return;
        }
        out.push_back(make_finding(Outcome::kPass, key, guest.bdf.pos, unit, evidence,
                                   "guest needs " + str(need) + " PASID bits, " + bdf +
                                       " supports " + str(cap->max_width)));
      });
}

/// A device capability (ATS, PRI) the guest needs when it turns on `name`.
Findings device_capability(const Context& ctx, const std::optional<Located<bool>>& guest_flag,
                           std::string_view name, std::string_view what,
                           std::optional<bool> PciInfo::*capability) {
  if (!guest_flag || !guest_flag->value) return {};
  return over_devices(ctx, [&](size_t i, const GuestDevice& guest, const Device& device,
                               Findings& out) {
    const std::string& bdf = guest.bdf.value;
    const std::string unit = device.unit.value_or("");
    const std::string key = device_key(i);
    const std::optional<bool> have = device.pci ? (*device.pci).*capability : std::optional<bool>();
    if (!have) {
      out.push_back(make_finding(
          Outcome::kUnknown, key, guest.bdf.pos, unit, bdf + ": extended config space not readable",
          "guest needs " + std::string(what) + " but whether " + bdf + " has it is unknown"));
      return;
    }
    if (!*have) {
      out.push_back(make_finding(Outcome::kFail, key, guest.bdf.pos, unit,
                                 bdf + ": no " + std::string(what) + " capability",
                                 "guest needs " + std::string(what) + " but " + bdf + " has no " +
                                     std::string(what) + " capability",
                                 "set " + std::string(name) + " = false"));
      return;
    }
    out.push_back(make_finding(Outcome::kPass, key, guest.bdf.pos, unit,
                               bdf + ": " + std::string(what) + " capability present",
                               bdf + " supports " + std::string(what)));
  });
}

Findings device_ats(const Context& ctx) {
  return device_capability(ctx, ctx.guest.viommu.ats, "ats", "ATS", &PciInfo::ats);
}

Findings device_pri(const Context& ctx) {
  return device_capability(ctx, ctx.guest.viommu.page_requests, "page_requests", "PRI",
                           &PciInfo::pri);
}

}  // namespace

UnitSelection select_units(const Guest& guest, const Host& host) {
  UnitSelection out;
  const auto& named = guest.viommu.units;
  if (named && !named->value.empty()) {
    out.source = UnitSource::kNamed;
    for (const std::string& name : named->value) {
      const Unit* unit = host.find_unit(name);
      if (!unit) {
        out.missing.push_back(name);
        continue;
      }
      if (std::find(out.units.begin(), out.units.end(), unit) == out.units.end()) {
        out.units.push_back(unit);
      }
    }
  } else {
    out.source = UnitSource::kDevices;
    for (const GuestDevice& guest_device : guest.devices) {
      const Device* device = host.find_device(guest_device.bdf.value);
      const Unit* unit = device && device->unit ? host.find_unit(*device->unit) : nullptr;
      if (unit && std::find(out.units.begin(), out.units.end(), unit) == out.units.end()) {
        out.units.push_back(unit);
      }
    }
    if (out.units.empty()) {
      out.source = UnitSource::kAll;
      for (const Unit& unit : host.units) out.units.push_back(&unit);
    }
  }
  std::sort(out.units.begin(), out.units.end(),
            [](const Unit* a, const Unit* b) { return natural_less(a->name, b->name); });
  return out;
}

const std::vector<Rule>& all_rules() {
  static const std::vector<Rule> rules = {
      {"units.exist", units_exist},
      {"model", model},
      {"width.input_bits", width_input_bits},
      {"width.output_bits", width_output_bits},
      {"width.asid_bits", width_asid_bits},
      {"width.ssid_bits", width_ssid_bits},
      {"width.pcie_pasid_limit", width_pcie_pasid_limit},
      {"feature.httu", feature_httu},
      {"feature.stall", feature_stall},
      {"feature.btm", feature_btm},
      {"feature.pgtable_format", feature_pgtable_format},
      {"feature.nested", feature_nested},
      {"feature.ats", feature_ats},
      {"feature.page_requests", feature_page_requests},
      {"feature.dirty_tracking", feature_dirty_tracking},
      {"pasid_table.version", pasid_table_version},
      {"pasid_table.bytes", pasid_table_bytes},
      {"pasid_table.model", pasid_table_model},
      {"pasid_table.base_ptr", pasid_table_base_ptr},
      {"pasid_table.pasid_bits", pasid_table_pasid_bits},
      {"pasid_table.s1dss", pasid_table_s1dss},
      {"pasid_alloc.range", pasid_alloc_range},
      {"pasid_alloc.count", pasid_alloc_count},
      {"pasid_alloc.quota", pasid_alloc_quota},
      {"pasid_alloc.reserved_pasid0", pasid_alloc_reserved_pasid0},
      {"device.exists", device_exists},
      {"device.iommu", device_iommu},
      {"device.group", device_group},
      {"device.group_viable", device_group_viable},
      {"device.pasid", device_pasid},
      {"device.ats", device_ats},
      {"device.pri", device_pri},
  };
  return rules;
}

}  // namespace caps::rules
