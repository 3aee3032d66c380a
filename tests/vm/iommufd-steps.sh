# SPDX-License-Identifier: MIT
# Case steps of the iommufd cases (sourced by the guest's /init, busybox sh; the case's helper,
# iommufd-record.c, is installed as /usr/local/bin/vfio-check by build-initramfs.sh): binds every
# network function (class 0x02xxxx: the e1000e and virtio-net of the case, which the kernel has
# no driver for) to vfio-pci with driver_override, lists the vfio cdevs the kernel made, asks
# iommufd about each (VFIO_DEVICE_BIND_IOMMUFD + IOMMU_GET_HW_INFO) and reads the SMMUv3 ID
# registers through /dev/mem for comparison; iommu-probe then asks iommufd itself. Writes
# $o/iommufd.replay, $o/vfio-bind, $o/smmu-devmem.UNIT and $o/probe-iommufd.{json,txt,toml,rc},
# and gathers the tree again (see the end).
dev=/sys/bus/pci/devices
: >$o/vfio-bind
for d in $(ls $dev); do
  case "$(cat $dev/$d/class)" in 0x02*) ;; *) continue ;; esac
  [ -L $dev/$d/driver ] && echo $d >$dev/$d/driver/unbind
  echo vfio-pci >$dev/$d/driver_override
  echo $d >/sys/bus/pci/drivers_probe
  drv=-; [ -L $dev/$d/driver ] && drv=$(basename $(readlink $dev/$d/driver))
  cdev=-; [ -d $dev/$d/vfio-dev ] && cdev=$(ls $dev/$d/vfio-dev | tr '\n' ' ')
  grp=-; [ -L $dev/$d/iommu_group ] && grp=$(basename $(readlink $dev/$d/iommu_group))
  echo "$d driver=$drv group=$grp cdev=$cdev" >>$o/vfio-bind
done
ls -l /dev/iommu /dev/vfio /dev/vfio/devices >>$o/vfio-bind 2>&1
vfio-check >$o/iommufd.replay 2>$o/iommufd.stderr
echo $? >$o/iommufd.rc
# iommu-probe asks the same kernel itself (--iommufd on): JSON, text and the host report
# iommu-compat loads. The checks compare it with the recorder and judge guests on the report.
if [ -x /usr/local/bin/iommu-probe ]; then
  iommu-probe --iommufd on --format json >$o/probe-iommufd.json 2>$o/probe-iommufd.stderr
  echo $? >$o/probe-iommufd.rc
  iommu-probe --iommufd on --registers >$o/probe-iommufd.txt 2>>$o/probe-iommufd.stderr
  iommu-probe --iommufd on --format toml >$o/probe-iommufd.toml 2>>$o/probe-iommufd.stderr
  # The whole process as users run it, with and without asking iommufd (seconds, 10 ms steps).
  for mode in off on off on off on; do
    time -f "$mode %e" iommu-probe --iommufd $mode --format json 2>&1 >/dev/null |
      grep -E '^(on|off) ' >>$o/probe-timing
  done
fi
# SMMU_IDR0..5 (0x0-0x14), SMMU_IIDR (0x18), SMMU_AIDR (0x1c), as the CPU reads them.
for u in /sys/class/iommu/smmu3.0x*; do
  [ -e "$u" ] || continue
  base=${u##*/smmu3.}
  for off in 0 4 8 12 16 20 24 28; do
    echo "$off $(devmem $((base + off)) 32)"
  done >$o/smmu-devmem.${u##*/} 2>&1
done

# The tree again, now that the functions are on vfio-pci with their vfio-dev/vfioN (gather.sh
# copies each cdev's uevent and dev, which the iommufd source reads), with the recorded answers
# beside it: the fixture holds both.
rm -rf $o/tree
sh /usr/local/bin/gather.sh --acpi-tables $o/tree >$o/gather-vfio.log 2>&1
echo $? >$o/gather-vfio.rc
cp $o/iommufd.replay $o/tree/iommufd.replay
