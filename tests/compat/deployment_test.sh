#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `iommu-compat check --together`: the deployment examples (tools/iommu-compat/deployments/) on
# lab-host.toml get their tested verdicts and exit codes, each conflict names both guests, every
# pair stays compatible, every output format carries the deployment, every deployment rule both
# passes and fails (or warns) somewhere, and lab-host.toml is still what the builder and the
# probe make of lab-host.host.
# Usage: tests/compat/deployment_test.sh IOMMU-COMPAT IOMMU-PROBE FAKE-SYSFS-BUILD
compat=$(realpath "$1")
probe=$(realpath "$2")
builder=$(realpath "$3")
. "$(dirname "$0")/lib.sh"
dep=tools/iommu-compat/deployments
lab=$dep/lab-host.toml

# --- the report is the description's --------------------------------------------------------
top=$PWD
(cd "$work" && "$builder" "$top/$dep/lab-host.host" lab-host >/dev/null) ||
  fail "fake-sysfs-build lab-host.host"
(cd "$work" && "$probe" --sysfs-root lab-host --format toml) >"$work/lab.toml" 2>"$work/err" ||
  fail "iommu-probe on the lab tree: $(cat "$work/err")"
if diff "$work/lab.toml" "$lab" >"$work/diff"; then
  pass "lab-host.toml is what lab-host.host gives"
else
  fail "lab-host.toml differs from lab-host.host's report (regenerate it, see lab-host.host):"
  head -20 "$work/diff"
fi

