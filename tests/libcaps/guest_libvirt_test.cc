// SPDX-License-Identifier: MIT
// Tests for the libvirt domain XML front end (libcaps/src/vmm/guest_libvirt.cc).
#include "libcaps/guest_vmm.h"

#include <gtest/gtest.h>

#include "vmm/vmm_internal.h"

namespace caps {
namespace {

constexpr std::string_view kDomain = R"(<domain type='kvm'>
  <memory unit='GiB'>8</memory>
  <vcpu>300</vcpu>
  <iommufd/>
  <os><type arch='x86_64' machine='pc-q35-9.2'>hvm</type></os>
  <features><ioapic driver='qemu'/></features>
  <devices>
    <iommu model='intel'>
      <driver intremap='on' caching_mode='on' eim='on'
              aw_bits='48' iotlb='on' frobnicate='yes'/>
    </iommu>
    <hostdev mode='subsystem' type='pci'>
      <driver iommufd='yes'/>
      <source><address domain='0x0000' bus='0x3b' slot='0x00' function='0x1'/></source>
    </hostdev>
  </devices>
</domain>
)";

/// The [memory] a domain with `memory` (the element) and `cpu` (its <cpu> or "") gives.
std::optional<GuestMemory> memory_of(std::string_view memory, std::string_view cpu = "") {
  const std::string text = "<domain type='kvm'>" + std::string(memory) + std::string(cpu) +
                           "<devices><iommu model='amd'/></devices></domain>";
  auto parsed = parse_libvirt_guest(text, "dom.xml");
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().front().to_string());
  return parsed ? parsed->memory : std::nullopt;
}

TEST(GuestLibvirt, MemoryUnitsAndMaxphysaddr) {
  EXPECT_EQ(memory_of("<memory>1048576</memory>")->size->value, uint64_t{1} << 30);  // KiB
  EXPECT_EQ(memory_of("<memory unit='MiB'>2048</memory>")->size->value, uint64_t{2} << 30);
  EXPECT_EQ(memory_of("<memory unit='G'>3</memory>")->size->value, uint64_t{3} << 30);
  EXPECT_EQ(memory_of("<memory unit='TiB'>1</memory>")->size->value, uint64_t{1} << 40);
  // Powers of 1000, rounded up to 1 MiB as libvirt aligns the initial memory.
  EXPECT_EQ(memory_of("<memory unit='GB'>1</memory>")->size->value, uint64_t{954} << 20);
  EXPECT_EQ(memory_of("<memory unit='bytes'>1</memory>")->size->value, uint64_t{1} << 20);
  EXPECT_FALSE(memory_of("<memory unit='furlong'>1</memory>"));
  auto bits = memory_of("", "<cpu mode='host-passthrough'><maxphysaddr mode='emulate' bits='42'/></cpu>");
  ASSERT_TRUE(bits && bits->phys_bits);
  EXPECT_EQ(bits->phys_bits->value, 42);
  EXPECT_FALSE(memory_of("", "<cpu><maxphysaddr mode='passthrough' limit='39'/></cpu>"));
  // A pc-q35-7.0 machine keeps RAM above 4 GiB at 4 GiB.
  auto old = memory_of("<os><type machine='pc-q35-7.0'>hvm</type></os><memory unit='GiB'>8</memory>");
  ASSERT_TRUE(old && old->above_4g_start);
  EXPECT_EQ(old->above_4g_start->value, uint64_t{1} << 32);
}

TEST(GuestLibvirt, ReadsTheDomainIntoQemuSettingsWithPositions) {
  auto parsed = parse_libvirt_guest(kDomain, "dom.xml");
  ASSERT_TRUE(parsed) << parsed.error().front().to_string();
  const Guest& g = *parsed;
  EXPECT_EQ(g.viommu.model.value, "intel-vtd");
  EXPECT_EQ(g.viommu.model.pos, (SourcePos{8, 12}));  // model= of <iommu>
  ASSERT_TRUE(g.viommu.input_bits);
  EXPECT_EQ(g.viommu.input_bits->value, 48);
  EXPECT_EQ(g.viommu.input_bits->pos, (SourcePos{10, 15}));  // aw_bits= on the tag's 2nd line
  EXPECT_TRUE(g.viommu.ats->value);
  ASSERT_EQ(g.devices.size(), 1u);
  EXPECT_EQ(g.devices[0].bdf.value, "0000:3b:00.1");
  EXPECT_EQ(vmm::find(g.vmm, "viommu.caching-mode")->from, "<driver caching_mode='on'>");
  EXPECT_EQ(vmm::find(g.vmm, "machine.kernel-irqchip")->value, "split");
  EXPECT_EQ(vmm::find(g.vmm, "smp")->value, "300");
  EXPECT_EQ(vmm::find(g.vmm, "m")->value, "8388608k");  // as libvirt passes -m: KiB
  ASSERT_TRUE(g.memory && g.memory->size);
  EXPECT_EQ(g.memory->size->value, uint64_t{8} << 30);
  EXPECT_EQ(vmm::find(g.vmm, "accel")->value, "kvm");
  EXPECT_NE(vmm::find(g.vmm, "iommufd"), nullptr);
  EXPECT_NE(vmm::find(g.vmm, "vfio-pci.iommufd"), nullptr);
  EXPECT_EQ(vmm::find(g.vmm, "unchecked")->value, "<driver frobnicate='yes'>");
}

