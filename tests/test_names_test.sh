#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every ctest name is readable and stable, so `ctest -R NAME` can select any test: only
# [A-Za-z0-9_./-], no "# GetParam() = 48-byte object <...>" dump of a parameter's bytes (heap
# pointers that change every build), the same in two listings, and no two alike.
# Usage: tests/test_names_test.sh CTEST BUILD_DIR
set -uo pipefail

ctest=$1
build=$2
list() { "$ctest" --test-dir "$build" -N | sed -n 's/^ *Test *#[0-9]*: //p'; }

first=$(list)
second=$(list)
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

total=$(printf '%s\n' "$first" | grep -c .)
# The parameterized tests (Instance/Suite.Test/param): there must be some, or this proves little.
params=$(printf '%s\n' "$first" | grep -c '^[^/]*/[^/]*\.[^/]*/')
[ "$params" -gt 0 ] || fail "no parameterized test found among $total"

bad=$(printf '%s\n' "$first" | grep -Ev '^[A-Za-z0-9_./-]+$')
[ -z "$bad" ] || fail "$(printf '%s\n' "$bad" | grep -c .) names with characters other than [A-Za-z0-9_./-]:"$'\n'"$(printf '%s\n' "$bad" | head -n 5)"
[ "$first" = "$second" ] || fail "two listings differ"
dups=$(printf '%s\n' "$first" | sort | uniq -d)
[ -z "$dups" ] || fail "names listed twice:"$'\n'"$dups"

[ "$failures" -eq 0 ] || exit 1
echo "ok: $total names, $params parameterized, all readable and stable"
