#!/bin/sh
# SPDX-License-Identifier: MIT
# fake-sysfs/gather.sh where a guest's initramfs runs it: under `busybox sh` with PATH holding
# busybox applets only (no bash, no GNU find/realpath/cp). It must give the same tree as the
# fixture it gathers, and on a host with no IOMMU unit still snapshot every PCI function, the
# command line, the firmware tables (VIOT too) and the kernel release; the probe then reads
# them (when IOMMU_PROBE is given).
# Usage: tests/tools/gather_busybox_test.sh FAKE_SYSFS_DIR [IOMMU_PROBE]   (exit 77: no busybox)
set -u

fsdir=${1:?usage: gather_busybox_test.sh FAKE_SYSFS_DIR [IOMMU_PROBE]}
probe=${2:-}
gather=$fsdir/gather.sh
busybox=$(command -v busybox) || { echo "skip: busybox is not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# A PATH of busybox applets and nothing else; the environment is emptied too.
bin=$work/bin
mkdir "$bin"
for applet in $("$busybox" --list); do ln -s "$busybox" "$bin/$applet"; done
bb_gather() { "$busybox" env -i PATH="$bin" "$busybox" sh "$gather" "$@"; }

# 1. Hosts with units: busybox gives back the fixture, like bash or dash would.
for name in intel-icx-2s arm-smmuv3-nested amd-genoa-snp; do
  tree=$fsdir/hosts/$name
  if ! bb_gather --from "$tree" --acpi-tables "$work/$name" 2>"$work/$name.log"; then
    fail "$name: gather under busybox failed: $(cat "$work/$name.log")"
    continue
  fi
  d=$(diff -r --no-dereference -x SOURCE "$tree" "$work/$name" 2>&1)
  if [ -n "$d" ]; then fail "$name: busybox round trip differs:$d"; else pass "$name under busybox"; fi
  grep -q '(0 warnings)' "$work/$name.log" || fail "$name: warnings: $(cat "$work/$name.log")"
done

# 2. A host with no unit (intel_iommu=off), whose firmware also has a VIOT table and whose tree
#    tells the kernel release: every PCI function comes along, not only IOMMU-linked ones.
nounit=$work/nounit-src
cp -a "$fsdir/hosts/no-iommu" "$nounit"
printf 'VIOT' > "$nounit/sys/firmware/acpi/tables/VIOT"
mkdir -p "$nounit/proc/sys/kernel"
printf '6.1.0-28-amd64\n' > "$nounit/proc/sys/kernel/osrelease"
got=$work/nounit
if bb_gather --from "$nounit" --acpi-tables "$got" 2>"$work/nounit.log"; then
  # gather writes the (empty) class directory a real host has; the fixture cannot hold it.
  if [ -d "$got/sys/class/iommu" ] && [ -z "$(ls -A "$got/sys/class/iommu")" ]; then
    rmdir "$got/sys/class/iommu" "$got/sys/class"
  else
    fail "no unit: sys/class/iommu should be there and empty"
  fi
  d=$(diff -r --no-dereference -x SOURCE "$nounit" "$got" 2>&1)
  if [ -n "$d" ]; then fail "no unit: snapshot differs from the host:$d"; else pass "no unit: whole host"; fi
  n=$(ls "$got/sys/bus/pci/devices" | wc -l)
  [ "$n" -eq 5 ] || fail "no unit: $n PCI functions in the snapshot, want 5"
  for dev in "$got"/sys/bus/pci/devices/*; do
    [ -f "$dev/config" ] || fail "no unit: ${dev##*/} has no config"
  done
  [ "$(cat "$got/proc/sys/kernel/osrelease")" = 6.1.0-28-amd64 ] || fail "no unit: osrelease"
  [ -f "$got/sys/firmware/acpi/tables/VIOT" ] || fail "no unit: VIOT table not recorded"
  grep -q '^kernel-release: 6.1.0-28-amd64$' "$got/SOURCE" || fail "no unit: SOURCE lacks release"
  pass "no unit: PCI functions, tables, cmdline and osrelease"
else
  fail "no unit: gather under busybox failed: $(cat "$work/nounit.log")"
fi

# 3. A tree without osrelease gets none (uname -r would name the gathering kernel instead).
cp -a "$fsdir/hosts/no-iommu" "$work/norelease-src"
rm -rf "$work/norelease-src/proc/sys"
bb_gather --from "$work/norelease-src" "$work/norelease" 2>/dev/null || fail "no osrelease: gather"
[ ! -e "$work/norelease/proc/sys/kernel/osrelease" ] || fail "invented an osrelease"

# 4. The probe reads the busybox snapshot: the release, the VIOT table and why no unit.
if [ -n "$probe" ] && [ -d "$got" ]; then
  json=$("$probe" --sysfs-root "$got" --format json 2>"$work/probe.err")
  echo "$json" | grep -q '"kernel_release": "6.1.0-28-amd64"' || fail "probe: kernel_release: $json"
  echo "$json" | grep -q '"acpi_tables": \["DMAR", "VIOT"\]' || fail "probe: acpi_tables: $json"
  echo "$json" | grep -q 'the firmware has a VIOT table (virtio-iommu) but no unit registered' ||
    fail "probe: VIOT reason missing: $json"
  n=$(echo "$json" | grep -c '"name": "0000:')
  [ "$n" -eq 5 ] || fail "probe: $n devices, want 5"
  pass "probe reads the busybox snapshot"
fi

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all busybox gather tests passed"
