// SPDX-License-Identifier: MIT
// PCI config space: the header fields the checker needs and the PCIe extended capabilities
// that bound a device's PASID, ATS and PRI use (include/uapi/linux/pci_regs.h), from bytes in
// memory or read at offsets from an open `config` file.
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
/// The header fields read: vendor 0x00, device 0x02, class 0x09-0x0b, header type 0x0e.
constexpr size_t kHeaderFields = 0x10;
/// A config shorter than the type 0/1 header says nothing.
constexpr size_t kHeaderSize = 64;
constexpr uint16_t kExtCapAts = 0x000f;    // PCI_EXT_CAP_ID_ATS
constexpr uint16_t kExtCapPri = 0x0013;    // PCI_EXT_CAP_ID_PRI
constexpr uint16_t kExtCapPasid = 0x001b;  // PCI_EXT_CAP_ID_PASID

uint32_t le(const char* bytes, size_t width) {
  uint32_t value = 0;
  for (size_t i = 0; i < width; ++i) {
    value |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  }
  return value;
}

/// Config bytes already in memory; every range asked for is inside them.
struct InMemory {
  std::string_view bytes;
  const char* at(size_t offset, size_t /*length*/) const { return bytes.data() + offset; }
};

/// Config bytes read from a file at offsets; null when a read fails (its status kept).
struct AtOffsets {
  PositionedFile& file;
  FileRead last;

  const char* at(size_t offset, size_t length) {
    last = file.read_at(offset, length);
    if (!last.ok()) return nullptr;
    // The size was confirmed before: a short read means the file changed under us.
    if (last.data.size() != length) {
      last = FileRead{ReadStatus::kError, {}, 0};
      return nullptr;
    }
    return last.data.data();
  }
};

/// The facts in a config of `size` bytes, reading through `config` only the header fields and
/// the extended capability chain. False when a read failed.
template <class Config>
bool parse_into(Config& config, size_t size, PciInfo& info) {
  info.config_size = static_cast<uint32_t>(std::min(size, kExtendedEnd));
  if (size < kHeaderSize) return true;
  const char* header = config.at(0, kHeaderFields);
  if (header == nullptr) return false;
  info.vendor = static_cast<uint16_t>(le(header + 0x00, 2));
  info.device = static_cast<uint16_t>(le(header + 0x02, 2));
  info.class_code = le(header + 0x09, 3);
  info.header_type = static_cast<uint8_t>(header[0x0e] & 0x7f);
  // Only root sees past byte 64 (128 for CardBus), and root gets exactly cfg_size bytes:
  // 256 means no extended space, so no ATS, PRI or PASID. Any other short read (a non-root
  // read, a truncated copy) says nothing about them.
  const bool conventional = size == kConventionalSize;
  if (size < kExtendedEnd && !conventional) return true;

  info.pasid = std::optional<PasidCapability>{};
  info.ats = false;
  info.pri = false;
  if (conventional) return true;
  std::set<size_t> visited;
  size_t offset = kExtendedStart;
  while (offset >= kExtendedStart && offset + 4 <= kExtendedEnd && visited.insert(offset).second) {
    const char* at = config.at(offset, 4);
    if (at == nullptr) return false;
    const uint32_t cap_header = le(at, 4);
    if (cap_header == 0 || cap_header == 0xffffffff) break;  // no extended capabilities
    switch (cap_header & 0xffff) {
      case kExtCapAts:
        info.ats = true;
        break;
      case kExtCapPri:
        info.pri = true;
        break;
      case kExtCapPasid: {
        // PCI_PASID_CAP at +0x04: Exec Supported bit 1, Priv Supported bit 2, Max PASID Width
        // [12:8].
        uint32_t cap = 0;
        if (offset + 6 <= size) {
          const char* bits = config.at(offset + 4, 2);
          if (bits == nullptr) return false;
          cap = le(bits, 2);
        }
        info.pasid =
            PasidCapability{static_cast<int>((cap >> 8) & 0x1f), (cap & 0x2) != 0, (cap & 0x4) != 0};
        break;
      }
      default:
        break;
    }
    offset = (cap_header >> 20) & 0xffc;  // next pointer, dword aligned; 0 ends the list
  }
  return true;
}

PciConfigRead failed(const FileRead& read) { return PciConfigRead{read.status, {}, read.error}; }

/// The file read from the start, as a whole read would: for a size the file system does not
/// report truly (sysfs gives a non-root reader 64 bytes of a `config` it says is 4096).
PciConfigRead read_whole(PositionedFile& file) {
  const FileRead whole = file.read_at(0, kConfigLimit + 1);
  if (!whole.ok()) return failed(whole);
  if (whole.data.size() > kConfigLimit) return PciConfigRead{ReadStatus::kTooLarge, {}, 0};
  return PciConfigRead{ReadStatus::kOk, parse_pci_config(whole.data), 0};
}

}  // namespace

PciInfo parse_pci_config(std::string_view config) {
  PciInfo info;
  InMemory bytes{config};
  parse_into(bytes, config.size(), info);
  return info;
}

PciConfigRead read_pci_config(PositionedFile& config) {
  // The size a whole read would give, from the reported size and at most two bytes: the last
  // one is there and nothing follows it. Otherwise the file is read whole.
  const size_t hint = config.size_hint();
  if (hint > kConfigLimit) {
    const FileRead past = config.read_at(kConfigLimit, 1);
    if (!past.ok()) return failed(past);
    if (past.data.size() == 1) return PciConfigRead{ReadStatus::kTooLarge, {}, 0};
    return read_whole(config);
  }
  if (hint == 0) return read_whole(config);
  const FileRead end = config.read_at(hint - 1, 2);
  if (!end.ok()) return failed(end);
  if (end.data.size() != 1) return read_whole(config);
  PciConfigRead out{ReadStatus::kOk, {}, 0};
  AtOffsets bytes{config, {}};
  if (!parse_into(bytes, hint, out.info)) return failed(bytes.last);
  return out;
}

}  // namespace caps
