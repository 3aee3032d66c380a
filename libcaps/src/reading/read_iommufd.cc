// SPDX-License-Identifier: MIT
// probe_iommufd(): asks iommufd about each vfio-pci function with a vfio cdev and attaches the
// answers to the device and to the unit its `iommu` link names (docs/iommufd.md).
#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "libcaps/caps_properties.h"
#include "libcaps/decode.h"
#include "libcaps/parse.h"
#include "libcaps/iommufd.h"
#include "sources/iommufd_uapi.h"

namespace caps {

std::string iommufd_data_type_name(uint32_t type) {
  switch (type) {
    case uapi::kHwInfoTypeNone: return "none";
    case uapi::kHwInfoTypeIntelVtd: return "intel-vtd";
    case uapi::kHwInfoTypeArmSmmuv3: return "arm-smmuv3";
    case uapi::kHwInfoTypeTegra241Cmdqv: return "tegra241-cmdqv";
    case uapi::kHwInfoTypeAmd: return "amd";
    default: return "type-" + std::to_string(type);
  }
}

namespace {

/// The vendor data buffer: larger than every vendor structure the kernel has (40 bytes today);
/// a longer one is kept to this length and its data_len says how long it was.
constexpr uint32_t kDataBuffer = 256;

/// Kernel releases that added fields of struct iommu_hw_info (iommufd_uapi.h).
constexpr KernelVersion kCdevKernel{6, 6};          // VFIO cdevs, IOMMU_GET_HW_INFO
constexpr KernelVersion kCapabilitiesKernel{6, 7};  // out_capabilities
constexpr KernelVersion kPasidKernel{6, 15};        // out_max_pasid_log2

std::string hex_string(const std::vector<uint8_t>& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

template <class T>
T load(const std::vector<uint8_t>& bytes, std::size_t offset) {
  T value{};
  if (offset + sizeof(T) <= bytes.size()) std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

/// What an errno means at each step, in words a user can act on.
std::string why(std::string_view step, int error) {
  std::string text = std::string(step) + ": " + errno_name(error);
  std::string_view hint;
  if (step.starts_with("VFIO_DEVICE_BIND") && error == EPERM) {
    // iommufd_device_bind() (drivers/iommu/iommufd/device.c): a group whose MSIs the platform
    // cannot isolate is refused unless iommufd.allow_unsafe_interrupts=1. Found on the VM
    // tier's arm64 guest, whose GICv2m isolates nothing (its GICv3 ITS does).
    hint = "not permitted: the platform does not isolate the device's MSIs (no interrupt "
           "remapping, no GICv3 ITS) and iommufd.allow_unsafe_interrupts is off";
  } else if (step.starts_with("VFIO_DEVICE_BIND") && error == EACCES) {
    // vfio_pci_validate_vf_token() (drivers/vfio/pci/vfio_pci_core.c).
    hint = "not permitted: an SR-IOV VF whose PF is on vfio-pci needs the PF's VF token";
  } else if (error == EACCES || error == EPERM) {
    hint = "not permitted: run as root (or as the user libvirt gave the device to)";
  } else if (step.starts_with("open /dev/vfio") && error == ENOENT) {
    hint = "no device node: udev did not create it, or the tree is not this machine's";
  } else if (step.starts_with("VFIO_DEVICE_BIND") && error == EBUSY) {
    hint = "its group is open through the legacy VFIO container API (a running VM?)";
  } else if (step.starts_with("VFIO_DEVICE_BIND") && error == EINVAL) {
    hint = "the device is already open through its cdev (a running VM?)";
  } else if (error == ENOTTY) {
    hint = "the kernel does not know this ioctl (before 6.6)";
  } else if (step.starts_with("IOMMU_GET_HW_INFO") && error == EOPNOTSUPP) {
    hint = "the kernel did not understand a field this version sent";
  } else if (step.starts_with("IOMMU_GET_HW_INFO") && error == EINVAL) {
    hint = "the kernel refused the structure's size";
  }
  if (!hint.empty()) text += " (" + std::string(hint) + ")";
  return text;
}

/// The vendor data by uapi member names.
std::vector<Field> vendor_fields(uint32_t type, const std::vector<uint8_t>& data) {
  std::vector<Field> fields;
  if (type == uapi::kHwInfoTypeIntelVtd && data.size() >= sizeof(uapi::IommuHwInfoVtd)) {
    fields.push_back({"flags", load<uint32_t>(data, offsetof(uapi::IommuHwInfoVtd, flags))});
    fields.push_back({"cap_reg", load<uint64_t>(data, offsetof(uapi::IommuHwInfoVtd, cap_reg))});
    fields.push_back({"ecap_reg", load<uint64_t>(data, offsetof(uapi::IommuHwInfoVtd, ecap_reg))});
  } else if (type == uapi::kHwInfoTypeArmSmmuv3 &&
             data.size() >= sizeof(uapi::IommuHwInfoArmSmmuv3)) {
    fields.push_back({"flags", load<uint32_t>(data, offsetof(uapi::IommuHwInfoArmSmmuv3, flags))});
    for (int i = 0; i < 6; ++i) {
      fields.push_back({"idr" + std::to_string(i),
                        load<uint32_t>(data, offsetof(uapi::IommuHwInfoArmSmmuv3, idr) + 4 * i)});
    }
    fields.push_back({"iidr", load<uint32_t>(data, offsetof(uapi::IommuHwInfoArmSmmuv3, iidr))});
    fields.push_back({"aidr", load<uint32_t>(data, offsetof(uapi::IommuHwInfoArmSmmuv3, aidr))});
  }
  return fields;
}

uint64_t field_value(const std::vector<Field>& fields, std::string_view name) {
  for (const Field& f : fields) {
    if (f.name == name) return f.value;
  }
  return 0;
}

const Register* sysfs_register(const Unit& unit, std::string_view file) {
  for (const RegisterFile& r : unit.registers) {
    if (r.file == file) return &r.main;
  }
  return nullptr;
}

/// Fills what sysfs left unknown from a decoded answer: each unknown property with the
/// normalizer's value and evidence (prefixed with where it came from), extras not already there.
void fill_unknown(Unit& unit, const Normalized& normalized, const std::string& via) {
  for_each_caps_property([&](const auto& property) {
    auto& mine = unit.caps.*property.member;
    const auto& theirs = normalized.caps.*property.member;
    if (mine || !theirs) return;
    mine = theirs;
    const std::string name(property.name);
    if (auto it = normalized.evidence.find(name); it != normalized.evidence.end()) {
      unit.evidence[name] = via + ": " + it->second;
    }
  });
  for (const auto& [key, value] : normalized.extra) unit.extra.try_emplace(key, value);
}

/// Fills the unit's iommufd facts from one device's answer.
void attach_to_unit(Unit& unit, const std::string& device, uint32_t type, uint32_t data_len,
                    const std::vector<uint8_t>& data, const IommufdDeviceInfo& info) {
  IommufdUnitInfo facts;
  facts.device = device;
  facts.data_type = type;
  facts.data_len = data_len;
  facts.data = hex_string(data);
  facts.fields = vendor_fields(type, data);
  if (type == uapi::kHwInfoTypeIntelVtd && !facts.fields.empty()) {
    // The same decoder as sysfs intel-iommu/cap and ecap.
    const uint64_t cap = field_value(facts.fields, "cap_reg");
    const uint64_t ecap = field_value(facts.fields, "ecap_reg");
    facts.registers.push_back(decode(vtd_cap_spec(), cap));
    facts.registers.push_back(decode(vtd_ecap_spec(), ecap));
    const Register* sys_cap = sysfs_register(unit, "cap");
    const Register* sys_ecap = sysfs_register(unit, "ecap");
    if (sys_cap && sys_ecap) {
      facts.matches_sysfs = sys_cap->raw == cap && sys_ecap->raw == ecap;
      if (!*facts.matches_sysfs) {
        unit.diagnostics.push_back(
            {"class/iommu/" + unit.name + "/intel-iommu",
             Severity::kWarning,
             "IOMMU_GET_HW_INFO through " + device + " gives cap_reg " + format_hex(cap) +
                 " ecap_reg " + format_hex(ecap) + ", sysfs cap " + format_hex(sys_cap->raw) +
                 " ecap " + format_hex(sys_ecap->raw)});
      }
    }
  } else if (type == uapi::kHwInfoTypeArmSmmuv3 && !facts.fields.empty()) {
    // The SMMUv3 decoder (decode_smmuv3.cc): IDR0..IDR5, IIDR, AIDR under the spec's names.
    Smmuv3HwInfo hw;
    hw.flags = static_cast<uint32_t>(field_value(facts.fields, "flags"));
    for (int i = 0; i < 6; ++i) {
      hw.idr[i] = static_cast<uint32_t>(field_value(facts.fields, "idr" + std::to_string(i)));
    }
    hw.iidr = static_cast<uint32_t>(field_value(facts.fields, "iidr"));
    hw.aidr = static_cast<uint32_t>(field_value(facts.fields, "aidr"));
    const Smmuv3Decoded decoded = decode_smmuv3(hw);
    for (const RegisterFile& file : decoded.registers) facts.registers.push_back(file.main);
    fill_unknown(unit, decoded.normalized, "iommufd IOMMU_GET_HW_INFO through " + device);
  }
  if (info.capabilities && !unit.caps.dirty_tracking) {
    unit.caps.dirty_tracking = (*info.capabilities & uapi::kHwCapDirtyTracking) != 0;
    unit.evidence["dirty_tracking"] =
        std::string("iommufd out_capabilities ") + format_hex(*info.capabilities) +
        " through " + device + ": IOMMU_HW_CAP_DIRTY_TRACKING=" +
        (*unit.caps.dirty_tracking ? "1" : "0");
  }
  unit.iommufd = std::move(facts);
}

struct Candidate {
  Device* device;
  std::string cdev;
};

}  // namespace

void probe_iommufd(Host& host, Source& source, IommufdPort& port) {
  host.iommufd = {};
  host.iommufd.via = std::string(port.name());
  auto unavailable = [&](std::string reason) {
    host.iommufd.state = "unavailable";
    host.iommufd.reason = std::move(reason);
  };
  std::optional<KernelVersion> kernel;
  if (host.platform.kernel_release) kernel = parse_kernel_version(*host.platform.kernel_release);
  if (kernel && *kernel < kCdevKernel) {
    unavailable("kernel " + *host.platform.kernel_release +
                " predates vfio device cdevs and IOMMU_GET_HW_INFO (6.6)");
    return;
  }

  std::vector<Candidate> candidates;
  int bound = 0;
  for (Device& device : host.devices) {
    if (device.driver != "vfio-pci") continue;
    ++bound;
    const DirRead dir = source.list_dir("sys/bus/pci/devices/" + device.name + "/vfio-dev");
    if (!dir.ok()) continue;
    for (const DirEntry& entry : dir.entries) {
      if (entry.name.starts_with("vfio")) {
        candidates.push_back({&device, entry.name});
        break;
      }
    }
  }
  if (bound == 0) {
    unavailable("no device is bound to vfio-pci");
    return;
  }
  if (candidates.empty()) {
    unavailable(std::to_string(bound) +
                " device(s) bound to vfio-pci, none with a vfio cdev (sys/bus/pci/devices/"
                "<bdf>/vfio-dev): the kernel lacks CONFIG_VFIO_DEVICE_CDEV (6.6 or later)");
    return;
  }

  const int iommu = port.open("/dev/iommu");
  if (iommu < 0) {
    const int error = -iommu;
    std::string reason = error == ENOENT || error == ENXIO || error == ENODEV
                             ? "no /dev/iommu (" + errno_name(error) +
                                   "): CONFIG_IOMMUFD is not set or iommufd is not loaded "
                                   "(modprobe iommufd)"
                             : why("open /dev/iommu", error);
    for (const Candidate& c : candidates) c.device->iommufd = IommufdDeviceInfo{c.cdev, {}, {}, reason};
    unavailable(reason);
    return;
  }

  int answered = 0;
  std::string first_error;
  for (const Candidate& c : candidates) {
    IommufdDeviceInfo info;
    info.cdev = c.cdev;
    std::vector<uint8_t> data(kDataBuffer, 0);
    uapi::IommuHwInfo cmd{};
    const std::string path = "/dev/vfio/devices/" + c.cdev;
    const int dev = port.open(path);
    if (dev < 0) {
      info.error = why("open " + path, -dev);
    } else {
      uapi::VfioDeviceBindIommufd bind{};
      bind.argsz = sizeof bind;
      bind.iommufd = iommu;
      if (const int rc = port.ioctl(dev, uapi::kVfioDeviceBindIommufd, &bind); rc < 0) {
        info.error = why("VFIO_DEVICE_BIND_IOMMUFD", -rc);
      } else {
        cmd.size = sizeof cmd;
        cmd.dev_id = bind.out_devid;
        cmd.data_len = kDataBuffer;
        cmd.data_uptr = reinterpret_cast<uintptr_t>(data.data());
        if (const int hw = port.ioctl(iommu, uapi::kIommuGetHwInfo, &cmd); hw < 0) {
          info.error = why("IOMMU_GET_HW_INFO", -hw);
        }
      }
      port.close(dev);  // unbinds: nothing stays allocated
    }
    if (!info.error.empty()) {
      if (first_error.empty()) first_error = c.device->name + ": " + info.error;
      c.device->iommufd = std::move(info);
      continue;
    }
    ++answered;
    // Fields a kernel of this release fills; an older one leaves them as sent (zero).
    if (kernel && *kernel >= kCapabilitiesKernel) info.capabilities = cmd.out_capabilities;
    if (kernel && *kernel >= kPasidKernel) info.max_pasid_log2 = cmd.out_max_pasid_log2;
    data.resize(std::min<uint32_t>(cmd.data_len, kDataBuffer));
    if (c.device->unit) {
      for (Unit& unit : host.units) {
        if (unit.name == *c.device->unit && !unit.iommufd) {
          attach_to_unit(unit, c.device->name, cmd.out_data_type, cmd.data_len, data, info);
        }
      }
    }
    c.device->iommufd = std::move(info);
  }
  port.close(iommu);
  if (answered > 0) {
    host.iommufd.state = "asked";
    if (!kernel) {
      host.iommufd.reason =
          "kernel release unknown: out_capabilities and out_max_pasid_log2 not trusted";
    }
  } else {
    unavailable("no device answered: " + first_error);
  }
}

}  // namespace caps
