// SPDX-License-Identifier: MIT
// Tests for the model's orderings and look-ups.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "libcaps/model.h"

namespace caps {
namespace {

TEST(ModelTest, NaturalOrderComparesDigitRunsAsNumbers) {
  std::vector<std::string> units = {"dmar10", "dmar2", "dmar1", "ivhd0", "dmar02"};
  std::sort(units.begin(), units.end(), natural_less);
  EXPECT_EQ(units, (std::vector<std::string>{"dmar1", "dmar2", "dmar02", "dmar10", "ivhd0"}));
}

TEST(ModelTest, DeviceOrderKeepsPciAddressesInBusOrder) {
  // Natural order would read the hex "1d" as the number 1 and put 00:1d.0 before 00:02.0.
  std::vector<std::string> devices = {"0000:00:1d.0", "virtio0",   "0000:00:02.0", "0001:00:00.0",
                                      "0000:3b:00.1", "platform2", "platform10"};
  std::sort(devices.begin(), devices.end(), device_less);
  EXPECT_EQ(devices,
            (std::vector<std::string>{"0000:00:02.0", "0000:00:1d.0", "0000:3b:00.1",
                                      "0001:00:00.0", "platform2", "platform10", "virtio0"}));
}

TEST(ModelTest, FindByName) {
  Host host;
  host.units.push_back(Unit{});
  host.units[0].name = "dmar0";
  host.devices.push_back(Device{});
  host.devices[0].name = "0000:00:02.0";
  host.groups.push_back(Group{});
  host.groups[0].id = 7;
  EXPECT_EQ(host.find_unit("dmar0"), &host.units[0]);
  EXPECT_EQ(host.find_unit("dmar1"), nullptr);
  EXPECT_EQ(host.find_device("0000:00:02.0"), &host.devices[0]);
  EXPECT_EQ(host.find_group(7), &host.groups[0]);
  EXPECT_EQ(host.find_group(8), nullptr);
}

TEST(ModelTest, KernelVersionFromRelease) {
  using V = KernelVersion;
  EXPECT_EQ(parse_kernel_version("6.1.0-18-amd64"), (V{6, 1}));
  EXPECT_EQ(parse_kernel_version("6.12.48+deb13-arm64"), (V{6, 12}));
  EXPECT_EQ(parse_kernel_version("5.19"), (V{5, 19}));
  EXPECT_EQ(parse_kernel_version("5.14.0-362.8.1.el9_3.x86_64"), (V{5, 14}));
  EXPECT_EQ(parse_kernel_version("4.19.0-rc1"), (V{4, 19}));
  for (const char* bad : {"", "6", "6.", ".1", "v6.1", "6.x", "12345.1", "6.12345", "unknown"}) {
    EXPECT_EQ(parse_kernel_version(bad), std::nullopt) << bad;
  }
  EXPECT_LT((V{5, 14}), (V{5, 19}));
  EXPECT_LT((V{5, 19}), (V{6, 1}));
  EXPECT_LT((V{6, 1}), (V{6, 12}));
}

}  // namespace
}  // namespace caps
