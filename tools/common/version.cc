// SPDX-License-Identifier: MIT
// The version string the tools print.
#include "common/version.h"

namespace tools {

std::string_view version() { return IOMMU_TOOLS_VERSION; }

}  // namespace tools
