#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's CI and suggest recipes, run as written: every `iommu-compat` command in a code
# block of README.md (a YAML `run:` or list item, a Jenkins `sh(script: '...')`, a shell line)
# is taken from the README itself and run in a directory of host reports written by
# iommu-probe from fixtures (hosts/) and example guests (guests/), then its exit code and
# output are checked against the same check with every input spelled out. The prose's
# `iommu-probe ... --output hosts/$(hostname).toml`, which makes those reports, is run as written
# on this machine and its report fed to the GitHub recipe. A recipe that stops working, or
# disappears, fails here.
# Usage: tests/compat/readme_test.sh IOMMU-COMPAT IOMMU-PROBE
compat=$(realpath "$1")
probe=$(realpath "$2")
. "$(dirname "$0")/lib.sh"

mkdir -p "$work/bin" "$work/ci/hosts" "$work/ci/guests"
ln -s "$compat" "$work/bin/iommu-compat"
ln -s "$probe" "$work/bin/iommu-probe"
host_fixtures="intel-icx-2s intel-client mixed-groups"
guest_examples="virtio-iommu-basic intel-vtd-legacy-39bit too-many-pasid-bits"
for h in $host_fixtures; do
  "$probe" --sysfs-root "fake-sysfs/hosts/$h" --format toml --output "$work/ci/hosts/$h.toml" ||
    fail "iommu-probe on $h"
done
for g in $guest_examples; do cp "$examples/$g.toml" "$work/ci/guests/"; done
n_hosts=$(echo $host_fixtures | wc -w)
n_guests=$(echo $guest_examples | wc -w)

# The commands, one per line, as the README spells them.
python3 - README.md >"$work/recipes" <<'EOF'
import re, sys
in_block = False
for line in open(sys.argv[1]):
    if line.startswith("```"):
        in_block = not in_block
        continue
    if not in_block:
        continue
    text = line.strip()
    m = re.search(r"sh\(script: '([^']*)'", text)
    if m:
        text = m.group(1)
    text = re.sub(r"^(run:|- )\s*", "", text)
    if text.startswith("iommu-compat ") and "hosts/" in text:
        print(text)
EOF
cat "$work/recipes"
# GitHub Actions, GitLab, Jenkins and suggest.
[ "$(wc -l <"$work/recipes")" -ge 4 ] && pass "four recipes found" ||
  fail "expected at least 4 recipes in README.md, found $(wc -l <"$work/recipes")"

# The reference: the same check with every report given its own --host.
reference() {
  local args=()
  for h in "$work"/ci/hosts/*.toml; do args+=(--host "hosts/$(basename "$h")"); done
  (cd "$work/ci" && "$compat" check --format github "${args[@]}" guests/*.toml >/dev/null 2>&1)
  echo $?
}
want=$(reference)
[ "$want" -eq 1 ] && pass "reference exit 1 (too-many-pasid-bits fails)" ||
  fail "reference exit $want"

i=0
while IFS= read -r recipe; do
  i=$((i + 1))
  rm -f "$work/ci/compat.xml" "$work/ci/guest.toml"
  (cd "$work/ci" && PATH="$work/bin:$PATH" bash -c "$recipe") >"$work/out" 2>"$work/err"
  status=$?
  what="recipe $i ($recipe)"
  grep -q "a host report, not a guest" "$work/out" "$work/err" &&
    fail "$what: a host report was taken for a guest"
  case "$recipe" in
    *"check --format github"*)
      expect_status "$what" "$want" "$status"
      verdicts=$(grep -c '^iommu-compat: guests/.* on hosts/.*\.toml: ' "$work/out")
      [ "$verdicts" -eq $((n_guests * n_hosts)) ] && pass "$what: every guest on every host" ||
        fail "$what: $verdicts verdict lines, expected $((n_guests * n_hosts)): $(cat "$work/out")"
      ;;
    *"check --format junit"*)
      expect_status "$what" "$want" "$status"
      suites=$(grep -c '<testsuite ' "$work/ci/compat.xml" 2>/dev/null)
      [ "${suites:-0}" -eq $((n_guests * n_hosts)) ] && pass "$what: a suite per pair" ||
        fail "$what: ${suites:-0} suites, expected $((n_guests * n_hosts))"
      if command -v xmllint >/dev/null; then
        xmllint --noout --schema schemas/junit.xsd "$work/ci/compat.xml" 2>/dev/null &&
          pass "$what: valid JUnit" || fail "$what: compat.xml is not valid JUnit"
      fi
      ;;
    *"suggest "*)
      expect_status "$what" 0 "$status"
      out=$work/ci/guest.toml
      [ -s "$out" ] || out=$work/out
      cp "$out" "$work/suggested.toml"
      (cd "$work/ci" && "$compat" check --host hosts/ "$work/suggested.toml" >"$work/check" 2>&1)
      expect_status "$what: the suggestion passes on those hosts" 0 $?
      for h in $host_fixtures; do
        grep -q "^#   hosts/$h.toml" "$work/suggested.toml" && pass "$what: made for $h" ||
          fail "$what: $h not among the hosts: $(tail -5 "$work/suggested.toml")"
      done
      ;;
    *)
      fail "$what: a recipe this test does not know how to check"
      ;;
  esac
done <"$work/recipes"

# The step before the recipes, given in the prose ("Save host reports once per host
# (`iommu-probe --format toml --output hosts/$(hostname).toml`)"), run as written on this
# machine, whatever IOMMU it has: the report it writes must be one the GitHub recipe loads, a
# verdict for every guest on it, never bad input or a failed write.
python3 - README.md >"$work/save" <<'EOF'
import re, sys
text = re.sub(r"^```.*?^```", "", open(sys.argv[1]).read(), flags=re.S | re.M)
for span in re.findall(r"`([^`\n]*)`", text):
    if span.startswith("iommu-probe ") and "--output hosts/" in span:
        print(span)
EOF
save=$(head -1 "$work/save")
github=$(grep -m1 -- "check --format github" "$work/recipes")
if [ "$(wc -l <"$work/save")" -ne 1 ] || [ -z "$github" ]; then
  fail "README.md: expected the host-report recipe and the GitHub recipe, found '$save', '$github'"
else
  mkdir -p "$work/live/hosts"
  cp -r "$work/ci/guests" "$work/live/"
  (cd "$work/live" && PATH="$work/bin:$PATH" bash -c "$save") >"$work/out" 2>"$work/err"
  status=$?
  report=hosts/$(hostname).toml
  # 1 is an error diagnostic about the live tree; the report is still written.
  if [ $status -le 1 ] && [ -s "$work/live/$report" ]; then
    pass "'$save' wrote $report (exit $status)"
  else
    fail "'$save': exit $status, $(ls -A "$work/live/hosts"): $(head -c 300 "$work/err")"
  fi
  (cd "$work/live" && PATH="$work/bin:$PATH" bash -c "$github") >"$work/out" 2>"$work/err"
  status=$?
  case $status in
    0 | 1 | 3) pass "GitHub recipe on this machine's report: a verdict (exit $status)" ;;
    *) fail "GitHub recipe on this machine's report: exit $status: $(head -c 300 "$work/out" "$work/err")" ;;
  esac
  verdicts=$(grep -c "^iommu-compat: guests/.* on $report: " "$work/out")
  [ "$verdicts" -eq "$n_guests" ] && pass "every guest on $report" ||
    fail "$verdicts verdict lines on $report, expected $n_guests: $(head -c 300 "$work/out")"
fi
finish
