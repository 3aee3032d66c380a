#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Shell test of fake-sysfs/gather.sh: gathering each checked-in fixture tree (--from) gives the
# same tree back, forbidden and write-only files are never copied, OUT is replaced only with
# --force and atomically, and (when umockdev is installed) libudev accepts the result.
# Usage: tests/tools/gather_test.sh [FAKE_SYSFS_DIR]   (default: fake-sysfs beside tests/)
set -uo pipefail

fsdir=${1:-$(cd "$(dirname "$0")/../../fake-sysfs" && pwd)}
gather=$fsdir/gather.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# gather.sh reads every file under `timeout 2 cat`: on a live host a read that takes seconds is
# a hang, but on a loaded CI machine starting `cat` alone can take that long, and a read cut
# short becomes a warning this test counts. So gather.sh runs here with a `timeout` that keeps
# its other arguments and allows GATHER_TEST_READ_TIMEOUT seconds (default 300): a hang guard.
real_timeout=$(command -v timeout) || { echo "skip: no timeout command"; exit 77; }
mkdir "$work/bin"
cat > "$work/bin/timeout" <<EOF
#!/usr/bin/env bash
generous=\${GATHER_TEST_READ_TIMEOUT:-300}
args=()
while [ \$# -gt 0 ]; do
  case \$1 in
    -s|-k|--signal|--kill-after) args+=("\$1" "\$2"); shift 2 ;;
    -t) args+=("\$1" "\$generous"); shift 2; break ;;  # busybox: -t SECONDS
    -*) args+=("\$1"); shift ;;
    *) args+=("\$generous"); shift; break ;;            # the duration
  esac
done
exec "$real_timeout" "\${args[@]}" "\$@"
EOF
chmod +x "$work/bin/timeout"
export PATH="$work/bin:$PATH"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# 1. Round trip: gather(tree) == tree, except SOURCE.
for tree in "$fsdir"/hosts/*/; do
  tree=${tree%/}
  name=${tree##*/}
  out=$work/rt/$name
  if ! "$gather" --from "$tree" --acpi-tables "$out" 2>"$work/$name.log"; then
    fail "$name: gather failed: $(cat "$work/$name.log")"
    continue
  fi
  # Trees written by Linux (PROVENANCE, tests/vm) are checked in without the empty target
  # directories gather.sh makes for dangling links: git keeps no empty directory.
  [ ! -f "$tree/PROVENANCE" ] || find "$out" -mindepth 1 -type d -empty -delete
  if [ -d "$tree/sys/class/iommu" ]; then
    # Beside the trees the VM tier wrote: the guest's kernel log and recorded iommufd answers.
    d=$(diff -r --no-dereference -x SOURCE -x PROVENANCE -x dmesg -x iommufd.replay "$tree" "$out")
  else
    # No IOMMU: nothing under sys/devices is IOMMU-relevant, so only these parts come back.
    d=$(diff -r --no-dereference "$tree/proc" "$out/proc"; \
        [ ! -d "$tree/sys/firmware" ] || diff -r "$tree/sys/firmware" "$out/sys/firmware")
    [ -z "$(ls -A "$out/sys/class/iommu")" ] || d="$d"$'\n'"sys/class/iommu is not empty"
  fi
  if [ -n "$d" ]; then fail "$name: round trip differs:"$'\n'"$d"; else pass "$name round trip"; fi
  grep -q '^generated-by: fake-sysfs/gather.sh' "$out/SOURCE" || fail "$name: SOURCE lacks tool"
done

# 2. Without --acpi-tables, tables are recorded by existence only.
tree=$fsdir/hosts/intel-icx-2s
"$gather" --from "$tree" "$work/noacpi" 2>/dev/null || fail "gather without --acpi-tables"
if [ -f "$work/noacpi/sys/firmware/acpi/tables/DMAR" ] && \
   [ ! -s "$work/noacpi/sys/firmware/acpi/tables/DMAR" ]; then
  pass "ACPI table existence only"
