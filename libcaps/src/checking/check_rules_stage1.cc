// SPDX-License-Identifier: MIT
// The stage1.* rules: the nested stage-1 data a VMM passes to IOMMU_HWPT_ALLOC ([stage1], what
// the 2018 pasid_table_config became), checked by the rules the kernel applies when it takes
// that data, and by the SMMUv3 architecture where the kernel leaves the check to the hardware.
//
// Sources (each rule names its own):
// - VT-d: drivers/iommu/intel/pasid.c, intel_pasid_setup_nested (Linux 6.8 on; the same checks
//   guard the replace path): addr_width must be 48 (4-level) or 57 (5-level, needs
//   CAP_REG.FL5LP); IOMMU_VTD_S1_SRE needs ECAP_REG.SRS; IOMMU_VTD_S1_EAFE needs ECAP_REG.EAFS;
//   each refused with -EINVAL at attach. WPE is only set together with SRE.
// - SMMUv3: drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-iommufd.c, arm_smmu_validate_vste (Linux
//   6.13 on; the EATS check from 6.14): Config must be abort, bypass or stage-1 translate, and
//   EATS abort or translate, else -EIO; EATS=translate turns ATS on for the device.
// - SMMUv3 architecture (Arm IHI 0070, STE): S1CDMax above SMMU_IDR1.SSIDSIZE, or S1Fmt naming
//   a 2-level table without SMMU_IDR0.CD2L, make the STE ILLEGAL (C_BAD_STE); S1ContextPtr
//   holds address bits [51:6], so the table is 64-byte aligned, and it is an IPA, within IAS.
// - Nesting at all: the unit's `nested` (VT-d ECAP_REG.NEST; SMMUv3 IDR0.S1P and S2P), which
//   IOMMU_HWPT_ALLOC_NEST_PARENT needs (intel_iommu_domain_alloc_paging_flags,
//   arm_vsmmu_alloc).
#include <optional>
#include <string>

#include "check_rules.h"
#include "libcaps/parse.h"

