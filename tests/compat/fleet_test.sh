#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `iommu-compat migrate` and `iommu-compat baseline` on fixture hosts: the verdicts on both
# hosts, the blockers (rule, lost or failing on the source too), the same answers from a host
# report as from its tree, the exit codes of bad input; the baseline is suggest's guest, checks
# on every host, and names the host that holds the fleet back.
# Usage: tests/compat/fleet_test.sh IOMMU-COMPAT IOMMU-PROBE
compat=$(realpath "$1")
probe=$(realpath "$2")
. "$(dirname "$0")/lib.sh"
hosts=fake-sysfs/hosts
icx=$hosts/intel-icx-2s
client=$hosts/intel-client
nested=$examples/intel-vtd-pasid-nested.toml
legacy=$examples/intel-vtd-legacy-39bit.toml

# json FILE EXPR: prints the Python expression over the document `d`.
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# --- migrate ---------------------------------------------------------------------------------
"$compat" migrate --from "$icx" --to "$client" "$nested" >"$work/m.txt" 2>"$work/err"
expect_status "nested guest icx -> client" 1 $?
grep -qx "migrate $nested: $icx -> $client: incompatible" "$work/m.txt" &&
  grep -qx "  on the source: compatible" "$work/m.txt" &&
  grep -qx "  on the target: incompatible" "$work/m.txt" &&
  pass "text names both verdicts" || { fail "text verdict lines"; cat "$work/m.txt"; }
"$compat" migrate --format json --from "$icx" --to "$client" "$nested" >"$work/m.json"
expect_status "the same as JSON" 1 $?
[ "$(json "$work/m.json" '(d["results"][0]["source_verdict"], d["results"][0]["target_verdict"])')" = \
  "('compatible', 'incompatible')" ] && pass "JSON: source compatible, target incompatible" ||
  fail "JSON verdicts: $(json "$work/m.json" 'd["results"][0]')"
# Every blocker of a guest compatible on the source is lost by moving, and failing ones come
# first. The client lacks nesting, scalable-mode PASIDs and dirty tracking.
blockers=$(json "$work/m.json" '" ".join(sorted(b["rule"] for b in d["results"][0]["blockers"] if b["target"] == "fail"))')
for rule in feature.nested width.ssid_bits feature.dirty_tracking; do
  [[ " $blockers " == *" $rule "* ]] && pass "blocker $rule" || fail "no blocker $rule in: $blockers"
done
[ "$(json "$work/m.json" 'all(b["lost"] and b["source"] in ("pass", "warning") for b in d["results"][0]["blockers"])')" = True ] &&
  pass "every blocker is lost by moving" || fail "a blocker not lost: $(cat "$work/m.json")"
[ "$(json "$work/m.json" '[b["target"] for b in d["results"][0]["blockers"]] == sorted((b["target"] for b in d["results"][0]["blockers"]), key=lambda t: t != "fail")')" = True ] &&
  pass "failing blockers before unknown ones" || fail "blocker order"
grep -q '^  '"$nested"':[0-9]*:[0-9]*: fail \[feature.nested\]' "$work/m.txt" &&
  grep -q "      source: pass.*(lost by moving)" "$work/m.txt" &&
  pass "text blocker line with position and the source's outcome" ||
  { fail "text blocker lines"; cat "$work/m.txt"; }

# Back the other way the guest cannot run on the source: the target decides (compatible) and
# nothing blocks.
"$compat" migrate --from "$client" --to "$icx" "$nested" "$legacy" >"$work/back.txt"
expect_status "client -> icx, both guests" 0 $?
grep -qx "  on the source: incompatible" "$work/back.txt" && ! grep -q blockers "$work/back.txt" &&
  grep -qx "overall: compatible" "$work/back.txt" && pass "source incompatible, target compatible, no blocker" ||
  { fail "reverse migration"; cat "$work/back.txt"; }

# A guest failing on both hosts: its blockers say the source fails it too.
"$compat" migrate --format json --from "$client" --to "$client" "$nested" >"$work/same.json"
expect_status "client -> client, nested" 1 $?
[ "$(json "$work/same.json" 'any(b["lost"] for b in d["results"][0]["blockers"]) or not d["results"][0]["blockers"]')" = False ] &&
  pass "failing on both: no blocker lost" || fail "same-host blockers: $(cat "$work/same.json")"

