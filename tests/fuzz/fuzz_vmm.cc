// SPDX-License-Identifier: MIT
// fuzz_vmm: any text through detect_guest_input and both VMM front ends (parse_qemu_guest,
// parse_libvirt_guest). Errors name the file and, with a line, a real line:col. A guest that
// parses keeps the verdict rules against the fixed hosts (check() runs the VMM rules), writes
// back as a guest file that parse_guest reads to the same values, and as QEMU options and a
// libvirt domain that the front ends read back to the same vIOMMU model and devices, that the
// VMM rules pass, and that ask no more than the guest (guest_vmm.h: "that QEMU `version`
// accepts and that ask no more than the guest"), for the guest's QEMU release and for 7.2.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "fuzz_fixtures.h"
#include "host_compare.h"
#include "libcaps/guest.h"
#include "libcaps/guest_vmm.h"
#include "support/guest_compare.h"

namespace caps::fuzz {
namespace {

constexpr std::string_view kFile = "fuzz.vmm";

FUZZ_NO_COVERAGE std::string errors(const std::vector<Error>& list) {
  std::string out;
  for (const Error& e : list) out += e.to_string() + "\n";
  return out;
}

/// The file alone (a whole-file error, no line) or the file with a line and column from 1.
FUZZ_NO_COVERAGE bool names_location(const Error& e) {
  if (e.where != kFile) return false;
  return e.pos == SourcePos{} || (e.pos.line >= 1 && e.pos.column >= 1);
}

FUZZ_NO_COVERAGE void require_located(const std::vector<Error>& list, std::string_view front) {
  require(!list.empty(), "a rejected input says why", front);
  for (const Error& e : list) {
    require(names_location(e), "errors name the file and a line:col from 1",
            std::string(front) + ": " + e.to_string());
    require(!e.message.empty(), "errors have a message", e.to_string());
  }
}

/// The guest without positions or VMM settings: what a guest file can say.
FUZZ_NO_COVERAGE Guest essence(const Guest& guest) {
  Guest g = testing::without_positions(guest);
  g.vmm = GuestVmm{};
  return g;
}

/// `again` (the writer's output read back) asks no more than `guest`: a width it states is
/// not above the guest's.
FUZZ_NO_COVERAGE void require_no_more(const std::optional<Located<int>>& guest,
                                      const std::optional<Located<int>>& again,
                                      std::string_view what, const std::string& written) {
  if (guest && again) require(again->value <= guest->value, what, written);
}

/// `widths`: the guest passes the VMM rules at the version written for, so every width it asks
/// is one QEMU takes and the writer must not round it up (a width QEMU refuses is left out and
/// comes back as QEMU's default, which may be wider).
FUZZ_NO_COVERAGE void require_same_request(const Guest& guest, const Guest& again,
                                           std::string_view writer, const std::string& written,
                                           bool widths) {
  const std::string w(writer);
  require(again.viommu.model.value == guest.viommu.model.value,
          w + " keeps the vIOMMU model", written);
  require(again.devices.size() == guest.devices.size(), w + " keeps every device",
          written);
  for (size_t i = 0; i < guest.devices.size(); ++i) {
    require(again.devices[i].bdf.value == guest.devices[i].bdf.value,
            w + " keeps device addresses", written);
  }
  // [memory]: the size comes back rounded up as the reading front end rounds it (8 KiB for QEMU,
  // 1 MiB for libvirt), phys_bits unchanged on x86 (an SMMUv3 guest's CPU has none written).
  if (guest.memory && guest.memory->size &&
      guest.memory->size->value <= uint64_t{INT64_MAX} - (uint64_t{1} << 20)) {
    const uint64_t size = guest.memory->size->value;
    require(again.memory && again.memory->size && again.memory->size->value >= size &&
                again.memory->size->value - size < (uint64_t{1} << 20),
            w + " keeps the memory size", written);
  }
  if (guest.memory && guest.memory->phys_bits && guest.viommu.model.value != kModelArmSmmuV3) {
    require(again.memory && again.memory->phys_bits &&
                again.memory->phys_bits->value == guest.memory->phys_bits->value,
            w + " keeps phys_bits", written);
  }
  if (!widths) return;
  require_no_more(guest.viommu.input_bits, again.viommu.input_bits,
                  "the writer asks no more input bits than the guest", written);
  require_no_more(guest.viommu.output_bits, again.viommu.output_bits,
                  "the writer asks no more output bits than the guest", written);
  require_no_more(guest.viommu.ssid_bits, again.viommu.ssid_bits,
                  "the writer asks no more PASID bits than the guest", written);
}

FUZZ_NO_COVERAGE bool fails(const std::vector<Finding>& findings) {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.outcome == Outcome::kFail; });
}

