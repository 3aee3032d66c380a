#!/bin/sh
# SPDX-License-Identifier: MIT
# Snapshots a host's IOMMU-relevant sysfs (and /proc/cmdline) into a fixture tree OUT that the
# tools read with --sysfs-root OUT, and libudev reads under umockdev (UMOCKDEV_DIR=OUT).
#
# Usage: fake-sysfs/gather.sh [--from ROOT] [--acpi-tables] [--force] OUT
#   --from ROOT     read ROOT/sys and ROOT/proc instead of /sys and /proc (for tests)
#   --acpi-tables   copy DMAR/IVRS/IORT/VIOT contents (root only; they can be large); without
#                   it, only their existence is recorded, as empty files
#   --force         replace an existing OUT
#
# Read-only on the host: files are read with `timeout 2 cat`, symlinks recreated with the text
# `readlink` gives, directories made with mkdir. Never read: resource*, rom, remove, rescan,
# reset, vpd, or any file without a read bit. OUT is built in OUT.tmp.XXXXXX beside it and
# moved into place.
#
# Plain POSIX sh: it runs under dash and under busybox alone (a guest's initramfs), so no bash,
# no GNU-only options (find -printf, realpath -e/-m), no process substitution, no `local`.
set -eu
unset CDPATH

prog=gather.sh
version=2
nl='
'
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

for tool in timeout readlink find mktemp; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$prog: needs $tool" >&2; exit 1; }
done
root=$(cd -P "$root" 2>/dev/null && pwd -P) || { echo "$prog: no such root: $root" >&2; exit 1; }
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
tmp=$(cd -P "$tmp" && pwd -P)
chmod 755 "$tmp"

warnings=0
warn() { echo "$prog: warning: $*" >&2; warnings=$((warnings + 1)); }

# Prints PATH with "." and ".." resolved lexically (the target of a link need not exist).
normalize() {
  n_out=
  n_ifs=$IFS
  IFS=/
  set -f
  for n_part in $1; do
    case "$n_part" in
      ''|.) ;;
      ..) n_out=${n_out%/*} ;;
      *) n_out=$n_out/$n_part ;;
    esac
  done
  set +f
  IFS=$n_ifs
  printf '%s\n' "${n_out:-/}"
}

# Prints the absolute path the link LINK points to, physical where it exists (like GNU
# `realpath -m`).
resolve() {
  r_dir=$(cd -P "$(dirname "$1")" 2>/dev/null && pwd -P) || return 1
  r_target=$(readlink "$1") || return 1
  case "$r_target" in
    /*) r_path=$(normalize "$r_target") ;;
    *) r_path=$(normalize "$r_dir/$r_target") ;;
  esac
  if [ -d "$r_path" ]; then
    r_path=$(cd -P "$r_path" && pwd -P)
  fi
  printf '%s\n' "$r_path"
}

# Prints the root-relative form of an absolute path under $root ("" if it is outside).
rel_of() {
  case "$1" in
    "$prefix"/*) printf '%s\n' "${1#"$prefix"/}" ;;
    *) printf '\n' ;;
  esac
}

forbidden() {
  case "$1" in
    resource*|rom|remove|rescan|reset|vpd) return 0 ;;
  esac
  return 1
}

# Whether PATH's mode has a read bit for anyone (not whether this user may read it: root may
# read a 0200 file, and the kernel's write-only attributes must stay unread).
has_read_bit() {
  m_mode=$(ls -ld "$1" 2>/dev/null) || return 1
  case "$m_mode" in
    ?r*|????r*|???????r*) return 0 ;;
  esac
  return 1
}

# Copies one regular file REL if its name is allowed and it has a read bit.
copy_file() {
  f_rel=$1
  if forbidden "${f_rel##*/}" || ! has_read_bit "$prefix/$f_rel" || [ -e "$tmp/$f_rel" ]; then
    return 0
  fi
  [ -d "$tmp/${f_rel%/*}" ] || mkdir -p "$tmp/${f_rel%/*}"
  if ! timeout 2 cat "$prefix/$f_rel" > "$tmp/$f_rel" 2>/dev/null; then
    rm -f "$tmp/$f_rel"
    warn "cannot read $prefix/$f_rel (skipped)"
  fi
  return 0
}

# Recreates the link REL with the same target text.
copy_link() {
  l_rel=$1
  if [ -L "$tmp/$l_rel" ]; then return 0; fi
  [ -d "$tmp/${l_rel%/*}" ] || mkdir -p "$tmp/${l_rel%/*}"
  if l_target=$(readlink "$prefix/$l_rel"); then
    ln -s "$l_target" "$tmp/$l_rel"
  else
    warn "cannot read link $prefix/$l_rel (skipped)"
  fi
  return 0
}

# Copies a directory recursively, stopping at child devices (subdirectories with a uevent).
# A work list instead of recursion: POSIX sh functions have no local variables.
copy_tree() {
  t_todo=$1$nl
  while [ -n "$t_todo" ]; do
    t_rel=${t_todo%%"$nl"*}
    t_todo=${t_todo#*"$nl"}
    mkdir -p "$tmp/$t_rel"
    for t_path in "$prefix/$t_rel"/* "$prefix/$t_rel"/.[!.]* "$prefix/$t_rel"/..?*; do
      t_name=${t_path##*/}
      if [ -L "$t_path" ]; then
        copy_link "$t_rel/$t_name"
      elif [ -d "$t_path" ]; then
        [ -e "$t_path/uevent" ] || t_todo=$t_todo$t_rel/$t_name$nl
      elif [ -f "$t_path" ]; then
        copy_file "$t_rel/$t_name"
      fi
    done
  done
  return 0
}

