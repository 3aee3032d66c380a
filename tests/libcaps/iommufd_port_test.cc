// SPDX-License-Identifier: MIT
// The replay port behaves as the kernel does with struct sizes (copy_struct_from_user(),
// iommufd_ucmd_respond()), and replay files parse strictly.
#include <cerrno>
#include <cstring>

#include <gtest/gtest.h>

#include "libcaps/iommufd.h"
#include "sources/iommufd_uapi.h"

namespace caps {
namespace {

struct Bound {
  std::unique_ptr<IommufdPort> port;
  int iommu = -1;
  uint32_t dev_id = 0;
};

Bound bind(ReplayDevice device) {
  Bound b;
  device.cdev = "vfio0";
  b.port = replay_iommufd_port({0, {device}});
  b.iommu = b.port->open("/dev/iommu");
  const int dev = b.port->open("/dev/vfio/devices/vfio0");
  uapi::VfioDeviceBindIommufd bind{sizeof bind, 0, b.iommu, 0};
  EXPECT_EQ(b.port->ioctl(dev, uapi::kVfioDeviceBindIommufd, &bind), 0);
  b.dev_id = bind.out_devid;
  return b;
}

ReplayDevice with_caps(uint32_t kernel_size) {
  ReplayDevice d;
  d.kernel_size = kernel_size;
  d.data_type = 1;
  d.data.assign(24, 0x11);
  d.capabilities = 0x5;
  d.max_pasid_log2 = 16;
  return d;
}

TEST(IommufdPort, UapiNumbersAreTheKernels) {
  // _IO(';', 0x8a) and _IO(';', 100 + 18): type 0x3b in bits 15:8, no size, no direction.
  EXPECT_EQ(uapi::kIommuGetHwInfo, 0x3b8au);
  EXPECT_EQ(uapi::kVfioDeviceBindIommufd, 0x3b76u);
}

TEST(IommufdPort, NewestStructOnNewestKernel) {
  Bound b = bind(with_caps(40));
  uint8_t data[64];
  std::memset(data, 0xee, sizeof data);
  uapi::IommuHwInfo cmd{};
  cmd.size = sizeof cmd;
  cmd.dev_id = b.dev_id;
  cmd.data_len = sizeof data;
  cmd.data_uptr = reinterpret_cast<uintptr_t>(data);
  ASSERT_EQ(b.port->ioctl(b.iommu, uapi::kIommuGetHwInfo, &cmd), 0);
  EXPECT_EQ(cmd.out_data_type, 1u);
  EXPECT_EQ(cmd.data_len, 24u);
  EXPECT_EQ(cmd.out_capabilities, 0x5u);
  EXPECT_EQ(cmd.out_max_pasid_log2, 16);
  EXPECT_EQ(data[23], 0x11);
  EXPECT_EQ(data[24], 0);  // trailing bytes zeroed
  EXPECT_EQ(data[63], 0);
}

TEST(IommufdPort, OlderKernelWritesOnlyItsOwnStruct) {
  Bound b = bind(with_caps(32));
  uapi::IommuHwInfo cmd{};
  cmd.size = sizeof cmd;
  cmd.dev_id = b.dev_id;
  ASSERT_EQ(b.port->ioctl(b.iommu, uapi::kIommuGetHwInfo, &cmd), 0);
  EXPECT_EQ(cmd.out_data_type, 1u);
  EXPECT_EQ(cmd.out_capabilities, 0u);  // beyond a 6.6 kernel's 32 bytes
  EXPECT_EQ(cmd.data_len, 24u);         // data_len 0 is allowed: nothing copied
}

TEST(IommufdPort, EdgeSizes) {
  Bound b = bind(with_caps(32));
  struct {
    uapi::IommuHwInfo cmd;
    uint64_t tail;
  } big{};
  big.cmd.dev_id = b.dev_id;
  big.cmd.size = 31;  // below the smallest size any kernel takes
  EXPECT_EQ(b.port->ioctl(b.iommu, uapi::kIommuGetHwInfo, &big), -EINVAL);
  big.cmd.size = 32;  // exactly 6.6's
  EXPECT_EQ(b.port->ioctl(b.iommu, uapi::kIommuGetHwInfo, &big), 0);
  EXPECT_EQ(big.cmd.data_len, 24u);  // the kernel's length, written back
  EXPECT_EQ(b.port->ioctl(b.iommu, uapi::kIommuGetHwInfo, &big), -EFAULT);  // no buffer
  big.cmd.data_len = 0;
  big.cmd.size = sizeof big;  // larger than the kernel's, zero tail: accepted
  EXPECT_EQ(b.port->ioctl(b.iommu, uapi::kIommuGetHwInfo, &big), 0);
  big.cmd.data_len = 0;
  big.tail = 1;  // a non-zero byte the kernel does not know
  EXPECT_EQ(b.port->ioctl(b.iommu, uapi::kIommuGetHwInfo, &big), -E2BIG);
  big.tail = 0;
  big.cmd.flags = 1;  // IOMMU_HW_INFO_FLAG_INPUT_TYPE on a kernel before 6.17
  EXPECT_EQ(b.port->ioctl(b.iommu, uapi::kIommuGetHwInfo, &big), -EOPNOTSUPP);
  big.cmd.flags = 0;
  big.cmd.dev_id = 77;
  EXPECT_EQ(b.port->ioctl(b.iommu, uapi::kIommuGetHwInfo, &big), -ENOENT);
}

TEST(IommufdPort, ShortDataBufferGetsThePrefixAndTheFullLength) {
  Bound b = bind(with_caps(40));
  uint8_t data[8] = {};
  uapi::IommuHwInfo cmd{};
  cmd.size = sizeof cmd;
  cmd.dev_id = b.dev_id;
  cmd.data_len = sizeof data;
  cmd.data_uptr = reinterpret_cast<uintptr_t>(data);
  ASSERT_EQ(b.port->ioctl(b.iommu, uapi::kIommuGetHwInfo, &cmd), 0);
  EXPECT_EQ(cmd.data_len, 24u);
  EXPECT_EQ(data[7], 0x11);
}

TEST(IommufdPort, WrongHandlesAndUnknownIoctls) {
  Bound b = bind(with_caps(40));
  uapi::IommuHwInfo cmd{};
  cmd.size = sizeof cmd;
  EXPECT_EQ(b.port->ioctl(2000, uapi::kIommuGetHwInfo, &cmd), -ENOTTY);
  EXPECT_EQ(b.port->ioctl(b.iommu, 0x3b99, &cmd), -ENOTTY);
  EXPECT_EQ(b.port->open("/dev/vfio/devices/vfio9"), -ENOENT);
  EXPECT_EQ(b.port->open("/etc/passwd"), -ENOENT);
}

TEST(IommufdPort, ReplayFileParses) {
  const Result<ReplayKernel> k = parse_iommufd_replay(
      "# recorded on a test host\n"
      "iommu open=OK\n"
      "device vfio0 dev_id=3 size=40 type=1 caps=0x1 pasid_log2=20 "
      "data=000000000000000066040807c008ed09df50f0a69e3e0300\n"
      "device vfio1 bind=EBUSY   # in use\n",
      "r.replay");
  ASSERT_TRUE(k) << k.error().to_string();
  EXPECT_EQ(k->iommu_open_error, 0);
  ASSERT_EQ(k->devices.size(), 2u);
  EXPECT_EQ(k->devices[0].dev_id, 3u);
  EXPECT_EQ(k->devices[0].capabilities, 1u);
  EXPECT_EQ(k->devices[0].max_pasid_log2, 20);
  EXPECT_EQ(k->devices[0].data.size(), 24u);
  EXPECT_EQ(k->devices[1].bind_error, EBUSY);
}

TEST(IommufdPort, ReplayFileErrorsNameTheLine) {
  for (const char* bad : {"iommu open=EWHAT\n", "device vfio0 size=4\n", "device vfio0 data=abc\n",
                          "device vfio0 colour=blue\n", "device\n", "kernel 6.6\n",
                          "device vfio0 pasid_log2=300\n", "device vfio0 caps\n"}) {
    const Result<ReplayKernel> k = parse_iommufd_replay(std::string("\n") + bad, "r.replay");
    ASSERT_FALSE(k) << bad;
    EXPECT_EQ(k.error().pos.line, 2) << bad;
  }
}

TEST(IommufdPort, ErrnoNames) {
  EXPECT_EQ(errno_name(ENOTTY), "ENOTTY");
  EXPECT_EQ(errno_name(EOPNOTSUPP), "EOPNOTSUPP");
  EXPECT_EQ(errno_name(4095), "errno 4095");
}

}  // namespace
}  // namespace caps
