// SPDX-License-Identifier: MIT
// Hosts from kernel logs: the units, groups and platform facts a `dmesg`, `dmesg -T`,
// `journalctl -k` or a pasted bug report states, decoded as the sysfs reader decodes them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "libcaps/model.h"

namespace caps {

/// Where a fact of the host came from: "kernel_release" -> "from the log, line 1".
struct LogFact {
  std::string fact;
  std::string evidence;

  bool operator==(const LogFact&) const = default;
};

/// What a kernel log gave.
struct KernelLogRead {
  /// backend "log", root the source name. Units carry their evidence per property (each
  /// ending in "(from the log, line N)"); the why-no-unit sentences name their lines too.
  Host host;
  size_t lines = 0;    // lines of text read
  size_t known = 0;    // lines a rule below recognized (used, or known to carry nothing)
  size_t unknown = 0;  // every other line: counted, never an error
  /// Provenance of the facts that have no evidence slot in the model (platform, groups).
  std::vector<LogFact> provenance;
};

/// Reads a kernel log. Tolerates dmesg timestamps (`[    1.234]`, `[Wed Dec  2 ...]`), syslog
/// and journalctl prefixes (`Dec 02 16:42:02 host kernel: `), `<6>` levels, `kern  :info  : `,
/// CR line ends, and known lines wrapped onto the next line. Pure: text plus a source name.
///
/// The lines it knows (kernel format strings cited in kernel_log.cc and docs/kernel-log.md):
/// VT-d `DMAR: dmarN: reg_base_addr .. ver M:m cap .. ecap ..`; AMD-Vi `Extended features
/// (EFR[, EFR2]):`; arm-smmu-v3 `ias N-bit, oas N-bit (features 0x..)`; `Adding to iommu
/// group N` and `Removing from iommu group N`; `Linux version`; `Command line:`; the ACPI
/// table list; and the lines that say why there is no IOMMU.
KernelLogRead read_kernel_log(std::string_view text, std::string_view source_name);

/// The message of one log line with its timestamp and syslog prefixes removed.
std::string_view kernel_log_message(std::string_view line);

}  // namespace caps
