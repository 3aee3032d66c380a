#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Set-up on a fresh Debian machine in one command: install the Debian packages the project
# needs, configure and build, then either run iommu-probe (`run`) or pass the tests.
# Usage: tools/setup.sh run|test|test-quick|build   (as root, or with sudo available)
#   run         normal build, then iommu-probe on this host (or a bundled fake host)
#   test        what CI runs: normal build + every test, the VM tier (tests/vm, ctest label
#               vm), then an ASan+UBSan build + every test again (not the VM tier), then the
#               fuzz smoke run (when tests/fuzz/run.sh exists)
#   test-quick  normal build + every test but the VM tier (the developer's loop)
#   build       normal build only
# BUILD_DIR (default build/) and ASAN_BUILD_DIR (default build-asan/) choose the build trees.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
asan_build=${ASAN_BUILD_DIR:-$here/build-asan}
mode=${1:-}
case "$mode" in
  run|test|test-quick|build) ;;
  *) echo "usage: tools/setup.sh run|test|test-quick|build" >&2; exit 2 ;;
esac

# What building and running needs, and what only the tests need (reasons beside each).
build_packages=(g++ cmake ninja-build pkg-config
                libcli11-dev libtomlplusplus-dev libudev-dev libexpected-dev
                libxml2-dev)   # libvirt domain XML guests (the parser libvirt uses)
test_packages=(libgtest-dev libgmock-dev
               umockdev        # runs the libudev backend on fixture trees
               libxml2-utils   # xmllint validates the JUnit output against schemas/junit.xsd
               python3         # tests/docs, tests/compat and tests/schema are Python scripts
               python3-jsonschema   # tests/schema validates every JSON/TOML output against schemas/ (draft 2020-12)
               python3-yaml    # tests/deploy reads the Kubernetes manifests of deploy/kubernetes
               systemd         # tests/deploy runs systemd-analyze verify on deploy/systemd's units
               busybox-static  # gather.sh under busybox sh; the VM guests' initramfs (static: it runs alone there)
               zsh             # tests/completion runs the zsh completion (bash's is run by bash itself)
               man-db groff-base   # tests/man renders the manual pages with man --warnings and groff
               dpkg-dev debhelper fakeroot lintian   # tests/package builds the .debs, lintian checks them
               clang-14 libclang-rt-14-dev llvm-14   # the libFuzzer smoke run (tests/fuzz)
               # The VM tier (tests/vm) boots Debian kernels under QEMU: the emulators, xz for
               # the kernels' .ko.xz modules (the VFIO helper links statically with libc6-dev).
               qemu-system-x86 qemu-system-arm xz-utils
               # tests/qemu judges the VMM rules with Debian 13's QEMU 10.0 too: a minbase
               # chroot made once in the VM cache (the machine's own QEMU stays 7.2)
               debootstrap
               # The VM tier's iommufd cases boot a kernel built from Debian's linux-source
               # (tests/vm/build-kernel.sh, once per machine: no Debian kernel has IOMMUFD):
               # the kernel build's tools, and the arm64 cross compiler (its libc also links
               # the static aarch64 iommufd recorder)
               # (libc6-dev-arm64-cross is only a Recommends of the compiler, and recommends
               # are not installed)
               flex bison bc libelf-dev cpio gcc-aarch64-linux-gnu libc6-dev-arm64-cross
               lld-14)         # links the aarch64 VFIO helper (clang-14, above, compiles it)
packages=("${build_packages[@]}")
case "$mode" in
  test|test-quick) packages+=("${test_packages[@]}") ;;
esac

install_packages() {
  local missing=() p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "setup: installing ${missing[*]}" >&2
  # Another apt or dpkg (unattended-upgrades, a parallel job) may hold the locks for a while:
  # wait up to SETUP_APT_LOCK_TIMEOUT seconds instead of failing at once. DPkg::Lock::Timeout
  # covers dpkg's lock; apt-get update (apt 2.6) does not wait for the lists lock, so retry it.
  local lock_wait=${SETUP_APT_LOCK_TIMEOUT:-600} waited=0 err
  err=$(mktemp)
  until "${sudo[@]}" apt-get -o DPkg::Lock::Timeout="$lock_wait" update -q 2>"$err"; do
    cat "$err" >&2
    if ! grep -q 'Could not get lock' "$err" || [ "$waited" -ge "$lock_wait" ]; then
      rm -f "$err"
      return 1
    fi
    echo "setup: the package lists are locked by another apt; waiting ($waited s of $lock_wait)" >&2
    sleep 5
    waited=$((waited + 5))
  done
  cat "$err" >&2
  rm -f "$err"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout="$lock_wait" \
    install -y -q --no-install-recommends "${missing[@]}"
}

stage_start=$SECONDS
# One header line per stage, and how long the previous one took.
stage() {
  echo "==== setup: $* ($(( SECONDS - stage_start )) s so far)" >&2
}

# configure_and_build DIR [CMAKE ARGS...]
configure_and_build() {
  local dir=$1
  shift
  cmake -S "$here" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$(nproc)"
}

# run_tests DIR [EXCLUDED LABELS]: the VM tier (label vm) runs in its own stage, never here.
run_tests() {
  ctest --test-dir "$1" --output-on-failure -j "$(nproc)" -LE "${2:-vm}"
}

install_packages
case "$mode" in
  test) stage "[1/4] build and test ($build)" ;;
  test-quick) stage "[1/1] build and test ($build)" ;;
esac
tests=ON
case "$mode" in
  run|build) tests=OFF ;;  # no GoogleTest needed to build and run the tools
esac
configure_and_build "$build" -DIOMMU_TESTS=$tests

case "$mode" in
  run)
    if [ -n "$(ls -A /sys/class/iommu 2>/dev/null)" ]; then
      exec "$build/tools/iommu-probe"
    fi
    echo "setup: this machine has no IOMMU unit; probing the bundled fake host fake-sysfs/hosts/intel-icx-2s" >&2
    exec "$build/tools/iommu-probe" --sysfs-root "$here/fake-sysfs/hosts/intel-icx-2s"
    ;;
  test-quick)
    run_tests "$build"
    ;;
  test)
    run_tests "$build"

    stage "[2/4] VM tier: Debian kernels under QEMU (tests/vm; cache ${IOMMU_VM_CACHE:-/var/cache/iommu-tools-vm})"
    # Two guests at a time (capture.sh also holds two slots); a boot takes 1-5 min under TCG.
    ctest --test-dir "$build" --output-on-failure -j 2 -L vm

    stage "[3/4] ASan+UBSan build and test ($asan_build)"
    # -O1 keeps the sanitizers' reports exact and builds faster than -O2; no benchmarks here.
    configure_and_build "$asan_build" -DIOMMU_SANITIZE=ON -DIOMMU_BENCH=OFF \
      -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g"
    # Any finding fails the test that hit it: leaks too (LeakSanitizer works as root here),
    # and UBSan reports stop the program (-fno-sanitize-recover=all makes them fatal anyway).
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      run_tests "$asan_build" 'vm|package'  # the Debian packages build their own tree: once is enough

    stage "[4/4] fuzz smoke run"
    if [ -x "$here/tests/fuzz/run.sh" ]; then
      "$here/tests/fuzz/run.sh" 15
    else
      echo "setup: no tests/fuzz/run.sh; skipped" >&2
    fi
    stage "all stages passed"
    ;;
esac
