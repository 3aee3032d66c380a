// SPDX-License-Identifier: MIT
// probe_iommufd() on hosts in memory, answered by recorded kernels (the replay port): real
// VT-d and SMMUv3 answers, an older kernel's smaller struct, edge sizes, and every errno.
#include <cerrno>
#include <cstring>
#include <sstream>

#include <gtest/gtest.h>

#include "libcaps/decode.h"
#include "libcaps/host_report.h"
#include "libcaps/iommufd.h"
#include "support/memory_source.h"

namespace caps {
namespace {

// A real 2-socket Xeon (Ice Lake-SP) unit's registers (fake-sysfs/hosts/intel-icx-2s.host).
constexpr uint64_t kCap = 0x9ed008c40780466;
constexpr uint64_t kEcap = 0x3ef9ea6f050df;

std::vector<uint8_t> vtd_data(uint64_t cap, uint64_t ecap) {
  std::vector<uint8_t> data(24, 0);
  std::memcpy(data.data() + 8, &cap, 8);
  std::memcpy(data.data() + 16, &ecap, 8);
  return data;
}

/// struct iommu_hw_info_arm_smmuv3 words: flags, reserved, IDR0..IDR5, IIDR, AIDR. Values
/// chosen for the test (shaped like an SMMUv3's), not captured from a machine.
std::vector<uint8_t> smmu_data() {
  const uint32_t words[10] = {0,          0,          0x080e101b, 0x00e73410, 0, 0x4,
                              0,          0x00000075, 0x43b,      0x1};
  std::vector<uint8_t> data(40);
  std::memcpy(data.data(), words, 40);
  return data;
}

Host vtd_host(std::string kernel = "6.15.0") {
  Host host;
  Unit unit;
  unit.name = "dmar0";
  unit.model = std::string(kModelIntelVtd);
  unit.registers.push_back({"cap", decode(vtd_cap_spec(), kCap), std::nullopt, ""});
  unit.registers.push_back({"ecap", decode(vtd_ecap_spec(), kEcap), std::nullopt, ""});
  host.units.push_back(unit);
  for (const char* name : {"0000:3b:00.0", "0000:3b:00.1", "0000:5e:00.0"}) {
    Device d;
    d.name = name;
    d.unit = "dmar0";
    d.driver = std::string(name) == "0000:5e:00.0" ? "nvme" : "vfio-pci";
    host.devices.push_back(d);
  }
  host.platform.kernel_release = kernel;
  return host;
}

testing::MemorySource cdevs() {
  testing::MemorySource source;
  source.dir("sys/bus/pci/devices/0000:3b:00.0/vfio-dev/vfio0");
  source.dir("sys/bus/pci/devices/0000:3b:00.1/vfio-dev/vfio1");
  return source;
}

ReplayDevice vtd_device(std::string cdev, uint32_t dev_id) {
  ReplayDevice d;
  d.cdev = std::move(cdev);
  d.dev_id = dev_id;
  d.data_type = 1;
  d.data = vtd_data(kCap, kEcap);
  d.capabilities = 0x7;
  d.max_pasid_log2 = 20;
  return d;
}

/// Counts opens and closes around a port: everything opened must be closed.
class CountingPort final : public IommufdPort {
 public:
  explicit CountingPort(std::unique_ptr<IommufdPort> inner) : inner_(std::move(inner)) {}
  std::string_view name() const override { return inner_->name(); }
  int open(const std::string& path) override {
    const int h = inner_->open(path);
    if (h >= 0) ++opens;
    return h;
  }
  int ioctl(int handle, unsigned long request, void* arg) override {
    ++ioctls;
    return inner_->ioctl(handle, request, arg);
  }
  void close(int handle) override {
    ++closes;
    inner_->close(handle);
  }
  int opens = 0, closes = 0, ioctls = 0;

