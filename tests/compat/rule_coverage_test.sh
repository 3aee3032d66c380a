#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Rule coverage of the example guests over the fixture hosts (the issue's done-criterion:
# "examples and fixtures exercise every rule both ways, and unknown facts give `undecided`,
# never `compatible`").
#
# Runs `iommu-compat check --format json` once over every example x every fixture, collects
# (guest, host, verdict, rule, outcome) from the JSON with awk, and asserts:
#   1. every rule id of the checker's rule table (caps::rule_ids(), printed by RULE-IDS) has at least one `pass` and one `fail` finding, and the rules that read host facts at
#      least one `unknown` (minus the exemptions below, each with its reason);
#   2. the output names no rule id the table does not have;
#   3. no pair whose findings include an `unknown` has the verdict `compatible`, and each
#      verdict follows from its findings (any fail: incompatible; else any unknown: undecided;
#      else compatible).
# With IOMMU-PROBE it also runs the backend.* rules on hosts built with recorded iommufd answers.
# Needs only bash, grep, sed, awk and sort (no python, no jq).
# Usage: tests/compat/rule_coverage_test.sh IOMMU-COMPAT RULE-IDS [IOMMU-PROBE]
compat=$(realpath "$1")
rule_ids=$(realpath "$2")
. "$(dirname "$0")/lib.sh"

# --- the rule ids, from the library's rule table, so a new rule cannot go unexercised -------
"$rule_ids" >"$work/rule_ids" || { fail "$rule_ids failed"; finish; }
mapfile -t rules <"$work/rule_ids"
if [ "${#rules[@]}" -lt 10 ]; then
  fail "the library lists only ${#rules[@]} rule ids"
  finish
fi
if [ "$(sort "$work/rule_ids" | uniq -d)" != "" ]; then
  fail "rule ids listed twice: $(sort "$work/rule_ids" | uniq -d | tr '\n' ' ')"
fi

# --- exemptions: rules that cannot show an outcome over consistent sysfs fixtures -----------
declare -A no_fail no_unknown
# (No rule is exempt from failing: device.iommu and device.group fail for no-iommu's
# 0000:00:02.0, which the reader lists from sys/bus/pci/devices although no unit serves it.)
# Rules that compare the guest with itself or with fixed limits read no host fact, so they are
# never unknown: units.exist (the host lists its units or has none), width.pcie_pasid_limit
# (the PCIe 20-bit limit), pasid_table.version and .bytes (the uAPI's version 1, 32 bytes),
# pasid_alloc.count (min..max), .quota (the guest's quota) and .reserved_pasid0 (PASID 0),
# device.exists (the host lists the device or not).
for r in units.exist width.pcie_pasid_limit pasid_table.version pasid_table.bytes \
         pasid_alloc.count pasid_alloc.quota pasid_alloc.reserved_pasid0 device.exists; do
  no_unknown[$r]="reads no host fact"
done
# device.iommu and device.group are unknown only when the link names a unit or group the host
# does not describe, which cannot happen in a tree (the links point into the tree itself); a
# hand-edited host report could.
no_unknown[device.iommu]="unknown only for a link to a unit the host does not describe (not in a tree)"
no_unknown[device.group]="unknown only for a link to a group the host does not describe (not in a tree)"
# device.assignable is unknown only when the device's config could not be read at all
# (iommu-probe --no-pci-config, or an unreadable file); every fixture tree has it.
no_unknown[device.assignable]="unknown only when the device's config was not read (not in a tree)"
# device.pasid, .ats and .pri are unknown only when config gave less than the kernel has for the
# function: a non-root read (64 bytes). Every fixture tree was read as root: 4096 bytes, or 256
# for conventional PCI, which means no extended capabilities (absent, not unknown).
# device.group_viable is unknown only when a member or its driver cannot be read, or a bridge
# keeps a driver and the kernel release does not tell which rule applies (no osrelease, or a
# vendor kernel): every fixture tree is readable and tells its release.
no_unknown[device.group_viable]="unknown only for unreadable members or an untold kernel release"
# model, pasid_table.model and pasid_table.s1dss are unknown only for a unit whose model nothing
# tells: no capability layout, no parent driver and no unit name of a known model (Apple DART...).
# Every fixture's units are now recognized (mainline SMMUv3 by its "smmu3." name, virtio-iommu by
# its parent's virtio_iommu driver); check_test.cc covers an unknown model for each of them.
for r in model pasid_table.model pasid_table.s1dss; do
  no_unknown[$r]="unknown only for a unit of no recognized model (none in the fixtures)"
done
for r in device.pasid device.ats device.pri; do
  no_unknown[$r]="unknown only for a non-root read of config (64 bytes; fixtures are root reads)"
done

