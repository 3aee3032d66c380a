#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A host report written by `iommu-probe --format toml` loads as a host (--host) and gives the
# same output, in every format, and the same exit code as the tree it came from
# (--sysfs-root), for every example guest. Only the host's name differs: the report's path
# stands where the tree's root stood, so it is mapped back before comparing.
# Usage: tests/compat/roundtrip_test.sh IOMMU-COMPAT IOMMU-PROBE HOST
compat=$(realpath "$1")
probe=$(realpath "$2")
host=$3
. "$(dirname "$0")/lib.sh"

tree=fake-sysfs/hosts/$host
report=$work/$host.toml
if ! "$probe" --backend dir --sysfs-root "$tree" --format toml >"$report" 2>"$work/probe.err"; then
  # The probe exits 1 when the tree has error diagnostics; the report is still written.
  [ -s "$report" ] || { fail "$host: iommu-probe wrote no report: $(cat "$work/probe.err")"; finish; }
fi
# A report cut short (issue 8: `head -n 50` of hetero-units made a guest compatible that the
# whole report calls incompatible) is refused as incomplete, naming the file: bad input.
lines=$(wc -l <"$report")
for keep in 50 $((lines / 2)) $((lines - 1)); do
  [ "$keep" -lt "$lines" ] || continue
  head -n "$keep" "$report" >"$work/cut.toml"
  "$compat" check --host "$work/cut.toml" "$examples"/*.toml >"$work/cut.out" 2>&1
  status=$?
  if [ "$status" -ne 2 ]; then
    fail "$host: the first $keep of $lines lines: exit $status, expected 2 (bad input)"
  elif ! grep -q "^$work/cut.toml:[0-9:]* error: .*incomplete" "$work/cut.out"; then
    fail "$host: the first $keep of $lines lines: no 'incomplete' error: $(head -c 300 "$work/cut.out")"
  else
    pass "$host: the first $keep of $lines lines are refused as incomplete"
  fi
done
for format in text json junit github; do
  extra=()
  [ "$format" = text ] && extra=(--show-passes)
  "$compat" check --format "$format" "${extra[@]}" --sysfs-root "$tree" "$examples"/*.toml \
    >"$work/tree.out" 2>/dev/null
  tree_status=$?
  "$compat" check --format "$format" "${extra[@]}" --host "$report" "$examples"/*.toml \
    >"$work/report.raw" 2>/dev/null
  report_status=$?
  sed "s|$report|$tree|g" "$work/report.raw" >"$work/report.out"
  if ! grep -q "$report" "$work/report.raw"; then
    fail "$host $format: the report's path does not name the host"
  elif ! diff -u "$work/tree.out" "$work/report.out" >"$work/diff"; then
    fail "$host $format: output differs"
    head -n 40 "$work/diff"
  elif [ "$tree_status" -ne "$report_status" ]; then
    fail "$host $format: exit $report_status from the report, $tree_status from the tree"
  else
    pass "$host $format: same output, exit $tree_status"
  fi
done
finish