 private:
  std::unique_ptr<IommufdPort> inner_;
};

Host probe(Host host, ReplayKernel kernel, testing::MemorySource source = cdevs(),
           CountingPort** counted = nullptr) {
  static std::unique_ptr<CountingPort> port;
  port = std::make_unique<CountingPort>(replay_iommufd_port(std::move(kernel)));
  probe_iommufd(host, source, *port);
  if (counted) *counted = port.get();
  EXPECT_EQ(port->opens, port->closes);
  return host;
}

TEST(ReadIommufd, VtdAnswerAttachesToTheUnitAndEachDevice) {
  CountingPort* port = nullptr;
  const Host host =
      probe(vtd_host(), {0, {vtd_device("vfio0", 1), vtd_device("vfio1", 2)}}, cdevs(), &port);
  EXPECT_EQ(host.iommufd.state, "asked");
  EXPECT_EQ(host.iommufd.reason, "");
  EXPECT_EQ(host.iommufd.via, "replay");
  const Unit& unit = host.units[0];
  ASSERT_TRUE(unit.iommufd);
  EXPECT_EQ(unit.iommufd->device, "0000:3b:00.0");  // the first that answered
  EXPECT_EQ(unit.iommufd->data_type, 1u);
  EXPECT_EQ(unit.iommufd->data_len, 24u);
  EXPECT_EQ(unit.iommufd->data.size(), 48u);
  ASSERT_EQ(unit.iommufd->fields.size(), 3u);
  EXPECT_EQ(unit.iommufd->fields[1], (Field{"cap_reg", kCap}));
  EXPECT_EQ(unit.iommufd->fields[2], (Field{"ecap_reg", kEcap}));
  ASSERT_EQ(unit.iommufd->registers.size(), 2u);
  EXPECT_EQ(unit.iommufd->registers[0], decode(vtd_cap_spec(), kCap));
  EXPECT_EQ(unit.iommufd->registers[1], decode(vtd_ecap_spec(), kEcap));
  EXPECT_EQ(unit.iommufd->matches_sysfs, true);
  EXPECT_TRUE(unit.diagnostics.empty());
  EXPECT_EQ(unit.caps.dirty_tracking, true);
  EXPECT_NE(unit.evidence.at("dirty_tracking").find("IOMMU_HW_CAP_DIRTY_TRACKING=1"),
            std::string::npos);
  for (int i : {0, 1}) {
    ASSERT_TRUE(host.devices[i].iommufd);
    EXPECT_EQ(host.devices[i].iommufd->capabilities, 0x7u);
    EXPECT_EQ(host.devices[i].iommufd->max_pasid_log2, 20);
    EXPECT_EQ(host.devices[i].iommufd->error, "");
  }
  EXPECT_EQ(host.devices[0].iommufd->cdev, "vfio0");
  EXPECT_FALSE(host.devices[2].iommufd);  // nvme: not asked
  // /dev/iommu once, each device once: bind and get_hw_info each.
  EXPECT_EQ(port->opens, 3);
  EXPECT_EQ(port->ioctls, 4);
}

TEST(ReadIommufd, SysfsDisagreeingWithTheKernelIsAWarning) {
  ReplayDevice d = vtd_device("vfio0", 1);
  d.data = vtd_data(kCap, kEcap ^ 0x8);
  const Host host = probe(vtd_host(), {0, {d}});
  ASSERT_TRUE(host.units[0].iommufd);
  EXPECT_EQ(host.units[0].iommufd->matches_sysfs, false);
  ASSERT_EQ(host.units[0].diagnostics.size(), 1u);
  EXPECT_NE(host.units[0].diagnostics[0].message.find("ecap_reg 0x3ef9ea6f050d7"),
            std::string::npos)
      << host.units[0].diagnostics[0].message;
}

TEST(ReadIommufd, KnownDirtyTrackingIsNotOverwritten) {
  Host host = vtd_host();
  host.units[0].caps.dirty_tracking = false;
  host.units[0].evidence["dirty_tracking"] = "ecap.SSADS=0";
  const Host probed = probe(host, {0, {vtd_device("vfio0", 1)}});
  EXPECT_EQ(probed.units[0].caps.dirty_tracking, false);
  EXPECT_EQ(probed.units[0].evidence.at("dirty_tracking"), "ecap.SSADS=0");
}

TEST(ReadIommufd, OlderKernelSmallerStructLeavesNewFieldsUnknown) {
  // 6.6: struct iommu_hw_info is 32 bytes, no out_capabilities; the kernel never writes it.
  ReplayDevice d = vtd_device("vfio0", 1);
  d.kernel_size = 32;
  d.capabilities = 0x1;  // what a newer kernel would say: a 6.6 one cannot
  d.max_pasid_log2 = 0;
  const Host host = probe(vtd_host("6.6.8-generic"), {0, {d}});
  EXPECT_EQ(host.iommufd.state, "asked");
  ASSERT_TRUE(host.devices[0].iommufd);
  EXPECT_EQ(host.devices[0].iommufd->capabilities, std::nullopt);
  EXPECT_EQ(host.devices[0].iommufd->max_pasid_log2, std::nullopt);
  EXPECT_EQ(host.units[0].caps.dirty_tracking, std::nullopt);
  EXPECT_EQ(host.units[0].iommufd->matches_sysfs, true);

  // 6.7 .. 6.14: capabilities, but no PASID width yet.
  ReplayDevice e = vtd_device("vfio0", 1);
  e.max_pasid_log2 = 0;
  const Host mid = probe(vtd_host("6.12.0-1-amd64"), {0, {e}});
  EXPECT_EQ(mid.devices[0].iommufd->capabilities, 0x7u);
  EXPECT_EQ(mid.devices[0].iommufd->max_pasid_log2, std::nullopt);
}

TEST(ReadIommufd, UnknownKernelReleaseDoesNotTrustNewerFields) {
  Host host = vtd_host();
  host.platform.kernel_release.reset();
  const Host probed = probe(host, {0, {vtd_device("vfio0", 1)}});
  EXPECT_EQ(probed.iommufd.state, "asked");
  EXPECT_NE(probed.iommufd.reason.find("kernel release unknown"), std::string::npos);
  EXPECT_EQ(probed.devices[0].iommufd->capabilities, std::nullopt);
}

TEST(ReadIommufd, SmmuV3DataStaysRawUntilDecoded) {
  Host host = vtd_host();
  host.units[0].name = "smmu3.0x0000000009050000";
  host.units[0].model = std::string(kModelArmSmmuV3);
  host.units[0].registers.clear();
  for (Device& d : host.devices) d.unit = host.units[0].name;
  ReplayDevice d;
  d.cdev = "vfio0";
  d.data_type = 2;
  d.data = smmu_data();
  d.capabilities = 0;
  const Host probed = probe(host, {0, {d}});
  const auto& info = probed.units[0].iommufd;
  ASSERT_TRUE(info);
  EXPECT_EQ(info->data_len, 40u);
  ASSERT_EQ(info->fields.size(), 9u);
  EXPECT_EQ(info->fields[1], (Field{"idr0", 0x080e101b}));
  EXPECT_EQ(info->fields[6], (Field{"idr5", 0x75}));
  EXPECT_EQ(info->fields[7], (Field{"iidr", 0x43b}));
  EXPECT_EQ(info->fields[8], (Field{"aidr", 0x1}));
  // Decoded by the SMMUv3 decoder: the eight registers under their spec names.
  ASSERT_EQ(info->registers.size(), 8u);
  EXPECT_EQ(info->registers[0], decode(smmuv3_idr_spec(0), 0x080e101b));
  EXPECT_EQ(info->registers[7], decode(smmuv3_aidr_spec(), 0x1));
  EXPECT_EQ(info->matches_sysfs, std::nullopt);
  // What sysfs left unknown comes from the answer, with where it came from as evidence.
  const Unit& unit = probed.units[0];
  EXPECT_EQ(unit.caps.output_bits, smmuv3_oas_bits(0x75 & 7));
  ASSERT_TRUE(unit.caps.input_bits);
  EXPECT_TRUE(unit.evidence.at("input_bits").starts_with("iommufd IOMMU_GET_HW_INFO through "))
      << unit.evidence.at("input_bits");
  EXPECT_EQ(unit.caps.dirty_tracking, false);
}

TEST(ReadIommufd, UnknownTypeAndLongDataKeptRawAndBounded) {
  ReplayDevice d = vtd_device("vfio0", 1);
  d.data_type = 99;
  d.data.assign(300, 0xab);
  const Host host = probe(vtd_host(), {0, {d}});
  const auto& info = host.units[0].iommufd;
  ASSERT_TRUE(info);
  EXPECT_EQ(info->data_len, 300u);       // the kernel's own length
  EXPECT_EQ(info->data.size(), 2u * 256);  // what the buffer held
  EXPECT_TRUE(info->fields.empty());
  EXPECT_EQ(iommufd_data_type_name(99), "type-99");
}

TEST(ReadIommufd, TypeNoneWithoutData) {
  ReplayDevice d = vtd_device("vfio0", 1);
  d.data_type = 0;
  d.data.clear();
  const Host host = probe(vtd_host(), {0, {d}});
  ASSERT_TRUE(host.units[0].iommufd);
  EXPECT_EQ(host.units[0].iommufd->data_len, 0u);
  EXPECT_EQ(host.units[0].iommufd->data, "");
  EXPECT_EQ(iommufd_data_type_name(0), "none");
}

struct ErrnoCase {
  const char* name;
  int ReplayDevice::*step;
  int error;
  const char* expected;
};

class ReadIommufdErrors : public ::testing::TestWithParam<ErrnoCase> {};

TEST_P(ReadIommufdErrors, DeviceStepFailsWithAReason) {
  const ErrnoCase& c = GetParam();
  ReplayDevice d = vtd_device("vfio0", 1);
  d.*c.step = c.error;
  Host host = vtd_host();
  testing::MemorySource source;
  source.dir("sys/bus/pci/devices/0000:3b:00.0/vfio-dev/vfio0");
  const Host probed = probe(host, {0, {d}}, source);
  EXPECT_EQ(probed.iommufd.state, "unavailable");
  EXPECT_NE(probed.iommufd.reason.find(c.expected), std::string::npos) << probed.iommufd.reason;
  ASSERT_TRUE(probed.devices[0].iommufd);
  EXPECT_NE(probed.devices[0].iommufd->error.find(c.expected), std::string::npos);
  EXPECT_EQ(probed.devices[0].iommufd->capabilities, std::nullopt);
  EXPECT_FALSE(probed.units[0].iommufd);
  EXPECT_EQ(probed.units[0].caps.dirty_tracking, std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(
    Steps, ReadIommufdErrors,
    ::testing::Values(
        ErrnoCase{"HwInfoEnotty", &ReplayDevice::hw_info_error, ENOTTY,
                  "IOMMU_GET_HW_INFO: ENOTTY (the kernel does not know this ioctl"},
        ErrnoCase{"HwInfoEopnotsupp", &ReplayDevice::hw_info_error, EOPNOTSUPP,
                  "IOMMU_GET_HW_INFO: EOPNOTSUPP"},
        ErrnoCase{"HwInfoEinval", &ReplayDevice::hw_info_error, EINVAL,
                  "IOMMU_GET_HW_INFO: EINVAL"},
        ErrnoCase{"HwInfoEperm", &ReplayDevice::hw_info_error, EPERM, "IOMMU_GET_HW_INFO: EPERM"},
        ErrnoCase{"BindEperm", &ReplayDevice::bind_error, EPERM,
                  "VFIO_DEVICE_BIND_IOMMUFD: EPERM (not permitted: the platform does not isolate "
                  "the device's MSIs (no interrupt remapping, no GICv3 ITS) and "
                  "iommufd.allow_unsafe_interrupts is off)"},
        ErrnoCase{"BindEacces", &ReplayDevice::bind_error, EACCES,
                  "VFIO_DEVICE_BIND_IOMMUFD: EACCES (not permitted: an SR-IOV VF whose PF is on "
                  "vfio-pci needs the PF's VF token)"},
        ErrnoCase{"BindEbusy", &ReplayDevice::bind_error, EBUSY,
                  "legacy VFIO container API"},
        ErrnoCase{"BindEinval", &ReplayDevice::bind_error, EINVAL, "already open through its cdev"},
        ErrnoCase{"BindEnotty", &ReplayDevice::bind_error, ENOTTY,
                  "VFIO_DEVICE_BIND_IOMMUFD: ENOTTY"},
        ErrnoCase{"OpenEacces", &ReplayDevice::open_error, EACCES,
                  "open /dev/vfio/devices/vfio0: EACCES (not permitted: run as root"},
        ErrnoCase{"OpenEnoent", &ReplayDevice::open_error, ENOENT, "no device node"}),
    [](const ::testing::TestParamInfo<ErrnoCase>& p) { return std::string(p.param.name); });

TEST(ReadIommufd, OneDeviceFailingDoesNotHideAnother) {
  ReplayDevice busy = vtd_device("vfio0", 1);
  busy.bind_error = EBUSY;
  const Host host = probe(vtd_host(), {0, {busy, vtd_device("vfio1", 2)}});
  EXPECT_EQ(host.iommufd.state, "asked");
  EXPECT_NE(host.devices[0].iommufd->error.find("EBUSY"), std::string::npos);
  ASSERT_TRUE(host.units[0].iommufd);
  EXPECT_EQ(host.units[0].iommufd->device, "0000:3b:00.1");
}

TEST(ReadIommufd, NoDevIommu) {
  const Host host = probe(vtd_host(), {ENOENT, {vtd_device("vfio0", 1)}});
  EXPECT_EQ(host.iommufd.state, "unavailable");
  EXPECT_NE(host.iommufd.reason.find("no /dev/iommu (ENOENT): CONFIG_IOMMUFD"), std::string::npos);
  EXPECT_EQ(host.devices[0].iommufd->error, host.iommufd.reason);
  const Host denied = probe(vtd_host(), {EACCES, {vtd_device("vfio0", 1)}});
  EXPECT_NE(denied.iommufd.reason.find("open /dev/iommu: EACCES (not permitted: run as root"),
            std::string::npos);
}

TEST(ReadIommufd, NothingBoundOrNoCdevOrOldKernel) {
  Host host = vtd_host();
  for (Device& d : host.devices) d.driver = "ixgbe";
  EXPECT_EQ(probe(host, {}).iommufd.reason, "no device is bound to vfio-pci");
  const Host no_cdev = probe(vtd_host(), {0, {vtd_device("vfio0", 1)}}, testing::MemorySource{});
  EXPECT_EQ(no_cdev.iommufd.state, "unavailable");
  EXPECT_NE(no_cdev.iommufd.reason.find("2 device(s) bound to vfio-pci, none with a vfio cdev"),
            std::string::npos);
  const Host old = probe(vtd_host("6.1.0-18-amd64"), {0, {vtd_device("vfio0", 1)}});
  EXPECT_EQ(old.iommufd.reason,
            "kernel 6.1.0-18-amd64 predates vfio device cdevs and IOMMU_GET_HW_INFO (6.6)");
}

TEST(ReadIommufd, HostReportKeepsTheFacts) {
  ReplayDevice busy = vtd_device("vfio1", 2);
  busy.bind_error = EBUSY;
  const Host host = probe(vtd_host(), {0, {vtd_device("vfio0", 1), busy}});
  std::ostringstream out;
  write_host_report(host, out);
  const Result<Host> loaded = load_host_report(out.str(), "report.toml");
  ASSERT_TRUE(loaded) << loaded.error().to_string() << "\n" << out.str();
  EXPECT_EQ(loaded->iommufd, host.iommufd);
  EXPECT_EQ(loaded->units[0].iommufd, host.units[0].iommufd);
  EXPECT_EQ(loaded->devices[0].iommufd, host.devices[0].iommufd);
  EXPECT_EQ(loaded->devices[1].iommufd, host.devices[1].iommufd);
  EXPECT_EQ(loaded->devices[2].iommufd, std::nullopt);
  // Written again, the same text.
  std::ostringstream again;
  write_host_report(*loaded, again);
  EXPECT_EQ(again.str().substr(again.str().find("[platform]")),
            out.str().substr(out.str().find("[platform]")));
}

TEST(ReadIommufd, HostReportRefusesABadState) {
  const Host host = probe(vtd_host(), {0, {vtd_device("vfio0", 1)}});
  std::ostringstream out;
  write_host_report(host, out);
  std::string text = out.str();
  text.replace(text.find("state = \"asked\""), 15, "state = \"maybe\"");
  const Result<Host> loaded = load_host_report(text, "report.toml");
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("iommufd.state"), std::string::npos)
      << loaded.error().to_string();
}

}  // namespace
}  // namespace caps
