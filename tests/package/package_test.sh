#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds iommu-tools, libcaps0 and libcaps-dev with `dpkg-buildpackage -us -uc -b` from a copy of
# the tracked (and new, unignored) files of the source tree, so nothing of a local build leaks
# in; lintian must report no error and no warning; the packages hold what they should and run
# unpacked (dpkg-deb -x: the test does not install into the machine it runs on).
# DEB_BUILD_OPTIONS defaults to "nocheck parallel=2": the suite running this test has already
# run every test, so the package build compiles only the library and the tools. Set
# PACKAGE_TEST_BUILD_OPTIONS="parallel=2" to run the suite inside the package build too.
# Exit 77 (ctest SKIP) when the Debian packaging tools are missing.
# The copy is built in BUILD_DIR/package (emptied first), a path that stays the same from run to
# run, with ccache when it is installed (CMAKE_CXX_COMPILER_LAUNCHER from the environment): the
# compiler command lines are then the same each time and a second run compiles nothing.
# Usage: tests/package/package_test.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=$(realpath "$1")
build=$(realpath "$2")
for tool in dpkg-buildpackage dh lintian fakeroot; do
  if ! command -v $tool >/dev/null; then
    echo "SKIP: $tool is not installed (apt-get install dpkg-dev debhelper lintian fakeroot)"
    exit 77
  fi
done
work=$build/package
rm -rf "$work"
mkdir -p "$work"
command -v ccache >/dev/null && export CMAKE_CXX_COMPILER_LAUNCHER=ccache
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

copy=$work/iommu-tools-0.1.0
mkdir "$copy"
(cd "$src" && git ls-files -z --cached --others --exclude-standard |
  xargs -0 -I{} sh -c '[ -e "{}" ] && echo "{}"' | tar -cf - -T -) | tar -xf - -C "$copy"
start=$(date +%s)
(cd "$copy" && DEB_BUILD_OPTIONS="${PACKAGE_TEST_BUILD_OPTIONS:-nocheck parallel=2}" \
  dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1)
status=$?
echo "dpkg-buildpackage: exit $status in $(($(date +%s) - start)) s"
if [ $status -ne 0 ]; then
  tail -40 "$work/build.log"
  fail "dpkg-buildpackage"
  exit 1
fi
for p in iommu-tools libcaps0 libcaps-dev; do
  ls "$work"/${p}_0.1.0_*.deb >/dev/null 2>&1 && pass "built $p" || fail "no $p .deb"
done

changes=$(ls "$work"/iommu-tools_0.1.0_*.changes)
lintian --fail-on error,warning --suppress-tags-from-file /dev/null "$changes" >"$work/lintian.log" 2>&1
lstatus=$?
cat "$work/lintian.log"
[ $lstatus -eq 0 ] && pass "lintian: no error, no warning" || fail "lintian (exit $lstatus)"

# Contents: each file in the package it belongs to.
contents() { dpkg-deb -c "$work"/${1}_0.1.0_*.deb | awk '{print $6}'; }
expect_file() {  # PACKAGE REGEX
  contents "$1" | grep -qE "$2" && pass "$1 has $2" || fail "$1 lacks $2"
}
expect_file iommu-tools '^\./usr/bin/iommu-probe$'
expect_file iommu-tools '^\./usr/bin/iommu-compat$'
expect_file iommu-tools '^\./usr/share/man/man1/iommu-probe\.1\.gz$'
expect_file iommu-tools '^\./usr/share/man/man5/iommu-guest\.5\.gz$'
expect_file iommu-tools '^\./usr/share/bash-completion/completions/iommu-compat$'
expect_file iommu-tools '^\./usr/share/zsh/vendor-completions/_iommu-tools$'
expect_file iommu-tools '^\./usr/share/iommu-tools/schemas/guest\.schema\.json$'
expect_file iommu-tools '^\./usr/lib/systemd/system/iommu-nfd-features\.timer$'
expect_file iommu-tools '^\./usr/lib/systemd/system/iommu-nfd-features\.service$'
expect_file libcaps0 '^\./usr/lib/[^/]+/libcaps\.so\.0\.1\.0$'
expect_file libcaps-dev '^\./usr/include/libcaps/model\.h$'
expect_file libcaps-dev '^\./usr/lib/[^/]+/libcaps\.a$'
expect_file libcaps-dev '^\./usr/lib/[^/]+/pkgconfig/libcaps\.pc$'
expect_file libcaps-dev '^\./usr/lib/[^/]+/cmake/libcaps/libcapsConfig\.cmake$'
contents libcaps0 | grep -qE 'include|\.a$|bin/' && fail "libcaps0 holds more than the library"
dpkg-deb -f "$work"/libcaps-dev_0.1.0_*.deb Depends | grep -q 'libcaps0 (= 0.1.0)' &&
  pass "libcaps-dev depends on libcaps0 of its version" || fail "libcaps-dev Depends"

# Unpacked, the tools run and libcaps.so.0 resolves.
root=$work/root
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$root"; done
"$root/usr/bin/iommu-probe" --sysfs-root "$src/fake-sysfs/hosts/intel-icx-2s" --check >/dev/null
[ $? -eq 3 ] && pass "unpacked iommu-probe --check runs" || fail "unpacked iommu-probe"
objdump -p "$root"/usr/lib/*/libcaps.so.0 | grep -q 'SONAME *libcaps.so.0' &&
  pass "SONAME libcaps.so.0" || fail "SONAME"

[ "$failures" -eq 0 ] && { echo "all passed"; exit 0; }
echo "$failures failed"
exit 1
