#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The kernel release a tree tells (proc/sys/kernel/osrelease) decides VFIO group viability for
# a bridge that keeps a driver without driver_managed_dma, end to end: the DAQ card
# 0001:02:00.0 of arm-smmuv3-nested shares group 3 with a PCIe-to-PCI bridge bound to shpchp.
# No release: undecided; 6.1 (Debian 12, where VFIO says "not viable"): incompatible; 5.10:
# compatible; and the release survives a host report. Exit codes: 0/1/3 as iommu-compat's.
# Usage: tests/compat/kernel_release_test.sh IOMMU-COMPAT IOMMU-PROBE
compat=$(realpath "$1")
probe=$(realpath "$2")
. "$(dirname "$0")/lib.sh"

cp -a fake-sysfs/hosts/arm-smmuv3-nested "$work/host"
cat > "$work/guest.toml" <<'EOF'
format = 1

[viommu]
model = "arm-smmu-v3"

[[device]]
bdf = "0001:02:00.0"
EOF

# check RELEASE WANT_STATUS [GREP]: RELEASE "" removes osrelease.
check() {
  if [ -n "$1" ]; then
    mkdir -p "$work/host/proc/sys/kernel"
    printf '%s\n' "$1" > "$work/host/proc/sys/kernel/osrelease"
  else
    rm -f "$work/host/proc/sys/kernel/osrelease"
  fi
  "$compat" check --sysfs-root "$work/host" "$work/guest.toml" >"$work/out" 2>&1
  expect_status "release '${1:-none}'" "$2" $?
  if [ -n "${3:-}" ] && ! grep -q "$3" "$work/out"; then
    fail "release '${1:-none}': output lacks '$3':"$'\n'"$(cat "$work/out")"
  fi
}
check "" 3 "the kernel release is unknown"
check 6.1.0-18-amd64 1 "does not set driver_managed_dma"
check 6.12.48+deb13-arm64 1
check 5.10.0-28-arm64 0

# The release travels in the host report and decides there too.
printf '6.1.0-18-arm64\n' > "$work/host/proc/sys/kernel/osrelease"
"$probe" --sysfs-root "$work/host" --format toml --output "$work/host.toml" ||
  fail "probe --format toml"
grep -q '^kernel_release = "6.1.0-18-arm64"$' "$work/host.toml" || fail "report lacks kernel_release"
"$compat" check --host "$work/host.toml" "$work/guest.toml" >"$work/out" 2>&1
expect_status "host report with 6.1" 1 $?
finish
