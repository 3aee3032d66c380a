// SPDX-License-Identifier: MIT
// The units.exist and model rules: which host units a guest is checked against, and whether
// their model suits the vIOMMU.
#include "check_rules.h"

#include "model/model_table.h"

namespace caps::rules {
namespace {

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
                  "set model to one of " + model_list(", "));
    });
  }
  const bool nested = ctx.guest.viommu.nested && ctx.guest.viommu.nested->value;
  const bool paravirtual = find_model(guest.value)->paravirtual;
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
          [&] {
            if (ctx.guest.vmm.syntax == GuestSyntax::kToml)
              return "set model = " + quoted(unit.model) + " or nested = false";
            // A command line or domain changes model by changing its device: say what to turn off.
            return "use the vIOMMU of the host's model (" + unit.model + "), or " +
                   set_hint(ctx.guest, "nested", "false");
          });
    }
    if (paravirtual) {
      return judge.pass(0, evidence, [&] {
        return guest.value + " runs on any host IOMMU (" + unit.name + " is " + unit.model + ")";
      });
    }
    return judge.warn(evidence, [&] {
      return guest.value + " is emulated on " + unit.name + " (" + unit.model +
             "): no hardware nesting";
    });
  });
}

}  // namespace

std::span<const Rule> unit_rules() {
  static constexpr Rule kRules[] = {
      {"units.exist", units_exist},
      {"model", model},
  };
  return kRules;
}

}  // namespace caps::rules
