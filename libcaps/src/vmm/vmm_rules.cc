// SPDX-License-Identifier: MIT
// The VMM's own rules: what QEMU refuses at realize time (one error at a time) and what libvirt
// refuses when it validates a domain, checked all at once on the settings of a QEMU command line
// or libvirt domain, each citing the source that enforces it and the releases it holds for.
#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "libcaps/guest_vmm.h"
#include "vmm_internal.h"

namespace caps {
namespace {

using vmm::find;
using vmm::parse_bool;
using vmm::parse_int;

/// A rule: its id, where it is enforced, for which releases, and its check.
struct Rule {
  std::string_view id;
  std::string_view source;
  std::string_view versions;
  std::function<void(const GuestVmm&, std::vector<Finding>&)> run;
};

/// One QEMU option of a vIOMMU device, the first release that has it and the first that no
/// longer does.
struct KnownOption {
  std::string_view device;
  std::string_view option;
  QemuVersion since;
  enum Kind { kBool, kOnOffAuto, kUint, kString } kind;
  QemuVersion until = {999, 0};
};

// From `qemu-system-x86_64 -device intel-iommu,help` on 7.2 and the property lists of
// hw/i386/intel_iommu.c, hw/i386/amd_iommu.c, hw/i386/x86-iommu.c, hw/virtio/virtio-iommu.c and
// hw/arm/smmuv3.c in later releases. 2.0 means "before 7.2, the oldest release judged".
// The later releases were checked against the commits that added each property and the release
// whose development tree took them (docs/rules.md, "Where the releases come from"):
//   x-flts: "intel_iommu: Introduce a property x-flts", pulled 2025-01 after 9.2.0: 10.0.
//   xtsup: "amd_iommu: report x2APIC support to the operating system", part of the TCG x2APIC
//     series pulled 2024-01 after 8.2.0: 9.0 (not 8.1).
//   granule, aw-bits of virtio-iommu: v9.0.0-rc0 (libvirt's QEMU_CAPS_VIRTIO_IOMMU_AW_BITS).
//   accel, ats, ril, oas, ssidsize of arm-smmuv3: the smmuv3-accel series, in master after the
//     11.0 tree opened (2026-01): 11.0.
//   stale-tm: "intel_iommu: Introduce property "stale-tm" to control Transient Mapping (TM)
//     field" (2024-10, on by pc_compat_9_1: "starting from 9.2"): 9.2.
//   fs1gp: "intel_iommu: Introduce a property to control FS1GP cap bit setting", in the x-flts
//     series: 10.0.
//   len-reserved-regions of virtio-iommu-pci: an array-property length, gone when "qdev: Rework
//     array properties based on list visitor" (2023-11) made reserved-regions a list: until 8.2.
// QEMU 7.2 and 10.0 judge this table (tests/qemu: every option `-device X,help` lists, at its
// default, must be known for that release).
constexpr KnownOption kKnownOptions[] = {
    {"intel-iommu", "aw-bits", {2, 0}, KnownOption::kUint},
    {"intel-iommu", "caching-mode", {2, 0}, KnownOption::kBool},
    {"intel-iommu", "device-iotlb", {2, 0}, KnownOption::kBool},
    {"intel-iommu", "dma-drain", {2, 0}, KnownOption::kBool},
    {"intel-iommu", "dma-translation", {2, 0}, KnownOption::kBool},
    {"intel-iommu", "eim", {2, 0}, KnownOption::kOnOffAuto},
    {"intel-iommu", "intremap", {2, 0}, KnownOption::kOnOffAuto},
    {"intel-iommu", "pt", {2, 0}, KnownOption::kBool},
    {"intel-iommu", "snoop-control", {2, 0}, KnownOption::kBool},
    {"intel-iommu", "version", {2, 0}, KnownOption::kUint},
    {"intel-iommu", "x-buggy-eim", {2, 0}, KnownOption::kBool},
    {"intel-iommu", "x-pasid-mode", {2, 0}, KnownOption::kBool},
    {"intel-iommu", "x-scalable-mode", {2, 0}, KnownOption::kBool},
    {"intel-iommu", "stale-tm", {9, 2}, KnownOption::kBool},
    {"intel-iommu", "x-flts", {10, 0}, KnownOption::kBool},
    {"intel-iommu", "fs1gp", {10, 0}, KnownOption::kBool},
    {"amd-iommu", "device-iotlb", {2, 0}, KnownOption::kBool},
    {"amd-iommu", "intremap", {2, 0}, KnownOption::kOnOffAuto},
    {"amd-iommu", "pt", {2, 0}, KnownOption::kBool},
    {"amd-iommu", "xtsup", {9, 0}, KnownOption::kBool},
    {"virtio-iommu-pci", "boot-bypass", {2, 0}, KnownOption::kBool},
    {"virtio-iommu-pci", "granule", {9, 0}, KnownOption::kString},
    {"virtio-iommu-pci", "aw-bits", {9, 0}, KnownOption::kUint},
    {"virtio-iommu-pci", "len-reserved-regions", {2, 0}, KnownOption::kUint, {8, 2}},
    {"arm-smmuv3", "accel", {11, 0}, KnownOption::kBool},
    {"arm-smmuv3", "ats", {11, 0}, KnownOption::kBool},
    {"arm-smmuv3", "ril", {11, 0}, KnownOption::kBool},
    {"arm-smmuv3", "ssidsize", {11, 0}, KnownOption::kUint},
    {"arm-smmuv3", "oas", {11, 0}, KnownOption::kUint},
};

/// Options every -device takes (qdev and PCI), never judged.
constexpr std::string_view kDeviceOptions[] = {
    "id", "bus", "addr", "primary-bus", "multifunction", "romfile", "rombar", "acpi-index"};

std::string version_string(QemuVersion v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor);
}

bool is_on(const GuestVmm& vmm, std::string_view name) {
  const VmmSetting* s = find(vmm, name);
  return s != nullptr && parse_bool(s->value).value_or(false);
}

bool is_off(const GuestVmm& vmm, std::string_view name) {
  const VmmSetting* s = find(vmm, name);
  return s != nullptr && !parse_bool(s->value).value_or(true);
}

std::string device_type(const GuestVmm& vmm) {
  const VmmSetting* d = find(vmm, "viommu");
  if (d != nullptr) return d->value == "virtio-iommu" ? "virtio-iommu-pci" : d->value;
  const VmmSetting* m = find(vmm, "machine.iommu");
  return m != nullptr && m->value == "smmuv3" ? "smmuv3" : "";
}

/// The accelerator: kvm, tcg, or "" when not said.
std::string accel(const GuestVmm& vmm) {
  const VmmSetting* a = find(vmm, "accel");
  if (a == nullptr) return "";
  return a->value.substr(0, a->value.find(':'));  // "kvm:tcg" tries kvm first
}

void add(std::vector<Finding>& out, Outcome outcome, const VmmSetting& at, std::string message,
         std::string hint, std::string_view evidence = {}) {
  Finding f;
  f.outcome = outcome;
  f.guest_key = at.from;
  f.pos = at.pos;
  f.evidence = evidence.empty() ? "" : std::string(evidence);
  f.message = at.from + ": " + message;
  f.hint = std::move(hint);
  out.push_back(std::move(f));
}

void add_pass(std::vector<Finding>& out, const VmmSetting& at, std::string message) {
  add(out, Outcome::kPass, at, std::move(message), "");
}

const KnownOption* known(std::string_view device, std::string_view option) {
  for (const KnownOption& k : kKnownOptions) {
    if (k.device == device && k.option == option) return &k;
  }
  return nullptr;
}

/// vmm.option: every option of the vIOMMU device exists in the release, and its value parses.
void rule_options(const GuestVmm& vmm, std::vector<Finding>& out) {
  const std::string device = device_type(vmm);
  for (const VmmSetting& s : vmm.settings) {
    if (!s.name.starts_with("viommu.")) continue;
    const std::string option = s.name.substr(7);
    if (std::find(std::begin(kDeviceOptions), std::end(kDeviceOptions), option) !=
        std::end(kDeviceOptions))
      continue;
    const KnownOption* k = known(device, option);
    if (k == nullptr) {
      add(out, Outcome::kWarn, s,
          "not checked: iommu-compat does not know " + device + " option `" + option + "`", "");
      continue;
    }
    if (vmm.qemu_version < k->since) {
      add(out, Outcome::kFail, s,
          "Property '" + device + "." + option + "' not found: QEMU " +
              version_string(vmm.qemu_version) + " has no " + option + " (added in " +
              version_string(k->since) + ")",
          "remove " + option + " or use QEMU " + version_string(k->since) + " or later");
      continue;
    }
    if (vmm.qemu_version >= k->until) {
      add(out, Outcome::kFail, s,
          "Property '" + device + "." + option + "' not found: QEMU " +
              version_string(vmm.qemu_version) + " has no " + option + " (removed in " +
              version_string(k->until) + ")",
          "remove " + option);
      continue;
    }
    bool ok = true;
    std::string expects;
    if (k->kind == KnownOption::kBool) {
      ok = parse_bool(s.value).has_value();
      expects = "'on' or 'off'";
    } else if (k->kind == KnownOption::kOnOffAuto) {
      ok = parse_bool(s.value).has_value() || s.value == "auto";
      expects = "'on', 'off' or 'auto'";
    } else if (k->kind == KnownOption::kUint) {
      ok = parse_int(s.value).value_or(-1) >= 0;
      expects = "a non-negative integer";
    }
    if (!ok) {
      add(out, Outcome::kFail, s,
          "Parameter '" + option + "' expects " + expects + ", got `" + s.value + "`",
          "write " + option + "=" + (k->kind == KnownOption::kUint ? "N" : "on or off"));
    } else {
      add_pass(out, s,
               option + "=" + s.value + " is a " + device + " option of QEMU " +
                   version_string(vmm.qemu_version));
    }
  }
}

/// vmm.machine: intel-iommu and amd-iommu are dynamic sysbus devices only q35 allows; one x86
/// vIOMMU; virt's iommu= is none or smmuv3; -device arm-smmuv3 from 10.2 ("hw/arm/virt: Allow
/// user-creatable SMMUv3 dev instantiation", applied for 10.2); -object iommufd from 9.0
/// ("backends/iommufd: Introduce the iommufd object", pulled 2023-12 after 8.2.0).
void rule_machine(const GuestVmm& vmm, std::vector<Finding>& out) {
  const VmmSetting* machine = find(vmm, "machine");
  const VmmSetting* device = find(vmm, "viommu");
  const std::string type = device_type(vmm);
  if (device != nullptr && machine != nullptr && (type == "intel-iommu" || type == "amd-iommu")) {
    const bool q35 = machine->value == "q35" || machine->value.starts_with("pc-q35");
    if (!q35) {
      add(out, Outcome::kFail, *device,
          "Parameter 'driver' expects a dynamic sysbus device type for the machine: " + type +
              " needs a q35 machine, not " + machine->value,
          "use -machine q35");
    } else {
      add_pass(out, *device, type + " on a q35 machine");
    }
  }
  int x86 = 0;
  for (const VmmSetting& s : vmm.settings) {
    if (s.name == "viommu" && (s.value == "intel-iommu" || s.value == "amd-iommu") && ++x86 == 2)
      add(out, Outcome::kFail, s, "QEMU does not support multiple vIOMMUs for x86 yet",
          "keep one intel-iommu or amd-iommu");
  }
  if (const VmmSetting* iommu = find(vmm, "machine.iommu")) {
    if (iommu->value != "none" && iommu->value != "smmuv3") {
      add(out, Outcome::kFail, *iommu,
          "Invalid iommu value `" + iommu->value + "`: valid values are none, smmuv3",
          "use -machine virt,iommu=smmuv3, or -device virtio-iommu-pci");
    }
  }
  if (device != nullptr && type == "arm-smmuv3" && vmm.qemu_version < QemuVersion{10, 2}) {
    add(out, Outcome::kFail, *device,
        "Parameter 'driver' expects a pluggable device type: -device arm-smmuv3 needs QEMU 10.2",
        "use -machine virt,iommu=smmuv3");
  }
  if (const VmmSetting* object = find(vmm, "iommufd");
      object && vmm.qemu_version < QemuVersion{9, 0}) {
    add(out, Outcome::kFail, *object,
        "Parameter 'qom-type' does not accept value 'iommufd': QEMU " +
            version_string(vmm.qemu_version) + " has no iommufd backend (added in 9.0)",
        "remove -object iommufd, or use QEMU 9.0 or later");
  }
  // vfio-pci enable-migration: OnOffAuto, named so from 8.1 ("vfio/migration: Make VFIO
  // migration non-experimental"; x-enable-migration before).
  for (const VmmSetting& s : vmm.settings) {
    if (s.name != "vfio-pci.enable-migration") continue;
    if (vmm.qemu_version < QemuVersion{8, 1}) {
      add(out, Outcome::kFail, s,
          "Property 'vfio-pci.enable-migration' not found: QEMU " +
              version_string(vmm.qemu_version) + " calls it x-enable-migration (renamed in 8.1)",
          "use x-enable-migration, or QEMU 8.1 or later");
    } else if (s.value != "on" && s.value != "off" && s.value != "auto") {
      add(out, Outcome::kFail, s,
          "Parameter 'enable-migration' does not accept value '" + s.value + "'",
          "use on, off or auto");
    }
  }
}

/// vmm.intel: intel-iommu's own consistency (vtd_decide_config, x86_iommu_realize).
void rule_intel(const GuestVmm& vmm, std::vector<Finding>& out) {
  if (device_type(vmm) != "intel-iommu") return;
  const QemuVersion v = vmm.qemu_version;
  const VmmSetting* device = find(vmm, "viommu");
  if (const VmmSetting* aw = find(vmm, "viommu.aw-bits")) {
    int64_t bits = parse_int(aw->value).value_or(-1);
    if (is_on(vmm, "viommu.x-flts") && bits != 48 && v >= QemuVersion{10, 0}) {
      add(out, Outcome::kFail, *aw, "Scalable mode(flts=on): supported value for aw-bits is: 48",
          "set aw-bits=48");
    } else if (bits != 39 && bits != 48) {
      add(out, Outcome::kFail, *aw, "Supported values for aw-bits are: 39, 48",
          "set aw-bits=48, or 39");
    } else {
      add_pass(out, *aw, "aw-bits " + aw->value + " is 39 or 48");
    }
  }
  const VmmSetting* eim = find(vmm, "viommu.eim");
  const bool eim_on = eim != nullptr && parse_bool(eim->value).value_or(false);
  const std::string acc = accel(vmm);
  const VmmSetting* irqchip = find(vmm, "machine.kernel-irqchip");
  const bool split = irqchip != nullptr && irqchip->value == "split";
  if (eim_on && is_off(vmm, "viommu.intremap")) {
    add(out, Outcome::kFail, *eim, "eim=on cannot be selected without intremap=on",
        "set intremap=on");
  } else if (eim_on && v < QemuVersion{9, 0} && (acc != "kvm" || !split)) {
    // Until 9.0 x2APIC needs KVM's; TCG gained x2APIC in 9.0.
    add(out, Outcome::kFail, *eim, "eim=on requires accel=kvm,kernel-irqchip=split",
        "add -accel kvm -machine kernel-irqchip=split, or set eim=off");
  } else if (eim_on && acc == "kvm" && !split) {
    add(out, irqchip == nullptr ? Outcome::kUnknown : Outcome::kFail, *eim,
        "eim=on requires accel=kvm,kernel-irqchip=split" +
            std::string(irqchip == nullptr ? " (kernel-irqchip not given)" : ""),
        "add -machine kernel-irqchip=split");
  } else if (eim_on) {
    add_pass(out, *eim, "eim=on with intremap and a usable irqchip");
  }
  const VmmSetting* intremap = find(vmm, "viommu.intremap");
  if (intremap != nullptr && parse_bool(intremap->value).value_or(false) && acc == "kvm" &&
      irqchip != nullptr && irqchip->value == "on") {
    add(out, Outcome::kFail, *intremap,
        "Interrupt Remapping cannot work with kernel-irqchip=on, please use 'split|off'",
        "set -machine kernel-irqchip=split");
  }
  const VmmSetting* pasid = find(vmm, "viommu.x-pasid-mode");
  const bool scalable = is_on(vmm, "viommu.x-scalable-mode");
  if (pasid != nullptr && parse_bool(pasid->value).value_or(false)) {
    if (!scalable) {
      add(out, Outcome::kFail, *pasid, "Need to set scalable mode for PASID",
          "set x-scalable-mode=on");
    }
    if (is_on(vmm, "viommu.device-iotlb")) {
      add(out, Outcome::kFail, *pasid, "PASID based device IOTLB is not supported",
          "set device-iotlb=off or x-pasid-mode=off");
    }
  }
  if (const VmmSetting* flts = find(vmm, "viommu.x-flts");
      flts != nullptr && parse_bool(flts->value).value_or(false) && !scalable &&
      v >= QemuVersion{10, 0}) {
    add(out, Outcome::kFail, *flts, "x-flts is only available in scalable mode",
        "set x-scalable-mode=on");
  }
  if (const VmmSetting* drain = find(vmm, "viommu.dma-drain");
      scalable && drain != nullptr && !parse_bool(drain->value).value_or(true)) {
    add(out, Outcome::kFail, *drain, "Need to set dma_drain for scalable mode",
        "remove dma-drain=off");
  }
  const VmmSetting* vfio = find(vmm, "vfio-pci.host");
  if (vfio != nullptr && device != nullptr) {
    const VmmSetting* cm = find(vmm, "viommu.caching-mode");
    if (!is_on(vmm, "viommu.caching-mode")) {
      add(out, Outcome::kFail, cm != nullptr ? *cm : *device,
          "We need to set caching-mode=on for intel-iommu to enable device assignment with "
          "IOMMU protection",
          "set caching-mode=on");
    } else {
      add_pass(out, *cm, "caching-mode=on for the assigned devices");
    }
    // vtd_check_hiod: 10.0 to 10.2 refuse every assigned device under x-flts; 11.0
    // (intel_iommu_accel.c) accepts one backed by iommufd.
    if (is_on(vmm, "viommu.x-flts") && v >= QemuVersion{10, 0} && v < QemuVersion{11, 0}) {
      add(out, Outcome::kFail, *vfio, "host device is uncompatible with stage-1 translation",
          "set x-flts=off, or use QEMU 11.0 or later with an iommufd backend");
    } else if (is_on(vmm, "viommu.x-flts") && v >= QemuVersion{11, 0} &&
               find(vmm, "vfio-pci.iommufd") == nullptr) {
      add(out, Outcome::kFail, *vfio, "Need IOMMUFD backend when x-flts=on",
          "add -object iommufd,id=iommufd0 and iommufd=iommufd0 to each vfio-pci");
    }
  }
}

/// Whether the vCPUs have x2APIC under TCG: "on", "off", or "" when the named model decides.
/// QEMU's default model (qemu64) and its 32-bit and kvm siblings have none; max and host do.
std::string tcg_x2apic(const GuestVmm& vmm) {
  if (const VmmSetting* x = find(vmm, "cpu.x2apic")) {
    return parse_bool(x->value).value_or(false) ? "on" : "off";
  }
  const VmmSetting* model = find(vmm, "cpu");
  if (model == nullptr) return "off";
  static constexpr std::string_view kWithout[] = {"qemu64", "qemu32", "kvm64", "kvm32"};
  static constexpr std::string_view kWith[] = {"max", "host"};
  if (std::find(std::begin(kWithout), std::end(kWithout), model->value) != std::end(kWithout))
    return "off";
  if (std::find(std::begin(kWith), std::end(kWith), model->value) != std::end(kWith)) return "on";
  return "";
}

/// vmm.vcpus: more than 255 vCPUs need x2APIC: under TCG the KVM-only check before 9.0 and the
/// CPU model's x2APIC from 9.0; the vIOMMU's x2APIC interrupt remapping (eim, xtsup) is refused
/// only for amd-iommu under KVM from 9.2 and otherwise warned about.
void rule_vcpus(const GuestVmm& vmm, std::vector<Finding>& out) {
  const VmmSetting* smp = find(vmm, "smp");
  if (smp == nullptr) return;
  const std::optional<int64_t> cpus = parse_int(smp->value);
  if (!cpus || *cpus < 1 || *cpus > 65536) {
    // An unreadable count must not pass as "few vCPUs".
    return add(out, Outcome::kFail, *smp, "Invalid SMP CPUs `" + smp->value + "`",
               "give the vCPU count as a number");
  }
  if (*cpus <= 255) return;
  const std::string type = device_type(vmm);
  const std::string acc = accel(vmm);
  if (vmm.qemu_version < QemuVersion{9, 0} && acc != "kvm") {
    return add(out, Outcome::kFail, *smp,
               "current -smp configuration requires kernel irqchip and X2APIC API support (TCG "
               "has no x2APIC before QEMU 9.0)",
               "use -accel kvm, or at most 255 vCPUs");
  }
  if (acc != "kvm") {
    // apic_common_set_id (hw/intc/apic_common.c, 9.0 and later): an APIC ID of 255 or more
    // needs the CPU's x2APIC; KVM turns x2apic on in every model, TCG does not.
    const VmmSetting* model = find(vmm, "cpu");
    const std::string x2apic = tcg_x2apic(vmm);
    const VmmSetting& at = find(vmm, "cpu.x2apic") ? *find(vmm, "cpu.x2apic")
                           : model != nullptr      ? *model
                                                   : *smp;
    const std::string named = model != nullptr ? model->value : "qemu64 (the default)";
    if (x2apic == "off") {
      return add(out, Outcome::kFail, at,
                 "APIC ID 255 requires x2APIC feature in CPU: " + smp->value +
                     " vCPUs, and CPU model " + named + " has no x2APIC under TCG",
                 "use -cpu max, or add x2apic=on to -cpu");
    }
    if (x2apic.empty()) {
      add(out, Outcome::kUnknown, at,
          "APIC IDs above 254 need the CPU's x2APIC: whether CPU model " + named +
              " has it under TCG is not checked",
          "use -cpu max, or add x2apic=on to -cpu");
    }
  }
  // eim=auto follows intremap (vtd_decide_config): on when intremap=on.
  const VmmSetting* eim = find(vmm, "viommu.eim");
  const bool eim_on = is_on(vmm, "viommu.eim") ||
                      ((eim == nullptr || eim->value == "auto") && is_on(vmm, "viommu.intremap"));
  if (type == "intel-iommu" && !eim_on) {
    // No release judged refuses this (pc.c's "requires Extended Interrupt Mode enabled" is gone
    // from 7.2 and 10.0): QEMU starts, and the guest cannot remap interrupts to high APIC IDs.
    add(out, Outcome::kWarn, *smp,
        "QEMU " + version_string(vmm.qemu_version) + " accepts " + smp->value +
            " vCPUs with intel-iommu without eim=on, but the guest's interrupt remapping cannot "
            "reach APIC IDs above 255",
        "use -device intel-iommu,intremap=on,eim=on");
  } else if (type == "amd-iommu" && !is_on(vmm, "viommu.xtsup") &&
             vmm.qemu_version >= QemuVersion{9, 2} && acc == "kvm") {
    // amdvi_sysbus_realize, from 9.2 ("amd_iommu: Check APIC ID > 255 for XTSup"), KVM only.
    add(out, Outcome::kFail, *smp, "AMD IOMMU with x2APIC configuration requires xtsup=on",
        "set xtsup=on");
  } else if (type == "amd-iommu" && !is_on(vmm, "viommu.xtsup")) {
    add(out, Outcome::kWarn, *smp,
        "QEMU " + version_string(vmm.qemu_version) +
            " accepts amd-iommu without xtsup=on here (it refuses only under KVM, from 9.2), "
            "but the guest's interrupt remapping cannot reach APIC IDs above 255",
        vmm.qemu_version >= QemuVersion{9, 0} ? "set xtsup=on" : "use QEMU 9.0 or later with "
                                                                   "xtsup=on");
  } else {
    add_pass(out, *smp, smp->value + " vCPUs with x2APIC interrupt remapping");
  }
}

/// vmm.smmuv3: the SMMUv3 options of 11.0, as smmu_validate_property checks them (hw/arm/smmuv3.c):
/// without accel=on, ats, oas and ssidsize must keep their defaults; with it, oas is 44 or 48
/// and ssidsize at most 20.
void rule_smmuv3(const GuestVmm& vmm, std::vector<Finding>& out) {
  if (device_type(vmm) != "arm-smmuv3") return;
  const VmmSetting* acc = find(vmm, "viommu.accel");
  const bool accel = acc != nullptr && parse_bool(acc->value).value_or(false);
  const VmmSetting* ats = find(vmm, "viommu.ats");
  const VmmSetting* oas = find(vmm, "viommu.oas");
  const VmmSetting* ssid = find(vmm, "viommu.ssidsize");
  if (!accel) {
    if (ats != nullptr && parse_bool(ats->value).value_or(false)) {
      add(out, Outcome::kFail, *ats, "ats can only be enabled if accel=on",
          "add accel=on, or remove ats=on");
    }
    if (oas != nullptr && parse_int(oas->value).value_or(-1) != 44) {
      add(out, Outcome::kFail, *oas, "OAS must be 44 bits when accel=off",
          "add accel=on, or remove oas");
    }
    if (ssid != nullptr && parse_int(ssid->value).value_or(-1) != 0) {
      add(out, Outcome::kFail, *ssid, "ssidsize can only be set if accel=on",
          "add accel=on, or remove ssidsize");
    }
    return;
  }
  if (oas != nullptr) {
    int64_t bits = parse_int(oas->value).value_or(-1);
    if (bits != 44 && bits != 48) {
      add(out, Outcome::kFail, *oas, "OAS can only be set to 44 or 48 bits", "set oas=48, or 44");
    }
  }
  if (ssid != nullptr && parse_int(ssid->value).value_or(99) > 20) {
    add(out, Outcome::kFail, *ssid, "ssidsize must be in the range 0 to 20",
        "set ssidsize=20 or lower");
  }
  // iommu-compat's own wording: accel=on nests the assigned devices' host SMMUv3, which only an
  // iommufd backend offers (smmuv3-accel.c); QEMU says so when the vfio-pci device attaches.
  if (find(vmm, "iommufd") == nullptr) {
    add(out, Outcome::kFail, *acc, "accel=on requires an iommufd backend",
        "add -object iommufd,id=iommufd0 and iommufd=iommufd0 to each vfio-pci");
  } else {
    add_pass(out, *acc, "accel=on with an iommufd backend");
  }
}

/// vmm.virtio: virtio-iommu's aw-bits and granule (virtio_iommu_device_realize, 9.0).
void rule_virtio(const GuestVmm& vmm, std::vector<Finding>& out) {
  if (device_type(vmm) != "virtio-iommu-pci") return;
  if (const VmmSetting* aw = find(vmm, "viommu.aw-bits")) {
    int64_t bits = parse_int(aw->value).value_or(-1);
    if (bits < 32 || bits > 64) {
      add(out, Outcome::kFail, *aw, "aw-bits must be within [32,64]", "set aw-bits=48");
    }
  }
  if (const VmmSetting* g = find(vmm, "viommu.granule")) {
    static constexpr std::string_view kGranules[] = {"4k", "8k", "16k", "64k", "host"};
    if (std::find(std::begin(kGranules), std::end(kGranules), g->value) == std::end(kGranules)) {
      add(out, Outcome::kFail, *g, "granule `" + g->value + "` is not 4k, 8k, 16k, 64k or host",
          "set granule=host");
    }
  }
}

/// vmm.phys_bits: a CPU that places BARs above the vIOMMU's reach (vfio's MMIO-map error).
void rule_phys_bits(const GuestVmm& vmm, std::vector<Finding>& out) {
  const VmmSetting* phys = find(vmm, "cpu.phys-bits");
  const VmmSetting* aw = find(vmm, "viommu.aw-bits");
  if (phys == nullptr || aw == nullptr) return;
  if (parse_int(phys->value).value_or(0) > parse_int(aw->value).value_or(64)) {
    add(out, Outcome::kWarn, *phys,
        "phys-bits " + phys->value + " > vIOMMU aw-bits " + aw->value + ": BARs placed above 2^" +
            aw->value + " cannot be mapped for peer-to-peer DMA",
        "set aw-bits >= phys-bits or phys-bits=" + aw->value);
  }
}

/// libvirt's own validation (src/qemu/qemu_validate.c).
void rule_libvirt(const GuestVmm& vmm, std::vector<Finding>& out) {
  if (vmm.syntax != GuestSyntax::kLibvirt) return;
  const VmmSetting* intremap = find(vmm, "viommu.intremap");
  if (intremap == nullptr || !parse_bool(intremap->value).value_or(false)) return;
  const VmmSetting* ioapic = find(vmm, "ioapic");
  if (device_type(vmm) == "intel-iommu" && (ioapic == nullptr || ioapic->value != "qemu")) {
    add(out, Outcome::kFail, *intremap,
        "IOMMU interrupt remapping requires split I/O APIC (ioapic driver='qemu')",
        "add <features><ioapic driver='qemu'/></features>");
  }
}

/// vmm.unchecked: options no rule reads, said once so nothing is silently ignored.
void rule_unchecked(const GuestVmm& vmm, std::vector<Finding>& out) {
  for (const VmmSetting& s : vmm.settings) {
    if (s.name == "unchecked") add_pass(out, s, "not checked: " + s.value);
  }
}

const std::vector<Rule>& rules() {
  static const std::vector<Rule> all = {
      {"vmm.option",
       "hw/i386/intel_iommu.c, hw/i386/amd_iommu.c, hw/virtio/virtio-iommu.c, hw/arm/smmuv3.c "
       "(property lists)",
       "7.2 and later, each option from the release that added it", rule_options},
      {"vmm.machine", "hw/i386/pc_q35.c, hw/i386/x86-iommu.c, hw/arm/virt.c, backends/iommufd.c",
       "7.2 and later; -object iommufd from 9.0; -device arm-smmuv3 from 10.2", rule_machine},
      {"vmm.intel",
       "hw/i386/intel_iommu.c (vtd_decide_config), hw/i386/x86-iommu.c, "
       "hw/i386/intel_iommu_accel.c",
       "7.2 and later; eim without KVM from 9.0; x-flts from 10.0, with assigned devices only "
       "from 11.0 (iommufd)",
       rule_intel},
      {"vmm.vcpus",
       "hw/i386/x86-common.c (x86_cpus_init), hw/intc/apic_common.c (apic_common_set_id), "
       "hw/i386/amd_iommu.c",
       "7.2 and later; TCG x2APIC from 9.0 (the CPU model's); amd-iommu's xtsup refusal under "
       "KVM from 9.2",
       rule_vcpus},
      {"vmm.smmuv3", "hw/arm/smmuv3.c (smmu_validate_property), hw/arm/smmuv3-accel.c",
       "11.0 and later", rule_smmuv3},
      {"vmm.virtio", "hw/virtio/virtio-iommu.c (virtio_iommu_device_realize)", "9.0 and later",
       rule_virtio},
      {"vmm.phys_bits", "hw/vfio/common.c (MMIO map errors; a warning, QEMU does not refuse)",
       "all", rule_phys_bits},
      {"libvirt.intremap_ioapic", "libvirt src/qemu/qemu_validate.c", "libvirt 3.4 and later",
       rule_libvirt},
      {"vmm.unchecked", "iommu-compat", "all", rule_unchecked},
  };
  return all;
}

}  // namespace

std::vector<Finding> check_vmm(const Guest& guest) {
  std::vector<Finding> out;
  if (guest.vmm.syntax == GuestSyntax::kToml) return out;
  for (const Rule& rule : rules()) {
    std::vector<Finding> found;
    rule.run(guest.vmm, found);
    for (Finding& f : found) {
      f.rule = std::string(rule.id);
      if (f.evidence.empty() && rule.id.starts_with("libvirt.")) {
        f.evidence = std::string(rule.source) + " (" + std::string(rule.versions) + ")";
      } else if (f.evidence.empty()) {
        f.evidence =
            "QEMU " + version_string(guest.vmm.qemu_version) + ": " + std::string(rule.source);
      }
      out.push_back(std::move(f));
    }
  }
  return out;
}

std::vector<VmmRuleInfo> vmm_rules() {
  std::vector<VmmRuleInfo> out;
  for (const Rule& rule : rules()) out.push_back({rule.id, rule.source, rule.versions});
  return out;
}

}  // namespace caps
