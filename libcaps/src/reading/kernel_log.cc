// SPDX-License-Identifier: MIT
// Hosts from kernel logs: recognizes the kernel's own IOMMU lines and decodes their register
// values through the same decoders and normalizers as the sysfs reader.
//
// The format strings, as the kernel prints them (pr_fmt prefixes included):
// - VT-d, drivers/iommu/intel/dmar.c alloc_iommu() (v4.x to v6.x; drivers/iommu/dmar.c in older
//   trees): pr_info("%s: reg_base_addr %llx ver %d:%d cap %llx ecap %llx\n") with pr_fmt
//   "DMAR: " and iommu->name "dmar%d", the name sysfs gives the unit. Older kernels (3.x) print
//   "IOMMU %d: reg_base_addr ..." (seq_id, the same number).
// - AMD-Vi, drivers/iommu/amd/init.c print_iommu_info(): older kernels
//   pci_info(pdev, "Extended features (%#llx):", iommu->features) ("pci 0000:00:00.2: AMD-Vi:
//   Extended features (0x...):"); then (2021) pr_info("Extended features (%#llx):"); since the
//   EFR2 support of 2022 (Debian's 6.1 and 6.12 print it) pr_info("Extended features (%#llx, %#llx):",
//   iommu->features, iommu->features2). One line per unit, in for_each_iommu() order, which
//   is iommu->index order: sysfs names the units "ivhd%d" by that index. %#llx prints 0 as
//   "0". The line before it, pci_info(pdev, "Found IOMMU cap 0x%x\n", iommu->cap_ptr), is the
//   capability's offset, not the capability header: cap (IotlbSup, NpCache, HtTunnel) stays
//   unknown from a log. The line is printed only when cap.EFRSup is set.
// - arm-smmu-v3, drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c arm_smmu_device_hw_probe()
//   (v4.x to v6.x): dev_info(smmu->dev, "ias %lu-bit, oas %lu-bit (features 0x%08x)\n");
//   7.3 (Debian's linux-source-7.3, 7.3.4) has no smmu->ias and prints "oas %lu-bit (features
//   0x%08x)\n" (the VM tier's qemu-smmuv3-iommufd-7.3 guest); both forms are read,
//   smmu->features being the driver's ARM_SMMU_FEAT_* bits (arm-smmu-v3.h). Bits 0..15 have
//   kept their positions since RANGE_INV (bit 15, added in 2020); higher bits moved between releases
//   (BTM, E2H, SVA, NESTING, HA, HD), so only bits 0..15 are read. oas is IDR5.OAS decoded;
//   ias is max(oas, 40 when IDR0.TTF includes AArch32), not the input address size, so it
//   stays out of input_bits.
// - virtio-iommu, drivers/iommu/virtio-iommu.c viommu_probe() (v5.3 to v6.x):
//   dev_info(dev, "input address: %u bits\n") on the virtio device ("virtio_iommu virtio0:").
//   sysfs names the unit after the virtio device's parent (its PCI function), which the log
//   does not name: the unit keeps the virtio device's name, with a warning.
// - Groups, drivers/iommu/iommu.c: dev_info(dev, "Adding to iommu group %d\n") and
//   dev_info(dev, "Removing from iommu group %d\n").
#include "libcaps/kernel_log.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <optional>
#include <set>

#include "libcaps/decode.h"
#include "libcaps/parse.h"
#include "model/model_table.h"

namespace caps {

namespace {

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

std::string_view trim(std::string_view s) {
  s = trim_left(s);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' ||
                        s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

/// A bracketed dmesg timestamp: "    1.234567" or "Wed Dec  2 16:42:02 2026" (dmesg -T).
bool is_timestamp(std::string_view s) {
  bool digit = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      digit = true;
      continue;
    }
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!letter && c != ' ' && c != '.' && c != ':' && c != '+' && c != '-' && c != ',') {
      return false;
    }
  }
  return digit && (s.find('.') != std::string_view::npos || s.find(':') != std::string_view::npos);
}