# [stage1]: stage1.config reads no host fact (the kernel's -EIO list); stage1.type is unknown
# only for a unit of no recognized model, as `model` above. stage1.s1fmt fails or is unknown
# only on the SMMU_IDR0.CD2L bit, a register sysfs does not publish (no fixture has it; the
# iommufd answers do): check_stage1_test.cc covers both.
no_unknown[stage1.config]="reads no host fact"
no_unknown[stage1.type]="unknown only for a unit of no recognized model (none in the fixtures)"
no_fail[stage1.s1fmt]="needs SMMU_IDR0.CD2L, which no fixture tree publishes"
no_unknown[stage1.s1fmt]="needs SMMU_IDR0.CD2L, which no fixture tree publishes"
# backend.nested and backend.confidential compare the guest's [vfio] with what its own vIOMMU
# and confidential setting need (iommufd), not with a host fact: never unknown.
for r in backend.nested backend.confidential; do
  no_unknown[$r]="compares the guest's [vfio] with its own needs, reads no host fact"
done
# posture.acs_override warns at worst (VFIO still assigns a device in a group the override
# split) and says nothing without a command line; posture.interrupt_remapping is unknown only
# for a VT-d unit whose ecap was not decoded or a unit of no known model, and no fixture assigns
# a device behind one. check_test.cc (CheckPosture) covers each outcome.
no_fail[posture.acs_override]="warns at worst: the override fakes isolation, VFIO still assigns"
no_unknown[posture.acs_override]="says nothing without a command line (its worst is a warning)"
no_unknown[posture.interrupt_remapping]="unknown only for an undecoded VT-d ecap or an unknown model (none in the fixtures)"
# region.direct is unknown only for VT-d before linux 5.3 or another IOMMU on an untold or
# vendor kernel release, and region.ht_hole only for an AMD group that lists no reserved regions
# on a unit without EFR2: every fixture tells its release and lists its groups' regions.
# region.ram is unknown only for a group whose reserved_regions could not be read whole.
# check_rules_regions_test.cc covers each unknown.
no_unknown[region.direct]="unknown only for VT-d before 5.3 or an untold release (fixtures tell theirs)"
no_unknown[region.ram]="unknown only for a group whose reserved_regions was not read whole (fixtures are readable)"
no_unknown[region.ht_hole]="unknown only for an AMD group listing no regions on a unit without EFR2"

declare -A known
for r in "${rules[@]}"; do known[$r]=1; done
for r in "${!no_fail[@]}" "${!no_unknown[@]}"; do
  [ -n "${known[$r]:-}" ] || fail "exemption for $r, which is not in the rule table (stale?)"
done

