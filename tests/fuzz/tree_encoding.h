// SPDX-License-Identifier: MIT
// The fuzz_reader input format: a sysfs tree as a sequence of records (file, dir, link,
// failure), each naming its path either by a vocabulary of realistic sysfs paths or as free
// text, decoded into a MemorySource. TreeEncoder writes the same format (seed corpora).
//
//   input   := flags:u8 [unit:u8 if flags&2] record*
//   record  := op:u8 path ...      op%4: 0 file(content), 1 dir, 2 link(string), 3 fail(u8)
//   path    := kind:u8 ...         kind%6: 0 string, 1 unit unit:u8 dir:u8 prop:u8,
//                                  2 group id:u8 file:u8, 3 group device id:u8 dev:u8 file:u8,
//                                  4 unit device unit:u8 dev:u8 file:u8, 5 platform which:u8
//   content := kind:u8 ...         kind%8: 0 string, 1 hex u64, 2 two hex u64, 3 decimal u8,
//                                  4 keyword u8, 5 sparse size:u16 n:u8 (offset:u16 value:u32)*n,
//                                  6 one byte over the attribute limit, 7 empty
//   string  := n:u8 [n == 255: n:u16] bytes     (integers little-endian; missing bytes are 0)
// Vocabulary indexes are taken modulo the vocabulary's size. Free paths never get "", "." or
// ".." components (a real directory listing never has them), so any such component in a
// path the reader asks for came from the reader itself.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "support/memory_source.h"

namespace caps::fuzz {

inline constexpr std::array<std::string_view, 14> kUnitNames = {
    "dmar0",     "dmar1",           "dmar10",
    "ivhd0",     "ivhd1",           "smmu3.0x0000000009050000",
    "smmu3.x",   "viommu0",         "odd \"name\"",
    "new\nline", "bad\xff\xfeutf8", "dmar0 ",
    "...",       "devices"};
inline constexpr std::array<std::string_view, 9> kLayoutDirs = {
    "intel-iommu", "amd-iommu", "arm-smmu-v3", "virtio-iommu", "foo", "devices",
    "power",       "",          "intel-vtd"};
inline constexpr std::array<std::string_view, 26> kProperties = {"cap",
                                                                 "ecap",
                                                                 "features",
                                                                 "version",
                                                                 "address",
                                                                 "domains_supported",
                                                                 "domains_used",
                                                                 "model",
                                                                 "asid_bits",
                                                                 "ssid_bits",
                                                                 "input_bits",
                                                                 "output_bits",
                                                                 "btm",
                                                                 "httu",
                                                                 "stall",
                                                                 "nested",
                                                                 "ats",
                                                                 "pri",
                                                                 "pgtable_format",
                                                                 "pgtable_format/lpae-s1",
                                                                 "pgtable_format/lpae-s2",
                                                                 "pgtable_format/x",
                                                                 "x",
                                                                 "sub/dir",
                                                                 "",
                                                                 "x\"y\n"};
inline constexpr std::array<std::string_view, 9> kGroupIds = {
    "0", "1", "3", "10", "18446744073709551615", "18446744073709551616", "x", "007", " 1"};
inline constexpr std::array<std::string_view, 5> kGroupFiles = {"type", "name", "reserved_regions",
                                                                "devices", "x"};
inline constexpr std::array<std::string_view, 8> kDevices = {
    "0000:00:02.0", "0000:3b:00.0", "0000:3b:00.1", "0000:3b:00.10",
    "platform.0",   "dev\"q\n",     "\xc3\xa9",     "0000:00:02.0 "};
inline constexpr std::array<std::string_view, 6> kDeviceFiles = {"",       "iommu",  "iommu_group",
                                                                 "driver", "config", "x"};
inline constexpr std::array<std::string_view, 10> kPlatformPaths = {"sys/firmware/acpi/tables/DMAR",
                                                                    "sys/firmware/acpi/tables/IVRS",
                                                                    "sys/firmware/acpi/tables/IORT",
                                                                    "sys/firmware/acpi/tables/SSDT",
                                                                    "proc/cmdline",
                                                                    "sys/firmware/acpi/tables",
                                                                    "sys/class/iommu",
                                                                    "sys/kernel/iommu_groups",
                                                                    "sys/class",
                                                                    "proc"};
inline constexpr std::array<std::string_view, 24> kKeywords = {"enabled",
                                                               "disabled",
                                                               "none",
                                                               "access",
                                                               "access+dirty",
                                                               "force",
                                                               "1",
                                                               "0",
                                                               "6:0",
                                                               "1:0",
                                                               "2",
                                                               "3",
                                                               "4",
                                                               "5",
                                                               "DMA-FQ",
                                                               "identity",
                                                               "DMA",
                                                               "blocked",
                                                               "lpae-s1",
                                                               "intel-vtd",
                                                               "arm-smmu-v3",
                                                               "virtio-iommu",
                                                               "-1",
                                                               "6:x"};
inline constexpr std::array<ReadStatus, 7> kFailures = {
    ReadStatus::kMissing, ReadStatus::kDenied, ReadStatus::kNotRegular, ReadStatus::kTooLarge,
    ReadStatus::kEscapes, ReadStatus::kLoop,   ReadStatus::kError};

/// Reads the input front to back; past the end every read gives zeros.
class Cursor {
 public:
  Cursor(const uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool done() const { return pos_ >= size_; }

  uint64_t u(int bytes) {
    uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) {
      const uint64_t b = pos_ < size_ ? data_[pos_] : 0;
      ++pos_;
      value |= b << (8 * i);
    }
    return value;
  }

