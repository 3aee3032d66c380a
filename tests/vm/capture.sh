#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Boots one VM case under QEMU (TCG) and keeps what the guest brought out in the cache, keyed by
# kernel package + QEMU version + the case's definition (case file, initramfs builder, guest
# init, gather.sh and, for guests that run it, iommu-probe's sources). A cached capture is
# reused: each configuration boots once, and everything is done in that boot.
# Usage: tests/vm/capture.sh CASE BUILD_DIR
# Links BUILD_DIR/tests/vm/captures/CASE to the capture directory and prints its path.
# IOMMU_VM_CACHE: the cache (default /var/cache/iommu-tools-vm); IOMMU_VM_TIMEOUT: seconds a
# guest may run (default 1500: TCG on a loaded 2-core machine is slow); IOMMU_VM_SLOTS: guests
# run at once across all cases (default 2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
name=${1:?usage: capture.sh CASE BUILD_DIR}
build=$(cd "${2:?usage: capture.sh CASE BUILD_DIR}" && pwd)
cache=${IOMMU_VM_CACHE:-/var/cache/iommu-tools-vm}
die() { echo "capture $name: $*" >&2; exit 1; }

CASES=$here/cases
casefile=$CASES/$name.case
[ -f "$casefile" ] || die "no case file $casefile"
ARCH= SUITE= APPEND= MODULES= CASE_STEPS= CASE_HELPER=vfio-check.c KERNEL_BUILD=
QEMU_ARGS=()
# shellcheck source=/dev/null
. "$casefile"
case "$ARCH" in
  x86_64) debarch=amd64 native=1 ;;
  aarch64) debarch=arm64 native=0 ;;
  *) die "ARCH must be x86_64 or aarch64, not '$ARCH'" ;;
esac

# A kernel that cannot be fetched (or built) fails the case loudly. KERNEL_BUILD=1: the kernel
# build-kernel.sh builds from Debian's linux-source (iommufd), cached per version and config.
if [ -n "$KERNEL_BUILD" ]; then
  kdir=$("$here/build-kernel.sh" "$ARCH") || die "cannot build the $ARCH kernel from linux-source"
  kpkg="linux-source ${kdir##*/}"
  vmlinuz=$kdir/image
else
  kdir=$("$here/fetch-kernel.sh" "$SUITE" "$debarch") || die "cannot fetch Debian $SUITE's $debarch kernel"
  kpkg=$(cut -d' ' -f1,2 "$kdir/.complete")
  vmlinuz=$(ls "$kdir"/boot/vmlinuz-* | head -n 1)
fi
qemu=qemu-system-$ARCH
command -v "$qemu" >/dev/null || die "$qemu is not installed (tools/setup.sh test installs it)"
qver=$("$qemu" --version | head -n 1)

if [ "$native" = 1 ]; then
  busybox=/bin/busybox
  probe_dir=$build/tools
  [ -x "$probe_dir/iommu-probe" ] || die "no $probe_dir/iommu-probe: build first"
else
  bbdir=$("$here/fetch-kernel.sh" bookworm "$debarch" busybox-static) || die "cannot fetch busybox-static:$debarch"
  busybox=$bbdir/bin/busybox
  probe_dir=$build/cross-$debarch  # built below, when the capture is not cached
fi
[ -x "$busybox" ] || die "no static busybox at $busybox (package busybox-static)"