/// The next whitespace-separated word of `s`, removed from it.
std::string_view next_word(std::string_view& s) {
  s = trim_left(s);
  size_t end = s.find_first_of(" \t");
  std::string_view word = s.substr(0, end);
  s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  return word;
}

std::optional<uint64_t> dec(std::string_view s) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

std::optional<uint64_t> bare_hex(std::string_view s) {
  Result<uint64_t> value = parse_hex(s);
  return value ? std::optional<uint64_t>(*value) : std::nullopt;
}

/// %#llx: "0x29d3", and "0" for zero.
std::optional<uint64_t> alt_hex(std::string_view s) {
  if (s == "0") return 0;
  Result<uint64_t> value = parse_hex_prefixed(s);
  return value ? std::optional<uint64_t>(*value) : std::nullopt;
}

std::string lines_text(size_t first, size_t last) {
  if (first == last) return "from the log, line " + std::to_string(first);
  return "from the log, lines " + std::to_string(first) + "-" + std::to_string(last);
}

/// What one rule made of a message.
enum class Match { kNo, kKnown, kIncomplete };

struct PendingUnit {
  Unit unit;
};

/// The state of one boot's worth of log.
struct Boot {
  Host host;
  std::vector<LogFact> provenance;
  std::optional<size_t> version_line;
  std::optional<size_t> cmdline_line;
  std::optional<size_t> iommu_disabled_line;      // "DMAR: IOMMU disabled"
  std::optional<size_t> amd_v2_unavailable_line;  // "AMD IOMMUv2 functionality not available"
  std::optional<size_t> vtd_initialized_line;     // "Intel(R) Virtualization Technology ..."
  size_t amd_units = 0;
  std::map<uint64_t, std::set<std::string>> groups;
  std::map<std::string, uint64_t> device_group;
};

class LogReader {
 public:
  explicit LogReader(std::string_view source) : source_(source) {}

  /// Tries every rule on a message spanning lines [first, last].
  Match take(std::string_view m, size_t first, size_t last) {
    first_ = first;
    last_ = last;
    for (auto rule : {&LogReader::version, &LogReader::cmdline, &LogReader::acpi_table,
                      &LogReader::dmar_unit, &LogReader::amd_features, &LogReader::smmu_unit,
                      &LogReader::virtio_unit,
                      &LogReader::group, &LogReader::why, &LogReader::quiet}) {
      Match match = (this->*rule)(m);
      if (match != Match::kNo) return match;
    }
    return Match::kNo;
  }

  /// A known line that stayed cut short even with the lines after it.
  void incomplete(size_t line) {
    first_ = last_ = line;
    warn("an IOMMU line cut short (its values are missing, even joined with the next lines): "
         "ignored");
  }

  /// Gives the last boot's host.
  KernelLogRead finish(size_t lines, size_t known, size_t unknown) {
    finish_boot();
    KernelLogRead read;
    read.host = std::move(boot_.host);
    read.host.backend = "log";
    read.host.root = std::string(source_);
    read.lines = lines;
    read.known = known;
    read.unknown = unknown;
    read.provenance = std::move(boot_.provenance);
    for (Diagnostic& d : earlier_) read.host.diagnostics.insert(read.host.diagnostics.begin(), d);
    return read;
  }

 private:
  std::string here() const { return lines_text(first_, last_); }
  std::string path() const { return "log line " + std::to_string(first_); }

  void note(std::string fact) { boot_.provenance.push_back({std::move(fact), here()}); }

  void warn(std::string message) {
    boot_.host.diagnostics.push_back({path(), Severity::kWarning, std::move(message)});
  }

  Match version(std::string_view m) {
    if (!m.starts_with("Linux version ")) return Match::kNo;
    if (boot_.version_line) {
      // journalctl -k without -b, or a bug report with two boots: the last boot is the host.
      earlier_.clear();
      earlier_.push_back({path(), Severity::kWarning,
                          "the log holds more than one boot; only the last, from line " +
                              std::to_string(first_) + ", is read"});
      boot_ = Boot{};
    }
    std::string_view rest = m.substr(14);
    boot_.host.platform.kernel_release = std::string(next_word(rest));
    boot_.version_line = first_;
    note("kernel_release");
    return Match::kKnown;
  }

