// SPDX-License-Identifier: MIT
// Tests for libcaps/src/reports/host_report.cc: exact round trips, loader errors, hostile input.
#include "libcaps/host_report.h"

#include <cctype>
#include <climits>
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

#include "libcaps/reader.h"
#include "libcaps/source.h"
#include "support/sample_hosts.h"

namespace caps {
namespace {

std::string write(const Host& host) {
  std::ostringstream out;
  write_host_report(host, out);
  return out.str();
}

constexpr std::string_view kHead = "schema = \"iommu-probe/2\"\n";

/// How many lines of `text` are exactly `line`.
std::size_t count_lines(std::string_view text, std::string_view line) {
  std::size_t count = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    if (text.substr(pos, end - pos) == line) ++count;
    pos = end + 1;
  }
  return count;
}

/// `text` with the [end] table its tables need, so that a test reaches the problem it is
/// about rather than the report's incompleteness.
std::string complete(std::string_view text) {
  return std::string(text) + "\n[end]\nunits = " + std::to_string(count_lines(text, "[[unit]]")) +
         "\ngroups = " + std::to_string(count_lines(text, "[[group]]")) +
         "\ndevices = " + std::to_string(count_lines(text, "[[device]]")) +
         "\ndiagnostics = " + std::to_string(count_lines(text, "[[diagnostic]]")) + "\n";
}

std::string load_error(std::string_view text) {
  Result<Host> loaded = load_host_report(text, "host.toml");
  if (loaded) return "(loaded)";
  return loaded.error().to_string();
}

/// Host has no operator== (model.h is a fixed contract); compare every member but the two
/// that a loaded report sets itself.
void expect_same_host(const Host& loaded, const Host& original, std::string_view file) {
  EXPECT_EQ(loaded.backend, "report");
  EXPECT_EQ(loaded.root, file);
  ASSERT_EQ(loaded.units.size(), original.units.size());
  for (std::size_t i = 0; i < original.units.size(); ++i) {
    EXPECT_EQ(loaded.units[i].caps, original.units[i].caps) << "unit " << i;
    EXPECT_EQ(loaded.units[i].registers, original.units[i].registers) << "unit " << i;
    EXPECT_TRUE(loaded.units[i] == original.units[i]) << "unit " << i;
  }
  EXPECT_TRUE(loaded.groups == original.groups);
  EXPECT_TRUE(loaded.devices == original.devices);
  EXPECT_TRUE(loaded.platform == original.platform);
  EXPECT_TRUE(loaded.diagnostics == original.diagnostics);
}

void expect_round_trip(const Host& host) {
  const std::string text = write(host);
  Result<Host> loaded = load_host_report(text, "host.toml");
  ASSERT_TRUE(loaded) << loaded.error().to_string() << "\n" << text;
  expect_same_host(*loaded, host, "host.toml");
  // Writing the loaded host again gives the same report, apart from [source].
  Host again = *loaded;
  again.backend = host.backend;
  again.root = host.root;
  EXPECT_EQ(write(again), text);
}

/// The sample host with the hostile unit's names made valid UTF-8 (control characters,
/// quotes, backslashes and NUL stay: they round-trip exactly).
Host valid_utf8_sample() {
  Host h = testing::sample_host();
  h.units[3].name = std::string("evil\"\\\n\x1b[2J\xc3\xa9\0end", 13);
  return h;
}

TEST(HostReport, RoundTripsTheSampleHost) { expect_round_trip(valid_utf8_sample()); }

TEST(HostReport, RoundTripsAHostWithoutUnits) { expect_round_trip(testing::empty_host()); }

TEST(HostReport, RoundTripsAnEmptyHost) { expect_round_trip(Host{}); }

TEST(HostReport, RoundTripsEdgeValues) {
  Host h;
  h.backend = "udev";
  h.root = "/";
  Unit u;
  u.name = "u";  // model stays "unknown", layout "none"
  u.caps.input_bits = 1;  // the ends of the property table's ranges
  u.caps.output_bits = 64;
  u.caps.asid_bits = 0;
  u.caps.ssid_bits = 32;
  u.caps.httu = Httu::kNone;
  u.caps.stall = Stall::kDisabled;
  u.caps.btm = false;
  u.caps.pgtable_formats = std::vector<std::string>{};
  u.registers.push_back({"a", Register{"", 0, {}, 0}, std::nullopt, ""});
  u.registers.push_back(
      {"b", Register{"R", UINT64_MAX, {{"WIDE", UINT64_MAX}, {"Z", 0}, {"A", 1}}, UINT64_MAX},
       Register{"S", 1, {}, 0}, "EFR:EFR2"});
  u.extra = {{"min", int64_t{INT64_MIN}}, {"max", int64_t{INT64_MAX}}, {"empty", std::string()}};
  u.evidence = {{"btm", ""}};
  u.devices = {"", "x"};
  h.units.push_back(u);
  h.groups.push_back({UINT64_MAX, "", "", {}, {{0, UINT64_MAX, ""}}});
  h.groups.push_back({0, std::nullopt, std::nullopt, {"x"}, {}});
  Device d{"x", "u", uint64_t{INT64_MAX} + 1, "", PciInfo{}};
  d.pci->vendor = 0xffff;
  d.pci->device = 0;
  d.pci->class_code = 0xffffff;
  d.pci->header_type = 0x7f;
  d.pci->pasid = std::optional<PasidCapability>(PasidCapability{31, false, true});
  d.pci->pri = true;  // ats unknown, pri known
  h.devices.push_back(d);
  h.platform.cmdline = "";
  h.diagnostics.push_back({"", Severity::kError, ""});
  expect_round_trip(h);
}

TEST(HostReport, RoundTripsConfigSizeAndKernelRelease) {
  Host h;
  Device conventional{"0000:00:1f.2", std::nullopt, 3, "ahci", PciInfo{}};
  conventional.pci->config_size = 256;
  conventional.pci->pasid = std::optional<PasidCapability>();
  conventional.pci->ats = false;
  conventional.pci->pri = false;
  Device nonroot{"0000:00:02.0", std::nullopt, 4, std::nullopt, PciInfo{}};
  nonroot.pci->config_size = 64;
  h.devices = {conventional, nonroot};
  h.platform.kernel_release = "6.1.0-18-amd64";
  const std::string text = write(h);
  EXPECT_NE(text.find("kernel_release = \"6.1.0-18-amd64\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("header_type = 0\nconfig_size = 256\npasid = false\n"), std::string::npos)
      << text;
  expect_round_trip(h);

  // 0 is "not known" and never written; the kernel gives at most 4096 bytes.
  for (const char* bad : {"0", "4097", "-1"}) {
    std::string report = text;
    report.replace(report.find("config_size = 256"), 17, std::string("config_size = ") + bad);
    Result<Host> loaded = load_host_report(report, "r.toml");
    ASSERT_FALSE(loaded) << bad;
    EXPECT_NE(loaded.error().to_string().find("config_size"), std::string::npos)
        << loaded.error().to_string();
  }
}

TEST(HostReport, RoundTripsUnknownDriverAndGroupMembers) {
  Host h = valid_utf8_sample();
  ASSERT_FALSE(h.devices.empty());
  ASSERT_FALSE(h.groups.empty());
  h.devices[0].driver = std::nullopt;
  h.devices[0].driver_known = false;
  h.groups[0].devices_known = false;
  std::ostringstream out;
  write_host_report(h, out);
  EXPECT_NE(out.str().find("driver_known = false"), std::string::npos);
  EXPECT_NE(out.str().find("devices_known = false"), std::string::npos);
  expect_round_trip(h);
}

TEST(HostReport, FieldsKeepBitOrderNotNameOrder) {
  Host h;
  Unit u;
  u.name = "u";
  u.registers.push_back(
      {"cap", Register{"CAP_REG", 5, {{"Z", 1}, {"M", 0}, {"A", 1}}, 0}, std::nullopt, ""});
  h.units.push_back(u);
  Result<Host> loaded = load_host_report(write(h), "r.toml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_EQ(loaded->units[0].registers[0].main.fields.size(), 3u);
  EXPECT_EQ(loaded->units[0].registers[0].main.fields[0].name, "Z");
  EXPECT_EQ(loaded->units[0].registers[0].main.fields[2].name, "A");
}

TEST(HostReport, InvalidUtf8IsWrittenAsReplacementCharacters) {
  Host h;
  Unit u;
  u.name = "bad\xff\xc3";
  h.units.push_back(u);
  Result<Host> loaded = load_host_report(write(h), "r.toml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->units[0].name, "bad\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(HostReport, WritesTheDocumentedShape) {
  Host h;
  h.backend = "dir";
  h.root = "tree";
  Unit u;
  u.name = "dmar0";
  u.model = "intel-vtd";
  u.layout = Layout::kIntelIommu;
  u.caps.ssid_bits = 20;
  u.registers.push_back({"ecap", Register{"ECAP_REG", 0xf0df, {{"C", 1}}, 0}, std::nullopt, ""});
  h.units.push_back(u);
  Device d{"0000:00:02.0", "dmar0", 3, std::nullopt, PciInfo{}};
  d.pci->vendor = 0x8086;
  h.devices.push_back(d);
  EXPECT_EQ(write(h),
            "# iommu-probe host report. A missing key means \"unknown\"; see "
            "schemas/host-report.schema.json.\n"
            "schema = \"iommu-probe/2\"\n"
            "\n"
            "[source]\n"
            "backend = \"dir\"\n"
            "sysfs_root = \"tree\"\n"
            "\n"
            "[platform]\n"
            "acpi_tables = []\n"
            "why_no_units = []\n"
            "\n"
            "[[unit]]\n"
            "name = \"dmar0\"\n"
            "model = \"intel-vtd\"\n"
            "layout = \"intel-iommu\"\n"
            "devices = []\n"
            "\n"
            "[unit.caps]\n"
            "ssid_bits = 20\n"
            "\n"
            "[[unit.register]]\n"
            "file = \"ecap\"\n"
            "name = \"ECAP_REG\"\n"
            "raw = \"0xf0df\"\n"
            "\n"
            "[unit.register.fields]\n"
            "C = 1\n"
            "\n"
            "[[device]]\n"
            "name = \"0000:00:02.0\"\n"
            "unit = \"dmar0\"\n"
            "group = 3\n"
            "\n"
            "[device.pci]\n"
            "vendor = \"0x8086\"\n"
            "device = \"0x0000\"\n"
            "class = \"0x000000\"\n"
            "header_type = 0\n"
            "\n"
            "[end]\n"
            "units = 1\n"
            "groups = 0\n"
            "devices = 1\n"
            "diagnostics = 0\n");
}

TEST(HostReport, LongStringArraysGoOneItemPerLine) {
  Host h;
  Group g;
  g.id = 1;
  for (int i = 0; i < 6; ++i) g.devices.push_back("0000:00:0" + std::to_string(i) + ".0");
  h.groups.push_back(g);
  const std::string text = write(h);
  EXPECT_NE(text.find("devices = [\n  \"0000:00:00.0\",\n  \"0000:00:01.0\",\n"), std::string::npos)
      << text;
  expect_round_trip(h);
}

std::vector<std::filesystem::path> fixture_roots() {
  const std::filesystem::path hosts = std::filesystem::path(IOMMU_SOURCE_DIR) / "fake-sysfs/hosts";
  std::vector<std::filesystem::path> roots;
  for (const auto& entry : std::filesystem::directory_iterator(hosts)) {
    if (entry.is_directory()) roots.push_back(entry.path());
  }
  std::sort(roots.begin(), roots.end());
  return roots;
}

Host read_fixture(const std::filesystem::path& root) {
  Result<std::unique_ptr<Source>> source = open_dir_source(root.string());
  EXPECT_TRUE(source) << source.error().to_string();
  return source ? read_host(**source) : Host{};
}

TEST(HostReport, RoundTripsEveryFixtureHost) {
  for (const std::filesystem::path& root : fixture_roots()) {
    SCOPED_TRACE(root.string());
    expect_round_trip(read_fixture(root));
  }
}

// ---------------------------------------------------------------------------------------------
// Completeness (issue 8, item 4): `head -n 50` of the hetero-units report loaded as a host of
// fewer units and made a guest compatible that the whole report calls incompatible.

/// The offsets just after each '\n' of `text`, but the last (which ends the whole text).
std::vector<std::size_t> line_ends(std::string_view text) {
  std::vector<std::size_t> ends;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] == '\n') ends.push_back(i + 1);
  }
  return ends;
}

TEST(HostReportComplete, EveryFixtureReportCutAtAnyLineEndIsRefused) {
  for (const std::filesystem::path& root : fixture_roots()) {
    SCOPED_TRACE(root.string());
    const std::string text = write(read_fixture(root));
    ASSERT_TRUE(load_host_report(text, "host.toml")) << "the whole report loads";
    const std::vector<std::size_t> ends = line_ends(text);
    ASSERT_GT(ends.size(), 10u);
    for (const std::size_t end : ends) {
      const std::string cut = text.substr(0, end);
      Result<Host> loaded = load_host_report(cut, "host.toml");
      ASSERT_FALSE(loaded) << "loaded the first " << std::count(cut.begin(), cut.end(), '\n')
                           << " lines";
      // The first line holds only a comment: the schema is what is missing there.
      if (end == ends.front()) continue;
      const std::string error = loaded.error().to_string();
      EXPECT_TRUE(error.starts_with("host.toml:")) << error;
      EXPECT_NE(error.find("incomplete"), std::string::npos)
          << error << "\n"
          << cut.substr(cut.size() > 300 ? cut.size() - 300 : 0);
    }
  }
}

TEST(HostReportComplete, AReportCutAnywhereIsRefused) {
  const std::string text = write(
      read_fixture(std::filesystem::path(IOMMU_SOURCE_DIR) / "fake-sysfs/hosts/hetero-units"));
  ASSERT_TRUE(text.ends_with("\n"));
  // Every byte but the final newline, without which the report says all it said.
  for (std::size_t size = 0; size + 1 < text.size(); ++size) {
    ASSERT_FALSE(load_host_report(std::string_view(text).substr(0, size), "host.toml"))
        << "loaded the first " << size << " of " << text.size() << " bytes";
  }
  EXPECT_TRUE(load_host_report(std::string_view(text).substr(0, text.size() - 1), "host.toml"));
}

TEST(HostReportComplete, TheIssueCaseNamesWhatIsMissing) {
  const std::string text = write(
      read_fixture(std::filesystem::path(IOMMU_SOURCE_DIR) / "fake-sysfs/hosts/hetero-units"));
  std::size_t end = 0;
  for (int line = 0; line < 50; ++line) end = text.find('\n', end) + 1;
  EXPECT_EQ(load_error(text.substr(0, end)),
            "host.toml:50: the report ends without its [end] table, which iommu-probe writes "
            "last: it is incomplete (cut short while written or copied); write it again");
}

TEST(HostReportComplete, CountsInEndMustMatchTheTables) {
  const std::string text =
      complete(std::string(kHead) + "[[device]]\nname = \"a\"\n\n[[device]]\nname = \"b\"\n");
  ASSERT_EQ(load_error(text), "(loaded)");
  // A table lost from the middle (an edit, a bad merge) is caught by the counts.
  std::string lost = text;
  lost.erase(lost.find("[[device]]\nname = \"b\""),
             std::string("[[device]]\nname = \"b\"\n").size());
  EXPECT_EQ(load_error(lost),
            "host.toml:9:11: end.devices: the report has 1 [[device]] tables but [end] counts 2: "
            "it is incomplete or was edited; write it again");
  // A cut inside [end] itself.
  EXPECT_EQ(load_error(std::string(kHead) + "[end]\nunits = 0\n"),
            "host.toml:2:1: end.groups: missing: the report is incomplete (cut short while "
            "written or copied); write it again");
}

TEST(HostReportComplete, NothingMayFollowTheEnd) {
  const std::string one = complete(std::string(kHead) + "[[device]]\nname = \"a\"\n");
  // Two reports pasted into one file: the second's schema lands in the first's [end].
  EXPECT_NE(load_error(one + one), "(loaded)");
  EXPECT_EQ(load_error(one + "[[device]]\nname = \"b\"\n" + "[end]\nunits = 0\n"),
            "host.toml:10:1: end: nothing may follow the [end] table");
}

TEST(HostReportComplete, WindowsLineEndsStillLoad) {
  const std::string text = write(
      read_fixture(std::filesystem::path(IOMMU_SOURCE_DIR) / "fake-sysfs/hosts/intel-icx-2s"));
  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  Result<Host> loaded = load_host_report(crlf, "host.toml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  Result<Host> plain = load_host_report(text, "host.toml");
  ASSERT_TRUE(plain);
  EXPECT_TRUE(loaded->units == plain->units);
  EXPECT_TRUE(loaded->devices == plain->devices);
}

// ---------------------------------------------------------------------------------------------
// Duplicates (issue 8, item 5): with two [[unit]]s named dmar0, `units = ["dmar0"]` was
// checked against one of them and passed where the other failed.

TEST(HostReportUnique, DuplicateUnitsDevicesAndGroupsAreRefused) {
  const std::string unit = "[[unit]]\nname = \"dmar0\"\nmodel = \"m\"\nlayout = \"none\"\n";
  EXPECT_EQ(load_error(complete(std::string(kHead) + unit + unit)),
            "host.toml:7:8: unit[1].name: duplicate unit \"dmar0\" (first at line 3)");
  EXPECT_EQ(load_error(complete(std::string(kHead) + "[[group]]\nid = 7\n[[group]]\nid = 8\n" +
                                "[[group]]\nid = 7\n")),
            "host.toml:7:6: group[2].id: duplicate group 7 (first at line 3)");
  EXPECT_EQ(load_error(complete(std::string(kHead) + "[[device]]\nname = \"0000:00:02.0\"\n" +
                                "[[device]]\nname = \"0000:00:02.0\"\n")),
            "host.toml:5:8: device[1].name: duplicate device \"0000:00:02.0\" (first at line 3)");
  EXPECT_EQ(load_error(
                complete(std::string(kHead) + unit +
                         "[[unit.register]]\nfile = \"cap\"\nname = \"CAP_REG\"\nraw = \"0x1\"\n"
                         "[[unit.register]]\nfile = \"cap\"\nname = \"CAP_REG\"\nraw = \"0x2\"\n")),
            "host.toml:11:8: unit[0].register[1].file: duplicate register file \"cap\" (first at "
            "line 7)");
}

TEST(HostReportUnique, EveryFixtureHasUniqueNames) {
  for (const std::filesystem::path& root : fixture_roots()) {
    SCOPED_TRACE(root.string());
    Result<Host> loaded = load_host_report(write(read_fixture(root)), "host.toml");
    EXPECT_TRUE(loaded) << loaded.error().to_string();
  }
}

// ---------------------------------------------------------------------------------------------
// Size (issue 8, item 6): a report past the limit is refused before it is parsed.

TEST(HostReportSize, ALargerReportThanTheLimitIsRefused) {
  std::string text = complete(std::string(kHead));
  text.resize(kHostReportMaxBytes + 1, '\n');
  EXPECT_EQ(load_error(text),
            "host.toml: the report is 67108865 bytes, more than the 64 MiB a "
            "host report may have");
  text.resize(kHostReportMaxBytes);
  EXPECT_EQ(load_error(text), "(loaded)");
}

// ---------------------------------------------------------------------------------------------
// Loader errors: every message names file:line:col and the key.

struct ErrorCase {
  std::string body;  // after the schema line (line 2 onwards)
  std::string error;
};

class HostReportErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(HostReportErrors, NamesPlaceAndKey) {
  EXPECT_EQ(load_error(complete(std::string(kHead) + GetParam().body)), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Loader, HostReportErrors,
    ::testing::Values(
        ErrorCase{"[[unit]]\nname = \"u\"\nmodel = \"m\"\nlayout = \"none\"\n[unit.caps]\n"
                  "ssid_bits = \"20\"\n",
                  "host.toml:7:13: unit[0].caps.ssid_bits: expected an integer, got string"},
        ErrorCase{"[[unit]]\nname = \"u\"\nmodel = \"m\"\nlayout = \"none\"\n[unit.caps]\n"
                  "ssid_bit = 20\n",
                  "host.toml:7:1: unit[0].caps.ssid_bit: unknown key, did you mean ssid_bits?"},
        ErrorCase{"[[unit]]\nname = \"u\"\nmodel = \"m\"\nlayout = \"none\"\n[unit.caps]\n"
                  "input_bits = -1\n",
                  "host.toml:7:14: unit[0].caps.input_bits: value -1 is out of range 1..64"},
        // Widths outside what the sysfs readers accept (schemas/host-report.schema.json too).
        ErrorCase{"[[unit]]\nname = \"u\"\nmodel = \"m\"\nlayout = \"none\"\n[unit.caps]\n"
                  "output_bits = 65\n",
                  "host.toml:7:15: unit[0].caps.output_bits: value 65 is out of range 1..64"},
        ErrorCase{"[[unit]]\nname = \"u\"\nmodel = \"m\"\nlayout = \"none\"\n[unit.caps]\n"
                  "ssid_bits = 33\n",
                  "host.toml:7:13: unit[0].caps.ssid_bits: value 33 is out of range 0..32"},
        ErrorCase{"[[unit]]\nname = \"u\"\nmodel = \"m\"\nlayout = \"none\"\n[unit.caps]\n"
                  "asid_bits = 4294967296\n",
                  "host.toml:7:13: unit[0].caps.asid_bits: value 4294967296 is out of range "
                  "0..32"},
        ErrorCase{"[[unit]]\nname = \"u\"\nmodel = \"m\"\nlayout = \"none\"\n[unit.caps]\n"
                  "httu = \"dirty\"\n",
                  "host.toml:7:8: unit[0].caps.httu: expected \"none\", \"access\" or "
                  "\"access+dirty\", got \"dirty\""},
        ErrorCase{"[[unit]]\nname = \"u\"\nmodel = \"m\"\nlayout = \"intel\"\n",
                  "host.toml:5:10: unit[0].layout: expected \"intel-iommu\", \"amd-iommu\", "
                  "\"generic\" or \"none\", got \"intel\""},
        ErrorCase{"[[unit]]\nmodel = \"m\"\nlayout = \"none\"\n",
                  "host.toml:2:1: unit[0].name: missing key"},
        ErrorCase{"[[unit]]\nname = \"u\"\nmodel = \"m\"\nlayout = \"none\"\n"
                  "[[unit.register]]\nfile = \"cap\"\nname = \"CAP_REG\"\nraw = \"9ed\"\n",
                  "host.toml:9:7: unit[0].register[0].raw: expected a \"0x..\" hex string, got "
                  "\"9ed\""},
        ErrorCase{"[[unit]]\nname = \"u\"\nmodel = \"m\"\nlayout = \"none\"\n"
                  "[[unit.register]]\nfile = \"cap\"\nname = \"CAP_REG\"\n"
                  "raw = \"0x11112222333344445\"\n",
                  "host.toml:9:7: unit[0].register[0].raw: more than 16 hex digits in "
                  "\"0x11112222333344445\""},
        ErrorCase{"[[unit]]\nname = \"u\"\nmodel = \"m\"\nlayout = \"none\"\n"
                  "[[unit.register]]\nfile = \"cap\"\nname = \"CAP_REG\"\nraw = 5\n",
                  "host.toml:9:7: unit[0].register[0].raw: expected a \"0x..\" hex string, got "
                  "integer"},
        ErrorCase{"[[unit]]\nname = \"u\"\nmodel = \"m\"\nlayout = \"none\"\n"
                  "[[unit.register]]\nfile = \"cap\"\nname = \"CAP_REG\"\nraw = \"0x1\"\n"
                  "[unit.register.fields]\nND = -6\n",
                  "host.toml:11:6: unit[0].register[0].fields.ND: expected a non-negative "
                  "integer, got -6"},
        ErrorCase{"[[unit]]\nname = \"u\"\nmodel = \"m\"\nlayout = \"none\"\n[unit.extra]\n"
                  "f = 1.5\n",
                  "host.toml:7:5: unit[0].extra.f: expected a boolean, an integer or a string, "
                  "got float"},
        ErrorCase{"[[unit]]\nname = \"u\"\nmodel = \"m\"\nlayout = \"none\"\n"
                  "[[unit.diagnostic]]\npath = \"p\"\nseverity = \"fatal\"\nmessage = \"m\"\n",
                  "host.toml:8:12: unit[0].diagnostic[0].severity: expected \"warning\" or "
                  "\"error\", got \"fatal\""},
        ErrorCase{"[[device]]\nname = \"d\"\n[device.pci]\nvendor = \"0x8086\"\n"
                  "device = \"0x1\"\nclass = \"0x1\"\nheader_type = 0\npasid = true\n",
                  "host.toml:9:9: device[0].pci.pasid: expected false or a table, got true"},
        ErrorCase{"[[device]]\nname = \"d\"\n[device.pci]\nvendor = \"0x18086\"\n"
                  "device = \"0x1\"\nclass = \"0x1\"\nheader_type = 0\n",
                  "host.toml:5:10: device[0].pci.vendor: value 0x18086 is larger than 0xffff"},
        ErrorCase{"[[device]]\nname = \"d\"\n[device.pci]\nvendor = \"0x8086\"\n"
                  "device = \"0x1\"\nclass = \"0x1\"\nheader_type = 300\n",
                  "host.toml:8:15: device[0].pci.header_type: value 300 is out of range 0..127"},
        ErrorCase{"[[device]]\nname = \"d\"\n[device.pci]\nvendor = \"0x8086\"\n"
                  "device = \"0x1\"\nclass = \"0x1\"\nheader_type = 0\n"
                  "pasid = {max_width = 40, exec = true, priv = true}\n",
                  "host.toml:9:22: device[0].pci.pasid.max_width: value 40 is out of range 0..31"},
        ErrorCase{"[[device]]\nname = \"d\"\ngroup = -3\n",
                  "host.toml:4:9: device[0].group: expected a non-negative integer, got -3"},
        ErrorCase{"[[group]]\nid = 1\ndevices = [\"a\", 2]\n",
                  "host.toml:4:17: group[0].devices[1]: expected a string, got integer"},
        ErrorCase{"[[group]]\nid = 1\nreserved_regions = [{start = \"0x1\", end = \"0x2\"}]\n",
                  "host.toml:4:21: group[0].reserved_regions[0].type: missing key"},
        ErrorCase{"unit = 5\n", "host.toml:2:8: unit: expected an array of tables, got integer"},
        ErrorCase{"units = []\n", "host.toml:2:1: units: unknown key, did you mean unit?"},
        ErrorCase{"[platform]\ncmdline = true\n",
                  "host.toml:3:11: platform.cmdline: expected a string, got boolean"}),
    [](const ::testing::TestParamInfo<ErrorCase>& case_info) {
      // "host.toml:7:13: unit[0].caps.ssid_bits: ..." -> "3_unit_0_caps_ssid_bits": the key
      // the case is about, after its index (two cases may concern one key).
      const std::string& error = case_info.param.error;
      const std::size_t start = error.find(": ") + 2;
      const std::string key = error.substr(start, error.find(':', start) - start);
      std::string name = std::to_string(case_info.index) + "_";
      for (const char c : key) {
        if (std::isalnum(static_cast<unsigned char>(c))) {
          name += c;
        } else if (name.back() != '_') {
          name += '_';
        }
      }
      while (name.back() == '_') name.pop_back();
      return name;
    });

TEST(HostReportLoader, SchemaIsRequiredAndChecked) {
  EXPECT_EQ(load_error(""), "host.toml:1:1: schema: missing key");
  EXPECT_EQ(load_error(complete("schema = \"iommu-probe/3\"\n")),
            "host.toml:1:10: schema: expected \"iommu-probe/2\", got "
            "\"iommu-probe/3\"");
}

// Reports written before the [end] table existed cannot show that they are complete.
TEST(HostReportLoader, VersionOneReportsAreRefusedWithAWayOut) {
  EXPECT_EQ(load_error("# an old report\nschema = \"iommu-probe/1\"\n[[unit]]\nname = \"dmar0\"\n"),
            "host.toml:2:10: schema: \"iommu-probe/1\": written by an older iommu-probe, whose "
            "reports cannot show that they are complete; write the report again with this "
            "iommu-probe (schema \"iommu-probe/2\")");
}

TEST(HostReportLoader, SyntaxErrorsNamePosition) {
  const std::string error = load_error(std::string(kHead) + "unit = [\n");
  EXPECT_TRUE(error.starts_with("host.toml:")) << error;
  // Integers beyond 64 bits are a syntax error in TOML, not a crash. The unit is parsed on
  // its own, and the position is still the file's.
  const std::string huge = load_error(
      complete(std::string(kHead) + "[[unit]]\nname = \"u\"\nmodel = \"m\"\nlayout = \"none\"\n"
                                    "[unit.caps]\nssid_bits = 99999999999999999999\n"));
  EXPECT_TRUE(huge.starts_with("host.toml:7:")) << huge;
}

TEST(HostReportLoader, HostileInputNeverCrashes) {
  const std::string samples[] = {
      std::string("\0\xff\xfe", 3),
      complete(std::string(kHead) + "[[unit]]\n[[unit]]\n[unit.register]\n"),
      complete(std::string(kHead) + "unit = [1, 2]\n"),
      complete(std::string(kHead) + "[[unit]]\nname = \"u\"\nmodel = \"m\"\nlayout = \"none\"\n"
                                    "caps = 1\nregister = [\"x\"]\nextra = {a = [1]}\n"),
      complete(std::string(kHead) + "[[group]]\nid = \"0xffffffffffffffffff\"\n"),
      complete(std::string(kHead) + std::string(500, '[') + "\n"),
      std::string(kHead) + "[end]\nunits = 99999999999999999999\n",
      std::string(kHead) + "[end]\nunits = -1\ngroups = 0\ndevices = 0\ndiagnostics = 0\n",
      std::string(kHead) + "[end]\n[end]\n",
      "[end]\n" + std::string(kHead),
  };
  for (const std::string& text : samples) {
    EXPECT_FALSE(load_host_report(text, "host.toml")) << text;
  }
}

}  // namespace
}  // namespace caps

namespace caps {
namespace {

// The did-you-mean of guest files: a key far from every known one gets no suggestion.
TEST(HostReportLoader, SuggestsOnlyKeysCloseEnoughToBeTypos) {
  EXPECT_EQ(load_error(complete(std::string(kHead) + "[platform]\nkernel = \"6.1\"\n")),
            "host.toml:3:1: platform.kernel: unknown key");
  EXPECT_EQ(load_error(complete(std::string(kHead) + "[platform]\ncmdlin = \"quiet\"\n")),
            "host.toml:3:1: platform.cmdlin: unknown key, did you mean cmdline?");
}

}  // namespace
}  // namespace caps

namespace caps {
namespace {

// fuzz_host_report (CI, this merge): an [iommufd] table without `state` dereferenced the
// missing node to point at it; it is now one error naming the key.
TEST(HostReport, IommufdWithoutStateIsAnErrorNotACrash) {
  Host h = valid_utf8_sample();
  h.iommufd.state = "unavailable";
  h.iommufd.reason = "no device is bound to vfio-pci";
  h.iommufd.via = "kernel";
  std::string text = write(h);
  const size_t at = text.find("state = \"unavailable\"\n");
  ASSERT_NE(at, std::string::npos) << text;
  text.erase(at, std::string("state = \"unavailable\"\n").size());
  Result<Host> loaded = load_host_report(text, "r.toml");
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().to_string().find("state"), std::string::npos)
      << loaded.error().to_string();
}

// A group whose reserved_regions could not be read whole says so in the report and keeps it.
TEST(HostReport, RoundTripsRegionsNotKnown) {
  Host h = valid_utf8_sample();
  ASSERT_FALSE(h.groups.empty());
  h.groups[0].reserved_regions_known = false;
  EXPECT_NE(write(h).find("reserved_regions_known = false"), std::string::npos);
  expect_round_trip(h);
}

}  // namespace
}  // namespace caps
