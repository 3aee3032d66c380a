// SPDX-License-Identifier: MIT
// iommu-probe --check output: whole texts with and without colour and quiet, JSON, colour policy.
#include "iommu-probe/check_format.h"

#include <gtest/gtest.h>

#include <sstream>

namespace tools {
namespace {

using caps::CheckStatus;

caps::Host host() {
  caps::Host h;
  h.backend = "dir";
  h.root = "trees/a";
  return h;
}

const std::vector<caps::ReadinessCheck> kChecks = {
    {"kernel", "IOMMU enabled by the kernel", CheckStatus::kPass, "1 unit", ""},
    {"iommufd", "iommufd (/dev/iommu)", CheckStatus::kWarn, "not loaded", "modprobe iommufd"},
    {"groups", "IOMMU groups", CheckStatus::kFail, "none", "enable it"},
};

const std::vector<caps::ReadinessCheck> kFindings = {
    {"acs-override", "ACS override", CheckStatus::kWarn, "pcie_acs_override=downstream",
     "remove it"},
};

std::string text(const CheckTextOptions& options,
                 const std::vector<caps::ReadinessCheck>& findings = {}) {
  std::ostringstream out;
  format_check_text(host(), kChecks, findings, out, options);
  return out.str();
}

TEST(CheckFormat, TextLinesUpStatusesAndGivesHints) {
  EXPECT_EQ(text({}),
            "IOMMU enabled by the kernel     : PASS (1 unit)\n"
            "iommufd (/dev/iommu)            : WARN (not loaded)\n"
            "    hint: modprobe iommufd\n"
            "IOMMU groups                    : FAIL (none)\n"
            "    hint: enable it\n"
            "trees/a: 1 pass, 1 warn, 1 fail\n");
}

TEST(CheckFormat, PostureFindingsFollowTheChecksAndCount) {
  EXPECT_EQ(text({}, kFindings),
            "IOMMU enabled by the kernel     : PASS (1 unit)\n"
            "iommufd (/dev/iommu)            : WARN (not loaded)\n"
            "    hint: modprobe iommufd\n"
            "IOMMU groups                    : FAIL (none)\n"
            "    hint: enable it\n"
            "ACS override                    : WARN (pcie_acs_override=downstream)\n"
            "    hint: remove it\n"
            "trees/a: 1 pass, 2 warn, 1 fail\n");
}

TEST(CheckFormat, QuietPrintsOnlyWarningsAndFailures) {
  EXPECT_EQ(text({false, true}),
            "iommufd (/dev/iommu)            : WARN (not loaded)\n"
            "    hint: modprobe iommufd\n"
            "IOMMU groups                    : FAIL (none)\n"
            "    hint: enable it\n");
}

TEST(CheckFormat, ColourWrapsOnlyTheStatusWord) {
  const std::string coloured = text({true, false});
  EXPECT_NE(coloured.find(": \033[32mPASS\033[0m (1 unit)\n"), std::string::npos);
  EXPECT_NE(coloured.find(": \033[33mWARN\033[0m (not loaded)\n"), std::string::npos);
  EXPECT_NE(coloured.find(": \033[31mFAIL\033[0m (none)\n"), std::string::npos);
  EXPECT_EQ(text({}).find('\033'), std::string::npos);
}

TEST(CheckFormat, Json) {
  std::ostringstream out;
  format_check_json(host(), {kChecks[0]}, kFindings, out);
  EXPECT_EQ(out.str(),
            "{\n"
            "  \"schema\": \"iommu-probe-check/1\",\n"
            "  \"host\": {\"root\": \"trees/a\", \"backend\": \"dir\"},\n"
            "  \"status\": \"warn\",\n"
            "  \"checks\": [\n"
            "    {\n"
            "      \"id\": \"kernel\",\n"
            "      \"title\": \"IOMMU enabled by the kernel\",\n"
            "      \"status\": \"pass\",\n"
            "      \"detail\": \"1 unit\",\n"
            "      \"hint\": \"\"\n"
            "    }\n"
            "  ],\n"
            "  \"findings\": [\n"
            "    {\n"
            "      \"id\": \"acs-override\",\n"
            "      \"title\": \"ACS override\",\n"
            "      \"status\": \"warn\",\n"
            "      \"detail\": \"pcie_acs_override=downstream\",\n"
            "      \"hint\": \"remove it\"\n"
            "    }\n"
            "  ]\n"
            "}\n");
}

TEST(CheckFormat, JsonWithoutFindings) {
  std::ostringstream out;
  format_check_json(host(), {kChecks[0]}, {}, out);
  EXPECT_NE(out.str().find("  \"status\": \"pass\",\n"), std::string::npos);
  EXPECT_NE(out.str().find("  \"findings\": []\n"), std::string::npos) << out.str();
}

TEST(CheckFormat, ColourPolicy) {
  EXPECT_EQ(decide_color("auto", true, nullptr, "xterm"), true);
  EXPECT_EQ(decide_color("auto", false, nullptr, "xterm"), false);
  EXPECT_EQ(decide_color("auto", true, "1", "xterm"), false);
  EXPECT_EQ(decide_color("auto", true, "", "xterm"), true);  // NO_COLOR set but empty
  EXPECT_EQ(decide_color("auto", true, nullptr, "dumb"), false);
  EXPECT_EQ(decide_color("always", false, "1", "dumb"), true);  // the command line wins
  EXPECT_EQ(decide_color("never", true, nullptr, "xterm"), false);
  EXPECT_EQ(decide_color("sometimes", true, nullptr, "xterm"), std::nullopt);
}

TEST(CheckFormat, ExitCodeByTheWorstLine) {
  EXPECT_EQ(check_exit_code(CheckStatus::kPass), 0);
  EXPECT_EQ(check_exit_code(CheckStatus::kWarn), 3);
  EXPECT_EQ(check_exit_code(CheckStatus::kFail), 1);
}

}  // namespace
}  // namespace tools
