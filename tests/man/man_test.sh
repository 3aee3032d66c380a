#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The manual pages in tools/man: `man --warnings` renders each without a warning (a broken page
# is shown to give one, so the check can fail), lexgrog finds its NAME, every option and choice
# in the tool's own option table (--list-options) appears in its page, every key of the guest
# schema in iommu-guest(5), and cmake --install puts them in share/man/man{1,5}.
# Usage: tests/man/man_test.sh IOMMU-PROBE IOMMU-COMPAT BUILD_DIR
probe=$(realpath "$1")
compat=$(realpath "$2")
build=$(realpath "$3")
. "$(dirname "$0")/../compat/lib.sh"
for tool in man lexgrog groff; do
  command -v $tool >/dev/null || { echo "skip: $tool is not installed (man-db, groff-base)"; exit 0; }
done
pages="tools/man/iommu-probe.1 tools/man/iommu-compat.1 tools/man/iommu-guest.5"
warnings() { LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null; }

printf '.TH X 1\n.SH NAME\nx \\- y\n.XX\n' >"$work/bad.1"
[ -n "$(warnings "$work/bad.1")" ] && pass "a broken page warns" || fail "man --warnings is silent"
for page in $pages; do
  w=$(warnings "$page")
  [ -z "$w" ] && pass "$page renders cleanly" || fail "$page: $w"
  lexgrog "$page" >/dev/null && pass "$page has a NAME" || fail "$page: lexgrog finds no NAME"
done

# The page as plain ASCII text ("\-" becomes "-").
text() { groff -man -Tascii -P-cbou "$1" 2>/dev/null; }
# every_option TOOL PAGE: each option name and each {choice} of the table is in the page.
every_option() {
  local table page_text missing=
  table=$("$1" --list-options) || { fail "$1 --list-options"; return; }
  page_text=$(text "$2")
  while IFS=$'\t' read -r kind scope names arg desc; do
    [ "$kind" = option ] || continue
    for name in ${names//,/ }; do
      grep -qF -- "$name" <<<"$page_text" || missing+=" $name"
    done
    if [[ $arg == \{*\} ]]; then
      for choice in $(tr -d '{}' <<<"$arg" | tr ',' ' '); do
        grep -qw -- "$choice" <<<"$page_text" || missing+=" $names=$choice"
      done
    fi
  done <<<"$table"
  while IFS=$'\t' read -r kind name desc; do
    [ "$kind" = command ] && { grep -qw -- "$name" <<<"$page_text" || missing+=" $name"; }
  done <<<"$table"
  [ -z "$missing" ] && pass "$2 names every option" || fail "$2 lacks:$missing"
}
every_option "$probe" tools/man/iommu-probe.1
every_option "$compat" tools/man/iommu-compat.1

# Every key and table of the guest file, from its schema.
keys=$(python3 -c '
import json, sys
schema = json.load(open("schemas/guest.schema.json"))
def walk(node):
    for key, sub in node.get("properties", {}).items():
        print(key)
        walk(sub)
    if "items" in node: walk(node["items"])
    for ref in node.get("$defs", {}).values(): walk(ref)
walk(schema)' | sort -u)
[ -n "$keys" ] || fail "no keys read from the guest schema"
guest_text=$(text tools/man/iommu-guest.5)
missing=
for key in $keys; do
  [ "$key" = "\$schema" ] && continue
  grep -qw -- "$key" <<<"$guest_text" || missing+=" $key"
done
[ -z "$missing" ] && pass "iommu-guest.5 names every key" || fail "iommu-guest.5 lacks:$missing"

prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" --component tools >/dev/null || fail "cmake --install"
for f in share/man/man1/iommu-probe.1 share/man/man1/iommu-compat.1 share/man/man5/iommu-guest.5; do
  [ -f "$prefix/$f" ] && pass "installed $f" || fail "not installed: $f"
done
MANPATH=$prefix/share/man man -w iommu-guest >/dev/null 2>&1 && pass "man finds iommu-guest(5)" ||
  fail "man -w iommu-guest under the prefix"
finish
