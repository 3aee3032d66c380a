#!/usr/bin/env bash
# Every example guest on every fixture host gets the verdict and exit code the examples README
# intends. Each README row names host conditions, not fixtures; the table below maps them to
# the fixtures by the facts iommu-probe reads from each tree (see the comments), and rows no
# fixture meets are listed at the end.
# Usage: tests/compat/examples_test.sh IOMMU-COMPAT
compat=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

declare -A want
# intel-vtd-pasid-nested: compatible only on VT-d in scalable mode with PSS=19, NEST, FLTS,
# SLADS+SMPWC, DT, PRS on every unit (intel-icx-2s); VT-d without scalable mode (intel-client,
# mixed-groups, and hetero-units' dmar1/dmar2) incompatible; AMD-Vi and SMMUv3 incompatible.
for h in amd-genoa-snp amd-zen2-desktop arm-smmuv3-generic hetero-units intel-client \
         mixed-groups no-iommu; do
  want[intel-vtd-pasid-nested:$h]=incompatible
done
want[intel-vtd-pasid-nested:intel-icx-2s]=compatible
# intel-vtd-legacy-39bit: any host whose units publish input_bits >= 39 (VT-d, AMD-Vi, and the
# generic-layout SMMUv3 and virtio-iommu units) is compatible; a host without a unit is not.
for h in amd-genoa-snp amd-zen2-desktop arm-smmuv3-generic hetero-units intel-client \
         intel-icx-2s mixed-groups; do
  want[intel-vtd-legacy-39bit:$h]=compatible
done
want[intel-vtd-legacy-39bit:no-iommu]=incompatible
# amd-vi-nested: amd-genoa-snp lacks EFR.GTSup (ssid_bits 0, nested false): incompatible;
# amd-zen2-desktop has no EFR2 (nested unknown) but also lacks HDSup (httu access,
# dirty_tracking false): incompatible; VT-d and SMMUv3 hosts: incompatible.
for h in $(fixtures); do want[amd-vi-nested:$h]=incompatible; done
# arm-smmuv3-nested: arm-smmuv3-generic has a unit with stall force (and units without btm,
# PASIDs or httu): incompatible; VT-d and AMD-Vi hosts: incompatible.
for h in $(fixtures); do want[arm-smmuv3-nested:$h]=incompatible; done
# virtio-iommu-basic: any host with a unit; no-iommu has none.
for h in $(fixtures); do want[virtio-iommu-basic:$h]=compatible; done
want[virtio-iommu-basic:no-iommu]=incompatible
# too-many-pasid-bits: every host. bad-*: any host, bad-input.
for h in $(fixtures); do
  want[too-many-pasid-bits:$h]=incompatible
  for b in bad-syntax bad-unknown-key bad-values bad-wrong-type; do want[$b:$h]=bad-input; done
done

code() {
  case "$1" in compatible) echo 0 ;; incompatible) echo 1 ;; bad-input) echo 2 ;; undecided) echo 3 ;; esac
}

for guest in "$examples"/*.toml; do
  name=$(basename "$guest" .toml)
  for host in $(fixtures); do
    key=$name:$host
    if [ -z "${want[$key]:-}" ]; then
      fail "$key: no intended verdict in this test (new example or fixture?)"
      continue
    fi
    "$compat" check --sysfs-root "fake-sysfs/hosts/$host" "$guest" >"$work/out" 2>"$work/err"
    status=$?
    got=$(head -n 1 "$work/out" | sed 's/.*: //')
    if [ "$got" = "${want[$key]}" ] && [ "$status" -eq "$(code "${want[$key]}")" ]; then
      pass "$key: $got (exit $status)"
    else
      fail "$key: got $got (exit $status), intended ${want[$key]} (exit $(code "${want[$key]}"))"
    fi
  done
done

# README rows that no fixture meets (so not tested here): amd-vi-nested compatible (Genoa
# with GTSup) and undecided (no EFR2, everything else fitting); arm-smmuv3-nested compatible
# (every unit fitting; no generic fixture publishes `nested` or `ats`); the undecided rows for
# units with no published capabilities (layout none).
finish
