#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# install_test.sh BUILD SOURCE VERSION LIBDIR CXX GENERATOR [CXXFLAGS]
# Installs BUILD into a temporary prefix with `cmake --install --prefix`, checks the installed
# tree, then builds and runs a consumer of libcaps with pkg-config and with find_package.
set -euo pipefail

build=$1 src=$2 version=$3 libdir=$4 cxx=$5 generator=$6 cxxflags=${7:-}
# intel-icx-2s has five DRHDs (dmar0..dmar3, dmar10): see fake-sysfs/hosts/intel-icx-2s.host.
fixture=$src/fake-sysfs/hosts/intel-icx-2s
expected_units=5

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" ||
  { cat "$tmp/install.log" >&2; echo "FAIL: cmake --install" >&2; exit 1; }

# Every file a user, a packager or another project needs.
need() {
  local what=$1 path
  shift
  for path in "$@"; do
    [ -e "$path" ] && return 0
  done
  fail "installed tree has no $what (looked for ${*#"$prefix/"})"
}
need "bin/iommu-probe" "$prefix/bin/iommu-probe"
need "bin/iommu-compat" "$prefix/bin/iommu-compat"
for u in iommu-nfd-features.service iommu-nfd-features.timer; do
  need "systemd unit $u" "$prefix/lib/systemd/system/$u"
done
need "libcaps.so.0" "$prefix/$libdir/libcaps.so.0"
need "libcaps.so (link name)" "$prefix/$libdir/libcaps.so"
need "libcaps.a" "$prefix/$libdir/libcaps.a"
need "libcaps.pc" "$prefix/$libdir/pkgconfig/libcaps.pc"
need "libcapsConfig.cmake" "$prefix/$libdir/cmake/libcaps/libcapsConfig.cmake"
need "libcapsConfigVersion.cmake" "$prefix/$libdir/cmake/libcaps/libcapsConfigVersion.cmake"
for h in "$src"/libcaps/include/libcaps/*.h; do
  need "include/libcaps/${h##*/}" "$prefix/include/libcaps/${h##*/}"
done
for s in "$src"/schemas/*.json; do
  need "schema ${s##*/}" "$prefix/share/iommu-tools/schemas/${s##*/}"
done
for e in "$src"/tools/iommu-compat/examples/*.toml; do
  need "example ${e##*/}" "$prefix/share/iommu-tools/examples/${e##*/}" \
    "$prefix/share/doc/iommu-tools/examples/${e##*/}"
done

# The tools run from the prefix (they link libcaps statically: no library path needed).
for tool in iommu-probe iommu-compat; do
  [ -x "$prefix/bin/$tool" ] || continue
  out=$(env -u LD_LIBRARY_PATH "$prefix/bin/$tool" --version 2>&1) || fail "$tool --version failed: $out"
  [[ $out == *"$version"* ]] || fail "$tool --version says '$out', not $version"
done

lib=$prefix/$libdir/libcaps.so.0
if [ -e "$lib" ]; then
  soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
  [ "$soname" = libcaps.so.0 ] || fail "libcaps.so.0 has SONAME '$soname'"
  if [ "$(readlink "$lib")" != "libcaps.so.$version" ] || [ ! -f "$prefix/$libdir/libcaps.so.$version" ]; then
    fail "libcaps.so.0 is not a link to libcaps.so.$version"
  fi
  # Exports: versioned caps:: symbols only, none of the std/toml++ instances compiled inside.
  exports=$(nm -D --defined-only -C "$lib")
  grep -q ' caps::open_dir_source(.*@@LIBCAPS_0$' <<<"$exports" ||
    fail "libcaps.so.0 does not export caps::open_dir_source at version LIBCAPS_0"
  foreign=$(grep -v -e ' A LIBCAPS_0$' -e ' caps::' -e ' for caps::' <<<"$exports" || true)
  [ -z "$foreign" ] || fail "libcaps.so.0 exports symbols outside caps::: $(head -3 <<<"$foreign")"
fi

# Public headers include only each other, the standard library and tl/expected: a consumer
# needs neither toml++ nor libudev nor anything from libcaps/src.
for h in "$prefix"/include/libcaps/*.h; do
  while read -r inc; do
    case "$inc" in
      '"libcaps/'*'"') [ -f "$prefix/include/${inc//\"/}" ] || fail "${h##*/} includes missing $inc" ;;
      '<tl/expected.hpp>') ;;
      '<'*'>') [[ $inc == *.* || $inc == */* ]] && fail "${h##*/} includes non-standard $inc" ;;
      *) fail "${h##*/} includes $inc" ;;
    esac
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\([<"][^>"]*[>"]\).*/\1/p' "$h")
done

[ "$failed" -eq 0 ] || exit 1

cp -r "$src/tests/install/consumer" "$tmp/consumer"
for h in "$prefix"/include/libcaps/*.h; do
  echo "#include <libcaps/${h##*/}>"
done >"$tmp/consumer/all_headers.cc"

# check_run NAME BINARY: runs the consumer on the fixture; its unit count must be the known one.
check_run() {
  local out
  out=$("$2" "$fixture" 2>&1) || { fail "$1: consumer failed: $out"; return; }
  [ "$out" = "units $expected_units" ] || fail "$1: consumer printed '$out', expected 'units $expected_units'"
  echo "$1: $out"
}

# 1. pkg-config, linking libcaps.so.0 from the prefix.
export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
pc_version=$(pkg-config --modversion libcaps) || fail "pkg-config does not find libcaps"
[ "$pc_version" = "$version" ] || fail "libcaps.pc says version '$pc_version', not $version"
pc_flags=$(pkg-config --cflags --libs libcaps)
# shellcheck disable=SC2086  # flags are words
"$cxx" -std=c++20 $cxxflags -o "$tmp/app_pc" "$tmp/consumer/main.cc" "$tmp/consumer/all_headers.cc" \
  $pc_flags || fail "consumer does not compile with pkg-config --cflags --libs libcaps"
if [ -x "$tmp/app_pc" ]; then
  libs=$(LD_LIBRARY_PATH=$prefix/$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ldd "$tmp/app_pc")
  grep -q "libcaps.so.0 => $prefix/$libdir/libcaps.so.0" <<<"$libs" || fail "app_pc does not use $lib"
  LD_LIBRARY_PATH=$prefix/$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} check_run pkg-config "$tmp/app_pc"
