// SPDX-License-Identifier: MIT
// Helpers shared by iommu-compat's output formats.
#include "iommu-compat/compat_report.h"

namespace tools {
namespace {

/// Larger is worse: the precedence of overall_verdict.
int severity(caps::Verdict verdict) {
  switch (verdict) {
    case caps::Verdict::kCompatible:
      return 0;
    case caps::Verdict::kUndecided:
      return 1;
    case caps::Verdict::kIncompatible:
      return 2;
    case caps::Verdict::kBadInput:
      return 3;
  }
  return 3;
}

}  // namespace

caps::Verdict worse_verdict(caps::Verdict a, caps::Verdict b) {
  return severity(b) > severity(a) ? b : a;
}

caps::Verdict overall_verdict(const std::vector<CompatPair>& pairs) {
  caps::Verdict worst = caps::Verdict::kCompatible;
  for (const CompatPair& pair : pairs) worst = worse_verdict(worst, pair.report.verdict);
  return worst;
}

bool is_host_error(const CompatPair& pair, const caps::Error& e) {
  return !pair.report.host.empty() && e.where == pair.report.host;
}

Tally tally(const CompatPair& pair) {
  Tally t;
  for (const caps::Finding& f : pair.report.findings) {
    switch (f.outcome) {
      case caps::Outcome::kPass:
        ++t.pass;
        break;
      case caps::Outcome::kWarn:
        ++t.warn;
        break;
      case caps::Outcome::kFail:
        ++t.fail;
        break;
      case caps::Outcome::kUnknown:
        ++t.unknown;
        break;
    }
  }
  t.errors = static_cast<int>(pair.errors.size());
  return t;
}

int deployment_exit_code(caps::Verdict deployment) {
  return deployment == caps::Verdict::kIncompatible ? kExitDeploymentConflict
                                                     : caps::exit_code(deployment);
}

int together_exit_code(caps::Verdict pairs, caps::Verdict deployment) {
  if (pairs == caps::Verdict::kBadInput || deployment == caps::Verdict::kBadInput) {
    return caps::exit_code(caps::Verdict::kBadInput);
  }
  if (pairs == caps::Verdict::kIncompatible) return caps::exit_code(pairs);
  if (deployment == caps::Verdict::kIncompatible) return kExitDeploymentConflict;
  return caps::exit_code(worse_verdict(pairs, deployment));
}

caps::Verdict together_verdict(caps::Verdict pairs, caps::Verdict deployment) {
  return worse_verdict(pairs, deployment);
}

}  // namespace tools
