// SPDX-License-Identifier: MIT
// Tests for fake-sysfs-build: the checked-in host trees reproduce exactly, description errors
// name file:line, and generated PCI config spaces carry their capabilities at the right offsets.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {
namespace fs = std::filesystem;

const fs::path kSourceDir = IOMMU_SOURCE_DIR;
const fs::path kHostsDir = kSourceDir / "fake-sysfs" / "hosts";
const fs::path kTool = fs::path(IOMMU_BINARY_DIR) / "fake-sysfs" / "fake-sysfs-build";

/// A scratch directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "fake-sysfs-test.XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct RunResult {
  int status = -1;     // exit status, -1 if the tool did not exit normally
  std::string output;  // stdout and stderr together
};

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

RunResult run_tool(const std::vector<std::string>& args) {
  std::string cmd = quote(kTool.string());
  for (const std::string& a : args) cmd += " " + quote(a);
  cmd += " 2>&1";
  RunResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = pclose(p);
  if (WIFEXITED(st)) r.status = WEXITSTATUS(st);
  return r;
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// One tree entry: kind ('d' dir, 'f' file, 'l' symlink) plus bytes or link text.
struct Entry {
  char kind = '?';
  std::string data;
  bool operator==(const Entry&) const = default;
};

std::map<std::string, Entry> snapshot(const fs::path& root) {
  std::map<std::string, Entry> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = it->path().lexically_relative(root).string();
    if (it->is_symlink()) {
      out[rel] = {'l', fs::read_symlink(it->path()).string()};
    } else if (it->is_directory()) {
      out[rel] = {'d', ""};
    } else {
      out[rel] = {'f', read_bytes(it->path())};
    }
  }
  return out;
}

/// Names of entries that differ between two snapshots, for a readable failure message.
std::vector<std::string> differences(const std::map<std::string, Entry>& want,
                                     const std::map<std::string, Entry>& got) {
  std::vector<std::string> diff;
  for (const auto& [path, e] : want) {
    auto it = got.find(path);
    if (it == got.end())
      diff.push_back("missing from rebuild: " + path);
    else if (!(it->second == e))
      diff.push_back("differs: " + path);
  }
  for (const auto& [path, e] : got)
    if (!want.count(path)) diff.push_back("only in rebuild: " + path);
  return diff;
}

std::vector<std::string> host_names() {
  std::vector<std::string> names;
  if (!fs::is_directory(kHostsDir)) return names;
  for (const auto& e : fs::directory_iterator(kHostsDir))
    if (e.path().extension() == ".host") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

// ---------------------------------------------------------------------------------------------
// (a) Every checked-in tree is exactly what its description builds.

class CheckedInHost : public ::testing::TestWithParam<std::string> {};

TEST_P(CheckedInHost, RebuildReproducesTree) {
  const std::string name = GetParam();
  TempDir tmp;
  fs::path out = tmp.path() / name;
  RunResult r = run_tool({(kHostsDir / (name + ".host")).string(), out.string()});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "");
  ASSERT_TRUE(fs::is_directory(kHostsDir / name))
      << "no checked-in tree; run fake-sysfs/rebuild.sh";
  std::vector<std::string> diff = differences(snapshot(kHostsDir / name), snapshot(out));
  std::string shown;
  for (size_t i = 0; i < diff.size() && i < 20; ++i) shown += "  " + diff[i] + "\n";
  EXPECT_TRUE(diff.empty()) << diff.size() << " differences (run fake-sysfs/rebuild.sh):\n"
                            << shown;
}

TEST_P(CheckedInHost, HasCmdlineAndSource) {
  const fs::path tree = kHostsDir / GetParam();
  EXPECT_TRUE(fs::is_regular_file(tree / "proc" / "cmdline"));
  EXPECT_TRUE(fs::is_regular_file(tree / "SOURCE"));
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Hosts, CheckedInHost, ::testing::ValuesIn(host_names()), param_name);