# --- each case: exit code, verdicts, both guests named ----------------------------------------
# together CASE FORMAT [ARGS]: runs the case's guests (in name order) together on the lab host.
together() {
  local case=$1 format=$2
  shift 2
  "$compat" check --together --format "$format" --host "$lab" "$@" "$dep/$case"/* 2>"$work/err"
}
# expect CASE STATUS DEPLOYMENT-VERDICT RULE GUEST... : the rule fails naming every GUEST.
expect() {
  local case=$1 status=$2 verdict=$3 rule=$4
  shift 4
  together "$case" json >"$work/$case.json"
  expect_status "$case" "$status" $?
  python3 - "$work/$case.json" "$verdict" "$rule" "$@" <<'PY' && pass "$case: $verdict, $rule names $*" || fail "$case: see above"
import json, sys
doc = json.load(open(sys.argv[1]))
verdict, rule, guests = sys.argv[2], sys.argv[3], sys.argv[4:]
d = doc["deployment"]
ok = True
if d["verdict"] != verdict:
    print(f"deployment verdict {d['verdict']}, expected {verdict}"); ok = False
for r in doc["results"]:
    if r["verdict"] != "compatible":
        print(f"pair {r['guest']}: {r['verdict']}, expected compatible"); ok = False
if rule:
    hits = [f for f in d["findings"] if f["rule"] == rule and f["outcome"] == "fail"]
    named = [[g["guest"].rsplit("/", 1)[-1] for g in f["guests"]] for f in hits]
    if not any(all(g in n for g in guests) and all(g in f["message"] for g in guests)
               for n, f in zip(named, hits)):
        print(f"no {rule} fail naming {guests}: {named}"); ok = False
sys.exit(0 if ok else 1)
PY
}
expect two-vms-one-group 5 incompatible deploy.group_shared vm-a.toml vm-b.qemu
expect same-device 5 incompatible deploy.device_shared backup.toml db.xml
expect split-group 5 incompatible deploy.group_shared mail.toml web.toml
expect pasid-budget 5 incompatible deploy.pasid_budget sva-a.toml sva-b.toml
# Who overflows: sva-b, the later guest (600000 of 1048575 fit, 500000 more do not).
grep -q '"message": "dmar0.s PASID space 1..1048575 holds 1048575 PASIDs but .*sva-b.toml overflows it by 51425"' \
  "$work/pasid-budget.json" && pass "pasid-budget: sva-b overflows by 51425" ||
  fail "pasid-budget: overflow message: $(grep -m1 'PASID space' "$work/pasid-budget.json")"
# split-group: ports 2 and 3 go to no guest: a warning, not a failure.
grep -q '"message": "group 14 is split: .*0000:5e:00.2, 0000:5e:00.3, in no guest' "$work/split-group.json" &&
  pass "split-group: ports 2 and 3 stranded (warning)" || fail "split-group: no group_split warning"

# A deployment that fits: one guest of each case, none contested.
"$compat" check --together --format json --host "$lab" "$dep/two-vms-one-group/vm-a.toml" \
  "$dep/same-device/db.xml" "$dep/pasid-budget/sva-a.toml" >"$work/fits.json" 2>"$work/err"
expect_status "a deployment that fits" 0 $?
grep -q '"rule": "deploy.group_split"' "$work/fits.json" || fail "fits: no group_split finding"

# Without --together nothing changes: every pair compatible, exit 0, no deployment key.
"$compat" check --format json --host "$lab" "$dep/two-vms-one-group"/* >"$work/plain.json"
expect_status "two-vms-one-group without --together" 0 $?
grep -q '"deployment"' "$work/plain.json" && fail "a deployment without --together"

# Exit precedence: a pair incompatible (1) beats the deployment's 5; bad input (2) beats both.
"$compat" check --together --host "$lab" "$dep/two-vms-one-group"/* \
  "$examples/intel-vtd-sva-over-quota.toml" >/dev/null 2>&1
expect_status "an incompatible pair with a conflict" 1 $?
"$compat" check --together --host "$lab" "$dep/two-vms-one-group"/* "$examples/bad-syntax.toml" \
  >"$work/bad.txt" 2>&1
expect_status "a bad guest with a conflict" 2 $?
grep -q "^deployment of 3 guests on $lab: bad-input" "$work/bad.txt" ||
  fail "bad guest: no bad-input deployment line"
# --together needs one host.
"$compat" check --together --host "$lab" --host "$lab" "$dep/split-group/web.toml" 2>"$work/err"
expect_status "--together with two hosts" 2 $?
grep -q "one host" "$work/err" || fail "--together with two hosts: $(cat "$work/err")"

# --- every format carries the deployment --------------------------------------------------------
together two-vms-one-group text >"$work/t.txt"
grep -q "^deployment of 2 guests on $lab: incompatible$" "$work/t.txt" && pass "text: deployment line" ||
  fail "text: no deployment line: $(cat "$work/t.txt")"
grep -q "vm-b.qemu:.*: fail \[deploy.group_shared\] group 12 belongs to one VM" "$work/t.txt" &&
  grep -q "    with: .*vm-a.toml:" "$work/t.txt" && pass "text: finding at vm-b, with vm-a" ||
  fail "text: finding: $(cat "$work/t.txt")"
grep -q "^overall: incompatible (exit 5; pairs: compatible, deployment: incompatible)$" "$work/t.txt" ||
  fail "text: overall line"
together two-vms-one-group junit >"$work/j.xml"
grep -q '<testsuite name="deployment on '"$lab"'" tests="[0-9]*" failures="1"' "$work/j.xml" &&
  grep -q '<testcase classname="deployment" name="deploy.group_shared (group 12)">' "$work/j.xml" &&
  pass "junit: deployment suite" || fail "junit: $(grep -A3 deployment "$work/j.xml" | head)"
if command -v xmllint >/dev/null; then
  xmllint --noout --schema schemas/junit.xsd "$work/j.xml" 2>"$work/err" && pass "junit: valid" ||
    fail "junit: invalid: $(cat "$work/err")"
fi
together two-vms-one-group github >"$work/g.txt"
grep -q "^::error file=$dep/two-vms-one-group/vm-b.qemu,line=[0-9]*,col=[0-9]*,title=deploy.group_shared::deployment on $lab: group 12 belongs to one VM but .*vm-a.toml.*vm-b.qemu" "$work/g.txt" &&
  pass "github: annotation at vm-b" || fail "github: $(cat "$work/g.txt")"
grep -q "^iommu-compat: deployment of 2 guests on $lab: incompatible$" "$work/g.txt" ||
  fail "github: no deployment verdict line"

# --- every deployment rule both ways ------------------------------------------------------------
python3 - "$work"/*.json >"$work/seen" <<'PY'
import json, sys
seen = set()
for path in sys.argv[1:]:
    for f in json.load(open(path)).get("deployment", {}).get("findings", []):
        seen.add(f"{f['rule']} {f['outcome']}")
print("\n".join(sorted(seen)))
PY
for rule in deploy.device_shared deploy.group_shared deploy.group_split deploy.pasid_quota \
            deploy.pasid_budget; do
  grep -q "^$rule pass$" "$work/seen" || fail "$rule never passes in the examples"
  case $rule in
    deploy.group_split) want=warning ;;
    deploy.pasid_quota) want="" ;;  # a guest over its quota also fails its pair: unit-tested
    *) want=fail ;;
  esac
  [ -z "$want" ] || grep -q "^$rule $want$" "$work/seen" || fail "$rule never gives $want"
done
pass "deployment rules seen: $(tr '\n' ' ' <"$work/seen")"
finish
