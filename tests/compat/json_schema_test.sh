#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --format json validates against schemas/iommu-compat.schema.json for every example guest on
# every fixture host (a small validator for the keywords the schema uses: no jsonschema
# package is needed).
# Usage: tests/compat/json_schema_test.sh IOMMU-COMPAT
compat=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
hosts=()
for h in $(fixtures); do hosts+=(--sysfs-root "fake-sysfs/hosts/$h"); done
"$compat" check --format json "${hosts[@]}" "$examples"/*.toml >"$work/all.json" 2>/dev/null
if python3 tests/compat/validate_json.py schemas/iommu-compat.schema.json "$work/all.json"; then
  pass "examples x fixtures valid"
else
  fail "json not valid against the schema"
fi
finish
