#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The NFD systemd service and timer as configured by CMake pass `systemd-analyze verify`, with
# ExecStart pointed at this build's iommu-probe (verify checks that the command exists), and
# that probe run as ExecStart runs writes a file NFD parses.
# Usage: systemd_verify.sh UNIT_DIR PROBE SOURCE_DIR
set -u
units=$1 probe=$2 src=$3
command -v systemd-analyze >/dev/null || { echo "FAIL: systemd-analyze is not installed"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
grep -q '^ExecStart=/.*/iommu-probe --format nfd --output /etc/kubernetes/node-feature-discovery/features.d/iommu-tools$' \
  "$units/iommu-nfd-features.service" || { echo "FAIL: unexpected ExecStart"; exit 1; }
sed "s|^ExecStart=[^ ]*|ExecStart=$probe|" "$units/iommu-nfd-features.service" >"$tmp/iommu-nfd-features.service"
cp "$units/iommu-nfd-features.timer" "$tmp/"
# --man=no: the man page is installed with the package, not on this machine.
out=$(cd "$tmp" && systemd-analyze verify --man=no iommu-nfd-features.service iommu-nfd-features.timer 2>&1)
status=$?
# verify prints nothing for good units; anything it says about ours is a failure.
if [ $status -ne 0 ] || grep -q 'iommu-nfd-features' <<<"$out"; then
  echo "FAIL: systemd-analyze verify (exit $status):"; echo "$out"; exit 1
fi
echo "ok: systemd-analyze verify"
# The ExecStart line, with the output moved into the temporary directory.
args=$(sed -n 's|^ExecStart=[^ ]* ||p' "$units/iommu-nfd-features.service")
args=${args//\/etc\/kubernetes\/node-feature-discovery\/features.d/$tmp}
# shellcheck disable=SC2086
"$probe" --backend dir --sysfs-root "$src/fake-sysfs/hosts/intel-icx-2s" $args || { echo "FAIL: probe exit $?"; exit 1; }
/usr/bin/python3 "$src/tests/golden/nfd_parse.py" "$tmp/iommu-tools" || exit 1
ls -A "$tmp" | grep -q '^\.' && { echo "FAIL: a temporary file was left behind"; exit 1; }
echo "ok: ExecStart writes a feature file NFD parses"
