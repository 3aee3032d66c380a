# SPDX-License-Identifier: MIT
# Case steps (sourced by the guest's /init, busybox sh): binds devices to vfio-pci in the
# combinations that decide VFIO group viability and asks the kernel (vfio-check: the viable flag
# of VFIO_GROUP_GET_STATUS and VFIO_GROUP_SET_CONTAINER). One line per scenario in $o/vfio:
#   NAME group=N members=BDF:DRIVER,... <vfio-check's line>
# tests/vm/check_capture.py (check `vfio`) replays each state on the gathered tree and compares
# iommu-compat's device rules with the kernel's answer.
dev=/sys/bus/pci/devices
drv_of() { if [ -L $dev/$1/driver ]; then basename "$(readlink $dev/$1/driver)"; else echo -; fi; }
grp_of() { basename "$(readlink $dev/$1/iommu_group)"; }
unbind() { [ -L $dev/$1/driver ] && echo $1 >$dev/$1/driver/unbind; return 0; }
bind_to() {  # BDF DRIVER
  unbind $1
  echo $2 >$dev/$1/driver_override
  echo $1 >/sys/bus/pci/drivers_probe
}
scenario() {  # NAME BDF (a member of the group to ask about)
  g=$(grp_of $2) members=
  for m in $(ls /sys/kernel/iommu_groups/$g/devices); do
    members="$members${members:+,}$m:$(drv_of $m)"
  done
  echo "$1 group=$g members=$members $(vfio-check $g)" >>$o/vfio
}

alone= e1000=
for d in $(ls $dev); do
  case "$(drv_of $d)" in
    virtio-pci) [ -n "$alone" ] || alone=$d ;;
    e1000) e1000="$e1000 $d" ;;
  esac
done
set -- $e1000
first=${1:-} second=${2:-}
: >$o/vfio
if [ -n "$alone" ]; then
  bind_to $alone vfio-pci
  scenario alone-on-vfio $alone
fi
if [ -n "$first" ] && [ -n "$second" ]; then
  bind_to $first vfio-pci
  scenario one-member-on-its-driver $first
  unbind $second
  scenario other-member-unbound $first
  bind_to $second vfio-pci
  scenario whole-group-on-vfio $first
  # The pcie-pci-bridge of that group: on shpchp (if the driver takes it), then unbound.
  bridge=$(basename "$(dirname "$(readlink -f $dev/$first)")")
  if [ -e $dev/$bridge ]; then
    echo shpchp >$dev/$bridge/driver_override
    echo $bridge >/sys/bus/pci/drivers/shpchp/bind 2>>$o/vfio.log ||
      echo "shpchp did not bind $bridge" >>$o/vfio.log
    b=$(drv_of $bridge)
    [ "$b" != - ] || b=no-driver
    scenario bridge-on-$b $first
    unbind $bridge
    scenario bridge-unbound $first
  fi
fi
