// SPDX-License-Identifier: MIT
// Tests for check(): every rule passing, failing and meeting an unknown host fact, on hosts and
// guests built by hand (no fixture files, no guest parser).
#include "libcaps/check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bitset>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "support/check_agreement.h"

namespace caps {
namespace {

// ---------------------------------------------------------------------------------------------
// Builders

template <class T>
Located<T> at(T value, int line) {
  return Located<T>{std::move(value), SourcePos{line, 1}};
}

/// A unit with every normalized property known and generous.
Unit full_unit(std::string name, std::string_view model = kModelIntelVtd) {
  Unit u;
  u.name = std::move(name);
  u.model = std::string(model);
  u.layout = Layout::kGeneric;
  u.caps.input_bits = 48;
  u.caps.output_bits = 46;
  u.caps.asid_bits = 16;
  u.caps.ssid_bits = 20;
  u.caps.httu = Httu::kAccessDirty;
  u.caps.stall = Stall::kEnabled;
  u.caps.btm = true;
  u.caps.pgtable_formats = std::vector<std::string>{"vtd-ss-39", "vtd-ss-48", "vtd-fs-48"};
  u.caps.nested = true;
  u.caps.ats = true;
  u.caps.page_requests = true;
  u.caps.dirty_tracking = true;
  u.caps.scalable_mode = true;
  if (model == kModelIntelVtd) u.extra["interrupt_remapping"] = true;  // ecap.IR=1
  return u;
}

PciInfo endpoint_pci(int pasid_width = 20) {
  PciInfo pci;
  pci.vendor = 0x8086;
  pci.device = 0x10fb;
  pci.class_code = 0x020000;
  pci.header_type = 0;
  pci.pasid = std::optional<PasidCapability>(PasidCapability{pasid_width, false, false});
  pci.ats = true;
  pci.pri = true;
  return pci;
}

Device make_device(std::string name, std::optional<std::string> unit, std::optional<uint64_t> group,
                   std::optional<std::string> driver, std::optional<PciInfo> pci = endpoint_pci()) {
  Device d;
  d.name = std::move(name);
  d.unit = std::move(unit);
  d.group = group;
  d.driver = std::move(driver);
  d.pci = std::move(pci);
  return d;
}

/// One full unit dmar0, one device 0000:3b:00.0 on vfio-pci, alone in group 12.
Host simple_host() {
  Host h;
  h.backend = "dir";
  h.root = "/fake";
  h.units.push_back(full_unit("dmar0"));
  h.devices.push_back(make_device("0000:3b:00.0", "dmar0", 12, "vfio-pci"));
  h.groups.push_back(Group{12, "DMA", std::nullopt, {"0000:3b:00.0"}, {}});
  h.platform.cmdline = "ro intel_iommu=on";
  return h;
}

Guest simple_guest(std::string model = std::string(kModelIntelVtd)) {
  Guest g;
  g.file = "guest.toml";
  g.viommu_pos = {1, 1};
  g.viommu.model = at(std::move(model), 2);
  return g;
}

GuestPasidTable intel_table() {
  GuestPasidTable t;
  t.pos = {20, 1};
  t.version = at<uint64_t>(1, 21);
  t.bytes = at<uint64_t>(32, 22);
  t.model = at(PasidTableModel::kIntel, 23);
  t.base_ptr = at<uint64_t>(0x7f000000, 24);
  t.pasid_bits = at(20, 25);
  return t;
}

GuestPasidAlloc alloc(uint64_t min, uint64_t max, uint64_t count, uint64_t quota = 1000) {
  GuestPasidAlloc a;
  a.pos = {30, 1};
  a.min = at(min, 31);
  a.max = at(max, 32);
  a.count = at(count, 33);
  a.quota = Located<uint64_t>{quota, {}};  // the default, not written
  return a;
}

std::vector<Finding> of_rule(const Report& report, std::string_view rule) {
  std::vector<Finding> out;
  for (const Finding& f : report.findings) {
    if (f.rule == rule) out.push_back(f);
  }
  return out;
}

std::vector<Outcome> outcomes(const Report& report, std::string_view rule) {
  std::vector<Outcome> out;
  for (const Finding& f : of_rule(report, rule)) out.push_back(f.outcome);
  return out;
}

/// A parameter's test name: its rule id with '.' as '_'.
template <class Case>
std::string rule_name(const ::testing::TestParamInfo<Case>& info) {
  std::string name = info.param.rule;
  for (char& c : name) {
    if (c == '.') c = '_';
  }
  return name;
}

using O = Outcome;
const std::vector<O> kPass = {O::kPass};
const std::vector<O> kFail = {O::kFail};
const std::vector<O> kUnknown = {O::kUnknown};
const std::vector<O> kWarn = {O::kWarn};
const std::vector<O> kNone = {};

// ---------------------------------------------------------------------------------------------
// Names, exit codes, verdict

TEST(CheckNames, VerdictsAndOutcomes) {
  EXPECT_EQ(to_string(Verdict::kCompatible), "compatible");
  EXPECT_EQ(to_string(Verdict::kIncompatible), "incompatible");
  EXPECT_EQ(to_string(Verdict::kBadInput), "bad-input");
  EXPECT_EQ(to_string(Verdict::kUndecided), "undecided");
  EXPECT_EQ(exit_code(Verdict::kCompatible), 0);
  EXPECT_EQ(exit_code(Verdict::kIncompatible), 1);
  EXPECT_EQ(exit_code(Verdict::kBadInput), 2);
  EXPECT_EQ(exit_code(Verdict::kUndecided), 3);
  EXPECT_EQ(to_string(Outcome::kPass), "pass");
  EXPECT_EQ(to_string(Outcome::kWarn), "warning");
  EXPECT_EQ(to_string(Outcome::kFail), "fail");
  EXPECT_EQ(to_string(Outcome::kUnknown), "unknown");
}

TEST(CheckVerdict, FailBeatsUnknownBeatsPass) {
  auto f = [](O o) {
    Finding x;
    x.outcome = o;
    return x;
  };
  EXPECT_EQ(verdict_of({}), Verdict::kCompatible);
  EXPECT_EQ(verdict_of({f(O::kPass), f(O::kWarn)}), Verdict::kCompatible);
  EXPECT_EQ(verdict_of({f(O::kPass), f(O::kUnknown)}), Verdict::kUndecided);
  EXPECT_EQ(verdict_of({f(O::kUnknown), f(O::kFail), f(O::kPass)}), Verdict::kIncompatible);
}

TEST(CheckReport, SimpleGuestIsCompatibleAndNamesItsInputs) {
  Guest g = simple_guest();
  g.devices.push_back({at<std::string>("0000:3b:00.0", 10)});
  Report r = check(g, simple_host());
  EXPECT_EQ(r.verdict, Verdict::kCompatible);
  EXPECT_EQ(r.guest, "guest.toml");
  EXPECT_EQ(r.host, "/fake");
  for (const Finding& f : r.findings) {
    EXPECT_FALSE(f.rule.empty());
    EXPECT_FALSE(f.message.empty()) << f.rule;
  }
}

// ---------------------------------------------------------------------------------------------
// units.exist (no host fact can be unknown here: a unit exists or not)

TEST(CheckUnits, NamedUnitPasses) {
  Guest g = simple_guest();
  g.viommu.units = at(std::vector<std::string>{"dmar0"}, 3);
  Report r = check(g, simple_host());
  auto f = of_rule(r, "units.exist");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].outcome, O::kPass);
  EXPECT_EQ(f[0].message, "checking dmar0 (named in viommu.units)");
  EXPECT_EQ(f[0].guest_key, "viommu.units");
  EXPECT_EQ(f[0].pos, (SourcePos{3, 1}));
}

TEST(CheckUnits, MissingNamedUnitFails) {
  Guest g = simple_guest();
  g.viommu.units = at(std::vector<std::string>{"dmar0", "dmar9"}, 3);
  Report r = check(g, simple_host());
  auto f = of_rule(r, "units.exist");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].outcome, O::kFail);
  EXPECT_EQ(f[0].message, "unit dmar9 does not exist on this host");
  EXPECT_EQ(f[0].hint, "use one of dmar0");
  EXPECT_EQ(r.verdict, Verdict::kIncompatible);
}

TEST(CheckUnits, HostWithoutUnitsFailsEvenForVirtio) {
  Host h;
  h.platform.why_no_units = {"no DMAR, IVRS or IORT table"};
  Report r = check(simple_guest(std::string(kModelVirtioIommu)), h);
  auto f = of_rule(r, "units.exist");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].outcome, O::kFail);
  EXPECT_EQ(f[0].evidence, "host: no DMAR, IVRS or IORT table");
  EXPECT_EQ(r.verdict, Verdict::kIncompatible);
}