else
  fail "DMAR should exist and be empty without --acpi-tables"
fi

# 3. Refuse to overwrite without --force; --force replaces; nothing left beside OUT.
echo keep > "$work/noacpi/marker"
if "$gather" --from "$tree" "$work/noacpi" 2>/dev/null; then fail "overwrote without --force"; fi
[ -f "$work/noacpi/marker" ] || fail "refused run still touched OUT"
"$gather" --from "$tree" --force "$work/noacpi" 2>/dev/null || fail "--force failed"
[ ! -e "$work/noacpi/marker" ] || fail "--force did not replace OUT"
leftovers=$(find "$work" -maxdepth 1 -name 'noacpi.*')
[ -z "$leftovers" ] || fail "temporary directories left: $leftovers"
"$gather" 2>/dev/null; [ $? -eq 2 ] || fail "usage error should exit 2"
pass "overwrite rules"

# 4. Forbidden names and write-only files are never read or copied.
cp -a "$tree" "$work/poisoned"
dev=$work/poisoned/sys/devices/pci0000:16/0000:16:02.0/0000:17:00.0
for f in resource resource0 resource0_wc rom remove rescan reset vpd; do echo secret > "$dev/$f"; done
mkfifo "$dev/resource2"            # reading it would block: must not even be opened
echo secret > "$dev/write_only"; chmod 0200 "$dev/write_only"
"$gather" --from "$work/poisoned" "$work/poisoned-out" 2>"$work/poisoned.log" ||
  fail "gather of poisoned tree"
# Opening the FIFO would have hit the read timeout and produced a warning.
grep -q '(0 warnings)' "$work/poisoned.log" || fail "warnings: $(cat "$work/poisoned.log")"
got=$work/poisoned-out/sys/devices/pci0000:16/0000:16:02.0/0000:17:00.0
for f in resource resource0 resource0_wc resource2 rom remove rescan reset vpd write_only; do
  [ ! -e "$got/$f" ] || fail "copied forbidden file $f"
done
[ -f "$got/config" ] && [ -f "$got/uevent" ] || fail "ordinary files missing from $got"
pass "forbidden files skipped"

# 5. A slow read, as on a loaded machine (here a `cat` that takes 3 s on one file), is not a
#    timed-out read: nothing is lost and there is no warning.
mkdir "$work/slowbin"
real_cat=$(command -v cat)
cat > "$work/slowbin/cat" <<EOF
#!/bin/sh
case "\$*" in *dmar0/intel-iommu/cap*) sleep 3 ;; esac
exec "$real_cat" "\$@"
EOF
chmod +x "$work/slowbin/cat"
if PATH="$work/slowbin:$PATH" "$gather" --from "$fsdir/hosts/intel-client" "$work/slow" \
     2>"$work/slow.log" && grep -q '(0 warnings)' "$work/slow.log" &&
   cmp -s "$fsdir/hosts/intel-client/sys/devices/virtual/iommu/dmar0/intel-iommu/cap" \
     "$work/slow/sys/devices/virtual/iommu/dmar0/intel-iommu/cap"; then
  pass "slow read kept"
else
  fail "slow read lost: $(cat "$work/slow.log")"
fi

# 6. libudev accepts a gathered tree (needs umockdev and udevadm).
if command -v udevadm >/dev/null && grep -q libumockdev-preload.so.0 <<<"$(ldconfig -p 2>/dev/null)"; then
  n=$(UMOCKDEV_DIR=$work/rt/intel-icx-2s LD_PRELOAD=libumockdev-preload.so.0 \
      udevadm info --export-db | grep -c '^E: SUBSYSTEM=iommu$')
  [ "$n" -eq 5 ] && pass "libudev sees 5 units" || fail "libudev saw $n iommu units, want 5"
else
  echo "skip: umockdev/udevadm not installed"
fi

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all gather tests passed"
