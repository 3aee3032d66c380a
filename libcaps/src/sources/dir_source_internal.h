// SPDX-License-Identifier: MIT
// Internal hooks of the directory backend, so tests can run both path resolvers on one machine.
#pragma once

#include <memory>
#include <string>

#include "libcaps/result.h"
#include "libcaps/source.h"

namespace caps::internal {

/// How a directory source resolves paths beneath its root.
enum class Resolver {
  /// Plain libc calls on "/" (so an LD_PRELOAD such as umockdev sees them); otherwise openat2
  /// when the kernel allows it, else the component walker. This is what open_dir_source uses.
  kAuto,
  /// openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) on the root fd; fails if unavailable.
  kOpenat2,
  /// The fallback for kernels (or seccomp policies) without openat2: one openat(O_PATH |
  /// O_NOFOLLOW) per component, symlinks expanded by hand.
  kWalk,
};

/// Whether openat2 works here (false on kernels before 5.6 or when seccomp refuses it).
bool openat2_available();

/// open_dir_source with an explicit resolver.
Result<std::unique_ptr<Source>> open_dir_source(const std::string& root, Resolver resolver);

}  // namespace caps::internal
