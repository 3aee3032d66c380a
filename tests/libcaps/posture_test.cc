// SPDX-License-Identifier: MIT
// The posture findings of check_posture() (libcaps/src/checking/posture.cc) and the command-line
// parser they share with the readiness lines (libcaps/src/text/cmdline.cc), on hosts built in
// memory: each finding present with its values named, and absent on a clean host.
#include <gtest/gtest.h>

#include <algorithm>

#include "checking/posture_facts.h"
#include "libcaps/readiness.h"
#include "text/cmdline.h"

namespace caps {
namespace {

Unit vtd(std::string name, std::optional<bool> ir = true) {
  Unit u;
  u.name = std::move(name);
  u.model = std::string(kModelIntelVtd);
  if (ir) u.extra["interrupt_remapping"] = *ir;
  return u;
}

Unit of_model(std::string name, std::string_view model) {
  Unit u;
  u.name = std::move(name);
  u.model = std::string(model);
  return u;
}

Device device(std::string name, uint64_t group, uint8_t header_type = 0) {
  Device d;
  d.name = std::move(name);
  d.unit = "dmar0";
  d.group = group;
  PciInfo pci;
  pci.header_type = header_type;
  d.pci = pci;
  return d;
}

/// A clean VT-d host: one unit with interrupt remapping, one NIC alone in a translated group.
Host clean_host(std::string cmdline = "ro quiet intel_iommu=on") {
  Host host;
  host.units.push_back(vtd("dmar0"));
  host.groups.push_back(Group{7, "DMA-FQ", std::nullopt, {"0000:3b:00.0"}, {}});
  host.devices.push_back(device("0000:3b:00.0", 7));
  host.platform.acpi_tables = {"DMAR"};
  host.platform.cmdline = std::move(cmdline);
  return host;
}

std::vector<std::string> ids(const std::vector<ReadinessCheck>& findings) {
  std::vector<std::string> out;
  for (const ReadinessCheck& f : findings) out.push_back(f.id);
  return out;
}

/// The finding `id` of `findings`, or nullopt (a copy: callers pass temporaries).
std::optional<ReadinessCheck> find(const std::vector<ReadinessCheck>& findings,
                                   std::string_view id) {
  auto it = std::find_if(findings.begin(), findings.end(),
                         [&](const ReadinessCheck& f) { return f.id == id; });
  if (it == findings.end()) return std::nullopt;
  return *it;
}

TEST(Cmdline, SplitsParametersAndOptions) {
  const std::vector<CmdlineParam> params =
      parse_cmdline("ro \"dyndbg=file x +p\" intel_iommu=on,,sm_on quiet iommu.passthrough=1");
  ASSERT_EQ(params.size(), 5u);
  EXPECT_EQ(params[0], (CmdlineParam{"ro", std::nullopt}));
  EXPECT_EQ(params[1], (CmdlineParam{"dyndbg", "file x +p"}));
  EXPECT_EQ(param_options(params, "intel_iommu"), (std::vector<std::string>{"on", "sm_on"}));
  EXPECT_TRUE(has_option(params, "intel_iommu", "sm_on"));
  EXPECT_EQ(last_value(params, "iommu.passthrough"), "1");
  EXPECT_EQ(last_value(params, "quiet"), "");
  EXPECT_EQ(last_value(params, "iommu"), std::nullopt);
}

TEST(Cmdline, ModuleParametersTreatDashAndUnderscoreAlike) {
  EXPECT_TRUE(same_param("vfio-iommu-type1.allow_unsafe_interrupts",
                         "vfio_iommu_type1.allow_unsafe_interrupts"));
  EXPECT_FALSE(same_param("intel-iommu", "intel_iommu"));  // a __setup() name: exact
}

TEST(Cmdline, KernelBoolAsKstrtobool) {
  for (std::string_view yes : {"1", "y", "Y", "yes", "t", "true", "on", "ON"}) {
    EXPECT_EQ(kernel_bool(yes), true) << yes;
  }
  for (std::string_view no : {"0", "n", "no", "f", "false", "off", "OFF"}) {
    EXPECT_EQ(kernel_bool(no), false) << no;
  }
  for (std::string_view bad : {"", "lazy", "o", "2", "pt"}) {
    EXPECT_EQ(kernel_bool(bad), std::nullopt) << bad;
  }
}

TEST(Posture, CleanHostHasNoFinding) {
  EXPECT_TRUE(check_posture(clean_host()).empty());
  Host no_cmdline = clean_host();
  no_cmdline.platform.cmdline.reset();
  EXPECT_TRUE(check_posture(no_cmdline).empty());
}

TEST(Posture, IdentityDomainFromGroupTypeAndCommandLine) {
  Host host = clean_host("ro iommu=pt");
  host.groups[0].type = "identity";
  std::optional<ReadinessCheck> f = find(check_posture(host), "identity-domain");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->status, CheckStatus::kWarn);
  EXPECT_EQ(f->detail,
            "group 7: default domain type identity; iommu=pt on the kernel command line makes "
            "identity the default domain");
  EXPECT_NE(f->hint.find("remove iommu=pt (or set iommu.passthrough=0)"), std::string::npos);

