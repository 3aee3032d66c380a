#!/usr/bin/env bash
# Snapshots a host's IOMMU-relevant sysfs (and /proc/cmdline) into a fixture tree OUT that the
# tools read with --sysfs-root OUT, and libudev reads under umockdev (UMOCKDEV_DIR=OUT).
#
# Usage: fake-sysfs/gather.sh [--from ROOT] [--acpi-tables] [--force] OUT
#   --from ROOT     read ROOT/sys and ROOT/proc instead of /sys and /proc (for tests)
#   --acpi-tables   copy DMAR/IVRS/IORT contents (root only; they can be large); without it,
#                   only their existence is recorded, as empty files
#   --force         replace an existing OUT
#
# Read-only on the host: files are read with `timeout 2 cat`, symlinks copied with `cp -P`,
# directories made with mkdir. Never read: resource*, rom, remove, rescan, reset, vpd, or any
# file without a read bit. OUT is built in OUT.tmp.XXXXXX beside it and moved into place.
set -euo pipefail

prog=gather.sh
version=1
usage() { sed -n '5,9s/^# \{0,1\}//p' "$0" >&2; exit 2; }

root=/
acpi=0
force=0
out=
while [ $# -gt 0 ]; do
  case "$1" in
    --from) [ $# -ge 2 ] || usage; root=$2; shift 2 ;;
    --from=*) root=${1#--from=}; shift ;;
    --acpi-tables) acpi=1; shift ;;
    --force) force=1; shift ;;
    -h|--help) usage ;;
    -*) echo "$prog: unknown option $1" >&2; usage ;;
    *) [ -z "$out" ] || usage; out=$1; shift ;;
  esac
done
[ -n "$out" ] || usage

root=$(realpath -e "$root") || { echo "$prog: no such root: $root" >&2; exit 1; }
[ -d "$root/sys" ] || { echo "$prog: $root/sys is not a directory" >&2; exit 1; }
prefix=${root%/}   # "" for the real root, so "$prefix/sys/..." is an absolute path either way
out=${out%/}
if [ -e "$out" ] || [ -L "$out" ]; then
  if [ "$force" -ne 1 ]; then
    echo "$prog: $out exists; use --force to replace it" >&2
    exit 1
  fi
fi
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d "$out.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

warnings=0
warn() { echo "$prog: warning: $*" >&2; warnings=$((warnings + 1)); }

# Root-relative form of an absolute path under $root ("" if it is outside).
rel_of() {
  local p=$1
  case "$p" in
    "$prefix"/*) printf '%s' "${p#"$prefix"/}" ;;
    *) printf '' ;;
  esac
}

forbidden() {
  case "$1" in
    resource*|rom|remove|rescan|reset|vpd) return 0 ;;
  esac
  return 1
}

# Copies one regular file REL if its name is allowed and it has a read bit (MODE is octal).
copy_file() {
  local rel=$1 mode=$2 name=${1##*/}
  forbidden "$name" && return 0
  (( (8#$mode & 8#444) != 0 )) || return 0
  [ -e "$tmp/$rel" ] && return 0
  [ -d "$tmp/${rel%/*}" ] || mkdir -p "$tmp/${rel%/*}"
  if ! timeout 2 cat "$prefix/$rel" > "$tmp/$rel" 2>/dev/null; then
    rm -f "$tmp/$rel"
    warn "cannot read $prefix/$rel (skipped)"
  fi
}

copy_link() {
  local rel=$1
  [ -L "$tmp/$rel" ] && return 0
  [ -d "$tmp/${rel%/*}" ] || mkdir -p "$tmp/${rel%/*}"
  cp -P "$prefix/$rel" "$tmp/$rel"
}

# Lists DIR's entries as "TYPE MODE NAME" lines (TYPE f, l, d, ...).
entries() { find "$prefix/$1" -mindepth 1 -maxdepth 1 -printf '%y %m %f\n' 2>/dev/null | sort -k3; }

# Copies a directory recursively, stopping at child devices (subdirectories with a uevent).
copy_tree() {
  local rel=$1 type mode name
  mkdir -p "$tmp/$rel"
  while read -r type mode name; do
    case "$type" in
      f) copy_file "$rel/$name" "$mode" ;;
      l) copy_link "$rel/$name" ;;
      d) [ -e "$prefix/$rel/$name/uevent" ] || copy_tree "$rel/$name" ;;
    esac
  done < <(entries "$rel")
}

declare -A done_dev=()