TEST(CheckUnits, DevicesChooseTheUnitsElseAllUnits) {
  Host h = simple_host();
  h.units.push_back(full_unit("dmar1"));
  h.units[1].caps.ssid_bits = 8;
  Guest g = simple_guest();
  g.viommu.ssid_bits = at(16, 5);
  // No device: every unit, so dmar1 limits.
  EXPECT_EQ(check(g, h).verdict, Verdict::kIncompatible);
  // The device is behind dmar0 only: dmar1 is not checked.
  g.devices.push_back({at<std::string>("0000:3b:00.0", 10)});
  Report r = check(g, h);
  EXPECT_EQ(r.verdict, Verdict::kCompatible);
  EXPECT_EQ(of_rule(r, "units.exist")[0].message, "checking dmar0 (serving the assigned devices)");
}

// ---------------------------------------------------------------------------------------------
// model

TEST(CheckModel, SameModelPasses) {
  Report r = check(simple_guest(), simple_host());
  EXPECT_EQ(outcomes(r, "model"), kPass);
}

TEST(CheckModel, EmulatedModelWarnsButIsCompatible) {
  Report r = check(simple_guest(std::string(kModelArmSmmuV3)), simple_host());
  EXPECT_EQ(outcomes(r, "model"), (std::vector<O>{O::kWarn}));
  EXPECT_EQ(r.verdict, Verdict::kCompatible);
}

TEST(CheckModel, NestedNeedsTheHostModel) {
  Guest g = simple_guest(std::string(kModelAmdVi));
  g.viommu.nested = at(true, 9);
  Report r = check(g, simple_host());
  auto f = of_rule(r, "model");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].outcome, O::kFail);
  EXPECT_EQ(f[0].message, "nested amd-vi needs the host unit to be amd-vi but dmar0 is intel-vtd");
  EXPECT_EQ(f[0].hint, "set model = \"intel-vtd\" or nested = false");
}

TEST(CheckModel, VirtioRunsOnAnyIommu) {
  Report r = check(simple_guest(std::string(kModelVirtioIommu)), simple_host());
  EXPECT_EQ(outcomes(r, "model"), kPass);
}

TEST(CheckModel, UnknownHostModelIsNeverCertified) {
  Host h = simple_host();
  h.units[0].model = std::string(kModelUnknown);
  Report r = check(simple_guest(std::string(kModelVirtioIommu)), h);
  EXPECT_EQ(outcomes(r, "model"), kUnknown);
  EXPECT_EQ(r.verdict, Verdict::kUndecided);
}

// A unit whose model the reader took from its name or parent driver (mainline SMMUv3,
// virtio-iommu) publishes no capabilities: the model is certified, the widths stay unknown, so
// a guest that needs a width is undecided, never compatible.
TEST(CheckModel, KnownModelWithoutCapabilitiesIsUndecided) {
  Host h = simple_host();
  Unit smmu;
  smmu.name = "smmu3.0x0000000009050000";
  smmu.model = std::string(kModelArmSmmuV3);
  smmu.layout = Layout::kNone;
  smmu.evidence["model"] = "named smmu3.* (the arm-smmu-v3 driver's \"smmu3.%pa\")";
  h.units[0] = smmu;
  h.devices[0].unit = smmu.name;
  Guest g = simple_guest(std::string(kModelArmSmmuV3));
  g.viommu.input_bits = at(48, 3);
  g.viommu.ssid_bits = at(16, 4);
  const Report r = check(g, h);
  EXPECT_EQ(outcomes(r, "model"), kPass);
  EXPECT_EQ(outcomes(r, "width.input_bits"), kUnknown);
  EXPECT_EQ(outcomes(r, "width.ssid_bits"), kUnknown);
  EXPECT_EQ(r.verdict, Verdict::kUndecided);
  EXPECT_EQ(decide(g, h).verdict, Verdict::kUndecided);
  const auto model = std::find_if(r.findings.begin(), r.findings.end(),
                                  [](const Finding& f) { return f.rule == "model"; });
  ASSERT_NE(model, r.findings.end());
  EXPECT_EQ(model->evidence,
            "smmu3.0x0000000009050000: named smmu3.* (the arm-smmu-v3 driver's \"smmu3.%pa\")");
}

TEST(CheckModel, UnknownGuestModelFails) {
  Report r = check(simple_guest("riscv-iommu"), simple_host());
  EXPECT_EQ(outcomes(r, "model"), kFail);
}

// ---------------------------------------------------------------------------------------------
// width.*

struct WidthCase {
  std::string rule;
  std::optional<Located<int>> GuestViommu::*guest;
  std::optional<int> Caps::*host;
};

class CheckWidth : public ::testing::TestWithParam<WidthCase> {};

TEST_P(CheckWidth, PassFailUnknown) {
  const WidthCase& c = GetParam();
  Host h = simple_host();
  h.units[0].caps.*c.host = 16;
  Guest g = simple_guest();
  g.viommu.*c.guest = at(16, 5);
  EXPECT_EQ(outcomes(check(g, h), c.rule), kPass);
  g.viommu.*c.guest = at(17, 5);
  Report fail = check(g, h);
  EXPECT_EQ(outcomes(fail, c.rule), kFail);
  EXPECT_EQ(fail.verdict, Verdict::kIncompatible);
  h.units[0].caps.*c.host = std::nullopt;
  Report unknown = check(g, h);
  EXPECT_EQ(outcomes(unknown, c.rule), kUnknown);
  EXPECT_NE(unknown.verdict, Verdict::kCompatible);
}

INSTANTIATE_TEST_SUITE_P(
    Check, CheckWidth,
    ::testing::Values(WidthCase{"width.input_bits", &GuestViommu::input_bits, &Caps::input_bits},
                      WidthCase{"width.output_bits", &GuestViommu::output_bits, &Caps::output_bits},
                      WidthCase{"width.asid_bits", &GuestViommu::asid_bits, &Caps::asid_bits},
                      WidthCase{"width.ssid_bits", &GuestViommu::ssid_bits, &Caps::ssid_bits}),
    rule_name<WidthCase>);

TEST(CheckWidth, HeterogeneousUnitsNameTheLimitingUnit) {
  Host h = simple_host();
  h.units[0].evidence["ssid_bits"] = "ecap.PSS=19, ecap.PASID=1, ecap.SMTS=1 -> 20 PASID bits";
  h.units.push_back(full_unit("dmar1"));
  h.units[1].caps.ssid_bits = 16;
  h.units[1].evidence["ssid_bits"] = "ecap.PSS=15, ecap.PASID=1, ecap.SMTS=1 -> 16 PASID bits";
  Guest g = simple_guest();
  g.viommu.ssid_bits = at(20, 5);
  Report r = check(g, h);
  auto f = of_rule(r, "width.ssid_bits");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0],
            (Finding{.rule = "width.ssid_bits",
                     .outcome = O::kFail,
                     .guest_key = "viommu.ssid_bits",
                     .pos = SourcePos{5, 1},
                     .unit = "dmar1",
                     .evidence = "dmar1: ecap.PSS=15, ecap.PASID=1, ecap.SMTS=1 -> 16 PASID bits",
                     .message = "guest needs 20 PASID bits but dmar1 supports 16",
                     .hint = "set ssid_bits = 16 or lower"}));
}

TEST(CheckWidth, AllUnitsPassingGiveOnePassNamingTheTightestUnit) {
  Host h = simple_host();
  h.units.push_back(full_unit("dmar1"));
  h.units[1].caps.input_bits = 39;
  Guest g = simple_guest();
  g.viommu.input_bits = at(39, 4);
  auto f = of_rule(check(g, h), "width.input_bits");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].outcome, O::kPass);
  EXPECT_EQ(f[0].unit, "dmar1");
  EXPECT_EQ(f[0].message, "guest needs 39 input bits, dmar1 supports 39");
  EXPECT_EQ(f[0].evidence, "dmar0: input_bits = 48; dmar1: input_bits = 39");
}

TEST(CheckWidth, SeveralFailingUnitsGiveOneFindingEach) {
  Host h = simple_host();
  h.units.push_back(full_unit("dmar1"));
  h.units.push_back(full_unit("dmar2"));
  h.units[1].caps.asid_bits = 8;
  h.units[2].caps.asid_bits = 12;
  Guest g = simple_guest();
  g.viommu.asid_bits = at(16, 6);
  auto f = of_rule(check(g, h), "width.asid_bits");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].unit, "dmar1");
  EXPECT_EQ(f[1].unit, "dmar2");
  EXPECT_EQ(f[0].hint, "set asid_bits = 8 or lower");
  EXPECT_EQ(f[1].hint, "set asid_bits = 8 or lower");  // fixes every unit at once
}

