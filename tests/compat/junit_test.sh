#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --format junit is well-formed XML valid against schemas/junit.xsd (xmllint, Debian package
# libxml2-utils): every example guest on every fixture host, and a guest whose name and
# values hold markup, quotes and characters XML 1.0 forbids.
# Usage: tests/compat/junit_test.sh IOMMU-COMPAT   (exit 77 = skipped: no xmllint)
compat=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
command -v xmllint >/dev/null || { echo "xmllint not installed (apt-get install libxml2-utils)"; exit 77; }

hosts=()
for h in $(fixtures); do hosts+=(--sysfs-root "fake-sysfs/hosts/$h"); done
validate() {  # validate WHAT FILE
  if xmllint --noout --schema schemas/junit.xsd "$2" 2>"$work/xmllint.err"; then
    pass "$1: valid"
  else
    fail "$1: $(head -n 5 "$work/xmllint.err")"
  fi
}

"$compat" check --format junit "${hosts[@]}" "$examples"/*.toml >"$work/all.xml" 2>/dev/null
validate "examples x fixtures" "$work/all.xml"
suites=$(grep -c '<testsuite ' "$work/all.xml")
expected=$(( $(ls "$examples"/*.toml | wc -l) * ${#hosts[@]} / 2 ))
[ "$suites" -eq "$expected" ] && pass "one testsuite per pair ($suites)" ||
  fail "$suites testsuites, expected $expected"

hostile="$work/we<i>rd & \"name's\".toml"
printf '[viommu]\nmodel = "intel-vtd\\u0001<&>\\u001b]"\ninput_bits = 48\n' >"$hostile"
printf '[viommu]\nmodel = "virtio-iommu"\n' >"$work/ok.toml"
"$compat" check --format junit --sysfs-root fake-sysfs/hosts/intel-client "$hostile" \
  "$work/ok.toml" >"$work/hostile.xml" 2>/dev/null
validate "hostile names and values" "$work/hostile.xml"
grep -q 'we&lt;i&gt;rd &amp; &quot;name&apos;s&quot;.toml' "$work/hostile.xml" &&
  pass "names escaped" || fail "names not escaped: $(grep -m1 testsuite "$work/hostile.xml")"
finish
