// SPDX-License-Identifier: MIT
// Tests for tools/iommu-probe/probe_format_nfd: what is summarised, and that an unknown fact
// gives no line (never "true").
#include "iommu-probe/probe_format_nfd.h"

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tools {
namespace {

caps::Unit unit(std::string name, std::string model) {
  caps::Unit u;
  u.name = std::move(name);
  u.model = std::move(model);
  return u;
}

caps::Device device(std::string name, uint64_t group, std::string driver) {
  caps::Device d;
  d.name = std::move(name);
  d.group = group;
  d.driver = std::move(driver);
  return d;
}

std::string nfd(const caps::Host& host, const caps::AssignmentSupport& support = {}) {
  std::ostringstream out;
  format_nfd(host, support, out);
  return out.str();
}

bool has(const std::string& text, const std::string& line) {
  return text.find("\nfeature.node.kubernetes.io/" + line + "\n") != std::string::npos;
}

bool names(const std::string& text, const std::string& name) {
  return text.find("\nfeature.node.kubernetes.io/" + name + "=") != std::string::npos;
}

TEST(FormatNfd, FeatureTrueOnlyWhenEveryUnitSaysSo) {
  caps::Host host;
  host.units = {unit("dmar0", "intel-vtd"), unit("dmar1", "intel-vtd")};
  host.units[0].caps.nested = true;  // dmar1 does not say
  host.units[0].caps.ats = true;
  host.units[1].caps.ats = true;
  host.units[0].caps.page_requests = false;  // a known "no" decides beside an unknown
  const std::string out = nfd(host);
  EXPECT_FALSE(names(out, "iommu.nested")) << out;
  EXPECT_FALSE(names(out, "iommu.intel-vtd.nested")) << out;
  EXPECT_TRUE(has(out, "iommu.ats=true")) << out;
  EXPECT_TRUE(has(out, "iommu.page_requests=false")) << out;
  host.units[1].caps.nested = true;
  EXPECT_TRUE(has(nfd(host), "iommu.nested=true"));
  EXPECT_TRUE(has(nfd(host), "iommu.intel-vtd.nested=true"));
}

TEST(FormatNfd, WidthsAreTheLeastAndNeedEveryUnit) {
  caps::Host host;
  host.units = {unit("dmar0", "intel-vtd"), unit("ivhd0", "amd-vi"), unit("ivhd1", "amd-vi")};
  host.units[0].caps.input_bits = 57;
  host.units[1].caps.input_bits = 64;
  host.units[2].caps.input_bits = 48;
  host.units[0].caps.ssid_bits = 20;  // the AMD units do not say
  host.units[0].caps.httu = caps::Httu::kAccessDirty;
  const std::string out = nfd(host);
  EXPECT_TRUE(has(out, "iommu.units=3")) << out;
  EXPECT_TRUE(has(out, "iommu.input_bits=48")) << out;
  EXPECT_TRUE(has(out, "iommu.model.amd-vi=2")) << out;
  EXPECT_TRUE(has(out, "iommu.amd-vi.input_bits=48")) << out;
  EXPECT_TRUE(has(out, "iommu.intel-vtd.input_bits=57")) << out;
  EXPECT_FALSE(names(out, "iommu.ssid_bits")) << out;
  EXPECT_TRUE(has(out, "iommu.intel-vtd.ssid_bits=20")) << out;
  // '+' is not a label character.
  EXPECT_TRUE(has(out, "iommu.intel-vtd.httu=access-dirty")) << out;
  // Models come in name order, after the host-wide lines.
  EXPECT_LT(out.find("iommu.model.amd-vi="), out.find("iommu.model.intel-vtd="));
  EXPECT_LT(out.find("iommu.input_bits="), out.find("iommu.model.amd-vi="));
}

TEST(FormatNfd, PageTableFormatsCommonToEveryUnit) {
  caps::Host host;
  host.units = {unit("dmar0", "intel-vtd"), unit("dmar1", "intel-vtd")};
  host.units[0].caps.pgtable_formats = std::vector<std::string>{"vtd-ss-48", "vtd-fs-48"};
  host.units[1].caps.pgtable_formats = std::vector<std::string>{"vtd-ss-39", "vtd-ss-48"};
  const std::string out = nfd(host);
  EXPECT_TRUE(has(out, "iommu.pgtable_formats.vtd-ss-48=true")) << out;
  EXPECT_FALSE(names(out, "iommu.pgtable_formats.vtd-fs-48")) << out;
}

TEST(FormatNfd, NoUnit) {
  EXPECT_EQ(nfd(caps::Host{}),
            "# IOMMU features for Node Feature Discovery, written by iommu-probe --format nfd.\n"
            "# The features are described in iommu-tools' docs/nfd.md.\n"
            "feature.node.kubernetes.io/iommu.present=false\n"
            "feature.node.kubernetes.io/iommu.units=0\n"
            "feature.node.kubernetes.io/iommu.groups=0\n"
            "feature.node.kubernetes.io/iommu.vfio_pci.devices=0\n"
            "feature.node.kubernetes.io/iommu.vfio_pci.groups=0\n");
}

TEST(FormatNfd, VfioPciAndIommufd) {
  caps::Host host;
  caps::Device a = device("0000:01:00.0", 1, "vfio-pci");
  caps::Device b = device("0000:01:00.1", 1, "vfio-pci");
  caps::Device c = device("0000:02:00.0", 2, "vfio-pci");
  caps::Device d = device("0000:02:00.1", 2, "nvme");
  host.devices = {a, b, c, d};
  host.groups.resize(2);
  host.groups[0].id = 1;
  host.groups[0].devices = {a.name, b.name};
  host.groups[1].id = 2;
  host.groups[1].devices = {c.name, d.name};
  caps::AssignmentSupport support;
  support.vfio_pci.present = true;
  support.iommufd.present = false;
  std::string out = nfd(host, support);
  EXPECT_TRUE(has(out, "iommu.vfio_pci.devices=3")) << out;
  EXPECT_TRUE(has(out, "iommu.vfio_pci.groups=1")) << out;  // group 2 has an nvme member
  EXPECT_TRUE(has(out, "iommu.vfio_pci=true")) << out;
  EXPECT_TRUE(has(out, "iommu.iommufd=false")) << out;
  // A driver link that could not be read: neither count is known.
  host.devices[3].driver_known = false;
  out = nfd(host);
  EXPECT_FALSE(names(out, "iommu.vfio_pci.devices")) << out;
  EXPECT_FALSE(names(out, "iommu.vfio_pci.groups")) << out;
  EXPECT_FALSE(names(out, "iommu.iommufd")) << out;  // the tree did not say
}

}  // namespace
}  // namespace tools