TEST(CheckWidth, PcieLimitsPasidBits) {
  Host h = simple_host();
  h.units[0].caps.ssid_bits = 24;  // a generic-layout unit claiming more than PCIe carries
  Guest g = simple_guest();
  g.viommu.ssid_bits = at(20, 5);
  EXPECT_EQ(outcomes(check(g, h), "width.pcie_pasid_limit"), kPass);
  g.viommu.ssid_bits = at(24, 5);
  Report r = check(g, h);
  auto f = of_rule(r, "width.pcie_pasid_limit");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].outcome, O::kFail);
  EXPECT_EQ(f[0].message, "guest needs 24 PASID bits but PCIe allows at most 20");
  EXPECT_EQ(f[0].hint, "set ssid_bits = 20 or lower");
  EXPECT_EQ(outcomes(r, "width.ssid_bits"), kPass);  // the unit itself would allow it
  g.viommu.ssid_bits = std::nullopt;
  g.pasid_table = intel_table();
  g.pasid_table->pasid_bits = at(21, 25);
  auto t = of_rule(check(g, h), "width.pcie_pasid_limit");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].guest_key, "pasid_table.pasid_bits");
  EXPECT_EQ(t[0].outcome, O::kFail);
}

TEST(CheckWidth, NoPasidWantedNoFinding) {
  Guest g = simple_guest();
  g.viommu.ssid_bits = at(0, 5);
  Report r = check(g, simple_host());
  EXPECT_EQ(outcomes(r, "width.ssid_bits"), kNone);
  EXPECT_EQ(outcomes(r, "width.pcie_pasid_limit"), kNone);
}

// ---------------------------------------------------------------------------------------------
// feature.*

TEST(CheckFeature, HttuIsOrdered) {
  Host h = simple_host();
  h.units[0].caps.httu = Httu::kAccess;
  Guest g = simple_guest();
  g.viommu.httu = at(Httu::kAccess, 7);
  EXPECT_EQ(outcomes(check(g, h), "feature.httu"), kPass);
  g.viommu.httu = at(Httu::kAccessDirty, 7);
  auto f = of_rule(check(g, h), "feature.httu");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].outcome, O::kFail);
  EXPECT_EQ(f[0].message, "guest needs httu access+dirty but dmar0 has access");
  EXPECT_EQ(f[0].hint, "set httu = \"access\"");
  h.units[0].caps.httu = std::nullopt;
  Report r = check(g, h);
  EXPECT_EQ(outcomes(r, "feature.httu"), kUnknown);
  EXPECT_EQ(r.verdict, Verdict::kUndecided);
}

TEST(CheckFeature, Stall) {
  Host h = simple_host();
  Guest g = simple_guest(std::string(kModelArmSmmuV3));
  auto run = [&](Stall guest, std::optional<Stall> host) {
    h.units[0].caps.stall = host;
    g.viommu.stall = at(guest, 8);
    return outcomes(check(g, h), "feature.stall");
  };
  EXPECT_EQ(run(Stall::kDisabled, Stall::kEnabled), kPass);
  EXPECT_EQ(run(Stall::kEnabled, Stall::kEnabled), kPass);
  EXPECT_EQ(run(Stall::kForce, Stall::kForce), kPass);
  EXPECT_EQ(run(Stall::kEnabled, Stall::kForce), kPass);
  EXPECT_EQ(run(Stall::kDisabled, Stall::kForce), kFail);
  EXPECT_EQ(run(Stall::kEnabled, Stall::kDisabled), kFail);
  EXPECT_EQ(run(Stall::kForce, Stall::kDisabled), kFail);
  EXPECT_EQ(run(Stall::kDisabled, std::nullopt), kUnknown);
  EXPECT_EQ(run(Stall::kEnabled, std::nullopt), kUnknown);
  // The intel-iommu layout has no stall model at all: disabling stall cannot conflict.
  h.units[0].layout = Layout::kIntelIommu;
  EXPECT_EQ(run(Stall::kDisabled, std::nullopt), kPass);
  EXPECT_EQ(run(Stall::kEnabled, std::nullopt), kUnknown);
  EXPECT_EQ(of_rule(check(g, h), "feature.stall")[0].outcome, Outcome::kUnknown);
  h.units[0].layout = Layout::kGeneric;
  h.units[0].caps.stall = Stall::kForce;
  g.viommu.stall = at(Stall::kDisabled, 8);
  auto f = of_rule(check(g, h), "feature.stall");
  EXPECT_EQ(f[0].message, "guest disables stall but dmar0 forces it");
  EXPECT_EQ(f[0].hint, "set stall = \"enabled\"");
}

struct BoolCase {
  std::string rule;
  std::optional<Located<bool>> GuestViommu::*guest;
  std::optional<bool> Caps::*host;
};

class CheckBoolFeature : public ::testing::TestWithParam<BoolCase> {};

TEST_P(CheckBoolFeature, PassFailUnknown) {
  const BoolCase& c = GetParam();
  Host h = simple_host();
  Guest g = simple_guest();
  g.viommu.*c.guest = at(false, 9);
  EXPECT_EQ(outcomes(check(g, h), c.rule), kNone);  // not asked for, nothing to check
  g.viommu.*c.guest = at(true, 9);
  h.units[0].caps.*c.host = true;
  EXPECT_EQ(outcomes(check(g, h), c.rule), kPass);
  h.units[0].caps.*c.host = false;
  Report fail = check(g, h);
  EXPECT_EQ(outcomes(fail, c.rule), kFail);
  EXPECT_EQ(fail.verdict, Verdict::kIncompatible);
  h.units[0].caps.*c.host = std::nullopt;
  Report unknown = check(g, h);
  EXPECT_EQ(outcomes(unknown, c.rule), kUnknown);
  EXPECT_NE(unknown.verdict, Verdict::kCompatible);
}

INSTANTIATE_TEST_SUITE_P(
    Check, CheckBoolFeature,
    ::testing::Values(
        BoolCase{"feature.btm", &GuestViommu::btm, &Caps::btm},
        BoolCase{"feature.nested", &GuestViommu::nested, &Caps::nested},
        BoolCase{"feature.ats", &GuestViommu::ats, &Caps::ats},
        BoolCase{"feature.page_requests", &GuestViommu::page_requests, &Caps::page_requests},
        BoolCase{"feature.dirty_tracking", &GuestViommu::dirty_tracking, &Caps::dirty_tracking}),
    rule_name<BoolCase>);

TEST(CheckFeature, NestedFailureSaysWhatToTurnOff) {
  Host h = simple_host();
  h.units[0].caps.nested = false;
  h.units[0].evidence["nested"] = "ecap.SMTS=1, ecap.NEST=0";
  Guest g = simple_guest();
  g.viommu.nested = at(true, 9);
  auto f = of_rule(check(g, h), "feature.nested");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].message, "guest needs nested translation but dmar0 does not support it");
  EXPECT_EQ(f[0].hint, "set nested = false");
  EXPECT_EQ(f[0].evidence, "dmar0: ecap.SMTS=1, ecap.NEST=0");
  EXPECT_EQ(f[0].unit, "dmar0");
}

TEST(CheckFeature, PgtableFormat) {
  Host h = simple_host();
  Guest g = simple_guest();
  g.viommu.pgtable_format = at<std::string>("vtd-fs-48", 10);
  EXPECT_EQ(outcomes(check(g, h), "feature.pgtable_format"), kPass);
  g.viommu.pgtable_format = at<std::string>("lpae-64", 10);
  auto f = of_rule(check(g, h), "feature.pgtable_format");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].outcome, O::kFail);
  EXPECT_EQ(f[0].message,
            "guest builds lpae-64 page tables but dmar0 supports vtd-ss-39, vtd-ss-48, vtd-fs-48");
  EXPECT_EQ(f[0].hint, "set pgtable_format to one of vtd-ss-39, vtd-ss-48, vtd-fs-48");
  h.units[0].caps.pgtable_formats = std::nullopt;
  EXPECT_EQ(outcomes(check(g, h), "feature.pgtable_format"), kUnknown);
}

// ---------------------------------------------------------------------------------------------
// pasid_table.*

TEST(CheckPasidTable, GoodTableIsCompatible) {
  Guest g = simple_guest();
  g.pasid_table = intel_table();
  Report r = check(g, simple_host());
  EXPECT_EQ(r.verdict, Verdict::kCompatible);
  for (std::string_view rule : {"pasid_table.version", "pasid_table.bytes", "pasid_table.model",
                                "pasid_table.base_ptr", "pasid_table.pasid_bits"}) {
    EXPECT_EQ(outcomes(r, rule), kPass) << rule;
  }
  EXPECT_EQ(outcomes(r, "pasid_table.s1dss"), kNone);
}