  Match cmdline(std::string_view m) {
    // x86 prints "Command line:" (setup_arch), every arch "Kernel command line:" (init/main.c).
    for (std::string_view prefix : {"Command line: ", "Kernel command line: "}) {
      if (!m.starts_with(prefix)) continue;
      if (!boot_.host.platform.cmdline) {
        boot_.host.platform.cmdline = std::string(trim(m.substr(prefix.size())));
        boot_.cmdline_line = first_;
        note("cmdline");
      }
      return Match::kKnown;
    }
    return Match::kNo;
  }

  /// "ACPI: DMAR 0x000000003FFE309A 000088 (v01 BOCHS ...)" (drivers/acpi/tables.c).
  Match acpi_table(std::string_view m) {
    if (!m.starts_with("ACPI: ") || m.size() < 14 || m.substr(10, 3) != " 0x") return Match::kNo;
    std::string_view table = m.substr(6, 4);
    for (const ModelInfo& model : kModels) {
      if (model.firmware_table != table) continue;
      auto& tables = boot_.host.platform.acpi_tables;
      if (std::find(tables.begin(), tables.end(), table) == tables.end()) {
        tables.emplace_back(table);
        note("acpi_tables." + std::string(table));
      }
    }
    return Match::kKnown;
  }

  Match dmar_unit(std::string_view m) {
    size_t at = m.find(": reg_base_addr ");
    if (at == std::string_view::npos) return Match::kNo;
    std::string_view head = m.substr(0, at);
    if (head.starts_with("DMAR: ")) head.remove_prefix(6);
    std::string name(head);
    if (head.starts_with("IOMMU ")) name = "dmar" + std::string(head.substr(6));
    std::string_view rest = m.substr(at + 16);
    std::optional<uint64_t> address = bare_hex(next_word(rest));
    std::string_view ver_word = next_word(rest);
    std::string_view version = next_word(rest);
    std::string_view cap_word = next_word(rest);
    std::string_view cap_text = next_word(rest);
    std::string_view ecap_word = next_word(rest);
    std::string_view ecap_text = next_word(rest);
    if (ecap_text.empty()) return Match::kIncomplete;
    std::optional<uint64_t> cap = bare_hex(cap_text);
    std::optional<uint64_t> ecap = bare_hex(ecap_text);
    size_t colon = version.find(':');
    if (!address || ver_word != "ver" || cap_word != "cap" || ecap_word != "ecap" || !cap ||
        !ecap || colon == std::string_view::npos || !dec(version.substr(0, colon)) ||
        !dec(version.substr(colon + 1)) || !name.starts_with("dmar")) {
      warn("a DMAR unit line that does not read as \"dmarN: reg_base_addr <hex> ver <M>:<m> "
           "cap <hex> ecap <hex>\": ignored");
      return Match::kKnown;
    }
    Unit unit;
    unit.name = name;
    unit.model = std::string(kModelIntelVtd);
    unit.layout = Layout::kIntelIommu;
    unit.registers.push_back({"cap", decode(vtd_cap_spec(), *cap), std::nullopt, ""});
    unit.registers.push_back({"ecap", decode(vtd_ecap_spec(), *ecap), std::nullopt, ""});
    unit.properties["version"] = std::string(version);
    unit.properties["address"] = format_hex(*address);
    // domains_supported is cap_ndoms(cap) (intel-iommu.h), which sysfs prints; the log does not.
    uint64_t nd = unit.registers[0].main.field("ND").value_or(7);
    if (nd < 7) unit.properties["domains_supported"] = std::to_string(uint64_t{1} << (4 + 2 * nd));
    apply(unit, normalize_vtd(&unit.registers[0].main, &unit.registers[1].main));
    unit.evidence["model"] = "DMAR " + name + " line: model = " + unit.model + " (" + here() + ")";
    add_unit(std::move(unit));
    return Match::kKnown;
  }

