// SPDX-License-Identifier: MIT
// Tests for the VMM's own rules (libcaps/src/vmm_rules.cc): each rule refuses and accepts, all
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
  EXPECT_EQ(problems("-machine q35 -device amd-iommu,xtsup=on", {8, 0}).size(), 1u);
  EXPECT_TRUE(problems("-machine q35 -device amd-iommu,xtsup=on", {8, 1}).empty());
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
  EXPECT_NE(smmu[0].find("OAS must be 44 or 48"), std::string::npos);
  EXPECT_NE(smmu[1].find("SSIDSIZE must be at most 20"), std::string::npos);
  EXPECT_NE(smmu[2].find("accel=on requires an iommufd backend"), std::string::npos);
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
