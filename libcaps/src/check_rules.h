// The rules check() runs, one small function per rule id (guest-config.md section 2), and the
// choice of host units a guest is checked against.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "libcaps/check.h"
#include "libcaps/guest.h"
#include "libcaps/model.h"

namespace caps::rules {

/// Where the checked units come from (guest-config.md: viommu.units, else the units behind the
/// [[device]]s, else every unit).
enum class UnitSource { kNamed, kDevices, kAll };

/// The host units a guest is checked against, in natural order, and the names in viommu.units
/// the host does not have.
struct UnitSelection {
  UnitSource source = UnitSource::kAll;
  std::vector<const Unit*> units;
  std::vector<std::string> missing;
};

UnitSelection select_units(const Guest& guest, const Host& host);

/// What every rule sees.
struct Context {
  const Guest& guest;
  const Host& host;
  UnitSelection selection;
};

using Findings = std::vector<Finding>;

/// A rule: its stable id and the function that checks it. The function leaves Finding::rule
/// empty; check() stamps the id, so each id is written once.
struct Rule {
  std::string_view id;
  Findings (*run)(const Context& ctx);
};

/// Every rule, in report order.
const std::vector<Rule>& all_rules();

/// The largest PASID width PCIe can carry (PASID capability Max PASID Width, pci_regs.h).
inline constexpr int kPciePasidBits = 20;
/// PASID_TABLE_CFG_VERSION_1 and the size of its config (guest-config.md section 2).
inline constexpr uint64_t kPasidTableVersion1 = 1;
inline constexpr uint64_t kPasidTableV1Bytes = 32;

}  // namespace caps::rules
