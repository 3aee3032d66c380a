// SPDX-License-Identifier: MIT
// The QEMU command-line front end: argv files and shell-quoted lines split into arguments with
// the position of every character, QemuOpts (key=value, `,,`) and JSON option syntax, and the
// settings that bear on the vIOMMU; plus the mapping to the format-neutral Guest shared with the
// libvirt front end.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libcaps/guest_vmm.h"
#include "vmm_internal.h"

namespace caps {
namespace vmm {

const VmmSetting* find(const GuestVmm& vmm, std::string_view name) {
  for (auto it = vmm.settings.rbegin(); it != vmm.settings.rend(); ++it) {
    if (it->name == name) return &*it;
  }
  return nullptr;
}

std::optional<bool> parse_bool(std::string_view value) {
  if (value == "on" || value == "yes" || value == "true") return true;
  if (value == "off" || value == "no" || value == "false") return false;
  return std::nullopt;
}

std::optional<int64_t> parse_int(std::string_view value) {
  int base = 10;
  if (value.starts_with("0x") || value.starts_with("0X")) {
    value.remove_prefix(2);
    base = 16;
  }
  int64_t out = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out, base);
  if (ec != std::errc() || end != value.data() + value.size() || value.empty()) return std::nullopt;
  return out;
}

std::optional<uint64_t> parse_size(std::string_view value) {
  if (value.empty()) return std::nullopt;
  long double multiplier = 1024.0L * 1024.0L;  // MiB when no suffix
  const char last = static_cast<char>(std::toupper(static_cast<unsigned char>(value.back())));
  static constexpr std::string_view kSuffixes = "BKMGTPE";
  // In hex, B and E are digits (strtoull reads "0x10B" whole), so they are no suffix there.
  const bool hex = value.starts_with("0x") || value.starts_with("0X");
  if (const size_t at = kSuffixes.find(last);
      at != std::string_view::npos && !(hex && (last == 'B' || last == 'E'))) {
    multiplier = 1.0L;
    for (size_t i = 0; i < at; ++i) multiplier *= 1024.0L;
    value.remove_suffix(1);
  }
  long double number = 0;
  if (hex) {
    std::optional<int64_t> digits = parse_int(value);
    if (!digits || *digits < 0) return std::nullopt;
    number = static_cast<long double>(*digits);
  } else {
    const size_t dot = value.find('.');
    const std::string_view whole = value.substr(0, dot);
    const std::string_view fraction =
        dot == std::string_view::npos ? std::string_view() : value.substr(dot + 1);
    auto digits = [](std::string_view t) {
      return std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (whole.empty() || !digits(whole) || !digits(fraction) || whole.size() > 19 ||
        (dot != std::string_view::npos && fraction.empty()))
      return std::nullopt;
    for (char c : whole) number = number * 10 + (c - '0');
    long double scale = 0.1L;
    for (char c : fraction) {
      number += (c - '0') * scale;
      scale /= 10;
    }
  }
  const long double bytes = number * multiplier;
  if (bytes < 1.0L || bytes > static_cast<long double>(INT64_MAX)) return std::nullopt;
  return static_cast<uint64_t>(bytes);
}

std::string_view model_of_device(std::string_view device) {
  if (device == "intel-iommu") return kModelIntelVtd;
  if (device == "amd-iommu") return kModelAmdVi;
  if (device == "virtio-iommu-pci" || device == "virtio-iommu") return kModelVirtioIommu;
  if (device == "arm-smmuv3" || device == "smmuv3") return kModelArmSmmuV3;
  return "";
}

std::span<const FactOption> fact_options() {
  // What each device's options mean in the guest model (hw/i386/intel_iommu.c,
  // hw/i386/amd_iommu.c, hw/virtio/virtio-iommu.c, hw/arm/smmuv3.c).
  static constexpr FactOption kFacts[] = {
      {"intel-iommu", "input_bits", "aw-bits", 39, 48},
      {"intel-iommu", "ats", "device-iotlb"},
      {"intel-iommu", "nested", "x-flts"},  // stage 1 bound to the host's: hardware nesting
      {"amd-iommu", "ats", "device-iotlb"},
      {"virtio-iommu-pci", "input_bits", "aw-bits"},
      {"virtio-iommu", "input_bits", "aw-bits"},
      {"arm-smmuv3", "output_bits", "oas", 44, 48},
      {"arm-smmuv3", "ssid_bits", "ssidsize"},
      {"arm-smmuv3", "nested", "accel"},
      {"arm-smmuv3", "ats", "ats"},
  };
  return kFacts;
}

const FactOption* option_of_fact(std::string_view device, std::string_view fact) {
  for (const FactOption& f : fact_options()) {
    if (f.device == device && f.fact == fact) return &f;
  }
  return nullptr;
}

std::string_view viommu_device(const GuestVmm& vmm) {
  if (const VmmSetting* device = find(vmm, "viommu")) return device->value;
  const VmmSetting* machine_iommu = find(vmm, "machine.iommu");
  if (machine_iommu != nullptr && machine_iommu->value == "smmuv3") return "smmuv3";
  return "";
}

namespace {

/// The option of the vIOMMU `device` that carries `fact` as a bool, at its position.
std::optional<Located<bool>> bool_fact(const GuestVmm& vmm, std::string_view device,
                                       std::string_view fact) {
  const FactOption* option = option_of_fact(device, fact);
  if (option == nullptr) return std::nullopt;
  const VmmSetting* s = find(vmm, "viommu." + std::string(option->option));
  if (s == nullptr) return std::nullopt;
  std::optional<bool> value = parse_bool(s->value);
  if (!value) return std::nullopt;  // the rule vmm.option_value reports it
  return Located<bool>{*value, s->pos};
}

/// The option of the vIOMMU `device` that carries `fact` as an integer, else its default at
/// the device's position.
std::optional<Located<int>> int_fact(const GuestVmm& vmm, std::string_view device,
                                     std::string_view fact, std::optional<int> fallback,
                                     SourcePos device_pos) {
  const FactOption* option = option_of_fact(device, fact);
  if (option == nullptr) return std::nullopt;
  if (const VmmSetting* s = find(vmm, "viommu." + std::string(option->option))) {
    std::optional<int64_t> value = parse_int(s->value);
    if (value && *value >= 0 && *value <= 1024)
      return Located<int>{static_cast<int>(*value), s->pos};
    return std::nullopt;
  }
  if (!fallback) return std::nullopt;
  return Located<int>{*fallback, device_pos};
}

/// "0000:3b:00.0" from QEMU's host= ("3b:00.0", "0000:3B:00.0") or sysfsdev= path.
std::string normalize_bdf(std::string value) {
  if (size_t slash = value.rfind('/'); slash != std::string::npos) value = value.substr(slash + 1);
  std::transform(value.begin(), value.end(), value.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (std::count(value.begin(), value.end(), ':') == 1) value = "0000:" + value;
  return value;
}

/// A nesting vIOMMU hands the kernel stage-1 data ([stage1]); what it can ask for at most
/// follows from the vIOMMU's own options, so the checker sees it without a [stage1] section.
/// intel-iommu x-flts=on: QEMU requires aw-bits=48 with it (vtd_decide_config) and advertises
/// neither ECAP.SRS nor ECAP.EAFS nor CAP.FL5LP (vtd_cap_init sets SMTS and FLTS only), so a
/// guest's first-stage tables are 4-level without SRE or EAFE. arm-smmuv3 accel=on: the guest
/// builds stage-1 vSTEs. Its S1CDMax (at most ssidsize) and EATS (translate with ats=on) are
/// left out: width.ssid_bits and feature.ats judge those facts already, with the option's name.
void derive_stage1(Guest& guest) {
  const GuestViommu& v = guest.viommu;
  if (!v.nested || !v.nested->value) return;
  GuestStage1 s;
  s.pos = v.nested->pos;
  if (v.model.value == kModelIntelVtd) {
    s.type = {Stage1Type::kVtdS1, v.nested->pos};
    s.addr_width = Located<int>{48, v.input_bits ? v.input_bits->pos : v.nested->pos};
    s.sre = Located<bool>{false, v.nested->pos};
    s.eafe = Located<bool>{false, v.nested->pos};
  } else if (v.model.value == kModelArmSmmuV3) {
    s.type = {Stage1Type::kArmSmmuV3, v.nested->pos};
    s.config = Located<SteConfig>{SteConfig::kS1Trans, v.nested->pos};
  } else {
    return;
  }
  guest.stage1 = std::move(s);
}

/// [vfio] from the VMM settings: the backend is iommufd when a vfio-pci device names an iommufd
/// object (QEMU iommufd=, libvirt <driver iommufd='yes'> or <iommufd enabled='yes'/>), legacy
/// when vfio-pci devices name none; confidential when the front end saw a confidential-guest
/// object the machine uses (QEMU) or a <launchSecurity> (libvirt). Nothing said: no [vfio].
void derive_vfio(Guest& guest) {
  const GuestVmm& vmm = guest.vmm;
  GuestVfio vfio;
  bool said = false;
  if (const VmmSetting* by_iommufd = find(vmm, "vfio-pci.iommufd")) {
    vfio.backend = Located<std::string>{"iommufd", by_iommufd->pos};
    said = true;
  } else if (const VmmSetting* host = find(vmm, "vfio-pci.host")) {
    // libvirt's domain-wide <iommufd/> puts every hostdev on it; QEMU's -object iommufd
    // alone does not (each vfio-pci names it with iommufd=).
    const VmmSetting* domain = find(vmm, "iommufd");
    const bool all = domain != nullptr && vmm.syntax == GuestSyntax::kLibvirt;
    vfio.backend = Located<std::string>{all ? "iommufd" : "legacy", all ? domain->pos : host->pos};
    said = true;
  }
  if (const VmmSetting* kind = find(vmm, "confidential")) {
    vfio.confidential = Located<std::string>{kind->value, kind->pos};
    said = true;
  }
  // QEMU vfio-pci enable-migration (OnOffAuto, 8.1): on asks for migration with the device,
  // off refuses it, auto (the default) says nothing.
  if (const VmmSetting* m = find(vmm, "vfio-pci.enable-migration")) {
    if (m->value == "on" || m->value == "off") {  // anything else: vmm.machine refuses it
      vfio.migration = Located<bool>{m->value == "on", m->pos};
      said = true;
    }
  }
  if (said) guest.vfio = std::move(vfio);
}

/// Machine types whose RAM above 4 GiB stays at 4 GiB on AMD: pc_q35_machine_7_0_options()
/// and older clear enforce_amd_1tb_hole (hw/i386/pc_q35.c), as QEMU before 7.1 does not know it.
bool keeps_ram_at_4g(const GuestVmm& vmm) {
  if (vmm.qemu_version < QemuVersion{7, 1}) return true;
  const VmmSetting* machine = find(vmm, "machine");
  if (machine == nullptr) return false;
  // pc-q35-7.0, pc-i440fx-6.2: the release is after the last '-'.
  const std::string& type = machine->value;
  if (!type.starts_with("pc-")) return false;
  const size_t dash = type.rfind('-');
  const std::string_view release = std::string_view(type).substr(dash + 1);
  const size_t dot = release.find('.');
  if (dot == std::string_view::npos) return false;
  const std::optional<int64_t> major = parse_int(release.substr(0, dot));
  const std::optional<int64_t> minor = parse_int(release.substr(dot + 1));
  if (!major || !minor) return false;
  return *major < 7 || (*major == 7 && *minor < 1);
}

/// [memory] from -m (size) and -cpu phys-bits (or libvirt's <memory>, <maxphysaddr>).
std::optional<GuestMemory> derive_memory(const GuestVmm& vmm) {
  const VmmSetting* m = find(vmm, "m");
  const VmmSetting* phys = find(vmm, "cpu.phys-bits");
  std::optional<GuestMemory> out;
  if (m != nullptr) {
    if (std::optional<uint64_t> size = parse_size(m->value)) {
      // vl.c set_memory_options(): sz = QEMU_ALIGN_UP(sz, 8192).
      const uint64_t aligned = (*size + 8191) / 8192 * 8192;
      if (aligned <= static_cast<uint64_t>(INT64_MAX)) {
        out.emplace().size = Located<uint64_t>{aligned, m->pos};
        if (keeps_ram_at_4g(vmm))
          out->above_4g_start = Located<uint64_t>{uint64_t{1} << 32, m->pos};
      }
    }
  }
  if (phys != nullptr) {
    std::optional<int64_t> bits = parse_int(phys->value);
    if (bits && *bits >= 1 && *bits <= 64) {
      if (!out) out.emplace();
      out->phys_bits = Located<int>{static_cast<int>(*bits), phys->pos};
    }
  }
  return out;
}

/// finish_guest's work: the errors, `guest` filled in.
std::vector<Error> derive_guest(Guest& guest) {
  const GuestVmm& vmm = guest.vmm;
  const VmmSetting* device = find(vmm, "viommu");
  const VmmSetting* machine_iommu = find(vmm, "machine.iommu");
  std::string type;
  SourcePos pos;
  if (device != nullptr) {
    type = device->value;
    pos = device->pos;
  } else if (machine_iommu != nullptr && machine_iommu->value == "smmuv3") {
    type = "smmuv3";
    pos = machine_iommu->pos;
  } else if (machine_iommu != nullptr && machine_iommu->value != "none") {
    // QEMU's own refusal (hw/arm/virt.c), and nothing else to read a vIOMMU from.
    const SourcePos at = machine_iommu->pos.line > 0 ? machine_iommu->pos : SourcePos{1, 1};
    return {{guest.file,
             machine_iommu->from + ": Invalid iommu value `" + machine_iommu->value +
                 "`: valid values are none, smmuv3",
             at}};
  } else {
    return {{guest.file,
             "no vIOMMU: expected -device intel-iommu|amd-iommu|virtio-iommu-pci|arm-smmuv3, "
             "-machine virt,iommu=smmuv3 or a libvirt <iommu model>"}};
  }
  GuestViommu& v = guest.viommu;
  v.model = {std::string(model_of_device(type)), pos};
  const VmmSetting* machine = find(vmm, "machine");
  const bool arm_virt = machine != nullptr && machine->value.starts_with("virt");
  const QemuVersion version = vmm.qemu_version;
  if (type == "intel-iommu") {
    // aw-bits default 39, 48 from 10.0: "intel_iommu: Set default aw_bits to 48 starting from
    // QEMU 9.2" was pulled in 2025-01, after 9.2.0, so the 9.2 binary still defaults to 39 (its
    // pc_compat_9_1 entry keeps 39 for machine types before 9.2).
    v.input_bits =
        int_fact(vmm, type, "input_bits", version >= QemuVersion{10, 0} ? 48 : 39, pos);
    v.ats = bool_fact(vmm, type, "ats");
    v.nested = bool_fact(vmm, type, "nested");
  } else if (type == "amd-iommu") {
    v.ats = bool_fact(vmm, type, "ats");
  } else if (type == "virtio-iommu-pci" || type == "virtio-iommu") {
    // The input range was 64 bits until 9.0 added aw-bits: 39 on q35, 48 on virt since then.
    std::optional<int> fallback = 64;
    if (version >= QemuVersion{9, 0}) fallback = arm_virt ? 48 : 39;
    v.input_bits = int_fact(vmm, type, "input_bits", fallback, pos);
  } else {  // SMMUv3: QEMU's emulation has OAS 44 and no PASIDs unless told otherwise
    // -machine virt,iommu=smmuv3 takes no options: read the -device's names for its defaults.
    const std::string_view smmu = "arm-smmuv3";
    v.output_bits = int_fact(vmm, smmu, "output_bits", 44, pos);
    v.ssid_bits = int_fact(vmm, smmu, "ssid_bits", std::nullopt, pos);
    v.nested = bool_fact(vmm, smmu, "nested");
    v.ats = bool_fact(vmm, smmu, "ats");
  }
  derive_stage1(guest);
  std::vector<Error> errors;
  for (const VmmSetting& s : vmm.settings) {
    if (s.name == "vfio-platform.host") {
      // host= is the platform device's name, sysfsdev= its sysfs path: the name either way.
      const size_t slash = s.value.rfind('/');
      guest.devices.push_back({{slash == std::string::npos ? s.value : s.value.substr(slash + 1),
                                s.pos}});
      continue;
    }
    if (s.name != "vfio-pci.host") continue;
    std::string bdf = normalize_bdf(s.value);
    // QEMU reads vfio-pci's host= as [domain:]bus:slot.function (DEFINE_PROP_PCI_HOST_DEVADDR,
    // set_pci_host_devaddr in hw/core/qdev-properties-system.c): a name without ':' is no PCI
    // address, and never a platform device.
    if (bdf.find(':') == std::string::npos) {
      errors.push_back({guest.file,
                        s.from + ": `" + s.value +
                            "` is not a PCI address [domain:]bus:slot.function (a platform "
                            "device is assigned with -device vfio-platform)",
                        s.pos});
      continue;
    }
    guest.devices.push_back({{std::move(bdf), s.pos}});
  }
  derive_vfio(guest);
  guest.memory = derive_memory(vmm);
  for (Error& e : validate_guest(guest)) errors.push_back(std::move(e));
  return errors;
}

}  // namespace

Guest start_guest(std::string_view file, GuestSyntax syntax, QemuVersion version) {
  Guest guest;
  guest.file = file;
  guest.vmm.syntax = syntax;
  guest.vmm.qemu_version = version;
  return guest;
}

tl::expected<Guest, std::vector<Error>> finish_guest(Guest guest) {
  std::vector<Error> errors = derive_guest(guest);
  if (!errors.empty()) return tl::unexpected(std::move(errors));
  return guest;
}

}  // namespace vmm

namespace {

/// One argument and the position of each of its characters in the text (one more for its end).
struct Word {
  std::string text;
  std::vector<SourcePos> pos;
};

/// One argument a line (argv from /proc/PID/cmdline with NULs as newlines). Blank lines and
/// lines starting with `#` are skipped.
std::vector<Word> split_lines(std::string_view text) {
  std::vector<Word> words;
  int line = 0;
  for (size_t at = 0; at <= text.size();) {
    size_t end = std::min(text.find_first_of("\n\0", at, 2), text.size());
    std::string_view l = text.substr(at, end - at);
    ++line;
    at = end + 1;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty() || l.front() == '#') continue;
    Word w{std::string(l), {}};
    for (size_t i = 0; i <= l.size(); ++i) w.pos.push_back({line, static_cast<int>(i) + 1});
    words.push_back(std::move(w));
  }
  return words;
}

/// Splits a POSIX-shell-quoted command: '...', "..." (with \" \\ \$ \`), \x, and
/// backslash-newline between words. An unterminated quote is an error at its position.
tl::expected<std::vector<Word>, Error> split_shell(std::string_view text, std::string_view file) {
  std::vector<Word> words;
  std::optional<Word> word;
  SourcePos p{1, 1};
  auto advance = [&](char c) {
    p = c == '\n' ? SourcePos{p.line + 1, 1} : SourcePos{p.line, p.column + 1};
  };
  auto put = [&](char c, SourcePos at) {
    if (!word) word = Word{};
    word->text += c;
    word->pos.push_back(at);
  };
  auto end_word = [&] {
    if (!word) return;
    word->pos.push_back(p);
    words.push_back(std::move(*word));
    word.reset();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      end_word();
    } else if (c == '#' && !word) {  // a comment, to the end of the line
      while (i + 1 < text.size() && text[i + 1] != '\n') advance(text[i++]);
    } else if (c == '\\') {
      advance(c);
      if (++i >= text.size()) break;
      if (text[i] != '\n') put(text[i], p);
      c = text[i];
    } else if (c == '\'' || c == '"') {
      const char quote = c;
      const SourcePos open = p;
      if (!word) word = Word{};
      advance(c);
      ++i;
      for (; i < text.size() && text[i] != quote; ++i) {
        if (quote == '"' && text[i] == '\\' && i + 1 < text.size() &&
            std::string_view("\"\\$`").find(text[i + 1]) != std::string_view::npos) {
          advance(text[i++]);
        }
        put(text[i], p);
        advance(text[i]);
      }
      if (i >= text.size()) {
        return tl::unexpected(
            Error{std::string(file), std::string("unterminated ") + quote + " quote", open});
      }
      c = quote;
    } else {
      put(c, p);
    }
    advance(c);
  }
  end_word();
  return words;
}

/// A line-per-argument file, unless some line holds a word followed by an option (`qemu -m 1`),
/// an option and its value (`-m 1G`), or ends with a backslash: then a shell-quoted command.
bool is_shell_form(std::string_view text) {
  for (size_t at = 0; at < text.size();) {
    size_t end = std::min(text.find('\n', at), text.size());
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    if (line.back() == '\\' || line.find(" -") != std::string_view::npos) return true;
    if (line.front() == '-' && line.find(' ') != std::string_view::npos) return true;
  }
  return false;
}

/// One key=value of an option argument and where its key starts.
struct Item {
  std::string key;
  std::string value;
  SourcePos pos;
};

/// QemuOpts: "first,key=value,flag,..." where `,,` is a literal comma; the first item without
/// `=` is `implied` (the driver, machine type, accelerator...). A bare key means key=on.
std::vector<Item> split_opts(const Word& w, std::string_view implied) {
  std::vector<Item> items;
  const std::string& t = w.text;
  size_t i = 0;
  bool first = true;
  while (i <= t.size()) {
    std::string part;
    const size_t start = i;
    for (; i < t.size(); ++i) {
      if (t[i] == ',') {
        if (i + 1 < t.size() && t[i + 1] == ',') {
          part += ',';
          ++i;
          continue;
        }
        break;
      }
      part += t[i];
    }
    ++i;  // past the comma
    if (part.empty() && !first) continue;
    size_t eq = part.find('=');
    Item item{part, "on", w.pos[start]};
    if (eq != std::string::npos) {
      item.key = part.substr(0, eq);
      item.value = part.substr(eq + 1);
    } else if (first && !implied.empty()) {
      item.key = std::string(implied);
      item.value = part;
    }
    items.push_back(std::move(item));
    first = false;
  }
  return items;
}

/// A flat JSON object as libvirt passes to -device and -object ({"driver":"intel-iommu",
/// "caching-mode":true}); values are strings, numbers or booleans. Nested values are kept as
/// their text. Empty when the word is not such an object.
std::vector<Item> split_json(const Word& w) {
  std::vector<Item> items;
  const std::string& t = w.text;
  size_t i = 1;
  auto skip = [&] {
    while (i < t.size() && std::isspace(static_cast<unsigned char>(t[i]))) ++i;
  };
  auto string_at = [&](std::string& out) {
    if (i >= t.size() || t[i] != '"') return false;
    for (++i; i < t.size() && t[i] != '"'; ++i) {
      if (t[i] == '\\' && i + 1 < t.size()) ++i;
      out += t[i];
    }
    ++i;
    return i <= t.size();
  };
  while (true) {
    skip();
    if (i >= t.size() || t[i] == '}') break;
    Item item;
    item.pos = w.pos[i];
    if (!string_at(item.key)) return {};
    skip();
    if (i >= t.size() || t[i] != ':') return {};
    ++i;
    skip();
    if (i < t.size() && t[i] == '"') {
      if (!string_at(item.value)) return {};
    } else {
      int depth = 0;
      for (; i < t.size() && (depth > 0 || (t[i] != ',' && t[i] != '}')); ++i) {
        if (t[i] == '{' || t[i] == '[') ++depth;
        if (t[i] == '}' || t[i] == ']') --depth;
        item.value += t[i];
      }
      while (!item.value.empty() && std::isspace(static_cast<unsigned char>(item.value.back())))
        item.value.pop_back();
      if (item.value == "true") item.value = "on";
      if (item.value == "false") item.value = "off";
    }
    items.push_back(std::move(item));
    skip();
    if (i < t.size() && t[i] == ',') ++i;
  }
  return items;
}

/// Options that take no argument (qemu-options.hx); any other option takes the next word.
bool is_flag(std::string_view option) {
  static constexpr std::string_view kFlags[] = {"S",
                                                "nographic",
                                                "nodefaults",
                                                "no-user-config",
                                                "no-reboot",
                                                "no-shutdown",
                                                "enable-kvm",
                                                "daemonize",
                                                "snapshot",
                                                "no-hpet",
                                                "no-acpi",
                                                "usb",
                                                "s",
                                                "full-screen",
                                                "no-fd-bootchk",
                                                "sandbox-off",
                                                "version",
                                                "help",
                                                "preconfig",
                                                "only-migratable",
                                                "enable-sync-profile"};
  return std::find(std::begin(kFlags), std::end(kFlags), option) != std::end(kFlags);
}

class QemuReader {
 public:
  explicit QemuReader(Guest& guest) : guest_(guest) {}

