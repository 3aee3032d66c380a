// SPDX-License-Identifier: MIT
// Reading a whole host through a Source: units (all three layouts), groups, devices, and the
// reasons a host has no unit.
#pragma once

#include <string>
#include <vector>

#include "libcaps/model.h"
#include "libcaps/source.h"

namespace caps {

struct ReadOptions {
  /// Read only these units (by name); empty means every unit. Unknown names are reported
  /// as error diagnostics on the host.
  std::vector<std::string> units;
  /// Read devices' PCI config space for PASID/ATS/PRI.
  bool read_pci_config = true;
};

/// Reads everything the source shows. Never fails as a whole: every problem becomes a
/// diagnostic on the host or unit it concerns, and values that were not read stay unknown.
Host read_host(Source& source, const ReadOptions& options = {});

/// Reads one unit directory (layout detection, registers, normalization, devices/).
Unit read_unit(Source& source, const std::string& name);

/// Parses PCI config space bytes (the first 64, 256 or all 4096). Pure.
PciInfo parse_pci_config(std::string_view config);

/// PCI config facts read from an open `config` file.
struct PciConfigRead {
  ReadStatus status = ReadStatus::kError;  // kTooLarge past kConfigLimit bytes
  PciInfo info;                            // info.config_size: the bytes a whole read gives
  int error = 0;

  bool ok() const { return status == ReadStatus::kOk; }
};

/// What parse_pci_config says about the file's whole content, reading only the header fields
/// and the extended capability chain at their offsets, about 30 bytes instead of 4096: on a
/// live host every config dword read is a config cycle, a trap to the hypervisor in a VM.
/// Used by read_host.
PciConfigRead read_pci_config(PositionedFile& config);

}  // namespace caps