TEST(FakeSysfsHosts, EveryTreeHasADescription) {
  ASSERT_FALSE(host_names().empty());
  for (const auto& e : fs::directory_iterator(kHostsDir)) {
    if (!e.is_directory()) continue;
    // Trees written by Linux in a QEMU guest (tests/vm) have a PROVENANCE instead: their check
    // is that a fresh capture still equals them (ctest -L vm).
    if (fs::exists(e.path() / "PROVENANCE")) continue;
    EXPECT_TRUE(fs::exists(kHostsDir / (e.path().filename().string() + ".host")))
        << "tree without description: " << e.path();
  }
}

// ---------------------------------------------------------------------------------------------
// (b) Usage and description errors.

TEST(FakeSysfsBuild, UsageErrorExitsTwo) {
  RunResult r = run_tool({});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.output.rfind("usage: fake-sysfs-build DESCRIPTION.host OUTDIR\n", 0), 0u) << r.output;
  EXPECT_EQ(run_tool({"a", "b", "c"}).status, 2);
}

TEST(FakeSysfsBuild, MissingDescriptionFails) {
  TempDir tmp;
  RunResult r = run_tool({(tmp.path() / "nope.host").string(), (tmp.path() / "out").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output,
            "fake-sysfs-build: cannot open " + (tmp.path() / "nope.host").string() + "\n");
}

TEST(FakeSysfsBuild, ErrorsNameFileAndLine) {
  TempDir tmp;
  fs::path desc = tmp.path() / "bad.host";
  write_text(desc,
             "# comment line\n"
             "frobnicate 1\n"
             "attr intel-iommu/cap 1\n"
             "unit dmar0 intel\n"
             "attr ../escape 1\n"
             "unit dmar0 intel\n"
             "pci 0000:00:02 vendor=8086 device=1 class=030000\n"
             "pci 0000:00:03.0 vendor=8086 device=1 class=030000 group=7 unit=dmar9\n"
             "reserved 4 0x0 0x1 msi\n"
             "group 5 type=weird\n"
             "source \"unterminated\n");
  fs::path out = tmp.path() / "out";
  RunResult r = run_tool({desc.string(), out.string()});
  EXPECT_EQ(r.status, 1);
  const std::string f = desc.string();
  EXPECT_EQ(r.output,
            f + ":2: error: unknown directive 'frobnicate'\n" +                //
                f + ":3: error: attr before any unit, pci or bridge line\n" +  //
                f + ":5: error: bad attribute path '../escape'\n" +            //
                f + ":6: error: duplicate unit 'dmar0' (first at line 4)\n" +  //
                f +
                ":7: error: bad PCI address '0000:00:02' (expected DDDD:BB:DD.F, "  //
                "lowercase hex)\n" +                                                //
                f +
                ":8: error: 0000:00:03.0: unit 'dmar9' is not declared\n" +  //
                f + ":8: error: 0000:00:03.0: group 7 is not declared\n" +   //
                f + ":9: error: reserved region for group 4, which is not declared above\n" + f +
                ":10: error: unknown group type 'weird' (expected blocked, identity, "  //
                "unmanaged, DMA, DMA-FQ or unknown)\n" +                                //
                f +
                ":11: error: unterminated quoted string\n");
  EXPECT_FALSE(fs::exists(out));
  // No temporary directory is left beside OUTDIR.
  for (const auto& e : fs::directory_iterator(tmp.path()))
    EXPECT_EQ(e.path().filename(), "bad.host") << e.path();
}

TEST(FakeSysfsBuild, OsreleaseIsWrittenOnlyWhenDeclared) {
  TempDir tmp;
  fs::path desc = tmp.path() / "r.host";
  write_text(desc, "osrelease 6.1.0-18-amd64\nunit dmar0 intel\n");
  fs::path out = tmp.path() / "out";
  ASSERT_EQ(run_tool({desc.string(), out.string()}).status, 0);
  EXPECT_EQ(read_bytes(out / "proc/sys/kernel/osrelease"), "6.1.0-18-amd64\n");
  write_text(desc, "unit dmar0 intel\n");  // no release: none invented
  ASSERT_EQ(run_tool({desc.string(), out.string()}).status, 0);
  EXPECT_FALSE(fs::exists(out / "proc/sys/kernel/osrelease"));
  write_text(desc, "osrelease 6.1\nosrelease 6.2\nosrelease\n");
  RunResult r = run_tool({desc.string(), out.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, desc.string() + ":2: error: duplicate osrelease\n" + desc.string() +
                          ":3: error: duplicate osrelease\n");
}

TEST(FakeSysfsBuild, FailedBuildKeepsOldTree) {
  TempDir tmp;
  fs::path good = tmp.path() / "good.host";
  write_text(good, "cmdline quiet\nunit dmar0 intel\nattr intel-iommu/cap 1\n");
  fs::path out = tmp.path() / "out";
  ASSERT_EQ(run_tool({good.string(), out.string()}).status, 0);
  fs::path bad = tmp.path() / "bad.host";
  write_text(bad, "unit dmar0 martian\n");
  RunResult r = run_tool({bad.string(), out.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output, bad.string() +
                          ":1: error: unknown unit model 'martian' (expected intel, amd, arm or "
                          "virtio)\n");
  EXPECT_EQ(read_bytes(out / "sys/devices/virtual/iommu/dmar0/intel-iommu/cap"), "1\n");
  // A successful rebuild replaces the tree completely.
  write_text(good, "unit dmar1 intel\nattr intel-iommu/cap 2\n");
  ASSERT_EQ(run_tool({good.string(), out.string()}).status, 0);
  EXPECT_FALSE(fs::exists(out / "sys/devices/virtual/iommu/dmar0"));
  EXPECT_EQ(read_bytes(out / "sys/class/iommu/dmar1/intel-iommu/cap"), "2\n");
  EXPECT_EQ(read_bytes(out / "proc/cmdline").empty(), false);  // default cmdline
  std::vector<fs::path> left;
  for (const auto& e : fs::directory_iterator(tmp.path())) left.push_back(e.path().filename());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<fs::path>{"bad.host", "good.host", "out"}));
}

// ---------------------------------------------------------------------------------------------
// (c) PCI config space layout, parsed by hand.

uint16_t le16(const std::string& c, size_t off) {
  return static_cast<uint8_t>(c[off]) | static_cast<uint8_t>(c[off + 1]) << 8;
}
uint32_t le32(const std::string& c, size_t off) {
  return static_cast<uint32_t>(le16(c, off)) | static_cast<uint32_t>(le16(c, off + 2)) << 16;
}

/// Extended capability ID -> offset, following next pointers from 0x100.
std::map<uint16_t, size_t> ext_caps(const std::string& c) {
  std::map<uint16_t, size_t> caps;
  for (size_t off = 0x100; off != 0 && off + 4 <= c.size() && caps.size() < 64;) {
    uint32_t hdr = le32(c, off);
    if (hdr == 0) break;
    caps[hdr & 0xffff] = off;
    EXPECT_EQ((hdr >> 16) & 0xf, 1u) << "capability version at " << off;
    off = hdr >> 20;
  }
  return caps;
}

class FakeSysfsConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::path desc = tmp_.path() / "cfg.host";
    write_text(desc,
               "unit dmar0 intel\n"
               "group 3 type=DMA\n"
               "bridge 0000:00:1c.0 vendor=8086 device=a190 group=3 unit=dmar0\n"
               "pci 0000:05:00.0 vendor=15b3 device=101d class=020000 revision=02 "
               "subsys=15b3:0016 driver=vfio-pci group=3 unit=dmar0 parent=0000:00:1c.0 "
               "pasid=20,exec ats pri\n"
               "pci 0000:05:00.1 vendor=15b3 device=101d class=020000 group=3 unit=dmar0 "
               "parent=0000:00:1c.0 pasid=16,priv config=256\n"
               "pci 0000:00:1f.0 vendor=8086 device=7a84 class=060100 group=3 unit=dmar0 "
               "pcie=none config=64\n");
    out_ = tmp_.path() / "out";
    RunResult r = run_tool({desc.string(), out_.string()});
    ASSERT_EQ(r.status, 0) << r.output;
  }
  std::string config(const std::string& bdf) {
    return read_bytes(out_ / "sys/bus/pci/devices" / bdf / "config");
  }
  TempDir tmp_;
  fs::path out_;
};

