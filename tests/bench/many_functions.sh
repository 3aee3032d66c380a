#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Writes a fake host with N PCI functions and no IOMMU (intel_iommu=off, no unit, no group),
# through fake-sysfs-build, for timing the probe against the number of PCI functions.
# Every fourth function has ATS, PRI and PASID. Usage: many_functions.sh BUILDER N OUTDIR
set -euo pipefail
builder=$1 n=$2 out=$3
[ "$n" -ge 1 ] && [ "$n" -le 16384 ] || { echo "many_functions.sh: N must be 1..16384" >&2; exit 2; }
desc=$(mktemp /tmp/many-functions.XXXXXX.host)
trap 'rm -f "$desc"' EXIT
{
  echo "source \"bench: $n synthetic PCI functions, no IOMMU\""
  echo "cmdline BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 ro quiet intel_iommu=off"
  echo "osrelease 6.1.0-28-amd64"
  for ((i = 0; i < n; i++)); do
    bus=$((i / 256 + 1)) dev=$(((i / 8) % 32)) fn=$((i % 8))
    caps=""
    if ((i % 4 == 0)); then caps=" ats pri pasid=20,exec"; fi
    printf 'pci 0000:%02x:%02x.%x vendor=15b3 device=101d class=020000 subsys=15b3:0016 driver=mlx5_core%s\n' \
      "$bus" "$dev" "$fn" "$caps"
  done
} >"$desc"
"$builder" "$desc" "$out"
