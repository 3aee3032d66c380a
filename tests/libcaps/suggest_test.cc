// SPDX-License-Identifier: MIT
// Tests for libcaps/src/checking/suggest.cc: the intersection on hand-built hosts (whole
// suggestions compared), and on every fixture host the suggestion passes check() (never
// incompatible).
#include "libcaps/suggest.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "libcaps/check.h"
#include "libcaps/reader.h"
#include "libcaps/source.h"
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
  u.caps.httu = nested ? Httu::kAccessDirty : Httu::kNone;
  u.caps.pgtable_formats = std::vector<std::string>{"vtd-ss-39", "vtd-ss-48", "vtd-fs-48"};
  u.caps.nested = nested;
  u.caps.ats = true;
  u.caps.page_requests = nested;
  u.caps.dirty_tracking = nested;
  u.caps.scalable_mode = nested;
  return u;
}

Unit smmu(std::string name, Stall stall) {
  Unit u;
  u.name = std::move(name);
  u.model = std::string(kModelArmSmmuV3);
  u.layout = Layout::kGeneric;
  u.caps.input_bits = 48;
  u.caps.output_bits = 44;
  u.caps.asid_bits = 16;
  u.caps.ssid_bits = 20;
  u.caps.httu = Httu::kAccess;
  u.caps.stall = stall;
  u.caps.btm = true;
  u.caps.pgtable_formats = std::vector<std::string>{"lpae-32", "lpae-64"};
  return u;
}

TEST(SuggestGuest, IntersectsUnitsOfEveryHost) {
  auto s = suggest_guest("intel-vtd",
                         {host_of("a", {vtd("dmar0", 48, 20, true)}),
                          host_of("b", {vtd("dmar0", 57, 20, true), vtd("dmar1", 39, 8, true)})});
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(write_guest(s->guest), R"(# iommu-compat guest description (format 1)
format = 1

[viommu]
model = "intel-vtd"
input_bits = 39
asid_bits = 16
ssid_bits = 8
httu = "access+dirty"
pgtable_format = "vtd-fs-48"
nested = true
ats = true
page_requests = true
dirty_tracking = true
)");
  EXPECT_EQ(s->notes, (std::vector<SuggestNote>{{"output_bits",
                                                 "unknown on dmar0 on a; dmar0, "
                                                 "dmar1 on b"}}));
}

TEST(SuggestGuest, LeavesOutWhatOneUnitLacksAndLimitsPasidsToPcie) {
  Unit wide = vtd("dmar0", 48, 20, true);
  wide.caps.ssid_bits = 24;  // wider than PCIe can carry
  auto s = suggest_guest("intel-vtd", {host_of("h", {wide, vtd("dmar1", 48, 0, false)})});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(write_guest(s->guest), R"(# iommu-compat guest description (format 1)
format = 1

[viommu]
model = "intel-vtd"
input_bits = 48
asid_bits = 16
pgtable_format = "vtd-fs-48"
ats = true
)");
  EXPECT_EQ(s->notes, (std::vector<SuggestNote>{
                          {"output_bits", "unknown on dmar0, dmar1 on h"},
                          {"ssid_bits", "none on dmar1 on h"},
                          {"httu", "none on dmar1 on h"},
                          {"nested", "not supported by dmar1 on h"},
                          {"page_requests", "not supported by dmar1 on h"},
                          {"dirty_tracking", "not supported by dmar1 on h"},
                      }));

  auto capped = suggest_guest("intel-vtd", {host_of("h", {wide})});
  ASSERT_TRUE(capped.has_value());
  ASSERT_TRUE(capped->guest.viommu.ssid_bits.has_value());
  EXPECT_EQ(capped->guest.viommu.ssid_bits->value, 20);
  EXPECT_EQ(capped->notes[1], (SuggestNote{"ssid_bits",
                                           "limited to 20 (the PCIe PASID width); "
                                           "the units have 24 or more"}));
}

TEST(SuggestGuest, NestedOnlyWhenTheVendorMatches) {
  auto s = suggest_guest("amd-vi", {host_of("h", {vtd("dmar0", 48, 20, true)})});
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s->guest.viommu.nested.has_value());
  EXPECT_FALSE(s->guest.viommu.pgtable_format.has_value());  // no amd-* format on VT-d
  std::vector<std::string> keys;
  for (const SuggestNote& n : s->notes) keys.push_back(n.key + ": " + n.reason);
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "output_bits: unknown on dmar0 on h",
                      "pgtable_format: no amd-vi page-table format is common to every unit",
                      "nested: hardware nesting needs every unit to be amd-vi, not dmar0 on h",
                  }));
}

