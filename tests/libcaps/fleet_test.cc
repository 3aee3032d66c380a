// SPDX-License-Identifier: MIT
// Tests for libcaps/src/checking/fleet.cc: blockers of a move (lost, failing on both, unknown
// after failing, one per rule and key with the other units), key changes between guests, and
// the baseline's adds and holds_back on hand-built hosts.
#include "libcaps/fleet.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/sample_hosts.h"

namespace caps {
namespace {

using testing::host_of;

Unit vtd(std::string name, int input, int ssid, bool nested) {
  Unit u;
  u.name = std::move(name);
  u.model = std::string(kModelIntelVtd);
  u.layout = Layout::kIntelIommu;
  u.caps.input_bits = input;
  u.caps.asid_bits = 16;
  u.caps.ssid_bits = ssid;
  u.caps.httu = Httu::kNone;
  u.caps.pgtable_formats = std::vector<std::string>{"vtd-ss-48"};
  u.caps.nested = nested;
  u.caps.ats = true;
  u.caps.page_requests = true;
  u.caps.dirty_tracking = false;
  return u;
}

Guest guest(int input, int ssid, bool nested) {
  Guest g;
  g.file = "g.toml";
  g.viommu.model = {std::string(kModelIntelVtd), {4, 1}};
  g.viommu.input_bits = Located<int>{input, {5, 1}};
  if (ssid > 0) g.viommu.ssid_bits = Located<int>{ssid, {6, 1}};
  if (nested) g.viommu.nested = Located<bool>{true, {7, 1}};
  return g;
}

TEST(CompareMigrationTest, WhatTheTargetLacksIsLostByMoving) {
  const Host big = host_of("big", {vtd("dmar0", 48, 20, true), vtd("dmar1", 48, 20, true)});
  const Host small = host_of("small", {vtd("dmar0", 39, 20, false), vtd("dmar1", 39, 20, false)});
  const Migration m = compare_migration(guest(48, 20, true), big, small);
  EXPECT_EQ(m.source.verdict, Verdict::kCompatible);
  EXPECT_EQ(m.target.verdict, Verdict::kIncompatible);
  EXPECT_EQ(m.verdict, Verdict::kIncompatible);
  ASSERT_EQ(m.blockers.size(), 2u);
  EXPECT_EQ(m.blockers[0].target.rule, "width.input_bits");
  EXPECT_EQ(m.blockers[0].target.guest_key, "viommu.input_bits");
  EXPECT_EQ(m.blockers[0].target.pos, (SourcePos{5, 1}));
  EXPECT_EQ(m.blockers[1].target.rule, "feature.nested");
  for (const Blocker& b : m.blockers) {
    EXPECT_EQ(b.target.outcome, Outcome::kFail);
    EXPECT_EQ(b.source, Outcome::kPass) << b.target.rule;
    EXPECT_TRUE(b.lost());
  }
}

TEST(CompareMigrationTest, TheTargetDecidesAndNothingBlocksAMoveUp) {
  const Host big = host_of("big", {vtd("dmar0", 48, 20, true)});
  const Host small = host_of("small", {vtd("dmar0", 39, 20, false)});
  const Migration m = compare_migration(guest(48, 20, true), small, big);
  EXPECT_EQ(m.source.verdict, Verdict::kIncompatible);
  EXPECT_EQ(m.verdict, Verdict::kCompatible);
  EXPECT_TRUE(m.blockers.empty());
}

TEST(CompareMigrationTest, FailingOnBothIsABlockerNotLost) {
  const Host small = host_of("small", {vtd("dmar0", 39, 20, false)});
  const Migration m = compare_migration(guest(48, 0, false), small, small);
  ASSERT_EQ(m.blockers.size(), 1u);
  EXPECT_EQ(m.blockers[0].source, Outcome::kFail);
  EXPECT_FALSE(m.blockers[0].lost());
}

TEST(CompareMigrationTest, UnknownOnTheTargetComesAfterFailures) {
  Unit unknown = vtd("dmar0", 39, 20, true);
  unknown.caps.nested.reset();
  const Host big = host_of("big", {vtd("dmar0", 48, 20, true)});
  const Host target = host_of("t", {unknown});
  const Migration m = compare_migration(guest(48, 20, true), big, target);
  ASSERT_EQ(m.blockers.size(), 2u);
  EXPECT_EQ(m.blockers[0].target.outcome, Outcome::kFail);
  EXPECT_EQ(m.blockers[1].target.outcome, Outcome::kUnknown);
  EXPECT_EQ(m.blockers[1].target.rule, "feature.nested");
}

TEST(CompareMigrationTest, OneBlockerPerRuleAndKeyNamesTheOtherUnits) {
  const Host big = host_of("big", {vtd("dmar0", 48, 20, true)});
  const Host target =
      host_of("t", {vtd("dmar0", 39, 20, true), vtd("dmar1", 39, 20, true), vtd("dmar2", 39, 20, true)});
  const Migration m = compare_migration(guest(48, 0, false), big, target);
  ASSERT_EQ(m.blockers.size(), 1u);
  EXPECT_EQ(m.blockers[0].target.unit, "dmar0");
  EXPECT_EQ(m.blockers[0].also_on, (std::vector<std::string>{"dmar1", "dmar2"}));
}

TEST(GuestKeyChangesTest, ValuesAsAGuestFileWritesThemAndLeftOutAsEmpty) {
  GuestViommu a = guest(39, 0, false).viommu;
  GuestViommu b = guest(48, 20, true).viommu;
  b.httu = Located<Httu>{Httu::kAccessDirty, {}};
  EXPECT_EQ(guest_key_changes(a, b),
            (std::vector<KeyChange>{{"input_bits", "39", "48"},
                                    {"ssid_bits", "", "20"},
                                    {"httu", "", "access+dirty"},
                                    {"nested", "", "true"}}));
  EXPECT_TRUE(guest_key_changes(a, a).empty());
}

TEST(FleetBaselineTest, TheHostWithTheLeastHoldsTheFleetBack) {
  const std::vector<Host> hosts = {host_of("a", {vtd("dmar0", 48, 20, true)}),
                                   host_of("b", {vtd("dmar0", 48, 16, true)}),
                                   host_of("c", {vtd("dmar0", 39, 20, true)}),
                                   host_of("d", {vtd("dmar0", 39, 20, true)})};
  const Result<Baseline> b = fleet_baseline(kModelIntelVtd, hosts);
  ASSERT_TRUE(b.has_value()) << b.error().to_string();
  EXPECT_EQ(b->fleet.guest.viommu.input_bits->value, 39);
  EXPECT_EQ(b->fleet.guest.viommu.ssid_bits->value, 16);
  ASSERT_EQ(b->hosts.size(), 4u);
  EXPECT_EQ(b->hosts[0].host, "a");
  EXPECT_EQ(b->hosts[0].adds, (std::vector<KeyChange>{{"input_bits", "39", "48"},
                                                      {"ssid_bits", "16", "20"}}));
  EXPECT_TRUE(b->hosts[0].holds_back.empty());
  // b alone limits the PASID width; c and d limit the input width only together.
  EXPECT_EQ(b->hosts[1].holds_back, (std::vector<KeyChange>{{"ssid_bits", "16", "20"}}));
  EXPECT_TRUE(b->hosts[2].holds_back.empty());
  EXPECT_TRUE(b->hosts[3].holds_back.empty());
}

TEST(FleetBaselineTest, FailsAsSuggestDoes) {
  EXPECT_FALSE(fleet_baseline(kModelIntelVtd, {}).has_value());
  EXPECT_FALSE(fleet_baseline("nonsense", {host_of("a", {vtd("dmar0", 48, 20, true)})}).has_value());
  const Result<Baseline> none =
      fleet_baseline(kModelIntelVtd, {host_of("a", {vtd("dmar0", 48, 20, true)}), host_of("e", {})});
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().where, "e");
}

TEST(FleetBaselineTest, OneHostHoldsNothingBack) {
  const Result<Baseline> b = fleet_baseline(kModelIntelVtd, {host_of("a", {vtd("dmar0", 48, 20, true)})});
  ASSERT_TRUE(b.has_value());
  ASSERT_EQ(b->hosts.size(), 1u);
  EXPECT_TRUE(b->hosts[0].adds.empty());
  EXPECT_TRUE(b->hosts[0].holds_back.empty());
}

}  // namespace
}  // namespace caps
