#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Shell test of tools/setup.sh's package step with apt held by another process: it must wait for
# the locks (dpkg's through DPkg::Lock::Timeout, the lists' by retrying apt-get update) instead
# of failing at once, and still fail at once on any other error; and README's `tools/setup.sh
# run` probes this machine or, without a unit, a bundled fixture that exists. apt-get,
# dpkg-query, id, cmake and the probe are stand-ins, so nothing is installed or built.
# Usage: tests/tools/setup_test.sh [SOURCE_DIR]   (default: the checkout holding this script)
set -uo pipefail

src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

mkdir "$work/bin"
# Every package is missing; we are root; the build is a no-op.
printf '#!/bin/sh\nexit 1\n' > "$work/bin/dpkg-query"
printf '#!/bin/sh\n[ "$1" = -u ] && { echo 0; exit 0; }\nexec /usr/bin/id "$@"\n' > "$work/bin/id"
printf '#!/bin/sh\nexit 0\n' > "$work/bin/cmake"
# apt-get logs its arguments; `update` fails as apt 2.6 does while another apt holds the lists
# lock, LOCKED_UPDATES times, or with OTHER_ERROR once.
cat > "$work/bin/apt-get" <<'EOF'
#!/bin/sh
echo "$*" >> "$APT_LOG"
case " $* " in
  *" update "*)
    n=$(grep -cw update "$APT_LOG")
    if [ -n "${OTHER_ERROR:-}" ]; then
      echo "E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease" >&2
      exit 100
    fi
    if [ "$n" -le "${LOCKED_UPDATES:-0}" ]; then
      echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)" >&2
      echo "E: Unable to lock directory /var/lib/apt/lists/" >&2
      exit 100
    fi ;;
esac
exit 0
EOF
chmod +x "$work/bin/"*

# run NAME [VAR=value...]: tools/setup.sh build with the stand-ins; sets rc, log, err.
run() {
  local name=$1
  shift
  log=$work/$name.apt
  err=$work/$name.err
  : > "$log"
  env "$@" APT_LOG="$log" BUILD_DIR="$work/build" PATH="$work/bin:$PATH" \
    bash "$src/tools/setup.sh" build > /dev/null 2> "$err"
  rc=$?
}

# 1. Lists locked for two tries: setup waits, retries and installs, with dpkg's lock timeout.
run locked LOCKED_UPDATES=2
if [ "$rc" -eq 0 ] && [ "$(grep -cw update "$log")" -eq 3 ]; then
  pass "update retried while the lists were locked"
else
  fail "locked lists: exit $rc, apt-get calls:"$'\n'"$(cat "$log")"$'\n'"$(cat "$err")"
fi
grep -q 'waiting (5 s of 600)' "$err" || fail "no waiting message: $(cat "$err")"
install=$(grep -w install "$log")
case "$install" in
  *"-o DPkg::Lock::Timeout=600 install "*) pass "install waits for dpkg's lock" ;;
  *) fail "install does not wait for dpkg's lock: $install" ;;
esac
grep -w update "$log" | grep -qv 'DPkg::Lock::Timeout=600' && fail "an update without the timeout"

# 2. Any other apt-get update error fails at once.
run other OTHER_ERROR=1
if [ "$rc" -ne 0 ] && [ "$(grep -cw update "$log")" -eq 1 ] && ! grep -qw install "$log"; then
  pass "other update errors fail at once"
else
  fail "other error: exit $rc, apt-get calls:"$'\n'"$(cat "$log")"
fi
grep -q 'Failed to fetch' "$err" || fail "apt-get's error was not shown: $(cat "$err")"

# 3. A lock that is never released gives up after SETUP_APT_LOCK_TIMEOUT.
run stuck LOCKED_UPDATES=1000 SETUP_APT_LOCK_TIMEOUT=5
if [ "$rc" -ne 0 ] && [ "$(grep -cw update "$log")" -eq 2 ] && ! grep -qw install "$log"; then
  pass "gives up after SETUP_APT_LOCK_TIMEOUT"
else
  fail "stuck lock: exit $rc, apt-get calls:"$'\n'"$(cat "$log")"
fi

# 4. README's `tools/setup.sh run`, as written but for the stand-ins: every package there, the
# build a no-op, the probe a stand-in that logs its arguments. It probes this machine when it has
# a unit, else the bundled fake host, which must be a fixture tree that exists.
printf '#!/bin/sh\necho "install ok installed"\n' > "$work/bin/dpkg-query"
mkdir -p "$work/build/tools"
printf '#!/bin/sh\necho "$@" > "%s"\n' "$work/probe.args" > "$work/build/tools/iommu-probe"
chmod +x "$work/build/tools/iommu-probe"
: > "$work/run.apt"
(cd "$src" && env APT_LOG="$work/run.apt" BUILD_DIR="$work/build" PATH="$work/bin:$PATH" \
  tools/setup.sh run > /dev/null 2> "$work/run.err")
rc=$?
args=$(cat "$work/probe.args" 2> /dev/null)
if [ "$rc" -ne 0 ] || [ ! -f "$work/probe.args" ]; then
  fail "setup.sh run: exit $rc, probe not run: $(cat "$work/run.err")"
elif [ -n "$(ls -A /sys/class/iommu 2> /dev/null)" ]; then
  [ -z "$args" ] && pass "setup.sh run probes this machine" || fail "setup.sh run: probe $args"
else
  root=${args#--sysfs-root }
  if [ "$root" != "$args" ] && [ -f "$root/../$(basename "$root").host" ] &&
    [ -d "$root/sys/class/iommu" ] && grep -q 'bundled fake host' "$work/run.err"; then
    pass "setup.sh run probes the bundled fake host $(basename "$root") on a machine without a unit"
  else
    fail "setup.sh run: probe $args: $(cat "$work/run.err")"
  fi
fi
[ -s "$work/run.apt" ] && fail "setup.sh run called apt-get with every package installed"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all setup tests passed"
