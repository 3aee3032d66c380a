// SPDX-License-Identifier: MIT
// The libvirt domain XML front end, the only file that reads XML (libxml2, the parser libvirt
// itself uses): the elements that bear on the vIOMMU, turned into the QEMU-spelled settings
// libvirt would pass, each at the line:col of the user's attribute or element.
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libcaps/guest_vmm.h"
#include "vmm_internal.h"

namespace caps {
namespace {

/// libvirt's <iommu model> to QEMU's device type.
std::string device_of_model(std::string_view model) {
  if (model == "intel") return "intel-iommu";
  if (model == "amd") return "amd-iommu";
  if (model == "virtio") return "virtio-iommu-pci";
  if (model == "smmuv3") return "arm-smmuv3";
  return "";
}

/// libvirt's <driver> attributes of <iommu> and the QEMU options libvirt turns them into
/// (src/qemu/qemu_command.c, qemuBuildIOMMUCommandLine).
struct DriverAttr {
  std::string_view attribute;
  std::string_view option;
};
constexpr DriverAttr kDriverAttrs[] = {
    {"intremap", "intremap"}, {"caching_mode", "caching-mode"},
    {"eim", "eim"},           {"iotlb", "device-iotlb"},
    {"aw_bits", "aw-bits"},   {"dma_translation", "dma-translation"},
    {"xtsup", "xtsup"},       {"passthrough", "pt"},
    {"granule", "granule"},   {"accel", "accel"},
    {"ats", "ats"},           {"ril", "ril"},
    {"ssidSize", "ssidsize"}, {"oas", "oas"}};

}  // namespace

namespace vmm {

std::string_view libvirt_attribute_of(std::string_view option) {
  for (const DriverAttr& a : kDriverAttrs) {
    if (a.option == option) return a.attribute;
  }
  return "";
}

std::string_view libvirt_model_of(std::string_view device) {
  for (std::string_view model : {"intel", "amd", "virtio", "smmuv3"}) {
    if (device_of_model(model) == device) return model;
  }
  if (device == "virtio-iommu") return "virtio";
  if (device == "smmuv3") return "smmuv3";  // -machine virt,iommu=smmuv3
  return "";
}

}  // namespace vmm

namespace {

class DomainReader {
 public:
  DomainReader(std::string_view text, Guest& guest) : text_(text), guest_(guest) {
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  void read(xmlNode* domain) {
    if (std::string type = attr(domain, "type"); !type.empty()) {
      add("accel", type == "kvm" ? "kvm" : "tcg", domain, "type", "<domain type='" + type + "'>");
    }
    for (xmlNode* n = domain->children; n != nullptr; n = n->next) {
      if (n->type != XML_ELEMENT_NODE) continue;
      std::string name = reinterpret_cast<const char*>(n->name);
      if (name == "memory") read_memory(n);
      if (name == "vcpu") add("smp", content(n), n, "", "<vcpu>" + content(n) + "</vcpu>");
      if (name == "iommufd" && attr(n, "enabled") != "no") {
        add("iommufd", "iommufd0", n, "", "<iommufd>");
      }
      // <launchSecurity type='sev|sev-snp|tdx'>: a confidential guest (docs/formatdomain).
      if (name == "launchSecurity") {
        const std::string type = attr(n, "type");
        if (type == "sev" || type == "sev-snp" || type == "tdx") {
          add("confidential", type, n, "type", "<launchSecurity type='" + type + "'>");
        } else {
          add("unchecked", "<launchSecurity type='" + type + "'>", n, "type",
              "<launchSecurity type='" + type + "'>");
        }
      }
      if (name == "os") read_os(n);
      if (name == "features") read_features(n);
      if (name == "cpu") read_cpu(n);
      if (name == "devices") read_devices(n);
    }
  }

 private:
  static std::string attr(xmlNode* n, const char* name) {
    xmlChar* value = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
    if (value == nullptr) return "";
    std::string out = reinterpret_cast<const char*>(value);
    xmlFree(value);
    return out;
  }

  static std::string content(xmlNode* n) {
    xmlChar* value = xmlNodeGetContent(n);
    std::string out = value != nullptr ? reinterpret_cast<const char*>(value) : "";
    xmlFree(value);
    size_t b = out.find_first_not_of(" \t\n");
    size_t e = out.find_last_not_of(" \t\n");
    return b == std::string::npos ? "" : out.substr(b, e - b + 1);
  }

  static xmlNode* child(xmlNode* n, std::string_view name) {
    for (xmlNode* c = n->children; c != nullptr; c = c->next) {
      if (c->type == XML_ELEMENT_NODE && name == reinterpret_cast<const char*>(c->name)) return c;
    }
    return nullptr;
  }

  /// libxml2 keeps only an element's line (where its start tag ends): the column is found in
  /// the text, at the last `<name` up to the end of that line, then at `attribute=` after it.
  SourcePos pos_of(xmlNode* n, std::string_view attribute) const {
    const long line = xmlGetLineNo(n);
    if (line < 1 || static_cast<size_t>(line) > line_starts_.size()) return {1, 1};
    const size_t line_end =
        static_cast<size_t>(line) < line_starts_.size() ? line_starts_[line] : text_.size();
    size_t at = text_.rfind("<" + std::string(reinterpret_cast<const char*>(n->name)), line_end);
    if (at == std::string_view::npos) return {static_cast<int>(line), 1};
    if (!attribute.empty()) {
      size_t end = text_.find('>', at);
      size_t found = text_.find(std::string(attribute) + "=", at);
      if (found != std::string_view::npos && found < end) at = found;
    }
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), at);
    const size_t start = *(it - 1);
    return {static_cast<int>(it - line_starts_.begin()), static_cast<int>(at - start) + 1};
  }

