// Backend parity: on every fixture host, the libudev backend (under umockdev) and the
// directory backend give byte-identical iommu-probe JSON (apart from "source").
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "common/probe_format_json.h"
#include "libcaps/reader.h"
#include "libcaps/source.h"

namespace {

namespace fs = std::filesystem;

bool under_umockdev() {
  const char* preload = std::getenv("LD_PRELOAD");
  return preload != nullptr && std::string(preload).find("umockdev") != std::string::npos;
}

/// Every fixture host: the directories of fake-sysfs/hosts that carry a SOURCE file.
std::vector<std::string> fixture_hosts() {
  std::vector<std::string> hosts;
  for (const fs::directory_entry& e :
       fs::directory_iterator(IOMMU_SOURCE_DIR "/fake-sysfs/hosts")) {
    if (e.is_directory() && fs::exists(e.path() / "SOURCE")) hosts.push_back(e.path().filename());
  }
  std::sort(hosts.begin(), hosts.end());
  return hosts;
}

std::string probe_json(caps::Source& source) {
  std::ostringstream out;
  tools::format_json(caps::read_host(source), out, /*with_source=*/false);
  return out.str();
}

class ParityTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ParityTest, UdevAndDirectoryBackendsAgree) {
  if (!under_umockdev()) GTEST_SKIP() << "needs LD_PRELOAD=libumockdev-preload.so.0";
  std::string root = fs::canonical(IOMMU_SOURCE_DIR "/fake-sysfs/hosts/" + GetParam());
  // umockdev reads UMOCKDEV_DIR on every call, so each test can switch fixtures.
  ASSERT_EQ(setenv("UMOCKDEV_DIR", root.c_str(), 1), 0);

  auto dir = caps::open_dir_source(root);
  ASSERT_TRUE(dir) << dir.error().to_string();
  auto udev = caps::open_udev_source();
  ASSERT_TRUE(udev) << udev.error().to_string();

  std::string from_dir = probe_json(**dir);
  std::string from_udev = probe_json(**udev);
  unsetenv("UMOCKDEV_DIR");
  EXPECT_EQ(from_udev, from_dir);
  // A parity of two empty reads would prove nothing: units must have been seen (the no-IOMMU
  // host has none by design, but still has its platform facts).
  EXPECT_NE(from_dir.find("\"units\""), std::string::npos);
  if (GetParam() != "no-iommu") {
    EXPECT_NE(from_dir.find("\"name\""), std::string::npos);
  }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& param) {
  std::string out = param.param;
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ParityTest, ::testing::ValuesIn(fixture_hosts()), test_name);

}  // namespace