  void read(const std::vector<Word>& words) {
    size_t i = 0;
    // Environment assignments and the program name (as ps and libvirt logs print them).
    while (i < words.size() && !words[i].text.starts_with("-")) ++i;
    // argv numbering: the program is argument 0; an argv file without it starts at 1.
    const size_t first = i == 0 ? 1 : 0;
    const size_t program = i == 0 ? 0 : i - 1;
    for (; i < words.size(); ++i) {
      const Word& word = words[i];
      const size_t index = i - program + first;
      // A word that is not an option is a disk image to QEMU (vl.c: drive_add(IF_DEFAULT)):
      // it takes no argument, and even an empty one ('') is no option to read a name from.
      if (!word.text.starts_with("-")) {
        add("unchecked", word.text, word.pos[0], "argument " + std::to_string(index) + " (image)");
        continue;
      }
      std::string option = word.text.substr(word.text.starts_with("--") ? 2 : 1);
      const Word* arg = nullptr;
      if (!is_flag(option) && i + 1 < words.size()) arg = &words[++i];
      read_option(option, word, arg, index);
    }
    // A confidential-guest object counts when the machine uses it.
    const VmmSetting* uses = vmm::find(guest_.vmm, "machine.confidential-guest-support");
    for (size_t k = 0, n = guest_.vmm.settings.size(); k < n; ++k) {
      const VmmSetting s = guest_.vmm.settings[k];
      if (s.name != "confidential-object" || uses == nullptr) continue;
      const size_t comma = s.value.find(',');
      if (s.value.substr(comma + 1) == uses->value) {
        add("confidential", s.value.substr(0, comma), s.pos, s.from);
      }
    }
  }

