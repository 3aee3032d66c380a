// SPDX-License-Identifier: MIT
// Tests for libcaps/src/checking/deployment.cc: many guests on one host as one deployment.
// Hand-built hosts and guests parsed from guest-file text; each deployment rule both ways.
#include "libcaps/deployment.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "libcaps/check.h"
#include "libcaps/guest.h"

namespace caps {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Unit vtd_unit(std::string name, std::optional<int> ssid) {
  Unit u;
  u.name = std::move(name);
  u.model = std::string(kModelIntelVtd);
  u.layout = Layout::kIntelIommu;
  u.caps.input_bits = 48;
  u.caps.ssid_bits = ssid;
  return u;
}

Device vfio_device(std::string name, uint64_t group, std::string unit = "dmar0") {
  Device d;
  d.name = std::move(name);
  d.unit = std::move(unit);
  d.group = group;
  d.driver = "vfio-pci";
  return d;
}

/// dmar0 with 16 PASID bits serving: group 12 = 3b:00.0 + 3b:00.1, group 14 = 5e:00.0..3,
/// group 13 = af:00.0 alone, groups 16 and 17 = 86:00.0 and 87:00.0 alone.
Host lab_host(std::optional<int> ssid = 16) {
  Host h;
  h.backend = "report";
  h.root = "lab.toml";
  h.units.push_back(vtd_unit("dmar0", ssid));
  auto group = [&](uint64_t id, std::vector<std::string> names) {
    Group g;
    g.id = id;
    g.devices = names;
    h.groups.push_back(g);
    for (const std::string& n : names) h.devices.push_back(vfio_device(n, id));
  };
  group(12, {"0000:3b:00.0", "0000:3b:00.1"});
  group(13, {"0000:af:00.0"});
  group(14, {"0000:5e:00.0", "0000:5e:00.1", "0000:5e:00.2", "0000:5e:00.3"});
  group(16, {"0000:86:00.0"});
  group(17, {"0000:87:00.0"});
  return h;
}

Guest guest(const std::string& file, const std::vector<std::string>& bdfs,
            const std::string& extra = {}) {
  std::string text = "format = 1\n[viommu]\nmodel = \"intel-vtd\"\n";
  for (const std::string& b : bdfs) text += "[[device]]\nbdf = \"" + b + "\"\n";
  text += extra;
  auto parsed = parse_guest(text, file);
  EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().front().to_string());
  return parsed ? *parsed : Guest{};
}

std::string alloc(uint64_t count, uint64_t quota, uint64_t max = 0xffff) {
  return "[pasid_alloc]\nmin = 1\nmax = " + std::to_string(max) +
         "\ncount = " + std::to_string(count) + "\nquota = " + std::to_string(quota) + "\n";
}

std::vector<const DeploymentFinding*> of(const DeploymentReport& r, std::string_view rule,
                                         Outcome outcome) {
  std::vector<const DeploymentFinding*> out;
  for (const DeploymentFinding& f : r.findings) {
    if (f.rule == rule && f.outcome == outcome) out.push_back(&f);
  }
  return out;
}

TEST(Deployment, RuleIdsAreStable) {
  std::vector<std::string> ids(deployment_rule_ids().begin(), deployment_rule_ids().end());
  EXPECT_THAT(ids, ElementsAre("deploy.device_shared", "deploy.group_shared",
                               "deploy.group_split", "deploy.pasid_quota",
                               "deploy.pasid_budget"));
}

TEST(Deployment, SeparateGroupsAreCompatible) {
  const std::vector<Guest> guests = {guest("a.toml", {"0000:3b:00.0", "0000:3b:00.1"}),
                                     guest("b.toml", {"0000:af:00.0"})};
  const DeploymentReport r = check_deployment(guests, lab_host());
  EXPECT_EQ(r.verdict, Verdict::kCompatible);
  EXPECT_EQ(r.host, "lab.toml");
  EXPECT_THAT(r.guests, ElementsAre("a.toml", "b.toml"));
  EXPECT_EQ(of(r, "deploy.device_shared", Outcome::kPass).size(), 1u);
  EXPECT_EQ(of(r, "deploy.group_shared", Outcome::kPass).size(), 2u);
  EXPECT_EQ(of(r, "deploy.group_split", Outcome::kPass).size(), 1u);  // group 12 whole
  EXPECT_TRUE(of(r, "deploy.group_shared", Outcome::kFail).empty());
}

