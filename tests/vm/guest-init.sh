#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the VM tier's initramfs (busybox sh): loads the case's modules, runs the probes and
# gathers the tree on the real /sys, records the guest's own view, runs the case's VFIO steps,
# and writes everything as one base64 tar, framed by marker lines, to the device named by
# vmout= on the kernel command line; then powers off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/local/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp && mount -t tmpfs tmpfs /tmp

# Progress on the console (not in the data stream: these come before it).
step() { echo "iommu-tools vm: $*" >/dev/console; }
vmout=/dev/console
for arg in $(cat /proc/cmdline); do
  case "$arg" in vmout=*) vmout=${arg#vmout=} ;; esac
done

o=/out
mkdir -p $o
step "loading $(wc -l </mods/order) modules"
for m in $(cat /mods/order); do
  insmod /mods/$m.ko >>$o/insmod.log 2>&1 || echo "insmod $m failed" >>$o/insmod.log
done
# Drivers probe asynchronously (nvme under an emulated IOMMU can take a while): wait until the
# set of bound PCI drivers stops changing for 3 s, at most 60 s.
last= same=0 n=0
while [ $n -lt 60 ] && [ $same -lt 3 ]; do
  now=$(ls -l /sys/bus/pci/devices/*/driver 2>/dev/null | sed 's/.*-> //' | tr '\n' ' ')
  if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; last=$now; fi
  sleep 1; n=$((n + 1))
done

step "drivers settled after $n s"
uname -r >$o/uname
cat /proc/cmdline >$o/cmdline

# The guest's own view, read with busybox only.
ls -l /sys/class/iommu/ >$o/ls-class-iommu 2>&1
for g in /sys/kernel/iommu_groups/*; do
  [ -d "$g" ] || continue
  echo "${g##*/} $(cat $g/type 2>/dev/null) $(ls $g/devices | tr '\n' ' ')"
done >$o/groups
mkdir -p $o/config
for d in /sys/bus/pci/devices/*; do
  b=${d##*/}
  drv=-; [ -L $d/driver ] && drv=$(basename $(readlink $d/driver))
  grp=-; [ -L $d/iommu_group ] && grp=$(basename $(readlink $d/iommu_group))
  unit=-; [ -L $d/iommu ] && unit=$(basename $(readlink $d/iommu))
  echo "$b $(cat $d/vendor):$(cat $d/device) class=$(cat $d/class) driver=$drv group=$grp iommu=$unit"
  hexdump -v -e '16/1 "%02x " "\n"' $d/config >$o/config/$b
done >$o/pci
dmesg >$o/dmesg
# SMMUv3 publishes no registers in sysfs: read its ID registers (IDR0-5, AIDR) at the MMIO base
# in the unit's name, through /dev/mem (the case boots with iomem=relaxed).
for u in /sys/class/iommu/smmu3.0x*; do
  [ -e "$u" ] || continue
  base=${u##*/smmu3.}
  for off in 0 4 8 12 16 20 28; do
    echo "$off $(devmem $((base + off)) 32)"
  done >$o/smmu-regs.${u##*/} 2>&1
done

if [ -x /usr/local/bin/iommu-probe ]; then
  step "iommu-probe"
  for be in udev dir; do
    iommu-probe --backend $be --format json >$o/probe-$be.json 2>$o/probe-$be.stderr
    echo $? >$o/probe-$be.rc
    iommu-probe --backend $be --registers >$o/probe-$be.txt 2>>$o/probe-$be.stderr
  done
fi
step "gather.sh"
if [ -f /usr/local/bin/gather.sh ]; then
  sh /usr/local/bin/gather.sh --acpi-tables $o/tree >$o/gather.log 2>&1
  echo $? >$o/gather.rc
fi

# Case-specific steps (VFIO binding and the kernel's verdicts) come after the snapshot, so the
# snapshot shows the drivers the kernel chose.
if [ -f /case.sh ]; then
  step "case steps"
  . /case.sh >$o/case.log 2>&1
fi
dmesg >$o/dmesg.end

step "bringing out the capture"
echo "==== BEGIN iommu-tools capture ====" >$vmout
(cd / && tar cf - out | gzip -1 | base64) >$vmout
echo "==== END iommu-tools capture ====" >$vmout
sync
poweroff -f
