#!/usr/bin/env bash
# Set-up on a fresh Debian machine in one command: install the Debian packages the project
# needs, configure and build, then either run iommu-probe (`run`) or pass the tests (`test`).
# Usage: tools/setup.sh run|test   (as root, or with sudo available)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
mode=${1:-}
case "$mode" in
  run|test|build) ;;
  *) echo "usage: tools/setup.sh run|test|build" >&2; exit 2 ;;
esac

packages=(g++ cmake ninja-build pkg-config
          libcli11-dev libtomlplusplus-dev libudev-dev libexpected-dev
          libgtest-dev libgmock-dev umockdev)

install_packages() {
  local missing=() p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "setup: installing ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

install_packages
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)"

case "$mode" in
  run)
    if [ -n "$(ls -A /sys/class/iommu 2>/dev/null)" ]; then
      exec "$build/tools/iommu-probe"
    fi
    echo "setup: this machine has no IOMMU unit; probing the bundled fake host fake-sysfs/hosts/intel-icx-2s" >&2
    exec "$build/tools/iommu-probe" --sysfs-root "$here/fake-sysfs/hosts/intel-icx-2s"
    ;;
  test)
    exec ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
    ;;
esac
