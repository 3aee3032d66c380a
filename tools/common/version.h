// SPDX-License-Identifier: MIT
// The tools' version, from CMake's project version.
#pragma once

#include <string_view>

namespace tools {

std::string_view version();

}  // namespace tools
