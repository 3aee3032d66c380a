// SPDX-License-Identifier: MIT
// Tests for the VMM's own rules (libcaps/src/vmm/vmm_rules.cc): each rule refuses and accepts, all
// problems at once, judged by the QEMU release chosen. tests/qemu runs real QEMU on more.
#include "libcaps/guest_vmm.h"

#include <gtest/gtest.h>

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
                         std::pair{std::string("-smp 256 -machine q35 -device amd-iommu"),
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

}  // namespace
}  // namespace caps