# Copies a device directory's own files and links (not its subdirectories), the driver and bus
# links that point back at it, and the same for every ancestor up to sys/devices.
copy_device() {
  local rel=$1 type mode name target
  case "$rel" in sys/devices/?*) ;; *) return 0 ;; esac
  [ -n "${done_dev[$rel]:-}" ] && return 0
  done_dev[$rel]=1
  mkdir -p "$tmp/$rel"
  while read -r type mode name; do
    case "$type" in
      f) copy_file "$rel/$name" "$mode" ;;
      l) copy_link "$rel/$name" ;;
    esac
  done < <(entries "$rel")
  name=${rel##*/}
  if [ -L "$prefix/$rel/driver" ]; then
    target=$(rel_of "$(realpath -m "$prefix/$rel/driver")")
    if [ -n "$target" ] && [ -L "$prefix/$target/$name" ]; then copy_link "$target/$name"; fi
  fi
  if [ -L "$prefix/$rel/subsystem" ]; then
    target=$(rel_of "$(realpath -m "$prefix/$rel/subsystem")")
    case "$target" in
      sys/bus/*) [ -L "$prefix/$target/devices/$name" ] && copy_link "$target/devices/$name" ;;
    esac
  fi
  copy_device "${rel%/*}"
}

# Copies the devices that the links in DIR (a devices/ directory) point to.
copy_linked_devices() {
  local dir=$1 link target
  [ -d "$prefix/$dir" ] || return 0
  for link in "$prefix/$dir"/*; do
    [ -L "$link" ] || continue
    target=$(rel_of "$(realpath -m "$link")")
    [ -n "$target" ] && copy_device "$target"
  done
  return 0
}

echo "$prog: note: the snapshot can identify this machine (PCI subsystem IDs, the kernel" \
     "command line with disk UUIDs, ACPI tables with --acpi-tables); review $out before" \
     "sharing it" >&2

# IOMMU units: the class links, each unit's directory, its parents, and its devices.
mkdir -p "$tmp/sys/class/iommu"
if [ -d "$prefix/sys/class/iommu" ]; then
  for link in "$prefix/sys/class/iommu"/*; do
    [ -L "$link" ] || continue
    unit=$(rel_of "$(realpath -m "$link")")
    copy_link "sys/class/iommu/${link##*/}"
    [ -n "$unit" ] || { warn "unit ${link##*/} points outside $root"; continue; }
    copy_tree "$unit"
    copy_device "${unit%/*}"
    copy_linked_devices "$unit/devices"
  done
fi

# IOMMU groups and their member devices.
if [ -d "$prefix/sys/kernel/iommu_groups" ]; then
  copy_tree sys/kernel/iommu_groups
  for group in "$prefix/sys/kernel/iommu_groups"/*; do
    copy_linked_devices "$(rel_of "$group")/devices"
  done
fi

# ACPI tables: contents only when asked.
for table in DMAR IVRS IORT; do
  src=$prefix/sys/firmware/acpi/tables/$table
  [ -e "$src" ] || continue
  mkdir -p "$tmp/sys/firmware/acpi/tables"
  if [ "$acpi" -eq 1 ]; then
    timeout 5 cat "$src" > "$tmp/sys/firmware/acpi/tables/$table" 2>/dev/null ||
      { : > "$tmp/sys/firmware/acpi/tables/$table"; warn "cannot read $src (kept as empty)"; }
  else
    : > "$tmp/sys/firmware/acpi/tables/$table"
  fi
done

mkdir -p "$tmp/proc"
if ! timeout 2 cat "$prefix/proc/cmdline" > "$tmp/proc/cmdline" 2>/dev/null; then
  warn "cannot read $prefix/proc/cmdline (wrote an empty one)"
  : > "$tmp/proc/cmdline"
fi

# Dangling links (firmware_node and the like) get an empty target directory, as hwloc does.
while IFS= read -r -d '' link; do
  [ -e "$link" ] && continue
  target=$(realpath -m "$link")
  case "$target" in "$tmp"/*) mkdir -p "$target" ;; esac
done < <(find "$tmp" -type l -print0)

{
  echo "# Where the values in this tree came from."
  echo "generated-by: fake-sysfs/gather.sh $version"
  echo "gathered-from: $root"
  echo "gathered-on-kernel: $(uname -r)"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  if [ "$acpi" -eq 1 ]; then
    echo "acpi-tables: contents copied"
  else
    echo "acpi-tables: existence only (empty files)"
  fi
  if [ -f "$prefix/SOURCE" ] && [ "$root" != / ]; then
    echo "# SOURCE of the tree this was gathered from:"
    sed 's/^/# | /' "$prefix/SOURCE"
  fi
} > "$tmp/SOURCE"

if [ -e "$out" ] || [ -L "$out" ]; then
  old=$(mktemp -d "$out.old.XXXXXX")
  mv "$out" "$old/tree"
  mv "$tmp" "$out"
  rm -rf "$old"
else
  mv "$tmp" "$out"
fi
trap - EXIT
echo "$prog: wrote $out ($warnings warnings)" >&2