  void add(std::string name, std::string value, xmlNode* n, std::string_view attribute,
           std::string from) {
    guest_.vmm.settings.push_back(
        {std::move(name), std::move(value), pos_of(n, attribute), std::move(from)});
  }

  /// libvirt's memory units (docs/formatdomain.rst, "Memory Allocation"; virScaleInteger):
  /// b/bytes, KB MB GB TB PB EB powers of 1000, k/KiB M/MiB G/GiB T/TiB P/PiB E/EiB powers of
  /// 1024 (the letter in either case); KiB when no unit is given.
  static std::optional<uint64_t> unit_bytes(std::string_view unit) {
    if (unit.empty()) return 1024;
    if (unit == "b" || unit == "bytes") return 1;
    static constexpr std::string_view kLetters = "KMGTPE";
    const char first = static_cast<char>(std::toupper(static_cast<unsigned char>(unit.front())));
    const size_t power = kLetters.find(first);
    if (power == std::string_view::npos) return std::nullopt;
    std::string rest(unit.substr(1));
    for (char& c : rest) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    uint64_t base = 0;
    if (rest.empty() || rest == "ib") base = 1024;
    if (rest == "b") base = 1000;
    if (base == 0) return std::nullopt;
    uint64_t out = 1;
    for (size_t i = 0; i <= power; ++i) out *= base;
    return out;
  }

  void read_memory(xmlNode* n) {
    std::string unit = attr(n, "unit");
    std::string value = content(n);
    const std::string from = "<memory unit='" + unit + "'>" + value + "</memory>";
    const std::optional<uint64_t> scale = unit_bytes(unit);
    const std::optional<int64_t> number = vmm::parse_int(value);
    if (!scale || !number || *number <= 0 || value.starts_with("0x") ||
        static_cast<uint64_t>(*number) > static_cast<uint64_t>(INT64_MAX) / *scale) {
      // No size is read from it (parse_size refuses the unit's text).
      return add("m", "unit='" + unit + "' " + value, n, "", from);
    }
    // libvirt rounds the initial memory up to 1 MiB on x86 and Arm
    // (qemuDomainAlignMemorySizes) and passes it to -m in KiB.
    const uint64_t bytes = static_cast<uint64_t>(*number) * *scale;
    const uint64_t mib = (bytes + (uint64_t{1} << 20) - 1) >> 20;
    add("m", std::to_string(mib * 1024) + "k", n, "", from);
  }

  void read_os(xmlNode* os) {
    if (xmlNode* type = child(os, "type")) {
      if (std::string machine = attr(type, "machine"); !machine.empty()) {
        add("machine", machine, type, "machine", "<type machine='" + machine + "'>");
      }
    }
  }

  void read_features(xmlNode* features) {
    if (xmlNode* ioapic = child(features, "ioapic")) {
      std::string driver = attr(ioapic, "driver");
      add("ioapic", driver, ioapic, "driver", "<ioapic driver='" + driver + "'>");
      // libvirt passes <ioapic driver='qemu'/> as kernel_irqchip=split, 'kvm' as on.
      add("machine.kernel-irqchip", driver == "qemu" ? "split" : "on", ioapic, "driver",
          "<ioapic driver='" + driver + "'>");
    }
  }

  void read_cpu(xmlNode* cpu) {
    // mode='emulate' bits='N' is phys-bits=N; mode='passthrough' (host-phys-bits, with an
    // optional limit=) fixes no width.
    if (xmlNode* max = child(cpu, "maxphysaddr"); max && attr(max, "mode") != "passthrough") {
      if (std::string bits = attr(max, "bits"); !bits.empty()) {
        add("cpu.phys-bits", bits, max, "bits", "<maxphysaddr bits='" + bits + "'>");
      }
    }
  }

