// SPDX-License-Identifier: MIT
// Tests for the VMM's own rules (libcaps/src/vmm/vmm_rules.cc): each rule refuses and accepts, all
// problems at once, judged by the QEMU release chosen. tests/qemu runs real QEMU on more.
#include "libcaps/guest_vmm.h"

#include "libcaps/check.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace caps {
namespace {

/// "rule outcome" of each finding that is not a pass.
std::vector<std::string> problems(std::string_view args, QemuVersion version = kNewestQemu) {
  auto guest = parse_qemu_guest(args, "vm", version);
  EXPECT_TRUE(guest) << (guest ? "" : guest.error().front().to_string());
  std::vector<std::string> out;
  if (!guest) return out;
  for (const Finding& f : check_vmm(*guest)) {
    if (f.outcome != Outcome::kPass)
      out.push_back(f.rule + " " + std::string(to_string(f.outcome)) + ": " + f.message);
  }
  return out;
}

TEST(VmmRules, EveryIntelProblemAtOnceWithQemusReason) {
  auto p = problems(
      "-machine q35 -device intel-iommu,aw-bits=40,intremap=off,eim=on,"
      "x-pasid-mode=on,device-iotlb=on -device vfio-pci,host=0000:3b:00.0");
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p[0],
            "vmm.intel fail: argument 3 (-device intel-iommu), option aw-bits: Supported "
            "values for aw-bits are: 39, 48");
  EXPECT_NE(p[1].find("eim=on cannot be selected without intremap=on"), std::string::npos);
  EXPECT_NE(p[2].find("Need to set scalable mode for PASID"), std::string::npos);
  EXPECT_NE(p[3].find("PASID based device IOTLB is not supported"), std::string::npos);
  EXPECT_NE(p[4].find("caching-mode=on"), std::string::npos);
}

TEST(VmmRules, AcceptedConfigurationsHaveNoProblem) {
  EXPECT_TRUE(problems("-machine q35 -device intel-iommu,intremap=on,caching-mode=on,aw-bits=48 "
                       "-device vfio-pci,host=0000:3b:00.0")
                  .empty());
  EXPECT_TRUE(problems("-machine q35 -accel kvm -machine kernel-irqchip=split -smp 300 "
                       "-device intel-iommu,intremap=on,eim=on")
                  .empty());
  EXPECT_TRUE(problems("-machine virt,iommu=smmuv3").empty());
}

TEST(VmmRules, EnableMigrationIsOnOffAutoFrom81) {
  const std::string on = "-machine q35 -device intel-iommu,caching-mode=on "
                         "-device vfio-pci,host=0000:3b:00.0,enable-migration=on";
  EXPECT_TRUE(problems(on, {8, 1}).empty());
  auto old = problems(on, {8, 0});
  ASSERT_EQ(old.size(), 1u);
  EXPECT_NE(old[0].find("Property 'vfio-pci.enable-migration' not found"), std::string::npos);
  auto bad = problems("-machine q35 -device intel-iommu,caching-mode=on "
                      "-device vfio-pci,host=0000:3b:00.0,enable-migration=yes");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_NE(bad[0].find("does not accept value 'yes'"), std::string::npos) << bad[0];
}

TEST(VmmRules, TheReleaseDecides) {
  // eim without KVM: refused before 9.0 (no TCG x2APIC), accepted since.
  EXPECT_EQ(problems("-machine q35 -device intel-iommu,eim=on", {7, 2}).size(), 1u);
  EXPECT_TRUE(problems("-machine q35 -device intel-iommu,eim=on", {9, 0}).empty());
  // Options that did not exist yet.
  auto old = problems("-machine q35 -device intel-iommu,x-flts=on,x-scalable-mode=on", {7, 2});
  ASSERT_EQ(old.size(), 1u);
  EXPECT_NE(old[0].find("Property 'intel-iommu.x-flts' not found"), std::string::npos);
  // xtsup came with TCG's x2APIC (pulled 2024-01, after 8.2.0).
  EXPECT_EQ(problems("-machine q35 -device amd-iommu,xtsup=on", {8, 2}).size(), 1u);
  EXPECT_TRUE(problems("-machine q35 -device amd-iommu,xtsup=on", {9, 0}).empty());
  // backends/iommufd.c was pulled 2023-12, after 8.2.0.
  const std::string iommufd = "-machine q35 -object iommufd,id=iommufd0 -device intel-iommu";
  auto before = problems(iommufd, {8, 2});
  ASSERT_EQ(before.size(), 1u);
  EXPECT_NE(before[0].find("added in 9.0"), std::string::npos);
  EXPECT_TRUE(problems(iommufd, {9, 0}).empty());
  // -device arm-smmuv3 was applied for 10.2.
  const std::string smmu = "-machine virt -device arm-smmuv3";
  auto old_smmu = problems(smmu, {10, 1});
  ASSERT_EQ(old_smmu.size(), 1u);
  EXPECT_NE(old_smmu[0].find("needs QEMU 10.2"), std::string::npos);
  EXPECT_TRUE(problems(smmu, {10, 2}).empty());
}

