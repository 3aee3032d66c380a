#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A matrix of 10,000 guests under a 256 MiB address-space limit (ulimit -v): the report is
# streamed pair by pair, so it completes with valid JSON and the verdict's exit code. Under
# limits too small to run, the only outcomes allowed are that same success or exit 4 with a
# message and the old --output file intact: never a truncated report with a verdict's exit.
# Usage: tests/compat/large_matrix_test.sh IOMMU-COMPAT
compat=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

# Sanitizer builds reserve terabytes of address space: a ulimit -v cannot apply to them.
if grep -q 'libasan\|libtsan\|libubsan' <<<"$(ldd "$compat" 2>/dev/null)"; then
  echo "skipped: sanitizer build"
  exit 77
fi
icx=fake-sysfs/hosts/intel-icx-2s
bash tests/compat/many_guests.sh "$work/guests" 10000 || { fail "cannot make guests"; finish; }
valid_json() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null; }

# Every example guest that parses is somewhere in the set, too-many-pasid-bits among them:
# incompatible on intel-icx-2s.
(ulimit -v 262144 && exec "$compat" check --format json --sysfs-root "$icx" "$work"/guests/*.toml) \
  >"$work/out.json" 2>"$work/err"
expect_status "10,000 guests under 256 MiB" 1 $?
valid_json "$work/out.json" && pass "complete JSON" ||
  fail "invalid JSON ($(stat -c %s "$work/out.json") bytes): $(tail -c 200 "$work/out.json")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["results"]) == 10000' \
  "$work/out.json" 2>/dev/null && pass "10,000 results" || fail "not 10,000 results"

# Smaller limits: success as above, or exit 4 with a message and the old file kept.
for kib in 8192 16384; do
  echo "old report" >"$work/report.json"
  (ulimit -v $kib && exec "$compat" check --format json --output "$work/report.json" \
    --sysfs-root "$icx" "$work"/guests/*.toml) >/dev/null 2>"$work/err"
  status=$?
  if [ $status -eq 1 ] && valid_json "$work/report.json"; then
    pass "ulimit -v $kib: complete report"
  elif [ $status -eq 4 ] && grep -q "iommu-compat: error: " "$work/err" &&
    [ "$(cat "$work/report.json")" = "old report" ]; then
    pass "ulimit -v $kib: exit 4, message, old file kept"
  elif [ $status -gt 128 ] || [ $status -eq 127 ]; then
    # The loader or the C++ runtime could not start at all: nothing was written either.
    [ "$(cat "$work/report.json")" = "old report" ] && pass "ulimit -v $kib: did not start" ||
      fail "ulimit -v $kib: died ($status) and changed the file"
  else
    fail "ulimit -v $kib: exit $status, $(head -c 100 "$work/report.json"), $(head -3 "$work/err")"
  fi
  grep -q '^\.report' <<<"$(ls -A "$work")" && fail "ulimit -v $kib: temporary file left"
done
finish
