// SPDX-License-Identifier: MIT
// Guests from what users already have: a QEMU command line or a libvirt domain, read into the
// same Guest the TOML parser builds, plus the VMM's own rules over those settings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "libcaps/check.h"
#include "libcaps/guest.h"
#include "libcaps/result.h"

namespace caps {

/// What a guest input is, told by its content.
enum class GuestInputKind { kToml, kQemu, kLibvirt };

/// A libvirt domain starts with `<` (after blanks, an XML declaration or comments); a QEMU
/// command line has an argument starting with `-` before any `=` at the start of a line
/// (`-device ...`, `/usr/bin/qemu-system-x86_64 \`); anything else is a guest file.
GuestInputKind detect_guest_input(std::string_view text);

/// "7.2", "10.0", "10.0.3" (the micro release is ignored).
Result<QemuVersion> parse_qemu_version(std::string_view text);

/// The newest QEMU release the VMM rules cite: the default of --qemu-version.
inline constexpr QemuVersion kNewestQemu = {11, 0};

/// Reads a QEMU command line: a file with one argument a line (argv as /proc/PID/cmdline holds
/// it, NULs turned to newlines), or a shell-quoted line as `ps` or a libvirt log prints it
/// (backslash-newline continues it). `-device` and `-object` take QEMU's key=value lists (`,,`
/// escapes a comma) or JSON. Positions are the line and column of each option in `text`; every
/// setting also records its argument number and option name. Options no rule reads are kept
/// as "unchecked". Errors (the file, a line and column, a message) only for text that is not a
/// command line or values validate_guest refuses.
tl::expected<Guest, std::vector<Error>> parse_qemu_guest(std::string_view text,
                                                         std::string_view file,
                                                         QemuVersion version = kNewestQemu);

/// Reads a libvirt domain XML (`virsh dumpxml`): `<iommu model>` and its `<driver>`, `<hostdev
/// mode='subsystem' type='pci'>`, `<memory>`, `<vcpu>`, `<features><ioapic>`, `<iommufd>`,
/// `<os><type machine>`, `<cpu><maxphysaddr>`. Positions are line:col in `text`.
tl::expected<Guest, std::vector<Error>> parse_libvirt_guest(std::string_view text,
                                                            std::string_view file,
                                                            QemuVersion version = kNewestQemu);

/// The guest as QEMU options ("-machine q35,kernel-irqchip=split -device intel-iommu,...", then
/// a -device vfio-pci per device) that QEMU `version` accepts and that ask no more than the
/// guest: widths rounded down to the values QEMU takes; what QEMU cannot express left out.
std::string write_qemu_args(const Guest& guest, QemuVersion version = kNewestQemu);

/// The same as a libvirt domain holding only what bears on the vIOMMU: <iommu> with its <driver>,
/// the <features><ioapic> intremap needs, and a <hostdev> per device.
std::string write_libvirt_iommu(const Guest& guest, QemuVersion version = kNewestQemu);

/// The VMM's own rules (QEMU realize-time errors, libvirt validation) over guest.vmm, all at once,
/// judged for guest.vmm.qemu_version. Empty for a TOML guest.
std::vector<Finding> check_vmm(const Guest& guest);

/// One VMM rule: its id, the QEMU (or libvirt) source that enforces it and the releases it holds
/// for, as docs/rules.md lists them.
struct VmmRuleInfo {
  std::string_view id;
  std::string_view source;
  std::string_view versions;
};
std::vector<VmmRuleInfo> vmm_rules();

}  // namespace caps
