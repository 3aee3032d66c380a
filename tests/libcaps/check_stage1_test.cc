// SPDX-License-Identifier: MIT
// Tests for the stage1.* rules (libcaps/src/checking/check_rules_stage1.cc) and the [stage1]
// guest section: parse, write back, validation, the QEMU and libvirt mappings, and each rule
// passing, failing and meeting an unknown host fact.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "libcaps/check.h"
#include "libcaps/guest.h"
#include "libcaps/guest_vmm.h"
#include "support/sample_hosts.h"

namespace caps {
namespace {

/// The outcomes of rule `id` in `report`, in report order.
std::vector<Outcome> outcomes(const Report& report, std::string_view id) {
  std::vector<Outcome> out;
  for (const Finding& f : report.findings) {
    if (f.rule == id) out.push_back(f.outcome);
  }
  return out;
}

const Finding* first(const Report& report, std::string_view id, Outcome outcome) {
  for (const Finding& f : report.findings) {
    if (f.rule == id && f.outcome == outcome) return &f;
  }
  return nullptr;
}

Guest parse(const std::string& text) {
  auto g = parse_guest(text, "g.toml");
  EXPECT_TRUE(g.has_value()) << (g ? "" : g.error().front().to_string());
  return g ? *g : Guest{};
}

/// dmar0 of sample_hosts with ECAP.NEST, SRS and EAFS as given, FL5LP from `fl5lp`.
Unit vtd_unit(bool srs, bool eafs, bool fl5lp) {
  Unit u = testing::intel_unit();
  for (RegisterFile& f : u.registers) {
    if (f.main.name == "CAP_REG") {
      for (Field& field : f.main.fields) {
        if (field.name == "FL5LP") field.value = fl5lp ? 1 : 0;
      }
    }
    if (f.main.name == "ECAP_REG") {
      f.main.fields.push_back({"SRS", srs ? 1u : 0u});
      f.main.fields.push_back({"EAFS", eafs ? 1u : 0u});
    }
  }
  return u;
}

Unit smmu_unit(int ssid_bits, bool ats, std::optional<bool> cd2l) {
  Unit u;
  u.name = "smmu3.0x0000000009050000";
  u.model = std::string(kModelArmSmmuV3);
  u.layout = Layout::kGeneric;
  u.caps.input_bits = 48;
  u.caps.output_bits = 48;
  u.caps.ssid_bits = ssid_bits;
  u.caps.nested = true;
  u.caps.ats = ats;
  if (cd2l) {
    u.registers.push_back(
        {"idr0", testing::make_register("SMMU_IDR0", 0, {{"CD2L", *cd2l ? 1u : 0u}}), std::nullopt,
         ""});
  }
  return u;
}

constexpr const char* kVtdGuest = R"(format = 1
[viommu]
model = "intel-vtd"
[stage1]
type = "vtd_s1"
addr_width = 57
sre = true
eafe = true
pgtbl_addr = 0x12345000
)";

constexpr const char* kSmmuGuest = R"(format = 1
[viommu]
model = "arm-smmu-v3"
[stage1]
type = "arm_smmuv3"
config = "s1-trans"
s1fmt = "2lvl-4k"
s1cdmax = 16
s1dss = "ssid0"
s1_context_ptr = 0x40001000
eats = "trans"
)";

TEST(Stage1Guest, ParsesWritesBackAndKeepsEveryValue) {
  for (const char* text : {kVtdGuest, kSmmuGuest}) {
    Guest g = parse(text);
    ASSERT_TRUE(g.stage1.has_value());
    auto again = parse_guest(write_guest(g), "again.toml");
    ASSERT_TRUE(again) << again.error().front().to_string();
    ASSERT_TRUE(again->stage1.has_value());
    GuestStage1 a = *g.stage1;
    GuestStage1 b = *again->stage1;
    // Positions differ (the writer lays the file out anew); the values must not.
    EXPECT_EQ(write_guest(*again), write_guest(g));
    EXPECT_EQ(a.type.value, b.type.value);
  }
  Guest vtd = parse(kVtdGuest);
  EXPECT_EQ(vtd.stage1->type.value, Stage1Type::kVtdS1);
  EXPECT_EQ(vtd.stage1->addr_width->value, 57);
  EXPECT_EQ(vtd.stage1->pgtbl_addr->value, 0x12345000u);
  EXPECT_EQ(vtd.stage1->addr_width->pos, (SourcePos{6, 1}));
  Guest smmu = parse(kSmmuGuest);
  EXPECT_EQ(smmu.stage1->config->value, SteConfig::kS1Trans);
  EXPECT_EQ(smmu.stage1->s1fmt->value, S1Fmt::kTwoLevel4k);
  EXPECT_EQ(smmu.stage1->s1cdmax->value, 16);
  EXPECT_EQ(smmu.stage1->eats->value, Eats::kTrans);
}