TEST(SuggestGuest, StallAndBtmForSmmu) {
  auto s = suggest_guest("arm-smmu-v3",
                         {host_of("h", {smmu("s0", Stall::kEnabled), smmu("s1", Stall::kForce)})});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(write_guest(s->guest), R"(# iommu-compat guest description (format 1)
format = 1

[viommu]
model = "arm-smmu-v3"
input_bits = 48
output_bits = 44
asid_bits = 16
ssid_bits = 20
httu = "access"
stall = "enabled"
btm = true
pgtable_format = "lpae-64"
)");
  auto conflict = suggest_guest(
      "arm-smmu-v3", {host_of("h", {smmu("s0", Stall::kDisabled), smmu("s1", Stall::kForce)})});
  ASSERT_TRUE(conflict.has_value());
  EXPECT_FALSE(conflict->guest.viommu.stall.has_value());
  EXPECT_EQ(conflict->notes[0],
            (SuggestNote{"stall", "no value fits both s1 on h (force) and s0 on h (disabled)"}));
}

TEST(SuggestGuest, UnknownUnitsLeaveEverythingOut) {
  Unit none;
  none.name = "smmu0";
  auto s = suggest_guest("virtio-iommu", {host_of("h", {none})});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(write_guest(s->guest), R"(# iommu-compat guest description (format 1)
format = 1

[viommu]
model = "virtio-iommu"
)");
  EXPECT_EQ(s->notes.size(), 10u);
}

TEST(SuggestGuest, Errors) {
  EXPECT_EQ(
      suggest_guest("intel-vt-d", {host_of("h", {vtd("dmar0", 48, 20, true)})}).error().to_string(),
      "model: unknown vIOMMU model \"intel-vt-d\" (use intel-vtd, amd-vi, arm-smmu-v3 or "
      "virtio-iommu)");
  EXPECT_EQ(suggest_guest("intel-vtd", {}).error().to_string(), "no host to suggest a guest for");
  EXPECT_EQ(
      suggest_guest("intel-vtd", {host_of("h", {vtd("dmar0", 48, 20, true)}), host_of("empty", {})})
          .error()
          .to_string(),
      "empty: no IOMMU unit: no vIOMMU can run on this host");
}

// ---------------------------------------------------------------------------------------------
// On every fixture host, alone and all together, the suggestion for every model is never
// incompatible there, and compatible when the host knows everything the suggestion asks.

std::vector<Host> fixture_hosts() {
  std::vector<Host> hosts;
  for (const std::string& name : testing::fixture_host_names()) {
    auto source = open_dir_source(IOMMU_SOURCE_DIR "/fake-sysfs/hosts/" + name);
    if (!source) continue;
    hosts.push_back(read_host(**source));
  }
  return hosts;
}

void expect_passes(std::string_view model, const std::vector<Host>& hosts) {
  auto s = suggest_guest(model, hosts);
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  const std::string text = write_guest(s->guest);
  auto guest = parse_guest(text, "suggested.toml");
  ASSERT_TRUE(guest.has_value()) << text;
  for (const Host& h : hosts) {
    const Report report = check(*guest, h);
    EXPECT_NE(report.verdict, Verdict::kIncompatible) << model << " on " << h.root << "\n" << text;
    EXPECT_NE(report.verdict, Verdict::kBadInput) << model << " on " << h.root;
    // A suggestion built only from known facts is undecided only through the model rule
    // (units of unknown model can never be certified).
    for (const Finding& f : report.findings) {
      if (f.outcome == Outcome::kUnknown) {
        EXPECT_EQ(f.rule, "model") << h.root << ": " << f.message;
      }
    }
  }
}

TEST(SuggestGuest, PassesCheckOnEveryFixtureHost) {
  const std::vector<Host> hosts = fixture_hosts();
  ASSERT_GE(hosts.size(), 8u);
  std::vector<Host> with_units;
  for (const Host& h : hosts) {
    for (std::string_view model :
         {kModelIntelVtd, kModelAmdVi, kModelArmSmmuV3, kModelVirtioIommu}) {
      SCOPED_TRACE(h.root + " " + std::string(model));
      if (h.units.empty()) {
        EXPECT_FALSE(suggest_guest(model, {h}).has_value());
        continue;
      }
      expect_passes(model, {h});
    }
    if (!h.units.empty()) with_units.push_back(h);
  }
  for (std::string_view model : {kModelIntelVtd, kModelAmdVi, kModelArmSmmuV3, kModelVirtioIommu}) {
    SCOPED_TRACE("all hosts " + std::string(model));
    expect_passes(model, with_units);
  }
}

}  // namespace
}  // namespace caps
