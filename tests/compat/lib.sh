# SPDX-License-Identifier: MIT
# Shared by the iommu-compat CLI tests: run from the repository root, count failures, and a
# scratch directory removed on exit. Each test script sources this after setting `compat`.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
finish() {
  [ "$failures" -eq 0 ] && { echo "all passed"; exit 0; }
  echo "$failures failed"
  exit 1
}
examples=tools/iommu-compat/examples
fixtures() { for d in fake-sysfs/hosts/*/; do [ -f "$d/SOURCE" ] && basename "$d"; done; }
# expect_status WHAT EXPECTED ACTUAL
expect_status() {
  if [ "$3" -eq "$2" ]; then pass "$1: exit $3"; else fail "$1: exit $3, expected $2"; fi
}