# A host report answers as its tree does.
"$probe" --sysfs-root "$client" --format toml >"$work/client.toml"
"$compat" migrate --format json --from "$icx" --to "$work/client.toml" "$nested" >"$work/r.json"
expect_status "to a host report" 1 $?
[ "$(json "$work/r.json" '[(b["rule"], b["target"], b["lost"]) for b in d["results"][0]["blockers"]]')" = \
  "$(json "$work/m.json" '[(b["rule"], b["target"], b["lost"]) for b in d["results"][0]["blockers"]]')" ] &&
  pass "report and tree give the same blockers" || fail "report blockers differ"

# Bad input: a missing host, a directory of reports where one host is wanted, a bad guest.
"$compat" migrate --from "$icx" --to /nonexistent.toml "$legacy" >"$work/o" 2>"$work/err"
expect_status "missing --to" 2 $?
grep -q "iommu-compat: error: /nonexistent.toml" "$work/err" && pass "missing host named on stderr" ||
  fail "stderr: $(cat "$work/err")"
mkdir "$work/reports"
cp "$work/client.toml" "$work/reports/a.toml"
cp "$work/client.toml" "$work/reports/b.toml"
"$compat" migrate --from "$work/reports" --to "$icx" "$legacy" >"$work/o" 2>"$work/err"
expect_status "--from a directory of two reports" 2 $?
grep -q "takes one host" "$work/err" && pass "one host wanted" || fail "stderr: $(cat "$work/err")"
"$compat" migrate --from "$icx" --to "$client" "$examples/bad-values.toml" "$legacy" >"$work/o" 2>"$work/err"
expect_status "a bad guest among good ones" 2 $?
"$compat" migrate --to "$client" "$legacy" >"$work/o" 2>"$work/err"
expect_status "no --from" 2 $?

# --- baseline --------------------------------------------------------------------------------
"$compat" baseline --model intel-vtd "$icx" "$client" >"$work/b.toml" 2>"$work/err"
expect_status "baseline icx + client" 0 $?
"$compat" suggest --model intel-vtd --sysfs-root "$icx" --sysfs-root "$client" >"$work/s.toml"
diff <(sed '/^$/,$d' "$work/b.toml") <(sed '/^$/,$d' "$work/s.toml") >/dev/null &&
  pass "the baseline guest is suggest's" || fail "baseline differs from suggest: $(diff "$work/b.toml" "$work/s.toml")"
"$compat" check --sysfs-root "$icx" --sysfs-root "$client" "$work/b.toml" >"$work/o" 2>&1
status=$?
[ $status -eq 0 ] || [ $status -eq 3 ] && pass "the baseline checks on both (exit $status)" ||
  { fail "baseline check exit $status"; cat "$work/o"; }
grep -qx "# holding the fleet back: $client" "$work/b.toml" && pass "the client holds the fleet back" ||
  { fail "holding back line"; cat "$work/b.toml"; }
"$compat" baseline --format json "$icx" "$client" >"$work/b.json"
expect_status "baseline JSON, model from the units" 0 $?
[ "$(json "$work/b.json" '(d["model"], d["holding_back"])')" = "('intel-vtd', ['$client'])" ] &&
  pass "JSON: intel-vtd, client holds back" || fail "JSON: $(cat "$work/b.json")"
held=$(json "$work/b.json" '" ".join(c["key"] for c in d["hosts"][1]["holds_back"])')
added=$(json "$work/b.json" '" ".join(c["key"] for c in d["hosts"][0]["adds"])')
[[ " $held " == *" nested "* && "$held" == "$added" ]] &&
  pass "the client holds back what the icx adds: $held" || fail "holds back '$held', adds '$added'"
[ "$(json "$work/b.json" '(d["hosts"][0]["holds_back"], d["hosts"][1]["adds"])')" = "([], [])" ] &&
  pass "the icx holds nothing back, the client adds nothing" || fail "icx/client changes"
# A directory of reports stands for its reports; one host alone holds nothing back.
"$compat" baseline "$work/reports" >"$work/o"
expect_status "baseline of a report directory" 0 $?
grep -qx "# no single host holds the fleet back" "$work/o" && pass "equal hosts hold nothing back" ||
  { fail "report directory baseline"; cat "$work/o"; }
"$compat" baseline --model intel-vtd "$icx" "$hosts/no-iommu" >"$work/o" 2>"$work/err"
expect_status "a host without units" 1 $?
"$compat" baseline "$icx" "$hosts/amd-zen4-nested" >"$work/o" 2>"$work/err"
expect_status "mixed models without --model" 2 $?
"$compat" baseline --model intel-vtd "$icx" /nonexistent.toml >"$work/o" 2>"$work/err"
expect_status "a missing report" 2 $?
finish