TEST(CheckPasidTable, VersionAndBytes) {
  Guest g = simple_guest();
  g.pasid_table = intel_table();
  g.pasid_table->version = at<uint64_t>(2, 21);
  g.pasid_table->bytes = at<uint64_t>(24, 22);
  Report r = check(g, simple_host());
  auto v = of_rule(r, "pasid_table.version");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].outcome, O::kFail);
  EXPECT_EQ(v[0].hint, "set version = 1");
  auto b = of_rule(r, "pasid_table.bytes");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].outcome, O::kFail);
  EXPECT_EQ(b[0].message, "pasid_table bytes = 24 but version 1 is 32 bytes");
  EXPECT_EQ(b[0].hint, "set bytes = 32");
  EXPECT_EQ(b[0].pos, (SourcePos{22, 1}));
}

TEST(CheckPasidTable, ModelFitsTheUnit) {
  Guest g = simple_guest();
  g.pasid_table = intel_table();
  Host h = simple_host();
  g.pasid_table->model = at(PasidTableModel::kAmd, 23);
  auto f = of_rule(check(g, h), "pasid_table.model");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].outcome, O::kFail);
  EXPECT_EQ(f[0].message,
            "pasid_table model amd needs the unit to be amd-vi but dmar0 is intel-vtd");
  EXPECT_EQ(f[0].hint, "set model = \"intel\" or \"host\"");
  g.pasid_table->model = at(PasidTableModel::kHost, 23);
  EXPECT_EQ(outcomes(check(g, h), "pasid_table.model"), kPass);
  g.pasid_table->model = at(PasidTableModel::kIntel, 23);
  h.units[0].model = std::string(kModelUnknown);
  EXPECT_EQ(outcomes(check(g, h), "pasid_table.model"), kUnknown);
}

TEST(CheckPasidTable, BasePtr) {
  Guest g = simple_guest();
  g.pasid_table = intel_table();
  Host h = simple_host();
  h.units[0].caps.output_bits = 39;
  EXPECT_EQ(outcomes(check(g, h), "pasid_table.base_ptr"), kPass);

  g.pasid_table->base_ptr = at<uint64_t>(0, 24);
  auto zero = of_rule(check(g, h), "pasid_table.base_ptr");
  ASSERT_EQ(zero.size(), 1u);
  EXPECT_EQ(zero[0].outcome, O::kFail);
  EXPECT_EQ(zero[0].message, "pasid_table base_ptr is 0");

  g.pasid_table->base_ptr = at<uint64_t>(0x7f000040, 24);
  auto misaligned = of_rule(check(g, h), "pasid_table.base_ptr");
  ASSERT_EQ(misaligned.size(), 1u);
  EXPECT_EQ(misaligned[0].outcome, O::kFail);
  EXPECT_EQ(misaligned[0].message,
            "base_ptr 0x7f000040 is not aligned to 4096 bytes (intel tables)");
  EXPECT_EQ(misaligned[0].hint, "set base_ptr = 0x7f000000 or another 4096-byte aligned address");

  g.pasid_table->base_ptr = at<uint64_t>(0x10000000000, 24);  // 2^40, beyond 39 bits
  auto beyond = of_rule(check(g, h), "pasid_table.base_ptr");
  ASSERT_EQ(beyond.size(), 1u);
  EXPECT_EQ(beyond[0].outcome, O::kFail);
  EXPECT_EQ(beyond[0].message,
            "base_ptr 0x10000000000 needs 41 address bits but dmar0 has 39 output bits");
  EXPECT_EQ(beyond[0].hint, "place the table below 0x8000000000");

  g.pasid_table->base_ptr = at<uint64_t>(0x7f000000, 24);
  h.units[0].caps.output_bits = std::nullopt;  // lost from a layout that can carry it
  Report unknown = check(g, h);
  EXPECT_EQ(outcomes(unknown, "pasid_table.base_ptr"), kUnknown);
  EXPECT_EQ(unknown.verdict, Verdict::kUndecided);

  // The intel-iommu layout never has an output width: the second stage's input width
  // (input_bits, 48 here) bounds the guest-physical table address instead.
  h.units[0].layout = Layout::kIntelIommu;
  h.units[0].evidence["input_bits"] = "cap.MGAW=47, cap.SAGAW=0x4 -> 48";
  EXPECT_EQ(outcomes(check(g, h), "pasid_table.base_ptr"), kPass);
  h.units[0].caps.input_bits = 39;
  g.pasid_table->base_ptr = at<uint64_t>(0x10000000000, 24);
  auto by_input = of_rule(check(g, h), "pasid_table.base_ptr");
  ASSERT_EQ(by_input.size(), 1u);
  EXPECT_EQ(by_input[0].outcome, O::kFail);
  EXPECT_EQ(by_input[0].message,
            "base_ptr 0x10000000000 needs 41 address bits but dmar0 has 39 input bits");
  h.units[0].caps.input_bits = std::nullopt;
  EXPECT_EQ(outcomes(check(g, h), "pasid_table.base_ptr"), kUnknown);
}

TEST(CheckPasidTable, ArmTablesAre64ByteAligned) {
  Host h = simple_host();
  h.units[0] = full_unit("smmu3.0x0000000009050000", kModelArmSmmuV3);
  Guest g = simple_guest(std::string(kModelArmSmmuV3));
  g.pasid_table = intel_table();
  g.pasid_table->model = at(PasidTableModel::kArm2Lvl, 23);
  g.pasid_table->base_ptr = at<uint64_t>(0x7f000040, 24);
  EXPECT_EQ(outcomes(check(g, h), "pasid_table.base_ptr"), kPass);
  g.pasid_table->base_ptr = at<uint64_t>(0x7f000020, 24);
  EXPECT_EQ(outcomes(check(g, h), "pasid_table.base_ptr"), kFail);
  // A host table takes the unit's rule.
  g.pasid_table->model = at(PasidTableModel::kHost, 23);
  EXPECT_EQ(outcomes(check(g, h), "pasid_table.base_ptr"), kFail);
  g.pasid_table->base_ptr = at<uint64_t>(0x7f000040, 24);
  EXPECT_EQ(outcomes(check(g, h), "pasid_table.base_ptr"), kPass);
  h.units[0].model = std::string(kModelUnknown);
  EXPECT_EQ(outcomes(check(g, h), "pasid_table.base_ptr"), kUnknown);
}

TEST(CheckPasidTable, PasidBits) {
  Host h = simple_host();
  h.units[0].caps.ssid_bits = 16;
  Guest g = simple_guest();
  g.pasid_table = intel_table();
  g.pasid_table->pasid_bits = at(16, 25);
  EXPECT_EQ(outcomes(check(g, h), "pasid_table.pasid_bits"), kPass);
  g.pasid_table->pasid_bits = at(18, 25);
  auto f = of_rule(check(g, h), "pasid_table.pasid_bits");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].outcome, O::kFail);
  EXPECT_EQ(f[0].message, "pasid_table needs 18 PASID bits but dmar0 supports 16");
  EXPECT_EQ(f[0].hint, "set pasid_bits = 16 or lower");
  g.pasid_table->pasid_bits = at(0, 25);
  EXPECT_EQ(outcomes(check(g, h), "pasid_table.pasid_bits"), kFail);
  g.pasid_table->pasid_bits = at(16, 25);
  h.units[0].caps.ssid_bits = std::nullopt;
  EXPECT_EQ(outcomes(check(g, h), "pasid_table.pasid_bits"), kUnknown);
}

TEST(CheckPasidTable, S1dssOnlyForArm) {
  Host h = simple_host();
  Guest g = simple_guest();
  g.pasid_table = intel_table();
  g.pasid_table->s1dss = at(S1dss::kBypass, 26);
  auto f = of_rule(check(g, h), "pasid_table.s1dss");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].outcome, O::kFail);
  EXPECT_EQ(f[0].message, "s1dss applies only to arm-1lvl and arm-2lvl tables, not intel");
  EXPECT_EQ(f[0].hint, "remove s1dss");
  g.pasid_table->model = at(PasidTableModel::kArm1Lvl, 23);
  EXPECT_EQ(outcomes(check(g, h), "pasid_table.s1dss"), kPass);
  // A host table is an SMMUv3 table only on an SMMUv3 unit; an unknown unit cannot tell.
  g.pasid_table->model = at(PasidTableModel::kHost, 23);
  EXPECT_EQ(outcomes(check(g, h), "pasid_table.s1dss"), kFail);
  h.units[0].model = std::string(kModelArmSmmuV3);
  EXPECT_EQ(outcomes(check(g, h), "pasid_table.s1dss"), kPass);
  h.units[0].model = std::string(kModelUnknown);
  EXPECT_EQ(outcomes(check(g, h), "pasid_table.s1dss"), kUnknown);
}

// ---------------------------------------------------------------------------------------------
// pasid_alloc.*

TEST(CheckPasidAlloc, GoodRangeIsCompatible) {
  Guest g = simple_guest();
  g.viommu.ssid_bits = at(20, 5);
  g.pasid_alloc = alloc(1, 1023, 64);
  Report r = check(g, simple_host());
  EXPECT_EQ(r.verdict, Verdict::kCompatible);
  for (std::string_view rule : {"pasid_alloc.range", "pasid_alloc.count", "pasid_alloc.quota",
                                "pasid_alloc.reserved_pasid0"}) {
    EXPECT_EQ(outcomes(r, rule), kPass) << rule;
  }
}