# Copies a device directory's own files and links (not its subdirectories) and the driver and
# bus links that point back at it.
copy_device_files() {
  c_rel=$1
  mkdir -p "$tmp/$c_rel"
  for c_path in "$prefix/$c_rel"/* "$prefix/$c_rel"/.[!.]* "$prefix/$c_rel"/..?*; do
    if [ -L "$c_path" ]; then
      copy_link "$c_rel/${c_path##*/}"
    elif [ -f "$c_path" ]; then
      copy_file "$c_rel/${c_path##*/}"
    fi
  done
  # A function on vfio-pci has its vfio cdev as a child device, vfio-dev/vfioN (Linux 6.6,
  # CONFIG_VFIO_DEVICE_CDEV): its uevent and dev say which /dev/vfio/devices node the iommufd
  # source opens.
  for c_path in "$prefix/$c_rel"/vfio-dev/vfio*; do
    [ -d "$c_path" ] || continue
    for c_file in uevent dev; do
      [ ! -f "$c_path/$c_file" ] || copy_file "$c_rel/vfio-dev/${c_path##*/}/$c_file"
    done
  done
  c_name=${c_rel##*/}
  if [ -L "$prefix/$c_rel/driver" ] && c_abs=$(resolve "$prefix/$c_rel/driver"); then
    c_target=$(rel_of "$c_abs")
    if [ -n "$c_target" ] && [ -L "$prefix/$c_target/$c_name" ]; then
      copy_link "$c_target/$c_name"
    fi
  fi
  if [ -L "$prefix/$c_rel/subsystem" ] && c_abs=$(resolve "$prefix/$c_rel/subsystem"); then
    c_target=$(rel_of "$c_abs")
    case "$c_target" in
      sys/bus/*)
        if [ -L "$prefix/$c_target/devices/$c_name" ]; then
          copy_link "$c_target/devices/$c_name"
        fi
        ;;
    esac
  fi
  return 0
}

# Copies a device (see copy_device_files) and every ancestor up to sys/devices, once each.
done_devices=$nl
copy_device() {
  d_rel=$1
  while :; do
    case "$d_rel" in sys/devices/?*) ;; *) return 0 ;; esac
    case "$done_devices" in *"$nl$d_rel$nl"*) return 0 ;; esac
    done_devices=$done_devices$d_rel$nl
    copy_device_files "$d_rel"
    d_rel=${d_rel%/*}
  done
}

# Copies the devices that the links in DIR (a devices/ directory) point to.
copy_linked_devices() {
  k_dir=$1
  [ -d "$prefix/$k_dir" ] || return 0
  for k_link in "$prefix/$k_dir"/*; do
    [ -L "$k_link" ] || continue
    k_abs=$(resolve "$k_link") || continue
    k_target=$(rel_of "$k_abs")
    [ -z "$k_target" ] || copy_device "$k_target"
  done
  return 0
}

echo "$prog: note: the snapshot can identify this machine (PCI subsystem IDs, the kernel" \
     "command line with disk UUIDs, ACPI tables with --acpi-tables); review $out before" \
     "sharing it" >&2

# IOMMU units: the class links, each unit's directory, its parents, and its devices.
mkdir -p "$tmp/sys/class/iommu"
if [ -d "$prefix/sys/class/iommu" ]; then
  for u_link in "$prefix/sys/class/iommu"/*; do
    [ -L "$u_link" ] || continue
    copy_link "sys/class/iommu/${u_link##*/}"
    u_rel=
    if u_abs=$(resolve "$u_link"); then u_rel=$(rel_of "$u_abs"); fi
    if [ -z "$u_rel" ]; then
      warn "unit ${u_link##*/} points outside $root"
      continue
    fi
    copy_tree "$u_rel"
    copy_device "${u_rel%/*}"
    copy_linked_devices "$u_rel/devices"
  done
fi

# IOMMU groups and their member devices.
if [ -d "$prefix/sys/kernel/iommu_groups" ]; then
  copy_tree sys/kernel/iommu_groups
  for g_dir in "$prefix/sys/kernel/iommu_groups"/*; do
    [ -d "$g_dir" ] || continue
    copy_linked_devices "sys/kernel/iommu_groups/${g_dir##*/}/devices"
  done
fi

# Every PCI function, also those behind no unit: the tools list them all (a guest may name
# one), and on a host without a unit they are all there is.
copy_linked_devices sys/bus/pci/devices

# ACPI tables: contents only when asked. VIOT describes a virtio-iommu.
for table in DMAR IVRS IORT VIOT; do
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
# The kernel release decides version-dependent rules (VFIO group viability). A tree that does
# not have it gets none: uname -r here would name the wrong kernel.
release=
if [ -f "$prefix/proc/sys/kernel/osrelease" ]; then
  mkdir -p "$tmp/proc/sys/kernel"
  if timeout 2 cat "$prefix/proc/sys/kernel/osrelease" > "$tmp/proc/sys/kernel/osrelease" \
      2>/dev/null; then
    release=$(cat "$tmp/proc/sys/kernel/osrelease")
  else
    rm -f "$tmp/proc/sys/kernel/osrelease"
    warn "cannot read $prefix/proc/sys/kernel/osrelease (skipped)"
  fi
fi

# Dangling links (firmware_node and the like) get an empty target directory, as hwloc does.
find "$tmp" -type l | while IFS= read -r x_link; do
  [ -e "$x_link" ] && continue
  x_target=$(resolve "$x_link") || continue
  case "$x_target" in "$tmp"/*) mkdir -p "$x_target" ;; esac
done

{
  echo "# Where the values in this tree came from."
  echo "generated-by: fake-sysfs/gather.sh $version"
  echo "gathered-from: $root"
  echo "gathered-on-kernel: $(uname -r)"
  [ -z "$release" ] || echo "kernel-release: $release"
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
