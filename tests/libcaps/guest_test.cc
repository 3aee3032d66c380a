// SPDX-License-Identifier: MIT
// Tests for parse_guest / write_guest (libcaps/src/guest/guest.cc), the examples in
// tools/iommu-compat/examples and schemas/guest.schema.json.
#include "libcaps/guest.h"
#include "support/guest_compare.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "guest/guest_keys.h"

namespace caps {
namespace {

const std::filesystem::path kSourceDir = IOMMU_SOURCE_DIR;
const std::filesystem::path kExamples = kSourceDir / "tools/iommu-compat/examples";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// Every error as "file:line:col: message", or {} when the text parses.
std::vector<std::string> errors_of(std::string_view text, std::string_view file = "g.toml") {
  tl::expected<Guest, std::vector<Error>> guest = parse_guest(text, file);
  if (guest) return {};
  std::vector<std::string> out;
  for (const Error& e : guest.error()) out.push_back(e.to_string());
  return out;
}

Guest parse_ok(std::string_view text) {
  tl::expected<Guest, std::vector<Error>> guest = parse_guest(text, "g.toml");
  if (!guest) {
    for (const Error& e : guest.error()) ADD_FAILURE() << e.to_string();
    return {};
  }
  return *guest;
}

using testing::without_positions;

// ---------------------------------------------------------------------------------------------
// Examples

/// The exact errors each bad example gives.
const std::map<std::string, std::vector<std::string>> kBadExamples = {
    {"bad-syntax.toml",
     {"bad-syntax.toml:5:8: invalid TOML: error while parsing table header: expected ']', saw "
      "'\\n'"}},
    {"bad-unknown-key.toml",
     {"bad-unknown-key.toml:8:1: unknown key `ssid_bit` in [viommu]; did you mean `ssid_bits`?",
      "bad-unknown-key.toml:9:1: unknown key `dirty-tracking` in [viommu]; did you mean "
      "`dirty_tracking`?",
      "bad-unknown-key.toml:10:1: unknown key `colour` in [viommu]",
      "bad-unknown-key.toml:13:1: unknown key `bfd` in [[device]]; did you mean `bdf`?",
      "bad-unknown-key.toml:15:2: unknown key `pasid-table` at top level; did you mean "
      "`pasid_table`?"}},
    {"bad-wrong-type.toml",
     {"bad-wrong-type.toml:7:1: viommu.input_bits: expected an integer, got a string",
      "bad-wrong-type.toml:8:1: viommu.nested: expected a boolean, got a string",
      "bad-wrong-type.toml:9:1: viommu.units: expected an array of strings, got a string",
      "bad-wrong-type.toml:13:1: pasid_table.bytes: expected an integer, got a floating-point "
      "number"}},
    {"bad-values.toml",
     {"bad-values.toml:7:1: viommu.model: `intel-vt-d` is not one of intel-vtd | amd-vi | "
      "arm-smmu-v3 | virtio-iommu; did you mean `intel-vtd`?",
      "bad-values.toml:8:1: viommu.input_bits: expected 1..64, got 65",
      "bad-values.toml:9:1: viommu.httu: `dirty` is not one of none | access | access+dirty",
      "bad-values.toml:12:1: device[0].bdf: `3b:00.0` has no PCI domain; write `0000:3b:00.0`",
      "bad-values.toml:15:1: device[1].bdf: `0000:3b:00.8` is not a PCI address DDDD:BB:DD.F "
      "(lowercase hex, device 00-1f, function 0-7)",
      "bad-values.toml:21:1: device[3].bdf: `0000:5e:00.0` is assigned twice (first at line 18)",
      "bad-values.toml:23:1: missing required key `model` in [pasid_table]",
      "bad-values.toml:26:1: pasid_table.base_ptr: expected a non-negative integer, got -4096",
      "bad-values.toml:27:1: pasid_table.pasid_bits: expected 0..255, got 256",
      "bad-values.toml:29:1: missing required key `count` in [pasid_alloc]"}},
};

std::vector<std::filesystem::path> example_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(kExamples)) {
    if (entry.path().extension() == ".toml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(GuestExamples, GoodOnesParseBadOnesGiveTheirErrors) {
  std::vector<std::filesystem::path> files = example_files();
  ASSERT_GE(files.size(), 10u);
  std::set<std::string> bad_seen;
  for (const std::filesystem::path& path : files) {
    std::string name = path.filename().string();
    SCOPED_TRACE(name);
    std::vector<std::string> errors = errors_of(read_file(path), name);
    if (!name.starts_with("bad-")) {
      EXPECT_EQ(errors, std::vector<std::string>{});
      continue;
    }
    bad_seen.insert(name);
    auto expected = kBadExamples.find(name);
    ASSERT_NE(expected, kBadExamples.end()) << "no expected errors listed for " << name;
    EXPECT_EQ(errors, expected->second);
  }
  for (const auto& [name, errors] : kBadExamples) EXPECT_TRUE(bad_seen.count(name)) << name;
}

TEST(GuestExamples, AreListedInTheReadme) {
  std::string readme = read_file(kExamples / "README.md");
  for (const std::filesystem::path& path : example_files()) {
    EXPECT_NE(readme.find("`" + path.filename().string() + "`"), std::string::npos)
        << path.filename();
  }
}

TEST(GuestExamples, RoundTripThroughWriteGuest) {
  for (const std::filesystem::path& path : example_files()) {
    if (path.filename().string().starts_with("bad-")) continue;
    SCOPED_TRACE(path.filename().string());
    Guest first = parse_ok(read_file(path));
    Guest second = parse_ok(write_guest(first));
    EXPECT_EQ(without_positions(second), without_positions(first));
  }
}

TEST(GuestExamples, NestedIntelValues) {
  Guest g = parse_ok(read_file(kExamples / "intel-vtd-pasid-nested.toml"));
  EXPECT_EQ(g.viommu.model.value, "intel-vtd");
  EXPECT_EQ(g.viommu.ssid_bits->value, 20);
  EXPECT_EQ(g.viommu.httu->value, Httu::kAccessDirty);
  ASSERT_TRUE(g.pasid_table);
  EXPECT_EQ(g.pasid_table->model.value, PasidTableModel::kIntel);
  EXPECT_EQ(g.pasid_table->base_ptr.value, 0x7f000000u);
  ASSERT_TRUE(g.pasid_alloc);
  EXPECT_EQ(g.pasid_alloc->max.value, 0xfffffu);
  EXPECT_EQ(g.pasid_alloc->quota.value, 1000u);
}

// ---------------------------------------------------------------------------------------------
// Values, defaults and positions

constexpr std::string_view kFull = R"(format = 1

[viommu]
model = "arm-smmu-v3"
input_bits = 48
output_bits = 44
asid_bits = 16
ssid_bits = 20
httu = "access+dirty"
stall = "force"
btm = true
pgtable_format = "lpae-64"
nested = true
ats = false
page_requests = true
dirty_tracking = false
units = ["smmu0", "smmu1"]

[[device]]
bdf = "0000:3b:00.0"

[[device]]
  bdf = "arm-smmu-test.0.auto"

[pasid_table]
version = 1
bytes = 32
model = "arm-1lvl"
base_ptr = 0xffff_ffff_f000
pasid_bits = 255
s1dss = "bypass"

[pasid_alloc]
min = 0
max = 9223372036854775807
count = 0
quota = 5
)";

TEST(GuestParse, EveryKey) {
  Guest g = parse_ok(kFull);
  EXPECT_EQ(g.file, "g.toml");
  EXPECT_EQ(g.format, 1);
  const GuestViommu& v = g.viommu;
  EXPECT_EQ(v.model, (Located<std::string>{"arm-smmu-v3", {4, 1}}));
  EXPECT_EQ(v.input_bits, (Located<int>{48, {5, 1}}));
  EXPECT_EQ(v.output_bits->value, 44);
  EXPECT_EQ(v.asid_bits->value, 16);
  EXPECT_EQ(v.ssid_bits->value, 20);
  EXPECT_EQ(v.httu->value, Httu::kAccessDirty);
  EXPECT_EQ(v.stall, (Located<Stall>{Stall::kForce, {10, 1}}));
  EXPECT_EQ(v.btm->value, true);
  EXPECT_EQ(v.pgtable_format->value, "lpae-64");
  EXPECT_EQ(v.nested->value, true);
  EXPECT_EQ(v.ats->value, false);
  EXPECT_EQ(v.page_requests->value, true);
  EXPECT_EQ(v.dirty_tracking->value, false);
  EXPECT_EQ(v.units, (Located<std::vector<std::string>>{{"smmu0", "smmu1"}, {17, 1}}));
  ASSERT_EQ(g.devices.size(), 2u);
  EXPECT_EQ(g.devices[0].bdf, (Located<std::string>{"0000:3b:00.0", {20, 1}}));
  EXPECT_EQ(g.devices[1].bdf, (Located<std::string>{"arm-smmu-test.0.auto", {23, 3}}));
  ASSERT_TRUE(g.pasid_table);
  const GuestPasidTable& t = *g.pasid_table;
  EXPECT_EQ(t.pos, (SourcePos{25, 1}));
  EXPECT_EQ(t.version, (Located<uint64_t>{1, {26, 1}}));
  EXPECT_EQ(t.bytes.value, 32u);
  EXPECT_EQ(t.model.value, PasidTableModel::kArm1Lvl);
  EXPECT_EQ(t.base_ptr, (Located<uint64_t>{0xfffffffff000u, {29, 1}}));
  EXPECT_EQ(t.pasid_bits.value, 255);
  EXPECT_EQ(t.s1dss->value, S1dss::kBypass);
  ASSERT_TRUE(g.pasid_alloc);
  const GuestPasidAlloc& a = *g.pasid_alloc;
  EXPECT_EQ(a.pos, (SourcePos{33, 1}));
  EXPECT_EQ(a.min.value, 0u);
  EXPECT_EQ(a.max.value, 9223372036854775807u);
  EXPECT_EQ(a.count.value, 0u);
  EXPECT_EQ(a.quota, (Located<uint64_t>{5, {37, 1}}));
}

TEST(GuestParse, HeaderPositions) {
  Guest g = parse_ok("\n\n  [viommu]  # the vIOMMU\nmodel = \"amd-vi\"\n");
  EXPECT_EQ(g.viommu_pos, (SourcePos{3, 3}));
  EXPECT_EQ(g.viommu.model.pos, (SourcePos{4, 1}));
}

TEST(GuestParse, PositionIsTheKeysEvenForDottedAndInlineTables) {
  Guest g = parse_ok("viommu.model = \"amd-vi\"\nviommu.input_bits = 48\n");
  EXPECT_EQ(g.viommu.input_bits, (Located<int>{48, {2, 8}}));
  g = parse_ok("viommu = { model = \"amd-vi\", ssid_bits = 16 }\n");
  EXPECT_EQ(g.viommu.ssid_bits, (Located<int>{16, {1, 30}}));
}

TEST(GuestParse, Defaults) {
  Guest g = parse_ok(
      "[viommu]\nmodel = \"virtio-iommu\"\n\n[pasid_alloc]\nmin = 1\nmax = 7\ncount = 2\n");
  EXPECT_EQ(g.format, 1);
  EXPECT_EQ(g.viommu.ssid_bits, std::nullopt);  // absent: 0, no PASID
  EXPECT_EQ(g.viommu.input_bits, std::nullopt);
  EXPECT_EQ(g.viommu.units, std::nullopt);
  EXPECT_TRUE(g.devices.empty());
  EXPECT_EQ(g.pasid_table, std::nullopt);
  ASSERT_TRUE(g.pasid_alloc);
  EXPECT_EQ(g.pasid_alloc->quota, (Located<uint64_t>{1000, {}}));  // default, not written
  EXPECT_EQ(g.pasid_alloc->quota.value, kGuestDefaultQuota);
}

TEST(GuestParse, RangeEdgesAreAccepted) {
  Guest g = parse_ok(
      "[viommu]\nmodel = \"intel-vtd\"\ninput_bits = 1\noutput_bits = 64\nasid_bits = 0\n"
      "ssid_bits = 32\n[pasid_table]\nversion = 0\nbytes = 0\nmodel = \"host\"\nbase_ptr = 0\n"
      "pasid_bits = 0\n");
  EXPECT_EQ(g.viommu.input_bits->value, 1);
  EXPECT_EQ(g.viommu.output_bits->value, 64);
  EXPECT_EQ(g.viommu.asid_bits->value, 0);
  EXPECT_EQ(g.viommu.ssid_bits->value, 32);  // > 20 is the checker's rule, not a parse error
  EXPECT_EQ(g.pasid_table->base_ptr.value, 0u);
}

TEST(GuestParse, Memory) {
  Guest g = parse_ok(
      "[viommu]\nmodel = \"amd-vi\"\n[memory]\nsize = 0x4_0000_0000\nphys_bits = 46\n"
      "above_4g_start = 0x1_0000_0000\n");
  ASSERT_TRUE(g.memory);
  EXPECT_EQ(g.memory->pos, (SourcePos{3, 1}));
  EXPECT_EQ(g.memory->size->value, uint64_t{16} << 30);
  EXPECT_EQ(g.memory->size->pos, (SourcePos{4, 1}));
  EXPECT_EQ(g.memory->phys_bits->value, 46);
  EXPECT_EQ(g.memory->above_4g_start->value, uint64_t{1} << 32);
  // Written back in the order of kGuestMemoryKeys, read back to the same values.
  const std::string text = write_guest(g);
  EXPECT_NE(text.find("\n[memory]\nsize = 0x400000000\nphys_bits = 46\n"
                      "above_4g_start = 0x100000000\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(testing::without_positions(parse_ok(text)), testing::without_positions(g));
  // An empty table stays one; no table, none.
  EXPECT_TRUE(parse_ok("[viommu]\nmodel = \"amd-vi\"\n[memory]\n").memory);
  EXPECT_FALSE(parse_ok("[viommu]\nmodel = \"amd-vi\"\n").memory);
  EXPECT_EQ(errors_of("[viommu]\nmodel = \"amd-vi\"\n[memory]\nsize = 0\nphys_bits = 65\n"
                      "above_4g_start = 0xffffffff\nsizes = 1\n"),
            (std::vector<std::string>{
                "g.toml:4:1: memory.size: expected 1..9223372036854775807, got 0",
                "g.toml:5:1: memory.phys_bits: expected 1..64, got 65",
                "g.toml:6:1: memory.above_4g_start: expected 4294967296..9223372036854775807, "
                "got 4294967295",
                "g.toml:7:1: unknown key `sizes` in [memory]; did you mean `size`?"}));
}

TEST(GuestParse, DeviceNames) {
  for (std::string_view name : {"0000:00:02.0", "0000:ff:1f.7", "10000:01:00.0", "ffffffff:00:00.0",
                                "fsl-mc-dprc.1", "a"}) {
    SCOPED_TRACE(name);
    Guest g =
        parse_ok("[viommu]\nmodel = \"amd-vi\"\n[[device]]\nbdf = \"" + std::string(name) + "\"\n");
    ASSERT_EQ(g.devices.size(), 1u);
    EXPECT_EQ(g.devices[0].bdf.value, name);
  }
  for (std::string_view name : {"0000:3B:00.0", "0000:3b:20.0", "0000:3b:00.8", "000:3b:00.0",
                                "0000:3b:0.0", "0000:3b:00.00", "0000:3b:00", ":::", "a:b"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(errors_of("[viommu]\nmodel = \"amd-vi\"\n[[device]]\nbdf = \"" + std::string(name) +
                        "\"\n"),
              std::vector<std::string>{"g.toml:4:1: device[0].bdf: `" + std::string(name) +
                                       "` is not a PCI address DDDD:BB:DD.F (lowercase hex, "
                                       "device 00-1f, function 0-7)"});
  }
  EXPECT_EQ(errors_of("[viommu]\nmodel = \"amd-vi\"\n[[device]]\nbdf = \"a b/c\"\n"),
            std::vector<std::string>{"g.toml:4:1: device[0].bdf: `a b/c` is neither a PCI "
                                     "address DDDD:BB:DD.F nor a device name"});
}

// ---------------------------------------------------------------------------------------------
// Every error class, with its position

struct ErrorCase {
  std::string_view name;
  std::string_view text;
  std::vector<std::string> errors;
};

const ErrorCase kErrorCases[] = {
    {"syntax",
     "[viommu]\nmodel = \"intel-vtd\n",
     {"g.toml:2:19: invalid TOML: error while parsing string: unescaped control characters other "
      "than TAB (U+0009) are explicitly prohibited"}},
    {"duplicate key",
     "[viommu]\nmodel = \"amd-vi\"\nmodel = \"amd-vi\"\n",
     {"g.toml:3:9: invalid TOML: error while parsing key-value pair: cannot redefine existing "
      "string 'model'"}},
    {"no viommu", "format = 1\n", {"g.toml:1:1: missing required key `model` in [viommu]"}},
    {"empty file", "", {"g.toml:1:1: missing required key `model` in [viommu]"}},
    {"no model",
     "\n[viommu]\ninput_bits = 48\n",
     {"g.toml:2:1: missing required key `model` in [viommu]"}},
    {"viommu not a table",
     "viommu = \"intel-vtd\"\n",
     {"g.toml:1:1: viommu: expected a table, got a string"}},
    {"unknown top-level key near viommu",
     "[viomu]\nmodel = \"amd-vi\"\n",
     {"g.toml:1:2: unknown key `viomu` at top level; did you mean `viommu`?"}},
    {"unknown key far from any",
     "[viommu]\nmodel = \"amd-vi\"\nfrobnicate = 1\n",
     {"g.toml:3:1: unknown key `frobnicate` in [viommu]"}},
    {"unknown short key",
     "[viommu]\nmodel = \"amd-vi\"\nbtn = true\nxyz = 1\n",
     {"g.toml:3:1: unknown key `btn` in [viommu]; did you mean `btm`?",
      "g.toml:4:1: unknown key `xyz` in [viommu]"}},
    {"unknown sub-table",
     "[viommu]\nmodel = \"amd-vi\"\n[viommu.extra]\nx = 1\n",
     {"g.toml:3:9: unknown key `extra` in [viommu]"}},
    {"unknown key in pasid_alloc",
     "[viommu]\nmodel = \"amd-vi\"\n[pasid_alloc]\nmin = 1\nmax = 2\ncount = 1\nqouta = 3\n",
     {"g.toml:7:1: unknown key `qouta` in [pasid_alloc]; did you mean `quota`?"}},
    {"unknown key near a missing required one",
     "[viommu]\nmodel = \"amd-vi\"\n[pasid_table]\nversion = 1\nbytes = 32\nmodle = \"amd\"\n"
     "base_ptr = 0x1000\npasid_bits = 16\n",
     {"g.toml:6:1: unknown key `modle` in [pasid_table]; did you mean `model`?"}},
    {"format",
     "format = 2\n[viommu]\nmodel = \"amd-vi\"\n",
     {"g.toml:1:1: format: unsupported format 2 (this version reads format 1)"}},
    {"format type",
     "format = \"1\"\n[viommu]\nmodel = \"amd-vi\"\n",
     {"g.toml:1:1: format: expected an integer, got a string"}},
    {"model type",
     "[viommu]\nmodel = 1\n",
     {"g.toml:2:1: viommu.model: expected a string, got an integer"}},
    {"model unknown",
     "[viommu]\nmodel = \"smmu\"\n",
     {"g.toml:2:1: viommu.model: `smmu` is not one of intel-vtd | amd-vi | arm-smmu-v3 | "
      "virtio-iommu"}},
    {"empty model",
     "[viommu]\nmodel = \"\"\n",
     {"g.toml:2:1: viommu.model: expected a non-empty string"}},
    {"widths",
     "[viommu]\nmodel = \"amd-vi\"\ninput_bits = 0\noutput_bits = 65\nasid_bits = 33\n"
     "ssid_bits = -1\n",
     {"g.toml:3:1: viommu.input_bits: expected 1..64, got 0",
      "g.toml:4:1: viommu.output_bits: expected 1..64, got 65",
      "g.toml:5:1: viommu.asid_bits: expected 0..32, got 33",
      "g.toml:6:1: viommu.ssid_bits: expected 0..32, got -1"}},
    {"width types",
     "[viommu]\nmodel = \"amd-vi\"\ninput_bits = 48.0\nasid_bits = true\nssid_bits = [20]\n"
     "output_bits = 1979-05-27\n",
     {"g.toml:3:1: viommu.input_bits: expected an integer, got a floating-point number",
      "g.toml:4:1: viommu.asid_bits: expected an integer, got a boolean",
      "g.toml:5:1: viommu.ssid_bits: expected an integer, got an array",
      "g.toml:6:1: viommu.output_bits: expected an integer, got a date"}},
    {"enums",
     "[viommu]\nmodel = \"arm-smmu-v3\"\nhttu = \"acess\"\nstall = \"forced\"\n",
     {"g.toml:3:1: viommu.httu: `acess` is not one of none | access | access+dirty; did you mean "
      "`access`?",
      "g.toml:4:1: viommu.stall: `forced` is not one of disabled | enabled | force; did you mean "
      "`force`?"}},
    {"booleans",
     "[viommu]\nmodel = \"amd-vi\"\nbtm = 1\nnested = \"true\"\nats = {}\npage_requests = 0\n"
     "dirty_tracking = 12:00:00\n",
     {"g.toml:3:1: viommu.btm: expected a boolean, got an integer",
      "g.toml:4:1: viommu.nested: expected a boolean, got a string",
      "g.toml:5:1: viommu.ats: expected a boolean, got a table",
      "g.toml:6:1: viommu.page_requests: expected a boolean, got an integer",
      "g.toml:7:1: viommu.dirty_tracking: expected a boolean, got a time"}},
    {"pgtable_format",
     "[viommu]\nmodel = \"amd-vi\"\npgtable_format = \"\"\n",
     {"g.toml:3:1: viommu.pgtable_format: expected a non-empty string"}},
    {"units empty",
     "[viommu]\nmodel = \"amd-vi\"\nunits = []\n",
     {"g.toml:3:1: viommu.units: expected a non-empty array (leave `units` out to check every "
      "unit)"}},
    {"units elements",
     "[viommu]\nmodel = \"amd-vi\"\nunits = [\"ivhd0\", 1,\n  \"\", \"ivhd0\"]\n",
     {"g.toml:3:19: viommu.units[1]: expected a string, got an integer",
      "g.toml:4:3: viommu.units[2]: expected a non-empty string",
      "g.toml:4:7: viommu.units[3]: `ivhd0` is listed twice"}},
    {"device not an array of tables",
     "device = { bdf = \"0000:00:02.0\" }\n[viommu]\nmodel = \"amd-vi\"\n",
     {"g.toml:1:1: device: expected an array of tables ([[device]]), got a table"}},
    {"device element not a table",
     "device = [\"0000:00:02.0\"]\n[viommu]\nmodel = \"amd-vi\"\n",
     {"g.toml:1:11: device[0]: expected a table, got a string"}},
    {"device without bdf",
     "[viommu]\nmodel = \"amd-vi\"\n\n[[device]]\n",
     {"g.toml:4:1: missing required key `bdf` in [[device]]"}},
    {"bdf type",
     "[viommu]\nmodel = \"amd-vi\"\n[[device]]\nbdf = 0x3b00\n",
     {"g.toml:4:1: device[0].bdf: expected a string, got an integer"}},
    {"duplicate device",
     "[viommu]\nmodel = \"amd-vi\"\n[[device]]\nbdf = \"0000:00:02.0\"\n[[device]]\nbdf = "
     "\"0000:00:02.1\"\n[[device]]\nbdf = \"0000:00:02.0\"\n",
     {"g.toml:8:1: device[2].bdf: `0000:00:02.0` is assigned twice (first at line 4)"}},
    {"pasid_table missing everything",
     "[viommu]\nmodel = \"amd-vi\"\n[pasid_table]\n",
     {"g.toml:3:1: missing required key `version` in [pasid_table]",
      "g.toml:3:1: missing required key `bytes` in [pasid_table]",
      "g.toml:3:1: missing required key `model` in [pasid_table]",
      "g.toml:3:1: missing required key `base_ptr` in [pasid_table]",
      "g.toml:3:1: missing required key `pasid_bits` in [pasid_table]"}},
    {"pasid_table values",
     "[viommu]\nmodel = \"arm-smmu-v3\"\n[pasid_table]\nversion = -1\nbytes = -32\n"
     "model = \"arm\"\nbase_ptr = \"0x1000\"\npasid_bits = -1\ns1dss = \"abort\"\n",
     {"g.toml:4:1: pasid_table.version: expected a non-negative integer, got -1",
      "g.toml:5:1: pasid_table.bytes: expected a non-negative integer, got -32",
      "g.toml:6:1: pasid_table.model: `arm` is not one of host | arm-1lvl | arm-2lvl | amd | "
      "intel",
      "g.toml:7:1: pasid_table.base_ptr: expected an integer, got a string",
      "g.toml:8:1: pasid_table.pasid_bits: expected 0..255, got -1",
      "g.toml:9:1: pasid_table.s1dss: `abort` is not one of terminate | bypass | ssid0"}},
    {"pasid_table not a table",
     "pasid_table = 1\n[viommu]\nmodel = \"amd-vi\"\n",
     {"g.toml:1:1: pasid_table: expected a table, got an integer"}},
    {"pasid_alloc values",
     "[viommu]\nmodel = \"amd-vi\"\n[pasid_alloc]\nmin = -1\nmax = -2\ncount = -3\nquota = -4\n",
     {"g.toml:4:1: pasid_alloc.min: expected a non-negative integer, got -1",
      "g.toml:5:1: pasid_alloc.max: expected a non-negative integer, got -2",
      "g.toml:6:1: pasid_alloc.count: expected a non-negative integer, got -3",
      "g.toml:7:1: pasid_alloc.quota: expected a non-negative integer, got -4"}},
    {"pasid_alloc missing",
     "[viommu]\nmodel = \"amd-vi\"\n\n[pasid_alloc]\nquota = 1\n",
     {"g.toml:4:1: missing required key `min` in [pasid_alloc]",
      "g.toml:4:1: missing required key `max` in [pasid_alloc]",
      "g.toml:4:1: missing required key `count` in [pasid_alloc]"}},
};

TEST(GuestErrors, EveryClassWithItsPosition) {
  for (const ErrorCase& c : kErrorCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(errors_of(c.text), c.errors);
  }
}

TEST(GuestErrors, AllReportedInFileOrder) {
  // toml++ iterates keys alphabetically; errors still come in file order.
  std::string text =
      "format = 3\n"
      "zzz = 1\n"
      "[viommu]\n"
      "ssid_bits = 99\n"
      "model = \"x86\"\n"
      "input_bits = \"48\"\n"
      "[[device]]\n"
      "bdf = \"00:02.0\"\n"
      "[pasid_alloc]\n"
      "max = 1\n";
  EXPECT_EQ(errors_of(text, "vm.toml"),
            (std::vector<std::string>{
                "vm.toml:1:1: format: unsupported format 3 (this version reads format 1)",
                "vm.toml:2:1: unknown key `zzz` at top level",
                "vm.toml:4:1: viommu.ssid_bits: expected 0..32, got 99",
                "vm.toml:5:1: viommu.model: `x86` is not one of intel-vtd | amd-vi | "
                "arm-smmu-v3 | virtio-iommu",
                "vm.toml:6:1: viommu.input_bits: expected an integer, got a string",
                "vm.toml:8:1: device[0].bdf: `00:02.0` has no PCI domain; write `0000:00:02.0`",
                "vm.toml:9:1: missing required key `min` in [pasid_alloc]",
                "vm.toml:9:1: missing required key `count` in [pasid_alloc]",
            }));
}

TEST(GuestErrors, WhereAndMessageAreSeparate) {
  tl::expected<Guest, std::vector<Error>> g = parse_guest("[viommu]\nmodel = 1\n", "a/b.toml");
  ASSERT_FALSE(g);
  ASSERT_EQ(g.error().size(), 1u);
  EXPECT_EQ(g.error()[0].where, "a/b.toml");
  EXPECT_EQ(g.error()[0].pos, (SourcePos{2, 1}));
  EXPECT_EQ(g.error()[0].message, "viommu.model: expected a string, got an integer");
}

// ---------------------------------------------------------------------------------------------
// write_guest

TEST(GuestWrite, RoundTripsEveryKey) {
  Guest first = parse_ok(kFull);
  std::string text = write_guest(first);
  EXPECT_EQ(write_guest(first), text);  // deterministic
  EXPECT_NE(text.find("base_ptr = 0xfffffffff000\n"), std::string::npos) << text;
  Guest second = parse_ok(text);
  EXPECT_EQ(without_positions(second), without_positions(first));
}

TEST(GuestWrite, Minimal) {
  Guest g;
  g.file = "g.toml";
  g.viommu.model.value = "virtio-iommu";
  EXPECT_EQ(write_guest(g),
            "# iommu-compat guest description (format 1)\n"
            "format = 1\n"
            "\n"
            "[viommu]\n"
            "model = \"virtio-iommu\"\n");
  EXPECT_EQ(without_positions(parse_ok(write_guest(g))), without_positions(g));
}

TEST(GuestWrite, EscapesStrings) {
  Guest g;
  g.viommu.model.value = "amd-vi";
  g.viommu.pgtable_format = Located<std::string>{"a\"b\\c\td\x01\x7f\xc3\xa9", {}};
  g.viommu.units = Located<std::vector<std::string>>{{"unit \"0\"", "#1"}, {}};
  g.devices.push_back({{"dev\\x", {}}});
  g.pasid_table = GuestPasidTable{};
  g.pasid_table->s1dss = Located<S1dss>{S1dss::kSsid0, {}};
  g.pasid_alloc = GuestPasidAlloc{};
  g.pasid_alloc->quota.value = 1000;
  Guest back = parse_ok(write_guest(g));
  back.file.clear();
  EXPECT_EQ(without_positions(back), without_positions(g)) << write_guest(g);
}

// ---------------------------------------------------------------------------------------------
// Hostile input: never a crash, always an error

TEST(GuestHostile, HugeIntegers) {
  EXPECT_EQ(errors_of("[viommu]\nmodel = \"amd-vi\"\ninput_bits = 99999999999999999999\n"),
            std::vector<std::string>{"g.toml:3:34: invalid TOML: error while parsing decimal "
                                     "integer: '99999999999999999999' is not representable in "
                                     "64 bits"});
  EXPECT_EQ(errors_of("[viommu]\nmodel = \"amd-vi\"\ninput_bits = 9223372036854775807\n"),
            std::vector<std::string>{
                "g.toml:3:1: viommu.input_bits: expected 1..64, got 9223372036854775807"});
  EXPECT_EQ(errors_of("[viommu]\nmodel = \"amd-vi\"\nasid_bits = -9223372036854775808\n"),
            std::vector<std::string>{
                "g.toml:3:1: viommu.asid_bits: expected 0..32, got -9223372036854775808"});
  // u64 values above INT64_MAX cannot be written in TOML at all.
  EXPECT_EQ(errors_of("[viommu]\nmodel = \"amd-vi\"\n[pasid_table]\nbase_ptr = "
                      "0xffffffffffffffff\n")
                .size(),
            1u);
}

TEST(GuestHostile, DeepNesting) {
  std::string arrays = "[viommu]\nmodel = \"amd-vi\"\nunits = " + std::string(100000, '[');
  EXPECT_EQ(errors_of(arrays).size(), 1u);
  std::string inline_tables = "x = ";
  for (int i = 0; i < 100000; ++i) inline_tables += "{a = ";
  EXPECT_EQ(errors_of(inline_tables).size(), 1u);

  // Dotted keys: toml++ recurses per level and overflows the stack near 50 000, so these are
  // refused before it parses them.
  std::string dotted = "a";
  for (int i = 0; i < 200000; ++i) dotted += ".a";
  EXPECT_EQ(errors_of(dotted + " = 1\n"),
            std::vector<std::string>{"g.toml:1:2002: too deeply dotted: more than 1000 '.' "
                                     "outside strings and comments"});
  EXPECT_EQ(errors_of("[" + dotted + "]\n").size(), 1u);
  EXPECT_EQ(errors_of("[[" + dotted + "]]\n").size(), 1u);

  // Fewer levels go through toml++ and come back as an unknown key.
  std::string some = "[viommu]\nmodel = \"amd-vi\"\n[viommu.a";
  for (int i = 0; i < 900; ++i) some += ".a";
  EXPECT_EQ(errors_of(some + "]\n"),
            std::vector<std::string>{"g.toml:3:9: unknown key `a` in [viommu]"});
}

TEST(GuestHostile, DotsInStringsAndCommentsDoNotCount) {
  std::string text = "# " + std::string(5000, '.') + "\n[viommu]\nmodel = \"amd-vi\"\n";
  text += "pgtable_format = \"" + std::string(5000, '.') + "\"\n";
  // Each kind of string: literal, multi-line basic, multi-line literal, basic with an escaped
  // quote (the scanner must not leave the string at \").
  text += "units = ['" + std::string(5001, '.') + "', \"\"\"\n" + std::string(5002, '.') +
          "\"\"\", \'\'\'" + std::string(5003, '.') + "\'\'\', \"\\\"" + std::string(5004, '.') +
          "\"]\n";
  Guest g = parse_ok(text);
  ASSERT_TRUE(g.viommu.units);
  EXPECT_EQ(g.viommu.units->value.size(), 4u);
}

TEST(GuestHostile, NulBytesAndInvalidUtf8) {
  using namespace std::string_literals;
  EXPECT_EQ(errors_of("[viommu]\nmodel = \"amd\0-vi\"\n"s),
            std::vector<std::string>{"g.toml:2:13: invalid TOML: error while parsing string: "
                                     "unescaped control characters other than TAB (U+0009) are "
                                     "explicitly prohibited"});
  EXPECT_EQ(errors_of("[viommu]\0\nmodel = \"amd-vi\"\n"s).size(), 1u);
  EXPECT_EQ(errors_of("[viommu]\nmodel = \"amd-vi\" # caf\xe9\n"),
            std::vector<std::string>{"g.toml:2:23: invalid TOML: encountered invalid utf-8 "
                                     "sequence"});
  EXPECT_EQ(errors_of("[viommu]\nmodel = \"\xff\xfe\"\n").size(), 1u);
  EXPECT_EQ(errors_of("\xef\xbb\xbf[viommu]\nmodel = \"amd-vi\"\n"), std::vector<std::string>{});
}

TEST(GuestHostile, TooLargeAndLongKeys) {
  std::string large = "[viommu]\nmodel = \"amd-vi\"\n# " + std::string(kGuestMaxBytes, 'x');
  EXPECT_EQ(errors_of(large),
            std::vector<std::string>{"g.toml:1:1: file is too large: " +
                                     std::to_string(large.size()) + " bytes (at most 1048576)"});
  std::string key(100000, 'k');
  EXPECT_EQ(errors_of("[viommu]\nmodel = \"amd-vi\"\n" + key + " = 1\n"),
            std::vector<std::string>{"g.toml:3:1: unknown key `" + key + "` in [viommu]"});
}

TEST(GuestHostile, ManyDevicesAndErrors) {
  std::string text = "[viommu]\nmodel = \"amd-vi\"\n";
  for (int i = 0; i < 3000; ++i) text += "[[device]]\nbdf = \"0000:00:00.0\"\nx = 1\n";
  std::vector<std::string> errors = errors_of(text);
  EXPECT_EQ(errors.size(), 2999u + 3000u);
  EXPECT_EQ(errors[0], "g.toml:5:1: unknown key `x` in [[device]]");
  EXPECT_EQ(errors[1],
            "g.toml:7:1: device[1].bdf: `0000:00:00.0` is assigned twice (first at line 4)");
}

// ---------------------------------------------------------------------------------------------
// Enumerations

TEST(GuestEnums, ToStringMatchesTheContract) {
  std::vector<std::string_view> models, s1dss;
  for (PasidTableModel m : kGuestPasidTableModels) models.push_back(to_string(m));
  for (S1dss s : kGuestS1dssValues) s1dss.push_back(to_string(s));
  EXPECT_EQ(models,
            (std::vector<std::string_view>{"host", "arm-1lvl", "arm-2lvl", "amd", "intel"}));
  EXPECT_EQ(s1dss, (std::vector<std::string_view>{"terminate", "bypass", "ssid0"}));
  for (Httu h : kGuestHttuValues) EXPECT_EQ(parse_httu(to_string(h)), h);
  for (Stall s : kGuestStallValues) EXPECT_EQ(parse_stall(to_string(s)), s);
}

// ---------------------------------------------------------------------------------------------
// schemas/guest.schema.json: valid JSON that describes exactly what the parser knows.

/// Just enough JSON to check the schema: a strict recursive-descent parser (RFC 8259 grammar,
/// without \u escapes beyond ASCII) that fails on anything malformed.
struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::vector<std::pair<std::string, Json>> object;

  const Json* get(std::string_view key) const {
    for (const auto& [k, v] : object) {
      if (k == key) return &v;
    }
    return nullptr;
  }
};

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  std::optional<Json> parse() {
    Json value;
    if (!parse_value(value, 0)) return std::nullopt;
    skip_space();
    if (pos_ != text_.size()) return std::nullopt;
    return value;
  }

 private:
  void skip_space() {
    while (pos_ < text_.size() &&
           std::string_view(" \t\r\n").find(text_[pos_]) != std::string_view::npos)
      ++pos_;
  }
  bool eat(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  bool parse_string(std::string& out) {
    if (!eat('"')) return false;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) return false;
      char e = text_[pos_++];
      std::string_view simple = "\"\\/bfnrt";
      if (simple.find(e) != std::string_view::npos) {
        out += std::string_view("\"\\/\b\f\n\r\t")[simple.find(e)];
      } else if (e == 'u' && pos_ + 4 <= text_.size()) {
        out += '?';
        pos_ += 4;
      } else {
        return false;
      }
    }
    return false;
  }
  bool parse_value(Json& out, int depth) {
    if (depth > 64) return false;
    skip_space();
    if (pos_ >= text_.size()) return false;
    char c = text_[pos_];
    if (c == '{') {
      ++pos_;
      out.kind = Json::Kind::kObject;
      if (eat('}')) return true;
      do {
        std::string key;
        Json value;
        if (!parse_string(key) || !eat(':') || !parse_value(value, depth + 1)) return false;
        if (out.get(key) != nullptr) return false;  // duplicate keys: ambiguous for editors
        out.object.emplace_back(std::move(key), std::move(value));
      } while (eat(','));
      return eat('}');
    }
    if (c == '[') {
      ++pos_;
      out.kind = Json::Kind::kArray;
      if (eat(']')) return true;
      do {
        Json value;
        if (!parse_value(value, depth + 1)) return false;
        out.array.push_back(std::move(value));
      } while (eat(','));
      return eat(']');
    }
    if (c == '"') {
      out.kind = Json::Kind::kString;
      return parse_string(out.string);
    }
    if (literal("true") || literal("false")) {
      out.kind = Json::Kind::kBool;
      out.boolean = text_[pos_ - 1] == 'e' && text_[pos_ - 2] == 'u';
      return true;
    }
    if (literal("null")) return true;
    size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    while (pos_ < text_.size() &&
           (std::isdigit(static_cast<unsigned char>(text_[pos_])) ||
            std::string_view(".eE+-").find(text_[pos_]) != std::string_view::npos)) {
      ++pos_;
    }
    if (pos_ == start) return false;
    out.kind = Json::Kind::kNumber;
    out.number = std::stod(std::string(text_.substr(start, pos_ - start)));
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

std::vector<std::string> keys_of(const Json* object) {
  std::vector<std::string> keys;
  if (object == nullptr) return keys;
  for (const auto& [k, v] : object->object) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  return keys;
}

template <size_t N>
std::vector<std::string> sorted(const std::array<std::string_view, N>& words) {
  std::vector<std::string> out(words.begin(), words.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> enum_of(const Json& property) {
  std::vector<std::string> out;
  if (const Json* e = property.get("enum")) {
    for (const Json& v : e->array) out.push_back(v.string);
  }
  return out;
}

template <class E, size_t N>
std::vector<std::string> names(const std::array<E, N>& all) {
  std::vector<std::string> out;
  for (E e : all) out.emplace_back(to_string(e));
  return out;
}

class GuestSchema : public ::testing::Test {
 protected:
  void SetUp() override {
    text_ = read_file(kSourceDir / "schemas/guest.schema.json");
    std::optional<Json> json = JsonParser(text_).parse();
    ASSERT_TRUE(json) << "schemas/guest.schema.json is not valid JSON";
    schema_ = *json;
  }

  /// The "properties" object of the table `table` ("" = top level).
  const Json* properties(std::string_view table) const {
    const Json* object = &schema_;
    if (table == "device")
      return schema_.get("properties")->get("device")->get("items")->get("properties");
    if (!table.empty()) object = schema_.get("properties")->get(table);
    return object == nullptr ? nullptr : object->get("properties");
  }

  const Json& property(std::string_view table, std::string_view key) const {
    static const Json kMissing;
    const Json* props = properties(table);
    const Json* p = props == nullptr ? nullptr : props->get(key);
    if (p == nullptr) ADD_FAILURE() << "no schema for " << table << "." << key;
    return p == nullptr ? kMissing : *p;
  }

  void expect_range(std::string_view table, std::string_view key, GuestRange range) const {
    SCOPED_TRACE(std::string(table) + "." + std::string(key));
    const Json& p = property(table, key);
    ASSERT_NE(p.get("minimum"), nullptr);
    EXPECT_EQ(p.get("minimum")->number, static_cast<double>(range.lo));
    if (range.hi == GuestRange{}.hi) {
      EXPECT_EQ(p.get("maximum"), nullptr);
      return;
    }
    ASSERT_NE(p.get("maximum"), nullptr);
    EXPECT_EQ(p.get("maximum")->number, static_cast<double>(range.hi));
  }

  std::string text_;
  Json schema_;
};

TEST_F(GuestSchema, Is202012AndTellsHowToUseIt) {
  ASSERT_NE(schema_.get("$schema"), nullptr);
  EXPECT_EQ(schema_.get("$schema")->string, "https://json-schema.org/draft/2020-12/schema");
  EXPECT_NE(schema_.get("description")->string.find("#:schema ./schemas/guest.schema.json"),
            std::string::npos);
}

TEST_F(GuestSchema, HasExactlyTheParsersKeys) {
  EXPECT_EQ(keys_of(properties("")), sorted(kGuestTopKeys));
  EXPECT_EQ(keys_of(properties("viommu")), sorted(kGuestViommuKeys));
  EXPECT_EQ(keys_of(properties("device")), sorted(kGuestDeviceKeys));
  EXPECT_EQ(keys_of(properties("pasid_table")), sorted(kGuestPasidTableKeys));
  EXPECT_EQ(keys_of(properties("pasid_alloc")), sorted(kGuestPasidAllocKeys));
  EXPECT_EQ(keys_of(properties("memory")), sorted(kGuestMemoryKeys));
}

TEST_F(GuestSchema, EveryTableIsClosed) {
  const Json* top = &schema_;
  const Json* props = top->get("properties");
  for (const Json* table : {top, props->get("viommu"), props->get("device")->get("items"),
                            props->get("pasid_table"), props->get("pasid_alloc"),
                            props->get("memory")}) {
    ASSERT_NE(table->get("additionalProperties"), nullptr);
    EXPECT_EQ(table->get("additionalProperties")->kind, Json::Kind::kBool);
    EXPECT_FALSE(table->get("additionalProperties")->boolean);
  }
}

TEST_F(GuestSchema, EnumsAndRangesMatchTheParser) {
  EXPECT_EQ(enum_of(property("viommu", "model")),
            std::vector<std::string>(kGuestViommuModels.begin(), kGuestViommuModels.end()));
  EXPECT_EQ(enum_of(property("viommu", "httu")), names(kGuestHttuValues));
  EXPECT_EQ(enum_of(property("viommu", "stall")), names(kGuestStallValues));
  EXPECT_EQ(enum_of(property("pasid_table", "model")), names(kGuestPasidTableModels));
  EXPECT_EQ(enum_of(property("pasid_table", "s1dss")), names(kGuestS1dssValues));

  expect_range("viommu", "input_bits", kGuestAddressBitsRange);
  expect_range("viommu", "output_bits", kGuestAddressBitsRange);
  expect_range("viommu", "asid_bits", kGuestAsidBitsRange);
  expect_range("viommu", "ssid_bits", kGuestSsidBitsRange);
  expect_range("pasid_table", "pasid_bits", kGuestPasidBitsRange);
  for (std::string_view key : {"version", "bytes", "base_ptr"}) {
    expect_range("pasid_table", key, kGuestUnsignedRange);
  }
  for (std::string_view key : kGuestPasidAllocKeys)
    expect_range("pasid_alloc", key, kGuestUnsignedRange);
  expect_range("memory", "size", kGuestMemorySizeRange);
  expect_range("memory", "phys_bits", kGuestPhysBitsRange);
  expect_range("memory", "above_4g_start", kGuestAbove4gRange);
  EXPECT_EQ(property("pasid_alloc", "quota").get("default")->number,
            static_cast<double>(kGuestDefaultQuota));
}

TEST_F(GuestSchema, RequiredKeys) {
  auto required = [](const Json* object) {
    std::vector<std::string> out;
    if (const Json* r = object->get("required")) {
      for (const Json& v : r->array) out.push_back(v.string);
    }
    return out;
  };
  const Json* props = schema_.get("properties");
  EXPECT_EQ(required(props->get("viommu")), std::vector<std::string>{"model"});
  EXPECT_EQ(required(props->get("device")->get("items")), std::vector<std::string>{"bdf"});
  EXPECT_EQ(required(props->get("pasid_table")),
            (std::vector<std::string>{"version", "bytes", "model", "base_ptr", "pasid_bits"}));
  EXPECT_EQ(required(props->get("pasid_alloc")), (std::vector<std::string>{"min", "max", "count"}));
}

TEST(GuestSchemaJson, ParserRejectsMalformedJson) {
  for (std::string_view bad :
       {"", "{", "{\"a\":}", "[1,]", "{\"a\":1,\"a\":2}", "{} x", "\"\n\""}) {
    EXPECT_FALSE(JsonParser(bad).parse()) << bad;
  }
  EXPECT_TRUE(JsonParser("{\"a\": [1, -2.5e3, true, false, null, \"x\\n\"]}").parse());
}

}  // namespace
}  // namespace caps
