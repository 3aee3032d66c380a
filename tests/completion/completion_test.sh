#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The bash completion is run as bash runs it (COMP_WORDS, COMP_CWORD, the function, COMPREPLY)
# and must offer every option and choice the tools' --help lists, no more; unit names come from
# --sysfs-root, files and directories from the disk. The zsh completion parses, and lists the
# same options when zsh is installed. `cmake --install` puts both where the shells look.
# Usage: tests/completion/completion_test.sh IOMMU-PROBE IOMMU-COMPAT BUILD_DIR
probe=$(realpath "$1")
compat=$(realpath "$2")
build=$(realpath "$3")
. "$(dirname "$0")/../compat/lib.sh"
script=tools/completion/iommu-tools.bash

# complete TOOL WORD... : what bash offers for the last word (one per line, sorted).
complete_words() {
  bash --norc --noprofile -c '
    . "$0"
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    _iommu_tools
    printf "%s\n" "${COMPREPLY[@]}" | sort' "$script" "$@"
}
# expect_offer WHAT "EXPECTED WORDS" TOOL WORD...
expect_offer() {
  local what=$1 expected=$2
  shift 2
  local got
  got=$(complete_words "$@" | tr '\n' ' ' | sed 's/ $//')
  if [ "$got" = "$expected" ]; then pass "$what"; else fail "$what: offered '$got', expected '$expected'"; fi
}

# Options and choices as --help prints them: "  -q,--quiet", "  --format TEXT:{a,b} ...".
help_options() { "$@" --help | grep -oE '^ +(-[a-zA-Z],)?--[a-z-]+' | tr ',' '\n' | tr -d ' ' | sort -u; }
help_choices() {
  local option=$1
  shift
  "$@" --help | grep -E "^ +$option " | grep -oE '\{[^}]*\}' | tr -d '{}' | tr ',' ' '
}

# Every option in --help is offered after "-", and nothing else.
for scope in "$probe" "$compat check" "$compat suggest" "$compat migrate" "$compat baseline"; do
  # shellcheck disable=SC2086
  expected=$(help_options $scope | tr '\n' ' ' | sed 's/ $//')
  [ -n "$expected" ] || fail "no options parsed from $scope --help"
  # shellcheck disable=SC2086
  expect_offer "options of $(basename "${scope%% *}")${scope#* }" "$expected" $scope -
done
expect_offer "subcommands" "baseline check convert migrate suggest" "$compat" ""
expect_offer "subcommand prefix" "suggest" "$compat" s

# Choices, as --help lists them.
expect_offer "--format of iommu-probe" "$(help_choices --format "$probe" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" "$probe" --format ""
expect_offer "--format=" "json" "$probe" --format = j
expect_offer "--backend" "auto dir udev" "$probe" --backend ""
expect_offer "--color" "always auto never" "$probe" --check --color ""
expect_offer "check --format" "github json junit text" "$compat" check --format ""
expect_offer "suggest --model" "amd-vi arm-smmu-v3 intel-vtd virtio-iommu" "$compat" suggest --model ""
expect_offer "migrate --format" "json text" "$compat" migrate --format ""
expect_offer "baseline --model" "amd-vi arm-smmu-v3 intel-vtd virtio-iommu" "$compat" baseline --model ""
expect_offer "migrate --to takes a tree" "fake-sysfs/hosts/intel-client fake-sysfs/hosts/intel-icx-2s" \
  "$compat" migrate --to fake-sysfs/hosts/intel-
models=$(help_choices --model "$compat" suggest | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')
[ "$models" = "amd-vi arm-smmu-v3 intel-vtd virtio-iommu" ] || fail "suggest --help models: $models"

# Unit names from the tree given with --sysfs-root, as option values and as positional words.
root=fake-sysfs/hosts/intel-icx-2s
expect_offer "--unit from --sysfs-root" "dmar0 dmar1 dmar10 dmar2 dmar3" "$probe" --sysfs-root $root --unit ""
expect_offer "positional unit" "dmar1 dmar10" "$probe" --sysfs-root $root dmar1
expect_offer "--unit on a host without units" "" "$probe" --sysfs-root fake-sysfs/hosts/no-iommu --unit ""

# Files: directories for DIR, *.toml and directories for guests and reports.
expect_offer "--sysfs-root is a directory" "fake-sysfs/hosts/intel-client fake-sysfs/hosts/intel-icx-2s" \
  "$probe" --sysfs-root fake-sysfs/hosts/intel-
expect_offer "guest files" "tools/iommu-compat/examples/too-many-pasid-bits.toml" \
  "$compat" check tools/iommu-compat/examples/too-many-p
expect_offer "--host takes reports" "tests/golden/no-iommu.toml" "$compat" check --host tests/golden/no-iommu.t
expect_offer "--output is any file" "tests/golden/no-iommu.check.json tests/golden/no-iommu.check.txt" \
  "$probe" --output tests/golden/no-iommu.check

# A tool that is not there: nothing offered, no error.
expect_offer "missing tool" "" /nonexistent/iommu-probe --f

# zsh: the file parses; with zsh installed, its table-driven specs list the same options.
if command -v zsh >/dev/null; then
  zsh -n tools/completion/_iommu-tools && pass "zsh file parses" || fail "zsh syntax"
  # _arguments replaced by a stub that prints the specs the completion builds.
  zsh_options() {
    zsh -f -c '
      _arguments() { shift 2; printf "%s\n" "$@"; }
      words=("${@:2}" ""); CURRENT=$#words
      source "$1"' _ tools/completion/_iommu-tools "$@" |
      sed -nE 's/^\*(-[a-zA-Z]|--[a-z-]+).*/\1/p' | sort -u
  }
  for scope in "$probe" "$compat check" "$compat suggest" "$compat migrate" "$compat baseline"; do
    # shellcheck disable=SC2086
    [ "$(zsh_options $scope)" = "$(help_options $scope)" ] && pass "zsh: options of ${scope##*/}" ||
      fail "zsh: options of ${scope##*/} differ from --help: $(zsh_options $scope | tr '\n' ' ')"
  done
  got=$(zsh -f -c '_arguments() { shift 2; printf "%s\n" "$@"; }; words=("$2" ""); CURRENT=2
    source "$1"' _ tools/completion/_iommu-tools "$compat" | grep '^1:')
  [ "$got" = "1:command:(check suggest convert migrate baseline)" ] && pass "zsh: subcommands" || fail "zsh subcommands: $got"
else
  echo "skip: zsh is not installed (apt-get install zsh); its file was not run"
fi

# cmake --install: both files where the shells look; the installed bash file registers both tools.
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" --component tools >/dev/null || fail "cmake --install"
for f in share/bash-completion/completions/iommu-probe share/bash-completion/completions/iommu-compat \
  share/zsh/site-functions/_iommu-tools; do
  [ -f "$prefix/$f" ] && pass "installed $f" || fail "not installed: $f"
done
registered=$(bash --norc -c '. "$1"; complete -p iommu-probe iommu-compat' _ \
  "$prefix/share/bash-completion/completions/iommu-probe" | wc -l)
[ "$registered" = 2 ] && pass "installed file registers both tools" || fail "complete -p: $registered"
finish
