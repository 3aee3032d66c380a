// SPDX-License-Identifier: MIT
// iommu-probe's JSON output (schema "iommu-probe/1", capability-model.md section 4).
#pragma once

#include <ostream>

#include "libcaps/model.h"

namespace tools {

/// The JSON schema name of format_json's output.
inline constexpr const char* kProbeJsonSchema = "iommu-probe/1";

/// Writes `host` as one JSON document. Keys come in a fixed order and nothing depends on the
/// time or on hash order, so the same host always gives the same bytes. `with_source` = false
/// leaves out "source" (backend and root), so two backends' outputs can be compared.
void format_json(const caps::Host& host, std::ostream& out, bool with_source = true);

}  // namespace tools
