#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A host report of many units (10,000 by default: 21 MB with every register) loads within a
# bounded address space, and where memory runs out iommu-compat says so and exits 2: it never
# aborts (exit 134, std::bad_alloc). Issue 8 item 6: loading such a report needed 335 MB and
# died under `ulimit -v 262144`. The report is written by the real iommu-probe from a tree of
# hard-linked copies of one fixture unit; nothing here is timed.
# Usage: tests/compat/big_report_test.sh IOMMU-COMPAT IOMMU-PROBE FAKE-SYSFS-BUILD [UNITS]
compat=$(realpath "$1")
probe=$(realpath "$2")
builder=$(realpath "$3")
units=${4:-10000}
. "$(dirname "$0")/lib.sh"

if [ -n "${IOMMU_SANITIZED:-}" ]; then
  echo "skipped: ASan maps terabytes of shadow memory, so an address-space limit cannot apply"
  exit 77
fi

# One VT-d unit (intel-client's dmar1), built by the fixture builder, then copied by links.
cat >"$work/one.host" <<'EOF'
source "one unit of fake-sysfs/hosts/intel-client.host, copied by big_report_test.sh"
acpi DMAR
unit dmar0 intel
attr intel-iommu/version 1:0
attr intel-iommu/address fed91000
attr intel-iommu/cap 1c0000c40660462
attr intel-iommu/ecap 19e2ff0505e
attr intel-iommu/domains_supported 256
attr intel-iommu/domains_used 6
EOF
"$builder" "$work/one.host" "$work/tree" >/dev/null || { fail "fake-sysfs-build failed"; finish; }
python3 - "$work/tree" "$units" <<'EOF' || { fail "could not copy the unit"; finish; }
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
devices = os.path.join(root, "sys/devices/virtual/iommu")
model = os.path.join(devices, "dmar0")
for i in range(1, count):
    unit = os.path.join(devices, f"dmar{i}")
    for dirpath, dirnames, filenames in os.walk(model):
        target = os.path.join(unit, os.path.relpath(dirpath, model))
        os.makedirs(target, exist_ok=True)
        for name in dirnames + filenames:
            source = os.path.join(dirpath, name)
            if os.path.islink(source):
                os.symlink(os.readlink(source), os.path.join(target, name))
            elif os.path.isfile(source):
                os.link(source, os.path.join(target, name))
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
    os.symlink(f"../../devices/virtual/iommu/dmar{i}",
               os.path.join(root, "sys/class/iommu", f"dmar{i}"))
EOF
report=$work/big.toml
"$probe" --backend dir --sysfs-root "$work/tree" --format toml --registers --output "$report" \
  2>"$work/probe.err" || { fail "iommu-probe: $(cat "$work/probe.err")"; finish; }
size=$(stat -c %s "$report")
echo "report: $units units, $size bytes"
grep -q "^units = $units\$" "$report" || fail "the report does not count $units units"

guest=$examples/intel-vtd-sva-over-quota.toml
"$compat" check --host "$report" "$guest" >"$work/free.out" 2>&1
free_status=$?
[ "$free_status" -eq 1 ] || fail "without a limit: exit $free_status, expected 1: $(head -c 400 "$work/free.out")"

# run_limited KIB: iommu-compat under an address-space limit; never a signal or an abort
# (134). Exit 2 must come with a message naming the report (the loader ran out of memory, or
# found it cut short), exit 4 with "out of memory" (memory ran out outside the loader, where
# the tool catches it). Sets last_status.
run_limited() {
  (ulimit -v "$1" && exec "$compat" check --host "$report" "$guest") >"$work/out" 2>"$work/err"
  local status=$?
  if [ "$status" -gt 4 ]; then
    fail "ulimit -v $1: exit $status (killed or aborted): $(tail -c 300 "$work/err")"
  elif [ "$status" -eq 2 ] && ! grep -q "$report: error: " "$work/out" "$work/err"; then
    fail "ulimit -v $1: exit 2 without a message naming the report: $(tail -c 300 "$work/err")"
  elif [ "$status" -eq 4 ] && ! grep -q "error: out of memory" "$work/err"; then
    fail "ulimit -v $1: exit 4 without 'out of memory': $(tail -c 300 "$work/err")"
  else
    pass "ulimit -v $1: exit $status $(grep -ho "$report[^ ]*: error: .*" "$work/out" | head -1)"
  fi
  last_status=$status
}

# The issue's limit: the report loads and gives the same verdict as without a limit.
run_limited 262144
[ "$last_status" -eq "$free_status" ] ||
  fail "ulimit -v 262144: exit $last_status, expected $free_status as without a limit"
# About 16 MiB for the program plus three times the report: enough to read the text, not to
# hold the host it describes (about 3.6 bytes per byte of report): a clean "out of memory".
run_limited $((16 * 1024 + 3 * size / 1024))
finish
