#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every posture finding of `iommu-probe --check` on a host that has it: the fixtures that show
# one as they are, and copies of fixtures with the command line, a group's type or a unit's ecap
# changed for the others. Each case names the finding ids the JSON must hold (in order), the
# status of one of them and the exit code.
# Usage: tests/readiness/posture_test.sh IOMMU-PROBE
probe=$(realpath "$1")
compat=unused
. "$(dirname "$0")/../compat/lib.sh"

# copy FIXTURE NAME: a writable copy of a fixture with iommufd present (so only posture warns).
copy() {
  cp -r "fake-sysfs/hosts/$1" "$work/$2"
  chmod -R u+w "$work/$2"
  mkdir -p "$work/$2/sys/class/misc/iommu"
}
# cmdline NAME WORDS: replace the copy's command line.
cmdline() { printf '%s\n' "BOOT_IMAGE=/boot/vmlinuz ro $2" >"$work/$1/proc/cmdline"; }

# The clean case: amd-genoa-snp without its amd_iommu=on.
copy amd-genoa-snp clean
cmdline clean "mem_encrypt=on"
copy amd-genoa-snp amd-on
cmdline amd-on "amd_iommu=on"
copy amd-genoa-snp amd-pt
cmdline amd-pt "amd_iommu=pt iommu.passthrough=yes"
copy amd-genoa-snp acs
cmdline acs "pcie_acs_override=downstream,multifunction"
copy amd-genoa-snp intremap
cmdline intremap "nointremap"
copy amd-genoa-snp unsafe
cmdline unsafe "intremap=off vfio_iommu_type1.allow_unsafe_interrupts=1"
copy amd-genoa-snp intel-on-amd
cmdline intel-on-amd "intel_iommu=on,sm_on"
copy amd-genoa-snp identity-type
cmdline identity-type "mem_encrypt=on"
first_group=$(ls "$work/identity-type/sys/kernel/iommu_groups" | sort -n | head -1)
echo identity >"$work/identity-type/sys/kernel/iommu_groups/$first_group/type"
copy arm-smmuv3-nested arm-pt
cmdline arm-pt "iommu=pt iommu.passthrough=1"
# A VT-d unit without interrupt remapping: intel-client's dmar0 with ecap.IR (bit 3) cleared.
copy intel-client ir-off
echo f050d2 >"$work/ir-off/sys/devices/virtual/iommu/dmar0/intel-iommu/ecap"

# case DIR "IDS" ID STATUS EXIT: --check JSON of DIR lists exactly IDS as findings, ID has
# STATUS, and the exit code is EXIT.
case_() {
  local dir=$1 ids=$2 id=$3 status=$4 exit_code=$5
  "$probe" --sysfs-root "$dir" --check --format json >"$work/out.json" 2>"$work/err"
  local got=$?
  expect_status "$(basename "$dir")" "$exit_code" $got
  if python3 - "$work/out.json" "$ids" "$id" "$status" <<'PY'; then
import json, sys
doc = json.load(open(sys.argv[1]))
want = sys.argv[2].split()
got = [f["id"] for f in doc["findings"]]
why = open(sys.argv[1] + ".why", "w")
why.write("")
if got != want:
    why.write(f"findings {got}, expected {want}"); sys.exit(1)
if sys.argv[3]:
    f = next(f for f in doc["findings"] if f["id"] == sys.argv[3])
    if f["status"] != sys.argv[4]:
        why.write(f"{sys.argv[3]} is {f['status']}, expected {sys.argv[4]}"); sys.exit(1)
    if not f["hint"] or not f["detail"]:
        why.write(f"{sys.argv[3]} without detail or hint"); sys.exit(1)
isolation = doc["checks"][-1]
if want and not all(i in isolation["detail"] for i in want):
    why.write(f"isolation line does not name {want}: {isolation['detail']}"); sys.exit(1)
PY
    pass "$(basename "$dir"): findings [$ids]"
  else
    fail "$(basename "$dir"): $(cat "$work/out.json.why" 2>/dev/null)"
  fi
}

case_ "$work/clean" "" "" "" 0
case_ "$work/amd-on" "cmdline-unknown" cmdline-unknown warn 3
case_ "$work/amd-pt" "identity-domain cmdline-unknown" identity-domain warn 3
case_ "$work/acs" "acs-override" acs-override warn 3
case_ "$work/intremap" "interrupt-remapping-off" interrupt-remapping-off fail 1
case_ "$work/unsafe" "interrupt-remapping-off unsafe-interrupts" interrupt-remapping-off warn 1
case_ "$work/intel-on-amd" "cmdline-ignored" cmdline-ignored warn 3
case_ "$work/identity-type" "identity-domain" identity-domain warn 3
case_ "$work/ir-off" "shared-group interrupt-remapping-off" interrupt-remapping-off fail 1
case_ "$work/arm-pt" "identity-domain cmdline-ignored" cmdline-ignored warn 3
# Fixtures as they are.
case_ fake-sysfs/hosts/amd-zen2-desktop "identity-domain cmdline-unknown shared-group" shared-group warn 3
case_ fake-sysfs/hosts/mixed-groups "shared-group" shared-group warn 3
case_ fake-sysfs/hosts/posture-weak \
  "identity-domain acs-override cmdline-unknown cmdline-ignored shared-group interrupt-remapping-off" \
  acs-override warn 1

# The text names the values: amd_iommu=on's finding cites the AMD parser.
"$probe" --sysfs-root "$work/amd-on" --check -q >"$work/out.txt"
grep -q '^IOMMU options rejected *: WARN (amd_iommu=on: "on" is not an option of parse_amd_iommu_options() in drivers/iommu/amd/init.c' "$work/out.txt" &&
  pass "amd_iommu=on named in text" || fail "amd_iommu=on text: $(cat "$work/out.txt")"
finish