TEST(Deployment, TwoVmsOneGroupFailsNamingBothGuestsAndTheGroup) {
  const std::vector<Guest> guests = {guest("vm-a.toml", {"0000:3b:00.0"}),
                                     guest("vm-b.toml", {"0000:3b:00.1"})};
  const DeploymentReport r = check_deployment(guests, lab_host());
  EXPECT_EQ(r.verdict, Verdict::kIncompatible);
  const auto fails = of(r, "deploy.group_shared", Outcome::kFail);
  ASSERT_EQ(fails.size(), 1u);
  const DeploymentFinding& f = *fails.front();
  EXPECT_THAT(f.guests(), ElementsAre("vm-a.toml", "vm-b.toml"));
  EXPECT_EQ(f.group, 12u);
  EXPECT_EQ(f.device, "0000:3b:00.1");
  EXPECT_EQ(f.places[1].guest_key, "device[0].bdf");
  EXPECT_EQ(f.places[1].pos.line, 5);
  EXPECT_THAT(f.message, HasSubstr("group 12"));
  EXPECT_THAT(f.message, HasSubstr("vm-a.toml assigns 0000:3b:00.0"));
  EXPECT_THAT(f.message, HasSubstr("refuses vm-b.toml"));
  EXPECT_EQ(f.evidence, "group 12: 0000:3b:00.0, 0000:3b:00.1");
  EXPECT_FALSE(f.hint.empty());
  // Nothing left over in group 12, and no device given twice.
  EXPECT_TRUE(of(r, "deploy.device_shared", Outcome::kFail).empty());
  EXPECT_TRUE(of(r, "deploy.group_split", Outcome::kWarn).empty());
  // Per pair both guests are fine: only the deployment sees it.
  for (const Guest& g : guests) EXPECT_NE(check(g, lab_host()).verdict, Verdict::kIncompatible);
}

TEST(Deployment, SameDeviceInTwoGuestsFails) {
  const std::vector<Guest> guests = {guest("db.toml", {"0000:af:00.0"}),
                                     guest("backup.toml", {"0000:5e:00.0", "0000:af:00.0"})};
  const DeploymentReport r = check_deployment(guests, lab_host());
  EXPECT_EQ(r.verdict, Verdict::kIncompatible);
  const auto fails = of(r, "deploy.device_shared", Outcome::kFail);
  ASSERT_EQ(fails.size(), 1u);
  EXPECT_THAT(fails[0]->guests(), ElementsAre("db.toml", "backup.toml"));
  EXPECT_EQ(fails[0]->device, "0000:af:00.0");
  EXPECT_EQ(fails[0]->group, 13u);
  EXPECT_EQ(fails[0]->places[1].guest_key, "device[1].bdf");
  EXPECT_THAT(fails[0]->message,
              HasSubstr("0000:af:00.0 is assigned to both db.toml and backup.toml"));
  // The same device is device_shared's, not also group_shared's; and group 13 is not said to
  // be used by one guest only.
  EXPECT_TRUE(of(r, "deploy.group_shared", Outcome::kFail).empty());
  for (const DeploymentFinding* f : of(r, "deploy.group_shared", Outcome::kPass)) {
    EXPECT_NE(f->group, 13u) << f->message;
  }
}

TEST(Deployment, SplitGroupFailsForTheLaterGuestAndWarnsAboutTheRest) {
  const std::vector<Guest> guests = {guest("web.toml", {"0000:5e:00.0"}),
                                     guest("mail.toml", {"0000:5e:00.1"}),
                                     guest("dns.toml", {"0000:5e:00.2"})};
  const DeploymentReport r = check_deployment(guests, lab_host());
  EXPECT_EQ(r.verdict, Verdict::kIncompatible);
  const auto fails = of(r, "deploy.group_shared", Outcome::kFail);
  ASSERT_EQ(fails.size(), 2u);  // mail and dns are refused; web keeps group 14
  EXPECT_THAT(fails[0]->guests(), ElementsAre("web.toml", "mail.toml"));
  EXPECT_THAT(fails[1]->guests(), ElementsAre("web.toml", "dns.toml"));
  const auto warns = of(r, "deploy.group_split", Outcome::kWarn);
  ASSERT_EQ(warns.size(), 1u);
  EXPECT_EQ(warns[0]->device, "0000:5e:00.3");
  EXPECT_THAT(warns[0]->message, HasSubstr("0000:5e:00.3, in no guest"));
}