  // iommu.passthrough=1 with the groups' types unknown (a report without them) still says so.
  host = clean_host("ro iommu.passthrough=1");
  host.groups[0].type.reset();
  f = find(check_posture(host), "identity-domain");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->detail,
            "iommu.passthrough=1 on the kernel command line makes identity the default domain");

  // A later iommu=nopt or iommu.passthrough=0 wins, as the kernel parses in order.
  EXPECT_EQ(find(check_posture(clean_host("iommu=pt iommu.passthrough=0")), "identity-domain"),
            std::nullopt);
  EXPECT_EQ(find(check_posture(clean_host("iommu=pt,nopt")), "identity-domain"), std::nullopt);

  // Identity without any option: the build default or the driver.
  host = clean_host();
  host.groups[0].type = "identity";
  f = find(check_posture(host), "identity-domain");
  ASSERT_TRUE(f.has_value());
  EXPECT_NE(f->detail.find("CONFIG_IOMMU_DEFAULT_PASSTHROUGH"), std::string::npos);
}

TEST(Posture, AcsOverrideSaysItFakesIsolation) {
  const std::vector<ReadinessCheck> findings =
      check_posture(clean_host("ro pcie_acs_override=downstream,multifunction"));
  ASSERT_EQ(ids(findings), (std::vector<std::string>{"acs-override"}));
  EXPECT_EQ(findings[0].detail,
            "pcie_acs_override=downstream,multifunction on the kernel command line");
  EXPECT_NE(findings[0].hint.find("not in mainline Linux"), std::string::npos);
  EXPECT_NE(findings[0].hint.find("the groups it splits are fake"), std::string::npos);
}

TEST(Posture, UnknownOptionsNameTheParserAndTheFix) {
  Host amd = clean_host("ro amd_iommu=on iommu=pt");
  amd.units = {of_model("ivhd0", kModelAmdVi)};
  amd.platform.acpi_tables = {"IVRS"};
  std::optional<ReadinessCheck> f = find(check_posture(amd), "cmdline-unknown");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->status, CheckStatus::kWarn);
  EXPECT_EQ(f->detail,
            "amd_iommu=on: \"on\" is not an option of parse_amd_iommu_options() in "
            "drivers/iommu/amd/init.c (it takes fullflush, force_enable, off, force_isolation, "
            "pgtbl_v1, pgtbl_v2, irtcachedis, nohugepages, v2_pgsizes_only); the kernel ignores "
            "it");
  EXPECT_EQ(f->hint,
            "amd_iommu=on: AMD-Vi is on whenever the firmware has an IVRS table (amd_iommu=off "
            "is the only switch)");

  // Options are strncmp() prefixes: "offline" is "off"; intel_iommu=pt is not an option.
  EXPECT_EQ(find(check_posture(clean_host("intel_iommu=on,sm_onx")), "cmdline-unknown"),
            std::nullopt);
  f = find(check_posture(clean_host("intel_iommu=on,pt intremap=bogus iommu.strict=lazy")),
           "cmdline-unknown");
  ASSERT_TRUE(f.has_value());
  EXPECT_NE(f->detail.find("intel_iommu=pt: \"pt\" is not an option of intel_iommu_setup()"),
            std::string::npos);
  EXPECT_NE(f->detail.find("intremap=bogus"), std::string::npos);
  EXPECT_NE(f->detail.find("iommu.strict=lazy: \"lazy\" is not a kstrtobool() value"),
            std::string::npos);
  EXPECT_NE(f->hint.find("intel_iommu=pt: for passthrough the parameter is iommu=pt or "
                         "iommu.passthrough=1"),
            std::string::npos);
}

TEST(Posture, OptionsForAnotherPlatformAreIgnored) {
  // amd_iommu= on a VT-d host: the AMD driver never runs, whatever the option.
  std::optional<ReadinessCheck> f =
      find(check_posture(clean_host("amd_iommu=on")), "cmdline-ignored");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->detail.substr(0, 45), "amd_iommu=on on the kernel command line: the ");
  EXPECT_EQ(find(check_posture(clean_host("amd_iommu=on")), "cmdline-unknown"), std::nullopt);

  // iommu=pt on Arm is no parameter at all: not identity, but ignored.
  Host arm = clean_host("iommu=pt intel_iommu=on");
  arm.units = {of_model("smmu3.0x0000000009050000", kModelArmSmmuV3)};
  arm.platform.acpi_tables = {"IORT"};
  const std::vector<ReadinessCheck> findings = check_posture(arm);
  EXPECT_EQ(ids(findings), (std::vector<std::string>{"cmdline-ignored"}));
  EXPECT_EQ(findings[0].detail.substr(0, 64),
            "intel_iommu=on, iommu=pt on the kernel command line: this host i");
}

