// SPDX-License-Identifier: MIT
// Tests for validate_guest (libcaps/src/guest/guest_validate.cc): a guest built in code, as the
// QEMU and libvirt front ends build one, checked without a guest file.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "libcaps/guest.h"

namespace caps {
namespace {

std::vector<std::string> errors_of(Guest guest) {
  std::vector<std::string> out;
  for (const Error& e : validate_guest(guest)) out.push_back(e.to_string());
  return out;
}

Guest vtd_guest() {
  Guest g;
  g.file = "qemu command line";
  g.viommu.model.value = "intel-vtd";
  g.viommu.input_bits = Located<int>{48, {}};
  g.devices.push_back({{"0000:3b:00.0", {}}});
  return g;
}

TEST(ValidateGuest, AcceptsASensibleGuest) {
  EXPECT_EQ(errors_of(vtd_guest()), std::vector<std::string>{});
}

TEST(ValidateGuest, WithoutPositionsNamesTheSourceAlone) {
  Guest g = vtd_guest();
  g.viommu.model.value = "intel-vdt";
  g.viommu.input_bits = Located<int>{65, {}};
  g.devices.push_back({{"3b:00.0", {}}});
  g.devices.push_back({{"0000:3b:00.0", {}}});
  EXPECT_EQ(errors_of(g),
            (std::vector<std::string>{
                "qemu command line: viommu.model: `intel-vdt` is not one of intel-vtd | amd-vi | "
                "arm-smmu-v3 | virtio-iommu; did you mean `intel-vtd`?",
                "qemu command line: viommu.input_bits: expected 1..64, got 65",
                "qemu command line: device[1].bdf: `3b:00.0` has no PCI domain; write "
                "`0000:3b:00.0`",
                "qemu command line: device[2].bdf: `0000:3b:00.0` is assigned twice (first as "
                "device[0])"}));
}

TEST(ValidateGuest, PositionsAreUsedWhenKnown) {
  Guest g = vtd_guest();
  g.file = "vm.toml";
  g.viommu.ssid_bits = Located<int>{40, {7, 1}};
  EXPECT_EQ(errors_of(g),
            std::vector<std::string>{"vm.toml:7:1: viommu.ssid_bits: expected 0..32, got 40"});
}

TEST(ValidateGuest, ModelAndStringsMustNotBeEmpty) {
  Guest g = vtd_guest();
  g.viommu.model.value = "";
  g.viommu.pgtable_format = Located<std::string>{"", {}};
  EXPECT_EQ(errors_of(g), (std::vector<std::string>{
                              "qemu command line: viommu.model: expected a non-empty string",
                              "qemu command line: viommu.pgtable_format: expected a non-empty "
                              "string"}));
}

TEST(ValidateGuest, UnitsListsAreCheckedElementByElement) {
  Guest g = vtd_guest();
  g.viommu.units = Located<std::vector<std::string>>{{"dmar0", "", "dmar0"}, {3, 1}};
  g.file = "vm.toml";
  EXPECT_EQ(errors_of(g),
            (std::vector<std::string>{"vm.toml:3:1: viommu.units[1]: expected a non-empty string",
                                      "vm.toml:3:1: viommu.units[2]: `dmar0` is listed twice"}));
  g.viommu.units->value.clear();
  EXPECT_EQ(errors_of(g),
            std::vector<std::string>{"vm.toml:3:1: viommu.units: expected a non-empty array "
                                     "(leave `units` out to check every unit)"});
}

TEST(ValidateGuest, PasidBitsRange) {
  Guest g = vtd_guest();
  g.pasid_table.emplace();
  g.pasid_table->pasid_bits = Located<int>{256, {}};
  EXPECT_EQ(errors_of(g),
            std::vector<std::string>{
                "qemu command line: pasid_table.pasid_bits: expected 0..255, got 256"});
}

}  // namespace
}  // namespace caps