TEST(Deployment, PartOfAGroupInOneGuestOnlyWarns) {
  const std::vector<Guest> guests = {guest("vm-a.toml", {"0000:3b:00.0"})};
  const DeploymentReport r = check_deployment(guests, lab_host());
  EXPECT_EQ(r.verdict, Verdict::kCompatible);  // a warning
  ASSERT_EQ(of(r, "deploy.group_split", Outcome::kWarn).size(), 1u);
}

TEST(Deployment, PasidBudgetOverflowNamesBothGuestsAndWhoOverflows) {
  // 16 bits: PASIDs 1..65535 on dmar0, shared host-wide.
  const std::vector<Guest> guests = {
      guest("sva-a.toml", {"0000:86:00.0"}, alloc(40000, 40000)),
      guest("sva-b.toml", {"0000:87:00.0"}, alloc(30000, 30000))};
  const DeploymentReport r = check_deployment(guests, lab_host());
  EXPECT_EQ(r.verdict, Verdict::kIncompatible);
  const auto fails = of(r, "deploy.pasid_budget", Outcome::kFail);
  ASSERT_EQ(fails.size(), 1u);
  const DeploymentFinding& f = *fails.front();
  EXPECT_THAT(f.guests(), ElementsAre("sva-a.toml", "sva-b.toml"));
  EXPECT_EQ(f.unit, "dmar0");
  EXPECT_EQ(f.places[0].guest_key, "pasid_alloc.count");
  EXPECT_THAT(f.message, HasSubstr("dmar0's PASID space 1..65535 holds 65535 PASIDs"));
  EXPECT_THAT(f.message, HasSubstr("sva-a.toml 40000, sva-b.toml 30000 allocate 70000"));
  EXPECT_THAT(f.message, HasSubstr("sva-b.toml overflows it by 4465"));
  // Each guest is within its own quota.
  EXPECT_EQ(of(r, "deploy.pasid_quota", Outcome::kPass).size(), 2u);
  for (const Guest& g : guests) EXPECT_NE(check(g, lab_host()).verdict, Verdict::kIncompatible);
}

TEST(Deployment, PasidBudgetThatFitsPasses) {
  const std::vector<Guest> guests = {
      guest("sva-a.toml", {"0000:86:00.0"}, alloc(30000, 30000)),
      guest("sva-b.toml", {"0000:87:00.0"}, alloc(30000, 30000))};
  const DeploymentReport r = check_deployment(guests, lab_host());
  EXPECT_EQ(r.verdict, Verdict::kCompatible);
  const auto passes = of(r, "deploy.pasid_budget", Outcome::kPass);
  ASSERT_EQ(passes.size(), 1u);
  EXPECT_THAT(passes[0]->message, HasSubstr("60000 in all"));
}

TEST(Deployment, OverlappingNarrowRangesOverflowEvenWhenTheUnitHasRoom) {
  // 20 bits on the unit, but both guests draw from 1..1000.
  const std::vector<Guest> guests = {
      guest("a.toml", {"0000:86:00.0"}, alloc(600, 1000, 1000)),
      guest("b.toml", {"0000:87:00.0"}, alloc(600, 1000, 1000))};
  const DeploymentReport r = check_deployment(guests, lab_host(20));
  const auto fails = of(r, "deploy.pasid_budget", Outcome::kFail);
  ASSERT_EQ(fails.size(), 1u);
  EXPECT_TRUE(fails[0]->unit.empty());
  EXPECT_THAT(fails[0]->message, HasSubstr("PASIDs 1..1000 holds 1000"));
  EXPECT_THAT(fails[0]->message, HasSubstr("b.toml overflows it by 200"));
}

TEST(Deployment, OnlyTheGuestsOfTheFullWindowAreNamed) {
  // a and b both draw from 1..10 (12 > 10); c draws from the whole space and fits beside them.
  const std::vector<Guest> guests = {guest("a.toml", {"0000:86:00.0"}, alloc(6, 1000, 10)),
                                     guest("c.toml", {"0000:3b:00.0"}, alloc(100, 1000)),
                                     guest("b.toml", {"0000:87:00.0"}, alloc(6, 1000, 10))};
  const DeploymentReport r = check_deployment(guests, lab_host());
  const auto fails = of(r, "deploy.pasid_budget", Outcome::kFail);
  ASSERT_EQ(fails.size(), 1u);
  EXPECT_THAT(fails[0]->guests(), ElementsAre("a.toml", "b.toml"));
  EXPECT_THAT(fails[0]->message, HasSubstr("PASIDs 1..10 holds 10 PASIDs but a.toml 6, b.toml 6"));
  EXPECT_THAT(fails[0]->message, HasSubstr("b.toml overflows it by 2"));
}

