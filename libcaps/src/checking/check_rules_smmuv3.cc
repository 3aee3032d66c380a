// SPDX-License-Identifier: MIT
// The smmuv3.* rules: an accelerated (nested) arm-smmu-v3 vIOMMU against each host SMMUv3, as
// QEMU's smmuv3_accel_check_hw_compatible() (hw/arm/smmuv3-accel.c, qemu/qemu 13b941aaff48,
// the smmuv3-accel series in 11.0) compares the vSMMU's ID registers with the host's
// IOMMU_GET_HW_INFO ones. QEMU's vSMMU (smmuv3_init_id_regs() in hw/arm/smmuv3.c) advertises a
// 2-level stream table (IDR0.STLEVEL=1), little-endian walks (TTENDIAN=2), AArch64 tables
// (TTF=2), 16 StreamID bits (SIDSIZE=16), range invalidation unless ril=off (IDR3.RIL) and the
// 4K, 16K and 64K granules. SSIDSIZE, OAS and ATS, which it also compares, are the guest's own
// ssid_bits, output_bits and ats: width.ssid_bits, width.output_bits and feature.ats check them.
//
// The host facts are the SMMUv3 normalizer's extras (decode_smmuv3.cc: stream_table_levels,
// tt_endian, sid_bits, range_invalidation, granules) or, on a generic-layout unit, the files of
// the same names under arm-smmu-v3/.
#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "check_rules.h"
#include "model/model_table.h"

