#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# iommu-probe --check as an operator runs it: exit status by the worst line, colour only when
# asked or on a terminal (NO_COLOR honoured), -q, refusals, and the JSON status on every fixture
# (tests/schema validates that JSON against schemas/iommu-probe-check.schema.json).
# Usage: tests/readiness/cli_test.sh IOMMU-PROBE
probe=$(realpath "$1")
compat=unused
. "$(dirname "$0")/../compat/lib.sh"
esc=$(printf '\033')

# Exit status by the worst line: a ready host, one with only warnings, one that fails.
# Every fixture lacks sys/class/misc (iommufd unknown: a warning); a copy of amd-genoa-snp with
# the iommufd device passes everything, and the same with intremap=off fails.
cp -r fake-sysfs/hosts/amd-genoa-snp "$work/ready"
mkdir -p "$work/ready/sys/class/misc/iommu"
sed -i "s/ amd_iommu=on//" "$work/ready/proc/cmdline"  # not an AMD option: a posture warning
cp -r "$work/ready" "$work/intremap-off"
sed -i 's/$/ intremap=off/' "$work/intremap-off/proc/cmdline"
for case in "$work/ready 0" "fake-sysfs/hosts/amd-genoa-snp 3" "fake-sysfs/hosts/qemu-vtd-6.1 3" \
  "fake-sysfs/hosts/no-iommu 1" "fake-sysfs/hosts/qemu-virtio-iommu-6.1 1" "$work/intremap-off 1"; do
  set -- $case
  "$probe" --sysfs-root "$1" --check >"$work/out" 2>"$work/err"
  status=$?
  expect_status "--check on $(basename "$1")" "$2" $status
  [ -s "$work/err" ] && fail "$1: --check wrote to stderr: $(head -1 "$work/err")"
done
grep -q "^Interrupt remapping *: FAIL (intremap=off on the kernel command line)" "$work/out" &&
  pass "intremap=off named" || fail "intremap=off: $(cat "$work/out")"
"$probe" --sysfs-root "$work/ready" --check -q >"$work/out"
[ -s "$work/out" ] && fail "-q printed on a ready host: $(cat "$work/out")" || pass "-q silent when all pass"
root=fake-sysfs/hosts/no-iommu

# Colour: never in a pipe or file by default; always when asked, whatever NO_COLOR says.
"$probe" --sysfs-root $root --check >"$work/plain"
grep -q "$esc" "$work/plain" && fail "auto coloured a pipe" || pass "auto: no colour in a pipe"
NO_COLOR=1 "$probe" --sysfs-root $root --check --color always >"$work/always"
grep -q "${esc}\[31mFAIL${esc}\[0m" "$work/always" && pass "--color always: red FAIL" ||
  fail "--color always did not colour"
# On a terminal (script(1) gives one) auto colours unless NO_COLOR is set.
if command -v script >/dev/null; then
  TERM=xterm script -qec "$probe --sysfs-root $root --check" /dev/null >"$work/tty"
  grep -q "$esc\[" "$work/tty" && pass "auto: colour on a terminal" || fail "auto: none on a terminal"
  NO_COLOR=1 TERM=xterm script -qec "$probe --sysfs-root $root --check" /dev/null >"$work/tty"
  grep -q "$esc\[" "$work/tty" && fail "NO_COLOR ignored on a terminal" || pass "NO_COLOR honoured"
fi

# -q: only WARN/FAIL lines and their hints, no summary; nothing at all when all pass.
"$probe" --sysfs-root $root --check -q >"$work/quiet"
expect_status "-q keeps the exit status" 1 $?
grep -q ": PASS" "$work/quiet" && fail "-q printed a PASS line" || pass "-q drops PASS lines"
grep -q "pass, " "$work/quiet" && fail "-q printed the summary" || pass "-q drops the summary"
[ "$(grep -c ': FAIL' "$work/quiet")" = "$(grep -c ': FAIL' "$work/plain")" ] &&
  pass "-q keeps every FAIL" || fail "-q lost a FAIL line"

# Refusals: toml, an unknown colour mode.
"$probe" --sysfs-root $root --check --format toml >/dev/null 2>"$work/err"
expect_status "--check --format toml" 2 $?
grep -q "error: --check writes text or json" "$work/err" || fail "toml refusal message: $(cat "$work/err")"
"$probe" --sysfs-root $root --check --color sometimes >/dev/null 2>&1
expect_status "--color sometimes" 2 $?

# --output: the lines go to the file, the status is still the checks'.
"$probe" --sysfs-root $root --check --output "$work/file.txt"
expect_status "--check --output" 1 $?
cmp -s "$work/plain" "$work/file.txt" && pass "--output holds the lines" || fail "--output differs"

# JSON on every fixture: its status agrees with the exit code (tests/schema validates it against
# schemas/iommu-probe-check.schema.json).
for h in $(fixtures); do
  "$probe" --sysfs-root "fake-sysfs/hosts/$h" --check --format json >"$work/$h.json"
  status=$?
  word=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' "$work/$h.json")
  case "$word:$status" in
    pass:0 | warn:3 | fail:1) ;;
    *) fail "$h: json status $word but exit $status" ;;
  esac
done
pass "json of every fixture checked"
finish
