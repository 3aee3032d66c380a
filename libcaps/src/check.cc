// check(): runs every rule of check_rules.h over a guest and a host and derives the verdict.
#include "libcaps/check.h"

#include <algorithm>

#include "check_rules.h"

namespace caps {

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::kCompatible:
      return "compatible";
    case Verdict::kIncompatible:
      return "incompatible";
    case Verdict::kBadInput:
      return "bad-input";
    case Verdict::kUndecided:
      return "undecided";
  }
  return "undecided";
}

int exit_code(Verdict verdict) {
  switch (verdict) {
    case Verdict::kCompatible:
      return 0;
    case Verdict::kIncompatible:
      return 1;
    case Verdict::kBadInput:
      return 2;
    case Verdict::kUndecided:
      return 3;
  }
  return 3;
}

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPass:
      return "pass";
    case Outcome::kWarn:
      return "warning";
    case Outcome::kFail:
      return "fail";
    case Outcome::kUnknown:
      return "unknown";
  }
  return "unknown";
}

Verdict verdict_of(const std::vector<Finding>& findings) {
  auto any = [&](Outcome outcome) {
    return std::any_of(findings.begin(), findings.end(),
                       [&](const Finding& f) { return f.outcome == outcome; });
  };
  if (any(Outcome::kFail)) return Verdict::kIncompatible;
  if (any(Outcome::kUnknown)) return Verdict::kUndecided;
  return Verdict::kCompatible;
}

Report check(const Guest& guest, const Host& host) {
  const rules::Context ctx{guest, host, rules::select_units(guest, host)};
  Report report;
  report.guest = guest.file;
  report.host = host.root;
  for (const rules::Rule& rule : rules::all_rules()) {
    for (Finding& finding : rule.run(ctx)) {
      finding.rule = std::string(rule.id);
      report.findings.push_back(std::move(finding));
    }
  }
  report.verdict = verdict_of(report.findings);
  return report;
}

}  // namespace caps
