#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copies the tree of each VM capture into fake-sysfs/hosts/CASE (the checked-in fixture) with a
# PROVENANCE file saying which kernel and which QEMU command line wrote it. Run after
# `ctest -L vm` captured the cases; review `git status`/`git diff`, then regenerate the goldens
# with tests/golden/update.sh. Never run from a test.
# Usage: tests/vm/update-fixtures.sh [BUILD_DIR] [CASE...]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
shift || true
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
  for f in "$top"/tests/vm/cases/*.case; do n=${f##*/}; cases+=("${n%.case}"); done
fi
for c in "${cases[@]}"; do
  cap=$build/tests/vm/captures/$c
  if [ ! -f "$cap/.complete" ] || [ ! -d "$cap/tree" ]; then
    echo "update-fixtures: no capture with a tree for $c (run ctest -L vm first); skipped" >&2
    continue
  fi
  dest=$top/fake-sysfs/hosts/$c
  tmp=$(mktemp -d "$dest.tmp.XXXXXX")
  if grep -q '^NO_FIXTURE=' "$top/tests/vm/cases/$c.case"; then
    echo "update-fixtures: $c has NO_FIXTURE; skipped" >&2
    rmdir "$tmp"
    continue
  fi
  cp -a "$cap/tree/." "$tmp/"
  # git keeps no empty directory: drop them here, so this tree is what a clone gets.
  find "$tmp" -mindepth 1 -type d -empty -delete
  {
    echo "# This tree was written by Linux: fake-sysfs/gather.sh ran on the real /sys of a QEMU guest"
    echo "# (tests/vm, case tests/vm/cases/$c.case). Nothing in it was written by hand."
    grep -E '^(kernel|qemu|command): ' "$cap/PROVENANCE"
    echo "gathered: $(sed -n 's/^date: //p' "$cap/tree/SOURCE")"
    echo "guest-cmdline: $(cat "$cap/cmdline")"
  } >"$tmp/PROVENANCE"
  # The guest's kernel log at the end of the boot (beside the tree, like PROVENANCE: its
  # timestamps change from boot to boot, so vm.fixture does not compare it).
  for f in dmesg.end dmesg; do
    if [ -f "$cap/$f" ]; then cp "$cap/$f" "$tmp/dmesg"; break; fi
  done
  rm -rf "$dest"
  mv "$tmp" "$dest"
  echo "update-fixtures: $c <- $cap" >&2
done
