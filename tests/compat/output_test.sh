#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --output of both tools: a regular file (or a new path) is replaced atomically, a symbolic link
# to one has its target replaced and stays a link, character devices and FIFOs are written in
# place and stay what they are, everything else is refused (exit 2) before anything is read;
# an output that is one of the inputs (however spelled) or inside a tree read is refused and
# the input left as it was; a write failure (/dev/full, a file-size limit) exits 4 with a
# message and leaves the old file.
# Device nodes are made in the scratch directory when mknod works (root), so a tool that
# renames over them destroys nothing real.
# Usage: tests/compat/output_test.sh IOMMU-COMPAT IOMMU-PROBE
compat=$(realpath "$1")
probe=$(realpath "$2")
. "$(dirname "$0")/lib.sh"

icx=fake-sysfs/hosts/intel-icx-2s
ok=$examples/virtio-iommu-basic.toml
incompatible=$examples/too-many-pasid-bits.toml

# run WHAT EXPECTED TOOL ARGS...: stdout in $work/out, stderr in $work/err.
run() {
  local what=$1 expected=$2
  shift 2
  "$@" >"$work/out" 2>"$work/err"
  expect_status "$what" "$expected" $?
}
# file_type PATH: stat's name for what PATH is, not following a link.
file_type() { stat -c %F "$1" 2>/dev/null || echo missing; }
expect_type() {  # expect_type WHAT PATH TYPE
  local got
  got=$(file_type "$2")
  [ "$got" = "$3" ] && pass "$1 is still a $3" || fail "$1 became a $got, expected $3"
}
expect_error() {  # expect_error WHAT PATTERN: stderr holds an error matching PATTERN
  grep -q -- "$2" "$work/err" && pass "$1: message" ||
    fail "$1: no message matching '$2': $(cat "$work/err")"
}

if mknod "$work/null" c 1 3 2>/dev/null && mknod "$work/full" c 1 7 2>/dev/null; then
  null=$work/null
  full=$work/full
else
  null=/dev/null
  full=/dev/full
fi
cp "$ok" "$work/g.toml"
"$probe" --sysfs-root "$icx" --format toml >"$work/r.toml" || fail "no host report"

# Character devices: written in place. /dev/full takes nothing: exit 4 and why.
for tool in compat probe; do
  if [ $tool = compat ]; then
    cmd=("$compat" check --format json --sysfs-root "$icx" "$work/g.toml")
    verdict=0
  else
    cmd=("$probe" --sysfs-root "$icx" --format json)
    verdict=0
  fi
  run "$tool --output null device" $verdict "${cmd[@]}" --output "$null"
  expect_type "$tool: null device" "$null" "character special file"
  [ ! -s "$work/out" ] && pass "$tool: nothing on stdout" || fail "$tool: stdout not empty"
  run "$tool --output full device" 4 "${cmd[@]}" --output "$full"
  expect_type "$tool: full device" "$full" "character special file"
  expect_error "$tool: full device" "error: $full: cannot write: No space left on device"
  # Standard output that cannot take the report: the same exit 4 and message.
  "${cmd[@]}" >"$full" 2>"$work/err"
  expect_status "$tool to a full stdout" 4 $?
  expect_error "$tool: full stdout" "error: standard output: cannot write: No space left on device"

  # A FIFO: written in place, read by the other end.
  rm -f "$work/fifo" "$work/fifo.keep" "$work/fifo.out"
  mkfifo "$work/fifo"
  ln "$work/fifo" "$work/fifo.keep"
  timeout 120 cat "$work/fifo" >"$work/fifo.out" &
  reader=$!
  run "$tool --output fifo" $verdict timeout 120 "${cmd[@]}" --output "$work/fifo"
  # A reader still waiting (a tool that renamed over the FIFO never opened it) is released
  # through the other name: opening read-write never blocks, closing gives the reader EOF.
  (exec 3<>"$work/fifo.keep")
  wait "$reader"
  expect_type "$tool: fifo" "$work/fifo" "fifo"
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/fifo.out" 2>/dev/null &&
    pass "$tool: the reader got the whole report" || fail "$tool: the reader got no report"

  # A symbolic link to a regular file: the target gets the report, the link stays a link.
  echo old >"$work/real.json"
  ln -sfn real.json "$work/link.json"
  run "$tool --output symlink" $verdict "${cmd[@]}" --output "$work/link.json"
  expect_type "$tool: link" "$work/link.json" "symbolic link"
  [ "$(readlink "$work/link.json")" = real.json ] && pass "$tool: link unchanged" ||
    fail "$tool: link now points at $(readlink "$work/link.json")"
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/real.json" 2>/dev/null &&
    pass "$tool: link target replaced" || fail "$tool: link target: $(head -c 80 "$work/real.json")"

  # A link to nothing: refused, nothing created.
  ln -sfn nowhere.json "$work/dangling.json"
  run "$tool --output dangling symlink" 2 "${cmd[@]}" --output "$work/dangling.json"
  expect_error "$tool: dangling" "dangling.json: is a symbolic link to a file that does not exist"
  [ ! -e "$work/nowhere.json" ] && expect_type "$tool: dangling link" "$work/dangling.json" \
    "symbolic link" || fail "$tool: the link's target was created"

  # /dev/stdout: the tool's own standard output.
  run "$tool --output /dev/stdout" $verdict "${cmd[@]}" --output /dev/stdout
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/out" 2>/dev/null &&
    pass "$tool: report on stdout" || fail "$tool: stdout: $(head -c 80 "$work/out")"

  # Refused before anything is read: a directory, a socket, a block device.
  mkdir -p "$work/dir"
  run "$tool --output directory" 2 "${cmd[@]}" --output "$work/dir"
  expect_type "$tool: directory" "$work/dir" "directory"
  rm -f "$work/sock"
  python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$work/sock"
  run "$tool --output socket" 2 "${cmd[@]}" --output "$work/sock"
  expect_type "$tool: socket" "$work/sock" "socket"
  expect_error "$tool: socket" "sock: is a socket"
  if mknod "$work/blk" b 7 200 2>/dev/null; then
    run "$tool --output block device" 2 "${cmd[@]}" --output "$work/blk"
    expect_type "$tool: block device" "$work/blk" "block special file"
    expect_error "$tool: block device" "blk: is a block device"
    rm -f "$work/blk"
  fi

  # A file-size limit: the write fails, the old file stays, no temporary file is left.
  echo old >"$work/limited.json"
  (
    ulimit -f 1
    trap '' XFSZ
    exec "${cmd[@]}" --output "$work/limited.json"
  ) >"$work/out" 2>"$work/err"
  expect_status "$tool --output past a file-size limit" 4 $?
  expect_error "$tool: file-size limit" "error: .*File too large"
  [ "$(cat "$work/limited.json")" = old ] && pass "$tool: old file kept" ||
    fail "$tool: old file replaced"
  grep -q '^\.limited' <<<"$(ls -A "$work")" && fail "$tool: temporary file left" ||
    pass "$tool: no temporary file left"
