// SPDX-License-Identifier: MIT
// Checking a guest against a host: one small named function per rule, findings with evidence
// and hints, and the verdict (contract: ../shared/reference/guest-config.md sections 2-3).
#pragma once

#include <bitset>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libcaps/guest.h"
#include "libcaps/model.h"

namespace caps {

enum class Verdict { kCompatible, kIncompatible, kBadInput, kUndecided };
std::string_view to_string(Verdict verdict);  // compatible, incompatible, bad-input, undecided
int exit_code(Verdict verdict);               // 0, 1, 2, 3

/// What one rule concluded about one fact.
enum class Outcome { kPass, kWarn, kFail, kUnknown };
std::string_view to_string(Outcome outcome);  // pass, warning, fail, unknown

struct Finding {
  std::string rule;  // stable id: "width.ssid_bits", "pasid_table.base_ptr", ...
  Outcome outcome = Outcome::kPass;
  std::string guest_key;  // "viommu.ssid_bits", "device[1].bdf"
  SourcePos pos;          // where guest_key is written (0:0 if not written)
  std::string unit;       // the host unit the fact comes from (empty if none)
  std::string evidence;   // "dmar0: ecap.PSS=19 -> 20 PASID bits"
  std::string message;    // one line, lowercase
  std::string hint;       // the change that would make it pass ("set ssid_bits = 16 or lower")

  bool operator==(const Finding&) const = default;
};

struct Report {
  std::string guest;  // guest file name
  std::string host;   // host name (root or report path)
  Verdict verdict = Verdict::kCompatible;
  std::vector<Finding> findings;  // in rule order; passes too unless CheckOptions::passes is false
};

struct CheckOptions {
  /// Keep passing findings in the report. Without them no text is built for passes (what a
  /// format that shows only problems needs); the verdict is the same.
  bool passes = true;
};

/// Runs every rule. The verdict is incompatible if any finding fails, else undecided if any
/// is unknown, else compatible.
Report check(const Guest& guest, const Host& host, const CheckOptions& options = {});

/// Room for this many rules in a Decision; CheckDecide.RuleIdsAreUniqueAndFitADecision holds
/// rule_ids() to it.
inline constexpr std::size_t kMaxRules = 256;

/// What check() decides, without building the text of any finding: the verdict, and which
/// rules made findings of each outcome. For matrices and gates that need verdicts; check()
/// runs the same rules and explains them.
struct Decision {
  Verdict verdict = Verdict::kCompatible;
  std::bitset<kMaxRules> failed;   // bit i: rule_ids()[i] made a finding that fails
  std::bitset<kMaxRules> unknown;  // ... whose fact is unknown
  std::bitset<kMaxRules> warned;   // ... that warns
};

Decision decide(const Guest& guest, const Host& host);

/// The ids of the rules check() runs, in report order.
std::span<const std::string_view> rule_ids();

/// The verdict the findings imply.
Verdict verdict_of(const std::vector<Finding>& findings);

}  // namespace caps
