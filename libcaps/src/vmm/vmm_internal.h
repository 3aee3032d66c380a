// SPDX-License-Identifier: MIT
// Shared by the QEMU and libvirt front ends and the VMM rules: lookups over the settings and
// the one mapping from QEMU-spelled settings to the format-neutral viommu facts.
#pragma once

#include <cstdint>
#include <optional>
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

/// The vIOMMU model ("intel-vtd", ...) of a QEMU device type ("intel-iommu", ...), or "".
std::string_view model_of_device(std::string_view device);

/// What both front ends start from: an empty guest of `syntax` read from `file` for QEMU
/// `version`.
Guest start_guest(std::string_view file, GuestSyntax syntax, QemuVersion version);

/// What both front ends end with, once guest.vmm.settings are read: fills guest.viommu and
/// guest.devices from them (QEMU names and defaults for guest.vmm.qemu_version), then runs
/// validate_guest. Errors: no vIOMMU, or what validation refuses.
tl::expected<Guest, std::vector<Error>> finish_guest(Guest guest);

}  // namespace caps::vmm
