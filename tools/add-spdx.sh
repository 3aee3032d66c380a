#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Adds the one-line license header "SPDX-License-Identifier: MIT" to every tracked source file
# that lacks it: C and C++ sources and headers (// comment), CMake files, shell and Python
# scripts, and extensionless scripts with a shell or Python shebang (# comment). The header goes
# on the first line, or after the shebang (and a Python coding line) where there is one. A file
# that already names an SPDX identifier in its first lines is left alone, so running it twice
# changes nothing. Fixture trees and fuzz corpora are data, not sources, and are skipped.
#
# Usage: tools/add-spdx.sh [--check] [REPO]
#   (default)  add the header where missing, and list the files changed
#   --check    change nothing; list the files that lack it and exit 1 if there is any
# REPO defaults to the repository this script is in.
set -euo pipefail

readonly license="MIT"
readonly tag="SPDX-License-Identifier:"
readonly header_lines=5  # an existing header counts only this near the top

check=0
if [ "${1:-}" = "--check" ]; then
  check=1
  shift
fi
repo=${1:-"$(dirname "${BASH_SOURCE[0]}")/.."}
cd "$repo"
if ! git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
  echo "add-spdx.sh: $repo is not a git work tree (the tracked files are the sources)" >&2
  exit 2
fi

# The comment leader for a file, or nothing when the file is not a source file.
leader() {
  local path=$1 base first
  case "$path" in
    fake-sysfs/hosts/* | tests/fuzz/corpus/*) return ;;
  esac
  base=${path##*/}
  case "$base" in
    *.cc | *.cpp | *.cxx | *.c | *.h | *.hh | *.hpp) echo "//" ;;
    CMakeLists.txt | *.cmake | *.sh | *.bash | *.py) echo "#" ;;
    *.*) ;;
    *)
      # Extensionless: a script only if its shebang names a shell or Python.
      IFS= read -r first < "$path" || true
      case "$first" in
        '#!'*sh* | '#!'*python*) echo "#" ;;
      esac
      ;;
  esac
}

has_header() {
  head -n "$header_lines" -- "$1" | grep -q "$tag"
}

# Writes the header into $1 after its shebang (and, in Python, a coding line), changing
# nothing else (GNU sed -i keeps the file's mode and a missing final newline).
add_header() {
  local path=$1 comment=$2 line after=0 first second
  line="$comment $tag $license"
  if [ ! -s "$path" ]; then
    printf '%s\n' "$line" > "$path"
    return
  fi
  first=$(sed -n 1p -- "$path")
  second=$(sed -n 2p -- "$path")
  [[ $first == '#!'* ]] && after=1
  if [[ $path == *.py || $first == '#!'*python* ]]; then
    # PEP 263: the encoding declaration must stay on line 1 or 2.
    local coding='^[[:space:]]*#.*coding[:=]'
    if [ "$after" -eq 1 ] && [[ $second =~ $coding ]]; then
      after=2
    elif [ "$after" -eq 0 ] && [[ $first =~ $coding ]]; then
      after=1
    fi
  fi
  if [ "$after" -eq 0 ]; then
    sed -i -e "1i\\$line" -- "$path"
  else
    sed -i -e "${after}a\\$line" -- "$path"
  fi
}

missing=0
while IFS= read -r -d '' path; do
  [ -f "$path" ] && [ ! -L "$path" ] || continue
  comment=$(leader "$path")
  [ -n "$comment" ] || continue
  has_header "$path" && continue
  missing=$((missing + 1))
  if [ "$check" -eq 1 ]; then
    echo "missing $tag $license: $path"
  else
    add_header "$path" "$comment"
    echo "added: $path"
  fi
done < <(git ls-files -z)

if [ "$check" -eq 1 ] && [ "$missing" -gt 0 ]; then
  echo "$missing tracked source files lack the header; run tools/add-spdx.sh" >&2
  exit 1
fi
exit 0