  template <std::size_t N>
  std::string_view pick(const std::array<std::string_view, N>& words) {
    return words[u(1) % N];
  }

  std::string bytes(std::size_t n) {
    const std::size_t start = std::min(pos_, size_);
    const std::size_t take = std::min(n, size_ - start);
    pos_ += n;
    return std::string(reinterpret_cast<const char*>(data_ + start), take);
  }

  std::string string() {
    std::size_t n = u(1);
    if (n == 255) n = u(2);
    return bytes(n);
  }

 private:
  const uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

/// "a/b" from `text`: no leading '/', no empty, "." or ".." component.
inline std::string clean_path(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    const std::size_t slash = text.find('/');
    std::string_view part = text.substr(0, slash);
    text = slash == std::string_view::npos ? std::string_view{} : text.substr(slash + 1);
    if (part.empty()) continue;
    if (part == "." || part == "..") part = "_";
    if (!out.empty()) out += '/';
    out += part;
  }
  return out.empty() ? "_" : out;
}

inline std::string join_path(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

inline std::string decode_path(Cursor& in) {
  switch (in.u(1) % 6) {
    case 0:
      return clean_path(in.string());
    case 1: {
      std::string_view unit = in.pick(kUnitNames);
      std::string_view dir = in.pick(kLayoutDirs);
      return join_path({"sys/class/iommu", unit, dir, in.pick(kProperties)});
    }
    case 2: {
      std::string_view id = in.pick(kGroupIds);
      return join_path({"sys/kernel/iommu_groups", id, in.pick(kGroupFiles)});
    }
    case 3: {
      std::string_view id = in.pick(kGroupIds);
      std::string_view dev = in.pick(kDevices);
      return join_path({"sys/kernel/iommu_groups", id, "devices", dev, in.pick(kDeviceFiles)});
    }
    case 4: {
      std::string_view unit = in.pick(kUnitNames);
      std::string_view dev = in.pick(kDevices);
      return join_path({"sys/class/iommu", unit, "devices", dev, in.pick(kDeviceFiles)});
    }
    default:
      return std::string(in.pick(kPlatformPaths));
  }
}

inline std::string hex_text(uint64_t value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), kHex[value & 0xf]);
    value >>= 4;
  } while (value != 0);
  return out;
}

