// SPDX-License-Identifier: MIT
// check(): runs every rule of check_rules.h over a guest and a host and derives the verdict.
#include "libcaps/check.h"

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "check_rules.h"
#include "libcaps/guest_vmm.h"

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

namespace {

/// Runs every rule, keeping the findings whose outcomes are in `keep` in `findings` (null when
/// `keep` is empty), and returns what they decide.
Decision run_rules(const Guest& guest, const Host& host, rules::OutcomeMask keep,
                   std::vector<Finding>* findings) {
  const rules::Context ctx = rules::make_context(guest, host, keep != 0);
  const std::span<const rules::Rule> all = rules::all_rules();
  // A bit per rule: 64 bits ran out at 69 rules, when `uint64_t{1} << i` for the later rules
  // was undefined and their failures could have gone unseen by the verdict.
  Decision decision;
  for (size_t i = 0; i < all.size() && i < kMaxRules; ++i) {
    const size_t first = findings != nullptr ? findings->size() : 0;
    rules::Sink sink(keep, findings);
    all[i].run(ctx, sink);
    if (findings != nullptr) {
      for (size_t f = first; f < findings->size(); ++f) (*findings)[f].rule = all[i].id;
    }
    if (sink.seen() & rules::mask_of(Outcome::kFail)) decision.failed.set(i);
    if (sink.seen() & rules::mask_of(Outcome::kUnknown)) decision.unknown.set(i);
    if (sink.seen() & rules::mask_of(Outcome::kWarn)) decision.warned.set(i);
  }
  decision.verdict = decision.failed.any()    ? Verdict::kIncompatible
                     : decision.unknown.any() ? Verdict::kUndecided
                                              : Verdict::kCompatible;
  return decision;
}

}  // namespace

Report check(const Guest& guest, const Host& host, const CheckOptions& options) {
  Report report;
  report.guest = guest.file;
  report.host = host.root;
  const rules::OutcomeMask keep =
      options.passes ? rules::kAllOutcomes : rules::kAllOutcomes & ~rules::mask_of(Outcome::kPass);
  // The VMM's own rules first: QEMU refuses those configurations whatever the host.
  for (Finding& f : check_vmm(guest)) {
    if (options.passes || f.outcome != Outcome::kPass) report.findings.push_back(std::move(f));
  }
  run_rules(guest, host, keep, &report.findings);
  report.verdict = verdict_of(report.findings);
  return report;
}

Decision decide(const Guest& guest, const Host& host) {
  Decision decision = run_rules(guest, host, 0, nullptr);
  // VMM findings have no bit (their rules are not rule_ids()), but they count in the verdict.
  if (guest.vmm.syntax != GuestSyntax::kToml && decision.verdict != Verdict::kIncompatible) {
    Verdict vmm = verdict_of(check_vmm(guest));
    if (vmm == Verdict::kIncompatible ||
        (vmm == Verdict::kUndecided && decision.verdict == Verdict::kCompatible))
      decision.verdict = vmm;
  }
  return decision;
}

std::span<const std::string_view> rule_ids() {
  static const std::vector<std::string_view> ids = [] {
    std::vector<std::string_view> out;
    for (const rules::Rule& rule : rules::all_rules()) out.push_back(rule.id);
    return out;
  }();
  return ids;
}

}  // namespace caps