TEST_F(FakeSysfsConfig, EndpointHeaderAndCapabilities) {
  std::string c = config("0000:05:00.0");
  ASSERT_EQ(c.size(), 4096u);
  EXPECT_EQ(le16(c, 0x00), 0x15b3);                // vendor
  EXPECT_EQ(le16(c, 0x02), 0x101d);                // device
  EXPECT_EQ(le16(c, 0x04), 0x0006);                // command: memory + bus master (driver bound)
  EXPECT_NE(le16(c, 0x06) & 0x0010, 0);            // status: capability list
  EXPECT_EQ(static_cast<uint8_t>(c[0x08]), 0x02);  // revision
  EXPECT_EQ(static_cast<uint8_t>(c[0x09]), 0x00);  // prog-if
  EXPECT_EQ(static_cast<uint8_t>(c[0x0a]), 0x00);  // subclass
  EXPECT_EQ(static_cast<uint8_t>(c[0x0b]), 0x02);  // class: network
  EXPECT_EQ(static_cast<uint8_t>(c[0x0e]), 0x80);  // type 0, multi-function (05:00.1 exists)
  EXPECT_EQ(le16(c, 0x2c), 0x15b3);                // subsystem vendor
  EXPECT_EQ(le16(c, 0x2e), 0x0016);                // subsystem id
  // Classic list: the PCI Express capability (ID 0x10), endpoint (type 0).
  size_t ptr = static_cast<uint8_t>(c[0x34]);
  ASSERT_GE(ptr, 0x40u);
  bool found_exp = false;
  for (int hops = 0; ptr != 0 && hops < 48; ++hops) {
    if (static_cast<uint8_t>(c[ptr]) == 0x10) {
      found_exp = true;
      EXPECT_EQ(le16(c, ptr + 2) & 0xf, 2);           // capability version 2
      EXPECT_EQ((le16(c, ptr + 2) >> 4) & 0xf, 0x0);  // PCI_EXP_TYPE_ENDPOINT
    }
    ptr = static_cast<uint8_t>(c[ptr + 1]);
  }
  EXPECT_TRUE(found_exp);
  // Extended capabilities: ATS 0x000f, PRI 0x0013, PASID 0x001b, chained from 0x100.
  std::map<uint16_t, size_t> caps = ext_caps(c);
  ASSERT_EQ(caps.size(), 3u);
  ASSERT_TRUE(caps.count(0x000f));
  ASSERT_TRUE(caps.count(0x0013));
  ASSERT_TRUE(caps.count(0x001b));
  EXPECT_EQ(caps[0x000f], 0x100u);
  size_t pasid = caps[0x001b];
  uint16_t pasid_cap = le16(c, pasid + 4);
  EXPECT_EQ((pasid_cap >> 8) & 0x1f, 20);             // Max PASID Width
  EXPECT_NE(pasid_cap & 0x2, 0);                      // Exec Supported
  EXPECT_EQ(pasid_cap & 0x4, 0);                      // Priv Supported
  EXPECT_EQ(le16(c, pasid + 6), 0);                   // Control: nothing enabled
  EXPECT_EQ(le16(c, caps[0x000f] + 4) & 0x20, 0x20);  // ATS: page-aligned requests
}