TEST(Stage1Guest, KeysOfTheOtherTypeAndBadValuesAreRefusedByName) {
  auto mixed = parse_guest(
      "[viommu]\nmodel = \"intel-vtd\"\n[stage1]\ntype = \"vtd_s1\"\neats = \"trans\"\n",
      "g.toml");
  ASSERT_FALSE(mixed);
  EXPECT_EQ(mixed.error().front().to_string(),
            "g.toml:5:1: stage1.eats: belongs to type = \"arm_smmuv3\", not \"vtd_s1\"");
  auto no_type = parse_guest("[viommu]\nmodel = \"intel-vtd\"\n[stage1]\nsre = true\n", "g.toml");
  ASSERT_FALSE(no_type);
  EXPECT_NE(no_type.error().front().message.find("`type`"), std::string::npos)
      << no_type.error().front().message;
  auto cdmax = parse_guest(
      "[viommu]\nmodel = \"arm-smmu-v3\"\n[stage1]\ntype = \"arm_smmuv3\"\ns1cdmax = 32\n",
      "g.toml");
  ASSERT_FALSE(cdmax);
  EXPECT_NE(cdmax.error().front().message.find("s1cdmax"), std::string::npos);
  auto typo = parse_guest(
      "[viommu]\nmodel = \"arm-smmu-v3\"\n[stage1]\ntype = \"arm_smmuv3\"\nconfig = \"s1trans\"\n",
      "g.toml");
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().front().message.find("did you mean `s1-trans`"), std::string::npos)
      << typo.error().front().message;
}

TEST(Stage1Rules, VtdPassesWhereTheUnitHasEveryBit) {
  Guest g = parse(kVtdGuest);
  Report r = check(g, testing::host_with(vtd_unit(true, true, true)));
  EXPECT_EQ(r.verdict, Verdict::kCompatible);
  for (std::string_view id : {"stage1.type", "stage1.nesting", "stage1.addr_width", "stage1.sre",
                              "stage1.eafe", "stage1.pgtbl_addr"}) {
    EXPECT_EQ(outcomes(r, id), std::vector<Outcome>{Outcome::kPass}) << id;
  }
}

// [stage1] means nesting; with viommu.nested = true feature.nested judges that fact already.
TEST(Stage1Rules, NestingIsJudgedOnceWhetherOrNotTheViommuSaysNested) {
  Unit flat = vtd_unit(true, true, true);
  flat.caps.nested = false;
  Guest g = parse(kVtdGuest);
  Report alone = check(g, testing::host_with(flat));
  EXPECT_EQ(outcomes(alone, "stage1.nesting"), std::vector<Outcome>{Outcome::kFail});
  g.viommu.nested = Located<bool>{true, {3, 1}};
  Report both = check(g, testing::host_with(flat));
  EXPECT_EQ(outcomes(both, "stage1.nesting"), std::vector<Outcome>{});
  EXPECT_EQ(outcomes(both, "feature.nested"), std::vector<Outcome>{Outcome::kFail});
}

TEST(Stage1Rules, VtdFailsOnEachMissingBitAsTheKernelWould) {
  Guest g = parse(kVtdGuest);
  Report r = check(g, testing::host_with(vtd_unit(false, false, false)));
  EXPECT_EQ(r.verdict, Verdict::kIncompatible);
  for (std::string_view id : {"stage1.addr_width", "stage1.sre", "stage1.eafe"}) {
    EXPECT_EQ(outcomes(r, id), std::vector<Outcome>{Outcome::kFail}) << id;
  }
  const Finding* sre = first(r, "stage1.sre", Outcome::kFail);
  ASSERT_NE(sre, nullptr);
  EXPECT_EQ(sre->evidence, "dmar0: ecap.SRS = 0");
  EXPECT_NE(sre->message.find("No supervisor request support"), std::string::npos);
  EXPECT_EQ(sre->hint, "set sre = false");
  const Finding* width = first(r, "stage1.addr_width", Outcome::kFail);
  ASSERT_NE(width, nullptr);
  EXPECT_EQ(width->evidence, "dmar0: cap.FL5LP = 0");
}

