// SPDX-License-Identifier: MIT
// Backend parity: on every fixture host, and on fixtures made hostile, the libudev backend
// (under umockdev, opened the way the tools open it) and the directory backend give
// byte-identical iommu-probe JSON (apart from "source"). The one difference allowed is the
// libudev backend's own error when its enumeration misses a unit the class directory lists.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "common/host_source.h"
#include "iommu-probe/probe_format_json.h"
#include "libcaps/reader.h"
#include "libcaps/source.h"
#include "support/sample_hosts.h"

namespace caps {
void PrintTo(const Diagnostic& d, std::ostream* out) {
  *out << to_string(d.severity) << " " << d.path << ": " << d.message;
}
}  // namespace caps

namespace {

namespace fs = std::filesystem;

bool under_umockdev() {
  const char* preload = std::getenv("LD_PRELOAD");
  return preload != nullptr && std::string(preload).find("umockdev") != std::string::npos;
}

const fs::path kHosts = IOMMU_SOURCE_DIR "/fake-sysfs/hosts";

std::string to_json(const caps::Host& host) {
  std::ostringstream out;
  tools::format_json(host, out, /*with_source=*/false);
  return out.str();
}

/// Sets UMOCKDEV_DIR (and optionally the working directory) for one test, and restores both.
class MockRoot {
 public:
  MockRoot(const std::string& umockdev_dir, const fs::path& cwd) : old_cwd_(fs::current_path()) {
    if (!cwd.empty()) fs::current_path(cwd);
    ::setenv("UMOCKDEV_DIR", umockdev_dir.c_str(), 1);
  }
  ~MockRoot() {
    ::unsetenv("UMOCKDEV_DIR");
    std::error_code ignored;
    fs::current_path(old_cwd_, ignored);
  }
  MockRoot(const MockRoot&) = delete;
  MockRoot& operator=(const MockRoot&) = delete;

 private:
  fs::path old_cwd_;
};

/// The host as the libudev backend reads it, opened as iommu-probe --backend udev does
/// (tools::open_host_source on "/") with UMOCKDEV_DIR set to `umockdev_dir` (relative to `cwd`
/// when that is given).
caps::Host read_with_udev(const std::string& umockdev_dir, const fs::path& cwd = {}) {
  MockRoot mock(umockdev_dir, cwd);
  auto udev = tools::open_host_source("/", "udev");
  if (!udev) {
    ADD_FAILURE() << udev.error().to_string();
    return {};
  }
  EXPECT_EQ((*udev)->backend(), "udev");
  return caps::read_host(**udev);
}

caps::Host read_with_dir(const fs::path& root) {
  auto dir = caps::open_dir_source(root);
  if (!dir) {
    ADD_FAILURE() << dir.error().to_string();
    return {};
  }
  return caps::read_host(**dir);
}

/// Removes and returns the libudev backend's "enumeration and class directory disagree" errors.
std::vector<caps::Diagnostic> take_disagreements(caps::Host& host) {
  std::vector<caps::Diagnostic> out;
  std::erase_if(host.diagnostics, [&](const caps::Diagnostic& d) {
    if (d.message.rfind("libudev enumerated ", 0) != 0) return false;
    out.push_back(d);
    return true;
  });
  return out;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& param) {
  std::string out = param.param;
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return out;
}

class ParityTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!under_umockdev()) GTEST_SKIP() << "needs LD_PRELOAD=libumockdev-preload.so.0";
  }
};

TEST_P(ParityTest, UdevAndDirectoryBackendsAgree) {
  const fs::path root = fs::canonical(kHosts / GetParam());
  caps::Host from_udev = read_with_udev(root);
  const std::string from_dir = to_json(read_with_dir(root));
  EXPECT_EQ(take_disagreements(from_udev), std::vector<caps::Diagnostic>{});
  EXPECT_EQ(to_json(from_udev), from_dir);
  // A parity of two empty reads would prove nothing: units must have been seen (the no-IOMMU
  // host has none by design, but still has its platform facts).
  EXPECT_NE(from_dir.find("\"units\""), std::string::npos);
  if (GetParam() != "no-iommu") {
    EXPECT_NE(from_dir.find("\"name\""), std::string::npos);
  }
}

// fake-sysfs/README.md's command from the repository's top directory, with the relative
// UMOCKDEV_DIR a user types: libudev then saw no unit at all, and the probe said "0 units"
// with exit 0.
TEST_P(ParityTest, RelativeUmockdevDirAgrees) {
  const fs::path root = fs::canonical(kHosts / GetParam());
  const fs::path top = fs::canonical(IOMMU_SOURCE_DIR);
  const std::string relative = fs::relative(root, top).string();
  ASSERT_EQ(relative.front(), 'f') << relative;  // fake-sysfs/hosts/NAME
  caps::Host from_udev = read_with_udev(relative, top);
  EXPECT_EQ(take_disagreements(from_udev), std::vector<caps::Diagnostic>{});
  EXPECT_EQ(to_json(from_udev), to_json(read_with_dir(root)));
  // And a trailing slash, which the preload would join into "DIR//sys".
  caps::Host slash = read_with_udev(relative + "/", top);
  EXPECT_EQ(to_json(slash), to_json(read_with_dir(root)));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ParityTest,
                         ::testing::ValuesIn(caps::testing::fixture_host_names()), test_name);

// --- Hostile trees: a fixture copied and spoiled in one place ---------------------------------

struct HostileCase {
  std::string name;
  std::string fixture;
  /// Spoils the copy at `root`; `base` is the directory that holds `root` (for escapes).
  std::function<void(const fs::path& root, const fs::path& base)> spoil;
  /// Units the class directory lists but libudev cannot enumerate: the libudev backend must
  /// name exactly these in one error, and read them from the directory like the other backend.
  std::vector<std::string> not_enumerated;
};