/// The writers for `version`; `same_version`: the guest was judged for that version too.
FUZZ_NO_COVERAGE void require_writers(const Guest& guest, QemuVersion version,
                                      bool same_version) {
  const bool widths = same_version && !fails(check_vmm(guest));
  const std::string args = write_qemu_args(guest, version);
  require(detect_guest_input(args) == GuestInputKind::kQemu, "QEMU options look like QEMU", args);
  auto from_args = parse_qemu_guest(args, kFile, version);
  require(from_args.has_value(), "write_qemu_args output parses",
          from_args ? args : errors(from_args.error()) + args);
  require_same_request(guest, *from_args, "write_qemu_args", args, widths);
  require(!fails(check_vmm(*from_args)), "QEMU accepts what write_qemu_args writes", args);
  // [vfio] on a vfio-pci device: backend iommufd from 9.0, migration from 8.1 come back.
  const bool pci = std::any_of(guest.devices.begin(), guest.devices.end(), [](const auto& d) {
    return d.bdf.value.find(':') != std::string::npos;
  });
  if (guest.vfio && pci) {
    if (guest.vfio->backend && guest.vfio->backend->value == "iommufd" && version >= QemuVersion{9, 0})
      require(from_args->vfio && from_args->vfio->backend &&
                  from_args->vfio->backend->value == "iommufd",
              "write_qemu_args keeps backend = iommufd", args);
    if (guest.vfio->migration && version >= QemuVersion{8, 1})
      require(from_args->vfio && from_args->vfio->migration &&
                  from_args->vfio->migration->value == guest.vfio->migration->value,
              "write_qemu_args keeps migration", args);
  }

  const std::string domain = write_libvirt_iommu(guest, version);
  require(detect_guest_input(domain) == GuestInputKind::kLibvirt, "a domain looks like XML",
          domain);
  auto from_domain = parse_libvirt_guest(domain, kFile, version);
  require(from_domain.has_value(), "write_libvirt_iommu output parses",
          from_domain ? domain : errors(from_domain.error()) + domain);
  // libvirt assigns PCI functions only: the domain keeps the PCI devices and leaves the
  // platform devices out (write_libvirt_iommu says so in a comment).
  Guest pci_only = guest;
  std::erase_if(pci_only.devices, [](const GuestDevice& d) {
    return d.bdf.value.find(':') == std::string::npos;
  });
  require_same_request(pci_only, *from_domain, "write_libvirt_iommu", domain, widths);
  require(!fails(check_vmm(*from_domain)), "QEMU accepts what write_libvirt_iommu writes",
          domain);
}

void exercise(const Guest& guest, GuestSyntax syntax) {
  require(guest.file == kFile, "the guest keeps its file name");
  require(guest.vmm.syntax == syntax, "the guest records its syntax");
  for (const Finding& f : check_vmm(guest)) {
    require(!f.rule.empty() && !f.message.empty(), "VMM findings name their rule and say why",
            f.rule + ": " + f.message);
  }
  require_no_gain_from_unknowns(guest, fixed_host(), checked(guest, fixed_host()));
  checked(guest, Host{});

  const std::string toml = write_guest(guest);
  auto again = parse_guest(toml, kFile);
  require(again.has_value(), "write_guest output parses",
          again ? toml : errors(again.error()) + toml);
  // validate_guest refuses device names that are not UTF-8, so every value comes back equal.
  require(essence(*again) == essence(guest), "write_guest then parse_guest keeps every value",
          toml);

  require_writers(guest, guest.vmm.qemu_version, true);
  require_writers(guest, QemuVersion{7, 2}, false);
}

}  // namespace
}  // namespace caps::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace caps;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  detect_guest_input(text);
  auto qemu = parse_qemu_guest(text, fuzz::kFile);
  if (qemu) {
    fuzz::exercise(*qemu, GuestSyntax::kQemu);
  } else {
    fuzz::require_located(qemu.error(), "parse_qemu_guest");
  }
  auto domain = parse_libvirt_guest(text, fuzz::kFile);
  if (domain) {
    fuzz::exercise(*domain, GuestSyntax::kLibvirt);
  } else {
    fuzz::require_located(domain.error(), "parse_libvirt_guest");
  }
  return 0;
}