TEST(Stage1Rules, VtdAddressWidthAndPointerChecks) {
  Guest g = parse(kVtdGuest);
  g.stage1->addr_width->value = 39;
  g.stage1->sre->value = false;
  g.stage1->eafe->value = false;
  g.stage1->pgtbl_addr->value = 0x1000000000001;  // misaligned and 49 bits
  Report r = check(g, testing::host_with(vtd_unit(true, true, true)));
  EXPECT_EQ(outcomes(r, "stage1.addr_width"), std::vector<Outcome>{Outcome::kFail});
  EXPECT_EQ(outcomes(r, "stage1.pgtbl_addr"),
            (std::vector<Outcome>{Outcome::kFail, Outcome::kFail}));
  EXPECT_EQ(outcomes(r, "stage1.sre"), std::vector<Outcome>{});  // off: nothing to check

  g.stage1->addr_width->value = 48;
  g.stage1->wpe = Located<bool>{true, {9, 1}};
  g.stage1->pgtbl_addr->value = 0x1000;
  r = check(g, testing::host_with(vtd_unit(false, false, false)));
  EXPECT_EQ(outcomes(r, "stage1.addr_width"), std::vector<Outcome>{Outcome::kPass});
  EXPECT_EQ(outcomes(r, "stage1.sre"), std::vector<Outcome>{Outcome::kWarn});  // wpe, no sre
  EXPECT_EQ(r.verdict, Verdict::kCompatible);
}

TEST(Stage1Rules, UnknownRegistersAndModelsAreNeverCompatible) {
  Guest g = parse(kVtdGuest);
  Unit bare = testing::intel_unit();
  bare.registers.clear();  // a unit read from a log or report without registers
  Report r = check(g, testing::host_with(bare));
  EXPECT_EQ(r.verdict, Verdict::kUndecided);
  EXPECT_EQ(outcomes(r, "stage1.sre"), std::vector<Outcome>{Outcome::kUnknown});

  Unit unknown = smmu_unit(20, true, true);
  unknown.model = std::string(kModelUnknown);
  unknown.caps.nested.reset();
  Report u = check(parse(kSmmuGuest), testing::host_with(unknown));
  EXPECT_EQ(u.verdict, Verdict::kUndecided);
  EXPECT_EQ(outcomes(u, "stage1.type"), std::vector<Outcome>{Outcome::kUnknown});
  EXPECT_EQ(outcomes(u, "stage1.nesting"), std::vector<Outcome>{Outcome::kUnknown});

  // A vtd_s1 on an SMMUv3 host: the kernel refuses the data type.
  Report wrong = check(g, testing::host_with(smmu_unit(20, true, true)));
  EXPECT_EQ(wrong.verdict, Verdict::kIncompatible);
  const Finding* type = first(wrong, "stage1.type", Outcome::kFail);
  ASSERT_NE(type, nullptr);
  EXPECT_NE(type->message.find("-EOPNOTSUPP"), std::string::npos);
  EXPECT_EQ(type->hint, "set type = \"arm_smmuv3\" if arm-smmu-v3 nests, or leave [stage1] out");
}

TEST(Stage1Rules, SmmuVsteAgainstTheUnit) {
  Guest g = parse(kSmmuGuest);
  Report ok = check(g, testing::host_with(smmu_unit(20, true, true)));
  for (std::string_view id : {"stage1.type", "stage1.nesting", "stage1.config", "stage1.eats",
                              "stage1.s1cdmax", "stage1.s1fmt", "stage1.s1_context_ptr"}) {
    EXPECT_EQ(outcomes(ok, id), std::vector<Outcome>{Outcome::kPass}) << id;
  }
  EXPECT_EQ(ok.verdict, Verdict::kCompatible);

  Report bad = check(g, testing::host_with(smmu_unit(8, false, false)));
  EXPECT_EQ(bad.verdict, Verdict::kIncompatible);
  for (std::string_view id : {"stage1.eats", "stage1.s1cdmax", "stage1.s1fmt"}) {
    EXPECT_EQ(outcomes(bad, id), std::vector<Outcome>{Outcome::kFail}) << id;
  }
  const Finding* cdmax = first(bad, "stage1.s1cdmax", Outcome::kFail);
  ASSERT_NE(cdmax, nullptr);
  EXPECT_EQ(cdmax->hint, "set s1cdmax = 8 or lower");
  EXPECT_NE(cdmax->message.find("C_BAD_STE"), std::string::npos);

  Report unknown = check(g, testing::host_with(smmu_unit(20, true, std::nullopt)));
  EXPECT_EQ(outcomes(unknown, "stage1.s1fmt"), std::vector<Outcome>{Outcome::kUnknown});
  EXPECT_EQ(unknown.verdict, Verdict::kUndecided);
}

