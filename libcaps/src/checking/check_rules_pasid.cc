// SPDX-License-Identifier: MIT
// The pasid_table.* and pasid_alloc.* rules: the guest's PASID table configuration and the
// PASIDs it allocates, against the uAPI and each unit. Vendor facts come from the model table.
#include "check_rules.h"

#include <algorithm>

#include "libcaps/parse.h"
#include "model/model_table.h"

namespace caps::rules {
namespace {

// ---------------------------------------------------------------------------------------------
// pasid_table.*

/// The table formats that fit a unit model, as a hint spells them: its own, then "host".
std::string table_models_for(std::string_view unit_model) {
  std::vector<std::string> names;
  if (const ModelInfo* model = find_model(unit_model)) {
    for (PasidTableModel table : model->pasid_tables) names.push_back(quoted(to_string(table)));
  }
  names.push_back(quoted(to_string(PasidTableModel::kHost)));
  return list_of(names, " or ");
}

/// The model whose PASID table is an SMMUv3 CD table, the one s1dss applies to.
constexpr const ModelInfo& s1dss_model() {
  for (const ModelInfo& model : kModels) {
    if (model.s1dss) return model;
  }
  throw "the model table has no model with s1dss";  // fails the constant evaluation below
}
constexpr const ModelInfo& kS1dssModel = s1dss_model();

/// The table formats s1dss applies to: "arm-1lvl and arm-2lvl".
std::string s1dss_tables() {
  std::vector<std::string> names;
  for (PasidTableModel table : kS1dssModel.pasid_tables) names.emplace_back(to_string(table));
  return join(names, " and ");
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
  const ModelInfo* want = model_for_table(model);
  over_units(ctx, out, "pasid_table.model", pos, [&](const Unit& unit, Judge& judge) {
    auto evidence = [&] { return model_evidence(unit); };
    if (!want) {
      return judge.pass(0, evidence,
                        [&] { return "a host table follows " + unit.name + "'s own format"; });
    }
    auto needs = [&] {
      return "pasid_table model " + std::string(name) + " needs the unit to be " +
             std::string(want->name) + " but " + unit.name;
    };
    if (unit.model == kModelUnknown) {
      return judge.unknown(evidence, [&] { return needs() + "'s model is unknown"; });
    }
    if (unit.model != want->name) {
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
  const ModelInfo* table_unit_model = model_for_table(model);
  if (table_unit_model) {
    const uint64_t alignment = table_unit_model->table_alignment;
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
      const ModelInfo* unit_model = find_model(unit.model);
      const std::optional<uint64_t> alignment =
          unit_model && unit_model->table_alignment != 0
              ? std::optional<uint64_t>(unit_model->table_alignment)
              : std::nullopt;
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
    const bool by_output =
        unit.caps.output_bits.has_value() || !layout_info(unit.layout).omits_output_and_stall;
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
  const ModelInfo* owner = model_for_table(model);
  if (owner && owner->s1dss) {
    return out.add(Outcome::kPass, [&] {
      return said(key, pos, "", evidence(),
                  "s1dss = " + std::string(s1dss) + " applies to an " +
                      std::string(to_string(model)) + " table");
    });
  }
  if (model != PasidTableModel::kHost) {
    return out.add(Outcome::kFail, [&] {
      return said(key, pos, "", evidence(),
                  "s1dss applies only to " + s1dss_tables() + " tables, not " +
                      std::string(to_string(model)),
                  "remove s1dss");
    });
  }
  // A host table is an SMMUv3 CD table only on an SMMUv3 unit.
  over_units(ctx, out, key, pos, [&](const Unit& unit, Judge& judge) {
    auto by_model = [&] { return model_evidence(unit); };
    auto needs = [&] { return "s1dss needs an " + std::string(kS1dssModel.name) + " unit but "; };
    if (unit.model == kModelUnknown) {
      return judge.unknown(by_model,
                           [&] { return needs() + unit.name + "'s model is unknown"; });
    }
    if (unit.model != kS1dssModel.name) {
      return judge.fail(
          by_model, [&] { return needs() + unit.name + " is " + unit.model; },
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

}  // namespace

std::span<const Rule> pasid_table_rules() {
  static constexpr Rule kRules[] = {
      {"pasid_table.version", pasid_table_version},
      {"pasid_table.bytes", pasid_table_bytes},
      {"pasid_table.model", pasid_table_model},
      {"pasid_table.base_ptr", pasid_table_base_ptr},
      {"pasid_table.pasid_bits", pasid_table_pasid_bits},
      {"pasid_table.s1dss", pasid_table_s1dss},
  };
  return kRules;
}

std::span<const Rule> pasid_alloc_rules() {
  static constexpr Rule kRules[] = {
      {"pasid_alloc.range", pasid_alloc_range},
      {"pasid_alloc.count", pasid_alloc_count},
      {"pasid_alloc.quota", pasid_alloc_quota},
      {"pasid_alloc.reserved_pasid0", pasid_alloc_reserved_pasid0},
  };
  return kRules;
}

}  // namespace caps::rules
