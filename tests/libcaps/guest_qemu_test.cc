// SPDX-License-Identifier: MIT
// Tests for the QEMU command-line front end (libcaps/src/vmm/guest_qemu.cc): argv files and shell
// lines, QemuOpts and JSON syntax, positions, defaults by QEMU release, and input detection.
#include "libcaps/guest_vmm.h"

#include "libcaps/guest.h"

#include <gtest/gtest.h>

#include "vmm/vmm_internal.h"

namespace caps {
namespace {

Guest parse(std::string_view text, QemuVersion version = kNewestQemu) {
  auto guest = parse_qemu_guest(text, "vm.args", version);
  EXPECT_TRUE(guest.has_value()) << (guest ? "" : guest.error().front().to_string());
  return guest ? *guest : Guest{};
}

TEST(GuestQemu, ShellLineGivesTheGuestTheTomlParserWouldAndPositions) {
  Guest g = parse(
      "qemu-system-x86_64 -machine q35 -device intel-iommu,aw-bits=48,device-iotlb=on "
      "-device vfio-pci,host=3B:00.0");
  EXPECT_EQ(g.viommu.model.value, "intel-vtd");
  EXPECT_EQ(g.viommu.model.pos, (SourcePos{1, 41}));
  ASSERT_TRUE(g.viommu.input_bits);
  EXPECT_EQ(g.viommu.input_bits->value, 48);
  EXPECT_EQ(g.viommu.input_bits->pos, (SourcePos{1, 53}));  // the `aw-bits` of the argument
  ASSERT_TRUE(g.viommu.ats);
  EXPECT_TRUE(g.viommu.ats->value);
  ASSERT_EQ(g.devices.size(), 1u);
  EXPECT_EQ(g.devices[0].bdf.value, "0000:3b:00.0");
  const VmmSetting* aw = vmm::find(g.vmm, "viommu.aw-bits");
  ASSERT_NE(aw, nullptr);
  EXPECT_EQ(aw->from, "argument 3 (-device intel-iommu), option aw-bits");
}

TEST(GuestQemu, MemoryAndPhysBitsBecomeTheMemoryTable) {
  Guest g = parse("qemu-system-x86_64 -m 16G -cpu host,phys-bits=46 -device amd-iommu");
  ASSERT_TRUE(g.memory);
  ASSERT_TRUE(g.memory->size);
  EXPECT_EQ(g.memory->size->value, uint64_t{16} << 30);
  EXPECT_EQ(g.memory->size->pos, (SourcePos{1, 23}));
  ASSERT_TRUE(g.memory->phys_bits);
  EXPECT_EQ(g.memory->phys_bits->value, 46);
  EXPECT_FALSE(g.memory->above_4g_start);  // QEMU's choice
  // MiB without a suffix, size= and fractions; QEMU rounds up to 8 KiB.
  EXPECT_EQ(parse("-m size=4096,maxmem=8G -device amd-iommu").memory->size->value, uint64_t{4} << 30);
  EXPECT_EQ(parse("-m 1.5G -device amd-iommu").memory->size->value, uint64_t{3} << 29);
  EXPECT_EQ(parse("-m 100k -device amd-iommu").memory->size->value, 106496u);
  // Before QEMU 7.1, or a machine type before 7.1, RAM above 4 GiB stays at 4 GiB.
  EXPECT_EQ(parse("-m 8G -device amd-iommu", {7, 0}).memory->above_4g_start->value,
            uint64_t{1} << 32);
  EXPECT_EQ(parse("-machine pc-q35-7.0 -m 8G -device amd-iommu").memory->above_4g_start->value,
            uint64_t{1} << 32);
  EXPECT_FALSE(parse("-machine pc-q35-7.1 -m 8G -device amd-iommu").memory->above_4g_start);
  // A size QEMU refuses gives none; no -m and no phys-bits, no table.
  EXPECT_FALSE(parse("-m lots -device amd-iommu").memory);
  EXPECT_FALSE(parse("-device amd-iommu").memory);
}

TEST(GuestQemu, SizesAsQemuReadsThem) {
  EXPECT_EQ(vmm::parse_size("2"), uint64_t{2} << 20);
  EXPECT_EQ(vmm::parse_size("2g"), uint64_t{2} << 30);
  EXPECT_EQ(vmm::parse_size("1T"), uint64_t{1} << 40);
  EXPECT_EQ(vmm::parse_size("512B"), 512u);
  EXPECT_EQ(vmm::parse_size("0x10M"), uint64_t{16} << 20);
  EXPECT_EQ(vmm::parse_size("0x1B"), uint64_t{27} << 20);  // hex digits, MiB
  EXPECT_EQ(vmm::parse_size("0.5K"), 512u);
  EXPECT_EQ(vmm::parse_size(""), std::nullopt);
  EXPECT_EQ(vmm::parse_size("0"), std::nullopt);
  EXPECT_EQ(vmm::parse_size("1."), std::nullopt);
  EXPECT_EQ(vmm::parse_size("-1G"), std::nullopt);
  EXPECT_EQ(vmm::parse_size("9E"), std::nullopt);  // above INT64_MAX
}

TEST(GuestQemu, WritesMemoryBack) {
  Guest g = parse("-m 16G -cpu max,phys-bits=46 -device intel-iommu -device vfio-pci,host=3b:00.0");
  const std::string args = write_qemu_args(g);
  EXPECT_NE(args.find(" -m 16777216k"), std::string::npos) << args;
  EXPECT_NE(args.find(" -cpu max,phys-bits=46"), std::string::npos) << args;
  Guest again = parse(args);
  ASSERT_TRUE(again.memory);
  EXPECT_EQ(again.memory->size->value, g.memory->size->value);
  EXPECT_EQ(again.memory->phys_bits->value, 46);
  const std::string domain = write_libvirt_iommu(g);
  EXPECT_NE(domain.find("<memory unit='KiB'>16777216</memory>"), std::string::npos) << domain;
  EXPECT_NE(domain.find("<maxphysaddr mode='emulate' bits='46'/>"), std::string::npos) << domain;
}

// [vfio] through QEMU and libvirt: the backend and migration are written and read back; a
// confidential guest is not written (its object needs the host's cbitpos), and convert names it.
TEST(GuestQemu, WritesVfioBack) {
  auto toml = parse_guest(
      "format = 1\n[viommu]\nmodel = \"intel-vtd\"\n[[device]]\nbdf = \"0000:3b:00.0\"\n"
      "[vfio]\nbackend = \"iommufd\"\nmigration = true\nconfidential = \"sev-snp\"\n",
      "g.toml");
  ASSERT_TRUE(toml) << toml.error().front().to_string();
  const std::string args = write_qemu_args(*toml);
  EXPECT_NE(args.find(" -object iommufd,id=iommufd0 -device vfio-pci,host=0000:3b:00.0,"
                      "iommufd=iommufd0,enable-migration=on"),
            std::string::npos)
      << args;
  Guest back = parse(args);
  ASSERT_TRUE(back.vfio);
  EXPECT_EQ(back.vfio->backend->value, "iommufd");
  EXPECT_EQ(back.vfio->migration->value, true);
  EXPECT_FALSE(back.vfio->confidential);
  // Older releases have neither option: nothing written, so nothing false read back.
  const std::string old = write_qemu_args(*toml, {8, 0});
  EXPECT_EQ(old.find("iommufd"), std::string::npos) << old;
  EXPECT_EQ(old.find("migration"), std::string::npos) << old;
  EXPECT_EQ(parse(old, {8, 0}).vfio->backend->value, "legacy");
  // off refuses migration; auto (the default) says nothing.
  EXPECT_EQ(parse("-device intel-iommu -device vfio-pci,host=3b:00.0,enable-migration=off")
                .vfio->migration->value,
            false);
  EXPECT_FALSE(parse("-device intel-iommu -device vfio-pci,host=3b:00.0,enable-migration=auto")
                   .vfio->migration);
  const std::string domain = write_libvirt_iommu(*toml);
  EXPECT_NE(domain.find("<driver iommufd='yes'/>"), std::string::npos) << domain;
  auto from_xml = parse_libvirt_guest(domain, "back.xml");
  ASSERT_TRUE(from_xml) << from_xml.error().front().to_string();
  EXPECT_EQ(from_xml->vfio->backend->value, "iommufd");
  EXPECT_FALSE(from_xml->vfio->migration);
}

TEST(GuestQemu, ArgvFileOneArgumentALine) {
  Guest g = parse("qemu-system-x86_64\n-machine\nq35\n-device\nintel-iommu,x-flts=on,aw-bits=48\n");
  EXPECT_EQ(g.viommu.model.pos, (SourcePos{5, 1}));
  ASSERT_TRUE(g.viommu.nested);
  EXPECT_EQ(g.viommu.nested->pos, (SourcePos{5, 13}));
}

TEST(GuestQemu, QuotesCommasAndContinuations) {
  Guest g = parse(
      "LC_ALL=C /usr/bin/qemu-system-x86_64 \\\n"
      "-name 'guest=a,,b' \\\n"
      "-device '{\"driver\":\"virtio-iommu-pci\",\"aw-bits\":42}' \\\n"
      "-m 2G -smp 4,sockets=1");
  EXPECT_EQ(g.viommu.model.value, "virtio-iommu");
  ASSERT_TRUE(g.viommu.input_bits);
  EXPECT_EQ(g.viommu.input_bits->value, 42);
  EXPECT_EQ(g.viommu.input_bits->pos.line, 3);
  EXPECT_EQ(vmm::find(g.vmm, "m")->value, "2G");
  EXPECT_EQ(vmm::find(g.vmm, "smp")->value, "4");
  EXPECT_EQ(vmm::find(g.vmm, "unchecked")->value, "-name");  // kept, not dropped
}

TEST(GuestQemu, EscapedCommaStaysInTheValue) {
  Guest g = parse("-device intel-iommu,id=a,,b,aw-bits=39");
  EXPECT_EQ(vmm::find(g.vmm, "viommu.id")->value, "a,b");
  EXPECT_EQ(g.viommu.input_bits->value, 39);
}

TEST(GuestQemu, DefaultsFollowTheQemuRelease) {
  EXPECT_EQ(parse("-device intel-iommu", {7, 2}).viommu.input_bits->value, 39);
  // The 48 default was pulled after 9.2.0 shipped (its subject says "starting from 9.2"): 10.0.
  EXPECT_EQ(parse("-device intel-iommu", {9, 2}).viommu.input_bits->value, 39);
  EXPECT_EQ(parse("-device intel-iommu", {10, 0}).viommu.input_bits->value, 48);
  EXPECT_EQ(parse("-device virtio-iommu-pci", {7, 2}).viommu.input_bits->value, 64);
  EXPECT_EQ(parse("-machine q35 -device virtio-iommu-pci", {9, 0}).viommu.input_bits->value, 39);
  Guest smmu = parse("qemu-system-aarch64 -machine virt,iommu=smmuv3");
  EXPECT_EQ(smmu.viommu.model.value, "arm-smmu-v3");
  EXPECT_EQ(smmu.viommu.output_bits->value, 44);
}

TEST(GuestQemu, ErrorsNameTheText) {
  auto none = parse_qemu_guest("qemu-system-x86_64 -m 1G", "vm.args");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().front().message.find("no vIOMMU"), std::string::npos);
  auto quote = parse_qemu_guest("qemu -device 'intel-iommu", "vm.args");
  ASSERT_FALSE(quote);
  EXPECT_EQ(quote.error().front().to_string(), "vm.args:1:14: unterminated ' quote");
  auto bdf = parse_qemu_guest("-device intel-iommu -device vfio-pci,host=zz:00.0", "vm.args");
  ASSERT_FALSE(bdf);
  EXPECT_EQ(bdf.error().front().where, "vm.args");
  EXPECT_EQ(bdf.error().front().pos, (SourcePos{1, 38}));
  EXPECT_EQ(bdf.error().front().location(), "vm.args:1:38");
}

// fuzz_vmm: `vfio-pci,host=3b00.04` (no ':') passed validate_guest as a platform device name,
// so two such names that differ only in bytes that are not UTF-8 wrote one guest file with the
// same device twice. QEMU reads vfio-pci's host= only as a PCI address; platform devices come
// from -device vfio-platform, and the writer's vfio-platform reads back as the same device.
TEST(GuestQemu, VfioPciHostMustBeAPciAddressPlatformDevicesComeFromVfioPlatform) {
  auto bad = parse_qemu_guest("-device intel-iommu -device vfio-pci,host=3b00.04", "vm.args");
  ASSERT_FALSE(bad);
  ASSERT_EQ(bad.error().size(), 1u);
  EXPECT_EQ(bad.error().front().location(), "vm.args:1:38");
  EXPECT_NE(bad.error().front().message.find("`3b00.04` is not a PCI address"), std::string::npos)
      << bad.error().front().message;

  Guest g = parse(
      "-machine virt,iommu=smmuv3 -device vfio-platform,host=fff51000.ethernet "
      "-device vfio-platform,sysfsdev=/sys/bus/platform/devices/fff52000.dma");
  ASSERT_EQ(g.devices.size(), 2u);
  EXPECT_EQ(g.devices[0].bdf.value, "fff51000.ethernet");
  EXPECT_EQ(g.devices[0].bdf.pos, (SourcePos{1, 50}));
  EXPECT_EQ(g.devices[1].bdf.value, "fff52000.dma");
  auto back = parse_qemu_guest(write_qemu_args(g), "back.args");
  ASSERT_TRUE(back) << back.error().front().to_string();
  ASSERT_EQ(back->devices.size(), 2u);
  EXPECT_EQ(back->devices[0].bdf.value, "fff51000.ethernet");
  EXPECT_EQ(back->devices[1].bdf.value, "fff52000.dma");

  // Two names that differ only in bytes that are not UTF-8 would be one name once written.
  auto raw = parse_qemu_guest(
      "-device intel-iommu -device vfio-platform,host=a\xa2" "b -device vfio-platform,host=a\xa4" "b",
      "vm.args");
  ASSERT_FALSE(raw);
  ASSERT_EQ(raw.error().size(), 2u);
  EXPECT_NE(raw.error()[0].message.find("device[0].bdf: the device name is not valid UTF-8"),
            std::string::npos)
      << raw.error()[0].message;
}

// fuzz_vmm: an empty word ('') where an option belongs threw std::out_of_range (substr(1) of
// ""), and any other word that is no option was read as one, swallowing the next argument.
TEST(GuestQemu, AWordThatIsNoOptionIsADiskImage) {
  Guest g = parse("-device intel-iommu '' disk.img -device vfio-pci,host=3b:00.0");
  EXPECT_EQ(g.viommu.model.value, "intel-vtd");
  ASSERT_EQ(g.devices.size(), 1u);  // not taken as the argument of an option "isk.img"
  EXPECT_EQ(g.devices[0].bdf.value, "0000:3b:00.0");
  const VmmSetting* image = vmm::find(g.vmm, "unchecked");
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(image->value, "disk.img");
  EXPECT_EQ(image->from, "argument 4 (image)");
  EXPECT_EQ(image->pos, (SourcePos{1, 24}));
}

TEST(GuestQemu, DetectsTheKindByContent) {
  EXPECT_EQ(detect_guest_input("[viommu]\nmodel = \"intel-vtd\"\n"), GuestInputKind::kToml);
  EXPECT_EQ(detect_guest_input("# c\nformat = 1\n"), GuestInputKind::kToml);
  EXPECT_EQ(detect_guest_input("qemu-system-x86_64 -m 1G"), GuestInputKind::kQemu);
  EXPECT_EQ(detect_guest_input("qemu-system-x86_64\n-m\n1G\n"), GuestInputKind::kQemu);
  EXPECT_EQ(detect_guest_input("-device\nintel-iommu\n"), GuestInputKind::kQemu);
  EXPECT_EQ(detect_guest_input("LC_ALL=C /usr/bin/qemu-system-x86_64 \\\n"), GuestInputKind::kQemu);
  EXPECT_EQ(detect_guest_input("  <?xml version='1.0'?>\n<domain/>"), GuestInputKind::kLibvirt);
}

TEST(GuestQemu, ParsesVersions) {
  EXPECT_EQ(*parse_qemu_version("7.2"), (QemuVersion{7, 2}));
  EXPECT_EQ(*parse_qemu_version("10.0.3"), (QemuVersion{10, 0}));
  EXPECT_FALSE(parse_qemu_version("10"));
  EXPECT_FALSE(parse_qemu_version("x.1"));
}

}  // namespace
}  // namespace caps
