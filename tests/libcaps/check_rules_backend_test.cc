// SPDX-License-Identifier: MIT
// The backend.* rules: a guest's [vfio] (iommufd or legacy, migration, confidential) against
// hosts with and without iommufd facts. Each rule passing, failing and unknown.
#include <gtest/gtest.h>

#include "libcaps/check.h"
#include "libcaps/guest.h"
#include "libcaps/guest_vmm.h"

namespace caps {
namespace {

template <class T>
Located<T> at(T value, int line) {
  return {std::move(value), {line, 1}};
}

Host host(std::string kernel = "6.15.0") {
  Host h;
  h.backend = "dir";
  h.root = "/fake";
  Unit u;
  u.name = "dmar0";
  u.model = std::string(kModelIntelVtd);
  u.layout = Layout::kGeneric;
  u.caps.ssid_bits = 20;
  u.caps.nested = true;
  h.units.push_back(u);
  Device d;
  d.name = "0000:3b:00.0";
  d.unit = "dmar0";
  d.group = 12;
  d.driver = "vfio-pci";
  h.devices.push_back(d);
  h.groups.push_back(Group{12, "DMA", std::nullopt, {"0000:3b:00.0"}, {}});
  h.platform.kernel_release = kernel;
  return h;
}

/// The host after iommufd answered for its device.
Host asked(uint64_t capabilities, std::optional<int> pasid_log2) {
  Host h = host();
  h.iommufd = {"asked", "", "replay"};
  h.devices[0].iommufd = IommufdDeviceInfo{"vfio0", capabilities, pasid_log2, ""};
  return h;
}

Guest guest(std::optional<std::string> backend) {
  Guest g;
  g.file = "guest.toml";
  g.viommu_pos = {1, 1};
  g.viommu.model = at(std::string(kModelIntelVtd), 2);
  g.devices.push_back({at(std::string("0000:3b:00.0"), 5)});
  GuestVfio vfio;
  vfio.pos = {10, 1};
  if (backend) vfio.backend = at(*backend, 11);
  g.vfio = vfio;
  return g;
}

std::vector<Outcome> outcomes(const Guest& g, const Host& h, std::string_view rule) {
  std::vector<Outcome> out;
  for (const Finding& f : check(g, h).findings) {
    if (f.rule == rule) out.push_back(f.outcome);
  }
  return out;
}

const Finding* first(const Report& r, std::string_view rule) {
  for (const Finding& f : r.findings) {
    if (f.rule == rule) return &f;
  }
  return nullptr;
}

using V = std::vector<Outcome>;
constexpr Outcome kPass = Outcome::kPass, kFail = Outcome::kFail, kUnknown = Outcome::kUnknown,
                  kWarn = Outcome::kWarn;

TEST(CheckBackend, HostNeedsIommufdForTheIommufdBackend) {
  EXPECT_EQ(outcomes(guest("iommufd"), asked(1, 20), "backend.host"), V{kPass});
  EXPECT_EQ(outcomes(guest("iommufd"), host(), "backend.host"), V{kUnknown});
  EXPECT_EQ(outcomes(guest("iommufd"), host("6.1.0-18-amd64"), "backend.host"), V{kFail});
  EXPECT_EQ(outcomes(guest("iommufd"), host("6.4.0"), "backend.host"), V{kFail});
  Host none = host();
  none.iommufd = {"unavailable", "no /dev/iommu (ENOENT): CONFIG_IOMMUFD is not set", "kernel"};
  const Report r = check(guest("iommufd"), none);
  ASSERT_NE(first(r, "backend.host"), nullptr);
  EXPECT_EQ(first(r, "backend.host")->outcome, kFail);
  EXPECT_EQ(first(r, "backend.host")->guest_key, "vfio.backend");
  EXPECT_EQ(first(r, "backend.host")->pos.line, 11);
  EXPECT_EQ(r.verdict, Verdict::kIncompatible);
  EXPECT_TRUE(outcomes(guest("legacy"), host("6.1.0"), "backend.host").empty());
  EXPECT_TRUE(outcomes(guest(std::nullopt), host("6.1.0"), "backend.host").empty());
}

TEST(CheckBackend, NestedNeedsIommufd) {
  Guest g = guest("legacy");
  g.viommu.nested = at(true, 3);
  EXPECT_EQ(outcomes(g, host(), "backend.nested"), V{kFail});
  g.vfio->backend = at(std::string("iommufd"), 11);
  EXPECT_EQ(outcomes(g, host(), "backend.nested"), V{kPass});
  g.viommu.nested = at(false, 3);
  EXPECT_TRUE(outcomes(g, host(), "backend.nested").empty());
}

TEST(CheckBackend, MigrationNeedsIommufdDirtyTracking) {
  Guest g = guest("iommufd");
  g.vfio->migration = at(true, 12);
  EXPECT_EQ(outcomes(g, asked(0x1, 0), "backend.dirty_tracking"), V{kPass});
  EXPECT_EQ(outcomes(g, asked(0x0, 0), "backend.dirty_tracking"), V{kFail});
  EXPECT_EQ(outcomes(g, host(), "backend.dirty_tracking"), V{kUnknown});
  Host no_dirty = host();
  no_dirty.units[0].caps.dirty_tracking = false;
  EXPECT_EQ(outcomes(g, no_dirty, "backend.dirty_tracking"), V{kFail});
  g.vfio->backend = at(std::string("legacy"), 11);
  EXPECT_EQ(outcomes(g, asked(0x1, 0), "backend.dirty_tracking"), V{kWarn});
}

TEST(CheckBackend, PasidMustBeVisibleThroughIommufd) {
  Guest g = guest("iommufd");
  g.viommu.ssid_bits = at(16, 4);
  EXPECT_EQ(outcomes(g, asked(0x6, 20), "backend.pasid"), V{kPass});
  EXPECT_EQ(outcomes(g, asked(0x0, 0), "backend.pasid"), V{kFail});
  EXPECT_EQ(outcomes(g, asked(0x0, 10), "backend.pasid"), V{kFail});
  EXPECT_EQ(outcomes(g, host(), "backend.pasid"), V{kUnknown});
  // 6.7 .. 6.14: capabilities, no PASID width.
  EXPECT_EQ(outcomes(g, asked(0x1, std::nullopt), "backend.pasid"), V{kUnknown});
  g.vfio->backend = at(std::string("legacy"), 11);
  EXPECT_EQ(outcomes(g, asked(0x6, 20), "backend.pasid"), V{kFail});
}

TEST(CheckBackend, ConfidentialGuestsNeedIommufd) {
  Guest g = guest("legacy");
  g.vfio->confidential = at(std::string("tdx"), 13);
  EXPECT_EQ(outcomes(g, host(), "backend.confidential"), V{kFail});
  g.vfio->backend.reset();
  EXPECT_EQ(outcomes(g, host(), "backend.confidential"), V{kFail});
  g.vfio->backend = at(std::string("iommufd"), 11);
  EXPECT_EQ(outcomes(g, host(), "backend.confidential"), V{kPass});
  g.devices.clear();
  EXPECT_TRUE(outcomes(g, host(), "backend.confidential").empty());
}

TEST(GuestVfio, TomlRoundTrip) {
  const char* text =
      "format = 1\n[viommu]\nmodel = \"intel-vtd\"\n"
      "[vfio]\nbackend = \"iommufd\"\nconfidential = \"sev-snp\"\nmigration = true\n";
  auto g = parse_guest(text, "g.toml");
  ASSERT_TRUE(g) << g.error().front().to_string();
  ASSERT_TRUE(g->vfio);
  EXPECT_EQ(g->vfio->backend->value, "iommufd");
  EXPECT_EQ(g->vfio->confidential->value, "sev-snp");
  EXPECT_EQ(g->vfio->migration->value, true);
  auto again = parse_guest(write_guest(*g), "again.toml");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->vfio->backend->value, "iommufd");
  EXPECT_EQ(again->vfio->confidential->value, "sev-snp");
  EXPECT_EQ(again->vfio->migration->value, true);
  auto bad = parse_guest("format = 1\n[viommu]\nmodel = \"intel-vtd\"\n[vfio]\nbackend = \"vfio\"\n",
                         "bad.toml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().front().message.find("backend"), std::string::npos);
}

TEST(GuestVfio, QemuCommandLine) {
  auto g = parse_qemu_guest(
      "qemu-system-x86_64 -machine q35,confidential-guest-support=tdx0 -object tdx-guest,id=tdx0 "
      "-device intel-iommu -object iommufd,id=iommufd0 "
      "-device vfio-pci,host=0000:3b:00.0,iommufd=iommufd0",
      "cmd", QemuVersion{10, 1});
  ASSERT_TRUE(g) << g.error().front().to_string();
  ASSERT_TRUE(g->vfio);
  EXPECT_EQ(g->vfio->backend->value, "iommufd");
  EXPECT_EQ(g->vfio->confidential->value, "tdx");
  auto legacy = parse_qemu_guest(
      "qemu-system-x86_64 -machine q35 -object sev-snp-guest,id=sev0 -device intel-iommu "
      "-device vfio-pci,host=0000:3b:00.0",
      "cmd", QemuVersion{10, 1});
  ASSERT_TRUE(legacy);
  EXPECT_EQ(legacy->vfio->backend->value, "legacy");
  EXPECT_FALSE(legacy->vfio->confidential);  // the machine does not use the object
}

TEST(GuestVfio, LibvirtDomain) {
  const char* xml = R"(<domain type='kvm'>
  <launchSecurity type='sev-snp'/>
  <devices>
    <iommu model='intel'/>
    <hostdev mode='subsystem' type='pci'>
      <source><address domain='0x0000' bus='0x3b' slot='0x00' function='0x0'/></source>
      <iommufd enabled='yes'/>
    </hostdev>
  </devices>
</domain>)";
  auto g = parse_libvirt_guest(xml, "d.xml", QemuVersion{10, 1});
  ASSERT_TRUE(g) << g.error().front().to_string();
  ASSERT_TRUE(g->vfio);
  EXPECT_EQ(g->vfio->backend->value, "iommufd");
  EXPECT_EQ(g->vfio->confidential->value, "sev-snp");
}

}  // namespace
}  // namespace caps