TEST(VmmRules, FirstStageWithAssignedDevicesByRelease) {
  const std::string flts =
      "-machine q35 -device intel-iommu,x-scalable-mode=on,x-flts=on,aw-bits=48,caching-mode=on "
      "-device vfio-pci,host=0000:3b:00.0";
  // 10.0 to 10.2: vtd_check_hiod refuses every assigned device under x-flts.
  for (QemuVersion v : {QemuVersion{10, 0}, QemuVersion{10, 2}}) {
    auto p = problems(flts, v);
    ASSERT_EQ(p.size(), 1u) << v.major << "." << v.minor;
    EXPECT_NE(p[0].find("host device is uncompatible with stage-1 translation"),
              std::string::npos);
  }
  // 11.0: accepted when the device is backed by iommufd.
  auto legacy = problems(flts, {11, 0});
  ASSERT_EQ(legacy.size(), 1u);
  EXPECT_NE(legacy[0].find("Need IOMMUFD backend when x-flts=on"), std::string::npos);
  EXPECT_TRUE(problems("-object iommufd,id=iommufd0 " + flts + ",iommufd=iommufd0", {11, 0})
                  .empty());
}

TEST(VmmRules, AmdXtsupIsRefusedOnlyUnderKvmFrom92) {
  const std::string kvm = "-accel kvm -smp 256 -machine q35 -device amd-iommu";
  auto refused = problems(kvm, {9, 2});
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(refused[0].find("vmm.vcpus fail"), std::string::npos);
  EXPECT_NE(refused[0].find("requires xtsup=on"), std::string::npos);
  // Before 9.2, and without KVM at any release, QEMU starts: a warning, not a pass.
  for (auto [args, v] : {std::pair{kvm, QemuVersion{9, 1}},
                         std::pair{std::string("-smp 256 -cpu max -machine q35 -device amd-iommu"),
                                   QemuVersion{11, 0}}}) {
    auto p = problems(args, v);
    ASSERT_EQ(p.size(), 1u) << args;
    EXPECT_NE(p[0].find("vmm.vcpus warning"), std::string::npos) << p[0];
  }
  EXPECT_TRUE(problems(kvm + ",xtsup=on", {9, 2}).empty());
}

TEST(VmmRules, X86MachineVcpusAndSmmu) {
  EXPECT_NE(problems("-machine pc -device intel-iommu").at(0).find("q35"), std::string::npos);
  EXPECT_NE(
      problems("-machine q35 -device intel-iommu -device amd-iommu").at(0).find("multiple vIOMMUs"),
      std::string::npos);
  EXPECT_NE(problems("-accel kvm -smp 256 -machine q35 -device amd-iommu").at(0).find("xtsup=on"),
            std::string::npos);
  auto smmu = problems("-machine virt -device arm-smmuv3,oas=52,ssidsize=24,accel=on");
  ASSERT_EQ(smmu.size(), 3u);
  EXPECT_NE(smmu[0].find("OAS can only be set to 44 or 48 bits"), std::string::npos);
  EXPECT_NE(smmu[1].find("ssidsize must be in the range 0 to 20"), std::string::npos);
  EXPECT_NE(smmu[2].find("accel=on requires an iommufd backend"), std::string::npos);
  // smmu_validate_property: without accel=on, ats, oas and ssidsize keep their defaults.
  auto plain = problems("-machine virt -device arm-smmuv3,ats=on,oas=48,ssidsize=4");
  ASSERT_EQ(plain.size(), 3u);
  EXPECT_NE(plain[0].find("ats can only be enabled if accel=on"), std::string::npos);
  EXPECT_NE(plain[1].find("OAS must be 44 bits when accel=off"), std::string::npos);
  EXPECT_NE(plain[2].find("ssidsize can only be set if accel=on"), std::string::npos);
  EXPECT_TRUE(problems("-machine virt -device arm-smmuv3,oas=44,ssidsize=0").empty());
  EXPECT_TRUE(problems("-machine virt -object iommufd,id=iommufd0 "
                       "-device arm-smmuv3,accel=on,oas=48,ssidsize=20,ats=on")
                  .empty());
  EXPECT_NE(problems("-device virtio-iommu-pci,aw-bits=16,granule=2k").at(1).find("granule"),
            std::string::npos);
}

