// SPDX-License-Identifier: MIT
// The width.* rules: address and id widths the guest needs against what each unit supports
// and the PCIe PASID limit.
#include "check_rules.h"

namespace caps::rules {
namespace {

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
            return set_hint(ctx.guest, name, str(to), to > 0 ? " or lower" : "");
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
          set_hint(ctx.guest, name, str(kPciePasidBits), " or lower"));
    });
  };
  const auto& ssid = ctx.guest.viommu.ssid_bits;
  if (ssid && ssid->value > 0) check("viommu.ssid_bits", "ssid_bits", ssid->pos, ssid->value);
  if (const auto& table = ctx.guest.pasid_table) {
    check("pasid_table.pasid_bits", "pasid_bits", pos_or(table->pasid_bits.pos, table->pos),
          table->pasid_bits.value);
  }
}

}  // namespace

std::span<const Rule> width_rules() {
  static constexpr Rule kRules[] = {
      {"width.input_bits", width_input_bits},
      {"width.output_bits", width_output_bits},
      {"width.asid_bits", width_asid_bits},
      {"width.ssid_bits", width_ssid_bits},
      {"width.pcie_pasid_limit", width_pcie_pasid_limit},
  };
  return kRules;
}

}  // namespace caps::rules
