#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One golden test: run iommu-probe on a fixture host and diff stdout with
# tests/golden/<host>.<variant>; the text variant also diffs stderr and the exit code with
# tests/golden/<host>.stderr.
set -u
probe=$1 host=$2 variant=$3
cd "$(dirname "$0")/../.."
. tests/golden/golden.sh
expected=$(golden_file "$host" "$variant")
[ -f "$expected" ] || { echo "no golden file $expected (run tests/golden/update.sh)"; exit 1; }
out=$(mktemp)
trap 'rm -f "$out" "$out.err"' EXIT
# shellcheck disable=SC2046
"$probe" $(golden_args "$host" "$variant") >"$out" 2>"$out.err"
status=$?
[ "$variant" = check ] && echo "exit: $status" >>"$out"
failed=0
diff -u "$expected" "$out" || failed=1
if [ "$variant" = text ]; then
  echo "exit: $status" >>"$out.err"
  diff -u "tests/golden/$host.stderr" "$out.err" || failed=1
fi
exit $failed