TEST(Deployment, ManyGuestsWithDistinctRangesAreDecidedQuickly) {
  // 3000 guests, each with its own range end: windows are swept, not summed one by one.
  std::vector<Guest> guests;
  const Guest base = guest("g.toml", {"0000:86:00.0"}, alloc(1, 1000, 65535));
  for (uint64_t i = 0; i < 3000; ++i) {
    Guest g = base;
    g.file = "g" + std::to_string(i) + ".toml";
    g.pasid_alloc->max.value = 60000 + i;
    guests.push_back(std::move(g));
  }
  const DeploymentReport r = check_deployment(guests, lab_host());
  EXPECT_TRUE(of(r, "deploy.pasid_budget", Outcome::kFail).empty());
  EXPECT_EQ(of(r, "deploy.pasid_budget", Outcome::kPass).size(), 1u);  // own ranges bound all
}

TEST(Deployment, QuotaOverflowNamesTheGuest) {
  const std::vector<Guest> guests = {guest("a.toml", {"0000:86:00.0"}, alloc(100, 1000)),
                                     guest("b.toml", {"0000:87:00.0"}, alloc(2000, 1000))};
  const DeploymentReport r = check_deployment(guests, lab_host());
  EXPECT_EQ(r.verdict, Verdict::kIncompatible);
  const auto fails = of(r, "deploy.pasid_quota", Outcome::kFail);
  ASSERT_EQ(fails.size(), 1u);
  EXPECT_THAT(fails[0]->guests(), ElementsAre("b.toml"));
  EXPECT_THAT(fails[0]->message, HasSubstr("b.toml overflows its own quota"));
}

TEST(Deployment, UnknownPasidWidthIsUndecided) {
  const std::vector<Guest> guests = {
      guest("sva-a.toml", {"0000:86:00.0"}, alloc(100, 1000)),
      guest("sva-b.toml", {"0000:87:00.0"}, alloc(100, 1000))};
  const DeploymentReport r = check_deployment(guests, lab_host(std::nullopt));
  EXPECT_EQ(r.verdict, Verdict::kUndecided);
  EXPECT_EQ(of(r, "deploy.pasid_budget", Outcome::kUnknown).size(), 2u);
}

TEST(Deployment, SameFileTwiceIsTwoGuests) {
  const Guest g = guest("vm.toml", {"0000:af:00.0"});
  const std::vector<Guest> guests = {g, g};
  const DeploymentReport r = check_deployment(guests, lab_host());
  const auto fails = of(r, "deploy.device_shared", Outcome::kFail);
  ASSERT_EQ(fails.size(), 1u);
  EXPECT_THAT(fails[0]->message, HasSubstr("both vm.toml #1 and vm.toml #2"));
}

TEST(Deployment, DevicesTheHostLacksAreLeftToThePairRules) {
  const std::vector<Guest> guests = {guest("a.toml", {"0000:ff:00.0"}),
                                     guest("b.toml", {"0000:ff:00.0"})};
  const DeploymentReport r = check_deployment(guests, lab_host());
  // Still the same device twice; no group to judge.
  EXPECT_EQ(of(r, "deploy.device_shared", Outcome::kFail).size(), 1u);
  EXPECT_TRUE(of(r, "deploy.group_shared", Outcome::kFail).empty());
  EXPECT_TRUE(of(r, "deploy.group_shared", Outcome::kPass).empty());
}

TEST(Deployment, WithoutPassesKeepsTheVerdict) {
  const std::vector<Guest> guests = {guest("a.toml", {"0000:3b:00.0", "0000:3b:00.1"})};
  const DeploymentReport r = check_deployment(guests, lab_host(), {.passes = false});
  EXPECT_EQ(r.verdict, Verdict::kCompatible);
  EXPECT_TRUE(r.findings.empty());
}

}  // namespace
}  // namespace caps
