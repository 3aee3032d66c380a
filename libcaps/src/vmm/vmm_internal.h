// SPDX-License-Identifier: MIT
// Shared by the QEMU and libvirt front ends and the VMM rules: lookups over the settings and
// the one mapping from QEMU-spelled settings to the format-neutral viommu facts.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libcaps/guest.h"
#include "libcaps/result.h"

namespace caps::vmm {

/// The last setting called `name` (QEMU lets a later option win), or null.
const VmmSetting* find(const GuestVmm& vmm, std::string_view name);

/// QEMU's bool spellings: on/off, yes/no, true/false (qapi's visitor).
std::optional<bool> parse_bool(std::string_view value);

/// A decimal or 0x integer, nothing trailing.
std::optional<int64_t> parse_int(std::string_view value);

/// A QEMU size (`-m 16G`, `4096`, `1.5G`, `512k`, `0x1000`): qemu_strtosz_MiB in
/// util/cutils.c (a decimal with an optional fraction, or hex; one suffix of B K M G T P E in
/// either case; MiB without one), as bytes; nullopt when QEMU would refuse it, when it is 0,
/// or when it exceeds what a guest file holds (INT64_MAX).
std::optional<uint64_t> parse_size(std::string_view value);

/// The vIOMMU model ("intel-vtd", ...) of a QEMU device type ("intel-iommu", ...), or "".
std::string_view model_of_device(std::string_view device);

/// A viommu fact (its guest-file key below [viommu]) and the option of a QEMU vIOMMU device
/// that carries it: the one mapping derive_guest reads the facts through and the check hints
/// write them back through.
struct FactOption {
  std::string_view device;  // QEMU device type: "intel-iommu", ...
  std::string_view fact;    // "input_bits", "ats", ...
  std::string_view option;  // "aw-bits", "device-iotlb", ...
  /// The only two values QEMU takes (aw-bits 39 or 48, oas 44 or 48), or {0, 0} for a range.
  int narrow = 0;
  int wide = 0;
};
std::span<const FactOption> fact_options();

/// The entry of `device` for `fact`, or null when that QEMU device has no option carrying it.
const FactOption* option_of_fact(std::string_view device, std::string_view fact);

/// libvirt's <driver> attribute of <iommu> for a QEMU option ("aw-bits" -> "aw_bits"), or ""
/// (libvirt's src/qemu/qemu_command.c, qemuBuildIOMMUCommandLine).
std::string_view libvirt_attribute_of(std::string_view option);

/// libvirt's <iommu model> for a QEMU device type ("intel-iommu" -> "intel"), or "".
std::string_view libvirt_model_of(std::string_view device);

/// The QEMU device type of a guest's vIOMMU as the user wrote it: the -device type, "smmuv3"
/// for -machine virt,iommu=smmuv3, or "" when there is none.
std::string_view viommu_device(const GuestVmm& vmm);

/// What both front ends start from: an empty guest of `syntax` read from `file` for QEMU
/// `version`.
Guest start_guest(std::string_view file, GuestSyntax syntax, QemuVersion version);

/// What both front ends end with, once guest.vmm.settings are read: fills guest.viommu and
/// guest.devices from them (QEMU names and defaults for guest.vmm.qemu_version), then runs
/// validate_guest. Errors: no vIOMMU, or what validation refuses.
tl::expected<Guest, std::vector<Error>> finish_guest(Guest guest);

}  // namespace caps::vmm