TEST(Stage1Rules, SmmuConfigAndEatsTheKernelRefuses) {
  Guest g = parse(kSmmuGuest);
  g.stage1->config->value = SteConfig::kNested;
  g.stage1->eats->value = Eats::kSplit;
  g.stage1->s1_context_ptr->value = 0x40001010;  // not 64-byte aligned
  Report r = check(g, testing::host_with(smmu_unit(20, true, true)));
  EXPECT_EQ(outcomes(r, "stage1.config"), std::vector<Outcome>{Outcome::kFail});
  EXPECT_EQ(outcomes(r, "stage1.eats"), std::vector<Outcome>{Outcome::kFail});
  // A nested Config is refused as a whole: the stage-1 fields are not judged.
  EXPECT_EQ(outcomes(r, "stage1.s1_context_ptr"), std::vector<Outcome>{});

  g.stage1->config->value = SteConfig::kS1Trans;
  Report p = check(g, testing::host_with(smmu_unit(20, true, true)));
  const Finding* ptr = first(p, "stage1.s1_context_ptr", Outcome::kFail);
  ASSERT_NE(ptr, nullptr);
  EXPECT_EQ(ptr->hint, "set s1_context_ptr = 0x40001000 or another 64-byte aligned address");
}

TEST(Stage1Vmm, QemuNestingOptionsMapOntoStage1) {
  auto vtd = parse_qemu_guest(
      "-machine q35,kernel-irqchip=split -device intel-iommu,x-scalable-mode=on,x-flts=on,"
      "aw-bits=48",
      "vm.args");
  ASSERT_TRUE(vtd) << vtd.error().front().to_string();
  ASSERT_TRUE(vtd->stage1.has_value());
  EXPECT_EQ(vtd->stage1->type.value, Stage1Type::kVtdS1);
  EXPECT_EQ(vtd->stage1->addr_width->value, 48);
  EXPECT_FALSE(vtd->stage1->sre->value);
  // An x-flts guest asks for nothing beyond 4-level tables: a unit without SRS, EAFS or FL5LP
  // is fine for its stage-1 data.
  Report r = check(*vtd, testing::host_with(vtd_unit(false, false, false)));
  for (std::string_view id : {"stage1.addr_width", "stage1.sre", "stage1.eafe"}) {
    EXPECT_NE(outcomes(r, id), std::vector<Outcome>{Outcome::kFail}) << id;
  }

  auto smmu = parse_qemu_guest(
      "-machine virt -device arm-smmuv3,primary-bus=pcie.0,accel=on,ats=on,ssidsize=20",
      "vm.args", QemuVersion{10, 2});
  ASSERT_TRUE(smmu) << smmu.error().front().to_string();
  if (smmu->viommu.nested && smmu->viommu.nested->value) {
    ASSERT_TRUE(smmu->stage1.has_value());
    EXPECT_EQ(smmu->stage1->type.value, Stage1Type::kArmSmmuV3);
    EXPECT_EQ(smmu->stage1->config->value, SteConfig::kS1Trans);
    // ssidsize and ats stay viommu facts (width.ssid_bits, feature.ats): not said twice.
    EXPECT_FALSE(smmu->stage1->s1cdmax.has_value());
    EXPECT_FALSE(smmu->stage1->eats.has_value());
  } else {
    ADD_FAILURE() << "accel=on should read as nested";
  }

  auto plain = parse_qemu_guest("-device intel-iommu", "vm.args");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->stage1.has_value());
}

}  // namespace
}  // namespace caps