TEST_F(FakeSysfsConfig, BridgeHeaderTypeOne) {
  std::string c = config("0000:00:1c.0");
  ASSERT_EQ(c.size(), 4096u);
  EXPECT_EQ(static_cast<uint8_t>(c[0x0e]), 0x01);  // header type 1, single function
  EXPECT_EQ(static_cast<uint8_t>(c[0x0b]), 0x06);  // bridge
  EXPECT_EQ(static_cast<uint8_t>(c[0x0a]), 0x04);  // PCI-to-PCI
  EXPECT_EQ(static_cast<uint8_t>(c[0x18]), 0x00);  // primary bus
  EXPECT_EQ(static_cast<uint8_t>(c[0x19]), 0x05);  // secondary bus
  EXPECT_EQ(static_cast<uint8_t>(c[0x1a]), 0x05);  // subordinate bus
  size_t ptr = static_cast<uint8_t>(c[0x34]);
  ASSERT_EQ(static_cast<uint8_t>(c[ptr]), 0x10);
  EXPECT_EQ((le16(c, ptr + 2) >> 4) & 0xf, 0x4);  // PCI_EXP_TYPE_ROOT_PORT
  EXPECT_TRUE(ext_caps(c).empty());
  EXPECT_EQ(read_bytes(out_ / "sys/bus/pci/devices/0000:00:1c.0/uevent").find("DRIVER=pcieport\n"),
            0u);
}

