#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the benchmarks in Release (build-bench/) and runs both, printing their tables.
# Usage: tests/bench/run.sh [bench_probe options...]   e.g. --sizes 1,16,256 --runs 5
# Benchmarks print numbers; they are not tests and assert nothing.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${BENCH_BUILD_DIR:-$src/build-bench}

# -Wno-error=restrict: GCC 12 at -O3 reports a false -Wrestrict inside std::string's
# operator+ (GCC PR 105329) in libcaps; the warning stays visible, it just does not stop the
# Release build. The benchmarks' own sources are always built with -Werror.
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS=-Wno-error=restrict >/dev/null
cmake --build "$build" --target bench_probe bench_compat iommu-probe floor_reader

echo
echo "== bench_probe (fake sysfs trees under ${TMPDIR:-/tmp}, removed at exit; ~0.6 GB at N=4096)"
"$build/tests/bench/bench_probe" --probe-bin "$build/tools/iommu-probe" "$@"
echo
echo "== bench_compat (100 host reports x 1,000 guests, all in memory)"
"$build/tests/bench/bench_compat"
