// SPDX-License-Identifier: MIT
// The rules check() runs, one small function per rule id (guest-config.md section 2), the
// choice of host units a guest is checked against, and the sink rules report into.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libcaps/check.h"
#include "libcaps/guest.h"
#include "libcaps/model.h"
#include "lookup.h"

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

struct UnitName {
  std::string_view operator()(const Unit& unit) const { return unit.name; }
};
struct DeviceName {
  std::string_view operator()(const Device& device) const { return device.name; }
};
struct GroupId {
  uint64_t operator()(const Group& group) const { return group.id; }
};
struct GuestBdf {
  std::string_view operator()(const GuestDevice& device) const { return device.bdf.value; }
};

/// Look-ups by name or id for the rules: a guest may name 100,000 units or devices and a host
/// may have thousands of PCI functions, so no rule scans a list once per element of another.
struct Index {
  Index(const Guest& guest, const Host& host)
      : units(host.units), devices(host.devices), groups(host.groups), assigned(guest.devices) {}

  Lookup<Unit, std::string_view, UnitName> units;
  Lookup<Device, std::string_view, DeviceName> devices;
  Lookup<Group, uint64_t, GroupId> groups;
  /// The guest's [[device]]s by bdf.
  Lookup<GuestDevice, std::string_view, GuestBdf> assigned;

  /// The look-ups' work so far (Lookup::work).
  std::size_t work() const {
    return units.work() + devices.work() + groups.work() + assigned.work();
  }
};

/// What every rule sees.
struct Context {
  const Guest& guest;
  const Host& host;
  Index index;
  UnitSelection selection;
  /// The host's device for each guest [[device]], in guest order; null where the host has none.
  std::vector<const Device*> devices;
};

/// The context of a check. `ordered` puts the selected units in natural order, as the text of
/// findings lists them; a verdict does not depend on their order.
Context make_context(const Guest& guest, const Host& host, bool ordered);

/// A set of outcomes, one bit each.
using OutcomeMask = uint8_t;
constexpr OutcomeMask mask_of(Outcome outcome) {
  return static_cast<OutcomeMask>(1u << static_cast<unsigned>(outcome));
}
inline constexpr OutcomeMask kAllOutcomes = mask_of(Outcome::kPass) | mask_of(Outcome::kWarn) |
                                            mask_of(Outcome::kFail) | mask_of(Outcome::kUnknown);

/// Where a rule reports. Every finding's outcome counts toward seen(); only findings whose
/// outcome the sink keeps are stored, and only for them does the rule's callback build the
/// text (key, unit, evidence, message, hint). So decide() builds no string at all and a report
/// without passes builds none for them, while every rule is written once.
class Sink {
 public:
  /// Stores kept findings in `findings`, which may be null when `keep` is empty.
  Sink(OutcomeMask keep, std::vector<Finding>* findings) : keep_(keep), findings_(findings) {}

  bool keeps(Outcome outcome) const { return (keep_ & mask_of(outcome)) != 0; }

  /// Records a finding; `describe()` returns its text as a Finding (see said()) and runs only
  /// when the outcome is kept.
  template <class Describe>
  void add(Outcome outcome, Describe&& describe) {
    if (outcome == Outcome::kPass && skip_passes_) return;
    seen_ |= mask_of(outcome);
    if (!keeps(outcome)) return;
    Finding& finding = findings_->emplace_back(describe());
    finding.outcome = outcome;
  }

  /// From now on passes are dropped, for a rule that has already failed as a whole and whose
  /// per-unit passes would only contradict that.
  void skip_passes() { skip_passes_ = true; }

  /// The outcomes of every finding added so far, kept or not.
  OutcomeMask seen() const { return seen_; }

 private:
  OutcomeMask keep_;
  std::vector<Finding>* findings_;
  OutcomeMask seen_ = 0;
  bool skip_passes_ = false;
};

/// A rule: its stable id and the function that checks it. The function leaves Finding::rule
/// empty; check() stamps the id, so each id is written once.
struct Rule {
  std::string_view id;
  void (*run)(const Context& ctx, Sink& out);
};

/// Every rule, in report order.
std::span<const Rule> all_rules();

/// PASID_TABLE_CFG_VERSION_1 and the size of its config (guest-config.md section 2).
inline constexpr uint64_t kPasidTableVersion1 = 1;
inline constexpr uint64_t kPasidTableV1Bytes = 32;

}  // namespace caps::rules
