// SPDX-License-Identifier: MIT
// How decide() and check(passes = false) must relate to check(): the same verdict, the same
// rules failing, unknown and warning, and the same findings less the passes. The rules build
// text only for kept findings, so this is what catches a rule whose outcome depends on it.
// Shared by the fixture tests and the fuzz targets.
#pragma once

#include <algorithm>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libcaps/check.h"
#include "libcaps/guest.h"
#include "libcaps/model.h"

namespace caps::testing {

/// What decide() or check(passes = false) says differently from check(guest, host), or empty.
inline std::string check_disagreement(const Guest& guest, const Host& host) {
  const Report full = check(guest, host);
  const Decision decision = decide(guest, host);
  if (decision.verdict != full.verdict) {
    return "decide() says " + std::string(to_string(decision.verdict)) + ", check() says " +
           std::string(to_string(full.verdict));
  }
  const std::span<const std::string_view> ids = rule_ids();
  for (size_t i = 0; i < ids.size(); ++i) {
    auto made = [&](Outcome outcome) {
      return std::any_of(full.findings.begin(), full.findings.end(), [&](const Finding& f) {
        return f.rule == ids[i] && f.outcome == outcome;
      });
    };
    if (decision.failed[i] != made(Outcome::kFail) ||
        decision.unknown[i] != made(Outcome::kUnknown) ||
        decision.warned[i] != made(Outcome::kWarn)) {
      return "decide() and check() disagree on the outcomes of rule " + std::string(ids[i]);
    }
  }
  const Report problems = check(guest, host, {.passes = false});
  std::vector<Finding> expected;
  std::copy_if(full.findings.begin(), full.findings.end(), std::back_inserter(expected),
               [](const Finding& f) { return f.outcome != Outcome::kPass; });
  if (problems.verdict != full.verdict) return "check(passes = false) changes the verdict";
  if (problems.findings != expected) {
    return "check(passes = false) is not check() without its passes";
  }
  return {};
}

}  // namespace caps::testing