namespace caps::rules {
namespace {

/// The model a stage-1 type is written for.
std::string_view model_of(Stage1Type type) {
  return type == Stage1Type::kArmSmmuV3 ? kModelArmSmmuV3 : kModelIntelVtd;
}

/// A decoded field of the unit's register `reg` ("CAP_REG", "ECAP_REG", "SMMU_IDR0"), if read.
std::optional<uint64_t> field_of(const Unit& unit, std::string_view reg, std::string_view field) {
  for (const RegisterFile& file : unit.registers) {
    if (file.main.name == reg) return file.main.field(field);
    if (file.second && file.second->name == reg) return file.second->field(field);
  }
  return std::nullopt;
}

/// The key's position, else the [stage1] header's.
template <class T>
SourcePos at(const GuestStage1& s, const std::optional<Located<T>>& key) {
  return key ? pos_or(key->pos, s.pos) : s.pos;
}

/// Judges a unit that is not of the type's model: its own finding is stage1.type's.
template <class Judge>
Judged other_model(const Unit& unit, Stage1Type type, Judge& judge) {
  return judge.unknown([&] { return model_evidence(unit); },
                       [&] {
                         return unit.name + " is " + unit.model + ", not the " +
                                std::string(model_of(type)) + " this [stage1] is for";
                       });
}

/// Per unit: register field `reg`.`field` must be 1 for a setting the guest turns on.
void needs_field(const Context& ctx, Sink& out, std::string_view key, SourcePos pos,
                 std::string_view reg, std::string_view field, std::string_view what,
                 std::string_view kernel, std::string hint) {
  const GuestStage1& s = *ctx.guest.stage1;
  over_units(ctx, out, key, pos, [&](const Unit& unit, Judge& judge) {
    if (unit.model != model_of(s.type.value)) return other_model(unit, s.type.value, judge);
    const std::optional<uint64_t> bit = field_of(unit, reg, field);
    const std::string name = std::string(reg == "CAP_REG"    ? "cap"
                                         : reg == "ECAP_REG" ? "ecap"
                                                             : reg) +
                             "." + std::string(field);
    auto evidence = [&] {
      return unit.name + ": " + name + (bit ? " = " + str(*bit) : " unknown (no register)");
    };
    if (!bit) {
      return judge.unknown(evidence, [&] {
        return "cannot tell whether " + unit.name + " supports " + std::string(what);
      });
    }
    if (*bit == 0) {
      return judge.fail(
          evidence,
          [&] {
            return std::string(what) + " needs " + name + " but " + unit.name +
                   " does not have it (" + std::string(kernel) + ")";
          },
          [&] { return hint; });
    }
    return judge.pass(0, evidence,
                      [&] { return unit.name + " supports " + std::string(what); });
  });
}

// ---------------------------------------------------------------------------------------------
// Both types

void stage1_type(const Context& ctx, Sink& out) {
  const auto& s = ctx.guest.stage1;
  if (!s) return;
  const Stage1Type type = s->type.value;
  const std::string_view want = model_of(type);
  over_units(ctx, out, "stage1.type", pos_or(s->type.pos, s->pos),
             [&](const Unit& unit, Judge& judge) {
               auto evidence = [&] { return model_evidence(unit); };
               if (unit.model == kModelUnknown) {
                 return judge.unknown(evidence, [&] {
                   return "cannot tell whether " + unit.name + " takes " +
                          std::string(to_string(type)) + " data: its model is unknown";
                 });
               }
               if (unit.model != want) {
                 return judge.fail(
                     evidence,
                     [&] {
                       return "type = " + quoted(to_string(type)) + " is the stage-1 data of " +
                              std::string(want) + " units but " + unit.name + " is " +
                              unit.model + " (the kernel refuses other data types with "
                              "-EOPNOTSUPP)";
                     },
                     [&] {
                       return "set type = " +
                              quoted(unit.model == kModelArmSmmuV3 ? "arm_smmuv3" : "vtd_s1") +
                              " if " + unit.model + " nests, or leave [stage1] out";
                     });
               }
               return judge.pass(0, evidence, [&] {
                 return std::string(to_string(type)) + " is " + unit.name + "'s stage-1 data";
               });
             });
}

void stage1_nesting(const Context& ctx, Sink& out) {
  const auto& s = ctx.guest.stage1;
  // With viommu.nested = true, feature.nested judges the same fact (and names the option).
  if (!s || (ctx.guest.viommu.nested && ctx.guest.viommu.nested->value)) return;
  over_units(ctx, out, "stage1.nesting", s->pos, [&](const Unit& unit, Judge& judge) {
    const std::optional<bool>& nested = unit.caps.nested;
    auto evidence = [&] { return unit_evidence(unit, "nested", nested); };
    if (!nested) {
      return judge.unknown(evidence, [&] {
        return "cannot tell whether " + unit.name + " can be a nesting parent";
      });
    }
    if (!*nested) {
      return judge.fail(
          evidence,
          [&] {
            return "[stage1] needs a nesting parent domain (IOMMU_HWPT_ALLOC_NEST_PARENT) but " +
                   unit.name + " does not nest";
          },
          [&] { return std::string("leave [stage1] out and use an emulated vIOMMU"); });
    }
    return judge.pass(0, evidence, [&] { return unit.name + " nests"; });
  });
}

// ---------------------------------------------------------------------------------------------
// vtd_s1: struct iommu_hwpt_vtd_s1

bool is_vtd(const std::optional<GuestStage1>& s) {
  return s && s->type.value == Stage1Type::kVtdS1;
}

void stage1_addr_width(const Context& ctx, Sink& out) {
  const auto& s = ctx.guest.stage1;
  if (!is_vtd(s) || !s->addr_width) return;
  const int width = s->addr_width->value;
  constexpr std::string_view key = "stage1.addr_width";
  const SourcePos pos = at(*s, s->addr_width);
  if (width != 48 && width != 57) {
    return out.add(Outcome::kFail, [&] {
      return said(key, pos, "", "intel_pasid_setup_nested takes 48 (4-level) or 57 (5-level)",
                  "addr_width = " + str(width) +
                      " is no first-stage paging mode (the kernel: \"Invalid stage-1 address "
                      "width\", -EINVAL)",
                  "set addr_width = 48");
    });
  }
  if (width == 48) {
    return out.add(Outcome::kPass, [&] {
      return said(key, pos, "", "4-level first-stage paging is always supported",
                  "addr_width = 48 is 4-level paging");
    });
  }
  needs_field(ctx, out, key, pos, "CAP_REG", "FL5LP", "5-level first-stage paging",
              "intel_pasid_setup_nested: \"5-level paging not supported\", -EINVAL",
              "set addr_width = 48");
}

void stage1_sre(const Context& ctx, Sink& out) {
  const auto& s = ctx.guest.stage1;
  if (!is_vtd(s)) return;
  const bool sre = s->sre && s->sre->value;
  const bool wpe = s->wpe && s->wpe->value;
  constexpr std::string_view key = "stage1.sre";
  if (wpe && !sre) {
    out.add(Outcome::kWarn, [&] {
      return said(key, at(*s, s->wpe), "", "pasid_pte_config_nestd sets WPE only with SRE",
                  "wpe = true has no effect without sre = true", "set sre = true or drop wpe");
    });
  }
  if (!sre) return;
  needs_field(ctx, out, key, at(*s, s->sre), "ECAP_REG", "SRS", "supervisor requests (sre)",
              "intel_pasid_setup_nested: \"No supervisor request support\", -EINVAL",
              "set sre = false");
}

void stage1_eafe(const Context& ctx, Sink& out) {
  const auto& s = ctx.guest.stage1;
  if (!is_vtd(s) || !s->eafe || !s->eafe->value) return;
  needs_field(ctx, out, "stage1.eafe", at(*s, s->eafe), "ECAP_REG", "EAFS",
              "the extended access flag (eafe)",
              "intel_pasid_setup_nested: \"No extended access flag support\", -EINVAL",
              "set eafe = false");
}

/// A guest-physical table pointer: aligned to `alignment` and within the unit's input width
/// (the second stage translates it).
void table_pointer(const Context& ctx, Sink& out, std::string_view key, SourcePos pos,
                   std::string_view name, uint64_t address, uint64_t alignment,
                   std::string_view why_aligned) {
  if (address % alignment != 0) {
    out.add(Outcome::kFail, [&] {
      return said(key, pos, "", std::string(why_aligned),
                  std::string(name) + " " + format_hex(address) + " is not aligned to " +
                      str(alignment) + " bytes",
                  "set " + std::string(name) + " = " + format_hex(address & ~(alignment - 1)) +
                      " or another " + str(alignment) + "-byte aligned address");
    });
    out.skip_passes();
  }
  over_units(ctx, out, key, pos, [&](const Unit& unit, Judge& judge) {
    const std::optional<int>& bits = unit.caps.input_bits;
    auto evidence = [&] { return unit_evidence(unit, "input_bits", bits); };
    if (!bits) {
      return judge.unknown(evidence, [&] {
        return "cannot check " + std::string(name) + " " + format_hex(address) +
               " against the input width of " + unit.name + " (unknown)";
      });
    }
    if (!fits(address, *bits)) {
      return judge.fail(
          evidence,
          [&] {
            return std::string(name) + " " + format_hex(address) + " needs " +
                   str(bits_needed(address)) + " address bits but the second stage of " +
                   unit.name + " takes " + str(*bits);
          },
          [&] { return "place the table below " + format_hex(largest_in(*bits) + 1); });
    }
    return judge.pass(*bits, evidence, [&] {
      return std::string(name) + " " + format_hex(address) + " is within " + unit.name + "'s " +
             str(*bits) + " input bits";
    });
  });
}

void stage1_pgtbl_addr(const Context& ctx, Sink& out) {
  const auto& s = ctx.guest.stage1;
  if (!is_vtd(s) || !s->pgtbl_addr) return;
  table_pointer(ctx, out, "stage1.pgtbl_addr", at(*s, s->pgtbl_addr), "pgtbl_addr",
                s->pgtbl_addr->value, 4096,
                "the PASID entry's first-stage pointer holds address bits 63:12 "
                "(pasid_set_flptr drops the rest)");
}

// ---------------------------------------------------------------------------------------------
// arm_smmuv3: the vSTE of struct iommu_hwpt_arm_smmuv3

bool is_smmu(const std::optional<GuestStage1>& s) {
  return s && s->type.value == Stage1Type::kArmSmmuV3;
}

/// Stage-1 fields count only when the STE translates at stage 1 (an absent config is taken to).
bool translates(const GuestStage1& s) {
  return !s.config || s.config->value == SteConfig::kS1Trans;
}

void stage1_config(const Context& ctx, Sink& out) {
  const auto& s = ctx.guest.stage1;
  if (!is_smmu(s) || !s->config) return;
  const SteConfig config = s->config->value;
  const SourcePos pos = at(*s, s->config);
  constexpr std::string_view evidence =
      "arm_smmu_validate_vste takes Config abort, bypass or s1-trans";
  if (config == SteConfig::kS2Trans || config == SteConfig::kNested) {
    return out.add(Outcome::kFail, [&] {
      return said("stage1.config", pos, "", std::string(evidence),
                  "config = " + quoted(to_string(config)) +
                      " is refused (-EIO): the host owns stage 2 of a nested STE",
                  "set config = \"s1-trans\"");
    });
  }
  out.add(Outcome::kPass, [&] {
    return said("stage1.config", pos, "", std::string(evidence),
                "config = " + quoted(to_string(config)) + " is a vSTE the kernel takes");
  });
}

void stage1_eats(const Context& ctx, Sink& out) {
  const auto& s = ctx.guest.stage1;
  if (!is_smmu(s) || !s->eats) return;
  const Eats eats = s->eats->value;
  constexpr std::string_view key = "stage1.eats";
  const SourcePos pos = at(*s, s->eats);
  if (eats == Eats::kSplit) {
    return out.add(Outcome::kFail, [&] {
      return said(key, pos, "", "arm_smmu_validate_vste: only EATS abort or trans (Linux 6.14)",
                  "eats = \"split\" is refused (-EIO)", "set eats = \"trans\" or \"abort\"");
    });
  }
  if (eats == Eats::kAbort) {
    return out.add(Outcome::kPass, [&] {
      return said(key, pos, "", "EATS abort: the device's ATS stays off",
                  "eats = \"abort\" needs no ATS");
    });
  }
  over_units(ctx, out, key, pos, [&](const Unit& unit, Judge& judge) {
    if (unit.model != kModelArmSmmuV3) return other_model(unit, s->type.value, judge);
    const std::optional<bool>& ats = unit.caps.ats;
    auto evidence = [&] { return unit_evidence(unit, "ats", ats); };
    if (!ats) {
      return judge.unknown(evidence,
                           [&] { return "cannot tell whether " + unit.name + " has ATS"; });
    }
    if (!*ats) {
      return judge.fail(
          evidence,
          [&] {
            return "eats = \"trans\" turns ATS on for the device but " + unit.name +
                   " has no ATS (IDR0.ATS = 0)";
          },
          [&] { return std::string("set eats = \"abort\""); });
    }
    return judge.pass(0, evidence, [&] { return unit.name + " has ATS for eats = \"trans\""; });
  });
}

void stage1_s1cdmax(const Context& ctx, Sink& out) {
  const auto& s = ctx.guest.stage1;
  if (!is_smmu(s) || !s->s1cdmax || !translates(*s)) return;
  const int cdmax = s->s1cdmax->value;
  over_units(ctx, out, "stage1.s1cdmax", at(*s, s->s1cdmax), [&](const Unit& unit, Judge& judge) {
    if (unit.model != kModelArmSmmuV3) return other_model(unit, s->type.value, judge);
    const std::optional<int>& ssid = unit.caps.ssid_bits;
    auto evidence = [&] { return unit_evidence(unit, "ssid_bits", ssid); };
    if (!ssid) {
      return judge.unknown(evidence, [&] {
        return "cannot check s1cdmax = " + str(cdmax) + " against " + unit.name +
               "'s SSIDSIZE (unknown)";
      });
    }
    if (cdmax > *ssid) {
      return judge.fail(
          evidence,
          [&] {
            return "s1cdmax = " + str(cdmax) + " exceeds " + unit.name + "'s SSIDSIZE of " +
                   str(*ssid) + ": the STE is ILLEGAL (C_BAD_STE, Arm IHI 0070 STE.S1CDMax)";
          },
          [&] { return "set s1cdmax = " + str(*ssid) + " or lower"; });
    }
    return judge.pass(*ssid - cdmax, evidence, [&] {
      return "s1cdmax = " + str(cdmax) + " is within " + unit.name + "'s SSIDSIZE of " +
             str(*ssid);
    });
  });
}

void stage1_s1fmt(const Context& ctx, Sink& out) {
  const auto& s = ctx.guest.stage1;
  if (!is_smmu(s) || !s->s1fmt || !translates(*s)) return;
  constexpr std::string_view key = "stage1.s1fmt";
  const SourcePos pos = at(*s, s->s1fmt);
  if (s->s1fmt->value == S1Fmt::kLinear || (s->s1cdmax && s->s1cdmax->value == 0)) {
    return out.add(Outcome::kPass, [&] {
      return said(key, pos, "", "a linear table, or S1CDMax = 0 (S1Fmt ignored)",
                  "s1fmt = " + quoted(to_string(s->s1fmt->value)) + " needs no 2-level support");
    });
  }
  needs_field(ctx, out, key, pos, "SMMU_IDR0", "CD2L", "2-level context-descriptor tables",
              "Arm IHI 0070: S1Fmt 2-level without SMMU_IDR0.CD2L makes the STE ILLEGAL",
              "set s1fmt = \"linear\"");
}

void stage1_s1_context_ptr(const Context& ctx, Sink& out) {
  const auto& s = ctx.guest.stage1;
  if (!is_smmu(s) || !s->s1_context_ptr || !translates(*s)) return;
  table_pointer(ctx, out, "stage1.s1_context_ptr", at(*s, s->s1_context_ptr), "s1_context_ptr",
                s->s1_context_ptr->value, 64,
                "STE.S1ContextPtr holds address bits 51:6 (Arm IHI 0070)");
}

}  // namespace

std::span<const Rule> stage1_rules() {
  static constexpr Rule kRules[] = {
      {"stage1.type", stage1_type},
      {"stage1.nesting", stage1_nesting},
      {"stage1.addr_width", stage1_addr_width},
      {"stage1.sre", stage1_sre},
      {"stage1.eafe", stage1_eafe},
      {"stage1.pgtbl_addr", stage1_pgtbl_addr},
      {"stage1.config", stage1_config},
      {"stage1.eats", stage1_eats},
      {"stage1.s1cdmax", stage1_s1cdmax},
      {"stage1.s1fmt", stage1_s1fmt},
      {"stage1.s1_context_ptr", stage1_s1_context_ptr},
  };
  return kRules;
}

}  // namespace caps::rules
