// SPDX-License-Identifier: MIT
// Output of `iommu-compat migrate` (per guest: both verdicts and the target's blockers) and
// `iommu-compat baseline` (the fleet's guest and what each host adds or holds back), as text
// and as JSON (schemas "iommu-compat-migrate/1" and "iommu-compat-baseline/1").
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "libcaps/fleet.h"
#include "libcaps/result.h"

namespace tools {

inline constexpr const char* kMigrateJsonSchema = "iommu-compat-migrate/1";
inline constexpr const char* kBaselineJsonSchema = "iommu-compat-baseline/1";

/// One guest's migration, or why it could not be judged (bad input: verdict bad-input).
struct MigratePair {
  std::string guest;
  std::string from;
  std::string to;
  std::optional<caps::Migration> migration;
  std::vector<caps::Error> errors;

  caps::Verdict verdict() const {
    return migration ? migration->verdict : caps::Verdict::kBadInput;
  }
};

/// Per guest "migrate GUEST: FROM -> TO: VERDICT", both hosts' verdicts, then each blocker as
/// "file:line:col: fail [rule] message" with the target unit, the evidence on both hosts and
/// the hint; with more than one guest, the overall verdict last.
void format_migrate_text(const std::vector<MigratePair>& pairs, std::ostream& out);

/// {schema, from, to, results: [{guest, verdict, exit_code, source_verdict, target_verdict,
/// errors, blockers}], verdict, exit_code}.
void format_migrate_json(const std::vector<MigratePair>& pairs, std::ostream& out);

/// The fleet's guest as a guest file, then comments: the hosts, what was left out, and per host
/// what it adds and what it holds back. The output is a guest file `check` reads.
void format_baseline_text(const caps::Baseline& baseline, std::ostream& out);

/// {schema, model, guest: {key: value}, guest_file, notes, hosts: [{host, adds, holds_back}],
/// holding_back: [host...]}.
void format_baseline_json(const caps::Baseline& baseline, std::ostream& out);

}  // namespace tools
