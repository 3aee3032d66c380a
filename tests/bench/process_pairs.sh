#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Whole processes in pairs: floor_reader LOG, then PROBE --sysfs-root TREE --format json
# >/dev/null, PAIRS times after one warm-up of each. Prints each pair and the medians of wall
# and CPU (user + sys) time and of the per-pair ratios. For comparing builds (an older
# iommu-probe against the log its operations make, see README.md); bench_probe does the same
# for the build it belongs to.
# Usage: process_pairs.sh PAIRS LOG PROBE TREE FLOOR_READER
set -euo pipefail
pairs=$1 log=$2 probe=$3 tree=$4 floor=$5
TIMEFORMAT='%R %U %S'
run() { { time "$@" >/dev/null 2>&1; } 2>&1; }
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
run "$floor" "$log" >/dev/null
run "$probe" --sysfs-root "$tree" --format json >/dev/null
rows=$(
  for ((i = 0; i < pairs; i++)); do
    read -r fw fu fs < <(run "$floor" "$log")
    read -r pw pu ps < <(run "$probe" --sysfs-root "$tree" --format json)
    awk -v fw="$fw" -v fu="$fu" -v fs="$fs" -v pw="$pw" -v pu="$pu" -v ps="$ps" 'BEGIN {
      printf "%.3f %.3f %.3f %.3f %.2f %.2f\n", fw, fu + fs, pw, pu + ps, pw / fw, (pu + ps) / (fu + fs) }'
  done
)
echo "pair: floor wall s, floor CPU s, probe wall s, probe CPU s, ratio wall, ratio CPU"
echo "$rows"
for col in 1 2 3 4 5 6; do printf '%s ' "$(cut -d' ' -f$col <<<"$rows" | median)"; done
echo " (medians)"
