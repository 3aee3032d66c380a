#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The QEMU command-line (*.qemu, *.args) and libvirt domain (*.xml) examples on every fixture
# host get the verdict the examples README intends. Most ask exactly what a TOML example asks
# and must get that example's verdict on every fixture (its twin); the others have their own
# rows, by host kind as in examples_test.sh.
# Usage: tests/compat/vmm_examples_test.sh IOMMU-COMPAT
compat=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

verdict() { "$compat" check --sysfs-root "fake-sysfs/hosts/$2" "$1" 2>/dev/null | head -n 1 | sed 's/.*: //'; }

# Twins: an emulated VT-d or virtio-iommu with 39 input bits is intel-vtd-legacy-39bit on the
# host side; an AMD-Vi without widths asks what virtio-iommu-basic asks (a unit of known model).
declare -A twin=(
  [intel-iommu.qemu]=intel-vtd-legacy-39bit [intel-iommu.xml]=intel-vtd-legacy-39bit
  [virtio-iommu.qemu]=intel-vtd-legacy-39bit [virtio-iommu.xml]=intel-vtd-legacy-39bit
  [amd-iommu.qemu]=virtio-iommu-basic [amd-iommu.xml]=virtio-iommu-basic)
declare -A want
for h in $(fixtures); do
  # QEMU and libvirt refuse these whatever the host.
  want[intel-iommu-refused.args:$h]=incompatible
  want[intel-iommu-no-ioapic.xml:$h]=incompatible
  # The virt machine's SMMUv3: OAS 44 fits the generic-layout SMMUv3 hosts; VT-d and AMD-Vi
  # publish no output width (undecided), mainline units nothing; no unit: incompatible.
  want[arm-smmuv3.qemu:$h]=undecided
  # KubeVirt's accelerated SMMUv3 with the A100 at 0000:01:00.0: nested needs arm-smmu-v3.
  want[arm-smmuv3-kubevirt.xml:$h]=incompatible
done
for h in arm-smmuv3-generic arm-smmuv3-nested; do want[arm-smmuv3.qemu:$h]=compatible; done
for h in no-iommu qemu-virtio-iommu-6.1; do want[arm-smmuv3.qemu:$h]=incompatible; done
# nested: every SMMU fact fits, but a copied tree does not say whether its kernel offers iommufd
# (backend.host) or exposes the A100's PASID through it (backend.pasid): undecided, never
# compatible, until the host is probed live with --iommufd.
want[arm-smmuv3-kubevirt.xml:arm-smmuv3-nested]=undecided
# generic: the unit publishes no nested or ats, the device is a ConnectX-6 (no PASID asked), and
# the unit has a linear stream table and big-endian tables, which QEMU's accelerated vSMMU refuses
# (smmuv3.stream_table, smmuv3.tt_endian); mainline: every unit fact unknown.
want[arm-smmuv3-kubevirt.xml:arm-smmuv3-generic]=incompatible
want[arm-smmuv3-kubevirt.xml:arm-smmuv3-mainline]=undecided

for guest in "$examples"/*.qemu "$examples"/*.args "$examples"/*.xml; do
  name=$(basename "$guest")
  for host in $(fixtures); do
    if [ -n "${twin[$name]:-}" ]; then
      intended=$(verdict "$examples/${twin[$name]}.toml" "$host")
    else
      intended=${want[$name:$host]:-}
    fi
    if [ -z "$intended" ]; then
      fail "$name:$host: no intended verdict in this test (new example?)"
      continue
    fi
    got=$(verdict "$guest" "$host")
    if [ "$got" = "$intended" ]; then pass "$name:$host: $got"; else fail "$name:$host: got $got, intended $intended"; fi
  done
done

# The refused examples name each of QEMU's and libvirt's reasons at the user's own text.
out=$("$compat" check --sysfs-root fake-sysfs/hosts/intel-icx-2s "$examples/intel-iommu-refused.args")
for want_line in \
  "intel-iommu-refused.args:9:13: fail [vmm.intel] argument 7 (-device intel-iommu), option aw-bits: Supported values for aw-bits are: 39, 48" \
  "intel-iommu-refused.args:9:37: fail [vmm.intel] argument 7 (-device intel-iommu), option eim: eim=on cannot be selected without intremap=on"; do
  if grep -qF "$want_line" <<<"$out"; then pass "refused: ${want_line##*: }"; else fail "refused: missing '$want_line'"; fi
done
out=$("$compat" check --sysfs-root fake-sysfs/hosts/intel-icx-2s "$examples/intel-iommu-no-ioapic.xml")
if grep -qF "intel-iommu-no-ioapic.xml:10:15: fail [libvirt.intremap_ioapic] <driver intremap='on'>: IOMMU interrupt remapping requires split I/O APIC" <<<"$out"; then
  pass "libvirt rule at the attribute"
else
  fail "libvirt rule: $out"
fi
# --qemu-args, and --qemu-version choosing the release.
"$compat" check --sysfs-root fake-sysfs/hosts/intel-icx-2s --qemu-version 7.2 \
  --qemu-args "qemu-system-x86_64 -machine q35 -device intel-iommu,x-flts=on" >"$work/out"
expect_status "--qemu-args x-flts on 7.2" 1 $?
grep -qF "Property 'intel-iommu.x-flts' not found" "$work/out" && pass "7.2 has no x-flts" || fail "x-flts: $(cat "$work/out")"
"$compat" check --sysfs-root fake-sysfs/hosts/intel-icx-2s --qemu-version 7 --qemu-args "-device intel-iommu" >/dev/null 2>&1
expect_status "--qemu-version 7" 2 $?
finish