// QEMU 10.0 lists stale-tm (9.2) and fs1gp (10.0) for intel-iommu; 7.2 lists
// len-reserved-regions for virtio-iommu-pci, an array length 8.2 replaced by a list.
TEST(VmmRules, OptionsComeAndGoByRelease) {
  const std::string stale = "-machine q35 -device intel-iommu,stale-tm=off";
  EXPECT_NE(problems(stale, {9, 1}).at(0).find("added in 9.2"), std::string::npos);
  EXPECT_TRUE(problems(stale, {9, 2}).empty());
  const std::string fs1gp = "-machine q35 -device intel-iommu,fs1gp=on";
  EXPECT_NE(problems(fs1gp, {9, 2}).at(0).find("added in 10.0"), std::string::npos);
  EXPECT_TRUE(problems(fs1gp, {10, 0}).empty());
  const std::string len = "-machine q35 -device virtio-iommu-pci,len-reserved-regions=0";
  EXPECT_TRUE(problems(len, {7, 2}).empty());
  auto gone = problems(len, {8, 2});
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_NE(gone[0].find("Property 'virtio-iommu-pci.len-reserved-regions' not found"),
            std::string::npos);
  EXPECT_NE(gone[0].find("removed in 8.2"), std::string::npos);
}

// QEMU 10.0 under TCG: "APIC ID 255 requires x2APIC feature in CPU" (apic_common_set_id) for
// 256 vCPUs of the default model, whatever the vIOMMU; -cpu max or x2apic=on starts.
TEST(VmmRules, ManyVcpusUnderTcgNeedACpuWithX2apic) {
  const std::string smp = "-machine q35 -smp 256 ";
  for (std::string cpu : {"", "-cpu qemu64 ", "-cpu max,x2apic=off ", "-cpu max,-x2apic "}) {
    auto p = problems(smp + cpu + "-device intel-iommu,intremap=on,eim=on", {10, 0});
    ASSERT_EQ(p.size(), 1u) << cpu;
    EXPECT_NE(p[0].find("vmm.vcpus fail"), std::string::npos) << p[0];
    EXPECT_NE(p[0].find("APIC ID 255 requires x2APIC feature in CPU"), std::string::npos);
  }
  for (std::string cpu : {"-cpu max ", "-cpu qemu64,+x2apic ", "-cpu qemu64,x2apic=on "}) {
    EXPECT_TRUE(problems(smp + cpu + "-device intel-iommu,intremap=on,eim=on", {10, 0}).empty())
        << cpu;
    EXPECT_TRUE(problems(smp + cpu + "-device amd-iommu,xtsup=on", {10, 0}).empty()) << cpu;
  }
  // A named model may or may not have x2APIC: unknown, not a pass.
  auto named = problems(smp + "-cpu Skylake-Server -device intel-iommu,eim=on", {10, 0});
  ASSERT_EQ(named.size(), 1u);
  EXPECT_NE(named[0].find("vmm.vcpus unknown"), std::string::npos) << named[0];
  // KVM gives every model x2APIC.
  EXPECT_TRUE(problems("-accel kvm -machine q35,kernel-irqchip=split -smp 256 "
                       "-device intel-iommu,intremap=on,eim=on",
                       {10, 0})
                  .empty());
}