  Match amd_features(std::string_view m) {
    size_t at = m.find("AMD-Vi: Extended features (");
    if (at == std::string_view::npos) return Match::kNo;
    std::string_view rest = m.substr(at + 27);
    size_t close = rest.find(')');
    if (close == std::string_view::npos) return Match::kIncomplete;
    std::string_view inside = rest.substr(0, close);
    size_t comma = inside.find(',');
    std::optional<uint64_t> efr = alt_hex(trim(inside.substr(0, comma)));
    std::optional<uint64_t> efr2;
    if (comma != std::string_view::npos) efr2 = alt_hex(trim(inside.substr(comma + 1)));
    if (!efr || (comma != std::string_view::npos && !efr2)) {
      warn("an AMD-Vi \"Extended features\" line whose values are not hex: ignored");
      return Match::kKnown;
    }
    Unit unit;
    unit.name = "ivhd" + std::to_string(boot_.amd_units++);
    unit.model = std::string(kModelAmdVi);
    unit.layout = Layout::kAmdIommu;
    RegisterFile file{"features", decode(amd_efr_spec(), *efr), std::nullopt,
                      efr2 ? "EFR:EFR2" : "EFR"};
    if (efr2) file.second = decode(amd_efr2_spec(), *efr2);
    unit.registers.push_back(std::move(file));
    const RegisterFile& f = unit.registers.back();
    apply(unit, normalize_amd(nullptr, &f.main, f.second ? &*f.second : nullptr));
    unit.evidence["model"] =
        "AMD-Vi Extended features line: model = " + unit.model + " (" + here() + ")";
    add_unit(std::move(unit));
    return Match::kKnown;
  }

  Match smmu_unit(std::string_view m) {
    if (!m.starts_with("arm-smmu-v3 ")) return Match::kNo;
    std::string_view rest = m.substr(12);
    std::string_view device = next_word(rest);
    if (!device.ends_with(':')) return Match::kNo;
    device.remove_suffix(1);
    rest = trim_left(rest);
    // "ias A-bit, oas B-bit (features X)" up to 6.x, "oas B-bit (features X)" in 7.3.
    const bool with_ias = rest.starts_with("ias ");
    if (!with_ias && !rest.starts_with("oas ")) return Match::kKnown;  // another arm-smmu-v3 line
    size_t features_at = rest.find("(features 0x");
    if (features_at == std::string_view::npos || rest.find(')', features_at) == rest.npos) {
      return Match::kIncomplete;
    }
    const bool ias_ok = !with_ias || dec(rest.substr(4, rest.find("-bit") - 4)).has_value();
    size_t oas_at = rest.find("oas ");
    std::optional<uint64_t> oas;
    if (oas_at != std::string_view::npos) {
      std::string_view o = rest.substr(oas_at + 4);
      oas = dec(o.substr(0, o.find("-bit")));
    }
    std::string_view hex = rest.substr(features_at + 10);
    hex = hex.substr(0, hex.find(')'));
    std::optional<uint64_t> features = alt_hex(hex);
    if (!ias_ok || !oas || !features) {
      warn("an arm-smmu-v3 \"[ias .., ]oas .. (features ..)\" line that does not parse: ignored");
      return Match::kKnown;
    }
    Unit unit;
    unit.name = smmu_unit_name(device);
    unit.model = std::string(kModelArmSmmuV3);
    unit.layout = Layout::kNone;
    const std::string from = " (" + here() + ")";
    unit.evidence["model"] = "arm-smmu-v3 " + std::string(device) +
                             " line: model = " + unit.model + from;
    unit.caps.output_bits = static_cast<int>(*oas);
    unit.evidence["output_bits"] = "oas " + std::to_string(*oas) + "-bit (IDR5.OAS)" + from;
    auto bit = [&](int n) { return ((*features >> n) & 1) != 0; };
    auto show = [&](int n, std::string_view name) {
      return "features bit " + std::to_string(n) + " ARM_SMMU_FEAT_" + std::string(name) + "=" +
             (bit(n) ? "1" : "0");
    };
    unit.caps.ats = bit(5);
    unit.evidence["ats"] = show(5, "ATS") + from;
    unit.caps.page_requests = bit(4);
    unit.evidence["page_requests"] = show(4, "PRI") + from;
    unit.caps.nested = bit(9) && bit(10);
    unit.evidence["nested"] = show(9, "TRANS_S1") + ", " + show(10, "TRANS_S2") + from;
    unit.caps.stall = bit(13) ? Stall::kForce : bit(11) ? Stall::kEnabled : Stall::kDisabled;
    unit.evidence["stall"] = show(11, "STALLS") + ", " + show(13, "STALL_FORCE") + from;
    if (unit.name == device) {
      warn("arm-smmu-v3 device " + quote(device) +
           " has no address in its name: sysfs names the unit smmu3.<address>, which the log "
           "does not give");
    }
    add_unit(std::move(unit));
    return Match::kKnown;
  }

