#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerates the seed corpora in tests/fuzz/corpus/<target>/ from the fixtures: register and
# value files and PCI config spaces of fake-sysfs/hosts (fuzz_parse), each fixture tree as a
# fuzz_reader input plus a few hand-encoded vocabulary trees (fuzz_reader), the example guest
# files (fuzz_guest), the golden host reports (fuzz_host_report) and the example QEMU
# command lines and libvirt domains (fuzz_vmm). Seeds are named by their
# SHA-1, as libFuzzer names inputs; regression seeds (regress-*) are kept as they are.
# Usage: tests/fuzz/make_corpus.sh [BUILD_DIR]   (BUILD_DIR holds fuzz_reader_seed; default
# build-fuzz, configured and built as tests/fuzz/run.sh does when missing)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top/build-fuzz}
corpus=$here/corpus
hosts=$top/fake-sysfs/hosts

if [ ! -x "$build/tests/fuzz/fuzz_reader_seed" ]; then
  CC=${CC:-clang-14} CXX=${CXX:-clang++-14} cmake -S "$top" -B "$build" -G Ninja -DIOMMU_FUZZ=ON >/dev/null
  cmake --build "$build" --target fuzz_reader_seed >/dev/null
fi

# add TARGET FILE: copies FILE into the target's corpus under its SHA-1.
add() {
  local sum
  sum=$(sha1sum <"$2" | cut -d' ' -f1)
  cp "$2" "$corpus/$1/$sum"
}

for target in fuzz_parse fuzz_reader fuzz_guest fuzz_host_report fuzz_vmm; do
  mkdir -p "$corpus/$target"
  find "$corpus/$target" -type f ! -name 'regress-*' -delete
done

# fuzz_parse: every register and value file (deduplicated by content), and at most two PCI
# config spaces per fixture (they are 4 KiB each).
find "$hosts" -path '*/sys/*' -type f \( -name cap -o -name ecap -o -name features \
  -o -name version -o -name address -o -name 'domains_*' -o -name model -o -name '*_bits' \
  -o -name reserved_regions -o -name type -o -name httu -o -name stall -o -name btm \) -print0 |
  while IFS= read -r -d '' f; do add fuzz_parse "$f"; done
for h in "$hosts"/*/; do
  find "$h" -path '*/sys/*' -type f -name config | sort | head -n 2 |
    while IFS= read -r f; do add fuzz_parse "$f"; done
done

# fuzz_reader: each fixture as the reader sees it.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for h in "$hosts"/*/; do
  "$build/tests/fuzz/fuzz_reader_seed" "$h" "$tmp/seed"
  add fuzz_reader "$tmp/seed"
done
# Vocabulary seeds (tree_encoding.h): op, path kind 1 (unit, dir, property) or 3/4 (device),
# content kind. An intel unit with cap and ecap as 8-byte values; an arm-smmu-v3 generic unit
# with keyword and decimal properties and a pgtable_format directory; an amd unit with two
# features values and a denied cap; a device in a group with links and a sparse config.
printf '\x00''\x00\x01\x00\x00\x00\x01\x66\x04\x78\x40\x8c\x00\x2d\x09''\x00\x01\x00\x00\x01\x01\xdf\x50\xf0\x6e\xa9\x9e\x03\x00' >"$tmp/intel"
printf '\x00''\x00\x01\x05\x02\x07\x04\x0b''\x00\x01\x05\x02\x08\x03\x10''\x00\x01\x05\x02\x09\x03\x14''\x00\x01\x05\x02\x0d\x04\x04''\x01\x01\x05\x02\x13' >"$tmp/arm"
printf '\x00''\x00\x01\x03\x01\x02\x02\x01\x02\x03\x04\x05\x06\x07\x00\x00\x00\x00\x00\x00\x00\x80''\x03\x01\x03\x01\x00\x01' >"$tmp/amd"
printf '\x00''\x00\x01\x00\x00\x00\x01\x66\x04\x78\x40\x8c\x00\x2d\x09''\x02\x04\x00\x01\x00\x07dmar0/x''\x02\x03\x02\x01\x02\x0c../../../../3''\x00\x03\x02\x01\x04\x05\x00\x10\x02\x00\x00\xb3\x15\x1d\x10\x00\x01\x1b\x00\x01\x00''\x00\x02\x02\x00\x04\x03DMA' >"$tmp/device"
for f in intel arm amd device; do add fuzz_reader "$tmp/$f"; done

# fuzz_guest: the example guest files, good and bad.
for f in "$top"/tools/iommu-compat/examples/*.toml; do add fuzz_guest "$f"; done

# fuzz_vmm: the example QEMU command lines and libvirt domains.
for f in "$top"/tools/iommu-compat/examples/*.qemu "$top"/tools/iommu-compat/examples/*.args \
  "$top"/tools/iommu-compat/examples/*.xml; do add fuzz_vmm "$f"; done

# fuzz_host_report: the golden host reports iommu-probe writes.
for f in "$top"/tests/golden/*.toml; do add fuzz_host_report "$f"; done

du -sh "$corpus"
for target in fuzz_parse fuzz_reader fuzz_guest fuzz_host_report fuzz_vmm; do
  echo "$target: $(find "$corpus/$target" -type f | wc -l) seeds"
done
