#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Rebuilds every fixture tree fake-sysfs/hosts/<name>/ from fake-sysfs/hosts/<name>.host.
# Usage: fake-sysfs/rebuild.sh [NAME...]   (default: every *.host)
# The builder is compiled from fake_sysfs_build.cc into a temporary directory with $CXX (so no
# project configure is needed); set FAKE_SYSFS_BUILD=/path/to/fake-sysfs-build to use a built one.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
hosts=$here/hosts

tool=${FAKE_SYSFS_BUILD:-}
if [ -z "$tool" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  tool=$work/fake-sysfs-build
  "${CXX:-c++}" -std=c++20 -O2 -Wall -Wextra -Wpedantic -Wshadow -Werror \
    "$here/fake_sysfs_build.cc" -o "$tool"
fi

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in "$hosts"/*.host; do
    names+=("$(basename "$f" .host)")
  done
fi

for name in "${names[@]}"; do
  desc=$hosts/$name.host
  [ -f "$desc" ] || { echo "rebuild.sh: no such description: $desc" >&2; exit 1; }
  "$tool" "$desc" "$hosts/$name"
  echo "rebuilt hosts/$name"
done