done

# The output is one of the inputs: refused before reading, every spelling, the input intact.
cp "$work/g.toml" "$work/g.orig"
cp "$work/r.toml" "$work/r.orig"
ln -sfn g.toml "$work/g-link.toml"
ln -f "$work/g.toml" "$work/g-hard.toml"
for spelling in "$work/g.toml" "$work/./g.toml" "$work/../$(basename "$work")/g.toml" \
  "$work/g-link.toml" "$work/g-hard.toml"; do
  run "check --output the guest as $spelling" 2 \
    "$compat" check --sysfs-root "$icx" --output "$spelling" "$work/g.toml"
  expect_error "guest as output" "the output is also an input"
done
cmp -s "$work/g.toml" "$work/g.orig" && pass "guest intact" || fail "guest overwritten"
expect_type "guest" "$work/g.toml" "regular file"
# Also when the run itself would fail (a bad guest is still an input).
cp "$examples/bad-syntax.toml" "$work/bad.toml"
run "check --output a bad guest" 2 "$compat" check --sysfs-root "$icx" --output "$work/bad.toml" \
  "$work/bad.toml"
cmp -s "$work/bad.toml" "$examples/bad-syntax.toml" && pass "bad guest intact" ||
  fail "bad guest overwritten"
run "check --output a host report" 2 "$compat" check --host "$work/r.toml" \
  --output "$work/r.toml" "$work/g.toml"
run "suggest --output its host report" 2 "$compat" suggest --model intel-vtd \
  --host "$work/r.toml" --output "$work/r.toml"
expect_error "report as output" "the output is also an input"
mkdir -p "$work/hosts"
cp "$work/r.toml" "$work/hosts/icx.toml"
run "suggest --output a report of --host DIR" 2 "$compat" suggest --model intel-vtd \
  --host "$work/hosts" --output "$work/hosts/icx.toml"
cmp -s "$work/r.toml" "$work/r.orig" && cmp -s "$work/hosts/icx.toml" "$work/r.orig" &&
  pass "host reports intact" || fail "host report overwritten"

# Inside a tree that is read: refused, the tree's file intact.
cp -r "$icx" "$work/tree"
cap=$work/tree/sys/class/iommu/dmar0/intel-iommu/cap
cp "$cap" "$work/cap.orig"
run "probe --output into its own tree" 2 "$probe" --sysfs-root "$work/tree" --format json \
  --output "$cap"
expect_error "probe into its tree" "inside the tree"
run "check --output into a tree read" 2 "$compat" check --sysfs-root "$work/tree" \
  --output "$cap" "$work/g.toml"
cmp -s "$cap" "$work/cap.orig" && pass "tree intact" || fail "tree file overwritten"
expect_type "tree file" "$cap" "regular file"

# A new file and a replaced one still work, with the verdict as the exit code.
run "check --output a new file" 1 "$compat" check --format json --sysfs-root "$icx" \
  --output "$work/new.json" "$incompatible"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/new.json" &&
  pass "new file is the report" || fail "new file"
finish