# What the capture depends on, the product's sources included (iommu-probe runs inside).
key=$(
  {
    echo "kernel $kpkg"
    echo "qemu $qver"
    cat "$casefile" "$CASES"/*.inc "$here/guest-init.sh" "$here/build-initramfs.sh" \
        "$top/fake-sysfs/gather.sh"
    [ -z "$CASE_STEPS" ] || cat "$here/$CASE_STEPS" "$here/$CASE_HELPER"
    (cd "$top" && find libcaps tools/common tools/iommu-probe -type f -print0 | LC_ALL=C sort -z |
       xargs -0 sha256sum)
    [ "$native" = 1 ] || cat "$here/build-probe-cross.sh"
  } | sha256sum | cut -c1-16)
capdir=$cache/captures/$name/$key
mkdir -p "$build/tests/vm/captures"
if [ -f "$capdir/.complete" ]; then
  ln -sfn "$capdir" "$build/tests/vm/captures/$name"
  echo "capture $name: cached ($capdir)" >&2
  echo "$capdir"
  exit 0
fi

# iommu-probe cross-built for a foreign guest, against Debian's packages for its architecture
# (before taking a VM slot: the build needs the CPU, not a guest).
if [ "$native" = 0 ]; then
  echo "capture $name: cross-building iommu-probe for $debarch" >&2
  "$here/build-probe-cross.sh" "$debarch" "$probe_dir" >/dev/null ||
    die "cannot cross-build iommu-probe for $debarch"
fi

# At most IOMMU_VM_SLOTS guests at once, whoever started them.
slots=${IOMMU_VM_SLOTS:-2}
mkdir -p "$cache/slots"
got=
while [ -z "$got" ]; do
  for ((i = 0; i < slots; i++)); do
    exec 8>"$cache/slots/$i"
    if flock -n 8; then got=$i; break; fi
  done
  [ -n "$got" ] || sleep 2
done

mkdir -p "$cache/captures/$name"
work=$(mktemp -d "$cache/captures/$name/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Cases with steps (VFIO) get the static VFIO helper, built here for the guest's architecture.
steps=()
if [ -n "$CASE_STEPS" ]; then
  if [ "$native" = 1 ]; then
    cc -static -O2 -Wall -Werror -o "$work/vfio-check" "$here/$CASE_HELPER" || die "cannot build $CASE_HELPER"
  elif [ -n "$KERNEL_BUILD" ]; then
    # The kernel build needs Debian's cross compiler anyway; its arm64 libc makes the helper.
    aarch64-linux-gnu-gcc -static -O2 -Wall -Werror -o "$work/vfio-check" "$here/$CASE_HELPER" ||
      die "cannot build $CASE_HELPER for $ARCH"
  else
    # A static aarch64 helper: clang and lld against Debian's arm64 libc and libgcc packages.
    sysroot=$work/sysroot
    mkdir -p "$sysroot"
    for p in libc6 libc6-dev linux-libc-dev libgcc-12-dev; do
      d=$("$here/fetch-kernel.sh" bookworm "$debarch" "$p") || die "cannot fetch $p:$debarch"
      cp -a "$d/." "$sysroot/"
    done
    clang-14 --target=aarch64-linux-gnu --sysroot="$sysroot" -fuse-ld=lld -static -O2 -Wall \
      -Werror -o "$work/vfio-check" "$here/$CASE_HELPER" || die "cannot build $CASE_HELPER for $ARCH"
  fi
  steps=(CASE_SCRIPT="$here/$CASE_STEPS" VFIO_HELPER="$work/vfio-check")
fi
# A built kernel has everything built in: an empty module tree for build-initramfs.sh.
ikdir=$kdir
if [ -n "$KERNEL_BUILD" ]; then
  ikdir=$work/no-modules
  mkdir -p "$ikdir/lib/modules/built-in/kernel"
fi
# shellcheck disable=SC2086
env "${steps[@]}" "$here/build-initramfs.sh" "$ikdir" "$debarch" "$busybox" \
  "$probe_dir" "$work/initrd.gz" $MODULES || die "cannot build the initramfs"

if [ "$native" = 1 ]; then
  console=(-serial "file:$work/console.log" -serial "file:$work/data.log")
  append="console=ttyS0 panic=-1 vmout=/dev/ttyS1 $APPEND"
  data=$work/data.log
else
  # One UART on virt: the kernel stays quiet and the data is framed by marker lines.
  console=(-serial "file:$work/console.log")
  append="console=ttyAMA0 loglevel=1 panic=-1 vmout=/dev/ttyAMA0 $APPEND"
  data=$work/console.log
fi
common=(-accel tcg -m 1024 -smp 1 -nodefaults -display none -no-reboot)
echo "capture $name: booting $kpkg under $qver (slot $got)" >&2
start=$SECONDS
set +e
timeout "${IOMMU_VM_TIMEOUT:-1500}" "$qemu" "${common[@]}" "${QEMU_ARGS[@]}" \
  -kernel "$vmlinuz" -initrd "$work/initrd.gz" -append "$append" "${console[@]}" \
  >"$work/qemu.log" 2>&1
status=$?
set -e
seconds=$((SECONDS - start))
exec 8>&-
if ! grep -q '==== END iommu-tools capture ====' "$data" 2>/dev/null; then
  echo "--- qemu (exit $status after $seconds s):" >&2
  cat "$work/qemu.log" >&2
  echo "--- last lines of the console:" >&2
  tail -n 40 "$work/console.log" >&2 || true
  die "the guest brought out no capture"
fi
sed -n '/==== BEGIN iommu-tools capture ====/,/==== END iommu-tools capture ====/p' "$data" |
  sed '1d;$d' | tr -d '\r' | base64 -d | tar xzf - -C "$work" || die "the capture does not unpack"
mv "$work/out" "$work/capture"
cp "$work/console.log" "$work/capture/console.log"
{
  echo "kernel: $kpkg (Debian $SUITE, $debarch)"
  echo "qemu: $qver"
  # The command line as it would be typed, with the cache paths replaced by names.
  printf 'command:'
  for a in "$qemu" "${common[@]}" "${QEMU_ARGS[@]}" -kernel "$(basename "$vmlinuz")" \
      -initrd initrd.gz -append "$append" "${console[@]//$work\//}"; do
    case "$a" in
      *[!A-Za-z0-9_,.:=/+@-]*) printf " '%s'" "$a" ;;
      *) printf ' %s' "$a" ;;
    esac
  done
  echo
  echo "boot-to-capture-seconds: $seconds"
  echo "key: $key"
} >"$work/capture/PROVENANCE"
touch "$work/capture/.complete"
rm -rf "$capdir"
mv "$work/capture" "$capdir"
ln -sfn "$capdir" "$build/tests/vm/captures/$name"
echo "capture $name: booted and captured in $seconds s ($capdir)" >&2
echo "$capdir"