 private:
  void add(std::string name, std::string value, SourcePos pos, std::string from) {
    guest_.vmm.settings.push_back({std::move(name), std::move(value), pos, std::move(from)});
  }

  /// "argument 7 (-device intel-iommu)": the argument's number in argv (the program is 0) and
  /// the option with the first item of its value.
  static std::string from(size_t index, std::string_view option, const Word* arg) {
    std::string text = "-" + std::string(option);
    if (arg != nullptr) {
      std::string first = arg->text.substr(0, arg->text.find(','));
      if (first.starts_with("{")) first = "{...}";
      text += " " + first.substr(0, 40);
    }
    return "argument " + std::to_string(index) + " (" + text + ")";
  }

  void read_option(const std::string& option, const Word& word, const Word* arg, size_t index) {
    const std::string f = from(index, option, arg);
    if (arg == nullptr) {
      if (option == "enable-kvm") return add("accel", "kvm", word.pos[0], f);
      return add("unchecked", "-" + option, word.pos[0], f);
    }
    const bool json = arg->text.starts_with("{");
    if (option == "device")
      return read_device(json ? split_json(*arg) : split_opts(*arg, "driver"), f);
    if (option == "object")
      return read_object(json ? split_json(*arg) : split_opts(*arg, "qom-type"), f);
    if (option == "machine" || option == "M") {
      for (const Item& item : split_opts(*arg, "type")) {
        if (item.key == "type") {
          add("machine", item.value, item.pos, f);
        } else if (item.key == "accel") {
          add("accel", item.value, item.pos, f + ", option accel");
        } else {
          add("machine." + item.key, item.value, item.pos, f + ", option " + item.key);
        }
      }
      return;
    }
    if (option == "accel") {
      for (const Item& item : split_opts(*arg, "accel")) {
        if (item.key == "accel") add("accel", item.value, item.pos, f);
        if (item.key == "kernel-irqchip")
          add("machine.kernel-irqchip", item.value, item.pos, f + ", option kernel-irqchip");
      }
      return;
    }
    if (option == "m") {
      for (const Item& item : split_opts(*arg, "size")) {
        if (item.key == "size") add("m", item.value, item.pos, f);
      }
      return;
    }
    if (option == "smp") {
      for (const Item& item : split_opts(*arg, "cpus")) {
        if (item.key == "cpus" || item.key == "maxcpus") add("smp", item.value, item.pos, f);
      }
      return;
    }
    if (option == "cpu") {
      for (const Item& item : split_opts(*arg, "model")) {
        if (item.key == "model") add("cpu", item.value, item.pos, f);
        if (item.key == "phys-bits")
          add("cpu.phys-bits", item.value, item.pos, f + ", option phys-bits");
        // x2apic=on|off, or the legacy +x2apic / -x2apic.
        if (item.key == "x2apic" || item.key == "+x2apic" || item.key == "-x2apic") {
          add("cpu.x2apic", item.key == "-x2apic" ? "off" : item.value, item.pos,
              f + ", option " + item.key);
        }
      }
      return;
    }
    add("unchecked", "-" + option, word.pos[0], f);
  }

