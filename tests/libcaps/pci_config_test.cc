// SPDX-License-Identifier: MIT
// Tests for parse_pci_config and read_pci_config: header fields, the PCIe extended capability
// walk, and reading only what it needs from a file at offsets.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "libcaps/reader.h"
#include "support/memory_source.h"

namespace caps {
namespace {

using testing::MemoryFile;

/// A config space image of `size` bytes with little-endian helpers.
struct Config {
  explicit Config(size_t size) : bytes(size, '\0') {}
  void put(size_t offset, uint32_t value, size_t width) {
    for (size_t i = 0; i < width; ++i) bytes[offset + i] = static_cast<char>(value >> (8 * i));
  }
  /// An extended capability header: id [15:0], version [19:16], next [31:20].
  void ext(size_t offset, uint16_t id, size_t next) {
    put(offset, id | (1u << 16) | (static_cast<uint32_t>(next) << 20), 4);
  }
  std::string bytes;
};

Config intel_nic() {
  Config c(4096);
  c.put(0x00, 0x8086, 2);             // vendor
  c.put(0x02, 0x1572, 2);             // device (X710)
  c.put(0x09, 0x020000, 3);           // class: Ethernet controller
  c.put(0x0e, 0x80, 1);               // multi-function bit set, header type 0
  c.ext(0x100, 0x000f, 0x140);        // ATS
  c.ext(0x140, 0x0013, 0x160);        // PRI
  c.ext(0x160, 0x001b, 0x000);        // PASID, last
  c.put(0x164, (20u << 8) | 0x2, 2);  // Max PASID Width 20, Exec, no Priv
  return c;
}

TEST(PciConfigTest, HeaderFields) {
  PciInfo info = parse_pci_config(intel_nic().bytes);
  EXPECT_EQ(info.vendor, 0x8086);
  EXPECT_EQ(info.device, 0x1572);
  EXPECT_EQ(info.class_code, 0x020000u);
  EXPECT_EQ(info.header_type, 0);  // the multi-function bit is not part of the type
}

TEST(PciConfigTest, ExtendedCapabilities) {
  PciInfo info = parse_pci_config(intel_nic().bytes);
  ASSERT_TRUE(info.pasid.has_value());
  ASSERT_TRUE(info.pasid->has_value());
  EXPECT_EQ(**info.pasid, (PasidCapability{20, true, false}));
  EXPECT_EQ(info.ats, true);
  EXPECT_EQ(info.pri, true);
}

TEST(PciConfigTest, ShortConfigLeavesExtendedCapabilitiesUnknown) {
  // A non-root reader gets 64 bytes (128 for CardBus) whatever the function has; any other
  // size short of 4096 but 256 is not what the kernel hands out (a truncated copy): PASID/ATS/
  // PRI are unknown, not absent.
  for (size_t size : {64u, 128u, 255u, 257u, 512u, 4095u}) {
    std::string bytes = intel_nic().bytes.substr(0, size);
    PciInfo info = parse_pci_config(bytes);
    EXPECT_EQ(info.vendor, 0x8086) << size;
    EXPECT_EQ(info.config_size, size) << size;
    EXPECT_FALSE(info.pasid.has_value()) << size;
    EXPECT_FALSE(info.ats.has_value()) << size;
    EXPECT_FALSE(info.pri.has_value()) << size;
  }
}

TEST(PciConfigTest, ConventionalConfigHasNoExtendedCapabilities) {
  // Root gets exactly cfg_size bytes: 256 means the kernel has no extended configuration
  // space for the function (conventional PCI, q35 built-ins, no ECAM), so no ATS/PRI/PASID.
  Config c(256);
  c.put(0x00, 0x8086, 2);
  c.put(0x02, 0x2922, 2);  // ICH9 AHCI, a q35 built-in
  c.put(0x09, 0x010601, 3);
  PciInfo info = parse_pci_config(c.bytes);
  EXPECT_EQ(info.config_size, 256u);
  ASSERT_TRUE(info.pasid.has_value());
  EXPECT_FALSE(info.pasid->has_value());
  EXPECT_EQ(info.ats, false);
  EXPECT_EQ(info.pri, false);
}

TEST(PciConfigTest, ConfigSizeIsCappedAtTheExtendedSpace) {
  EXPECT_EQ(parse_pci_config(intel_nic().bytes).config_size, 4096u);
  std::string longer = intel_nic().bytes + std::string(100, '\0');
  EXPECT_EQ(parse_pci_config(longer).config_size, 4096u);
  EXPECT_EQ(parse_pci_config(std::string(10, '\xff')).config_size, 10u);
}

TEST(PciConfigTest, NoExtendedCapabilitiesMeansAbsent) {
  Config c(4096);
  c.put(0x00, 0x1b36, 2);
  PciInfo info = parse_pci_config(c.bytes);
  ASSERT_TRUE(info.pasid.has_value());
  EXPECT_FALSE(info.pasid->has_value());
  EXPECT_EQ(info.ats, false);
  EXPECT_EQ(info.pri, false);

  c.put(0x100, 0xffffffff, 4);  // what a conventional PCI device reads back
  info = parse_pci_config(c.bytes);
  EXPECT_EQ(info.ats, false);
}

TEST(PciConfigTest, BridgeHeaderType) {
  Config c(64);
  c.put(0x0e, 0x81, 1);
  EXPECT_EQ(parse_pci_config(c.bytes).header_type, 1);
}

TEST(PciConfigTest, HostileChainsTerminate) {
  Config self_loop(4096);
  self_loop.ext(0x100, 0x000f, 0x100);  // points at itself
  EXPECT_EQ(parse_pci_config(self_loop.bytes).ats, true);

  Config cycle(4096);
  cycle.ext(0x100, 0x0001, 0x200);
  cycle.ext(0x200, 0x0013, 0x100);
  EXPECT_EQ(parse_pci_config(cycle.bytes).pri, true);

  Config into_header(4096);
  into_header.ext(0x100, 0x0001, 0x040);  // next below 0x100 is not extended space
  EXPECT_EQ(parse_pci_config(into_header.bytes).ats, false);

  Config at_end(4096);
  at_end.ext(0x100, 0x0001, 0xffc);
  at_end.ext(0xffc, 0x001b, 0);  // header fits; the PASID register would not
  PciInfo info = parse_pci_config(at_end.bytes);
  ASSERT_TRUE(info.pasid && *info.pasid);
  EXPECT_EQ((*info.pasid)->max_width, 0);
}

TEST(PciConfigTest, TooShortForAHeader) {
  PciInfo info = parse_pci_config(std::string(10, '\xff'));
  EXPECT_EQ(info.vendor, 0);
  EXPECT_FALSE(info.pasid.has_value());
}

/// Configs of every kind the walk meets, as a whole read of the file would give them.
std::vector<std::string> sample_configs() {
  std::vector<std::string> out;
  for (size_t size : {0u, 10u, 63u, 64u, 128u, 200u, 256u, 4095u, 4096u, 4097u, 8192u}) {
    Config c = intel_nic();
    c.bytes.resize(size, '\0');
    out.push_back(c.bytes);
  }
  Config loop(4096);
  loop.ext(0x100, 0x000f, 0x200);
  loop.ext(0x200, 0x0013, 0x100);
  out.push_back(loop.bytes);
  Config at_end(4096);
  at_end.ext(0x100, 0x0001, 0xffc);
  at_end.ext(0xffc, 0x001b, 0);
  out.push_back(at_end.bytes);
  Config absent(4096);
  absent.put(0x100, 0xffffffff, 4);
  out.push_back(absent.bytes);
  return out;
}

TEST(ReadPciConfigTest, SaysWhatAWholeReadSaysWhateverTheReportedSize) {
  // The reported size is a hint: exact (a copied tree), 4096 for a 64-byte non-root read of
  // sysfs, 0 (procfs style), or wrong either way. Every case ends where a whole read does.
  for (const std::string& bytes : sample_configs()) {
    for (size_t hint : {bytes.size(), size_t{0}, size_t{64}, size_t{4096}, size_t{5000}}) {
      MemoryFile file(bytes, hint);
      const PciConfigRead read = read_pci_config(file);
      if (bytes.size() > kConfigLimit) {
        EXPECT_EQ(read.status, ReadStatus::kTooLarge) << bytes.size() << " hint " << hint;
        continue;
      }
      ASSERT_TRUE(read.ok()) << bytes.size() << " hint " << hint;
      EXPECT_EQ(read.info, parse_pci_config(bytes)) << bytes.size() << " hint " << hint;
    }
  }
}

TEST(ReadPciConfigTest, ReadsOnlyTheHeaderFieldsAndTheChain) {
  // 1 byte proves the size (the last one, and nothing after it), 16 of header, 4 per extended
  // capability header (ATS, PRI, PASID) and the PASID capability register's 2.
  size_t read = 0;
  MemoryFile nic(intel_nic().bytes, 4096, &read);
  const PciConfigRead info = read_pci_config(nic);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info.info, parse_pci_config(intel_nic().bytes));
  EXPECT_EQ(read, 1u + 16 + 3 * 4 + 2);

