// SPDX-License-Identifier: MIT
// iommu-probe's Node Feature Discovery output: a local feature file for NFD's features.d
// directory (docs/nfd.md holds the table of features).
#pragma once

#include <ostream>

#include "libcaps/model.h"
#include "libcaps/readiness.h"

namespace tools {

/// The namespace every feature name carries. NFD's master would add it to a bare name, but
/// not with its DisableAutoPrefix feature gate on; written out, the names work either way.
inline constexpr const char* kNfdPrefix = "feature.node.kubernetes.io/";

/// Writes `host` as `name=value` lines by NFD's local-source rules (node-feature-discovery
/// source/local/local.go): a summary for scheduling, in a fixed order, nothing that depends
/// on the time. Names and values hold only what a Kubernetes label allows; an unknown fact is
/// left out, never guessed. No `# +expiry-time=` directive: the file is rewritten, not aged.
void format_nfd(const caps::Host& host, const caps::AssignmentSupport& support, std::ostream& out);

}  // namespace tools
