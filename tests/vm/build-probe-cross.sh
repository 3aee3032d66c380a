#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Cross-builds iommu-probe for a foreign guest (aarch64) with clang-14 and lld against a sysroot
# of Debian's own packages for that architecture, fetched like the kernels (fetch-kernel.sh):
# nothing is installed on the machine. libstdc++ and libgcc are linked statically; libc and
# libudev stay shared and their files are listed for the initramfs. libcaps needs libxml2 to
# configure and link (its libvirt reader), but the probe uses none of it: --as-needed keeps
# libxml2 and its ICU out of the probe's NEEDED list, and so out of the initramfs.
# Usage: tests/vm/build-probe-cross.sh DEBARCH OUTDIR
#   Writes OUTDIR/iommu-probe and OUTDIR/libs (the sysroot's files the guest needs, one a line
#   as "SYSROOT_PATH GUEST_PATH"). The build tree lives in OUTDIR/build (reused when present:
#   keep OUTDIR inside the checkout's build directory, a CMake tree belongs to one checkout);
#   the sysroot is kept in the VM cache (IOMMU_VM_CACHE/sysroot/DEBARCH). Cases running at once
#   share one build: a lock on OUTDIR serializes them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
debarch=${1:?usage: build-probe-cross.sh DEBARCH OUTDIR}
out=${2:?usage: build-probe-cross.sh DEBARCH OUTDIR}
die() { echo "build-probe-cross: $*" >&2; exit 1; }
case "$debarch" in
  arm64) triple=aarch64-linux-gnu processor=aarch64 loader=/lib/ld-linux-aarch64.so.1 ;;
  *) die "no cross build for $debarch" ;;
esac
command -v clang++-14 >/dev/null || die "clang++-14 is not installed (tools/setup.sh test installs it)"

mkdir -p "$out"
exec 8>"$out/.lock"
flock 8
cache=${IOMMU_VM_CACHE:-/var/cache/iommu-tools-vm}
sysroot=$cache/sysroot/$debarch
# Runtime and headers for the target, and the build's own -dev packages (header-only ones are
# architecture-independent but come the same way, so CMake finds them inside the sysroot). The
# marker holds the list: a sysroot made from another list is made again.
packages="libc6 libc6-dev linux-libc-dev libgcc-12-dev libgcc-s1 libstdc++-12-dev libstdc++6 libudev1 libudev-dev libcap2 libcli11-dev libtomlplusplus-dev libtomlplusplus3 libexpected-dev libxml2 libxml2-dev libicu72 libicu-dev zlib1g liblzma5"
if [ "$(cat "$sysroot/.sysroot-complete" 2>/dev/null)" != "$packages" ]; then
  rm -rf "$sysroot"
  mkdir -p "$sysroot"
  for p in $packages; do
    d=$("$here/fetch-kernel.sh" bookworm "$debarch" "$p") || die "cannot fetch $p:$debarch"
    cp -a "$d/." "$sysroot/"
  done
  echo "$packages" >"$sysroot/.sysroot-complete"
fi

export PKG_CONFIG_SYSROOT_DIR=$sysroot
export PKG_CONFIG_LIBDIR=$sysroot/usr/lib/$triple/pkgconfig:$sysroot/usr/share/pkgconfig
cmake -S "$top" -B "$out/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR="$processor" \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_CXX_COMPILER_TARGET="$triple" \
  -DCMAKE_SYSROOT="$sysroot" -DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER \
  -DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY -DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY \
  -DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY \
  -DCMAKE_EXE_LINKER_FLAGS="-fuse-ld=lld -Wl,--as-needed -static-libstdc++ -static-libgcc" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fuse-ld=lld" \
  -DIOMMU_TESTS=OFF -DIOMMU_BENCH=OFF -DIOMMU_WERROR=OFF >"$out/configure.log" 2>&1 ||
  { cat "$out/configure.log" >&2; die "cannot configure the $debarch build"; }
cmake --build "$out/build" --target iommu-probe >"$out/build.log" 2>&1 ||
  { tail -n 30 "$out/build.log" >&2; die "cannot build iommu-probe for $debarch"; }
cp "$out/build/tools/iommu-probe" "$out/iommu-probe"

# The shared libraries it needs, resolved in the sysroot (readelf: no target ldd here).
: >"$out/libs"
want=$(readelf -d "$out/iommu-probe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
seen=" "
while [ -n "$want" ]; do
  next=
  for lib in $want; do
    case "$seen" in *" $lib "*) continue ;; esac
    seen="$seen$lib "
    f=
    for dir in /lib/$triple /usr/lib/$triple; do
      [ -e "$sysroot$dir/$lib" ] && { f=$dir/$lib; break; }
    done
    [ -n "$f" ] || die "$lib (needed by iommu-probe) is not in the $debarch sysroot"
    echo "$(readlink -f "$sysroot$f") $f" >>"$out/libs"
    next="$next $(readelf -d "$sysroot$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
  done
  want=$next
done
echo "$(readlink -f "$sysroot$loader") $loader" >>"$out/libs"
echo "$out/iommu-probe"