  void read_device(const std::vector<Item>& items, const std::string& f) {
    auto driver =
        std::find_if(items.begin(), items.end(), [](const Item& i) { return i.key == "driver"; });
    if (driver == items.end()) return add("unchecked", "-device", {}, f);
    if (!vmm::model_of_device(driver->value).empty()) {
      add("viommu", driver->value, driver->pos, f);
      for (const Item& item : items) {
        if (&item != &*driver)
          add("viommu." + item.key, item.value, item.pos, f + ", option " + item.key);
      }
      return;
    }
    if (driver->value == "vfio-pci") {
      for (const Item& item : items) {
        if (item.key == "host" || item.key == "sysfsdev")
          add("vfio-pci.host", item.value, item.pos, f + ", option " + item.key);
        if (item.key == "iommufd")
          add("vfio-pci.iommufd", item.value, item.pos, f + ", option iommufd");
        if (item.key == "enable-migration")
          add("vfio-pci.enable-migration", item.value, item.pos, f + ", option enable-migration");
      }
      return;
    }
    if (driver->value == "vfio-platform") {
      for (const Item& item : items) {
        if (item.key == "host" || item.key == "sysfsdev")
          add("vfio-platform.host", item.value, item.pos, f + ", option " + item.key);
      }
      return;
    }
    add("unchecked", "-device " + driver->value, driver->pos, f);
  }