  Match virtio_unit(std::string_view m) {
    if (!m.starts_with("virtio_iommu ")) return Match::kNo;
    std::string_view rest = m.substr(13);
    std::string_view device = next_word(rest);
    if (!device.ends_with(':') || !trim_left(rest).starts_with("input address: ")) {
      return Match::kNo;
    }
    device.remove_suffix(1);
    Unit unit;
    unit.name = std::string(device);
    unit.model = std::string(kModelVirtioIommu);
    unit.layout = Layout::kNone;
    unit.evidence["model"] =
        "virtio_iommu " + unit.name + " line: model = " + unit.model + " (" + here() + ")";
    warn("virtio-iommu unit " + unit.name +
         ": sysfs names it after its PCI function, which the log does not give");
    add_unit(std::move(unit));
    return Match::kKnown;
  }

  /// sysfs: iommu_device_sysfs_add(.., "smmu3.%pa", &ioaddr). A device-tree platform device is
  /// named "<unit address>.<node name>" ("9050000.smmuv3"); an ACPI one has no address in its
  /// name ("arm-smmu-v3.0.auto") and keeps it.
  static std::string smmu_unit_name(std::string_view device) {
    size_t dot = device.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot > 16) return std::string(device);
    std::optional<uint64_t> address = bare_hex(device.substr(0, dot));
    if (!address) return std::string(device);
    std::string digits = format_hex(*address).substr(2);
    return "smmu3.0x" + std::string(16 - std::min<size_t>(16, digits.size()), '0') + digits;
  }

  Match group(std::string_view m) {
    for (auto [phrase, adding] : {std::pair{std::string_view(": Adding to iommu group "), true},
                                  {std::string_view(": Removing from iommu group "), false}}) {
      size_t at = m.find(phrase);
      if (at == std::string_view::npos) continue;
      std::string_view head = m.substr(0, at);
      // dev_info: "<driver or bus> <device>: ..."
      size_t space = head.rfind(' ');
      std::string device(space == std::string_view::npos ? head : head.substr(space + 1));
      std::optional<uint64_t> id = dec(trim(m.substr(at + phrase.size())));
      if (!id || device.empty()) return Match::kKnown;
      if (adding) {
        boot_.groups[*id].insert(device);
        boot_.device_group[device] = *id;
        note("group " + std::to_string(*id) + " device " + device);
      } else {
        boot_.groups[*id].erase(device);
        boot_.device_group.erase(device);
      }
      return Match::kKnown;
    }
    return Match::kNo;
  }

  Match why(std::string_view m) {
    // intel/iommu.c intel_iommu_setup(): pr_info("IOMMU disabled\n") for intel_iommu=off.
    if (m == "DMAR: IOMMU disabled") {
      boot_.iommu_disabled_line = first_;
      return Match::kKnown;
    }
    // amd/iommu_v2.c amd_iommu_v2_init() (v6.6 and older), no IOMMUv2-capable AMD unit.
    if (m.starts_with("AMD-Vi: AMD IOMMUv2 functionality not available")) {
      boot_.amd_v2_unavailable_line = first_;
      return Match::kKnown;
    }
    // intel/iommu.c intel_iommu_init(), at the end of a successful init.
    if (m == "DMAR: Intel(R) Virtualization Technology for Directed I/O") {
      boot_.vtd_initialized_line = first_;
      return Match::kKnown;
    }
    return Match::kNo;
  }

  /// Lines of the IOMMU drivers that carry nothing the model holds.
  Match quiet(std::string_view m) {
    for (std::string_view prefix :
         {"DMAR: ", "DMAR-IR: ", "AMD-Vi: ", "iommu: ", "arm-smmu-v3 ", "virtio_iommu "}) {
      if (m.starts_with(prefix)) return Match::kKnown;
    }
    if (m.find(" AMD-Vi: ") != std::string_view::npos) return Match::kKnown;  // pci_info lines
    return Match::kNo;
  }

  void apply(Unit& unit, Normalized normalized) {
    unit.caps = std::move(normalized.caps);
    unit.evidence = std::move(normalized.evidence);
    for (auto& [name, text] : unit.evidence) text += " (" + here() + ")";
    unit.extra = std::move(normalized.extra);
    for (Diagnostic& d : normalized.diagnostics) {
      if (d.path.empty()) d.path = path();
      unit.diagnostics.push_back(std::move(d));
    }
  }

  void add_unit(Unit unit) {
    for (Unit& u : boot_.host.units) {
      if (u.name != unit.name) continue;
      warn("unit " + unit.name + " appears again: the later line is kept");
      u = std::move(unit);
      return;
    }
    boot_.host.units.push_back(std::move(unit));
  }

  void finish_boot() {
    Host& host = boot_.host;
    std::sort(host.units.begin(), host.units.end(),
              [](const Unit& a, const Unit& b) { return natural_less(a.name, b.name); });
    // A log that starts at boot lists every device as it joins its group.
    const bool whole = boot_.version_line.has_value();
    Unit* only = host.units.size() == 1 ? &host.units[0] : nullptr;
    for (auto& [id, members] : boot_.groups) {
      if (members.empty()) continue;
      Group group;
      group.id = id;
      group.devices.assign(members.begin(), members.end());
      std::sort(group.devices.begin(), group.devices.end(), device_less);
      group.devices_known = whole;
      group.reserved_regions_known = false;  // a log never prints them
      host.groups.push_back(std::move(group));
    }
    for (const auto& [name, id] : boot_.device_group) {
      Device device;
      device.name = name;
      device.group = id;
      // The log names the driver bound when the device joined, not the one bound now.
      device.driver_known = false;
      if (only != nullptr) {
        // One unit: it serves every device the IOMMU core put in a group.
        device.unit = only->name;
        only->devices.push_back(name);
      }
      host.devices.push_back(std::move(device));
    }
    std::sort(host.devices.begin(), host.devices.end(),
              [](const Device& a, const Device& b) { return device_less(a.name, b.name); });
    if (only != nullptr) std::sort(only->devices.begin(), only->devices.end(), device_less);
    std::sort(host.platform.acpi_tables.begin(), host.platform.acpi_tables.end(),
              [](const std::string& a, const std::string& b) { return table_rank(a) < table_rank(b); });
    if (host.units.empty()) host.platform.why_no_units = explain_absence();
  }

  static size_t table_rank(std::string_view table) {
    for (size_t i = 0; i < kModels.size(); ++i) {
      if (kModels[i].firmware_table == table) return i;
    }
    return kModels.size();
  }

  static std::string at_line(size_t line) {
    return " (from the log, line " + std::to_string(line) + ")";
  }

  std::vector<std::string> explain_absence() const {
    std::vector<std::string> why;
    const Platform& platform = boot_.host.platform;
    if (boot_.iommu_disabled_line) {
      why.push_back("the kernel says \"DMAR: IOMMU disabled\"" +
                    at_line(*boot_.iommu_disabled_line) +
                    ": intel_iommu=off is on the command line; remove it");
    }
    if (platform.cmdline) {
      const std::string& c = *platform.cmdline;
      for (std::string_view option : {"intel_iommu=off", "amd_iommu=off", "iommu=off"}) {
        size_t at = c.find(option);
        bool word = at != std::string::npos && (at == 0 || c[at - 1] == ' ') &&
                    (at + option.size() == c.size() || c[at + option.size()] == ' ' ||
                     c[at + option.size()] == ',');
        if (word) {
          why.push_back(std::string(option) + " on the kernel command line" +
                        at_line(*boot_.cmdline_line) + " turns the IOMMU off: remove it");
        }
      }
    }
    if (boot_.amd_v2_unavailable_line) {
      why.push_back("the kernel says \"AMD IOMMUv2 functionality not available on this system\"" +
                    at_line(*boot_.amd_v2_unavailable_line) +
                    ": no AMD-Vi unit with PPR and GT registered");
    }
    if (boot_.vtd_initialized_line) {
      why.push_back("VT-d initialized" + at_line(*boot_.vtd_initialized_line) +
                    " but the log has no \"DMAR: dmarN: reg_base_addr\" line: the log was "
                    "cut before it, or its level hid it");
    }
    for (const std::string& table : platform.acpi_tables) {
      why.push_back("the firmware has an ACPI " + table + " table, but no unit line of its "
                    "driver is in the log: look for its errors there");
    }
    if (why.empty()) {
      why.push_back(boot_.version_line
                        ? "the log, from boot, has no IOMMU unit line (DMAR dmarN reg_base_addr, "
                          "AMD-Vi Extended features, arm-smmu-v3 ias/oas) and names no IOMMU "
                          "firmware table: no IOMMU driver found a unit"
                        : "the log has no IOMMU unit line and does not start at boot: the lines "
                          "that would tell may be missing");
    }
    return why;
  }

  std::string_view source_;
  Boot boot_;
  Diagnostics earlier_;
  size_t first_ = 0;
  size_t last_ = 0;
};

