#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets with clang (build-fuzz, -DIOMMU_FUZZ=ON) and runs each for
# SECONDS_PER_TARGET (default 20) on a copy of its seed corpus, so the repository never gets
# new inputs. Prints executions, exec/s and coverage per target; exits non-zero on any crash,
# timeout, out-of-memory or leak, naming the reproducer.
# Usage: tests/fuzz/run.sh [SECONDS_PER_TARGET]
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_OUT (where corpora copies, logs and
# reproducers go; default a new directory under /tmp, kept), FUZZ_TARGETS (default all five).
set -euo pipefail

seconds=${1:-20}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$top/build-fuzz}
out=${FUZZ_OUT:-$(mktemp -d /tmp/iommu-fuzz.XXXXXX)}
targets=(${FUZZ_TARGETS:-fuzz_parse fuzz_reader fuzz_guest fuzz_host_report fuzz_vmm})

# Longest input per target: a 4 KiB PCI config space (parse), the largest fixture tree and
# golden report (reader, host report), a guest file or QEMU command line / libvirt domain
# with room to spare.
max_len() {
  case "$1" in
    fuzz_parse) echo 4200 ;;
    fuzz_reader) echo 16384 ;;
    fuzz_guest) echo 4096 ;;
    fuzz_host_report) echo 20000 ;;
    fuzz_vmm) echo 4096 ;;
  esac
}

dict_for() {
  case "$1" in
    fuzz_guest) echo "-dict=$here/guest.dict" ;;
    fuzz_host_report) echo "-dict=$here/host_report.dict" ;;
    fuzz_vmm) echo "-dict=$here/vmm.dict" ;;
  esac
}

command -v clang++-14 >/dev/null || { echo "run.sh: clang++-14 not found (apt-get install clang-14 libclang-rt-14-dev llvm-14)" >&2; exit 2; }
if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang-14 CXX=clang++-14 cmake -S "$top" -B "$build" -G Ninja -DIOMMU_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -- "${targets[@]}" >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
[ -n "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer

echo "fuzzing ${#targets[@]} targets for ${seconds}s each; corpora, logs and reproducers in $out"
printf '%-18s %10s %8s %8s %8s  %s\n' target execs exec/s cov ft result
failed=0
for t in "${targets[@]}"; do
  mkdir -p "$out/$t/corpus" "$out/$t/artifacts"
  cp -r "$here/corpus/$t/." "$out/$t/corpus/"
  log=$out/$t/log
  # Reproducers of this run only: a reused FUZZ_OUT keeps an earlier run's, which must not fail
  # this one (they are listed apart).
  stamp=$out/$t/.started
  : >"$stamp"
  rc=0
  # -timeout is per input and only catches hangs: a loaded CI machine under ASan can be many
  # times slower than a quiet one, so it is generous.
  # shellcheck disable=SC2046
  "$build/tests/fuzz/$t" "$out/$t/corpus" -max_total_time="$seconds" -max_len="$(max_len "$t")" \
    -timeout=60 -rss_limit_mb=2048 -print_final_stats=1 $(dict_for "$t") \
    -artifact_prefix="$out/$t/artifacts/" >"$log" 2>&1 || rc=$?
  # A crashed run prints no final stats: the last status line gives the count instead.
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#' || true)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2 || true)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2 || true)
  artifacts=$(find "$out/$t/artifacts" -type f -newer "$stamp" | sort)
  earlier=$(find "$out/$t/artifacts" -type f ! -newer "$stamp" | sort)
  result=ok
  if [ "$rc" -ne 0 ] || [ -n "$artifacts" ]; then
    result="FAILED (exit $rc)"
    failed=1
  fi
  printf '%-18s %10s %8s %8s %8s  %s\n' "$t" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "$result"
  for a in $earlier; do echo "    from an earlier run in $out (not this one's): $a"; done
  if [ "$result" != ok ]; then
    grep -m 1 -E 'ERROR: |fuzz invariant failed|runtime error' "$log" | sed 's/^/    /' || true
    for a in $artifacts; do echo "    reproducer: $a"; done
    echo "    log: $log"
    echo "    replay: $build/tests/fuzz/$t <reproducer>"
  fi
done
exit "$failed"
