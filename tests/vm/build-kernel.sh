#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds a small guest kernel with iommufd from Debian's linux-source package, once per machine.
# No Debian kernel package has CONFIG_IOMMUFD (6.1, 6.12, the 7.x backports), so the iommufd cases
# of the VM tier boot this one (issue 11 item 6).
# Usage: tests/vm/build-kernel.sh ARCH        (ARCH x86_64|aarch64)
# Prints the directory holding `image` (bzImage or arm64 Image), `config`, `build.log` and
# `build-seconds` on stdout.
#   Source: linux-source-$IOMMU_VM_KSRC (default 7.3) from trixie-backports, fetched with
#   fetch-kernel.sh (a separate apt configuration; nothing on the machine changes).
#   Config: `make allnoconfig` + kernel/common.config + kernel/ARCH.config; every option of the
#   fragments must survive olddefconfig, or the build fails naming the option.
#   Cache: IOMMU_VM_CACHE/kernels/ARCH-VERSION-HASH, HASH over the fragments and the compiler's
#   version; the source tree is removed after the build. `make -j${IOMMU_VM_KJOBS:-2}`.
set -euo pipefail
arch=${1:?usage: build-kernel.sh x86_64|aarch64}
here=$(cd "$(dirname "$0")" && pwd)
cache=${IOMMU_VM_CACHE:-/var/cache/iommu-tools-vm}
ksrc=${IOMMU_VM_KSRC:-7.3}
die() { echo "build-kernel: $*" >&2; exit 1; }
case "$arch" in
  x86_64)  karch=x86_64 cross= target=bzImage image=arch/x86/boot/bzImage frag=x86_64 ;;
  aarch64) karch=arm64 cross=aarch64-linux-gnu- target=Image image=arch/arm64/boot/Image frag=arm64 ;;
  *) die "unknown ARCH $arch" ;;
esac
for t in make flex bison bc "${cross}gcc"; do
  command -v "$t" >/dev/null || die "$t missing (tools/setup.sh lists the kernel build packages)"
done

srcdir=$("$here/fetch-kernel.sh" trixie-backports amd64 "linux-source-$ksrc") ||
  die "cannot fetch linux-source-$ksrc from trixie-backports"
tarball=$(ls "$srcdir"/usr/src/linux-source-*.tar.xz | head -n 1)
ver=$(awk '{ print $2 }' "$srcdir/.complete")
frags=("$here/kernel/common.config" "$here/kernel/$frag.config")
hash=$({ cat "${frags[@]}"; "${cross}gcc" --version | head -n 1; } | sha256sum | cut -c1-12)
out=$cache/kernels/$arch-${ver//[~+]/_}-$hash
mkdir -p "$cache/kernels"
exec 8>"$out.lock"
flock 8
if [ -f "$out/image" ]; then echo "$out"; exit 0; fi

work=$out.build
rm -rf "$work" "$out"
mkdir -p "$work/src"
start=$(date +%s)
echo "build-kernel: $arch linux-source $ver (cold build, make -j${IOMMU_VM_KJOBS:-2})" >&2
tar -xf "$tarball" -C "$work/src" --strip-components=1
mk() { make -C "$work/src" ARCH=$karch ${cross:+CROSS_COMPILE=$cross} "$@"; }
{
  mk allnoconfig
  (cd "$work/src" && ARCH=$karch scripts/kconfig/merge_config.sh -m .config "${frags[@]}")
  mk olddefconfig
} >"$work/config.log" 2>&1 || { tail -n 30 "$work/config.log" >&2; die "configuration failed"; }
# Every option asked for must be in the result (a dependency missing drops it silently).
missing=$(grep -h '^CONFIG_' "${frags[@]}" | while read -r l; do
  grep -qx "$l" "$work/src/.config" || echo "$l"; done)
[ -z "$missing" ] || die "options dropped by olddefconfig: $(echo $missing)"
mk -j"${IOMMU_VM_KJOBS:-2}" "$target" >"$work/build.log" 2>&1 ||
  { tail -n 40 "$work/build.log" >&2; die "kernel build failed (log: $work/build.log)"; }
mkdir -p "$out.tmp"
cp "$work/src/$image" "$out.tmp/image"
cp "$work/src/.config" "$out.tmp/config"
cp "$work/build.log" "$out.tmp/build.log"
echo "$(( $(date +%s) - start ))" >"$out.tmp/build-seconds"
echo "linux-source-$ksrc $ver $arch ${cross}gcc: $("${cross}gcc" --version | head -n 1)" >"$out.tmp/SOURCE"
mv "$out.tmp" "$out"
rm -rf "$work"
echo "build-kernel: $arch built in $(cat "$out/build-seconds") s" >&2
echo "$out"