TEST(CheckPasidAlloc, RangeStopsAtTheEffectiveWidth) {
  Host h = simple_host();
  h.units[0].caps.ssid_bits = 16;
  Guest g = simple_guest();
  g.pasid_alloc = alloc(1, 70000, 64);
  auto f = of_rule(check(g, h), "pasid_alloc.range");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].outcome, O::kFail);
  EXPECT_EQ(f[0].unit, "dmar0");
  EXPECT_EQ(f[0].message, "pasid_alloc max 70000 needs 17 PASID bits but dmar0 supports 16");
  EXPECT_EQ(f[0].hint, "set max = 65535 or lower");
  // The guest's own width limits too.
  g.pasid_alloc = alloc(1, 1023, 64);
  g.viommu.ssid_bits = at(8, 5);
  auto own = of_rule(check(g, h), "pasid_alloc.range");
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0].message, "pasid_alloc max 1023 needs 10 PASID bits but viommu.ssid_bits is 8");
  EXPECT_EQ(own[0].hint, "set max = 255 or lower");
  // min above max.
  g.viommu.ssid_bits = std::nullopt;
  g.pasid_alloc = alloc(100, 50, 10);
  EXPECT_EQ(outcomes(check(g, h), "pasid_alloc.range"), kFail);
  // Unknown host width.
  g.pasid_alloc = alloc(1, 1023, 64);
  h.units[0].caps.ssid_bits = std::nullopt;
  Report unknown = check(g, h);
  EXPECT_EQ(outcomes(unknown, "pasid_alloc.range"), kUnknown);
  EXPECT_EQ(unknown.verdict, Verdict::kUndecided);
}

TEST(CheckPasidAlloc, CountAndQuota) {
  Guest g = simple_guest();
  g.pasid_alloc = alloc(1, 100, 200, 150);
  Report r = check(g, simple_host());
  auto count = of_rule(r, "pasid_alloc.count");
  ASSERT_EQ(count.size(), 1u);
  EXPECT_EQ(count[0].outcome, O::kFail);
  EXPECT_EQ(count[0].message, "pasid_alloc count 200 exceeds the 100 PASIDs in 1..100");
  auto quota = of_rule(r, "pasid_alloc.quota");
  ASSERT_EQ(quota.size(), 1u);
  EXPECT_EQ(quota[0].outcome, O::kFail);
  EXPECT_EQ(quota[0].message, "pasid_alloc count 200 exceeds the per-VM quota of 150");
  EXPECT_EQ(quota[0].hint, "set count = 150 or lower, or raise quota");
}

TEST(CheckPasidAlloc, PasidZeroIsReserved) {
  Guest g = simple_guest();
  g.pasid_alloc = alloc(0, 1023, 64);
  auto f = of_rule(check(g, simple_host()), "pasid_alloc.reserved_pasid0");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0],
            (Finding{.rule = "pasid_alloc.reserved_pasid0",
                     .outcome = O::kFail,
                     .guest_key = "pasid_alloc.min",
                     .pos = SourcePos{31, 1},
                     .unit = "",  // a guest-side rule: no unit
                     .evidence = "PASID 0 is reserved (RID_PASID on VT-d)",
                     .message = "pasid_alloc min = 0 but PASID 0 is reserved (RID_PASID on VT-d)",
                     .hint = "set min = 1"}));
}

// ---------------------------------------------------------------------------------------------
// device.*

Guest guest_with_devices(std::vector<std::string> bdfs) {
  Guest g = simple_guest();
  int line = 40;
  for (std::string& bdf : bdfs) g.devices.push_back({at(std::move(bdf), line++)});
  return g;
}

TEST(CheckDevice, Exists) {
  Report ok = check(guest_with_devices({"0000:3b:00.0"}), simple_host());
  EXPECT_EQ(outcomes(ok, "device.exists"), kPass);
  Report r = check(guest_with_devices({"0000:3b:00.0", "0000:99:00.0"}), simple_host());
  auto f = of_rule(r, "device.exists");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1].outcome, O::kFail);
  EXPECT_EQ(f[1].guest_key, "device[1].bdf");
  EXPECT_EQ(f[1].pos, (SourcePos{41, 1}));
  EXPECT_EQ(f[1].message, "device 0000:99:00.0 does not exist on this host");
}

TEST(CheckDevice, AssignableOnlyWhenANormalFunction) {
  Host h = simple_host();
  Guest g = guest_with_devices({"0000:3b:00.0"});
  EXPECT_EQ(outcomes(check(g, h), "device.assignable"), kPass);
  h.devices[0].pci->header_type = 1;
  auto f = of_rule(check(g, h), "device.assignable");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0], (Finding{.rule = "device.assignable",
                           .outcome = O::kFail,
                           .guest_key = "device[0].bdf",
                           .pos = SourcePos{40, 1},
                           .unit = "dmar0",
                           .evidence = "0000:3b:00.0: config header type = 1",
                           .message = "0000:3b:00.0 is a PCI-to-PCI bridge: vfio-pci binds only "
                                      "normal functions (header type 0)",
                           .hint = "assign the devices behind 0000:3b:00.0 instead"}));
  h.devices[0].pci->header_type = 2;
  EXPECT_EQ(outcomes(check(g, h), "device.assignable"), kFail);
  h.devices[0].pci.reset();  // config not read
  EXPECT_EQ(outcomes(check(g, h), "device.assignable"), kUnknown);
  EXPECT_EQ(check(g, h).verdict, Verdict::kUndecided);
}

TEST(CheckDevice, Iommu) {
  Host h = simple_host();
  Guest g = guest_with_devices({"0000:3b:00.0"});
  EXPECT_EQ(outcomes(check(g, h), "device.iommu"), kPass);
  h.devices[0].unit = "dmar7";  // a unit the report does not describe
  EXPECT_EQ(outcomes(check(g, h), "device.iommu"), kUnknown);
  h.devices[0].unit = std::nullopt;
  EXPECT_EQ(outcomes(check(g, h), "device.iommu"), kFail);
  // The hint names only what the kernels accept: the AMD driver has no amd_iommu=on (issue 8
  // item 11; parse_amd_iommu_options in drivers/iommu/amd/init.c ignores it).
  auto f = of_rule(check(g, h), "device.iommu");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].hint,
            "enable the IOMMU for it (in firmware; on the kernel command line intel_iommu=on for "
            "VT-d, and no amd_iommu=off or iommu=off) or assign another device");
}

TEST(CheckDevice, Group) {
  Host h = simple_host();
  Guest g = guest_with_devices({"0000:3b:00.0"});
  EXPECT_EQ(outcomes(check(g, h), "device.group"), kPass);
  h.devices[0].group = 99;  // a group the report does not describe
  EXPECT_EQ(outcomes(check(g, h), "device.group"), kUnknown);
  h.devices[0].group = std::nullopt;
  EXPECT_EQ(outcomes(check(g, h), "device.group"), kFail);
}

/// Group 12 holds the assigned NIC 0000:3b:00.0 and a sibling function.
Host host_with_sibling(std::optional<std::string> driver, uint8_t header_type = 0) {
  Host h = simple_host();
  PciInfo pci = endpoint_pci();
  pci.header_type = header_type;
  h.devices.push_back(make_device("0000:3b:00.1", "dmar0", 12, std::move(driver), pci));
  h.groups[0].devices.push_back("0000:3b:00.1");
  return h;
}

// The kernel rule (see check_rules.cc): since 5.19 VFIO claims DMA ownership of the group
// (iommu_group_claim_dma_owner() in drivers/iommu/iommu.c), which fails while any member is
// bound to a driver without driver_managed_dma; before 5.19 vfio_dev_viable() in
// drivers/vfio/vfio.c allowed driver-less members, vfio drivers, pci-stub and bridges.
TEST(CheckGroupViable, BoundSiblingFails) {
  Report r = check(guest_with_devices({"0000:3b:00.0"}), host_with_sibling("ixgbe"));
  auto f = of_rule(r, "device.group_viable");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0], (Finding{.rule = "device.group_viable",
                           .outcome = O::kFail,
                           .guest_key = "device[0].bdf",
                           .pos = SourcePos{40, 1},
                           .unit = "dmar0",
                           .evidence = "group 12: 0000:3b:00.0 (vfio-pci), 0000:3b:00.1 (ixgbe)",
                           .message = "group 12 is not viable: 0000:3b:00.1 is bound to ixgbe",
                           .hint = "bind 0000:3b:00.1 to vfio-pci or unbind it from ixgbe"}));
  EXPECT_EQ(r.verdict, Verdict::kIncompatible);
}