  void read_object(const std::vector<Item>& items, const std::string& f) {
    auto type =
        std::find_if(items.begin(), items.end(), [](const Item& i) { return i.key == "qom-type"; });
    auto id = std::find_if(items.begin(), items.end(), [](const Item& i) { return i.key == "id"; });
    if (type != items.end() && type->value == "iommufd") {
      return add("iommufd", id != items.end() ? id->value : "", type->pos, f);
    }
    // A confidential guest: -object sev-guest|sev-snp-guest|tdx-guest,id=X used by
    // -machine confidential-guest-support=X (hw/core/machine.c, target/i386/sev.c, tdx.c).
    if (type != items.end() &&
        (type->value == "sev-guest" || type->value == "sev-snp-guest" ||
         type->value == "tdx-guest")) {
      const std::string kind = type->value.substr(0, type->value.size() - 6);  // "-guest"
      return add("confidential-object", kind + "," + (id != items.end() ? id->value : ""),
                 type->pos, f);
    }
    add("unchecked", "-object", items.empty() ? SourcePos{} : items.front().pos, f);
  }

  Guest& guest_;
};

}  // namespace

GuestInputKind detect_guest_input(std::string_view text) {
  for (size_t at = 0; at < text.size();) {
    size_t end = std::min(text.find('\n', at), text.size());
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    line.remove_prefix(std::min(line.find_first_not_of(" \t\r"), line.size()));
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '<') return GuestInputKind::kLibvirt;
    // A TOML line is `key = value` or `[table]`; a command line has an option before any '='.
    if (line.front() == '[') return GuestInputKind::kToml;
    size_t option = line.find('-') == 0 ? 0 : line.find(" -");
    size_t equals = line.find('=');
    if (option != std::string_view::npos && (equals == std::string_view::npos || option < equals))
      return GuestInputKind::kQemu;
    if (line.find("qemu-system") != std::string_view::npos ||
        (line.find("qemu") != std::string_view::npos && equals == std::string_view::npos))
      return GuestInputKind::kQemu;  // the program, alone (argv file) or after VAR=value
    if (equals != std::string_view::npos && line.find(" -") != std::string_view::npos)
      return GuestInputKind::kQemu;  // LC_ALL=C PATH=... qemu-system-x86_64 -name ...
    return GuestInputKind::kToml;
  }
  return GuestInputKind::kToml;
}

