#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds a small busybox initramfs (newc cpio, gzip) for one VM case: busybox, the guest init
# script, the kernel modules the case needs in load order, iommu-probe (a cross-built one for a
# foreign guest, see build-probe-cross.sh), gather.sh and the static VFIO helper.
# Usage: tests/vm/build-initramfs.sh KERNEL_DIR ARCH BUSYBOX PROBE_DIR OUT.cpio.gz MODULE...
#   KERNEL_DIR  an unpacked linux-image .deb (fetch-kernel.sh)
#   BUSYBOX     a static busybox for ARCH
#   PROBE_DIR   the build's tools directory (iommu-probe), a build-probe-cross.sh OUTDIR (with
#               its `libs` list), or "-" for none
# Modules are loaded in dependency order from each module's .modinfo `depends=` (the .deb has
# no modules.dep); busybox insmod wants plain .ko, so .ko.xz/.ko.zst are decompressed here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
kdir=$1 arch=$2 busybox=$3 probe_dir=$4 out=$5
shift 5
die() { echo "build-initramfs: $*" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,out,mods}
cp "$busybox" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$here/guest-init.sh" "$root/init"
chmod 755 "$root/init"

# Module index: name (with '-' as '_') -> file.
moddir=
for d in "$kdir"/lib/modules/* "$kdir"/usr/lib/modules/*; do  # 6.12 uses merged /usr
  [ -d "$d/kernel" ] && { moddir=$d; break; }
done
[ -n "$moddir" ] || die "no lib/modules in $kdir"
declare -A modfile=()
while IFS= read -r f; do
  n=${f##*/}; n=${n%%.ko*}; n=${n//-/_}
  modfile[$n]=$f
done < <(find "$moddir/kernel" -name '*.ko*')

plain_ko() {  # FILE DEST
  case "$1" in
    *.ko.xz) xz -dc "$1" >"$2" ;;
    *.ko.zst) zstd -qdc "$1" >"$2" ;;
    *.ko.gz) gzip -dc "$1" >"$2" ;;
    *) cp "$1" "$2" ;;
  esac
}
declare -A loaded=()
order=()
add_module() {
  local n=${1//-/_} f dep deps
  [ -n "${loaded[$n]:-}" ] && return 0
  f=${modfile[$n]:-}
  [ -n "$f" ] || die "module $1 is not in $moddir (built in? then leave it out of the case)"
  loaded[$n]=1
  plain_ko "$f" "$root/mods/$n.ko"
  # .modinfo is a list of NUL-terminated key=value strings; depends= names the modules this
  # one needs (the host may have no modinfo, and this works for a foreign architecture too).
  deps=$(LC_ALL=C tr '\0' '\n' <"$root/mods/$n.ko" | sed -n 's/^depends=//p' | head -n 1)
  for dep in ${deps//,/ }; do add_module "$dep"; done
  order+=("$n")
}
for m in "$@"; do add_module "$m"; done
printf '%s\n' "${order[@]}" >"$root/mods/order"

# Host-architecture extras: iommu-probe (and the libraries ldd lists). gather.sh runs under the
# initramfs's busybox alone, in every guest (tests/tools/gather_busybox_test.sh holds it to
# that on the host with the same busybox).
copy_with_libs() {  # BINARY DESTDIR
  cp -L "$1" "$2/"
  ldd "$1" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    [ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
  done
}
mkdir -p "$root/usr/local/bin"
cp "$top/fake-sysfs/gather.sh" "$root/usr/local/bin/gather.sh"
if [ "$probe_dir" != - ] && [ -f "$probe_dir/libs" ]; then
  # A cross-built probe (build-probe-cross.sh) lists its target libraries: no ldd for them here.
  cp "$probe_dir/iommu-probe" "$root/usr/local/bin/"
  while read -r from to; do
    mkdir -p "$root$(dirname "$to")"
    cp -L "$from" "$root$to"
  done <"$probe_dir/libs"
elif [ "$probe_dir" != - ]; then
  copy_with_libs "$probe_dir/iommu-probe" "$root/usr/local/bin"
fi
if [ -n "${VFIO_HELPER:-}" ]; then
  mkdir -p "$root/usr/local/bin"
  cp "$VFIO_HELPER" "$root/usr/local/bin/vfio-check"
fi
if [ -n "${CASE_SCRIPT:-}" ]; then cp "$CASE_SCRIPT" "$root/case.sh"; fi

(cd "$root" && find . | LC_ALL=C sort | busybox cpio -o -H newc -R 0:0 2>/dev/null) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