// Neither 7.2 nor 10.0 has pc.c's old "requires Extended Interrupt Mode enabled": with an x2APIC
// CPU, 10.0 starts 256 vCPUs on intel-iommu with eim=off. A warning, not a refusal.
TEST(VmmRules, IntelWithoutEimIsAWarningNotARefusal) {
  auto p = problems("-machine q35 -smp 256 -cpu max -device intel-iommu,eim=off", {10, 0});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("vmm.vcpus warning"), std::string::npos) << p[0];
  // eim=auto follows intremap=on (vtd_decide_config): nothing to warn about.
  EXPECT_TRUE(problems("-machine q35 -smp 256 -cpu max -device intel-iommu,intremap=on", {10, 0})
                  .empty());
}

TEST(VmmRules, AnUnreadableVcpuCountFails) {
  auto p = problems("-smp 99999999999999999999 -device intel-iommu");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("Invalid SMP CPUs"), std::string::npos);
}

TEST(VmmRules, UnknownOptionsAreNotCheckedNeverFatal) {
  auto p = problems("-machine q35 -device intel-iommu,frob=1");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].substr(0, 30), "vmm.option warning: argument 3");
  EXPECT_NE(p[0].find("not checked"), std::string::npos);
  auto bad_value = problems("-machine q35 -device intel-iommu,caching-mode=maybe");
  ASSERT_EQ(bad_value.size(), 1u);
  EXPECT_NE(bad_value[0].find("expects 'on' or 'off'"), std::string::npos);
}

TEST(VmmRules, LibvirtsOwnRule) {
  auto g = parse_libvirt_guest(
      "<domain><devices><iommu model='intel'><driver intremap='on'/>"
      "</iommu></devices></domain>",
      "d.xml");
  ASSERT_TRUE(g);
  std::vector<Finding> f = check_vmm(*g);
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f.back().rule, "libvirt.intremap_ioapic");
  EXPECT_EQ(f.back().outcome, Outcome::kFail);
}

TEST(VmmRules, NoneForTomlGuestsAndEveryRuleCitesItsSource) {
  EXPECT_TRUE(check_vmm(Guest{}).empty());
  for (const VmmRuleInfo& rule : vmm_rules()) {
    EXPECT_FALSE(rule.source.empty()) << rule.id;
    EXPECT_FALSE(rule.versions.empty()) << rule.id;
  }
}

// ---------------------------------------------------------------------------------------------
// The host rules' hints in the syntax the guest came in

/// One unit `name` of `model` whose widths are `input_bits`/`output_bits`/`ssid_bits` and that
/// has neither ATS nor nesting.
Host narrow_host(std::string_view model, int input_bits, int output_bits, int ssid_bits) {
  Unit u;
  u.name = "unit0";
  u.model = std::string(model);
  u.layout = Layout::kGeneric;
  u.caps.input_bits = input_bits;
  u.caps.output_bits = output_bits;
  u.caps.ssid_bits = ssid_bits;
  u.caps.ats = false;
  u.caps.nested = false;
  Host h;
  h.backend = "dir";
  h.root = "/fake";
  h.units.push_back(std::move(u));
  return h;
}

/// "rule: hint" of each failing host finding (not the VMM's own rules).
std::vector<std::string> host_hints(const tl::expected<Guest, std::vector<Error>>& guest,
                                    const Host& host) {
  EXPECT_TRUE(guest) << (guest ? "" : guest.error().front().to_string());
  std::vector<std::string> out;
  if (!guest) return out;
  for (const Finding& f : check(*guest, host).findings) {
    if (f.outcome == Outcome::kFail && !f.rule.starts_with("vmm.") &&
        !f.rule.starts_with("libvirt.") && f.rule != "model")
      out.push_back(f.rule + ": " + f.hint);
  }
  return out;
}

