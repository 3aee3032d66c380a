// SPDX-License-Identifier: MIT
// Tests for validate_guest (libcaps/src/guest_validate.cc): the checks all front ends share.
#include <gtest/gtest.h>

#include "libcaps/guest.h"

namespace caps {
namespace {

TEST(GuestValidate, RangesModelsAndDevicesInTextOrder) {
  Guest g;
  g.file = "vm";
  g.viommu.model = {"intel-vt-d", {1, 5}};
  g.viommu.input_bits = Located<int>{65, {1, 20}};
  g.viommu.ssid_bits = Located<int>{20, {1, 30}};
  g.devices = {{{"0000:3b:00.0", {2, 1}}}, {{"0000:3b:00.0", {3, 1}}}, {{"3b:00.9", {4, 1}}}};
  std::vector<Error> e = validate_guest(g);
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].to_string(), "vm:1:5: viommu.model: `intel-vt-d` is not a vIOMMU model");
  EXPECT_EQ(e[1].to_string(), "vm:1:20: viommu.input_bits: expected 1..64, got 65");
  EXPECT_EQ(e[2].to_string(),
            "vm:3:1: device[1].bdf: `0000:3b:00.0` is assigned twice (first at line 2)");
  EXPECT_EQ(e[3].to_string(), "vm:4:1: device[2].bdf: `3b:00.9` is not a PCI address DDDD:BB:DD.F");
}

TEST(GuestValidate, AValidGuestPasses) {
  Guest g;
  g.viommu.model = {"virtio-iommu", {1, 1}};
  g.viommu.input_bits = Located<int>{39, {1, 1}};
  EXPECT_TRUE(validate_guest(g).empty());
}

}  // namespace
}  // namespace caps
