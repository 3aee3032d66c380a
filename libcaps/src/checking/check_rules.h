// SPDX-License-Identifier: MIT
// The rules check() runs, one small function per rule id (guest-config.md section 2) in one file
// per family (check_rules_*.cc), the choice of host units a guest is checked against, the sink
// rules report into and the helpers the families share.
#pragma once

#include <cstdint>
#include <optional>
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

/// Every rule, in report order: the families below, one after the other.
std::span<const Rule> all_rules();

/// PASID_TABLE_CFG_VERSION_1 and the size of its config (guest-config.md section 2).
inline constexpr uint64_t kPasidTableVersion1 = 1;
inline constexpr uint64_t kPasidTableV1Bytes = 32;

// ---------------------------------------------------------------------------------------------
// Helpers the rule families share (check_rules.cc defines the functions)

std::string join(const std::vector<std::string>& parts, std::string_view separator);
std::string quoted(std::string_view text);

std::string str(int value);
std::string str(uint64_t value);
std::string str(bool value);
std::string str(Httu value);
std::string str(Stall value);
std::string str(const std::vector<std::string>& value);

/// The key's position, or the section header's when the key was not written (a default).
SourcePos pos_or(SourcePos pos, SourcePos fallback);

/// The text of a finding, for Sink::add's callbacks (the sink sets the outcome).
Finding said(std::string_view key, SourcePos pos, std::string unit, std::string evidence,
             std::string message, std::string hint = {});

/// A hint that sets viommu fact `fact` (its guest-file key) to `value` (as a guest file writes
/// it), then `tail` (" or lower"), in the syntax the guest came in: "set input_bits = 39 or
/// lower" for a guest file, "set aw-bits=39 on -device intel-iommu" for a QEMU command line,
/// "set <driver aw_bits='39'/> in <iommu model='intel'>" for a libvirt domain; or, where the
/// VMM has no option carrying the fact, a sentence that says so. The option names are
/// vmm::fact_options(), the mapping the QEMU and libvirt front ends read the facts through.
std::string set_hint(const Guest& guest, std::string_view fact, std::string_view value,
                     std::string_view tail = {});

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

/// "<unit>: <why the model>" from Unit::evidence, else the model and the layout.
std::string model_evidence(const Unit& unit);

/// A width as a message says it: "none" for 0.
std::string supports(int bits);

/// True if `value` fits in `bits` bits.
bool fits(uint64_t value, int bits);

/// Bits needed to write `value` (0 for 0).
int bits_needed(uint64_t value);

/// The largest value `bits` bits can hold.
uint64_t largest_in(int bits);

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
// The rule families, each in its own file, each in report order

std::span<const Rule> unit_rules();         // check_rules_units.cc: units.exist, model
std::span<const Rule> width_rules();        // check_rules_widths.cc: width.*
std::span<const Rule> feature_rules();      // check_rules_features.cc: feature.*
std::span<const Rule> smmuv3_rules();       // check_rules_smmuv3.cc: smmuv3.*
std::span<const Rule> pasid_table_rules();  // check_rules_pasid.cc: pasid_table.*
std::span<const Rule> pasid_alloc_rules();  // check_rules_pasid.cc: pasid_alloc.*
std::span<const Rule> device_rules();       // check_rules_devices.cc: device.*
std::span<const Rule> stage1_rules();       // check_rules_stage1.cc: stage1.*
std::span<const Rule> backend_rules();      // check_rules_backend.cc: backend.*

/// Why an accelerated (nested) arm-smmu-v3 vIOMMU cannot be certified on `unit`: the first
/// smmuv3.* rule it fails or cannot decide, as "rule: message"; empty when it passes them all.
/// suggest asks it before it sets `nested`.
std::string smmuv3_accel_blocker(const Unit& unit);
std::span<const Rule> posture_rules();      // check_rules_posture.cc: posture.*
std::span<const Rule> region_rules();       // check_rules_regions.cc: region.*

}  // namespace caps::rules
