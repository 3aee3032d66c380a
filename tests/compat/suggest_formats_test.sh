#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `iommu-compat suggest --format qemu|libvirt` on every fixture host with a unit, for every model:
# what it prints is read back by `check` (told apart by content) and is never incompatible on
# that host, like the TOML suggestion (suggest_test.sh); the shapes are pinned for one host.
# Real QEMU accepting the printed options is tests/qemu's part.
# Usage: tests/compat/suggest_formats_test.sh IOMMU-COMPAT
compat=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

for model in intel-vtd amd-vi arm-smmu-v3 virtio-iommu; do
  for host in $(fixtures); do
    [ -d "fake-sysfs/hosts/$host/sys/class/iommu" ] || continue
    for format in qemu libvirt; do
      "$compat" suggest --format "$format" --model "$model" --sysfs-root "fake-sysfs/hosts/$host" \
        >"$work/guest" 2>"$work/err" || { fail "$model $format on $host: $(cat "$work/err")"; continue; }
      "$compat" check --sysfs-root "fake-sysfs/hosts/$host" "$work/guest" >"$work/check" 2>&1
      case $? in
        0 | 3) pass "$model $format on $host: $(head -n 1 "$work/check" | sed 's/.*: //')" ;;
        *) fail "$model $format on $host"; cat "$work/check" "$work/guest" ;;
      esac
    done
  done
done

"$compat" suggest --format qemu --model intel-vtd --sysfs-root fake-sysfs/hosts/intel-icx-2s >"$work/q"
want="-machine q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on,aw-bits=48,device-iotlb=on"
[ "$(head -n 1 "$work/q")" = "$want" ] && pass "qemu shape" || fail "qemu shape: $(head -n 1 "$work/q")"
"$compat" suggest --format libvirt --model arm-smmu-v3 --sysfs-root fake-sysfs/hosts/arm-smmuv3-nested >"$work/x"
# 11.0 refuses oas=48, ssidsize and ats without accel=on, and accel=on needs iommufd.
grep -qF "<driver pciBus='0' accel='on' oas='48' ssidSize='20' ats='on'/>" "$work/x" &&
  grep -qF "<iommufd/>" "$work/x" && pass "libvirt smmuv3 shape" || fail "libvirt shape: $(cat "$work/x")"
"$compat" suggest --format qemu --model arm-smmu-v3 --sysfs-root fake-sysfs/hosts/arm-smmuv3-nested >"$work/qs"
grep -qF -- "-object iommufd,id=iommufd0 -device arm-smmuv3,accel=on,oas=48," "$work/qs" &&
  pass "qemu smmuv3 shape" || fail "qemu smmuv3 shape: $(cat "$work/qs")"
"$compat" suggest --format libvirt --qemu-version 10.0 --model arm-smmu-v3 \
  --sysfs-root fake-sysfs/hosts/arm-smmuv3-nested >"$work/x10"
grep -qF "<driver" "$work/x10" && fail "10.0 has no smmuv3 driver options" || pass "10.0: machine SMMUv3"
finish
