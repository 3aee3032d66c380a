// SPDX-License-Identifier: MIT
// The compatibility rules of guest-config.md section 2: one small function per rule id, each
// reporting findings that name the limiting unit, the fact behind it and the fix. Every piece
// of text is built inside a callback, so that it costs nothing when the sink does not keep it.
#include "check_rules.h"

#include "libcaps/parse.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
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

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string str(int value) { return std::to_string(value); }
std::string str(uint64_t value) { return std::to_string(value); }
std::string str(bool value) { return value ? "true" : "false"; }
std::string str(Httu value) { return std::string(to_string(value)); }
std::string str(Stall value) { return std::string(to_string(value)); }
std::string str(const std::vector<std::string>& value) { return join(value, ", "); }

/// The key's position, or the section header's when the key was not written (a default).
SourcePos pos_or(SourcePos pos, SourcePos fallback) { return pos.line == 0 ? fallback : pos; }

/// The text of a finding, for Sink::add's callbacks (the sink sets the outcome).
Finding said(std::string_view key, SourcePos pos, std::string unit, std::string evidence,
             std::string message, std::string hint = {}) {
  Finding f;
  f.guest_key = std::string(key);
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
// Per-unit rules: one finding per unit that does not pass, or one pass finding

/// One unit's outcome for a rule. Among passes, the lowest rank is the limiting unit, whose
/// message the pass finding carries.
struct Judged {
  Outcome outcome = Outcome::kPass;
  int64_t rank = 0;
};

/// The text of one unit's result.
struct UnitText {
  std::string evidence;
  std::string message;
  std::string hint;
};

/// How a per-unit check answers: each method returns the outcome and calls the text callbacks
/// (each returning a std::string) only when the sink keeps that outcome.
class Judge {
 public:
  Judge(const Sink& sink, UnitText& text) : sink_(sink), text_(text) {}

  template <class Evidence, class Message>
  Judged pass(int64_t rank, Evidence&& evidence, Message&& message) {
    describe(Outcome::kPass, evidence, message);
    return {Outcome::kPass, rank};
  }
  template <class Evidence, class Message>
  Judged warn(Evidence&& evidence, Message&& message) {
    describe(Outcome::kWarn, evidence, message);
    return {Outcome::kWarn};
  }
  template <class Evidence, class Message>
  Judged unknown(Evidence&& evidence, Message&& message) {
    describe(Outcome::kUnknown, evidence, message);
    return {Outcome::kUnknown};
  }
  template <class Evidence, class Message, class Hint>
  Judged fail(Evidence&& evidence, Message&& message, Hint&& hint) {
    if (describe(Outcome::kFail, evidence, message)) text_.hint = hint();
    return {Outcome::kFail};
  }

 private:
  template <class Evidence, class Message>
  bool describe(Outcome outcome, Evidence& evidence, Message& message) {
    if (!sink_.keeps(outcome)) return false;
    text_.evidence = evidence();
    text_.message = message();
    return true;
  }

  const Sink& sink_;
  UnitText& text_;
};

/// Runs `check(unit, judge) -> Judged` on every checked unit and reports under `key`.
template <class Check>
void over_units(const Context& ctx, Sink& out, std::string_view key, SourcePos pos, Check&& check) {
  bool problem = false;
  const Unit* limiting = nullptr;
  int64_t limiting_rank = 0;
  std::string limiting_message;
  std::vector<std::string> pass_evidence;  // filled only when passes are kept
  UnitText text;                           // each unit's, moved out when kept
  for (const Unit* unit : ctx.selection.units) {
    text.evidence.clear();
    text.message.clear();
    text.hint.clear();
    Judge judge(out, text);
    const Judged judged = check(*unit, judge);
    if (judged.outcome != Outcome::kPass) {
      problem = true;
      out.add(judged.outcome, [&] {
        return said(key, pos, unit->name, std::move(text.evidence), std::move(text.message),
                    std::move(text.hint));
      });
      continue;
    }
    if (out.keeps(Outcome::kPass)) pass_evidence.push_back(std::move(text.evidence));
    if (!limiting || judged.rank < limiting_rank) {
      limiting = unit;
      limiting_rank = judged.rank;
      limiting_message = std::move(text.message);
    }
  }
  if (problem || !limiting) return;
  out.add(Outcome::kPass, [&] {
    return said(key, pos, limiting->name, join(pass_evidence, "; "), std::move(limiting_message));
  });
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

// The AMD driver is on by default when the firmware has an IVRS table and knows no
// amd_iommu=on (parse_amd_iommu_options in drivers/iommu/amd/init.c ignores it as unknown);
// only amd_iommu=off or iommu=off turn it off.
constexpr std::string_view kEnableHostIommuHint =
    "enable the IOMMU in firmware (VT-d or AMD-Vi); on the kernel command line add "
    "intel_iommu=on for VT-d, and remove amd_iommu=off and iommu=off";

void units_exist(const Context& ctx, Sink& out) {
  const Host& host = ctx.host;
  const auto& named = ctx.guest.viommu.units;
  const std::string_view key = named ? "viommu.units" : "";
  const SourcePos pos = named ? named->pos : ctx.guest.viommu_pos;
  if (host.units.empty()) {
    return out.add(Outcome::kFail, [&] {
      std::string why = host.platform.why_no_units.empty()
                            ? std::string("host: no unit under /sys/class/iommu")
                            : "host: " + join(host.platform.why_no_units, "; ");
      return said(key, pos, "", why, "host has no IOMMU unit: nothing to put a vIOMMU on",
                  std::string(kEnableHostIommuHint));
    });
  }
  for (const std::string& name : ctx.selection.missing) {
    out.add(Outcome::kFail, [&] {
      return said(key, pos, "", "host: units " + host_unit_names(host),
                  "unit " + name + " does not exist on this host",
                  "use one of " + host_unit_names(host));
    });
  }
  if (!ctx.selection.missing.empty()) return;
  out.add(Outcome::kPass, [&] {
    std::string why = ctx.selection.source == UnitSource::kNamed ? "named in viommu.units"
                      : ctx.selection.source == UnitSource::kDevices
                          ? "serving the assigned devices"
                          : "all units";
    return said(key, pos, "", "host: units " + host_unit_names(host),
                "checking " + unit_names(ctx.selection.units) + " (" + why + ")");
  });
}

// ---------------------------------------------------------------------------------------------
// model

void model(const Context& ctx, Sink& out) {
  const Located<std::string>& guest = ctx.guest.viommu.model;
  constexpr std::string_view key = "viommu.model";
  if (!is_known_model(guest.value)) {
    return out.add(Outcome::kFail, [&] {
      return said(key, guest.pos, "", "", "unknown vIOMMU model " + quoted(guest.value),
                  "set model to one of intel-vtd, amd-vi, arm-smmu-v3, virtio-iommu");
    });
  }
  const bool nested = ctx.guest.viommu.nested && ctx.guest.viommu.nested->value;
  over_units(ctx, out, "viommu.model", guest.pos, [&](const Unit& unit, Judge& judge) {
    auto evidence = [&] { return model_evidence(unit); };
    if (unit.model == kModelUnknown) {
      return judge.unknown(evidence, [&] {
        return unit.name + " has an unknown model: no vIOMMU can be certified against it";
      });
    }
    if (unit.model == guest.value) {
      return judge.pass(0, evidence, [&] {
        return guest.value + " matches " + unit.name +
               (nested ? " (hardware nesting)" : std::string());
      });
    }
    if (nested) {
      return judge.fail(
          evidence,
          [&] {
            return "nested " + guest.value + " needs the host unit to be " + guest.value + " but " +
                   unit.name + " is " + unit.model;
          },
          [&] { return "set model = " + quoted(unit.model) + " or nested = false"; });
    }
    if (guest.value == kModelVirtioIommu) {
      return judge.pass(0, evidence, [&] {
        return "virtio-iommu runs on any host IOMMU (" + unit.name + " is " + unit.model + ")";
      });
    }
    return judge.warn(evidence, [&] {
      return guest.value + " is emulated on " + unit.name + " (" + unit.model +
             "): no hardware nesting";
    });
  });
}

// ---------------------------------------------------------------------------------------------
// width.*

/// One address or id width the guest asks for and the unit property that bounds it.
struct WidthRule {
  std::string_view key;   // the guest key, "viommu.<name>"
  std::string_view name;  // the key below [viommu], also the unit property
  std::string_view what;  // how a message names the bits
  std::optional<Located<int>> GuestViommu::*guest;
  std::optional<int> Caps::*host;
  bool pcie_bound;  // PASIDs also stop at the PCIe limit
};

void width(const Context& ctx, Sink& out, const WidthRule& rule) {
  const std::optional<Located<int>>& guest = ctx.guest.viommu.*rule.guest;
  if (!guest || guest->value <= 0) return;
  const int need = guest->value;
  const std::string_view name = rule.name;
  over_units(ctx, out, rule.key, guest->pos, [&](const Unit& unit, Judge& judge) {
    const std::optional<int>& have = unit.caps.*rule.host;
    auto evidence = [&] { return unit_evidence(unit, name, have); };
    if (!have) {
      return judge.unknown(evidence, [&] {
        return "guest needs " + str(need) + " " + std::string(rule.what) + " but " +
               std::string(name) + " of " + unit.name + " is unknown";
      });
    }
    if (need > *have) {
      return judge.fail(
          evidence,
          [&] {
            return "guest needs " + str(need) + " " + std::string(rule.what) + " but " + unit.name +
                   " supports " + supports(*have);
          },
          [&] {
            std::optional<int> limit = tightest(ctx, rule.host);
            if (rule.pcie_bound && limit) limit = std::min(*limit, kPciePasidBits);
            const int to = limit.value_or(*have);
            return "set " + std::string(name) + " = " + str(to) + (to > 0 ? " or lower" : "");
          });
    }
    return judge.pass(*have, evidence, [&] {
      return "guest needs " + str(need) + " " + std::string(rule.what) + ", " + unit.name +
             " supports " + str(*have);
    });
  });
}

void width_input_bits(const Context& ctx, Sink& out) {
  width(ctx, out,
        {"viommu.input_bits", "input_bits", "input bits", &GuestViommu::input_bits,
         &Caps::input_bits, false});
}

void width_output_bits(const Context& ctx, Sink& out) {
  width(ctx, out,
        {"viommu.output_bits", "output_bits", "output bits", &GuestViommu::output_bits,
         &Caps::output_bits, false});
}

void width_asid_bits(const Context& ctx, Sink& out) {
  width(ctx, out,
        {"viommu.asid_bits", "asid_bits", "ASID bits", &GuestViommu::asid_bits, &Caps::asid_bits,
         false});
}

void width_ssid_bits(const Context& ctx, Sink& out) {
  width(ctx, out,
        {"viommu.ssid_bits", "ssid_bits", "PASID bits", &GuestViommu::ssid_bits, &Caps::ssid_bits,
         true});
}

void width_pcie_pasid_limit(const Context& ctx, Sink& out) {
  auto evidence = [] {
    return "PCIe: PASID capability Max PASID Width is at most " + str(kPciePasidBits) +
           " bits (pci_regs.h PCI_PASID_CAP_WIDTH)";
  };
  auto check = [&](std::string_view key, std::string_view name, SourcePos pos, int bits) {
    if (bits <= kPciePasidBits) {
      return out.add(Outcome::kPass, [&] {
        return said(key, pos, "", evidence(),
                    str(bits) + " PASID bits within the PCIe limit of " + str(kPciePasidBits));
      });
    }
    out.add(Outcome::kFail, [&] {
      return said(
          key, pos, "", evidence(),
          "guest needs " + str(bits) + " PASID bits but PCIe allows at most " + str(kPciePasidBits),
          "set " + std::string(name) + " = " + str(kPciePasidBits) + " or lower");
    });
  };
  const auto& ssid = ctx.guest.viommu.ssid_bits;
  if (ssid && ssid->value > 0) check("viommu.ssid_bits", "ssid_bits", ssid->pos, ssid->value);
  if (const auto& table = ctx.guest.pasid_table) {
    check("pasid_table.pasid_bits", "pasid_bits", pos_or(table->pasid_bits.pos, table->pos),
          table->pasid_bits.value);
  }
}

// ---------------------------------------------------------------------------------------------
// feature.*

void feature_httu(const Context& ctx, Sink& out) {
  const auto& guest = ctx.guest.viommu.httu;
  if (!guest || guest->value == Httu::kNone) return;
  const Httu need = guest->value;
  over_units(ctx, out, "viommu.httu", guest->pos, [&](const Unit& unit, Judge& judge) {
    const std::optional<Httu>& have = unit.caps.httu;
    auto evidence = [&] { return unit_evidence(unit, "httu", have); };
    if (!have) {
      return judge.unknown(evidence, [&] {
        return "guest needs httu " + str(need) + " but httu of " + unit.name + " is unknown";
      });
    }
    if (*have < need) {
      return judge.fail(
          evidence,
          [&] {
            return "guest needs httu " + str(need) + " but " + unit.name + " has " + str(*have);
          },
          [&] { return "set httu = " + quoted(str(tightest(ctx, &Caps::httu).value_or(*have))); });
    }
    return judge.pass(static_cast<int64_t>(*have), evidence, [&] {
      return "guest needs httu " + str(need) + ", " + unit.name + " has " + str(*have);
    });
  });
}

/// Whether the unit was read from the kernel's intel-iommu or amd-iommu layout, which by
/// design carry no output width and no stall model.
bool is_x86_kernel_layout(const Unit& unit) {
  return unit.layout == Layout::kIntelIommu || unit.layout == Layout::kAmdIommu;
}

void feature_stall(const Context& ctx, Sink& out) {
  const auto& guest = ctx.guest.viommu.stall;
  if (!guest) return;
  const Stall need = guest->value;
  over_units(ctx, out, "viommu.stall", guest->pos, [&](const Unit& unit, Judge& judge) {
    const std::optional<Stall>& have = unit.caps.stall;
    auto evidence = [&] { return unit_evidence(unit, "stall", have); };
    if (!have && need == Stall::kDisabled && is_x86_kernel_layout(unit)) {
      // VT-d and AMD-Vi have no stall model (faults go through page requests), so nothing
      // there can force stalls on. Only their kernel layouts are known to lack the fact.
      return judge.pass(0, evidence, [&] {
        return "stall does not apply to " + unit.name + " (" + unit.model + ")";
      });
    }
    if (!have) {
      return judge.unknown(evidence, [&] {
        return "guest sets stall = " + str(need) + " but stall of " + unit.name + " is unknown";
      });
    }
    if (*have == Stall::kForce && need == Stall::kDisabled) {
      return judge.fail(
          evidence, [&] { return "guest disables stall but " + unit.name + " forces it"; },
          [] { return std::string("set stall = \"enabled\""); });
    }
    if (need != Stall::kDisabled && *have == Stall::kDisabled) {
      return judge.fail(
          evidence,
          [&] {
            return "guest needs stall " + str(need) + " but " + unit.name + " has stall disabled";
          },
          [] { return std::string("set stall = \"disabled\""); });
    }
    return judge.pass(0, evidence, [&] {
      return "guest stall " + str(need) + ", " + unit.name + " has " + str(*have);
    });
  });
}

/// A feature the guest turns on with `name = true` and the host must have.
struct BoolFeature {
  std::string_view key;       // the guest key, "viommu.<name>"
  std::string_view name;      // the key below [viommu]
  std::string_view property;  // Caps property (and evidence key)
  std::string_view what;      // how a message names it
  std::optional<Located<bool>> GuestViommu::*guest;
  std::optional<bool> Caps::*host;
};

void bool_feature(const Context& ctx, Sink& out, const BoolFeature& feature) {
  const std::optional<Located<bool>>& guest = ctx.guest.viommu.*feature.guest;
  if (!guest || !guest->value) return;
  const std::string_view what = feature.what;
  over_units(ctx, out, feature.key, guest->pos, [&](const Unit& unit, Judge& judge) {
    const std::optional<bool>& have = unit.caps.*feature.host;
    auto evidence = [&] { return unit_evidence(unit, feature.property, have); };
    if (!have) {
      return judge.unknown(evidence, [&] {
        return "guest needs " + std::string(what) + " but whether " + unit.name +
               " has it is unknown";
      });
    }
    if (!*have) {
      return judge.fail(
          evidence,
          [&] {
            return "guest needs " + std::string(what) + " but " + unit.name +
                   " does not support it";
          },
          [&] { return "set " + std::string(feature.name) + " = false"; });
    }
    return judge.pass(0, evidence, [&] {
      return "guest needs " + std::string(what) + ", " + unit.name + " has it";
    });
  });
}

void feature_btm(const Context& ctx, Sink& out) {
  bool_feature(
      ctx, out,
      {"viommu.btm", "btm", "btm", "broadcast TLB maintenance", &GuestViommu::btm, &Caps::btm});
}

void feature_nested(const Context& ctx, Sink& out) {
  bool_feature(ctx, out,
               {"viommu.nested", "nested", "nested", "nested translation", &GuestViommu::nested,
                &Caps::nested});
}

void feature_ats(const Context& ctx, Sink& out) {
  bool_feature(ctx, out,
               {"viommu.ats", "ats", "ats", "ATS (device-TLB)", &GuestViommu::ats, &Caps::ats});
}

void feature_page_requests(const Context& ctx, Sink& out) {
  bool_feature(ctx, out,
               {"viommu.page_requests", "page_requests", "page_requests", "page requests (PRI)",
                &GuestViommu::page_requests, &Caps::page_requests});
}

void feature_dirty_tracking(const Context& ctx, Sink& out) {
  bool_feature(ctx, out,
               {"viommu.dirty_tracking", "dirty_tracking", "dirty_tracking", "dirty tracking",
                &GuestViommu::dirty_tracking, &Caps::dirty_tracking});
}

void feature_pgtable_format(const Context& ctx, Sink& out) {
  const auto& guest = ctx.guest.viommu.pgtable_format;
  if (!guest) return;
  const std::string& need = guest->value;
  over_units(ctx, out, "viommu.pgtable_format", guest->pos, [&](const Unit& unit, Judge& judge) {
    const auto& have = unit.caps.pgtable_formats;
    auto evidence = [&] { return unit_evidence(unit, "pgtable_formats", have); };
    if (!have) {
      return judge.unknown(evidence, [&] {
        return "guest builds " + need + " page tables but the formats of " + unit.name +
               " are unknown";
      });
    }
    if (std::find(have->begin(), have->end(), need) != have->end()) {
      return judge.pass(0, evidence,
                        [&] { return unit.name + " supports " + need + " page tables"; });
    }
    if (have->empty()) {
      return judge.fail(
          evidence,
          [&] {
            return "guest builds " + need + " page tables but " + unit.name +
                   " lists no page-table format";
          },
          [] { return std::string("remove pgtable_format"); });
    }
    return judge.fail(
        evidence,
        [&] {
          return "guest builds " + need + " page tables but " + unit.name + " supports " +
                 join(*have, ", ");
        },
        [&] { return "set pgtable_format to one of " + join(*have, ", "); });
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

void pasid_table_version(const Context& ctx, Sink& out) {
  const auto& table = ctx.guest.pasid_table;
  if (!table) return;
  const SourcePos pos = pos_or(table->version.pos, table->pos);
  constexpr std::string_view key = "pasid_table.version";
  constexpr std::string_view evidence = "PASID_TABLE_CFG_VERSION_1 = 1";
  if (table->version.value == kPasidTableVersion1) {
    return out.add(Outcome::kPass, [&] {
      return said(key, pos, "", std::string(evidence), "pasid_table version 1 is known");
    });
  }
  out.add(Outcome::kFail, [&] {
    return said(
        key, pos, "", std::string(evidence),
        "pasid_table version " + str(table->version.value) + " is unknown (only 1 is defined)",
        "set version = 1");
  });
}

void pasid_table_bytes(const Context& ctx, Sink& out) {
  const auto& table = ctx.guest.pasid_table;
  if (!table) return;
  const SourcePos pos = pos_or(table->bytes.pos, table->pos);
  constexpr std::string_view key = "pasid_table.bytes";
  auto evidence = [] {
    return "pasid_table_config version 1 is " + str(kPasidTableV1Bytes) + " bytes";
  };
  if (table->bytes.value == kPasidTableV1Bytes) {
    return out.add(Outcome::kPass, [&] {
      return said(key, pos, "", evidence(),
                  "pasid_table bytes = " + str(kPasidTableV1Bytes) + " matches version 1");
    });
  }
  out.add(Outcome::kFail, [&] {
    return said(key, pos, "", evidence(),
                "pasid_table bytes = " + str(table->bytes.value) + " but version 1 is " +
                    str(kPasidTableV1Bytes) + " bytes",
                "set bytes = " + str(kPasidTableV1Bytes));
  });
}

void pasid_table_model(const Context& ctx, Sink& out) {
  const auto& table = ctx.guest.pasid_table;
  if (!table) return;
  const PasidTableModel model = table->model.value;
  const std::string_view name = to_string(model);
  const SourcePos pos = pos_or(table->model.pos, table->pos);
  const std::optional<std::string_view> want = unit_model_for(model);
  over_units(ctx, out, "pasid_table.model", pos, [&](const Unit& unit, Judge& judge) {
    auto evidence = [&] { return model_evidence(unit); };
    if (!want) {
      return judge.pass(0, evidence,
                        [&] { return "a host table follows " + unit.name + "'s own format"; });
    }
    auto needs = [&] {
      return "pasid_table model " + std::string(name) + " needs the unit to be " +
             std::string(*want) + " but " + unit.name;
    };
    if (unit.model == kModelUnknown) {
      return judge.unknown(evidence, [&] { return needs() + "'s model is unknown"; });
    }
    if (unit.model != *want) {
      return judge.fail(
          evidence, [&] { return needs() + " is " + unit.model; },
          [&] { return "set model = " + table_models_for(unit.model); });
    }
    return judge.pass(0, evidence, [&] {
      return "pasid_table model " + std::string(name) + " fits " + unit.name + " (" + unit.model +
             ")";
    });
  });
}

void pasid_table_base_ptr(const Context& ctx, Sink& out) {
  const auto& table = ctx.guest.pasid_table;
  if (!table) return;
  const uint64_t base = table->base_ptr.value;
  constexpr std::string_view key = "pasid_table.base_ptr";
  const SourcePos pos = pos_or(table->base_ptr.pos, table->pos);
  const PasidTableModel model = table->model.value;
  const std::string_view model_name = to_string(model);
  if (base == 0) {
    return out.add(Outcome::kFail, [&] {
      return said(key, pos, "", "", "pasid_table base_ptr is 0",
                  "set base_ptr to the guest-physical address of the table");
    });
  }
  auto misaligned = [&](uint64_t alignment, std::string_view whose) {
    return "base_ptr " + format_hex(base) + " is not aligned to " + str(alignment) + " bytes (" +
           std::string(whose) + " tables)";
  };
  auto aligned_hint = [&](uint64_t alignment) {
    return "set base_ptr = " + format_hex(base & ~(alignment - 1)) + " or another " +
           str(alignment) + "-byte aligned address";
  };
  const std::optional<std::string_view> table_unit_model = unit_model_for(model);
  if (table_unit_model) {
    const uint64_t alignment = *alignment_for(*table_unit_model);
    if (base % alignment != 0) {
      out.add(Outcome::kFail, [&] {
        return said(key, pos, "",
                    std::string(model_name) + " tables are " + str(alignment) + "-byte aligned",
                    misaligned(alignment, model_name), aligned_hint(alignment));
      });
      out.skip_passes();
    }
  }
  over_units(ctx, out, key, pos, [&](const Unit& unit, Judge& judge) {
    auto by_model = [&] { return model_evidence(unit); };
    if (!table_unit_model) {
      const std::optional<uint64_t> alignment = alignment_for(unit.model);
      if (!alignment) {
        return judge.unknown(by_model, [&] {
          return "cannot tell the table alignment a host table needs on " + unit.name + " (model " +
                 unit.model + ")";
        });
      }
      if (base % *alignment != 0) {
        return judge.fail(
            by_model, [&] { return misaligned(*alignment, unit.model); },
            [&] { return aligned_hint(*alignment); });
      }
    }
    // base_ptr is a guest-physical address. The unit's output width bounds it when known.
    // The intel-iommu and amd-iommu layouts never publish one; there the input width does,
    // since a nested table's GPA is translated by the second stage, whose input is the
    // unit's input_bits. Anywhere else a missing output width leaves the check unknown.
    const bool by_output = unit.caps.output_bits.has_value() || !is_x86_kernel_layout(unit);
    const std::optional<int>& limit_bits = by_output ? unit.caps.output_bits : unit.caps.input_bits;
    const std::string_view limit_name = by_output ? "output" : "input";
    auto evidence = [&] {
      return unit_evidence(unit, by_output ? "output_bits" : "input_bits", limit_bits);
    };
    if (!limit_bits) {
      return judge.unknown(evidence, [&] {
        return "cannot check base_ptr " + format_hex(base) + " against the address width of " +
               unit.name + " (unknown)";
      });
    }
    if (!fits(base, *limit_bits)) {
      return judge.fail(
          evidence,
          [&] {
            return "base_ptr " + format_hex(base) + " needs " + str(bits_needed(base)) +
                   " address bits but " + unit.name + " has " + str(*limit_bits) + " " +
                   std::string(limit_name) + " bits";
          },
          [&] { return "place the table below " + format_hex(largest_in(*limit_bits) + 1); });
    }
    return judge.pass(*limit_bits, evidence, [&] {
      return "base_ptr " + format_hex(base) + " is aligned and within " + unit.name + "'s " +
             str(*limit_bits) + " " + std::string(limit_name) + " bits";
    });
  });
}

void pasid_table_pasid_bits(const Context& ctx, Sink& out) {
  const auto& table = ctx.guest.pasid_table;
  if (!table) return;
  const int bits = table->pasid_bits.value;
  constexpr std::string_view key = "pasid_table.pasid_bits";
  const SourcePos pos = pos_or(table->pasid_bits.pos, table->pos);
  if (bits < 1) {
    return out.add(Outcome::kFail, [&] {
      return said(key, pos, "", "",
                  "pasid_table pasid_bits is " + str(bits) + " but a table needs at least 1",
                  "set pasid_bits = 1 or higher");
    });
  }
  over_units(ctx, out, key, pos, [&](const Unit& unit, Judge& judge) {
    const std::optional<int>& have = unit.caps.ssid_bits;
    auto evidence = [&] { return unit_evidence(unit, "ssid_bits", have); };
    if (!have) {
      return judge.unknown(evidence, [&] {
        return "pasid_table needs " + str(bits) + " PASID bits but ssid_bits of " + unit.name +
               " is unknown";
      });
    }
    if (bits > *have) {
      return judge.fail(
          evidence,
          [&] {
            return "pasid_table needs " + str(bits) + " PASID bits but " + unit.name +
                   " supports " + supports(*have);
          },
          [&] {
            const int to = tightest(ctx, &Caps::ssid_bits).value_or(*have);
            return to > 0 ? "set pasid_bits = " + str(to) + " or lower"
                          : "remove [pasid_table]: " + unit.name + " has no PASID support";
          });
    }
    return judge.pass(*have, evidence, [&] {
      return "pasid_table needs " + str(bits) + " PASID bits, " + unit.name + " supports " +
             str(*have);
    });
  });
}

void pasid_table_s1dss(const Context& ctx, Sink& out) {
  const auto& table = ctx.guest.pasid_table;
  if (!table || !table->s1dss) return;
  constexpr std::string_view key = "pasid_table.s1dss";
  const SourcePos pos = pos_or(table->s1dss->pos, table->pos);
  const std::string_view s1dss = to_string(table->s1dss->value);
  const PasidTableModel model = table->model.value;
  auto evidence = [] { return std::string("s1dss is the SMMUv3 STE.S1DSS field"); };
  if (is_arm(model)) {
    return out.add(Outcome::kPass, [&] {
      return said(key, pos, "", evidence(),
                  "s1dss = " + std::string(s1dss) + " applies to an " +
                      std::string(to_string(model)) + " table");
    });
  }
  if (model != PasidTableModel::kHost) {
    return out.add(Outcome::kFail, [&] {
      return said(key, pos, "", evidence(),
                  "s1dss applies only to arm-1lvl and arm-2lvl tables, not " +
                      std::string(to_string(model)),
                  "remove s1dss");
    });
  }
  // A host table is an SMMUv3 CD table only on an SMMUv3 unit.
  over_units(ctx, out, key, pos, [&](const Unit& unit, Judge& judge) {
    auto by_model = [&] { return model_evidence(unit); };
    if (unit.model == kModelUnknown) {
      return judge.unknown(by_model, [&] {
        return "s1dss needs an arm-smmu-v3 unit but " + unit.name + "'s model is unknown";
      });
    }
    if (unit.model != kModelArmSmmuV3) {
      return judge.fail(
          by_model,
          [&] { return "s1dss needs an arm-smmu-v3 unit but " + unit.name + " is " + unit.model; },
          [] { return std::string("remove s1dss"); });
    }
    return judge.pass(0, by_model, [&] {
      return "s1dss = " + std::string(s1dss) + " applies to " + unit.name + "'s CD table";
    });
  });
}

// ---------------------------------------------------------------------------------------------
// pasid_alloc.*

void pasid_alloc_range(const Context& ctx, Sink& out) {
  const auto& alloc = ctx.guest.pasid_alloc;
  if (!alloc) return;
  const uint64_t min = alloc->min.value;
  const uint64_t max = alloc->max.value;
  constexpr std::string_view key = "pasid_alloc.max";
  const SourcePos max_pos = pos_or(alloc->max.pos, alloc->pos);
  if (min > max) {
    return out.add(Outcome::kFail, [&] {
      return said("pasid_alloc.min", pos_or(alloc->min.pos, alloc->pos), "", "",
                  "pasid_alloc min " + str(min) + " is above max " + str(max),
                  "set max = " + str(min) + " or higher");
    });
  }
  // The guest's own limit: the PCIe width, then viommu.ssid_bits and pasid_table.pasid_bits.
  struct GuestLimit {
    int bits;
    std::string_view key;  // empty for the PCIe width
  };
  GuestLimit guest_limit{kPciePasidBits, ""};
  const auto& ssid = ctx.guest.viommu.ssid_bits;
  if (ssid && ssid->value < guest_limit.bits) guest_limit = {ssid->value, "viommu.ssid_bits"};
  const auto& table = ctx.guest.pasid_table;
  if (table && table->pasid_bits.value < guest_limit.bits) {
    guest_limit = {table->pasid_bits.value, "pasid_table.pasid_bits"};
  }
  auto guest_source = [&] {
    return guest_limit.key.empty() ? "PCIe allows " + str(kPciePasidBits)
                                   : std::string(guest_limit.key) + " is " + str(guest_limit.bits);
  };
  auto hint = [&] {
    int effective = guest_limit.bits;
    if (const std::optional<int> host = tightest(ctx, &Caps::ssid_bits)) {
      effective = std::min(effective, *host);
    }
    return effective > 0 ? "set max = " + str(largest_in(effective)) + " or lower"
                         : std::string("remove [pasid_alloc]: no PASID is available");
  };
  auto needs = [&] {
    return "pasid_alloc max " + str(max) + " needs " + str(bits_needed(max)) + " PASID bits but ";
  };
  if (!fits(max, guest_limit.bits)) {
    out.add(Outcome::kFail, [&] {
      return said(key, max_pos, "", guest_source(), needs() + guest_source(), hint());
    });
    out.skip_passes();
  }
  over_units(ctx, out, key, max_pos, [&](const Unit& unit, Judge& judge) {
    const std::optional<int>& have = unit.caps.ssid_bits;
    auto evidence = [&] { return unit_evidence(unit, "ssid_bits", have); };
    if (!have) {
      return judge.unknown(evidence, [&] {
        return "pasid_alloc max " + str(max) + " needs " + str(bits_needed(max)) +
               " PASID bits but ssid_bits of " + unit.name + " is unknown";
      });
    }
    if (!fits(max, *have)) {
      return judge.fail(
          evidence, [&] { return needs() + unit.name + " supports " + supports(*have); }, hint);
    }
    return judge.pass(*have, evidence, [&] {
      return "pasid_alloc " + str(min) + ".." + str(max) + " fits " + unit.name + "'s " +
             str(*have) + " PASID bits";
    });
  });
}

void pasid_alloc_count(const Context& ctx, Sink& out) {
  const auto& alloc = ctx.guest.pasid_alloc;
  if (!alloc || alloc->min.value > alloc->max.value) return;  // range reports min > max
  const uint64_t available = alloc->max.value - alloc->min.value + 1;
  const uint64_t count = alloc->count.value;
  const SourcePos pos = pos_or(alloc->count.pos, alloc->pos);
  auto range = [&] { return str(alloc->min.value) + ".." + str(alloc->max.value); };
  auto evidence = [&] { return "pasid_alloc: " + str(available) + " PASIDs in " + range(); };
  if (count <= available) {
    return out.add(Outcome::kPass, [&] {
      return said("pasid_alloc.count", pos, "", evidence(),
                  str(count) + " PASIDs fit in " + range());
    });
  }
  out.add(Outcome::kFail, [&] {
    return said("pasid_alloc.count", pos, "", evidence(),
                "pasid_alloc count " + str(count) + " exceeds the " + str(available) +
                    " PASIDs in " + range(),
                "set count = " + str(available) + " or lower, or widen min..max");
  });
}

void pasid_alloc_quota(const Context& ctx, Sink& out) {
  const auto& alloc = ctx.guest.pasid_alloc;
  if (!alloc) return;
  const uint64_t count = alloc->count.value;
  const uint64_t quota = alloc->quota.value;
  const SourcePos pos = pos_or(alloc->count.pos, alloc->pos);
  auto evidence = [&] { return "pasid_alloc: quota = " + str(quota); };
  if (count <= quota) {
    return out.add(Outcome::kPass, [&] {
      return said("pasid_alloc.count", pos, "", evidence(),
                  str(count) + " PASIDs within the quota of " + str(quota));
    });
  }
  out.add(Outcome::kFail, [&] {
    return said("pasid_alloc.count", pos, "", evidence(),
                "pasid_alloc count " + str(count) + " exceeds the per-VM quota of " + str(quota),
                "set count = " + str(quota) + " or lower, or raise quota");
  });
}

void pasid_alloc_reserved_pasid0(const Context& ctx, Sink& out) {
  const auto& alloc = ctx.guest.pasid_alloc;
  if (!alloc) return;
  const SourcePos pos = pos_or(alloc->min.pos, alloc->pos);
  constexpr std::string_view evidence = "PASID 0 is reserved (RID_PASID on VT-d)";
  if (alloc->min.value >= 1) {
    return out.add(Outcome::kPass, [&] {
      return said("pasid_alloc.min", pos, "", std::string(evidence),
                  "pasid_alloc starts at " + str(alloc->min.value) + ", above PASID 0");
    });
  }
  out.add(Outcome::kFail, [&] {
    return said("pasid_alloc.min", pos, "", std::string(evidence),
                "pasid_alloc min = 0 but PASID 0 is reserved (RID_PASID on VT-d)", "set min = 1");
  });
}

// ---------------------------------------------------------------------------------------------
// device.*

std::string device_key(size_t index) { return "device[" + std::to_string(index) + "].bdf"; }

/// Runs `check(index, guest device, host device)` on every [[device]] the host has
/// (device.exists reports the others).
template <class Check>
void over_devices(const Context& ctx, Check&& check) {
  for (size_t i = 0; i < ctx.guest.devices.size(); ++i) {
    if (const Device* device = ctx.devices[i]) check(i, ctx.guest.devices[i], *device);
  }
}

void device_exists(const Context& ctx, Sink& out) {
  for (size_t i = 0; i < ctx.guest.devices.size(); ++i) {
    const Located<std::string>& bdf = ctx.guest.devices[i].bdf;
    if (const Device* device = ctx.devices[i]) {
      out.add(Outcome::kPass, [&] {
        return said(device_key(i), bdf.pos, device->unit.value_or(""), "host: device " + bdf.value,
                    bdf.value + " exists");
      });
      continue;
    }
    out.add(Outcome::kFail, [&] {
      return said(device_key(i), bdf.pos, "", "host: no device " + bdf.value,
                  "device " + bdf.value + " does not exist on this host",
                  "correct the bdf or remove this [[device]]");
    });
  }
}

// vfio-pci binds only normal functions: vfio_pci_core_register_device() in
// drivers/vfio/pci/vfio_pci_core.c (vfio_pci_probe() in drivers/vfio/pci/vfio_pci.c before
// v5.15) returns -EINVAL when pdev->hdr_type != PCI_HEADER_TYPE_NORMAL. A bridge cannot be
// assigned; the devices behind it can.

/// A PCI header type as a message names it.
std::string header_kind(uint8_t header_type) {
  switch (header_type) {
    case 0:
      return "a normal PCI function";
    case 1:
      return "a PCI-to-PCI bridge";
    case 2:
      return "a CardBus bridge";
    default:
      return "a function of header type " + str(static_cast<int>(header_type));
  }
}

void device_assignable(const Context& ctx, Sink& out) {
  over_devices(ctx, [&](size_t i, const GuestDevice& guest, const Device& device) {
    const std::string& bdf = guest.bdf.value;
    auto finding = [&](std::string evidence, std::string message, std::string hint = {}) {
      return said(device_key(i), guest.bdf.pos, device.unit.value_or(""), std::move(evidence),
                  std::move(message), std::move(hint));
    };
    if (!device.pci) {
      return out.add(Outcome::kUnknown, [&] {
        return finding(bdf + ": config space not read",
                       "whether vfio-pci can bind " + bdf +
                           " is unknown: its PCI header type could not be read");
      });
    }
    const uint8_t header_type = device.pci->header_type;
    auto evidence = [&] {
      return bdf + ": config header type = " + str(static_cast<int>(header_type));
    };
    if (header_type != 0) {
      return out.add(Outcome::kFail, [&] {
        return finding(evidence(),
                       bdf + " is " + header_kind(header_type) +
                           ": vfio-pci binds only normal functions (header type 0)",
                       "assign the devices behind " + bdf + " instead");
      });
    }
    out.add(Outcome::kPass, [&] {
      return finding(evidence(), bdf + " is a normal PCI function: vfio-pci can bind it");
    });
  });
}

constexpr std::string_view kEnableIommuHint =
    "enable the IOMMU for it (in firmware; on the kernel command line intel_iommu=on for "
    "VT-d, and no amd_iommu=off or iommu=off) or assign another device";

void device_iommu(const Context& ctx, Sink& out) {
  over_devices(ctx, [&](size_t i, const GuestDevice& guest, const Device& device) {
    const std::string& bdf = guest.bdf.value;
    if (!device.unit) {
      return out.add(Outcome::kFail, [&] {
        return said(device_key(i), guest.bdf.pos, "", bdf + ": no iommu link",
                    bdf + " sits behind no IOMMU unit", std::string(kEnableIommuHint));
      });
    }
    const std::string& unit = *device.unit;
    auto evidence = [&] { return bdf + ": iommu -> " + unit; };
    if (!ctx.index.units.find(unit)) {
      return out.add(Outcome::kUnknown, [&] {
        return said(device_key(i), guest.bdf.pos, unit, evidence(),
                    bdf + " is behind " + unit + ", which this host does not describe");
      });
    }
    out.add(Outcome::kPass, [&] {
      return said(device_key(i), guest.bdf.pos, unit, evidence(), bdf + " is behind " + unit);
    });
  });
}

void device_group(const Context& ctx, Sink& out) {
  over_devices(ctx, [&](size_t i, const GuestDevice& guest, const Device& device) {
    const std::string& bdf = guest.bdf.value;
    auto unit = [&] { return device.unit.value_or(""); };
    if (!device.group) {
      return out.add(Outcome::kFail, [&] {
        return said(device_key(i), guest.bdf.pos, unit(), bdf + ": no iommu_group link",
                    bdf + " is in no IOMMU group", std::string(kEnableIommuHint));
      });
    }
    const uint64_t group = *device.group;
    auto evidence = [&] { return bdf + ": iommu_group -> " + str(group); };
    if (!ctx.index.groups.find(group)) {
      return out.add(Outcome::kUnknown, [&] {
        return said(device_key(i), guest.bdf.pos, unit(), evidence(),
                    bdf + " is in group " + str(group) + ", which this host does not describe");
      });
    }
    out.add(Outcome::kPass, [&] {
      return said(device_key(i), guest.bdf.pos, unit(), evidence(),
                  bdf + " is in group " + str(group));
    });
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
// So a bridge bound to a driver that does not set driver_managed_dma is viable before v5.19
// and not from v5.19 on, and the kernel release the tree tells (/proc/sys/kernel/osrelease)
// decides. shpchp (drivers/pci/hotplug/shpchp_core.c, `static struct pci_driver shpc_driver`)
// sets no driver_managed_dma in any mainline version read, up to the 6.x tree with
// PCI_CLASS_BRIDGE_PCI_NORMAL; VFIO_GROUP_GET_STATUS on Debian 12's 6.1 under QEMU reports a
// pcie-pci-bridge bound to shpchp not viable (real-kernels-under-qemu.md). Vendor kernels
// can carry the 5.19 code back (RHEL 9's 5.14 backports the VFIO/iommufd rework), so an
// older "*.el*" release decides nothing; with no release at all the bridge stays unknown.

constexpr KernelVersion kDmaOwnershipVersion{5, 19};

/// What the kernel release says about a bridge bound to a driver without
/// driver_managed_dma: viable (old rule), not viable (DMA ownership), or nothing.
enum class BridgeRule { kUnknown, kViable, kNotViable };

BridgeRule bridge_rule(const Platform& platform) {
  if (!platform.kernel_release) return BridgeRule::kUnknown;
  std::optional<KernelVersion> version = parse_kernel_version(*platform.kernel_release);
  if (!version) return BridgeRule::kUnknown;
  if (*version >= kDmaOwnershipVersion) return BridgeRule::kNotViable;
  if (platform.kernel_release->find(".el") != std::string::npos) return BridgeRule::kUnknown;
  return BridgeRule::kViable;
}

bool is_dma_owner_safe(std::string_view driver) {
  if (driver == "pci-stub" || driver == "pcieport") return true;
  // vfio-pci, vfio-platform, vfio-amba, vfio-cdx and the *_vfio_pci / *-vfio-pci variants.
  return driver.starts_with("vfio") || driver.find("vfio_pci") != std::string_view::npos ||
         driver.find("vfio-pci") != std::string_view::npos;
}

std::string group_evidence(const Context& ctx, const Group& group) {
  std::vector<std::string> members;
  for (const std::string& name : group.devices) {
    const Device* device = ctx.index.devices.find(name);
    std::string driver = !device                 ? "not described"
                         : !device->driver_known ? "driver unknown"
                                                 : device->driver.value_or("unbound");
    members.push_back(name + " (" + driver + ")");
  }
  return "group " + str(group.id) + ": " + join(members, ", ");
}

bool is_assigned(const Context& ctx, std::string_view bdf) {
  return ctx.index.assigned.find(bdf) != nullptr;
}

void device_group_viable(const Context& ctx, Sink& out) {
  std::unordered_set<uint64_t> seen;
  over_devices(ctx, [&](size_t i, const GuestDevice& guest, const Device& device) {
    if (!device.group) return;
    if (!seen.insert(*device.group).second) return;  // once a group
    const Group* group = ctx.index.groups.find(*device.group);
    if (!group) return;  // device.group reports it
    const std::optional<std::string>& release = ctx.host.platform.kernel_release;
    // Set when the kernel release decided a bridge: the evidence then names it.
    bool release_used = false;
    auto group_name = [&] { return "group " + str(group->id); };
    auto finding = [&](std::string message, std::string hint = {}) {
      std::string evidence = group_evidence(ctx, *group);
      if (release_used) evidence += "; kernel release " + *release;
      return said(device_key(i), guest.bdf.pos, device.unit.value_or(""), std::move(evidence),
                  std::move(message), std::move(hint));
    };
    bool blocked = false;
    bool bridge_kept_driver = false;
    if (!group->devices_known) {
      blocked = true;
      out.add(Outcome::kUnknown,
              [&] { return finding("the members of " + group_name() + " could not be read"); });
    }
    for (const std::string& name : group->devices) {
      if (is_assigned(ctx, name)) continue;
      const Device* member = ctx.index.devices.find(name);
      if (!member) {
        blocked = true;
        out.add(Outcome::kUnknown, [&] {
          return finding(group_name() + " member " + name + " is not described by this host");
        });
        continue;
      }
      if (!member->driver_known) {
        blocked = true;
        out.add(Outcome::kUnknown, [&] {
          return finding("the driver of " + group_name() + " member " + name +
                         " could not be read");
        });
        continue;
      }
      if (!member->driver || is_dma_owner_safe(*member->driver)) continue;
      const std::string& driver = *member->driver;
      if (member->pci && member->pci->header_type != 0) {
        const BridgeRule rule = bridge_rule(ctx.host.platform);
        if (rule != BridgeRule::kUnknown) release_used = true;
        if (rule == BridgeRule::kViable) {
          bridge_kept_driver = true;
          continue;
        }
        blocked = true;
        if (rule == BridgeRule::kNotViable) {
          out.add(Outcome::kFail, [&] {
            return finding(group_name() + " is not viable: bridge " + name + " is bound to " +
                               driver + ", which does not set driver_managed_dma, and linux " +
                               *release + " (5.19 or later) requires that of every bound member",
                           "unbind " + name + " from " + driver);
          });
          continue;
        }
        out.add(Outcome::kUnknown, [&] {
          return finding("bridge " + name + " in " + group_name() + " is bound to " + driver +
                             ": viable before linux 5.19, not after unless " + driver +
                             " sets driver_managed_dma, and " +
                             (release ? "linux " + *release + " may carry the 5.19 rule back"
                                      : std::string("the kernel release is unknown (no "
                                                    "proc/sys/kernel/osrelease)")),
                         "unbind " + name + " from " + driver);
        });
        continue;
      }
      blocked = true;
      out.add(Outcome::kFail, [&] {
        return finding(group_name() + " is not viable: " + name + " is bound to " + driver,
                       "bind " + name + " to vfio-pci or unbind it from " + driver);
      });
    }
    if (blocked) return;
    out.add(Outcome::kPass, [&] {
      if (group->devices.size() <= 1)
        return finding(guest.bdf.value + " is alone in " + group_name());
      if (bridge_kept_driver) {
        return finding(group_name() +
                       " is viable: every other member is assigned, unbound, "
                       "DMA-owner-safe or a bridge, which linux " +
                       *release + " (before 5.19) lets keep its driver");
      }
      return finding(group_name() +
                     " is viable: every other member is assigned, unbound or DMA-owner-safe");
    });
  });
}

/// Evidence for a device whose extended capabilities are unknown: how much of `config` the
/// reader got, when it knows.
std::string unread_extended_evidence(const std::string& bdf, const Device& device) {
  if (!device.pci || device.pci->config_size == 0) {
    return bdf + ": extended config space not readable";
  }
  return bdf + ": config is " + str(static_cast<uint64_t>(device.pci->config_size)) +
         " bytes: extended config space not readable";
}

/// Evidence for an extended capability `what` the device lacks: a 256-byte config (root
/// gets the function's cfg_size) means the kernel has no extended space for it at all.
std::string absent_evidence(const std::string& bdf, const PciInfo& pci, std::string_view what) {
  if (pci.config_size == 256) return bdf + ": config is 256 bytes: no extended configuration space";
  return bdf + ": no " + std::string(what) + " capability";
}

void device_pasid(const Context& ctx, Sink& out) {
  const auto& ssid = ctx.guest.viommu.ssid_bits;
  if (!ssid || ssid->value <= 0) return;
  const int need = ssid->value;
  over_devices(ctx, [&](size_t i, const GuestDevice& guest, const Device& device) {
    const std::string& bdf = guest.bdf.value;
    auto finding = [&](std::string evidence, std::string message, std::string hint = {}) {
      return said(device_key(i), guest.bdf.pos, device.unit.value_or(""), std::move(evidence),
                  std::move(message), std::move(hint));
    };
    if (!device.pci || !device.pci->pasid) {
      return out.add(Outcome::kUnknown, [&] {
        return finding(unread_extended_evidence(bdf, device),
                       "guest needs " + str(need) + " PASID bits but the PASID capability of " +
                           bdf + " is unknown");
      });
    }
    const std::optional<PasidCapability>& cap = *device.pci->pasid;
    if (!cap) {
      return out.add(Outcome::kFail, [&] {
        return finding(
            absent_evidence(bdf, *device.pci, "PASID"),
            "guest needs " + str(need) + " PASID bits but " + bdf + " has no PASID capability",
            "set ssid_bits = 0 or assign a PASID-capable device");
      });
    }
    auto evidence = [&] {
      return bdf + ": PASID capability Max PASID Width = " + str(cap->max_width);
    };
    if (cap->max_width < need) {
      return out.add(Outcome::kFail, [&] {
        return finding(evidence(),
                       "guest needs " + str(need) + " PASID bits but " + bdf + " supports " +
                           supports(cap->max_width),
                       "set ssid_bits = " + str(cap->max_width) + " or lower");
      });
    }
    out.add(Outcome::kPass, [&] {
      return finding(evidence(), "guest needs " + str(need) + " PASID bits, " + bdf + " supports " +
                                     str(cap->max_width));
    });
  });
}

/// A device capability (ATS, PRI) the guest needs when it turns on `name`.
void device_capability(const Context& ctx, Sink& out,
                       const std::optional<Located<bool>>& guest_flag, std::string_view name,
                       std::string_view what, std::optional<bool> PciInfo::*capability) {
  if (!guest_flag || !guest_flag->value) return;
  over_devices(ctx, [&](size_t i, const GuestDevice& guest, const Device& device) {
    const std::string& bdf = guest.bdf.value;
    auto finding = [&](std::string evidence, std::string message, std::string hint = {}) {
      return said(device_key(i), guest.bdf.pos, device.unit.value_or(""), std::move(evidence),
                  std::move(message), std::move(hint));
    };
    const std::optional<bool> have = device.pci ? (*device.pci).*capability : std::nullopt;
    if (!have) {
      return out.add(Outcome::kUnknown, [&] {
        return finding(
            unread_extended_evidence(bdf, device),
            "guest needs " + std::string(what) + " but whether " + bdf + " has it is unknown");
      });
    }
    if (!*have) {
      return out.add(Outcome::kFail, [&] {
        return finding(absent_evidence(bdf, *device.pci, what),
                       "guest needs " + std::string(what) + " but " + bdf + " has no " +
                           std::string(what) + " capability",
                       "set " + std::string(name) + " = false");
      });
    }
    out.add(Outcome::kPass, [&] {
      return finding(bdf + ": " + std::string(what) + " capability present",
                     bdf + " supports " + std::string(what));
    });
  });
}

void device_ats(const Context& ctx, Sink& out) {
  device_capability(ctx, out, ctx.guest.viommu.ats, "ats", "ATS", &PciInfo::ats);
}

void device_pri(const Context& ctx, Sink& out) {
  device_capability(ctx, out, ctx.guest.viommu.page_requests, "page_requests", "PRI",
                    &PciInfo::pri);
}

}  // namespace

namespace {

/// The units a guest is checked against, given the host devices of its [[device]]s
/// (Context::devices); `ordered` sorts them naturally, which only the text of findings needs.
UnitSelection select_units(const Guest& guest, const Host& host, const Index& index,
                           const std::vector<const Device*>& devices, bool ordered) {
  UnitSelection out;
  std::vector<bool> chosen(host.units.size());
  auto add = [&](const Unit* unit) {
    const auto at = static_cast<size_t>(unit - host.units.data());
    if (chosen[at]) return;
    chosen[at] = true;
    out.units.push_back(unit);
  };
  const auto& named = guest.viommu.units;
  if (named && !named->value.empty()) {
    out.source = UnitSource::kNamed;
    for (const std::string& name : named->value) {
      if (const Unit* unit = index.units.find(name)) {
        add(unit);
      } else {
        out.missing.push_back(name);
      }
    }
  } else {
    out.source = UnitSource::kDevices;
    for (const Device* device : devices) {
      const Unit* unit = device && device->unit ? index.units.find(*device->unit) : nullptr;
      if (unit) add(unit);
    }
    if (out.units.empty()) {
      out.source = UnitSource::kAll;
      out.units.reserve(host.units.size());
      for (const Unit& unit : host.units) out.units.push_back(&unit);
    }
  }
  if (ordered) {
    std::sort(out.units.begin(), out.units.end(),
              [](const Unit* a, const Unit* b) { return natural_less(a->name, b->name); });
  }
  return out;
}

std::vector<const Device*> find_devices(const Guest& guest, const Index& index) {
  std::vector<const Device*> out;
  out.reserve(guest.devices.size());
  for (const GuestDevice& device : guest.devices)
    out.push_back(index.devices.find(device.bdf.value));
  return out;
}

}  // namespace

Context make_context(const Guest& guest, const Host& host, bool ordered) {
  Index index(guest, host);
  std::vector<const Device*> devices = find_devices(guest, index);
  UnitSelection selection = select_units(guest, host, index, devices, ordered);
  return Context{guest, host, std::move(index), std::move(selection), std::move(devices)};
}

std::span<const Rule> all_rules() {
  static constexpr Rule kRules[] = {
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
      {"device.assignable", device_assignable},
      {"device.iommu", device_iommu},
      {"device.group", device_group},
      {"device.group_viable", device_group_viable},
      {"device.pasid", device_pasid},
      {"device.ats", device_ats},
      {"device.pri", device_pri},
  };
  static_assert(std::size(kRules) <= Decision{}.failed.size(), "a Decision has a bit per rule");
  return kRules;
}

}  // namespace caps::rules
