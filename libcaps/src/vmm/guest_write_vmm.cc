// SPDX-License-Identifier: MIT
// A guest written back in the user's syntax: the QEMU options or the libvirt <iommu> (with the
// <hostdev>s and <ioapic> it needs) that ask for what the guest asks, within what each QEMU
// device can express.
#include <algorithm>
#include <cctype>
#include <string>

#include "libcaps/guest_vmm.h"

namespace caps {
namespace {

/// The widest value QEMU takes that does not exceed `bits`: aw-bits 39/48, oas 44/48.
int widest(const std::optional<Located<int>>& bits, int narrow, int wide) {
  if (!bits || bits->value >= wide) return wide;
  return bits->value >= narrow ? narrow : 0;
}

bool asks(const std::optional<Located<bool>>& feature) { return feature && feature->value; }

/// Bus, slot and function of "DDDD:BB:SS.F" as libvirt's <address> attributes.
std::string libvirt_address(const std::string& bdf) {
  size_t c1 = bdf.find(':');
  size_t c2 = bdf.rfind(':');
  size_t dot = bdf.rfind('.');
  return "domain='0x" + bdf.substr(0, c1) + "' bus='0x" + bdf.substr(c1 + 1, c2 - c1 - 1) +
         "' slot='0x" + bdf.substr(c2 + 1, dot - c2 - 1) + "' function='0x" + bdf.substr(dot + 1) +
         "'";
}

/// validate_guest lets a device name without ':' through as a VFIO platform device; any name
/// with ':' is a PCI address.
bool is_platform_device(const std::string& name) { return name.find(':') == std::string::npos; }

/// A name fit for an XML comment: letters, digits and '.', the rest as '_' (no "--").
std::string comment_safe(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.') c = '_';
  }
  return out;
}

/// Whether the guest's CPU is an x86 one, which has phys-bits (every vIOMMU but SMMUv3).
bool x86_guest(const Guest& guest) { return guest.viommu.model.value != kModelArmSmmuV3; }

/// -m and -cpu phys-bits for [memory]. QEMU cannot be told where RAM above 4 GiB starts (the
/// machine type decides), so above_4g_start is not written. -m in KiB when whole, else bytes.
std::string qemu_memory(const Guest& guest) {
  if (!guest.memory) return "";
  std::string out;
  if (const auto& size = guest.memory->size) {
    out += size->value % 1024 == 0 ? " -m " + std::to_string(size->value / 1024) + "k"
                                   : " -m " + std::to_string(size->value) + "B";
  }
  if (guest.memory->phys_bits && x86_guest(guest))
    out += " -cpu max,phys-bits=" + std::to_string(guest.memory->phys_bits->value);
  return out;
}

/// <memory> and <cpu><maxphysaddr> for [memory], as libvirt writes them.
std::string libvirt_memory(const Guest& guest) {
  if (!guest.memory) return "";
  std::string out;
  if (const auto& size = guest.memory->size) {
    out += size->value % 1024 == 0
               ? "  <memory unit='KiB'>" + std::to_string(size->value / 1024) + "</memory>\n"
               : "  <memory unit='b'>" + std::to_string(size->value) + "</memory>\n";
  }
  if (guest.memory->phys_bits && x86_guest(guest)) {
    out += "  <cpu mode='host-passthrough'>\n    <maxphysaddr mode='emulate' bits='" +
           std::to_string(guest.memory->phys_bits->value) + "'/>\n  </cpu>\n";
  }
  return out;
}

}  // namespace

