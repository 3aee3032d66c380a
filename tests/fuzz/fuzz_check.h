// SPDX-License-Identifier: MIT
// require(): the invariant check the fuzz targets use; a failure prints what broke and aborts,
// which libFuzzer reports as a crash with the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

/// Keeps the fuzz targets' own checking code out of the coverage the fuzzer steers by.
#if defined(__clang__)
#define FUZZ_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define FUZZ_NO_COVERAGE
#endif

namespace caps::fuzz {

/// Aborts with `what` (and `detail`, e.g. the text that broke it) unless `ok`.
inline void require(bool ok, std::string_view what, std::string_view detail = {}) {
  if (ok) return;
  std::fprintf(stderr, "fuzz invariant failed: %.*s\n", static_cast<int>(what.size()), what.data());
  if (!detail.empty()) {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(detail.size()), detail.data());
  }
  std::abort();
}

}  // namespace caps::fuzz