  void read_devices(xmlNode* devices) {
    for (xmlNode* n = devices->children; n != nullptr; n = n->next) {
      if (n->type != XML_ELEMENT_NODE) continue;
      std::string name = reinterpret_cast<const char*>(n->name);
      if (name == "iommu") {
        read_iommu(n);
      } else if (name == "hostdev") {
        read_hostdev(n);
      }
    }
  }

  void read_iommu(xmlNode* iommu) {
    std::string model = attr(iommu, "model");
    std::string device = device_of_model(model);
    std::string from = "<iommu model='" + model + "'>";
    xmlNode* driver = child(iommu, "driver");
    if (device.empty()) {
      return add("unchecked", "<iommu model='" + model + "'>", iommu, "model", from);
    }
    // Without per-bus attributes libvirt gives SMMUv3 as the virt machine's iommu=smmuv3.
    const bool machine_smmu =
        device == "arm-smmuv3" &&
        (driver == nullptr || (attr(driver, "pciBus").empty() && attr(driver, "accel").empty()));
    if (machine_smmu) {
      add("machine.iommu", "smmuv3", iommu, "model", from);
    } else {
      add("viommu", device, iommu, "model", from);
    }
    if (driver == nullptr) return;
    for (xmlAttr* a = driver->properties; a != nullptr; a = a->next) {
      std::string name = reinterpret_cast<const char*>(a->name);
      std::string value = attr(driver, name.c_str());
      std::string where = "<driver " + name + "='" + value + "'>";
      auto known = std::find_if(std::begin(kDriverAttrs), std::end(kDriverAttrs),
                                [&](const DriverAttr& d) { return d.attribute == name; });
      if (known == std::end(kDriverAttrs)) {
        add("unchecked", where, driver, name, where);
      } else {
        add("viommu." + std::string(known->option), value, driver, name, where);
      }
    }
  }

  void read_hostdev(xmlNode* hostdev) {
    if (attr(hostdev, "mode") != "subsystem" || attr(hostdev, "type") != "pci") {
      return add("unchecked", "<hostdev>", hostdev, "", "<hostdev>");
    }
    xmlNode* source = child(hostdev, "source");
    xmlNode* address = source != nullptr ? child(source, "address") : nullptr;
    if (address == nullptr) return add("unchecked", "<hostdev>", hostdev, "", "<hostdev>");
    // 0x0000, 0x3b, 0x00, 0x0 -> 0000:3b:00.0
    auto hex = [&](const char* name, int width) {
      std::string v = attr(address, name);
      if (v.starts_with("0x")) v = v.substr(2);
      while (static_cast<int>(v.size()) < width) v = "0" + v;
      return v;
    };
    std::string bdf =
        hex("domain", 4) + ":" + hex("bus", 2) + ":" + hex("slot", 2) + "." + hex("function", 1);
    // An <address> without bus, slot or function names no device (validate_guest refuses it).
    if (attr(address, "bus").empty() || attr(address, "slot").empty() ||
        attr(address, "function").empty()) {
      bdf = "<address> without bus, slot or function";
    }
    add("vfio-pci.host", bdf, address, "", "<hostdev> <address> " + bdf);
    if (xmlNode* driver = child(hostdev, "driver"); driver && attr(driver, "iommufd") == "yes") {
      add("vfio-pci.iommufd", "iommufd0", driver, "iommufd", "<driver iommufd='yes'>");
    } else if (xmlNode* fd = child(hostdev, "iommufd"); fd && attr(fd, "enabled") == "yes") {
      add("vfio-pci.iommufd", "iommufd0", fd, "enabled", "<iommufd enabled='yes'/>");
    }
  }

  std::string_view text_;
  Guest& guest_;
  std::vector<size_t> line_starts_ = {0};
};

struct DocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};

}  // namespace

tl::expected<Guest, std::vector<Error>> parse_libvirt_guest(std::string_view text,
                                                            std::string_view file,
                                                            QemuVersion version) {
  Guest guest = vmm::start_guest(file, GuestSyntax::kLibvirt, version);
  // No network, no entity expansion, no DTD loading: a domain file is read as it stands.
  std::unique_ptr<xmlDoc, DocFree> doc(
      xmlReadMemory(text.data(), static_cast<int>(text.size()), std::string(file).c_str(), nullptr,
                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc) {
    const xmlError* e = xmlGetLastError();
    const SourcePos at{e ? e->line : 1, e && e->int2 > 0 ? e->int2 : 1};
    std::string message = e && e->message ? e->message : "not well-formed";
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return tl::unexpected(std::vector<Error>{{std::string(file), "invalid XML: " + message, at}});
  }
  xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr || std::string_view(reinterpret_cast<const char*>(root->name)) != "domain") {
    return tl::unexpected(std::vector<Error>{
        {std::string(file), "not a libvirt domain: the root element is not <domain>", {1, 1}}});
  }
  DomainReader(text, guest).read(root);
  return vmm::finish_guest(std::move(guest));
}

}  // namespace caps