TEST(CheckGroupViable, AssignedSiblingPasses) {
  Report r =
      check(guest_with_devices({"0000:3b:00.0", "0000:3b:00.1"}), host_with_sibling("vfio-pci"));
  EXPECT_EQ(outcomes(r, "device.group_viable"), kPass);  // once per group
  // Assigned counts even while the sibling is still bound to its host driver: the VMM rebinds
  // assigned devices, and the rule only asks about the members it will not own.
  Report bound =
      check(guest_with_devices({"0000:3b:00.0", "0000:3b:00.1"}), host_with_sibling("ixgbe"));
  EXPECT_EQ(outcomes(bound, "device.group_viable"), kPass);
}

TEST(CheckGroupViable, UnboundSiblingPasses) {
  Report r = check(guest_with_devices({"0000:3b:00.0"}), host_with_sibling(std::nullopt));
  EXPECT_EQ(outcomes(r, "device.group_viable"), kPass);
}

TEST(CheckGroupViable, DmaOwnerSafeDriversPass) {
  // pcieport (portdrv.c) and pci-stub (pci-stub.c) set driver_managed_dma since 5.19; a bridge
  // was also allowed by vfio_dev_driver_allowed() before that.
  for (const char* driver : {"pcieport", "pci-stub", "vfio-pci", "mlx5_vfio_pci"}) {
    const uint8_t header = std::string_view(driver) == "pcieport" ? 1 : 0;
    Report r = check(guest_with_devices({"0000:3b:00.0"}), host_with_sibling(driver, header));
    EXPECT_EQ(outcomes(r, "device.group_viable"), kPass) << driver;
  }
}

TEST(CheckGroupViable, BridgeOnOtherDriverDependsOnTheKernel) {
  // No kernel release in the tree: the rule that applies is not known.
  Host h = host_with_sibling("shpchp", 1);
  Report r = check(guest_with_devices({"0000:3b:00.0"}), h);
  auto unknown = of_rule(r, "device.group_viable");
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0].outcome, O::kUnknown);
  EXPECT_EQ(unknown[0].message,
            "bridge 0000:3b:00.1 in group 12 is bound to shpchp: viable before linux 5.19, not "
            "after unless shpchp sets driver_managed_dma, and the kernel release is unknown (no "
            "proc/sys/kernel/osrelease)");
  EXPECT_EQ(r.verdict, Verdict::kUndecided);
}

TEST(CheckGroupViable, KernelReleaseDecidesABridgeOnShpchp) {
  // Debian 12's 6.1 under QEMU: VFIO_GROUP_GET_STATUS says not viable with the
  // pcie-pci-bridge on shpchp, which sets no driver_managed_dma.
  Host h = host_with_sibling("shpchp", 1);
  h.platform.kernel_release = "6.1.0-18-amd64";
  Report r = check(guest_with_devices({"0000:3b:00.0"}), h);
  auto f = of_rule(r, "device.group_viable");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0], (Finding{.rule = "device.group_viable",
                           .outcome = O::kFail,
                           .guest_key = "device[0].bdf",
                           .pos = SourcePos{40, 1},
                           .unit = "dmar0",
                           .evidence = "group 12: 0000:3b:00.0 (vfio-pci), 0000:3b:00.1 "
                                       "(shpchp); kernel release 6.1.0-18-amd64",
                           .message = "group 12 is not viable: bridge 0000:3b:00.1 is bound to "
                                      "shpchp, which does not set driver_managed_dma, and linux "
                                      "6.1.0-18-amd64 (5.19 or later) requires that of every "
                                      "bound member",
                           .hint = "unbind 0000:3b:00.1 from shpchp"}));
  EXPECT_EQ(r.verdict, Verdict::kIncompatible);
  h.platform.kernel_release = "5.19.0";
  EXPECT_EQ(outcomes(check(guest_with_devices({"0000:3b:00.0"}), h), "device.group_viable"), kFail);

  // Before 5.19 vfio_dev_driver_allowed() let a bridge keep any driver.
  h.platform.kernel_release = "5.10.0-28-amd64";
  auto old = of_rule(check(guest_with_devices({"0000:3b:00.0"}), h), "device.group_viable");
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].outcome, O::kPass);
  EXPECT_EQ(old[0].message,
            "group 12 is viable: every other member is assigned, unbound, DMA-owner-safe or a "
            "bridge, which linux 5.10.0-28-amd64 (before 5.19) lets keep its driver");
  EXPECT_EQ(old[0].evidence,
            "group 12: 0000:3b:00.0 (vfio-pci), 0000:3b:00.1 (shpchp); kernel release "
            "5.10.0-28-amd64");

  // An endpoint on a host driver is not viable whatever the release.
  Host endpoint = host_with_sibling("ixgbe");
  endpoint.platform.kernel_release = "5.10.0-28-amd64";
  EXPECT_EQ(outcomes(check(guest_with_devices({"0000:3b:00.0"}), endpoint), "device.group_viable"),
            kFail);

  // Vendor kernels may carry the 5.19 rule back; an unparsable release tells nothing.
  for (const char* release : {"5.14.0-362.8.1.el9_3.x86_64", "unknown", ""}) {
    h.platform.kernel_release = release;
    Report undecided = check(guest_with_devices({"0000:3b:00.0"}), h);
    EXPECT_EQ(outcomes(undecided, "device.group_viable"), kUnknown) << release;
    EXPECT_EQ(undecided.verdict, Verdict::kUndecided) << release;
  }
}

TEST(CheckGroupViable, UndescribedMemberIsUnknown) {
  Host h = simple_host();
  h.groups[0].devices.push_back("0000:3b:00.2");
  Report r = check(guest_with_devices({"0000:3b:00.0"}), h);
  EXPECT_EQ(outcomes(r, "device.group_viable"), kUnknown);
}

TEST(CheckGroupViable, UnreadableSiblingDriverIsUnknownNotUnbound) {
  Host h = host_with_sibling(std::nullopt);
  h.devices.back().driver_known = false;
  Report r = check(guest_with_devices({"0000:3b:00.0"}), h);
  auto f = of_rule(r, "device.group_viable");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].outcome, O::kUnknown);
  EXPECT_EQ(f[0].message, "the driver of group 12 member 0000:3b:00.1 could not be read");
  EXPECT_EQ(f[0].evidence, "group 12: 0000:3b:00.0 (vfio-pci), 0000:3b:00.1 (driver unknown)");
  EXPECT_EQ(r.verdict, Verdict::kUndecided);
}

TEST(CheckGroupViable, UnlistedGroupIsUnknown) {
  Host h = simple_host();
  h.groups[0].devices_known = false;  // devices/ could not be listed: members may be missing
  Report r = check(guest_with_devices({"0000:3b:00.0"}), h);
  auto f = of_rule(r, "device.group_viable");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].outcome, O::kUnknown);
  EXPECT_EQ(f[0].message, "the members of group 12 could not be read");
}

TEST(CheckDevice, Pasid) {
  Host h = simple_host();
  h.devices[0].pci = endpoint_pci(16);
  Guest g = guest_with_devices({"0000:3b:00.0"});
  g.viommu.ssid_bits = at(16, 5);
  EXPECT_EQ(outcomes(check(g, h), "device.pasid"), kPass);
  g.viommu.ssid_bits = at(20, 5);
  auto f = of_rule(check(g, h), "device.pasid");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].outcome, O::kFail);
  EXPECT_EQ(f[0].message, "guest needs 20 PASID bits but 0000:3b:00.0 supports 16");
  EXPECT_EQ(f[0].hint, "set ssid_bits = 16 or lower");
  EXPECT_EQ(f[0].evidence, "0000:3b:00.0: PASID capability Max PASID Width = 16");
  h.devices[0].pci->pasid = std::optional<PasidCapability>();  // capability absent
  auto absent = of_rule(check(g, h), "device.pasid");
  ASSERT_EQ(absent.size(), 1u);
  EXPECT_EQ(absent[0].outcome, O::kFail);
  EXPECT_EQ(absent[0].message,
            "guest needs 20 PASID bits but 0000:3b:00.0 has no PASID capability");
  h.devices[0].pci->pasid = std::nullopt;  // extended config space unreadable
  EXPECT_EQ(outcomes(check(g, h), "device.pasid"), kUnknown);
  h.devices[0].pci = std::nullopt;
  EXPECT_EQ(outcomes(check(g, h), "device.pasid"), kUnknown);
  g.viommu.ssid_bits = std::nullopt;  // not needed: unknown does not matter
  EXPECT_EQ(outcomes(check(g, h), "device.pasid"), kNone);
}

struct DeviceCapCase {
  std::string rule;
  std::optional<Located<bool>> GuestViommu::*guest;
  std::optional<bool> PciInfo::*device;
};

class CheckDeviceCap : public ::testing::TestWithParam<DeviceCapCase> {};

