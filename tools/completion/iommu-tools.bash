# SPDX-License-Identifier: MIT
# bash completion for iommu-probe and iommu-compat. The options, their values and the
# subcommands come from the tool itself (`TOOL --list-options`, its CLI11 option table), so the
# completion follows every change to the tools. Plain bash: no bash-completion helpers needed.

# The table of the tool in $1, cached per tool path for the shell's life.
_iommu_tools_table() {
  local key=${1//[^a-zA-Z0-9]/_}
  local var="_iommu_tools_table_$key"
  if [[ -z ${!var-} ]]; then
    printf -v "$var" '%s' "$("$1" --list-options 2>/dev/null)"
  fi
  _iommu_tools_rows=${!var}
}

# Unit names under the --sysfs-root given on the line (the last one), else the live host.
_iommu_tools_units() {
  local root=/ i
  for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
    [[ ${COMP_WORDS[i]} == --sysfs-root ]] && root=${COMP_WORDS[i + 1]}
  done
  root=${root/#\~/$HOME}
  local unit names=()
  for unit in "$root"/sys/class/iommu/*; do
    [[ -e $unit ]] && names+=("${unit##*/}")
  done
  compgen -W "${names[*]}" -- "$1"
}

# Values of an argument of type $1 (a table ARG) completing the word $2.
_iommu_tools_values() {
  local type=$1 cur=$2
  case $type in
    \{*\})
      local choices=${type#\{}
      choices=${choices%\}}
      compgen -W "${choices//,/ }" -- "$cur" ;;
    DIR) compgen -d -- "$cur" ;;
    NAME) _iommu_tools_units "$cur" ;;
    *.toml* | HOST) compgen -d -- "$cur"; compgen -f -X '!*.toml' -- "$cur" ;;  # HOST: a tree or a report
    *) compgen -f -- "$cur" ;;
  esac
}

_iommu_tools() {
  local tool=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]}
  local prev=${COMP_WORDS[COMP_CWORD - 1]}
  # "--format=js": bash splits it at '=' (COMP_WORDBREAKS).
  if [[ $cur == = ]]; then
    prev=${COMP_WORDS[COMP_CWORD - 1]} cur=
  elif [[ $prev == = ]]; then
    prev=${COMP_WORDS[COMP_CWORD - 2]}
  fi
  local _iommu_tools_rows
  _iommu_tools_table "$tool"
  [[ -n $_iommu_tools_rows ]] || return 0

  local kind scope names arg desc commands=() i word
  while IFS=$'\t' read -r kind scope names arg desc; do
    [[ $kind == command ]] && commands+=("$scope")
  done <<<"$_iommu_tools_rows"
  local current=-
  for ((i = 1; i < COMP_CWORD; i++)); do
    for word in "${commands[@]}"; do
      [[ ${COMP_WORDS[i]} == "$word" ]] && current=$word
    done
  done

  local options=() positional=
  while IFS=$'\t' read -r kind scope names arg desc; do
    [[ $scope == "$current" ]] || continue
    if [[ $kind == argument ]]; then
      positional=$arg
      continue
    fi
    [[ $kind == option ]] || continue
    local name
    for name in ${names//,/ }; do
      options+=("$name")
      if [[ $prev == "$name" && $arg != - ]]; then
        COMPREPLY=($(_iommu_tools_values "$arg" "$cur"))
        return 0
      fi
    done
  done <<<"$_iommu_tools_rows"

  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "${options[*]}" -- "$cur"))
  elif [[ $current == - && ${#commands[@]} -gt 0 ]]; then
    COMPREPLY=($(compgen -W "${commands[*]}" -- "$cur"))
  elif [[ -n $positional ]]; then
    COMPREPLY=($(_iommu_tools_values "$positional" "$cur"))
  fi
  return 0
}
complete -F _iommu_tools iommu-probe iommu-compat
