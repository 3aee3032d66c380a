// SPDX-License-Identifier: MIT
// Tests for the smmuv3.* rules (libcaps/src/checking/check_rules_smmuv3.cc): an accelerated
// (nested) arm-smmu-v3 vIOMMU against host SMMUv3 units decoded from registers, each rule
// passing, failing and meeting an unknown fact, as QEMU's smmuv3_accel_check_hw_compatible()
// decides it.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libcaps/check.h"
#include "libcaps/decode.h"
#include "libcaps/suggest.h"

namespace caps {
namespace {

template <class T>
Located<T> at(T value, int line) {
  return Located<T>{std::move(value), SourcePos{line, 1}};
}

// A host SMMUv3 that QEMU's accelerated vSMMU accepts: S1P+S2P, TTF=2, COHACC, ASID16,
// TTENDIAN=2 (little), ST_LEVEL=1 (2-level), SIDSIZE 16, SSIDSIZE 20, RIL, OAS 48, all granules.
//   IDR0: 0x3 | 0x8 | 0x10 | 0x1000 | 2<<21 0x400000 | 1<<27 0x8000000 = 0x0840101b
//   IDR1: 16 | 20<<6 (0x500) = 0x510;  IDR3: RIL 0x400;  IDR5: OAS 5 | 0x70 = 0x75
constexpr std::array<uint32_t, 6> kGoodIdr = {0x0840101b, 0x510, 0, 0x400, 0, 0x75};

Unit smmu_unit(const std::array<uint32_t, 6>& idr, std::string name = "smmu3.0x09050000") {
  const Smmuv3Decoded d = decode_smmuv3(idr, 0, 0x2);
  Unit u;
  u.name = std::move(name);
  u.model = std::string(kModelArmSmmuV3);
  u.layout = Layout::kNone;
  u.caps = d.normalized.caps;
  u.evidence = d.normalized.evidence;
  u.extra = d.normalized.extra;
  u.registers = d.registers;
  return u;
}

Host host_of(Unit unit) {
  Host h;
  h.backend = "dir";
  h.root = "/fake";
  h.units.push_back(std::move(unit));
  return h;
}

Guest accel_guest(bool nested = true) {
  Guest g;
  g.file = "guest.toml";
  g.viommu_pos = {1, 1};
  g.viommu.model = at(std::string(kModelArmSmmuV3), 2);
  g.viommu.nested = at(nested, 3);
  return g;
}

std::vector<Finding> of_rule(const Report& report, std::string_view rule) {
  std::vector<Finding> out;
  for (const Finding& f : report.findings)
    if (f.rule == rule) out.push_back(f);
  return out;
}

const std::vector<std::string_view> kRules = {
    "smmuv3.stream_table", "smmuv3.tt_endian",          "smmuv3.ttf",
    "smmuv3.sid_bits",     "smmuv3.range_invalidation", "smmuv3.granules"};

TEST(CheckSmmuv3, RulesAreInTheRuleTable) {
  const auto ids = rule_ids();
  for (std::string_view r : kRules) EXPECT_NE(std::find(ids.begin(), ids.end(), r), ids.end()) << r;
}

TEST(CheckSmmuv3, AGoodHostPassesEveryRule) {
  const Report r = check(accel_guest(), host_of(smmu_unit(kGoodIdr)));
  for (std::string_view rule : kRules) {
    const auto f = of_rule(r, rule);
    ASSERT_EQ(f.size(), 1u) << rule;
    EXPECT_EQ(f[0].outcome, Outcome::kPass) << rule << ": " << f[0].message;
    EXPECT_EQ(f[0].guest_key, "viommu.nested");
  }
  EXPECT_EQ(of_rule(r, "smmuv3.granules")[0].evidence,
            "smmu3.0x09050000: idr5.GRAN4K=1, idr5.GRAN16K=1, idr5.GRAN64K=1 -> 4K,16K,64K");
}

TEST(CheckSmmuv3, NotRunWithoutNesting) {
  const Report r = check(accel_guest(false), host_of(smmu_unit({0, 0, 0, 0, 0, 0})));
  for (std::string_view rule : kRules) EXPECT_TRUE(of_rule(r, rule).empty()) << rule;
}

struct FailCase {
  const char* rule;
  std::array<uint32_t, 6> idr;
  const char* says;
};

TEST(CheckSmmuv3, EachHostShortfallFailsItsRule) {
  const FailCase cases[] = {
      // ST_LEVEL=0: linear stream table only.
      {"smmuv3.stream_table", {0x0040101b, 0x510, 0, 0x400, 0, 0x75}, "has 1 level"},
      // TTENDIAN=3: big-endian only.
      {"smmuv3.tt_endian", {0x0860101b, 0x510, 0, 0x400, 0, 0x75}, "big-endian"},
      // TTF=1: AArch32 only (0x0840101b - 0x8 + 0x4).
      {"smmuv3.ttf", {0x08401017, 0x510, 0, 0x400, 0, 0x75}, "lpae-32"},
      // SIDSIZE 8.
      {"smmuv3.sid_bits", {0x0840101b, 0x508, 0, 0x400, 0, 0x75}, "has 8"},
      // No RIL.
      {"smmuv3.range_invalidation", {0x0840101b, 0x510, 0, 0, 0, 0x75}, "has none"},
      // No 16K granule (0x75 - 0x20).
      {"smmuv3.granules", {0x0840101b, 0x510, 0, 0x400, 0, 0x55}, "lacks 16K"},
  };
  for (const FailCase& c : cases) {
    const Report r = check(accel_guest(), host_of(smmu_unit(c.idr)));
    EXPECT_EQ(r.verdict, Verdict::kIncompatible) << c.rule;
    for (std::string_view rule : kRules) {
      const auto f = of_rule(r, rule);
      ASSERT_EQ(f.size(), 1u) << rule;
      if (rule == c.rule) {
        EXPECT_EQ(f[0].outcome, Outcome::kFail) << rule;
        EXPECT_NE(f[0].message.find(c.says), std::string::npos) << f[0].message;
        EXPECT_FALSE(f[0].hint.empty());
      } else {
        EXPECT_EQ(f[0].outcome, Outcome::kPass) << c.rule << " case, " << rule;
      }
    }
  }
}

TEST(CheckSmmuv3, RangeInvalidationHintSpeaksTheGuestsSyntax) {
  const Host h = host_of(smmu_unit({0x0840101b, 0x510, 0, 0, 0, 0x75}));
  Guest g = accel_guest();
  EXPECT_NE(of_rule(check(g, h), "smmuv3.range_invalidation")[0].hint.find("guest file has no key"),
            std::string::npos);
  g.vmm.syntax = GuestSyntax::kQemu;
  EXPECT_EQ(of_rule(check(g, h), "smmuv3.range_invalidation")[0].hint,
            "set ril=off on -device arm-smmuv3");
}

TEST(CheckSmmuv3, UnknownFactsNeverPass) {
  // A mainline unit: no registers, nothing known (layout none).
  Unit u;
  u.name = "smmu3.0x09050000";
  u.model = std::string(kModelArmSmmuV3);
  u.layout = Layout::kNone;
  const Report r = check(accel_guest(), host_of(u));
  for (std::string_view rule : kRules) {
    const auto f = of_rule(r, rule);
    ASSERT_EQ(f.size(), 1u) << rule;
    EXPECT_EQ(f[0].outcome, Outcome::kUnknown) << rule;
  }
  EXPECT_NE(r.verdict, Verdict::kCompatible);
}

TEST(CheckSmmuv3, GenericLayoutFilesAreRead) {
  // The generic layout keeps unknown files as properties; the rules read them by name.
  Unit u;
  u.name = "smmu3.0x09050000";
  u.model = std::string(kModelArmSmmuV3);
  u.layout = Layout::kGeneric;
  u.caps.pgtable_formats = std::vector<std::string>{"lpae-64"};
  u.properties = {{"stream_table_levels", "2"},
                  {"tt_endian", "little"},
                  {"sid_bits", "12"},
                  {"range_invalidation", "1"},
                  {"granules", "4K,16K,64K"}};
  const Report r = check(accel_guest(), host_of(u));
  EXPECT_EQ(of_rule(r, "smmuv3.stream_table")[0].outcome, Outcome::kPass);
  EXPECT_EQ(of_rule(r, "smmuv3.granules")[0].outcome, Outcome::kPass);
  const auto sid = of_rule(r, "smmuv3.sid_bits");
  EXPECT_EQ(sid[0].outcome, Outcome::kFail);
  EXPECT_EQ(sid[0].evidence, "smmu3.0x09050000: sid_bits = 12");
}

TEST(CheckSmmuv3, OtherModelsAreLeftToTheModelRule) {
  Unit u = smmu_unit({0, 0, 0, 0, 0, 0}, "dmar0");
  u.model = std::string(kModelIntelVtd);
  const Report r = check(accel_guest(), host_of(u));
  for (std::string_view rule : kRules) EXPECT_EQ(of_rule(r, rule)[0].outcome, Outcome::kPass);
  EXPECT_EQ(of_rule(r, "model")[0].outcome, Outcome::kFail);
}

TEST(SuggestSmmuv3, NestedOnlyWhereTheAcceleratedChecksPass) {
  auto good = suggest_guest("arm-smmu-v3", {host_of(smmu_unit(kGoodIdr))});
  ASSERT_TRUE(good.has_value());
  ASSERT_TRUE(good->guest.viommu.nested.has_value());
  EXPECT_TRUE(good->guest.viommu.nested->value);
  EXPECT_NE(check(good->guest, host_of(smmu_unit(kGoodIdr))).verdict, Verdict::kIncompatible);

  // No RIL: hardware nesting (S1P+S2P) is there, but QEMU's accelerated vSMMU would be refused.
  auto no_ril = suggest_guest("arm-smmu-v3",
                              {host_of(smmu_unit({0x0840101b, 0x510, 0, 0, 0, 0x75}))});
  ASSERT_TRUE(no_ril.has_value());
  EXPECT_FALSE(no_ril->guest.viommu.nested.has_value());
  bool noted = false;
  for (const SuggestNote& n : no_ril->notes) {
    if (n.key == "nested") {
      noted = true;
      EXPECT_NE(n.reason.find("smmuv3.range_invalidation"), std::string::npos) << n.reason;
    }
  }
  EXPECT_TRUE(noted);
}

}  // namespace
}  // namespace caps