TEST(Posture, SharedGroupsNameMembersAndWhy) {
  Host host = clean_host();
  host.groups.push_back(Group{4, "DMA", std::nullopt, {"0000:0a:00.0", "0000:0a:00.1"}, {}});
  host.devices.push_back(device("0000:0a:00.0", 4));
  host.devices.push_back(device("0000:0a:00.1", 4));
  host.groups.push_back(
      Group{9, "DMA", std::nullopt, {"0000:00:1c.0", "0000:04:00.0", "0000:05:00.0"}, {}});
  host.devices.push_back(device("0000:00:1c.0", 9, 1));
  host.devices.push_back(device("0000:04:00.0", 9));
  host.devices.push_back(device("0000:05:00.0", 9));
  // A bridge and one endpoint share nothing a guest could be given.
  host.groups.push_back(Group{11, "DMA", std::nullopt, {"0000:00:1d.0", "0000:06:00.0"}, {}});
  host.devices.push_back(device("0000:00:1d.0", 11, 1));
  host.devices.push_back(device("0000:06:00.0", 11));
  const std::vector<ReadinessCheck> findings = check_posture(host);
  ASSERT_EQ(ids(findings), (std::vector<std::string>{"shared-group"}));
  EXPECT_EQ(findings[0].detail,
            "group 4: 0000:0a:00.0, 0000:0a:00.1 (functions of 0000:0a:00 with no ACS between "
            "them); group 9: 0000:04:00.0, 0000:05:00.0 (no ACS on the path between them, with "
            "bridge 0000:00:1c.0 in the group)");
}

TEST(Posture, InterruptRemappingOffFailsUnlessUnsafeAllowed) {
  Host host = clean_host();
  host.units.push_back(vtd("dmar1", false));
  std::vector<ReadinessCheck> findings = check_posture(host);
  ASSERT_EQ(ids(findings), (std::vector<std::string>{"interrupt-remapping-off"}));
  EXPECT_EQ(findings[0].status, CheckStatus::kFail);
  EXPECT_EQ(findings[0].detail, "dmar1: ecap.IR=0");

  // intremap=off and nointremap turn it off on every x86 unit; a later intremap=on back on.
  findings = check_posture(clean_host("nointremap"));
  ASSERT_EQ(ids(findings), (std::vector<std::string>{"interrupt-remapping-off"}));
  EXPECT_EQ(findings[0].detail, "dmar0: nointremap on the kernel command line");
  EXPECT_TRUE(check_posture(clean_host("intremap=off intremap=on")).empty());

  host.platform.cmdline = "vfio_iommu_type1.allow_unsafe_interrupts=1";
  findings = check_posture(host);
  ASSERT_EQ(ids(findings),
            (std::vector<std::string>{"interrupt-remapping-off", "unsafe-interrupts"}));
  EXPECT_EQ(findings[0].status, CheckStatus::kWarn);
  EXPECT_EQ(findings[0].detail,
            "dmar1: ecap.IR=0; vfio_iommu_type1.allow_unsafe_interrupts=1 lets VFIO assign their "
            "devices anyway");
  EXPECT_EQ(findings[1].detail,
            "vfio_iommu_type1.allow_unsafe_interrupts=1 on the kernel command line: VFIO assigns "
            "devices whose MSIs are not isolated");

  // Allowed but latent: every unit remaps; a bare bool parameter is true, =0 is not set.
  findings = check_posture(clean_host("iommufd.allow_unsafe_interrupts"));
  ASSERT_EQ(ids(findings), (std::vector<std::string>{"unsafe-interrupts"}));
  EXPECT_NE(findings[0].detail.find("changes nothing today"), std::string::npos);
  EXPECT_TRUE(check_posture(clean_host("vfio_iommu_type1.allow_unsafe_interrupts=0")).empty());
}

TEST(Posture, SmmuAndVirtioUnitsAreNotCalledOff) {
  Host host = clean_host("intremap=off");
  host.units = {of_model("smmu3.0x0000000009050000", kModelArmSmmuV3),
                of_model("virtio0", kModelVirtioIommu)};
  host.platform.acpi_tables = {"IORT"};
  EXPECT_EQ(find(check_posture(host), "interrupt-remapping-off"), std::nullopt);
}

TEST(Posture, ReadinessInterruptRemappingHonoursNointremap) {
  const std::vector<ReadinessCheck> checks = check_readiness(clean_host("nointremap"), {});
  auto it = std::find_if(checks.begin(), checks.end(),
                         [](const ReadinessCheck& c) { return c.id == "interrupt-remapping"; });
  ASSERT_NE(it, checks.end());
  EXPECT_EQ(it->status, CheckStatus::kFail);
  EXPECT_EQ(it->detail, "nointremap on the kernel command line");
}

TEST(Posture, IsolationLineNamesTheFindings) {
  Host host = clean_host("pcie_acs_override=downstream");
  const std::vector<ReadinessCheck> checks = check_readiness(host, {});
  const ReadinessCheck& isolation = checks.back();
  ASSERT_EQ(isolation.id, "isolation");
  EXPECT_EQ(isolation.status, CheckStatus::kWarn);
  EXPECT_EQ(isolation.detail, "group domains: 1 DMA-FQ; posture: acs-override");
  EXPECT_EQ(check_readiness(clean_host(), {}).back().detail,
            "group domains: 1 DMA-FQ; no posture finding");
}

}  // namespace
}  // namespace caps