TEST(GuestLibvirt, SmmuWithoutPerBusAttributesIsTheMachines) {
  auto g =
      parse_libvirt_guest("<domain><devices><iommu model='smmuv3'/></devices></domain>", "d.xml");
  ASSERT_TRUE(g);
  EXPECT_EQ(vmm::find(g->vmm, "machine.iommu")->value, "smmuv3");
  EXPECT_EQ(g->viommu.model.value, "arm-smmu-v3");
}

TEST(GuestLibvirt, BadXmlAndOtherRootsAreErrorsWithPositions) {
  auto bad = parse_libvirt_guest("<domain>\n  <devices>\n</domain>\n", "d.xml");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().front().where, "d.xml");
  EXPECT_EQ(bad.error().front().pos.line, 4);  // where libxml2 stops
  EXPECT_NE(bad.error().front().message.find("invalid XML"), std::string::npos);
  auto other = parse_libvirt_guest("<network/>", "d.xml");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().front().to_string(),
            "d.xml:1:1: not a libvirt domain: the root element is not <domain>");
  auto none = parse_libvirt_guest("<domain><devices/></domain>", "d.xml");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().front().message.find("no vIOMMU"), std::string::npos);
}

TEST(GuestLibvirt, AnAddressWithoutBusIsRefused) {
  auto g = parse_libvirt_guest(
      "<domain><devices><iommu model='virtio'/><hostdev mode='subsystem' type='pci'>"
      "<source><address domain='0x0000'/></source></hostdev></devices></domain>",
      "d.xml");
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().front().message.find("without bus, slot or function"), std::string::npos);
}

TEST(GuestLibvirt, NoEntityExpansionOrNetwork) {
  auto g = parse_libvirt_guest(
      "<!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n"
      "<domain><vcpu>&x;</vcpu><devices><iommu model='virtio'/></devices></domain>",
      "d.xml");
  ASSERT_TRUE(g);
  EXPECT_EQ(vmm::find(g->vmm, "smp")->value, "");
}

}  // namespace
}  // namespace caps

namespace caps {
namespace {

// fuzz_vmm found it: validate_guest lets a name without ':' through as a VFIO platform device,
// and both writers wrote it as a PCI function (libvirt an <address> of garbage). QEMU gets
// vfio-platform; libvirt, which assigns no platform devices, a comment saying what was left out.
TEST(GuestWriters, PlatformDevicesAreNotWrittenAsPciFunctions) {
  Guest g;
  g.file = "g.toml";
  g.viommu.model.value = std::string(kModelArmSmmuV3);
  g.devices.push_back({{"fff51000.ethernet", {}}});
  g.devices.push_back({{"0000:3b:00.1", {}}});
  const std::string qemu = write_qemu_args(g);
  EXPECT_NE(qemu.find(" -device vfio-platform,host=fff51000.ethernet"), std::string::npos) << qemu;
  EXPECT_NE(qemu.find(" -device vfio-pci,host=0000:3b:00.1"), std::string::npos) << qemu;
  EXPECT_EQ(qemu.find("vfio-pci,host=fff51000"), std::string::npos) << qemu;

  g.devices[0].bdf.value = "odd--name\xff";
  const std::string xml = write_libvirt_iommu(g);
  EXPECT_NE(xml.find("<!-- not written: odd__name_ is a platform device"), std::string::npos)
      << xml;
  EXPECT_EQ(xml.find("odd--"), std::string::npos) << xml;
  EXPECT_EQ(xml.find("bus='0x3b'"), xml.rfind("bus='0x3b'"));  // one hostdev: the PCI one
  EXPECT_NE(xml.find("bus='0x3b'"), std::string::npos) << xml;
  auto back = parse_libvirt_guest(xml, "back.xml");
  ASSERT_TRUE(back.has_value());
  ASSERT_EQ(back->devices.size(), 1u);
  EXPECT_EQ(back->devices[0].bdf.value, "0000:3b:00.1");
}

}  // namespace
}  // namespace caps
