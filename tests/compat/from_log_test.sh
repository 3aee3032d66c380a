#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# iommu-probe --from-log end to end: every format of a real guest log's host, stdin, the options
# it excludes, a log of garbage, and the host report loaded by iommu-compat giving the verdicts
# the same machine's tree gives.
# Usage: tests/compat/from_log_test.sh IOMMU-COMPAT IOMMU-PROBE
compat=$(realpath "$1")
probe=$(realpath "$2")
. "$(dirname "$0")/lib.sh"
logs=tests/kernel-log/logs

log=$logs/qemu-vtd-sm-6.1.dmesg
for format in text json toml nfd; do
  "$probe" --from-log "$log" --format "$format" >"$work/out.$format" 2>"$work/err"
  expect_status "--from-log --format $format" 0 $?
done
grep -q '^dmar0  intel-vtd  intel-iommu' "$work/out.text" && pass "text names dmar0" ||
  fail "text: $(head -5 "$work/out.text")"
line=$(grep -n 'DMAR: dmar0: reg_base_addr' "$log" | cut -d: -f1)
grep -q "from the log, line $line)" "$work/out.json" && pass "json evidence names the log line $line" ||
  fail "json evidence does not name line $line"
grep -q '^iommu-probe: note: .*: 500 lines, .* known, .* not known (ignored)$' "$work/err" &&
  pass "the unknown lines are counted on stderr" || fail "stderr: $(cat "$work/err")"
"$probe" --from-log "$log" --check >"$work/check" 2>/dev/null
status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 3 ] || [ "$status" -eq 1 ] && pass "--check runs: exit $status" ||
  fail "--check: exit $status"
"$probe" --from-log - --format json <"$log" >"$work/stdin.json" 2>/dev/null
expect_status "--from-log - (stdin)" 0 $?
if diff <(grep -v '"sysfs_root"' "$work/stdin.json") <(grep -v '"sysfs_root"' "$work/out.json") >/dev/null; then
  pass "stdin gives the file's JSON"
else
  fail "stdin JSON differs from the file's"
fi
for other in "--sysfs-root /" "--backend dir" "--unit dmar0" "--no-pci-config"; do
  # shellcheck disable=SC2086
  "$probe" --from-log "$log" $other >/dev/null 2>&1
  expect_status "--from-log with $other" 2 $?
done
"$probe" --from-log "$work/missing.log" >/dev/null 2>&1
expect_status "a missing log" 1 $?
printf '\x00\xff garbage\n(((\n' >"$work/junk.log"
"$probe" --from-log "$work/junk.log" --format json >"$work/junk.json" 2>/dev/null
expect_status "a log of garbage is no error" 0 $?

# The report of each guest's log loads in iommu-compat, and no example guest gets compatible from
# one and incompatible from the other. Either may be undecided where the other decides: a log
# lacks the AMD-Vi capability header and devices' PCI config, and the tree lacks every SMMUv3
# fact the log's arm-smmu-v3 line gives.
guests=()
for guest in "$examples"/*.toml; do
  case $(basename "$guest") in bad-*) ;; *) guests+=("$guest") ;; esac
done
verdicts() {  # the verdict per guest, one "guest verdict" line each
  python3 -c 'import json, sys
for r in json.load(sys.stdin)["results"]:
    print(r["guest"].rsplit("/", 1)[-1], r["verdict"])'
}
for log in "$logs"/*.dmesg; do
  name=$(basename "$log" .dmesg)
  "$probe" --from-log "$log" --format toml --output "$work/$name.toml" 2>/dev/null
  expect_status "$name: --format toml" 0 $?
  "$compat" check --format json --host "$work/$name.toml" "${guests[@]}" 2>/dev/null |
    verdicts >"$work/$name.log-verdicts"
  "$compat" check --format json --sysfs-root "fake-sysfs/hosts/$name" "${guests[@]}" 2>/dev/null |
    verdicts >"$work/$name.tree-verdicts"
  if [ "$(wc -l <"$work/$name.log-verdicts")" -ne "${#guests[@]}" ]; then
    fail "$name: the log's report did not load in iommu-compat"
    continue
  fi
  contradictions=$(paste -d' ' "$work/$name.log-verdicts" "$work/$name.tree-verdicts" |
    awk '($2 == "compatible" && $4 == "incompatible") || ($2 == "incompatible" && $4 == "compatible") {
      print $1 ": log " $2 ", tree " $4 }')
  if [ -z "$contradictions" ]; then
    pass "$name: the log's report loads in iommu-compat; no verdict contradicts the tree's"
  else
    fail "$name: $contradictions"
  fi
done
finish