TEST(HostHints, QemuGuestsGetTheOptionOnTheirDevice) {
  const Host vtd = narrow_host(kModelIntelVtd, 39, 46, 20);
  EXPECT_EQ(host_hints(parse_qemu_guest("-machine q35 -device intel-iommu,aw-bits=48,"
                                        "device-iotlb=on,x-flts=on",
                                        "vm"),
                       vtd),
            (std::vector<std::string>{
                "width.input_bits: set aw-bits=39 on -device intel-iommu",
                "feature.nested: set x-flts=off on -device intel-iommu",
                "feature.ats: set device-iotlb=off on -device intel-iommu"}));
  // aw-bits takes 39 or 48 only: a narrower host cannot be met by any value.
  EXPECT_EQ(host_hints(parse_qemu_guest("-machine q35 -device intel-iommu,aw-bits=39", "vm"),
                       narrow_host(kModelIntelVtd, 36, 46, 20)),
            (std::vector<std::string>{"width.input_bits: QEMU's -device intel-iommu takes aw-bits "
                                      "39 or 48 only (it would need input_bits = 36 or lower)"}));
  EXPECT_EQ(host_hints(parse_qemu_guest("-machine q35 -device virtio-iommu-pci,aw-bits=52", "vm"),
                       vtd),
            (std::vector<std::string>{
                "width.input_bits: set aw-bits=39 or lower on -device virtio-iommu-pci"}));
  const Host smmu = narrow_host(kModelArmSmmuV3, 48, 40, 16);
  EXPECT_EQ(host_hints(parse_qemu_guest("-machine virt -object iommufd,id=fd0 -device "
                                        "arm-smmuv3,accel=on,oas=48,ssidsize=20",
                                        "vm"),
                       smmu),
            (std::vector<std::string>{
                "width.output_bits: QEMU's -device arm-smmuv3 takes oas 44 or 48 only (it would "
                "need output_bits = 40 or lower)",
                "width.ssid_bits: set ssidsize=16 or lower on -device arm-smmuv3",
                "feature.nested: set accel=off on -device arm-smmuv3"}));
  // The machine's SMMUv3 takes no options: say so rather than name a key the user lacks.
  EXPECT_EQ(host_hints(parse_qemu_guest("-machine virt,iommu=smmuv3", "vm"), smmu),
            (std::vector<std::string>{
                "width.output_bits: QEMU's -machine virt,iommu=smmuv3 has no option for "
                "output_bits (it would need output_bits = 40 or lower)"}));
}

TEST(HostHints, LibvirtGuestsGetTheDriverAttribute) {
  const Host vtd = narrow_host(kModelIntelVtd, 39, 46, 20);
  EXPECT_EQ(host_hints(parse_libvirt_guest("<domain type='kvm'><devices><iommu model='intel'>"
                                           "<driver aw_bits='48' iotlb='on'/></iommu>"
                                           "</devices></domain>",
                                           "d.xml"),
                       vtd),
            (std::vector<std::string>{
                "width.input_bits: set <driver aw_bits='39'/> in <iommu model='intel'>",
                "feature.ats: set <driver iotlb='off'/> in <iommu model='intel'>"}));
  const Host smmu = narrow_host(kModelArmSmmuV3, 48, 48, 16);
  EXPECT_EQ(host_hints(parse_libvirt_guest("<domain type='kvm'><iommufd/><devices><iommu "
                                           "model='smmuv3'><driver accel='on' ssidSize='20'/>"
                                           "</iommu></devices></domain>",
                                           "d.xml"),
                       smmu),
            (std::vector<std::string>{
                "width.ssid_bits: set <driver ssidSize='16'/> in <iommu model='smmuv3'> (or lower)",
                "feature.nested: set <driver accel='off'/> in <iommu model='smmuv3'>"}));
  // Nesting needs the host's own model; the domain changes model by changing its <iommu>.
  auto vtd_nested = check(*parse_libvirt_guest("<domain type='kvm'><iommufd/><devices><iommu "
                                               "model='smmuv3'><driver accel='on'/></iommu>"
                                               "</devices></domain>",
                                               "d.xml"),
                          vtd);
  auto model = std::find_if(vtd_nested.findings.begin(), vtd_nested.findings.end(),
                            [](const Finding& f) { return f.rule == "model"; });
  ASSERT_NE(model, vtd_nested.findings.end());
  EXPECT_EQ(model->hint,
            "use the vIOMMU of the host's model (intel-vtd), or set <driver accel='off'/> in "
            "<iommu model='smmuv3'>");
}

}  // namespace
}  // namespace caps
