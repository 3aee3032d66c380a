// Replacing a file atomically: readers see the old content or the new, never a partial file.
#pragma once

#include <string>
#include <string_view>

#include "libcaps/result.h"

namespace tools {

/// Writes `content` to a temporary file next to `path` (same directory, so the rename cannot
/// cross file systems), flushes it to disk, renames it over `path` and flushes the directory.
/// A new file gets mode 0666 minus the umask; a replaced file keeps its mode. On failure the
/// temporary file is removed, `path` is left as it was, and the error names the path and the
/// system's reason.
caps::Result<void> write_file_atomically(const std::string& path, std::string_view content);

}  // namespace tools
