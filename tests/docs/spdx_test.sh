#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tools/add-spdx.sh and the license headers.
#   spdx_test.sh script   the script on a scratch repository: it finds every kind of source
#                         file without the header, adds it in the right place, changes nothing
#                         else (modes, missing final newlines, data files), and a second run
#                         changes nothing
#   spdx_test.sh repo     every tracked source file of this repository has the header
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
script=$PWD/tools/add-spdx.sh
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
finish() {
  [ "$failures" -eq 0 ] && { echo "all passed"; exit 0; }
  echo "$failures failed"
  exit 1
}

if [ "${1:-}" = "repo" ]; then
  if ! git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
    echo "not a git work tree: nothing to check"
    exit 77
  fi
  "$script" --check . || fail "tracked source files without the header (above)"
  finish
fi

command -v git > /dev/null || { echo "git not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo=$work/repo
mkdir -p "$repo/src" "$repo/fake-sysfs/hosts/h/sys" "$repo/tests/fuzz/corpus/f" "$repo/.ci"
cd "$repo" || exit 1
printf '// What a.cc holds.\nint a;\n' > src/a.cc
printf '#pragma once\n' > src/a.h
printf '// SPDX-License-Identifier: MIT\n// Already has it.\n' > src/done.cc
printf '#!/usr/bin/env bash\n# SPDX-License-Identifier: MIT\necho done\n' > src/done.sh
printf 'cmake_minimum_required(VERSION 3.25)\n' > CMakeLists.txt
printf 'set(X 1)\n' > src/x.cmake
printf '#!/usr/bin/env bash\necho hi\n' > src/run.sh
printf '#!/usr/bin/env bash\nset -e\n' > .ci/run
printf '#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\nprint(1)' > src/tool.py  # no final newline
printf 'print(2)\n' > src/plain.py
printf 'data\n' > src/notes.txt
printf '#!not a script, data\n' > src/blob
printf '0\n' > fake-sysfs/hosts/h/sys/x.sh
printf 'int fuzz;\n' > tests/fuzz/corpus/f/seed.cc
: > src/empty.h
chmod 755 src/run.sh .ci/run src/tool.py
git init -q . && git add -A && git -c user.name=t -c user.email=t@localhost commit -qm base

expected_missing="src/a.cc src/a.h CMakeLists.txt src/x.cmake src/run.sh .ci/run src/tool.py src/plain.py src/empty.h"
listed=$("$script" --check "$repo" 2> /dev/null)
status=$?
[ "$status" -eq 1 ] || fail "--check with files missing the header: exit $status, expected 1"
for f in $expected_missing; do
  grep -qx "missing SPDX-License-Identifier: MIT: $f" <<< "$listed" || fail "--check does not list $f"
done
[ "$(wc -l <<< "$listed")" -eq 9 ] || fail "--check lists $(wc -l <<< "$listed") files, expected 9: $listed"
git diff --quiet || fail "--check changed files"

"$script" "$repo" > /dev/null || fail "add-spdx.sh: exit $?"
# expect FILE CONTENT: the file is exactly CONTENT (printf format).
expect() {
  local want
  want=$(printf "$2"; echo x)
  [ "$(cat "$1"; echo x)" = "$want" ] || { fail "$1 is:"; cat -A "$1"; }
}
expect src/a.cc '// SPDX-License-Identifier: MIT\n// What a.cc holds.\nint a;\n'
expect src/a.h '// SPDX-License-Identifier: MIT\n#pragma once\n'
expect src/empty.h '// SPDX-License-Identifier: MIT\n'
expect CMakeLists.txt '# SPDX-License-Identifier: MIT\ncmake_minimum_required(VERSION 3.25)\n'
expect src/x.cmake '# SPDX-License-Identifier: MIT\nset(X 1)\n'
expect src/run.sh '#!/usr/bin/env bash\n# SPDX-License-Identifier: MIT\necho hi\n'
expect .ci/run '#!/usr/bin/env bash\n# SPDX-License-Identifier: MIT\nset -e\n'
expect src/tool.py '#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n# SPDX-License-Identifier: MIT\nprint(1)'
expect src/plain.py '# SPDX-License-Identifier: MIT\nprint(2)\n'
for f in src/run.sh .ci/run src/tool.py; do
  [ -x "$f" ] || fail "$f lost its executable mode"
done
unchanged=$(git diff --name-only -- src/done.cc src/done.sh src/notes.txt src/blob fake-sysfs tests/fuzz)
[ -z "$unchanged" ] || fail "changed files it must leave alone: $unchanged"

"$script" --check "$repo" > /dev/null 2>&1 || fail "--check after adding: exit $?"
git -c user.name=t -c user.email=t@localhost commit -qam headers
again=$("$script" "$repo")
[ -z "$again" ] || fail "second run reported: $again"
git diff --quiet || fail "second run changed files"
finish
