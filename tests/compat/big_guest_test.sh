#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A guest file read while memory runs out is never checked cut short. The file is valid TOML at
# every line end: 900 KB of comment (guests may be 1 MiB) stand between its first keys and the one that makes it
# incompatible (ssid_bits = 24, more than PCIe allows), so a tool that quietly kept only the part
# it managed to read would check a smaller guest and could call it compatible. Under a range of
# address-space limits iommu-compat must give the whole file's verdict (exit 1) or say it ran out
# of memory (exit 4): never 0, 3, a signal or an abort. Nothing here is timed.
# Usage: tests/compat/big_guest_test.sh IOMMU-COMPAT
compat=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

if [ -n "${IOMMU_SANITIZED:-}" ]; then
  echo "skipped: ASan maps terabytes of shadow memory, so an address-space limit cannot apply"
  exit 77
fi

guest=$work/big-guest.toml
python3 - "$guest" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write('format = 1\n\n[viommu]\nmodel = "intel-vtd"\ninput_bits = 48\n')
    line = "# " + "x" * 97 + "\n"
    f.write(line * 9_000)  # 900 KB of comment lines
    f.write("ssid_bits = 24\n")
EOF
host=fake-sysfs/hosts/intel-icx-2s
"$compat" check --sysfs-root "$host" "$guest" >"$work/free.out" 2>&1
expect_status "without a limit" 1 $?
grep -q "width.pcie_pasid_limit" "$work/free.out" || fail "without a limit: the last key was not checked"

seen_verdict=0
seen_oom=0
# Below some limit the program cannot even start (the dynamic loader fails to map libc, or the
# C++ runtime dies before main): that is no verdict of ours, so the range starts at the first
# limit where `--version` runs, and goes in 256 KiB steps to plenty, through the limits where
# reading the file competes with everything else for the last bytes of address space.
start=
for kib in $(seq 2048 256 65536); do
  if (ulimit -v "$kib" && exec "$compat" --version) >/dev/null 2>&1; then start=$kib; break; fi
done
[ -n "$start" ] || { fail "iommu-compat --version does not run under 64 MiB"; finish; }
echo "iommu-compat starts under ulimit -v $start KiB"
for kib in $(seq "$start" 256 $((start + 16384))); do
  (ulimit -v "$kib" && exec "$compat" check --sysfs-root "$host" "$guest") \
    >"$work/out" 2>"$work/err"
  status=$?
  case $status in
    1) seen_verdict=1; pass "ulimit -v ${kib} KiB: incompatible, as the whole file is" ;;
    4) if grep -q "error: out of memory" "$work/err"; then
         seen_oom=1; pass "ulimit -v ${kib} KiB: out of memory, said so"
       else
         fail "ulimit -v ${kib} KiB: exit 4 without 'out of memory': $(tail -c 300 "$work/err")"
       fi ;;
    *) fail "ulimit -v ${kib} KiB: exit $status: $(tail -c 300 "$work/out") $(tail -c 300 "$work/err")" ;;
  esac
done
# The range must reach both sides, or the test proved nothing about reading under pressure.
[ "$seen_verdict" -eq 1 ] || fail "no limit in the range let the guest be read"
[ "$seen_oom" -eq 1 ] || fail "no limit in the range ran out of memory"
finish
