// SPDX-License-Identifier: MIT
// bench_iommufd: the cost per device of probe_iommufd() (open /dev/iommu, open the cdev,
// VFIO_DEVICE_BIND_IOMMUFD, IOMMU_GET_HW_INFO, close) with the replay port, so what it times is
// the library's own work around the four system calls, not the kernel's. The kernel's share
// can only be timed on a host with a device bound to vfio-pci (docs/iommufd.md); the last table
// times the one system call this machine can answer, a failing open of /dev/iommu.
// Prints tables; asserts nothing.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench_util.h"
#include "libcaps/decode.h"
#include "libcaps/iommufd.h"

namespace {

/// In memory: every device under one VT-d unit, each with a vfio cdev.
class CdevSource final : public caps::Source {
 public:
  std::string_view backend() const override { return "memory"; }
  const std::string& root() const override { return root_; }
  caps::DirRead list_units() override { return {caps::ReadStatus::kOk, {}, 0}; }
  caps::FileRead read_file(std::string_view, std::size_t) override {
    return {caps::ReadStatus::kMissing, {}, 0};
  }
  caps::DirRead list_dir(std::string_view path) override {
    // sys/bus/pci/devices/0000:00:00.N/vfio-dev -> vfioN
    const std::size_t dot = path.rfind('.');
    const std::size_t slash = path.rfind('/');
    std::string index(path.substr(dot + 1, slash - dot - 1));
    return {caps::ReadStatus::kOk, {{"vfio" + index, caps::EntryType::kDir}}, 0};
  }
  caps::LinkRead read_link(std::string_view) override { return {caps::ReadStatus::kMissing, {}, 0}; }

 private:
  std::string root_ = "/";
};

caps::Host host_with(int devices) {
  caps::Host host;
  caps::Unit unit;
  unit.name = "dmar0";
  unit.model = "intel-vtd";
  host.units.push_back(unit);
  for (int i = 0; i < devices; ++i) {
    caps::Device d;
    d.name = "0000:00:00." + std::to_string(i);
    d.unit = "dmar0";
    d.driver = "vfio-pci";
    host.devices.push_back(d);
  }
  host.platform.kernel_release = "6.15.0";
  return host;
}

caps::ReplayKernel kernel_with(int devices) {
  caps::ReplayKernel kernel;
  for (int i = 0; i < devices; ++i) {
    caps::ReplayDevice d;
    d.cdev = "vfio" + std::to_string(i);
    d.dev_id = static_cast<uint32_t>(i + 1);
    d.data_type = 1;
    d.data.assign(24, 0x5a);
    d.capabilities = 1;
    kernel.devices.push_back(d);
  }
  return kernel;
}

}  // namespace

int main() {
  CdevSource source;
  std::printf("probe_iommufd with the replay port (library work per device)\n");
  std::printf("%8s %12s %12s %14s\n", "devices", "best ms", "median ms", "us/device");
  for (int devices : {1, 16, 256}) {
    std::vector<double> samples;
    for (int run = 0; run < 30; ++run) {
      caps::Host host = host_with(devices);
      std::unique_ptr<caps::IommufdPort> port = caps::replay_iommufd_port(kernel_with(devices));
      const auto start = bench::Clock::now();
      caps::probe_iommufd(host, source, *port);
      samples.push_back(bench::ms_since(start));
      if (host.iommufd.state != "asked") {
        std::fprintf(stderr, "not asked: %s\n", host.iommufd.reason.c_str());
        return 1;
      }
    }
    const bench::Summary s = bench::summarize(samples);
    std::printf("%8d %12.3f %12.3f %14.2f\n", devices, s.best, s.median,
                s.median * 1000.0 / devices);
  }
  std::unique_ptr<caps::IommufdPort> kernel = caps::kernel_iommufd_port();
  std::vector<double> samples;
  int result = 0;
  for (int run = 0; run < 1000; ++run) {
    const auto start = bench::Clock::now();
    result = kernel->open("/dev/iommu");
    samples.push_back(bench::ms_since(start));
    if (result >= 0) kernel->close(result);
  }
  const bench::Summary s = bench::summarize(samples);
  std::printf("\nkernel port: open(\"/dev/iommu\") here gives %s; median %.2f us\n",
              result >= 0 ? "a descriptor" : caps::errno_name(-result).c_str(), s.median * 1000.0);
  return 0;
}
