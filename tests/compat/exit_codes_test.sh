#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Exit codes of iommu-compat: 0 compatible, 1 incompatible, 2 bad input (guest, host or
# command line), 3 undecided, 4 the output could not be written (output_test.sh); a matrix
# exits with its worst pair by bad-input > incompatible > undecided > compatible; --output
# writes atomically and leaves stdout empty; --host takes one report or a directory of them.
# Usage: tests/compat/exit_codes_test.sh IOMMU-COMPAT
compat=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

icx=fake-sysfs/hosts/intel-icx-2s
arm=fake-sysfs/hosts/arm-smmuv3-generic
ok=$examples/virtio-iommu-basic.toml
incompatible=$examples/too-many-pasid-bits.toml
bad=$examples/bad-syntax.toml
undecided=$work/undecided.toml
# Whether the SMMUs support ATS is unknown in the generic layout: undecided, nothing fails.
printf '[viommu]\nmodel = "arm-smmu-v3"\nats = true\n' >"$undecided"

run() {  # run WHAT EXPECTED ARGS...
  local what=$1 expected=$2
  shift 2
  "$compat" "$@" >"$work/out" 2>"$work/err"
  expect_status "$what" "$expected" $?
}

run "compatible" 0 check --sysfs-root "$icx" "$ok"
run "incompatible" 1 check --sysfs-root "$icx" "$incompatible"
run "bad guest" 2 check --sysfs-root "$icx" "$bad"
run "undecided" 3 check --sysfs-root "$arm" "$undecided"
run "undecided + compatible" 3 check --sysfs-root "$arm" "$undecided" "$ok"
run "undecided + incompatible" 1 check --sysfs-root "$arm" "$undecided" "$incompatible"
run "incompatible + bad guest" 2 check --sysfs-root "$arm" "$incompatible" "$bad" "$ok"
run "two hosts, one incompatible" 1 check --sysfs-root "$icx" --sysfs-root fake-sysfs/hosts/no-iommu "$ok"
for format in json junit github; do
  run "undecided as $format" 3 check --format "$format" --sysfs-root "$arm" "$undecided"
done

# Bad input names what could not be used.
run "missing guest file" 2 check --sysfs-root "$icx" "$work/nope.toml"
grep -q "$work/nope.toml" "$work/out" && pass "missing guest named" || fail "missing guest not named"
run "missing sysfs root" 2 check --sysfs-root "$work/no-root" "$ok"
grep -q "$work/no-root" "$work/out" && pass "missing root named" || fail "missing root not named"
printf 'schema = "iommu-probe/2"\n[[unit]]\nname = 3\n[end]\nunits = 1\ngroups = 0\ndevices = 0\ndiagnostics = 0\n' >"$work/broken.toml"
run "broken host report" 2 check --format json --host "$work/broken.toml" "$ok"
grep -q "broken.toml" "$work/err" && pass "broken report named on stderr" ||
  fail "broken report not named: $(cat "$work/err")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d["results"][0]
assert r["verdict"] == "bad-input" and r["errors"] and "broken.toml" in r["errors"][0]["file"], r' \
  "$work/out" && pass "bad host pair in json" || fail "bad host pair in json"
run "parse errors in text" 2 check --sysfs-root "$icx" "$bad"
grep -q "^$bad:5:8: error: " "$work/out" && pass "parse error file:line:col" ||
  fail "parse error not printed as file:line:col: $(cat "$work/out")"

# Usage errors: 2, with a message on stderr.
run "no subcommand" 2
run "unknown subcommand" 2 chekc --sysfs-root "$icx" "$ok"
grep -qx "iommu-compat: error: unknown subcommand 'chekc' (did you mean 'check'?)" "$work/err" &&
  pass "unknown subcommand named" || fail "unknown subcommand: $(cat "$work/err")"
# The library's did-you-mean (libcaps/spelling.h), as for keys: a long word may be three edits off.
run "unknown subcommand, three edits off" 2 suggestion
grep -qx "iommu-compat: error: unknown subcommand 'suggestion' (did you mean 'suggest'?)" "$work/err" &&
  pass "long subcommand typo named" || fail "suggestion: $(cat "$work/err")"
run "unknown subcommand, nothing near" 2 frobnicate
grep -qx "iommu-compat: error: unknown subcommand 'frobnicate'" "$work/err" &&
  pass "unknown subcommand without a guess" || fail "frobnicate: $(cat "$work/err")"
run "unknown option" 2 check --bogus "$ok"
run "no guest" 2 check --sysfs-root "$icx"
run "bad format" 2 check --format xml --sysfs-root "$icx" "$ok"
run "bad backend" 2 check --backend nfs --sysfs-root "$icx" "$ok"
run "udev on a tree" 2 check --backend udev --sysfs-root "$icx" "$ok"
grep -q "error: --backend udev" "$work/err" && pass "udev message" || fail "udev message: $(cat "$work/err")"
run "suggest without model" 2 suggest --sysfs-root "$icx"
run "suggest bad model" 2 suggest --model intel --sysfs-root "$icx"
run "help" 0 --help
run "check help" 0 check --help
run "version" 0 --version

# --output: atomic file, nothing on stdout, the exit code still the verdict.
run "output file" 1 check --format json --output "$work/report.json" --sysfs-root "$icx" "$incompatible"
[ -s "$work/report.json" ] && [ ! -s "$work/out" ] && pass "report in file only" ||
  fail "output file: $(ls -l "$work")"
run "output to a missing directory" 2 check --output "$work/no/dir/x" --sysfs-root "$icx" "$ok"
grep -q "cannot create a file in $work/no/dir: No such file or directory" "$work/err" &&
  pass "missing output directory named" || fail "missing output directory: $(cat "$work/err")"

# --host takes one value per flag; a report left after it is named as such, not as a guest
# full of unknown keys.
mkdir -p "$work/hosts"
printf '# a comment first\n' >"$work/hosts/a.toml"
cat tests/golden/intel-icx-2s.toml >>"$work/hosts/a.toml"
cp tests/golden/intel-client.toml "$work/hosts/b.toml"
run "--host with two values" 2 check --host "$work/hosts/a.toml" "$work/hosts/b.toml" "$ok"
grep -q "b.toml: error: a host report, not a guest: give each report its own --host" "$work/out" &&
  pass "a report given as a guest is named" || fail "report as guest: $(cat "$work/out")"
run "--host DIR" 0 check --format github --host "$work/hosts" "$ok"
[ "$(grep -c "^iommu-compat: $ok on " "$work/out")" -eq 2 ] &&
  grep -q " on $work/hosts/a.toml: compatible" "$work/out" &&
  grep -q " on $work/hosts/b.toml: compatible" "$work/out" && pass "--host DIR: every report" ||
  fail "--host DIR: $(cat "$work/out")"
mkdir -p "$work/empty"
run "--host DIR without reports" 2 check --host "$work/empty" "$ok"
grep -q "empty: error: directory holds no host report" "$work/out" && pass "empty --host DIR named" ||
  fail "empty --host DIR: $(cat "$work/out")"

# The no-unit hint names what the kernels accept: intel_iommu=on, and for AMD no
# amd_iommu=off (the AMD driver has no amd_iommu=on and ignores it).
run "no unit" 1 check --sysfs-root fake-sysfs/hosts/no-iommu "$ok"
grep -q "hint: .*remove amd_iommu=off" "$work/out" && ! grep -q "amd_iommu=on" "$work/out" &&
  pass "no-unit hint" || fail "no-unit hint: $(grep hint "$work/out")"
finish
