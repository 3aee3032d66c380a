#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --format github: one ::error or ::warning annotation per finding that did not pass (counted
# from --format json of the same run), at the guest file's line; input errors once each.
# Usage: tests/compat/github_test.sh IOMMU-COMPAT
compat=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

# Each pair in both formats first, then one python3 run counts every JSON (a python3 start
# per pair made this test take half a minute).
pairs=()
for host in $(fixtures); do
  for guest in "$examples"/*.toml; do
    id="$host.$(basename "$guest" .toml)"
    args=(--sysfs-root "fake-sysfs/hosts/$host" "$guest")
    "$compat" check --format github "${args[@]}" >"$work/$id.gh" 2>/dev/null
    "$compat" check --format json "${args[@]}" >"$work/$id.json" 2>/dev/null
    pairs+=("$id $host $guest")
  done
done
python3 -c '
import json, sys
for path in sys.argv[1:]:
    d = json.load(open(path))
    f = [x for r in d["results"] for x in r["findings"]]
    e = {(x["file"], x["line"], x["column"], x["message"]) for r in d["results"] for x in r["errors"]}
    print(path, sum(x["outcome"] == "fail" for x in f),
          sum(x["outcome"] in ("unknown", "warning") for x in f), len(e))
' "$work"/*.json >"$work/counts"

for pair in "${pairs[@]}"; do
  read -r id host guest <<<"$pair"
  read -r _ fails others errors < <(grep -F "$work/$id.json " "$work/counts")
  got_errors=$(grep -c '^::error ' "$work/$id.gh")
  got_warnings=$(grep -c '^::warning ' "$work/$id.gh")
  what="$(basename "$guest") on $host"
  if [ "$got_errors" -eq $((fails + errors)) ] && [ "$got_warnings" -eq "$others" ]; then
    pass "$what: $got_errors errors, $got_warnings warnings"
  else
    fail "$what: $got_errors ::error, $got_warnings ::warning; json has $fails fail," \
         "$others unknown/warning, $errors input errors"
  fi
  bad=$(grep '^::' "$work/$id.gh" | grep -v "^::\(error\|warning\) file=$guest,\(line=[0-9]*,col=[0-9]*,\)\?title=[^:]*::" || true)
  [ -z "$bad" ] || fail "$what: malformed annotation: $bad"
done

# The exact line for a known finding.
"$compat" check --format github --sysfs-root fake-sysfs/hosts/intel-icx-2s \
  "$examples/too-many-pasid-bits.toml" >"$work/gh"
line="::error file=$examples/too-many-pasid-bits.toml,line=10,col=1,title=width.pcie_pasid_limit::on fake-sysfs/hosts/intel-icx-2s: guest needs 24 PASID bits but PCIe allows at most 20 (hint: set ssid_bits = 20 or lower)"
grep -qxF "$line" "$work/gh" && pass "pcie limit annotation" || fail "no line: $line"
finish
