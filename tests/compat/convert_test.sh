#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `iommu-compat convert` on every example, to every syntax: a conversion that exits 0 (nothing
# lost) gives the same `check` verdict as the original on every fixture host; one that exits 1
# names what it lost on stderr and still writes a guest that `check` reads. Then bad input,
# a refused --output (the input itself) and a usage error.
# Usage: tests/compat/convert_test.sh IOMMU-COMPAT
compat=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

hosts=()
for host in $(fixtures); do hosts+=(--sysfs-root "fake-sysfs/hosts/$host"); done
# The verdict of every (guest, host) pair, without the guest's name.
verdicts() {
  "$compat" check "${hosts[@]}" --format json "$1" 2>/dev/null |
    grep -o '"verdict": *"[a-z-]*"' | tr -d ' '
}

lossless=0
lossy=0
for input in "$examples"/*; do
  case $input in *.md | */bad-*) continue ;; esac
  name=$(basename "$input")
  want=$(verdicts "$input")
  [ -n "$want" ] || { fail "$name: no verdicts from check"; continue; }
  for to in toml qemu libvirt; do
    "$compat" convert --to "$to" "$input" >"$work/out" 2>"$work/err"
    status=$?
    case $status in
      0)
        [ -s "$work/err" ] && fail "$name to $to: exit 0 but stderr: $(cat "$work/err")"
        got=$(verdicts "$work/out")
        if [ "$got" = "$want" ]; then
          pass "$name to $to: lossless, same verdicts"
          lossless=$((lossless + 1))
        else
          fail "$name to $to: exit 0 but verdicts differ"
        fi
        ;;
      1)
        if grep -q "^iommu-compat: warning: $input: " "$work/err" && [ -n "$(verdicts "$work/out")" ]; then
          pass "$name to $to: lossy, $(wc -l <"$work/err") facts named"
          lossy=$((lossy + 1))
        else
          fail "$name to $to: exit 1 without naming a loss, or unreadable output"
        fi
        ;;
      *) fail "$name to $to: exit $status: $(cat "$work/err")" ;;
    esac
  done
done
[ "$lossless" -gt 0 ] && pass "$lossless lossless conversions" || fail "no lossless conversion"
[ "$lossy" -gt 0 ] && pass "$lossy lossy conversions" || fail "no lossy conversion"

# Facts QEMU has no option for are named, never dropped.
"$compat" convert --to qemu "$examples/amd-vi-nested.toml" >/dev/null 2>"$work/err"
expect_status "pasid table to qemu" 1 $?
grep -q '\[pasid_table\]: in the input, not expressible in qemu' "$work/err" &&
  pass "pasid table named" || fail "pasid table not named: $(cat "$work/err")"
# [vfio]: the backend goes through; what a VMM option cannot hold is named.
printf 'format = 1\n[viommu]\nmodel = "intel-vtd"\n[[device]]\nbdf = "0000:3b:00.0"\n[vfio]\nbackend = "iommufd"\nmigration = true\nconfidential = "tdx"\n' >"$work/vfio.toml"
"$compat" convert --to qemu "$work/vfio.toml" >"$work/out" 2>"$work/err"
expect_status "[vfio] to qemu" 1 $?
grep -q 'iommufd=iommufd0,enable-migration=on' "$work/out" && pass "backend and migration written" ||
  fail "[vfio] not written: $(cat "$work/out")"
grep -q 'vfio.confidential: tdx in the input, not expressible in the output' "$work/err" &&
  ! grep -q 'vfio.backend\|vfio.migration' "$work/err" && pass "confidential named, alone" ||
  fail "[vfio] losses: $(cat "$work/err")"
"$compat" convert --to libvirt "$work/vfio.toml" >"$work/out" 2>"$work/err"
grep -q 'vfio.migration: true in the input, not expressible in the output' "$work/err" &&
  grep -q "<driver iommufd='yes'/>" "$work/out" && pass "libvirt: backend written, migration named" ||
  fail "[vfio] to libvirt: $(cat "$work/err")"
# QEMU settings a guest file has no key for are named too.
"$compat" convert --to toml "$examples/intel-iommu.qemu" >/dev/null 2>"$work/err"
expect_status "qemu to toml" 1 $?
grep -q 'viommu.intremap=on' "$work/err" && pass "intremap named" ||
  fail "intremap not named: $(cat "$work/err")"

# Bad input, refusals and usage errors: exit 2, nothing written.
"$compat" convert --to qemu "$examples/bad-values.toml" >"$work/out" 2>"$work/err"
expect_status "bad input" 2 $?
[ -s "$work/out" ] && fail "bad input wrote output" || pass "bad input: nothing written"
grep -q "bad-values.toml:" "$work/err" && pass "bad input named" || fail "bad input not named"
"$compat" convert --to qemu "$work/missing" 2>/dev/null
expect_status "missing input" 2 $?
cp "$examples/intel-iommu.qemu" "$work/in.qemu"
"$compat" convert --to toml --output "$work/in.qemu" "$work/in.qemu" 2>"$work/err"
expect_status "output is the input" 2 $?
cmp -s "$work/in.qemu" "$examples/intel-iommu.qemu" && pass "input kept" || fail "input overwritten"
"$compat" convert --to toml --output "$work" "$work/in.qemu" 2>/dev/null
expect_status "output is a directory" 2 $?
"$compat" convert --to yaml "$work/in.qemu" 2>/dev/null
expect_status "unknown --to" 2 $?
"$compat" convert "$work/in.qemu" 2>/dev/null
expect_status "no --to" 2 $?
"$compat" convert --to qemu --qemu-version banana "$work/in.qemu" 2>/dev/null
expect_status "bad --qemu-version" 2 $?
"$compat" convert --to libvirt --output "$work/new.xml" "$work/in.qemu" 2>/dev/null
[ $? -le 1 ] && grep -q "<iommu model='intel'>" "$work/new.xml" && pass "--output written" ||
  fail "--output not written"
finish