std::string write_qemu_args(const Guest& guest, QemuVersion version) {
  const GuestViommu& v = guest.viommu;
  std::string out;
  bool iommufd = false;  // the vfio-pci devices attach through -object iommufd,id=iommufd0
  if (v.model.value == kModelIntelVtd) {
    // intremap needs a split irqchip under KVM; caching-mode is what device assignment needs.
    out = "-machine q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on";
    if (int aw = widest(v.input_bits, 39, 48)) out += ",aw-bits=" + std::to_string(aw);
    if (asks(v.ats)) out += ",device-iotlb=on";
  } else if (v.model.value == kModelAmdVi) {
    out = "-machine q35 -device amd-iommu";
    if (asks(v.ats)) out += ",device-iotlb=on";
  } else if (v.model.value == kModelVirtioIommu) {
    out = "-device virtio-iommu-pci";
    if (v.input_bits && v.input_bits->value >= 32 && version >= QemuVersion{9, 0})
      out += ",aw-bits=" + std::to_string(v.input_bits->value);
  } else if (version < QemuVersion{11, 0}) {
    out = "-machine virt,iommu=smmuv3";  // the options below arrived in 11.0 (-device: 10.2)
  } else {
    // 11.0's smmu_validate_property refuses oas other than 44, ssidsize and ats without
    // accel=on, and accel=on nests the host SMMUv3 through an iommufd backend.
    std::string opts;
    if (int oas = widest(v.output_bits, 44, 48); oas == 48) opts += ",oas=48";
    if (v.ssid_bits && v.ssid_bits->value > 0)
      opts += ",ssidsize=" + std::to_string(std::min(v.ssid_bits->value, 20));
    if (asks(v.ats)) opts += ",ats=on";
    out = "-machine virt";
    // Only a guest that asks for nesting gets the accelerated device: an emulated SMMUv3 keeps
    // QEMU's defaults (oas 44, no PASID, no ATS) rather than claim a nested host SMMU.
    if (!opts.empty() && asks(v.nested)) {
      out += " -object iommufd,id=iommufd0 -device arm-smmuv3,accel=on" + opts;
      iommufd = true;
    } else {
      out += " -device arm-smmuv3";
    }
  }
  // [vfio]: backend = "iommufd" puts every vfio-pci on one iommufd object (9.0 and later);
  // migration = true/false is vfio-pci's enable-migration=on/off (8.1 and later). A
  // confidential guest's object needs the host's cbitpos and reduced-phys-bits, which a guest
  // file does not hold: not written (convert names the loss).
  const std::optional<GuestVfio>& vfio = guest.vfio;
  if (!iommufd && vfio && vfio->backend && vfio->backend->value == "iommufd" &&
      version >= QemuVersion{9, 0}) {
    out += " -object iommufd,id=iommufd0";
    iommufd = true;
  }
  std::string migration;
  if (vfio && vfio->migration && version >= QemuVersion{8, 1}) {
    migration = vfio->migration->value ? ",enable-migration=on" : ",enable-migration=off";
  }
  for (const GuestDevice& device : guest.devices) {
    if (is_platform_device(device.bdf.value)) {
      out += " -device vfio-platform,host=" + device.bdf.value;
      continue;
    }
    out += " -device vfio-pci,host=" + device.bdf.value;
    if (iommufd) out += ",iommufd=iommufd0";
    out += migration;
  }
  return out + qemu_memory(guest);
}

std::string write_libvirt_iommu(const Guest& guest, QemuVersion version) {
  const GuestViommu& v = guest.viommu;
  std::string out = "<domain type='kvm'>\n" + libvirt_memory(guest);
  std::string model;
  std::string driver;
  bool iommufd = false;  // the hostdevs attach through the domain's <iommufd/>
  if (v.model.value == kModelIntelVtd) {
    out += "  <features>\n    <ioapic driver='qemu'/>\n  </features>\n";  // intremap needs it
    model = "intel";
    driver = "intremap='on' caching_mode='on'";
    if (int aw = widest(v.input_bits, 39, 48)) driver += " aw_bits='" + std::to_string(aw) + "'";
    if (asks(v.ats)) driver += " iotlb='on'";
  } else if (v.model.value == kModelAmdVi) {
    model = "amd";
    if (asks(v.ats)) driver = "iotlb='on'";
  } else if (v.model.value == kModelVirtioIommu) {
    model = "virtio";
    if (v.input_bits && v.input_bits->value >= 32 && version >= QemuVersion{9, 0})
      driver = "aw_bits='" + std::to_string(v.input_bits->value) + "'";
  } else {
    model = "smmuv3";
    if (version >= QemuVersion{11, 0}) {
      // As for QEMU: oas other than 44, ssidSize and ats only with accel, which needs iommufd.
      std::string opts;
      if (int oas = widest(v.output_bits, 44, 48); oas == 48) opts += " oas='48'";
      if (v.ssid_bits && v.ssid_bits->value > 0)
        opts += " ssidSize='" + std::to_string(std::min(v.ssid_bits->value, 20)) + "'";
      if (asks(v.ats)) opts += " ats='on'";
      driver = "pciBus='0'";
      if (!opts.empty() && asks(v.nested)) {  // as for QEMU above
        driver += " accel='on'" + opts;
        iommufd = true;
        out += "  <iommufd/>\n";
      }
    }
  }
  // [vfio] backend = "iommufd": each hostdev on iommufd (<driver iommufd='yes'/>). libvirt has
  // no switch for a device's migration, and a confidential guest's <launchSecurity> needs the
  // host's cbitpos and reducedPhysBits: neither is written (convert names the loss).
  if (guest.vfio && guest.vfio->backend && guest.vfio->backend->value == "iommufd" &&
      version >= QemuVersion{9, 0}) {
    iommufd = true;  // libvirt gives QEMU -object iommufd, which 9.0 brought
  }
  out += "  <devices>\n    <iommu model='" + model + "'>\n";
  if (!driver.empty()) out += "      <driver " + driver + "/>\n";
  out += "    </iommu>\n";
  for (const GuestDevice& device : guest.devices) {
    if (is_platform_device(device.bdf.value)) {
      // libvirt's <hostdev> assigns PCI functions (and mdevs), not VFIO platform devices.
      out += "    <!-- not written: " + comment_safe(device.bdf.value) +
             " is a platform device, which libvirt cannot assign -->\n";
      continue;
    }
    out += "    <hostdev mode='subsystem' type='pci' managed='yes'>\n";
    if (iommufd) out += "      <driver iommufd='yes'/>\n";
    out += "      <source>\n        <address " + libvirt_address(device.bdf.value) +
           "/>\n      </source>\n    </hostdev>\n";
  }
  return out + "  </devices>\n</domain>\n";
}

}  // namespace caps
