#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Makes (once per machine) a Debian 13 (trixie) chroot holding QEMU 10.0, so the real-QEMU judge
# (qemu_judge_test.py) can run a second QEMU release beside the machine's own 7.2 without
# changing the machine: debootstrap --variant=minbase into the VM tier's cache, from the same
# archive as the machine's apt sources (found the way tests/vm/fetch-kernel.sh finds it).
# Usage: tests/qemu/make-trixie-chroot.sh   (as root: debootstrap needs it)
# Prints the chroot's directory (IOMMU_VM_CACHE/chroot/trixie-qemu) on stdout.
# IOMMU_VM_CACHE chooses the cache (default /var/cache/iommu-tools-vm). Tests running at once
# share one chroot: a lock serializes its creation, and a marker holding the package list says
# it is complete (a chroot made from another list, or an interrupted one, is made again).
set -euo pipefail
cache=${IOMMU_VM_CACHE:-/var/cache/iommu-tools-vm}
dir=$cache/chroot/trixie-qemu
# qemu-system-arm carries qemu-system-aarch64: the judge starts SMMUv3 and virtio-iommu on virt.
packages="qemu-system-x86,qemu-system-arm"
die() { echo "make-trixie-chroot: $*" >&2; exit 1; }

marker=$dir/.chroot-complete
if [ "$(cat "$marker" 2>/dev/null)" = "$packages" ]; then
  echo "$dir"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || die "debootstrap needs root to make $dir (run the tests as root, or make it once with sudo $0)"
command -v debootstrap >/dev/null || die "debootstrap is not installed (tools/setup.sh test installs it)"
mkdir -p "$cache/chroot"
exec 9>"$cache/chroot/.trixie-qemu.lock"
# Another test may be making it: wait for it (a cold debootstrap takes a few minutes).
flock -w 1800 9 || die "timed out waiting for another test making $dir"
if [ "$(cat "$marker" 2>/dev/null)" = "$packages" ]; then
  echo "$dir"
  exit 0
fi

# The first archive URI of the machine's non-security deb822 sources (or sources.list).
mirror=
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  mirror=$(awk 'BEGIN { RS = "" } /debian-security/ { next }
                { if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { u = substr($0, RSTART, RLENGTH);
                    sub(/URIs:[ \t]*/, "", u); print u; exit } }' "$f")
  [ -n "$mirror" ] && break
done
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' \
    /etc/apt/sources.list)
fi
[ -n "$mirror" ] || die "no Debian archive in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"

rm -rf "$dir" "$dir.tmp"
start=$SECONDS
log=$cache/chroot/trixie-qemu.log
echo "make-trixie-chroot: debootstrap trixie from $mirror into $dir (a few minutes, once)" >&2
debootstrap --variant=minbase --include="$packages" trixie "$dir.tmp" "$mirror" >"$log" 2>&1 ||
  { tail -n 30 "$log" >&2; die "debootstrap trixie from $mirror failed (log: $log)"; }
chroot "$dir.tmp" qemu-system-x86_64 --version >/dev/null || die "the chroot's qemu-system-x86_64 does not run"
# Nothing in it must change between runs: no apt caches kept (they are half its size).
rm -rf "$dir.tmp/var/cache/apt/archives/"*.deb "$dir.tmp/var/lib/apt/lists/"*_Packages
echo "$packages" >"$dir.tmp/.chroot-complete"
mv "$dir.tmp" "$dir"
echo "make-trixie-chroot: made in $((SECONDS - start)) s, $(du -sm "$dir" | cut -f1) MB" >&2
echo "$dir"
