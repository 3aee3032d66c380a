// SPDX-License-Identifier: MIT
// iommu-compat's results: one Report per guest x host pair, plus the input errors that made a
// pair bad-input, and the helpers every output format shares.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "libcaps/check.h"
#include "libcaps/deployment.h"
#include "libcaps/result.h"

namespace tools {

/// One cell of the guest x host matrix. When the guest did not parse or the host could not
/// be loaded, report.verdict is bad-input, report.findings is empty and `errors` says why.
struct CompatPair {
  caps::Report report;
  std::vector<caps::Error> errors;
};

/// The overall verdict of a matrix: the worst pair by bad-input > incompatible > undecided >
/// compatible, so a CI gate fails on the most serious problem. No pair: compatible.
caps::Verdict overall_verdict(const std::vector<CompatPair>& pairs);

/// The worse of two verdicts by that precedence.
caps::Verdict worse_verdict(caps::Verdict a, caps::Verdict b);

/// Whether input error `e` of `pair` is about its host (a host report or tree that could not
/// be loaded) rather than its guest: host errors repeat for every guest.
bool is_host_error(const CompatPair& pair, const caps::Error& e);

/// Counts of findings by outcome, and of input errors.
struct Tally {
  int pass = 0;
  int warn = 0;
  int fail = 0;
  int unknown = 0;
  int errors = 0;
};

Tally tally(const CompatPair& pair);

/// `check --together`: the guests as one deployment on the one host (docs/rules.md,
/// "Deployment rules"). When a guest did not parse or the host could not be loaded,
/// report.verdict is bad-input, report.findings is empty and `errors` says why.
struct CompatDeployment {
  caps::DeploymentReport report;
  std::vector<caps::Error> errors;
};

/// The exit code of a deployment verdict (docs/exit-codes.md): 0 compatible, 5 incompatible
/// (the guests conflict with each other), 2 bad-input, 3 undecided.
inline constexpr int kExitDeploymentConflict = 5;
int deployment_exit_code(caps::Verdict deployment);

/// The exit code of `check --together`: the worst of the pairs' verdicts and the
/// deployment's, by bad-input (2) > a pair incompatible (1) > the deployment incompatible (5)
/// > undecided (3) > compatible (0). So 5 says: every guest fits the host alone, not together.
int together_exit_code(caps::Verdict pairs, caps::Verdict deployment);

/// The verdict that names a run with a deployment: the worse of the pairs' and the
/// deployment's.
caps::Verdict together_verdict(caps::Verdict pairs, caps::Verdict deployment);

}  // namespace tools