  read = 0;
  Config plain(4096);  // PCIe, no extended capability: one header of zeros
  MemoryFile bridge(plain.bytes, 4096, &read);
  ASSERT_TRUE(read_pci_config(bridge).ok());
  EXPECT_EQ(read, 1u + 16 + 4);

  read = 0;
  MemoryFile conventional(Config(256).bytes, 256, &read);
  ASSERT_TRUE(read_pci_config(conventional).ok());
  EXPECT_EQ(read, 1u + 16);

  // A non-root reader: sysfs says 4096, the reads give 64 bytes, read from the start.
  read = 0;
  MemoryFile non_root(intel_nic().bytes.substr(0, 64), 4096, &read);
  const PciConfigRead short_read = read_pci_config(non_root);
  ASSERT_TRUE(short_read.ok());
  EXPECT_EQ(short_read.info.config_size, 64u);
  EXPECT_EQ(read, 64u);
}

TEST(ReadPciConfigTest, AFailedReadFailsTheWhole) {
  // Wherever a read fails (the size check, the header, deep in the chain), the result is
  // that failure, as when a whole read fails; never a half-read config.
  for (size_t at : {size_t{0x0e}, size_t{0x160}, size_t{0x164}, size_t{0xfff}}) {
    MemoryFile file(intel_nic().bytes, 4096);
    file.fail_bytes(at, at + 1, ReadStatus::kError);
    EXPECT_EQ(read_pci_config(file).status, ReadStatus::kError) << at;
  }
  MemoryFile unread(intel_nic().bytes, 4096);
  unread.fail_bytes(0x20, 0x100, ReadStatus::kDenied);  // between header and chain: never read
  EXPECT_TRUE(read_pci_config(unread).ok());
}

}  // namespace
}  // namespace caps
