// SPDX-License-Identifier: MIT
// A guest written back in the user's syntax: the QEMU options or the libvirt <iommu> (with the
// <hostdev>s and <ioapic> it needs) that ask for what the guest asks, within what each QEMU
// device can express.
#include <algorithm>
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

}  // namespace

std::string write_qemu_args(const Guest& guest, QemuVersion version) {
  const GuestViommu& v = guest.viommu;
  std::string out;
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
    out = "-machine virt,iommu=smmuv3";  // the options below arrived with -device arm-smmuv3
  } else {
    out = "-machine virt -device arm-smmuv3";
    if (int oas = widest(v.output_bits, 44, 48)) out += ",oas=" + std::to_string(oas);
    if (v.ssid_bits && v.ssid_bits->value > 0)
      out += ",ssidsize=" + std::to_string(std::min(v.ssid_bits->value, 20));
    if (asks(v.ats)) out += ",ats=on";
  }
  for (const GuestDevice& device : guest.devices)
    out += " -device vfio-pci,host=" + device.bdf.value;
  return out;
}

std::string write_libvirt_iommu(const Guest& guest, QemuVersion version) {
  const GuestViommu& v = guest.viommu;
  std::string out = "<domain type='kvm'>\n";
  std::string model;
  std::string driver;
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
      driver = "pciBus='0'";
      if (int oas = widest(v.output_bits, 44, 48)) driver += " oas='" + std::to_string(oas) + "'";
      if (v.ssid_bits && v.ssid_bits->value > 0)
        driver += " ssidSize='" + std::to_string(std::min(v.ssid_bits->value, 20)) + "'";
      if (asks(v.ats)) driver += " ats='on'";
    }
  }
  out += "  <devices>\n    <iommu model='" + model + "'>\n";
  if (!driver.empty()) out += "      <driver " + driver + "/>\n";
  out += "    </iommu>\n";
  for (const GuestDevice& device : guest.devices) {
    out +=
        "    <hostdev mode='subsystem' type='pci' managed='yes'>\n      <source>\n        "
        "<address " +
        libvirt_address(device.bdf.value) + "/>\n      </source>\n    </hostdev>\n";
  }
  return out + "  </devices>\n</domain>\n";
}

}  // namespace caps