TEST_P(CheckDeviceCap, PassFailUnknown) {
  const DeviceCapCase& c = GetParam();
  Host h = simple_host();
  Guest g = guest_with_devices({"0000:3b:00.0"});
  (*h.devices[0].pci).*c.device = std::nullopt;
  EXPECT_EQ(outcomes(check(g, h), c.rule), kNone);  // not asked for
  g.viommu.*c.guest = at(true, 11);
  (*h.devices[0].pci).*c.device = true;
  EXPECT_EQ(outcomes(check(g, h), c.rule), kPass);
  (*h.devices[0].pci).*c.device = false;
  EXPECT_EQ(outcomes(check(g, h), c.rule), kFail);
  (*h.devices[0].pci).*c.device = std::nullopt;
  Report unknown = check(g, h);
  EXPECT_EQ(outcomes(unknown, c.rule), kUnknown);
  EXPECT_EQ(unknown.verdict, Verdict::kUndecided);
}

TEST(CheckDevice, ConventionalConfigMeansNoExtendedCapabilities) {
  // A 256-byte config read as root: the kernel has no extended configuration space for the
  // function, so a guest needing ATS, PRI or PASID there is incompatible, not undecided.
  Host h = simple_host();
  PciInfo& pci = *h.devices[0].pci;
  pci.config_size = 256;
  pci.ats = false;
  pci.pri = false;
  pci.pasid = std::optional<PasidCapability>();
  Guest g = guest_with_devices({"0000:3b:00.0"});
  g.viommu.ats = at(true, 11);
  g.viommu.ssid_bits = at(8, 5);
  Report r = check(g, h);
  auto ats = of_rule(r, "device.ats");
  ASSERT_EQ(ats.size(), 1u);
  EXPECT_EQ(ats[0].outcome, O::kFail);
  EXPECT_EQ(ats[0].evidence, "0000:3b:00.0: config is 256 bytes: no extended configuration space");
  auto pasid = of_rule(r, "device.pasid");
  ASSERT_EQ(pasid.size(), 1u);
  EXPECT_EQ(pasid[0].outcome, O::kFail);
  EXPECT_EQ(pasid[0].evidence,
            "0000:3b:00.0: config is 256 bytes: no extended configuration space");
  EXPECT_EQ(r.verdict, Verdict::kIncompatible);

  // A non-root read gets 64 bytes whatever the device has: unknown, and the evidence says why.
  pci.config_size = 64;
  pci.ats = std::nullopt;
  pci.pri = std::nullopt;
  pci.pasid = std::nullopt;
  auto unknown = of_rule(check(g, h), "device.ats");
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0].outcome, O::kUnknown);
  EXPECT_EQ(unknown[0].evidence,
            "0000:3b:00.0: config is 64 bytes: extended config space not readable");
}

INSTANTIATE_TEST_SUITE_P(
    Check, CheckDeviceCap,
    ::testing::Values(DeviceCapCase{"device.ats", &GuestViommu::ats, &PciInfo::ats},
                      DeviceCapCase{"device.pri", &GuestViommu::page_requests, &PciInfo::pri}),
    rule_name<DeviceCapCase>);

// ---------------------------------------------------------------------------------------------
// Property: an unknown host fact never turns an incompatible pair compatible.

/// Every way to forget one host fact (set it to unknown).
std::vector<std::function<void(Host&)>> forget_one_fact(const Host& host) {
  std::vector<std::function<void(Host&)>> out;
  for (size_t u = 0; u < host.units.size(); ++u) {
    out.push_back([u](Host& h) { h.units[u].caps.input_bits.reset(); });
    out.push_back([u](Host& h) { h.units[u].caps.output_bits.reset(); });
    out.push_back([u](Host& h) { h.units[u].caps.asid_bits.reset(); });
    out.push_back([u](Host& h) { h.units[u].caps.ssid_bits.reset(); });
    out.push_back([u](Host& h) { h.units[u].caps.httu.reset(); });
    out.push_back([u](Host& h) { h.units[u].caps.stall.reset(); });
    out.push_back([u](Host& h) { h.units[u].caps.btm.reset(); });
    out.push_back([u](Host& h) { h.units[u].caps.pgtable_formats.reset(); });
    out.push_back([u](Host& h) { h.units[u].caps.nested.reset(); });
    out.push_back([u](Host& h) { h.units[u].caps.ats.reset(); });
    out.push_back([u](Host& h) { h.units[u].caps.page_requests.reset(); });
    out.push_back([u](Host& h) { h.units[u].caps.dirty_tracking.reset(); });
    out.push_back([u](Host& h) { h.units[u].caps.scalable_mode.reset(); });
    out.push_back([u](Host& h) { h.units[u].model = std::string(kModelUnknown); });
  }
  for (size_t d = 0; d < host.devices.size(); ++d) {
    out.push_back([d](Host& h) { h.devices[d].pci.reset(); });
    out.push_back([d](Host& h) {
      if (h.devices[d].pci) h.devices[d].pci->pasid.reset();
    });
    out.push_back([d](Host& h) {
      if (h.devices[d].pci) h.devices[d].pci->ats.reset();
    });
    out.push_back([d](Host& h) {
      if (h.devices[d].pci) h.devices[d].pci->pri.reset();
    });
    out.push_back([d](Host& h) {
      if (h.devices[d].pci) h.devices[d].pci->config_size = 0;
    });
  }
  out.push_back([](Host& h) { h.platform.kernel_release.reset(); });
  return out;
}

std::vector<std::pair<std::string, std::pair<Guest, Host>>> incompatible_pairs() {
  std::vector<std::pair<std::string, std::pair<Guest, Host>>> out;
  auto add = [&](std::string name, const std::function<void(Guest&, Host&)>& edit) {
    Guest g = guest_with_devices({"0000:3b:00.0"});
    Host h = host_with_sibling(std::nullopt);
    h.units.push_back(full_unit("dmar1"));
    h.devices[1].unit = "dmar1";
    edit(g, h);
    out.emplace_back(std::move(name), std::make_pair(std::move(g), std::move(h)));
  };
  add("ssid_bits", [](Guest& g, Host& h) {
    g.viommu.ssid_bits = at(20, 5);
    h.units[0].caps.ssid_bits = 16;
  });
  add("input_bits", [](Guest& g, Host& h) {
    g.viommu.input_bits = at(57, 4);
    (void)h;
  });
  add("nested_model", [](Guest& g, Host&) {
    g.viommu.model = at<std::string>("amd-vi", 2);
    g.viommu.nested = at(true, 9);
  });
  add("nested_feature", [](Guest& g, Host& h) {
    g.viommu.nested = at(true, 9);
    h.units[0].caps.nested = false;
  });
  add("httu", [](Guest& g, Host& h) {
    g.viommu.httu = at(Httu::kAccessDirty, 7);
    h.units[0].caps.httu = Httu::kNone;
  });
  add("stall", [](Guest& g, Host& h) {
    g.viommu.stall = at(Stall::kDisabled, 8);
    h.units[0].caps.stall = Stall::kForce;
  });
  add("pgtable", [](Guest& g, Host&) { g.viommu.pgtable_format = at<std::string>("lpae-64", 10); });
  add("dirty", [](Guest& g, Host& h) {
    g.viommu.dirty_tracking = at(true, 12);
    h.units[0].caps.dirty_tracking = false;
  });
  add("table_base", [](Guest& g, Host& h) {
    g.pasid_table = intel_table();
    g.pasid_table->base_ptr = at<uint64_t>(uint64_t{1} << 50, 24);
    (void)h;
  });
  add("table_bits", [](Guest& g, Host& h) {
    g.pasid_table = intel_table();
    h.units[0].caps.ssid_bits = 10;
  });
  add("alloc_range", [](Guest& g, Host& h) {
    g.pasid_alloc = alloc(1, 5000, 10);
    h.units[0].caps.ssid_bits = 12;
  });
  add("device_pasid", [](Guest& g, Host& h) {
    g.viommu.ssid_bits = at(20, 5);
    h.devices[0].pci = endpoint_pci(8);
  });
  add("device_ats", [](Guest& g, Host& h) {
    g.viommu.ats = at(true, 11);
    h.devices[0].pci->ats = false;
  });
  add("group", [](Guest&, Host& h) { h.devices[1].driver = "ixgbe"; });
  add("bridge_on_new_kernel", [](Guest&, Host& h) {
    h.devices[1].driver = "shpchp";
    h.devices[1].pci->header_type = 1;
    h.platform.kernel_release = "6.1.0-18-amd64";
  });
  add("conventional_ats", [](Guest& g, Host& h) {
    g.viommu.ats = at(true, 11);
    h.devices[0].pci->config_size = 256;
    h.devices[0].pci->ats = false;
  });
  return out;
}