void PrintTo(const HostileCase& c, std::ostream* out) { *out << c.name; }

const std::string kDmar0 = "sys/devices/virtual/iommu/dmar0";

/// A unit directory with attributes and a uevent, outside the tree.
fs::path outside_unit(const fs::path& base) {
  const fs::path dir = base / "outside/evil";
  fs::create_directories(dir / "intel-iommu");
  std::ofstream(dir / "intel-iommu/cap") << "5a5a5a5a5a5a5a5\n";
  std::ofstream(dir / "uevent") << "SUBSYSTEM=iommu\n";
  return dir;
}

std::vector<HostileCase> hostile_cases() {
  return {
      {"cap_is_a_directory",
       "intel-client",
       [](const fs::path& root, const fs::path&) {
         const fs::path cap = root / kDmar0 / "intel-iommu/cap";
         fs::remove(cap);
         fs::create_directories(cap);
         std::ofstream(cap / "cap") << "d2008c40660462\n";
       },
       {}},
      {"cap_is_an_empty_directory",
       "intel-client",
       [](const fs::path& root, const fs::path&) {
         const fs::path cap = root / kDmar0 / "intel-iommu/cap";
         fs::remove(cap);
         fs::create_directories(cap);
       },
       {}},
      {"class_link_escapes_absolute",
       "intel-client",
       [](const fs::path& root, const fs::path& base) {
         fs::create_symlink(outside_unit(base), root / "sys/class/iommu/evil");
       },
       {"evil"}},
      {"class_link_escapes_relative",
       "intel-client",
       [](const fs::path& root, const fs::path& base) {
         outside_unit(base);
         // From root/sys/class/iommu, ../../.. is the root; one more is base.
         fs::create_symlink("../../../../outside/evil", root / "sys/class/iommu/evil");
       },
       {"evil"}},
      {"attribute_link_escapes",
       "intel-client",
       [](const fs::path& root, const fs::path& base) {
         const fs::path cap = root / kDmar0 / "intel-iommu/cap";
         fs::remove(cap);
         fs::create_symlink(outside_unit(base) / "intel-iommu/cap", cap);
       },
       {}},
      {"empty_pgtable_format",
       "arm-smmuv3-generic",
       [](const fs::path& root, const fs::path&) {
         const fs::path formats = root /
                                  "sys/devices/platform/arm-smmu-v3.0.auto/iommu/"
                                  "smmu3.0x0000000009050000/arm-smmu-v3/pgtable_format";
         fs::remove_all(formats);
         fs::create_directories(formats);
       },
       {}},
      {"no_proc_cmdline",
       "intel-icx-2s",
       [](const fs::path& root, const fs::path&) { fs::remove(root / "proc/cmdline"); },
       {}},
      {"unit_without_uevent",
       "intel-client",
       [](const fs::path& root, const fs::path&) {
         // Copied from dmar0 but without what libudev needs to call it a device.
         const fs::path dir = root / "sys/devices/virtual/iommu/dmar9";
         fs::create_directories(dir);
         fs::copy(root / kDmar0 / "intel-iommu", dir / "intel-iommu", fs::copy_options::recursive);
         fs::create_symlink("../../devices/virtual/iommu/dmar9", root / "sys/class/iommu/dmar9");
       },
       {"dmar9"}},
  };
}

class HostileParityTest : public ::testing::TestWithParam<HostileCase> {
 protected:
  void SetUp() override {
    if (!under_umockdev()) GTEST_SKIP() << "needs LD_PRELOAD=libumockdev-preload.so.0";
    base_ = fs::path(IOMMU_BINARY_DIR) / "parity-trees" / GetParam().name;
    fs::remove_all(base_);
    fs::create_directories(base_);
    root_ = base_ / "root";
    fs::copy(kHosts / GetParam().fixture, root_,
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    GetParam().spoil(root_, base_);
  }
  void TearDown() override {
    if (HasFailure() || base_.empty()) return;  // kept to look at
    std::error_code ignored;
    fs::remove_all(base_, ignored);
  }

  fs::path base_;
  fs::path root_;
};

TEST_P(HostileParityTest, UdevAndDirectoryBackendsAgree) {
  caps::Host from_udev = read_with_udev(root_.string());
  const caps::Host from_dir = read_with_dir(root_);
  const std::vector<caps::Diagnostic> disagreements = take_disagreements(from_udev);
  if (GetParam().not_enumerated.empty()) {
    EXPECT_EQ(disagreements, std::vector<caps::Diagnostic>{});
  } else {
    ASSERT_EQ(disagreements.size(), 1u);
    EXPECT_EQ(disagreements[0].path, "class/iommu");
    EXPECT_EQ(disagreements[0].severity, caps::Severity::kError);
    std::string names;
    for (const std::string& n : GetParam().not_enumerated)
      names += (names.empty() ? "" : ", ") + ('"' + n + '"');
    EXPECT_NE(disagreements[0].message.find("only the directory lists " + names + ";"),
              std::string::npos)
        << disagreements[0].message;
  }
  EXPECT_EQ(to_json(from_udev), to_json(from_dir));
  // Nothing outside the tree was read: the outside unit's cap value never shows.
  EXPECT_EQ(to_json(from_udev).find("5a5a5a5a5a5a5a5"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Spoiled, HostileParityTest, ::testing::ValuesIn(hostile_cases()),
                         [](const ::testing::TestParamInfo<HostileCase>& param) {
                           return param.param.name;
                         });

}  // namespace