/// The log split into lines (without their ends).
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

}  // namespace

std::string_view kernel_log_message(std::string_view line) {
  line = trim(line);
  // dmesg -r / /dev/kmsg levels: "<6>"
  if (line.size() > 2 && line[0] == '<') {
    size_t close = line.find('>');
    if (close != std::string_view::npos && close <= 4 && dec(line.substr(1, close - 1))) {
      line = line.substr(close + 1);
    }
  }
  // dmesg -x: "kern  :info  : "
  if (line.starts_with("kern ") || line.starts_with("kern:")) {
    size_t first = line.find(':');
    size_t second = first == std::string_view::npos ? first : line.find(": ", first + 1);
    if (second != std::string_view::npos && second < 16) line = trim_left(line.substr(second + 2));
  }
  // syslog and journalctl: "<time> <host> kernel: "
  size_t kernel = line.find("kernel: ");
  if (kernel != std::string_view::npos && kernel < 96 && kernel > 0 && line[kernel - 1] == ' ') {
    line = line.substr(kernel + 8);
  }
  for (int i = 0; i < 2; ++i) {  // syslog lines may keep dmesg's own stamp after theirs
    line = trim_left(line);
    if (!line.starts_with('[')) break;
    size_t close = line.find(']');
    if (close == std::string_view::npos || close > 40 || !is_timestamp(line.substr(1, close - 1))) {
      break;
    }
    line = line.substr(close + 1);
  }
  return trim(line);
}

KernelLogRead read_kernel_log(std::string_view text, std::string_view source_name) {
  std::vector<std::string_view> lines = split_lines(text);
  LogReader reader(source_name);
  size_t known = 0;
  size_t unknown = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view message = kernel_log_message(lines[i]);
    if (message.empty()) {
      ++known;  // blank lines carry nothing
      continue;
    }
    Match match = reader.take(message, i + 1, i + 1);
    // A known line cut by a terminal or a mailer: join the next lines that carry no prefix of
    // their own (at most two), and try again.
    std::string joined(message);
    size_t last = i;
    while (match == Match::kIncomplete && last + 1 < lines.size() && last < i + 2) {
      std::string_view next = trim(lines[last + 1]);
      if (next.empty() || kernel_log_message(lines[last + 1]) != next) break;
      joined += ' ';
      joined += next;
      ++last;
      match = reader.take(joined, i + 1, last + 1);
    }
    if (match == Match::kNo) {
      ++unknown;
      continue;
    }
    if (match == Match::kIncomplete) reader.incomplete(i + 1);
    known += 1 + (match == Match::kKnown ? last - i : 0);
    if (match == Match::kKnown) i = last;
  }
  return reader.finish(lines.size(), known, unknown);
}

}  // namespace caps