TEST(CheckProperty, ForgettingAHostFactNeverMakesAPairCompatible) {
  for (const auto& [name, pair] : incompatible_pairs()) {
    const auto& [guest, host] = pair;
    ASSERT_EQ(check(guest, host).verdict, Verdict::kIncompatible) << name;
    const auto forgets = forget_one_fact(host);
    for (size_t i = 0; i < forgets.size(); ++i) {
      Host forgotten = host;
      forgets[i](forgotten);
      EXPECT_NE(check(guest, forgotten).verdict, Verdict::kCompatible)
          << name << ", forgetting fact #" << i;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// decide() and check() without passes

std::vector<std::string_view> rules_in(const std::bitset<kMaxRules>& bits) {
  std::vector<std::string_view> out;
  const std::span<const std::string_view> ids = rule_ids();
  for (size_t i = 0; i < ids.size(); ++i) {
    if (bits[i]) out.push_back(ids[i]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// posture.*

TEST(CheckPosture, InterruptRemappingPassesFailsWarnsAndIsUnknown) {
  Host h = simple_host();
  Guest g = guest_with_devices({"0000:3b:00.0"});
  EXPECT_EQ(outcomes(check(g, h), "posture.interrupt_remapping"), kPass);
  h.units[0].extra["interrupt_remapping"] = false;  // ecap.IR=0
  auto f = of_rule(check(g, h), "posture.interrupt_remapping");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0], (Finding{.rule = "posture.interrupt_remapping",
                           .outcome = O::kFail,
                           .guest_key = "device[0].bdf",
                           .pos = SourcePos{40, 1},
                           .unit = "dmar0",
                           .evidence = "dmar0: ecap.IR=0",
                           .message = "dmar0 does not remap interrupts: VFIO refuses to assign "
                                      "0000:3b:00.0 (\"No interrupt remapping support\")",
                           .hint = "enable interrupt remapping on the host (firmware; no "
                                   "intremap=off or nointremap) or assign a device behind "
                                   "another unit"}));
  EXPECT_EQ(check(g, h).verdict, Verdict::kIncompatible);
  h.platform.cmdline = "ro vfio_iommu_type1.allow_unsafe_interrupts=1";
  EXPECT_EQ(outcomes(check(g, h), "posture.interrupt_remapping"), kWarn);
  h.units[0].extra["interrupt_remapping"] = true;
  h.platform.cmdline = "ro intremap=off";
  EXPECT_EQ(outcomes(check(g, h), "posture.interrupt_remapping"), kFail);
  h.units[0].extra.erase("interrupt_remapping");  // ecap not decoded
  EXPECT_EQ(outcomes(check(g, h), "posture.interrupt_remapping"), kUnknown);
  // SMMUv3: the GIC ITS isolates MSIs; nothing is said.
  h.units[0].model = std::string(kModelArmSmmuV3);
  EXPECT_TRUE(of_rule(check(g, h), "posture.interrupt_remapping").empty());
  // No device, no finding.
  EXPECT_TRUE(of_rule(check(simple_guest(), simple_host()), "posture.interrupt_remapping").empty());
}

TEST(CheckPosture, AcsOverrideWarnsAndIsSilentWithoutACommandLine) {
  Host h = simple_host();
  Guest g = guest_with_devices({"0000:3b:00.0"});
  EXPECT_EQ(outcomes(check(g, h), "posture.acs_override"), kPass);
  h.platform.cmdline = "ro pcie_acs_override=downstream";
  auto f = of_rule(check(g, h), "posture.acs_override");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].outcome, O::kWarn);
  EXPECT_EQ(f[0].evidence, "/proc/cmdline: pcie_acs_override=downstream");
  EXPECT_EQ(f[0].message,
            "the boundary of group 12 around 0000:3b:00.0 is what pcie_acs_override=downstream "
            "claims, not what the hardware enforces: devices in other groups can still reach it "
            "peer-to-peer");
  EXPECT_EQ(check(g, h).verdict, Verdict::kCompatible);  // a warning
  h.platform.cmdline.reset();
  EXPECT_TRUE(of_rule(check(g, h), "posture.acs_override").empty());
}

TEST(CheckDecide, RuleIdsAreTheRulesInReportOrder) {
  Guest guest = guest_with_devices({"0000:3b:00.0"});
  guest.viommu.ssid_bits = at(20, 5);
  guest.viommu.ats = at(true, 9);
  guest.viommu.page_requests = at(true, 10);
  guest.pasid_table = intel_table();
  guest.pasid_alloc = alloc(1, 1023, 64);
  // The region.* rules, last in the table, need the group's reserved regions, guest memory and
  // (region.ht_hole) an AMD unit.
  guest.memory.emplace().size = at(uint64_t{8} << 30, 50);
  Host host = simple_host();
  host.units[0].model = std::string(kModelAmdVi);
  host.groups[0].reserved_regions = {{0xfee00000, 0xfeefffff, "msi"},
                                     {0xfd00000000, 0xffffffffff, "reserved"}};
  const Report report = check(guest, host);
  const std::span<const std::string_view> ids = rule_ids();
  size_t last = 0;
  for (const Finding& f : report.findings) {
    auto it = std::find(ids.begin(), ids.end(), f.rule);
    ASSERT_NE(it, ids.end()) << f.rule;
    const size_t index = static_cast<size_t>(it - ids.begin());
    EXPECT_GE(index, last) << f.rule << " is out of order";
    last = index;
  }
  EXPECT_EQ(report.findings.front().rule, ids.front());
  EXPECT_EQ(report.findings.back().rule, ids.back());
}

// The rule families (check_rules_*.cc) are joined at run time, so nothing at compile time
// keeps their ids unique or within a Decision's bits.
TEST(CheckDecide, RuleIdsAreUniqueAndFitADecision) {
  const std::span<const std::string_view> ids = rule_ids();
  EXPECT_LE(ids.size(), Decision{}.failed.size());
  std::vector<std::string_view> sorted(ids.begin(), ids.end());
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
}

TEST(CheckDecide, NamesTheRulesThatFailWarnAndMeetUnknowns) {
  Host host = simple_host();
  host.units[0].caps.ssid_bits = 8;
  host.units[0].caps.ats.reset();
  Guest guest = simple_guest(std::string(kModelArmSmmuV3));  // emulated on VT-d: a warning
  guest.viommu.ssid_bits = at(16, 5);
  guest.viommu.ats = at(true, 9);
  const Decision decision = decide(guest, host);
  EXPECT_EQ(decision.verdict, Verdict::kIncompatible);
  EXPECT_EQ(rules_in(decision.failed), (std::vector<std::string_view>{"width.ssid_bits"}));
  EXPECT_EQ(rules_in(decision.unknown), (std::vector<std::string_view>{"feature.ats"}));
  EXPECT_EQ(rules_in(decision.warned), (std::vector<std::string_view>{"model"}));
  EXPECT_EQ(testing::check_disagreement(guest, host), "");

  host.units[0].caps.ssid_bits = 20;
  EXPECT_EQ(decide(guest, host).verdict, Verdict::kUndecided);
  host.units[0].caps.ats = true;
  EXPECT_EQ(decide(guest, host).verdict, Verdict::kCompatible);
}

TEST(CheckOptions, WithoutPassesTheReportKeepsProblemsAndTheVerdict) {
  Host host = simple_host();
  host.units[0].caps.asid_bits = 8;
  Guest guest = simple_guest(std::string(kModelArmSmmuV3));
  guest.viommu.asid_bits = at(16, 6);
  guest.viommu.input_bits = at(39, 4);
  const Report full = check(guest, host);
  const Report problems = check(guest, host, {.passes = false});
  EXPECT_EQ(problems.verdict, Verdict::kIncompatible);
  EXPECT_EQ(problems.verdict, full.verdict);
  ASSERT_EQ(problems.findings.size(), 2u);
  EXPECT_EQ(problems.findings[0].rule, "model");
  EXPECT_EQ(problems.findings[0].outcome, Outcome::kWarn);
  EXPECT_EQ(problems.findings[1].rule, "width.asid_bits");
  EXPECT_EQ(problems.findings[1].message, "guest needs 16 ASID bits but dmar0 supports 8");
  EXPECT_EQ(problems.findings[1].hint, "set asid_bits = 8 or lower");
  EXPECT_GT(full.findings.size(), problems.findings.size());
}

TEST(CheckDecide, AgreesWithCheckOnEveryPairAndEveryForgottenFact) {
  for (const auto& [name, pair] : incompatible_pairs()) {
    const auto& [guest, host] = pair;
    EXPECT_EQ(testing::check_disagreement(guest, host), "") << name;
    const auto forgets = forget_one_fact(host);
    for (size_t i = 0; i < forgets.size(); ++i) {
      Host forgotten = host;
      forgets[i](forgotten);
      EXPECT_EQ(testing::check_disagreement(guest, forgotten), "")
          << name << ", forgetting fact #" << i;
    }
  }
}

}  // namespace
}  // namespace caps