inline std::string decode_content(Cursor& in) {
  switch (in.u(1) % 8) {
    case 0:
      return in.string();
    case 1:
      return hex_text(in.u(8)) + "\n";
    case 2: {
      std::string first = hex_text(in.u(8));
      return first + " " + hex_text(in.u(8)) + "\n";
    }
    case 3:
      return std::to_string(in.u(1)) + "\n";
    case 4:
      return std::string(in.pick(kKeywords)) + "\n";
    case 5: {
      // Sparse bytes (PCI config space): zeros with a few dwords written.
      std::string out(static_cast<std::size_t>(in.u(2) % 4200), '\0');
      const uint64_t writes = in.u(1);
      for (uint64_t i = 0; i < writes && !in.done(); ++i) {
        const std::size_t offset = in.u(2);
        const uint64_t value = in.u(4);
        for (std::size_t b = 0; b < 4 && offset + b < out.size(); ++b) {
          out[offset + b] = static_cast<char>(value >> (8 * b));
        }
      }
      return out;
    }
    case 6:
      return std::string(kAttrLimit + 1, '7');
    default:
      return "";
  }
}

/// What the input asks read_host for, and the tree.
struct DecodedTree {
  bool read_pci_config = true;
  std::vector<std::string> units;  // ReadOptions::units
};

inline DecodedTree decode_tree(Cursor& in, testing::MemorySource& source) {
  DecodedTree tree;
  const uint64_t flags = in.u(1);
  tree.read_pci_config = (flags & 1) == 0;
  if (flags & 2) tree.units.emplace_back(in.pick(kUnitNames));
  while (!in.done()) {
    const uint64_t op = in.u(1) % 4;
    std::string path = decode_path(in);
    switch (op) {
      case 0:
        source.file(path, decode_content(in));
        break;
      case 1:
        source.dir(path);
        break;
      case 2:
        source.link(path, in.string());
        break;
      default:
        source.fail(path, kFailures[in.u(1) % kFailures.size()]);
        break;
    }
  }
  return tree;
}

/// Writes records in the format decode_tree reads, always with free-text paths.
class TreeEncoder {
 public:
  TreeEncoder() { out_ += '\0'; }  // flags: read PCI config, every unit

  void file(std::string_view path, std::string_view data) {
    record(0, path);
    const std::size_t nonzero = std::count_if(data.begin(), data.end(), [](char c) { return c; });
    if (data.size() > 256 && nonzero < data.size() / 8 && data.size() < 4200) {
      sparse(data);
      return;
    }
    out_ += '\0';
    string(data);
  }
  void dir(std::string_view path) { record(1, path); }
  void link(std::string_view path, std::string_view target) {
    record(2, path);
    string(target);
  }
  void fail(std::string_view path, ReadStatus status) {
    record(3, path);
    for (std::size_t i = 0; i < kFailures.size(); ++i) {
      if (kFailures[i] == status) out_ += static_cast<char>(i);
    }
  }

  const std::string& bytes() const { return out_; }

 private:
  void u(uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out_ += static_cast<char>(value >> (8 * i));
  }
  void string(std::string_view s) {
    if (s.size() < 255) {
      u(s.size(), 1);
    } else {
      u(255, 1);
      u(std::min<std::size_t>(s.size(), 0xffff), 2);
    }
    out_.append(s.substr(0, 0xffff));
  }
  void record(int op, std::string_view path) {
    u(op, 1);
    u(0, 1);  // free-text path
    string(path);
  }
  void sparse(std::string_view data) {
    out_ += '\5';
    u(data.size(), 2);
    std::vector<std::size_t> dwords;
    for (std::size_t off = 0; off < data.size(); off += 4) {
      std::string_view d = data.substr(off, 4);
      if (d.find_first_not_of('\0') != std::string_view::npos) dwords.push_back(off);
    }
    dwords.resize(std::min<std::size_t>(dwords.size(), 255));
    u(dwords.size(), 1);
    for (std::size_t off : dwords) {
      u(off, 2);
      uint64_t value = 0;
      for (std::size_t b = 0; b < 4 && off + b < data.size(); ++b) {
        value |= uint64_t{static_cast<unsigned char>(data[off + b])} << (8 * b);
      }
      u(value, 4);
    }
  }

  std::string out_;
};

}  // namespace caps::fuzz
