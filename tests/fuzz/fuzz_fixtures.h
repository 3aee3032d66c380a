// SPDX-License-Identifier: MIT
// The fixed hosts and guests the guest and host-report targets check against, and the
// invariants every check() result must keep.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "libcaps/check.h"
#include "libcaps/guest.h"
#include "libcaps/host_report.h"
#include "support/check_agreement.h"

namespace caps::fuzz {

/// A VT-d unit with every fact known, an SMMUv3 unit with most facts unknown, an unknown
/// model, a group with a stray member and devices with and without PCI capabilities.
inline constexpr std::string_view kHostReport = R"(schema = "iommu-probe/2"
[platform]
acpi_tables = ["DMAR"]
why_no_units = []
[[unit]]
name = "dmar0"
model = "intel-vtd"
layout = "intel-iommu"
devices = ["0000:3b:00.0", "0000:3b:00.1"]
[unit.caps]
input_bits = 57
output_bits = 52
asid_bits = 16
ssid_bits = 20
httu = "access+dirty"
stall = "disabled"
btm = false
pgtable_formats = ["vtd-fs-48", "vtd-ss-48"]
nested = true
ats = true
page_requests = true
dirty_tracking = true
scalable_mode = true
[[unit]]
name = "smmu3.0x9050000"
model = "arm-smmu-v3"
layout = "generic"
devices = ["0000:00:02.0"]
[unit.caps]
asid_bits = 16
ssid_bits = 16
httu = "access"
stall = "force"
[[unit]]
name = "mystery0"
model = "unknown"
layout = "none"
devices = []
[[group]]
id = 3
type = "DMA"
devices = ["0000:3b:00.0", "0000:3b:00.1"]
reserved_regions = [{start = "0xfee00000", end = "0xfeefffff", type = "msi"}]
[[group]]
id = 7
devices = ["0000:00:02.0"]
[[device]]
name = "0000:3b:00.0"
unit = "dmar0"
group = 3
driver = "vfio-pci"
[device.pci]
vendor = "0x15b3"
device = "0x101d"
class = "0x020000"
header_type = 0
pasid = {max_width = 20, exec = false, priv = true}
ats = true
pri = true
[[device]]
name = "0000:3b:00.1"
unit = "dmar0"
group = 3
driver = "mlx5_core"
[[device]]
name = "0000:00:02.0"
unit = "smmu3.0x9050000"
group = 7
[end]
units = 3
groups = 2
devices = 3
diagnostics = 0
)";

/// Guests that reach most rules: PASID table and allocation, devices, nesting.
inline constexpr std::string_view kGuests[] = {
    R"(format = 1
[viommu]
model = "intel-vtd"
input_bits = 48
asid_bits = 16
ssid_bits = 20
httu = "access+dirty"
pgtable_format = "vtd-fs-48"
nested = true
ats = true
page_requests = true
dirty_tracking = true
[[device]]
bdf = "0000:3b:00.0"
[pasid_table]
version = 1
bytes = 32
model = "intel"
base_ptr = 0x7f000000
pasid_bits = 20
[pasid_alloc]
min = 1
max = 0xfffff
count = 512
)",
    R"(format = 1
[viommu]
model = "arm-smmu-v3"
input_bits = 48
output_bits = 44
ssid_bits = 16
httu = "access"
stall = "disabled"
btm = true
pgtable_format = "lpae-64"
nested = true
units = ["smmu3.0x9050000"]
[pasid_table]
version = 1
bytes = 32
model = "arm-2lvl"
base_ptr = 0x40100000
pasid_bits = 16
s1dss = "ssid0"
)",
    R"(format = 1
[viommu]
model = "virtio-iommu"
)",
};

inline const Host& fixed_host() {
  static const Host host = [] {
    Result<Host> loaded = load_host_report(kHostReport, "fixed-host.toml");
    require(loaded.has_value(), "the fixed host loads", loaded ? "" : loaded.error().to_string());
    return *loaded;
  }();
  return host;
}

/// The fixed host with only its unknown-model unit.
inline const Host& unknown_model_host() {
  static const Host host = [] {
    Host h = fixed_host();
    std::erase_if(h.units, [](const Unit& u) { return u.model != kModelUnknown; });
    return h;
  }();
  return host;
}

inline const std::vector<Guest>& fixed_guests() {
  static const std::vector<Guest> guests = [] {
    std::vector<Guest> out;
    for (std::string_view text : kGuests) {
      auto guest = parse_guest(text, "fixed-guest.toml");
      require(guest.has_value(), "a fixed guest parses", text);
      out.push_back(*guest);
    }
    return out;
  }();
  return guests;
}

/// check() and the verdict rules that hold for any guest and host (guest-config.md 2-3).
inline Report checked(const Guest& guest, const Host& host) {
  Report report = check(guest, host);
  require(report.verdict == verdict_of(report.findings), "verdict follows the findings");
  for (const Finding& f : report.findings) {
    require(!f.rule.empty() && !f.message.empty(), "findings name their rule and say why");
  }
  const bool all_unknown = std::all_of(host.units.begin(), host.units.end(),
                                       [](const Unit& u) { return u.model == kModelUnknown; });
  // No unit, or only units of unknown model: nothing can prove the guest fits.
  require(report.verdict != Verdict::kCompatible || !all_unknown,
          "never compatible without a known unit");
  if (guest.viommu.ssid_bits && guest.viommu.ssid_bits->value > 20) {
    require(report.verdict != Verdict::kCompatible, "never compatible beyond 20 PASID bits");
  }
  const std::string disagreement = testing::check_disagreement(guest, host);
  require(disagreement.empty(), "decide() and check(passes = false) agree with check()",
          disagreement);
  return report;
}

/// Knowing less can never make a guest fit: if the host with some facts made unknown (every
/// unit's caps, or every device's PCI capabilities) gives `compatible`, the full host must too.
inline void require_no_gain_from_unknowns(const Guest& guest, const Host& host,
                                          const Report& full) {
  if (full.verdict == Verdict::kCompatible) return;
  Host no_caps = host;
  for (Unit& u : no_caps.units) u.caps = Caps{};
  require(checked(guest, no_caps).verdict != Verdict::kCompatible,
          "unknown unit caps made the guest compatible");
  Host no_pci = host;
  for (Device& d : no_pci.devices) d.pci.reset();
  require(checked(guest, no_pci).verdict != Verdict::kCompatible,
          "unknown PCI capabilities made the guest compatible");
}

}  // namespace caps::fuzz