TEST_F(FakeSysfsConfig, ShortConfigSizes) {
  std::string c256 = config("0000:05:00.1");
  ASSERT_EQ(c256.size(), 256u);         // no extended space in the file
  EXPECT_EQ(le16(c256, 0x04), 0x0000);  // unbound: command off
  std::string c64 = config("0000:00:1f.0");
  ASSERT_EQ(c64.size(), 64u);  // what an unprivileged read returns
  EXPECT_EQ(le16(c64, 0x00), 0x8086);
  EXPECT_EQ(le16(c64, 0x06) & 0x0010, 0);  // pcie=none: no capability list
}

TEST_F(FakeSysfsConfig, LinksAndGroups) {
  fs::path dev = out_ / "sys/bus/pci/devices/0000:05:00.0";
  EXPECT_EQ(fs::read_symlink(out_ / "sys/bus/pci/devices/0000:05:00.0"),
            "../../../devices/pci0000:00/0000:00:1c.0/0000:05:00.0");
  EXPECT_EQ(fs::read_symlink(dev / "iommu_group"), "../../../../kernel/iommu_groups/3");
  EXPECT_EQ(fs::read_symlink(dev / "iommu"), "../../../virtual/iommu/dmar0");
  EXPECT_EQ(fs::read_symlink(dev / "driver"), "../../../../bus/pci/drivers/vfio-pci");
  EXPECT_EQ(fs::read_symlink(dev / "subsystem"), "../../../../bus/pci");
  fs::path unit = out_ / "sys/devices/virtual/iommu/dmar0";
  EXPECT_EQ(fs::read_symlink(unit / "subsystem"), "../../../../class/iommu");
  EXPECT_EQ(fs::read_symlink(unit / "devices/0000:05:00.0"),
            "../../../../pci0000:00/0000:00:1c.0/0000:05:00.0");
  EXPECT_EQ(fs::read_symlink(out_ / "sys/class/iommu/dmar0"), "../../devices/virtual/iommu/dmar0");
  fs::path group = out_ / "sys/kernel/iommu_groups/3";
  EXPECT_EQ(read_bytes(group / "type"), "DMA\n");
  EXPECT_EQ(read_bytes(group / "reserved_regions"), "");
  EXPECT_TRUE(fs::is_symlink(group / "devices/0000:00:1c.0"));
  EXPECT_TRUE(fs::is_symlink(group / "devices/0000:05:00.1"));
  EXPECT_EQ(read_bytes(unit / "uevent"), "SUBSYSTEM=iommu\n");
}

}  // namespace
