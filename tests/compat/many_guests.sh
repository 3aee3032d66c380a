#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Writes N guest files into DIR, copies of the example guests that parse (round robin, each
# under its own name), for large-matrix tests and measurements:
#   tests/compat/many_guests.sh /tmp/guests 10000
#   /usr/bin/time -v build/tools/iommu-compat check --format json \
#     --sysfs-root fake-sysfs/hosts/intel-icx-2s /tmp/guests/*.toml >/dev/null
set -euo pipefail
dir=$1
count=$2
examples=$(dirname "$0")/../../tools/iommu-compat/examples
mkdir -p "$dir"
texts=()
for f in "$examples"/*.toml; do
  case $(basename "$f") in bad-*) continue ;; esac
  texts+=("$(<"$f")")
done
# printf is a builtin: no process per file.
for ((i = 0; i < count; i++)); do
  printf '%s\n' "${texts[i % ${#texts[@]}]}" >"$(printf '%s/guest-%05d.toml' "$dir" "$i")"
done