Result<QemuVersion> parse_qemu_version(std::string_view text) {
  QemuVersion v;
  const char* end = text.data() + text.size();
  auto [p1, e1] = std::from_chars(text.data(), end, v.major);
  if (e1 != std::errc() || p1 == end || *p1 != '.') {
    return make_error("--qemu-version",
                      "expected MAJOR.MINOR (7.2, 10.0), got `" + std::string(text) + "`");
  }
  auto [p2, e2] = std::from_chars(p1 + 1, end, v.minor);
  if (e2 != std::errc() || (p2 != end && *p2 != '.') || v.major < 2 || v.major > 99) {
    return make_error("--qemu-version",
                      "expected MAJOR.MINOR (7.2, 10.0), got `" + std::string(text) + "`");
  }
  return v;
}

tl::expected<Guest, std::vector<Error>> parse_qemu_guest(std::string_view text,
                                                         std::string_view file,
                                                         QemuVersion version) {
  Guest guest = vmm::start_guest(file, GuestSyntax::kQemu, version);
  std::vector<Word> words;
  if (is_shell_form(text)) {
    auto split = split_shell(text, file);
    if (!split) return tl::unexpected(std::vector<Error>{split.error()});
    words = std::move(*split);
  } else {
    words = split_lines(text);
  }
  QemuReader(guest).read(words);
  return vmm::finish_guest(std::move(guest));
}

}  // namespace caps
