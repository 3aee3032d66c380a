#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every relative link in the repository's Markdown files (README.md, docs/, every README.md
# below it) must name a file that exists, and a #fragment into a Markdown file one of its
# headings. First the checker proves on a scratch tree that it reports broken links, so this
# test cannot pass by checking nothing.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
checker=tests/docs/check_links.py
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# --- the checker itself, on a scratch tree with known good and broken links -----------------
mkdir -p "$work/tree/docs"
cat > "$work/tree/docs/target.md" <<'MD'
# Target page
## Exit codes (`iommu-compat`)
## Exit codes (`iommu-compat`)
Setext heading
--------------
<a name="explicit"></a>
MD
cat > "$work/tree/README.md" <<'MD'
# Top
[good file](docs/target.md) [good dir](docs/) [good anchor](docs/target.md#target-page)
[code heading](docs/target.md#exit-codes-iommu-compat) [duplicate](docs/target.md#exit-codes-iommu-compat-1)
[setext](docs/target.md#setext-heading) [html](docs/target.md#explicit) [self](#top)
[external](https://example.org/missing) `[in code](missing-in-code.md)`
```
[in a fence](missing-in-fence.md)
```
[ref]: docs/target.md
[broken file](docs/missing.md)
[broken anchor](docs/target.md#no-such-heading)
[broken self](#nowhere)
[escape](../outside.md)
[broken ref]: docs/also-missing.md
MD
expected="README.md:10: docs/missing.md: docs/missing.md does not exist
README.md:11: docs/target.md#no-such-heading: no heading #no-such-heading in docs/target.md
README.md:12: #nowhere: no heading #nowhere in README.md
README.md:13: ../outside.md: points outside the repository
README.md:14: docs/also-missing.md: docs/also-missing.md does not exist"
actual=$(python3 "$checker" "$work/tree" README.md docs/target.md)
status=$?
if [ "$status" -ne 1 ]; then fail "checker self-test: exit $status, expected 1"; fi
if [ "$actual" != "$expected" ]; then
  fail "checker self-test: reported"
  echo "$actual"
  echo "expected:"
  echo "$expected"
fi

# --- the repository's own documents ------------------------------------------------------
mapfile -t files < <(find . \( -name 'build*' -o -name .git -o -name hosts \) -prune -o \
                            -name '*.md' -type f -print | sed 's|^\./||' | sort)
found_readme=0
for f in "${files[@]}"; do [ "$f" = README.md ] && found_readme=1; done
[ "$found_readme" -eq 1 ] || fail "README.md not among the checked files"
echo "checking ${#files[@]} Markdown files"
if ! python3 "$checker" . "${files[@]}"; then fail "broken links (above)"; fi

[ "$failures" -eq 0 ] && { echo "all passed"; exit 0; }
echo "$failures failed"
exit 1
