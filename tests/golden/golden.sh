# SPDX-License-Identifier: MIT
# Shared by check.sh and update.sh: how each golden variant runs the probe on a fixture host.
# The check variant's golden ends with the exit status ("exit: N"), which --check decides.
# Both run from the repository root and give the probe a relative --sysfs-root, so outputs
# name the root as "fake-sysfs/hosts/<host>" on every machine.
golden_args() {
  local host=$1 variant=$2
  local common=(--backend dir --sysfs-root "fake-sysfs/hosts/$host")
  case "$variant" in
    text) echo "${common[@]} --format text" ;;
    json) echo "${common[@]} --format json" ;;
    toml) echo "${common[@]} --format toml" ;;
    nfd) echo "${common[@]} --format nfd" ;;
    registers) echo "${common[@]} --format text --registers" ;;
    check) echo "${common[@]} --check --color never" ;;
    check-json) echo "${common[@]} --check --format json" ;;
    *) echo "unknown variant $variant" >&2; return 2 ;;
  esac
}
golden_file() {
  local host=$1 variant=$2
  case "$variant" in
    text) echo "tests/golden/$host.txt" ;;
    registers) echo "tests/golden/$host.registers.txt" ;;
    check) echo "tests/golden/$host.check.txt" ;;
    check-json) echo "tests/golden/$host.check.json" ;;
    *) echo "tests/golden/$host.$variant" ;;
  esac
}
