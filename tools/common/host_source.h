// SPDX-License-Identifier: MIT
// Choosing and opening the Source a tool reads a host through (--sysfs-root, --backend).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "libcaps/result.h"
#include "libcaps/source.h"

namespace tools {

/// The backends --backend accepts.
inline constexpr const char* kBackends[] = {"auto", "dir", "udev"};

/// Why `backend` cannot read `root` (libudev reads only the real root "/"), or empty.
std::string backend_problem(std::string_view backend, const std::string& root);

/// Opens `root` with `backend`: "auto" is libudev on the real root and the directory reader
/// anywhere else.
caps::Result<std::unique_ptr<caps::Source>> open_host_source(const std::string& root,
                                                             std::string_view backend);

}  // namespace tools
