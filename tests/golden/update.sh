#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerates every golden file from the current iommu-probe (review the diff before committing).
# Usage: tests/golden/update.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/../.."
probe=$(cd "${1:-build}" && pwd)/tools/iommu-probe
. tests/golden/golden.sh
count=0
for source in fake-sysfs/hosts/*/SOURCE; do
  host=$(basename "$(dirname "$source")")
  for variant in text json toml registers check check-json nfd; do
    set +e
    # shellcheck disable=SC2046
    "$probe" $(golden_args "$host" "$variant") >"$(golden_file "$host" "$variant")" 2>/tmp/golden.err.$$
    status=$?
    set -e
    [ "$variant" = check ] && echo "exit: $status" >>"$(golden_file "$host" "$variant")"
    if [ "$variant" = text ]; then
      { cat /tmp/golden.err.$$; echo "exit: $status"; } >"tests/golden/$host.stderr"
    fi
  done
  count=$((count + 1))
done
rm -f /tmp/golden.err.$$
echo "updated goldens for $count hosts"
