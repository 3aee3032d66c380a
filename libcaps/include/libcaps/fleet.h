// SPDX-License-Identifier: MIT
// Fleets of hosts: whether a guest running on one host also works on another (migration, with
// the facts the target lacks, like libvirt's CPU blockers), and the most capable guest every
// host of a fleet supports with what each host adds to it or holds it back by.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "libcaps/check.h"
#include "libcaps/guest.h"
#include "libcaps/model.h"
#include "libcaps/result.h"
#include "libcaps/suggest.h"

namespace caps {

/// A fact the guest relies on that the migration target does not give: every finding of one
/// rule on one guest key that fails (or cannot be decided) on the target, with how the same
/// rule and key fared on the source.
struct Blocker {
  Finding target;                    // the target's first such finding (message, unit, hint)
  std::vector<std::string> also_on;  // the units of the target's other findings of it
  Outcome source = Outcome::kPass;   // the worst source outcome of that rule and key; pass
                                     // when the source made no finding of it
  std::string source_evidence;       // the source's evidence for it (empty if none)

  /// Whether the source gives the fact (passes or only warns): then moving loses it.
  bool lost() const { return source == Outcome::kPass || source == Outcome::kWarn; }
};

struct Migration {
  Report source;  // check(guest, from)
  Report target;  // check(guest, to)
  /// The target's verdict: whether the guest works there. The source's is in `source`.
  Verdict verdict = Verdict::kCompatible;
  /// The target's failing findings, then its unknown ones, each in rule order.
  std::vector<Blocker> blockers;
};

/// Checks `guest` on both hosts and lists what the target lacks. The target's verdict decides;
/// a source that cannot run the guest either is reported in `source`, and its failures show
/// as blockers that are not lost() by moving.
Migration compare_migration(const Guest& guest, const Host& from, const Host& to);

/// One guest key whose value differs between two suggestions: `from` and `to` as a guest file
/// writes them ("20", "true", "access+dirty"), empty when the key is left out.
struct KeyChange {
  std::string key;
  std::string from;
  std::string to;

  bool operator==(const KeyChange&) const = default;
};

/// The [viommu] keys (other than model) whose values differ from `a` to `b`, in key order.
std::vector<KeyChange> guest_key_changes(const GuestViommu& a, const GuestViommu& b);

/// What one host of a fleet means for its baseline.
struct BaselineHost {
  std::string host;  // Host::root
  /// What the host alone supports beyond the fleet: from the fleet's value to its own.
  std::vector<KeyChange> adds;
  /// What the fleet would gain without this host: from the fleet's value to the value of the
  /// other hosts' baseline. Empty for a fleet of one, and for a host that holds nothing back.
  std::vector<KeyChange> holds_back;
};

struct Baseline {
  Suggestion fleet;                 // suggest_guest(model, hosts)
  std::vector<BaselineHost> hosts;  // in the order given
};

/// suggest_guest() over the fleet, plus, per host, its own suggestion compared with the fleet's
/// (adds) and the suggestion of every other host compared with it (holds_back). Fails as
/// suggest_guest() does. The cost is that of one suggestion per host and one of the others per
/// host: quadratic in the number of hosts.
Result<Baseline> fleet_baseline(std::string_view model, const std::vector<Host>& hosts);

}  // namespace caps
