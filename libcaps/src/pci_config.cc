// SPDX-License-Identifier: MIT
// PCI config space: the header fields the checker needs and the PCIe extended capabilities
// that bound a device's PASID, ATS and PRI use (include/uapi/linux/pci_regs.h).
#include <algorithm>
#include <set>

#include "libcaps/reader.h"

namespace caps {

namespace {

/// What pci_read_config() (drivers/pci/pci-sysfs.c) hands root for a function whose cfg_size
/// is PCI_CFG_SPACE_SIZE: the kernel has no extended configuration space for it (conventional
/// PCI, or no ECAM/MMCONFIG), so pci_find_ext_capability() finds nothing there either.
constexpr size_t kConventionalSize = 0x100;
constexpr size_t kExtendedStart = 0x100;
constexpr size_t kExtendedEnd = 0x1000;
constexpr uint16_t kExtCapAts = 0x000f;    // PCI_EXT_CAP_ID_ATS
constexpr uint16_t kExtCapPri = 0x0013;    // PCI_EXT_CAP_ID_PRI
constexpr uint16_t kExtCapPasid = 0x001b;  // PCI_EXT_CAP_ID_PASID

uint32_t le(std::string_view bytes, size_t offset, size_t width) {
  uint32_t value = 0;
  for (size_t i = 0; i < width; ++i) {
    value |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  }
  return value;
}

PasidCapability parse_pasid(std::string_view config, size_t offset) {
  // PCI_PASID_CAP at +0x04: Exec Supported bit 1, Priv Supported bit 2, Max PASID Width [12:8].
  uint32_t cap = offset + 6 <= config.size() ? le(config, offset + 4, 2) : 0;
  return PasidCapability{static_cast<int>((cap >> 8) & 0x1f), (cap & 0x2) != 0, (cap & 0x4) != 0};
}

}  // namespace

PciInfo parse_pci_config(std::string_view config) {
  PciInfo info;
  info.config_size = static_cast<uint32_t>(std::min(config.size(), kExtendedEnd));
  if (config.size() < 64) return info;
  info.vendor = static_cast<uint16_t>(le(config, 0x00, 2));
  info.device = static_cast<uint16_t>(le(config, 0x02, 2));
  info.class_code = le(config, 0x09, 3);
  info.header_type = static_cast<uint8_t>(config[0x0e] & 0x7f);
  // Only root sees past byte 64 (128 for CardBus), and root gets exactly cfg_size bytes:
  // 256 means no extended space, so no ATS, PRI or PASID. Any other short read (a non-root
  // read, a truncated copy) says nothing about them.
  const bool conventional = config.size() == kConventionalSize;
  if (config.size() < kExtendedEnd && !conventional) return info;

  info.pasid = std::optional<PasidCapability>{};
  info.ats = false;
  info.pri = false;
  if (conventional) return info;
  std::set<size_t> visited;
  size_t offset = kExtendedStart;
  while (offset >= kExtendedStart && offset + 4 <= kExtendedEnd && visited.insert(offset).second) {
    uint32_t header = le(config, offset, 4);
    if (header == 0 || header == 0xffffffff) break;  // no extended capabilities
    switch (header & 0xffff) {
      case kExtCapAts:
        info.ats = true;
        break;
      case kExtCapPri:
        info.pri = true;
        break;
      case kExtCapPasid:
        info.pasid = parse_pasid(config, offset);
        break;
      default:
        break;
    }
    offset = (header >> 20) & 0xffc;  // next pointer, dword aligned; 0 ends the list
  }
  return info;
}

}  // namespace caps
