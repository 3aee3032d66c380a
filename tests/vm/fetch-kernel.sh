#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fetches a Debian kernel package (the newest linux-image-*-ARCH of a Debian release) from the
# same archive as this machine's apt sources, through a separate apt configuration, and unpacks
# it into the VM cache. Nothing on the machine changes: apt's lists, cache and status live in the
# cache directory, and dpkg never sees the package.
# Usage: tests/vm/fetch-kernel.sh SUITE ARCH [PACKAGE]   (SUITE bookworm|trixie, ARCH amd64|arm64)
#   PACKAGE fetches that package instead (busybox-static for a foreign architecture).
# Prints the unpacked directory (CACHE/debs/PACKAGE_VERSION_ARCH) on stdout.
# IOMMU_VM_CACHE chooses the cache (default /var/cache/iommu-tools-vm).
set -euo pipefail
suite=${1:?usage: fetch-kernel.sh SUITE ARCH}
arch=${2:?usage: fetch-kernel.sh SUITE ARCH}
cache=${IOMMU_VM_CACHE:-/var/cache/iommu-tools-vm}
die() { echo "fetch-kernel: $*" >&2; exit 1; }

aptdir=$cache/apt/$suite-$arch
mkdir -p "$aptdir"/{sources.list.d,lists/partial,cache/archives/partial,preferences.d}
# Cases run in parallel and share a suite: one fetch per suite and architecture at a time.
exec 9>"$aptdir/.fetch.lock"
flock 9
: >"$aptdir/status"
# The machine's sources with Suites: replaced; security stanzas dropped (a kernel from the
# release's own suite is enough, and trixie-security may be absent on a bookworm mirror).
sources=$(ls /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$sources" ] || die "no /etc/apt/sources.list.d/*.sources to copy the archive from"
awk -v suite="$suite" '
  BEGIN { RS = ""; ORS = "\n\n" }
  /debian-security/ { next }
  { gsub(/Suites:[^\n]*/, "Suites: " suite); print }' $sources >"$aptdir/sources.list.d/vm.sources"
grep -q '^URIs:' "$aptdir/sources.list.d/vm.sources" || die "no usable stanza in $sources"
cat >"$aptdir/apt.conf" <<CONF
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "$aptdir/sources.list.d";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "$aptdir/preferences.d";
Dir::State::Lists "$aptdir/lists";
Dir::State::status "$aptdir/status";
Dir::Cache "$aptdir/cache";
APT::Architecture "$arch";
APT::Architectures { "$arch"; };
Acquire::Languages "none";
CONF
export APT_CONFIG=$aptdir/apt.conf

# Lists are refreshed once a day at most, so a warm cache needs no network.
stamp=$aptdir/lists/.updated
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ]; then
  apt-get update -q >"$aptdir/update.log" 2>&1 || { cat "$aptdir/update.log" >&2; die "apt-get update for $suite/$arch failed"; }
  touch "$stamp"
fi

# linux-image-ARCH depends on the versioned package (linux-image-6.1.0-NN-amd64).
meta=linux-image-$arch
if [ -n "${3:-}" ]; then
  pkg=$3
else
  pkg=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ && !p { p = $2 } END { print p }')
fi
[ -n "$pkg" ] || die "cannot resolve $meta in $suite for $arch"
ver=$(apt-cache show "$pkg" | awk '/^Version:/ && !v { v = $2 } END { print v }')  # no early exit: SIGPIPE under pipefail
# The architecture is part of the name: libc6 for arm64 and for amd64 are different trees.
dir=$cache/debs/${pkg}_${ver}_$arch
if [ ! -f "$dir/.complete" ]; then
  rm -rf "$dir" "$dir.tmp"
  mkdir -p "$dir.tmp"
  (cd "$aptdir/cache/archives" && apt-get download -q "$pkg=$ver" >"$aptdir/download.log" 2>&1) ||
    { cat "$aptdir/download.log" >&2; die "apt-get download $pkg=$ver failed"; }
  deb=$(ls "$aptdir/cache/archives/${pkg}_"*"_$arch.deb" "$aptdir/cache/archives/${pkg}_"*"_all.deb" \
    2>/dev/null | head -n 1 || true)
  [ -n "$deb" ] || die "apt-get download $pkg=$ver gave no .deb"
  dpkg-deb -x "$deb" "$dir.tmp"
  rm -f "$deb"
  echo "$pkg $ver $suite $arch" >"$dir.tmp/.complete"
  mv "$dir.tmp" "$dir"
fi
echo "$dir"