fi

# 2. CMake: find_package(libcaps) and its imported targets, shared and static.
if cmake -S "$tmp/consumer" -B "$tmp/consumer-build" -G "$generator" -DCMAKE_BUILD_TYPE=Release \
     -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$cxxflags" -DCMAKE_PREFIX_PATH="$prefix" \
     -DLIBCAPS_VERSION="$version" >"$tmp/consumer.log" 2>&1 &&
   cmake --build "$tmp/consumer-build" >>"$tmp/consumer.log" 2>&1; then
  # ldd's output is read whole before grep: `ldd | grep -q` under pipefail fails whenever grep
  # exits on its match before ldd has written everything (SIGPIPE), as it did on a loaded run.
  libs=$(ldd "$tmp/consumer-build/app")
  grep -q "libcaps.so.0 => $prefix/$libdir/libcaps.so.0" <<<"$libs" ||
    fail "cmake app does not use $lib"
  libs=$(ldd "$tmp/consumer-build/app_static")
  ! grep -q libcaps.so <<<"$libs" || fail "app_static links libcaps.so"
  LD_LIBRARY_PATH=$prefix/$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} check_run cmake "$tmp/consumer-build/app"
  check_run cmake-static "$tmp/consumer-build/app_static"
else
  cat "$tmp/consumer.log" >&2
  fail "consumer does not build with find_package(libcaps)"
fi

exit "$failed"