namespace caps::rules {
namespace {

// QEMU's vSMMU (hw/arm/smmuv3.c smmuv3_init_id_regs, 11.0).
constexpr int kVsmmuStreamTableLevels = 2;  // IDR0.STLEVEL = 1
constexpr int kVsmmuSidBits = 16;           // SMMU_IDR1_SIDSIZE

/// A nested vIOMMU of a model whose VMM compares it with the host's ID registers
/// (ModelInfo::accelerated_host_checks: arm-smmu-v3).
bool accelerated(const Guest& guest) {
  const auto& nested = guest.viommu.nested;
  const ModelInfo* model = find_model(guest.viommu.model.value);
  return model != nullptr && model->accelerated_host_checks && nested && nested->value;
}

/// A host fact as text: the unit's extra (from its registers), else its generic-layout file.
std::optional<std::string> fact_text(const Unit& unit, const std::string& key) {
  if (auto it = unit.extra.find(key); it != unit.extra.end()) {
    const Scalar& v = it->second;
    if (const bool* b = std::get_if<bool>(&v)) return std::string(*b ? "1" : "0");
    if (const int64_t* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
    return std::get<std::string>(v);
  }
  if (auto it = unit.properties.find(key); it != unit.properties.end()) return it->second;
  return std::nullopt;
}

std::optional<int64_t> fact_int(const Unit& unit, const std::string& key) {
  const std::optional<std::string> text = fact_text(unit, key);
  if (!text) return std::nullopt;
  int64_t v = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

std::string fact_evidence(const Unit& unit, const std::string& key) {
  if (auto it = unit.evidence.find(key); it != unit.evidence.end())
    return unit.name + ": " + it->second;
  if (std::optional<std::string> text = fact_text(unit, key))
    return unit.name + ": " + key + " = " + *text;
  return unit.name + ": " + key + " unknown (" + std::string(to_string(unit.layout)) +
         " layout; iommufd's IOMMU_GET_HW_INFO gives it)";
}

/// The shape every smmuv3.* rule shares: skips guests that are not accelerated SMMUv3, passes
/// units of another known model (the `model` rule fails those), and reports a unit of unknown
/// model or without the fact as unknown. `judge_unit(unit, judge)` decides the rest.
template <class JudgeUnit>
void over_smmu_units(const Context& ctx, Sink& out, std::string_view what, JudgeUnit&& judge_unit) {
  if (!accelerated(ctx.guest)) return;
  const auto& nested = *ctx.guest.viommu.nested;
  over_units(ctx, out, "viommu.nested", nested.pos, [&](const Unit& unit, Judge& judge) {
    if (unit.model != ctx.guest.viommu.model.value) {
      if (!is_known_model(unit.model)) {
        return judge.unknown([&] { return model_evidence(unit); },
                             [&] {
                               return "an accelerated arm-smmu-v3 needs the host SMMU's " +
                                      std::string(what) + "; the model of " + unit.name +
                                      " is unknown";
                             });
      }
      return judge.pass(
          0, [&] { return model_evidence(unit); },
          [&] {
            return std::string(what) + " does not apply to " + unit.name + " (" + unit.model + ")";
          });
    }
    return judge_unit(unit, judge);
  });
}

Judged unknown_fact(const Unit& unit, Judge& judge, const std::string& key, std::string_view what) {
  return judge.unknown([&] { return fact_evidence(unit, key); },
                       [&] {
                         return "an accelerated arm-smmu-v3 needs the host SMMU's " +
                                std::string(what) + "; " + key + " of " + unit.name + " is unknown";
                       });
}

std::string no_option(std::string_view what) {
  return "QEMU's arm-smmuv3 always advertises " + std::string(what) +
         " (no option changes it): give the VM a host SMMU that has it, or use accel=off "
         "(nested = false)";
}

// "Host SMMUv3 Stream Table format mismatch": host IDR0.STLEVEL != the vSMMU's.
void smmuv3_stream_table(const Context& ctx, Sink& out) {
  const std::string key = "stream_table_levels";
  over_smmu_units(ctx, out, "stream table format", [&](const Unit& unit, Judge& judge) {
    const std::optional<int64_t> have = fact_int(unit, key);
    if (!have) return unknown_fact(unit, judge, key, "stream table format");
    auto evidence = [&] { return fact_evidence(unit, key); };
    if (*have != kVsmmuStreamTableLevels) {
      return judge.fail(
          evidence,
          [&] {
            return "QEMU's accelerated arm-smmuv3 has a 2-level stream table (IDR0.STLEVEL=1) "
                   "but " +
                   unit.name + "'s has " + std::to_string(*have) + " level(s)";
          },
          [&] { return no_option("a 2-level stream table"); });
    }
    return judge.pass(0, evidence, [&] { return unit.name + " has a 2-level stream table"; });
  });
}

// "Host SMMUv3 doesn't support Little-endian translation table": host TTENDIAN > 2 (big only).
void smmuv3_tt_endian(const Context& ctx, Sink& out) {
  const std::string key = "tt_endian";
  over_smmu_units(ctx, out, "table endianness", [&](const Unit& unit, Judge& judge) {
    const std::optional<std::string> have = fact_text(unit, key);
    if (!have) return unknown_fact(unit, judge, key, "table endianness");
    auto evidence = [&] { return fact_evidence(unit, key); };
    if (*have == "big") {
      return judge.fail(
          evidence,
          [&] {
            return "QEMU's accelerated arm-smmuv3 walks little-endian tables but " + unit.name +
                   " walks big-endian tables only";
          },
          [&] { return no_option("little-endian tables"); });
    }
    return judge.pass(0, evidence,
                      [&] { return unit.name + " walks little-endian tables (" + *have + ")"; });
  });
}

// "Host SMMUv3 doesn't support AArch64 translation table format": host TTF < 2.
void smmuv3_ttf(const Context& ctx, Sink& out) {
  over_smmu_units(ctx, out, "table format", [&](const Unit& unit, Judge& judge) {
    const auto& have = unit.caps.pgtable_formats;
    auto evidence = [&] { return unit_evidence(unit, "pgtable_formats", have); };
    if (!have) return unknown_fact(unit, judge, "pgtable_formats", "table format (IDR0.TTF)");
    if (std::find(have->begin(), have->end(), "lpae-64") == have->end()) {
      return judge.fail(
          evidence,
          [&] {
            return "QEMU's accelerated arm-smmuv3 uses AArch64 (lpae-64) tables but " + unit.name +
                   " has " + (have->empty() ? std::string("none") : str(*have));
          },
          [&] { return no_option("AArch64 tables"); });
    }
    return judge.pass(0, evidence, [&] { return unit.name + " walks AArch64 tables"; });
  });
}

// "Host SMMUv3 SIDSIZE not compatible": host IDR1.SIDSIZE < the vSMMU's 16.
void smmuv3_sid_bits(const Context& ctx, Sink& out) {
  const std::string key = "sid_bits";
  over_smmu_units(ctx, out, "StreamID width", [&](const Unit& unit, Judge& judge) {
    const std::optional<int64_t> have = fact_int(unit, key);
    if (!have) return unknown_fact(unit, judge, key, "StreamID width");
    auto evidence = [&] { return fact_evidence(unit, key); };
    if (*have < kVsmmuSidBits) {
      return judge.fail(
          evidence,
          [&] {
            return "QEMU's accelerated arm-smmuv3 has 16 StreamID bits but " + unit.name + " has " +
                   std::to_string(*have);
          },
          [&] { return no_option("16 StreamID bits"); });
    }
    return judge.pass(*have, evidence, [&] {
      return unit.name + " has " + std::to_string(*have) + " StreamID bits";
    });
  });
}

// "Host SMMUv3 doesn't support Range Invalidation": host IDR3.RIL < the vSMMU's (ril=on).
void smmuv3_range_invalidation(const Context& ctx, Sink& out) {
  const std::string key = "range_invalidation";
  over_smmu_units(ctx, out, "range invalidation", [&](const Unit& unit, Judge& judge) {
    const std::optional<int64_t> have = fact_int(unit, key);
    if (!have) return unknown_fact(unit, judge, key, "range invalidation (IDR3.RIL)");
    auto evidence = [&] { return fact_evidence(unit, key); };
    if (*have == 0) {
      return judge.fail(
          evidence,
          [&] {
            return "QEMU's accelerated arm-smmuv3 advertises range invalidation (ril=on, the "
                   "default) but " +
                   unit.name + " has none";
          },
          [&] {
            return ctx.guest.vmm.syntax == GuestSyntax::kToml
                       ? std::string(
                             "run QEMU with ril=off on -device arm-smmuv3 (a guest file "
                             "has no key for it)")
                       : std::string("set ril=off on -device arm-smmuv3");
          });
    }
    return judge.pass(0, evidence, [&] { return unit.name + " has range invalidation"; });
  });
}

// "Host SMMUv3 doesn't support 4K/16K/64K translation granule": each granule must match.
void smmuv3_granules(const Context& ctx, Sink& out) {
  const std::string key = "granules";
  over_smmu_units(ctx, out, "translation granules", [&](const Unit& unit, Judge& judge) {
    const std::optional<std::string> have = fact_text(unit, key);
    if (!have) return unknown_fact(unit, judge, key, "translation granules (IDR5.GRAN*)");
    auto evidence = [&] { return fact_evidence(unit, key); };
    std::string missing;
    for (std::string_view g : {"4K", "16K", "64K"}) {
      bool found = false;
      std::string_view rest = *have;
      while (!rest.empty()) {
        const size_t comma = rest.find(',');
        if (rest.substr(0, comma) == g) found = true;
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
      if (!found) missing += (missing.empty() ? "" : ", ") + std::string(g);
    }
    if (!missing.empty()) {
      return judge.fail(
          evidence,
          [&] {
            return "QEMU's accelerated arm-smmuv3 advertises the 4K, 16K and 64K granules but " +
                   unit.name + " lacks " + missing;
          },
          [&] { return no_option("the 4K, 16K and 64K granules"); });
    }
    return judge.pass(0, evidence, [&] { return unit.name + " has the 4K, 16K and 64K granules"; });
  });
}

}  // namespace

std::string smmuv3_accel_blocker(const Unit& unit) {
  Guest guest;
  guest.viommu.model = Located<std::string>{std::string(kModelArmSmmuV3), {}};
  guest.viommu.nested = Located<bool>{true, {}};
  Host host;
  host.units.push_back(unit);
  const Context ctx = make_context(guest, host, false);
  std::vector<Finding> findings;
  Sink sink(mask_of(Outcome::kFail) | mask_of(Outcome::kUnknown), &findings);
  for (const Rule& rule : smmuv3_rules()) {
    rule.run(ctx, sink);
    if (!findings.empty()) return std::string(rule.id) + ": " + findings.front().message;
  }
  return {};
}

std::span<const Rule> smmuv3_rules() {
  static constexpr Rule kRules[] = {
      {"smmuv3.stream_table", smmuv3_stream_table},
      {"smmuv3.tt_endian", smmuv3_tt_endian},
      {"smmuv3.ttf", smmuv3_ttf},
      {"smmuv3.sid_bits", smmuv3_sid_bits},
      {"smmuv3.range_invalidation", smmuv3_range_invalidation},
      {"smmuv3.granules", smmuv3_granules},
  };
  return kRules;
}

}  // namespace caps::rules
