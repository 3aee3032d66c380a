// SPDX-License-Identifier: MIT
// `iommu-compat convert`: a guest written in another syntax, and every fact the target syntax
// could not carry, found by reading the written text back and comparing.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "libcaps/guest.h"

namespace tools {

/// The converted text and what it lost or changed ("input_bits: 52 in the input, 48 in the
/// output"), in a fixed order; no losses means the target reads back to the same guest.
struct Conversion {
  std::string text;
  std::vector<std::string> losses;
};

/// Writes `guest` as `to` ("toml", "qemu", "libvirt") for QEMU `version`, reads the text back
/// with that syntax's parser and lists every fact that differs: the guest's own keys (widths,
/// features, devices, pasid_table, pasid_alloc) and the VMM settings of a QEMU or libvirt input.
Conversion convert_guest(const caps::Guest& guest, std::string_view to, caps::QemuVersion version);

}  // namespace tools
