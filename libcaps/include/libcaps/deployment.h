// SPDX-License-Identifier: MIT
// Checking many guests on one host as one deployment (issue 12 item 1): what no (guest, host)
// pair can see. An IOMMU group belongs to one VM, a device to one guest, and the PASIDs the
// guests allocate come out of one host-wide space that each unit bounds. Pure over the Host
// and the guests; per-pair verdicts (check()) are not changed by it.
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

namespace caps {

/// Where one of the guests a deployment finding names wrote the fact it is about.
struct DeploymentPlace {
  std::string guest;      // Guest::file
  std::string guest_key;  // "device[1].bdf", "pasid_alloc.count"; empty if none
  SourcePos pos;          // 0:0 when not written

  bool operator==(const DeploymentPlace&) const = default;
};

/// What one deployment rule concluded. Unlike a pair's Finding it names several guests: every
/// guest in the conflict, in the order they were given (the first is the one that keeps the
/// resource, the later ones are refused).
struct DeploymentFinding {
  std::string rule;  // "deploy.group_shared", ...
  Outcome outcome = Outcome::kPass;
  std::vector<DeploymentPlace> places;  // one per guest named, in deployment order
  std::string unit;                     // the unit the fact is about (pasid rules), or empty
  std::optional<uint64_t> group;        // the IOMMU group the fact is about, if any
  std::string device;                   // the device the fact is about, or empty
  std::string evidence;
  std::string message;  // one line, lowercase, names every guest involved
  std::string hint;

  /// The guests named, in order.
  std::vector<std::string> guests() const;

  bool operator==(const DeploymentFinding&) const = default;
};

/// The deployment's own verdict: incompatible if any deployment finding fails, else undecided
/// if any is unknown, else compatible. Per-pair verdicts are not folded in.
struct DeploymentReport {
  std::string host;                 // Host::root
  std::vector<std::string> guests;  // Guest::file, in the order given
  Verdict verdict = Verdict::kCompatible;
  std::vector<DeploymentFinding> findings;  // in rule order, then deployment order
};

/// Checks `guests` as one deployment on `host`. Guests are taken in the order given: when two
/// want the same group or device, the earlier one is the one that gets it (VFIO refuses the
/// later). Devices the host does not have, or that are in no group, are left to the per-pair
/// rules (device.exists, device.group). `options.passes` as for check().
DeploymentReport check_deployment(std::span<const Guest> guests, const Host& host,
                                  const CheckOptions& options = {});

/// The ids of the deployment rules, in report order.
std::span<const std::string_view> deployment_rule_ids();

}  // namespace caps
