#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `iommu-compat suggest` on every fixture host and on all of them together, for every model:
# the printed guest parses and `check` on those hosts is never incompatible (compatible, or
# undecided where a unit's model is unknown); a host without a unit gives exit 1.
# Usage: tests/compat/suggest_test.sh IOMMU-COMPAT
compat=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

all=()
for host in $(fixtures); do
  [ -d "fake-sysfs/hosts/$host/sys/class/iommu" ] && all+=(--sysfs-root "fake-sysfs/hosts/$host")
done
for model in intel-vtd amd-vi arm-smmu-v3 virtio-iommu; do
  for host in $(fixtures) all; do
    if [ "$host" = all ]; then args=("${all[@]}"); else args=(--sysfs-root "fake-sysfs/hosts/$host"); fi
    "$compat" suggest --model "$model" "${args[@]}" >"$work/guest.toml" 2>"$work/err"
    status=$?
    if [ ! -d "fake-sysfs/hosts/$host/sys/class/iommu" ] && [ "$host" != all ]; then
      expect_status "$model on $host (no unit)" 1 "$status"
      continue
    fi
    [ "$status" -eq 0 ] || { fail "$model on $host: suggest exit $status: $(cat "$work/err")"; continue; }
    "$compat" check "${args[@]}" "$work/guest.toml" >"$work/check" 2>&1
    status=$?
    case $status in
      0 | 3) pass "$model on $host: suggestion checks $(tail -n 1 "$work/check" | sed 's/.*: //')" ;;
      *) fail "$model on $host: check exit $status"; cat "$work/check"; cat "$work/guest.toml" ;;
    esac
  done
done

# The whole output for one host, so its shape is pinned.
"$compat" suggest --model intel-vtd --sysfs-root fake-sysfs/hosts/intel-icx-2s >"$work/icx.toml"
cat >"$work/expected.toml" <<'TOML'
# iommu-compat guest description (format 1)
format = 1

[viommu]
model = "intel-vtd"
input_bits = 48
asid_bits = 16
ssid_bits = 20
httu = "access+dirty"
pgtable_format = "vtd-fs-48"
nested = true
ats = true
page_requests = true
dirty_tracking = true

# suggested by iommu-compat for:
#   fake-sysfs/hosts/intel-icx-2s
# left out or limited:
#   output_bits: unknown on dmar0, dmar1, dmar2, dmar3, dmar10 on fake-sysfs/hosts/intel-icx-2s
TOML
diff -u "$work/expected.toml" "$work/icx.toml" && pass "intel-icx-2s suggestion" ||
  fail "intel-icx-2s suggestion differs"
finish
