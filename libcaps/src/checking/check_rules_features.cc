// SPDX-License-Identifier: MIT
// The feature.* rules: features the guest turns on (httu, stall, btm, nesting, ATS, page
// requests, dirty tracking, page-table format) against each unit.
#include "check_rules.h"

#include <algorithm>

#include "model/model_table.h"

namespace caps::rules {
namespace {

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
          [&] {
            return set_hint(ctx.guest, "httu",
                            quoted(str(tightest(ctx, &Caps::httu).value_or(*have))));
          });
    }
    return judge.pass(static_cast<int64_t>(*have), evidence, [&] {
      return "guest needs httu " + str(need) + ", " + unit.name + " has " + str(*have);
    });
  });
}

void feature_stall(const Context& ctx, Sink& out) {
  const auto& guest = ctx.guest.viommu.stall;
  if (!guest) return;
  const Stall need = guest->value;
  over_units(ctx, out, "viommu.stall", guest->pos, [&](const Unit& unit, Judge& judge) {
    const std::optional<Stall>& have = unit.caps.stall;
    auto evidence = [&] { return unit_evidence(unit, "stall", have); };
    if (!have && need == Stall::kDisabled && layout_info(unit.layout).omits_output_and_stall) {
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
          [&] { return set_hint(ctx.guest, "stall", "\"enabled\""); });
    }
    if (need != Stall::kDisabled && *have == Stall::kDisabled) {
      return judge.fail(
          evidence,
          [&] {
            return "guest needs stall " + str(need) + " but " + unit.name + " has stall disabled";
          },
          [&] { return set_hint(ctx.guest, "stall", "\"disabled\""); });
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
          [&] { return set_hint(ctx.guest, feature.name, "false"); });
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

}  // namespace

std::span<const Rule> feature_rules() {
  static constexpr Rule kRules[] = {
      {"feature.httu", feature_httu},
      {"feature.stall", feature_stall},
      {"feature.btm", feature_btm},
      {"feature.pgtable_format", feature_pgtable_format},
      {"feature.nested", feature_nested},
      {"feature.ats", feature_ats},
      {"feature.page_requests", feature_page_requests},
      {"feature.dirty_tracking", feature_dirty_tracking},
  };
  return kRules;
}

}  // namespace caps::rules