# --- one run over every example x every fixture ---------------------------------------------
host_args=()
nhosts=0
for h in $(fixtures); do host_args+=(--sysfs-root "fake-sysfs/hosts/$h"); nhosts=$((nhosts + 1)); done
guests=("$examples"/*.toml)
"$compat" check --format json "${host_args[@]}" "${guests[@]}" >"$work/all.json" 2>"$work/err"
status=$?
# bad-*.toml give bad-input (exit 2), the worst verdict over all pairs.
[ "$status" -le 3 ] || { fail "iommu-compat exited $status"; cat "$work/err"; finish; }

# The JSON is printed one key per line; take guest/host/verdict per result and rule/outcome
# per finding (outcome follows rule within a finding). The run's own top-level "verdict" (the
# worst over all pairs) is indented by two spaces only and is skipped.
rows_of() {
  awk '
    function val(line) { sub(/^ *"[a-z_]*": "/, "", line); sub(/",?$/, "", line); return line }
    /^ *"guest": "/   { guest = val($0); next }
    /^ *"host": "/    { host = val($0); next }
    /^    +"verdict": "/ { verdict = val($0); print "R\t" guest "\t" host "\t" verdict; next }
    /^ *"rule": "/    { rule = val($0); next }
    /^ *"outcome": "/ { print "F\t" guest "\t" host "\t" verdict "\t" rule "\t" val($0); rule = "" }
  ' "$1"
}
rows_of "$work/all.json" >"$work/rows"
grep '^R' "$work/rows" | cut -f2- >"$work/results"
grep '^F' "$work/rows" | cut -f2- >"$work/findings"

npairs=$(wc -l <"$work/results")
want_pairs=$(( ${#guests[@]} * nhosts ))
if [ "$npairs" -ne "$want_pairs" ]; then
  fail "JSON has $npairs results, expected ${#guests[@]} guests x $nhosts hosts = $want_pairs"
else
  pass "$npairs results (${#guests[@]} guests x $nhosts hosts)"
fi
nfindings=$(wc -l <"$work/findings")
[ "$nfindings" -gt 0 ] || { fail "no findings parsed from the JSON"; finish; }

# --- the backend.* rules read iommufd's answers, which no sysfs tree holds: hosts built from
# intel-icx-2s (its 0000:17:00.0 on vfio-pci given a vfio cdev, a 6.15 kernel) with recorded
# answers (tests/compat/backend/*.replay), probed into host reports, against the guests of
# tests/compat/backend and the plain fixtures (iommufd not asked: unknown; 6.1: fail).
if [ -n "${3:-}" ]; then
  probe=$(realpath "$3")
  backend=tests/compat/backend
  reports=()
  for replay in "$backend"/*.replay; do
    name=$(basename "$replay" .replay)
    tree=$work/tree-$name
    cp -r fake-sysfs/hosts/intel-icx-2s "$tree"
    mkdir -p "$tree/sys/bus/pci/devices/0000:17:00.0/vfio-dev/vfio0"
    echo 6.15.0 >"$tree/proc/sys/kernel/osrelease"
    "$probe" --sysfs-root "$tree" --iommufd-replay "$replay" --format toml >"$work/$name.toml" ||
      fail "iommu-probe --iommufd-replay $replay"
    reports+=(--host "$work/$name.toml")
  done
  "$compat" check --format json "${reports[@]}" --sysfs-root fake-sysfs/hosts/intel-icx-2s \
    --sysfs-root fake-sysfs/hosts/intel-client "$backend"/*.toml >"$work/backend.json" 2>"$work/err"
  [ "$?" -le 3 ] || { fail "iommu-compat on the backend hosts"; cat "$work/err"; }
  rows_of "$work/backend.json" >"$work/backend_rows"
  grep '^R' "$work/backend_rows" | cut -f2- >>"$work/results"
  grep '^F' "$work/backend_rows" | cut -f2- >>"$work/findings"
  pass "backend hosts: $(grep -c '^R' "$work/backend_rows") results"
fi
if awk -F'\t' '$4 == "" || $5 == ""' "$work/findings" | grep -q .; then
  fail "findings without a rule or outcome (JSON layout changed?)"
fi

# --- 1. every rule both ways, and unknown where it reads host facts -------------------------
count() { awk -F'\t' -v r="$1" -v o="$2" '$4 == r && $5 == o { n++ } END { print n + 0 }' \
            "$work/findings"; }
printf '%-28s %6s %6s %8s %8s\n' rule pass fail unknown warning
for r in "${rules[@]}"; do
  p=$(count "$r" pass); f=$(count "$r" fail); u=$(count "$r" unknown); w=$(count "$r" warning)
  printf '%-28s %6d %6d %8d %8d\n' "$r" "$p" "$f" "$u" "$w"
  if [ "$p" -gt 0 ]; then pass "$r passes ($p)"; else fail "$r never passes"; fi
  if [ -n "${no_fail[$r]:-}" ]; then
    if [ "$f" -gt 0 ]; then
      fail "$r fails now ($f): its fail exemption is stale, remove it"
    else
      pass "$r: fail exempt: ${no_fail[$r]}"
    fi
  elif [ "$f" -gt 0 ]; then
    pass "$r fails ($f)"
  else
    fail "$r never fails"
  fi
  if [ -n "${no_unknown[$r]:-}" ]; then
    if [ "$u" -gt 0 ]; then
      fail "$r is unknown ($u) although it ${no_unknown[$r]}"
    else
      pass "$r: unknown exempt: ${no_unknown[$r]}"
    fi
  elif [ "$u" -gt 0 ]; then
    pass "$r unknown ($u)"
  else
    fail "$r is never unknown (no fixture leaves its host fact unknown)"
  fi
done

# --- 2. no rule id outside the table --------------------------------------------------------
while read -r r; do
  [ -n "${known[$r]:-}" ] || fail "output names rule $r, which is not in the table"
done < <(cut -f4 "$work/findings" | sort -u)

# --- 3. unknown never gives compatible; verdicts follow from findings -----------------------
# Per pair: the worst outcome among its findings.
awk -F'\t' '
  { key = $1 "\t" $2
    if ($5 == "fail") bad[key] = 1
    else if ($5 == "unknown") unk[key] = 1 }
  END { for (k in bad) print k "\tfail"; for (k in unk) if (!(k in bad)) print k "\tunknown" }
' "$work/findings" | sort >"$work/worst"
while IFS=$'\t' read -r guest host verdict; do
  worst=$(awk -F'\t' -v g="$guest" -v h="$host" '$1 == g && $2 == h { print $3 }' "$work/worst")
  unknowns=$(awk -F'\t' -v g="$guest" -v h="$host" '$1 == g && $2 == h && $5 == "unknown"' \
               "$work/findings" | wc -l)
  pair="$(basename "$guest" .toml) on $(basename "$host")"
  if [ "$unknowns" -gt 0 ] && [ "$verdict" = compatible ]; then
    fail "$pair: $unknowns unknown findings but verdict compatible"
  fi
  case "$verdict" in
    bad-input) expected=bad-input ;;
    *) case "$worst" in fail) expected=incompatible ;; unknown) expected=undecided ;;
                        *) expected=compatible ;; esac ;;
  esac
  [ "$verdict" = "$expected" ] || fail "$pair: verdict $verdict, its findings give $expected"
done <"$work/results"
undecided=$(awk -F'\t' '$3 == "undecided"' "$work/results" | wc -l)
pass "no pair with an unknown finding is compatible ($undecided pairs undecided)"

finish
