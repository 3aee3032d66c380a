// SPDX-License-Identifier: MIT
// Tests for the libudev backend under the umockdev preload, on a tree built at run time; also
// checks that the directory backend on "/" sees the same tree through the preload.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "libcaps/source.h"

namespace caps {

/// Statuses print by name in failure messages.
void PrintTo(ReadStatus status, std::ostream* out) { *out << to_string(status); }

namespace {

namespace fs = std::filesystem;

constexpr const char* kDmar0 = "sys/devices/virtual/iommu/dmar0";

/// A fake sysfs in a fresh temporary directory, made the umockdev root for the test's lifetime.
/// Created with plain file calls: the preload redirects only /sys, /dev and /proc.
class MockTree {
 public:
  MockTree() {
    std::string tmpl = (fs::temp_directory_path() / "udevsrc.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = tmpl;  // absolute, as UMOCKDEV_DIR must be
    build();
    ::setenv("UMOCKDEV_DIR", root_.c_str(), 1);  // re-read by the preload on every call
  }
  ~MockTree() {
    ::unsetenv("UMOCKDEV_DIR");
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  MockTree(const MockTree&) = delete;
  MockTree& operator=(const MockTree&) = delete;

  /// The tree's path for `rel`; the root itself (no trailing '/') for "".
  std::string abs(const std::string& rel) const { return rel.empty() ? root_ : root_ + "/" + rel; }
  void file(const std::string& rel, const std::string& content) const {
    fs::create_directories(fs::path(abs(rel)).parent_path());
    std::ofstream(abs(rel), std::ios::binary) << content;
  }
  void link(const std::string& rel, const std::string& target) const {
    fs::create_directories(fs::path(abs(rel)).parent_path());
    fs::create_symlink(target, abs(rel));
  }

 private:
  /// What libudev needs to see a class device: uevent with SUBSYSTEM, the subsystem link,
  /// and the class link (fake-sysfs-and-udev.md, pitfall 3).
  void build() const {
    const std::string dmar0 = kDmar0;
    file(dmar0 + "/uevent", "SUBSYSTEM=iommu\n");
    link(dmar0 + "/subsystem", "../../../../class/iommu");
    file(dmar0 + "/intel-iommu/cap", "d2008c40660462\n");
    file(dmar0 + "/intel-iommu/ecap", "f050da\n");
    file(dmar0 + "/intel-iommu/version", "1:0\n");
    link(dmar0 + "/devices/0000:00:02.0", "../../../../pci0000:00/0000:00:02.0");
    file("sys/devices/pci0000:00/0000:00:02.0/vendor", "0x8086\n");
    link("sys/class/iommu/dmar0", "../../devices/virtual/iommu/dmar0");
    file("sys/kernel/iommu_groups/0/type", "DMA\n");
  }

  std::string root_;
};

std::vector<std::string> names(const DirRead& read) {
  std::vector<std::string> out;
  for (const DirEntry& e : read.entries) out.push_back(e.name);
  return out;
}

class UdevSourceTest : public testing::Test {
 protected:
  void SetUp() override {
    const char* preload = std::getenv("LD_PRELOAD");
    if (preload == nullptr || std::string(preload).find("umockdev") == std::string::npos) {
      GTEST_SKIP() << "needs LD_PRELOAD=libumockdev-preload.so.0 (ctest sets it)";
    }
    tree_ = std::make_unique<MockTree>();
    auto source = open_udev_source();
    ASSERT_TRUE(source) << source.error().to_string();
    source_ = std::move(*source);
  }

  std::unique_ptr<MockTree> tree_;
  std::unique_ptr<Source> source_;
};

TEST_F(UdevSourceTest, NamesItself) {
  EXPECT_EQ(source_->backend(), "udev");
  EXPECT_EQ(source_->root(), "/");
}

TEST_F(UdevSourceTest, ListsUnits) {
  DirRead units = source_->list_units();
  ASSERT_EQ(units.status, ReadStatus::kOk);
  ASSERT_EQ(names(units), std::vector<std::string>{"dmar0"});
  EXPECT_EQ(units.entries[0].type, EntryType::kLink);
}

TEST_F(UdevSourceTest, ListsUnitsSorted) {
  for (const std::string name : {"dmar10", "dmar2"}) {
    const std::string dir = "sys/devices/virtual/iommu/" + name;
    tree_->file(dir + "/uevent", "SUBSYSTEM=iommu\n");
    tree_->link(dir + "/subsystem", "../../../../class/iommu");
    tree_->link("sys/class/iommu/" + name, "../../devices/virtual/iommu/" + name);
  }
  EXPECT_EQ(names(source_->list_units()), (std::vector<std::string>{"dmar0", "dmar10", "dmar2"}));
}

TEST_F(UdevSourceTest, ReadsUnitFiles) {
  FileRead cap = source_->read_unit_file("dmar0", "intel-iommu/cap", kAttrLimit);
  ASSERT_EQ(cap.status, ReadStatus::kOk);
  EXPECT_EQ(cap.data, "d2008c40660462");  // libudev strips the newline
  EXPECT_EQ(source_->read_unit_file("dmar0", "intel-iommu/version", kAttrLimit).data, "1:0");
  // Read before listing, then after: the cached device serves both.
  ASSERT_TRUE(source_->list_units().ok());
  EXPECT_EQ(source_->read_unit_file("dmar0", "intel-iommu/ecap", kAttrLimit).data, "f050da");
}

TEST_F(UdevSourceTest, UnitFileStatuses) {
  EXPECT_EQ(source_->read_unit_file("dmar0", "intel-iommu/nope", kAttrLimit).status,
            ReadStatus::kMissing);
  EXPECT_EQ(source_->read_unit_file("dmar9", "intel-iommu/cap", kAttrLimit).status,
            ReadStatus::kMissing);
  EXPECT_EQ(source_->read_unit_file("dmar0", "intel-iommu", kAttrLimit).status,
            ReadStatus::kNotRegular);
  EXPECT_EQ(source_->read_unit_file("dmar0", "", kAttrLimit).status, ReadStatus::kNotRegular);
  EXPECT_EQ(source_->read_unit_file("dmar0", "intel-iommu/cap", 4).status, ReadStatus::kTooLarge);
  // The limit counts the file's bytes, newline included, as in the directory backend.
  EXPECT_EQ(source_->read_unit_file("dmar0", "intel-iommu/cap", 14).status, ReadStatus::kTooLarge);
  EXPECT_EQ(source_->read_unit_file("dmar0", "intel-iommu/cap", 15).data, "d2008c40660462");
  EXPECT_EQ(source_->read_unit_file("dmar0", "../dmar0/intel-iommu/cap", kAttrLimit).status,
            ReadStatus::kEscapes);
  EXPECT_EQ(source_->read_unit_file("../iommu", "dmar0/intel-iommu/cap", kAttrLimit).status,
            ReadStatus::kMissing);
}

TEST_F(UdevSourceTest, UnreadableUnitFileIsDenied) {
  // sd-device refuses files without S_IRUSR itself, so this holds even for root.
  tree_->file(std::string(kDmar0) + "/intel-iommu/secret", "x\n");
  ASSERT_EQ(::chmod(tree_->abs(std::string(kDmar0) + "/intel-iommu/secret").c_str(), 0200), 0);
  EXPECT_EQ(source_->read_unit_file("dmar0", "intel-iommu/secret", kAttrLimit).status,
            ReadStatus::kDenied);
}

TEST_F(UdevSourceTest, ListsUnitDirs) {
  DirRead top = source_->list_unit_dir("dmar0", "");
  ASSERT_EQ(top.status, ReadStatus::kOk);
  EXPECT_EQ(names(top),
            (std::vector<std::string>{"devices", "intel-iommu", "subsystem", "uevent"}));
  EXPECT_EQ(top.entries[0].type, EntryType::kDir);
  // From the directory reader: libudev's sysattr list would call this symlink a file.
  EXPECT_EQ(top.entries[2].type, EntryType::kLink);

  DirRead regs = source_->list_unit_dir("dmar0", "intel-iommu");
  ASSERT_EQ(regs.status, ReadStatus::kOk);
  EXPECT_EQ(names(regs), (std::vector<std::string>{"cap", "ecap", "version"}));

  DirRead devices = source_->list_unit_dir("dmar0", "devices");
  ASSERT_EQ(devices.status, ReadStatus::kOk);
  EXPECT_EQ(names(devices), std::vector<std::string>{"0000:00:02.0"});
}

TEST_F(UdevSourceTest, UnitDirStatuses) {
  EXPECT_EQ(source_->list_unit_dir("dmar0", "nope").status, ReadStatus::kMissing);
  EXPECT_EQ(source_->list_unit_dir("dmar9", "").status, ReadStatus::kMissing);
  EXPECT_EQ(source_->list_unit_dir("dmar0", "intel-iommu/cap").status, ReadStatus::kNotRegular);
  EXPECT_EQ(source_->list_unit_dir("dmar0", "..").status, ReadStatus::kEscapes);
  // An empty directory shows no attribute, but it exists.
  fs::create_directories(tree_->abs(std::string(kDmar0) + "/empty"));
  DirRead empty = source_->list_unit_dir("dmar0", "empty");
  EXPECT_EQ(empty.status, ReadStatus::kOk);
  EXPECT_TRUE(empty.entries.empty());
}

TEST_F(UdevSourceTest, DelegatesOtherPathsToTheRoot) {
  FileRead type = source_->read_file("sys/kernel/iommu_groups/0/type", kAttrLimit);
  ASSERT_EQ(type.status, ReadStatus::kOk);
  EXPECT_EQ(type.data, "DMA\n");
  EXPECT_EQ(names(source_->list_dir("sys/kernel/iommu_groups")), std::vector<std::string>{"0"});
  EXPECT_EQ(source_->read_link("sys/class/iommu/dmar0").target,
            "../../devices/virtual/iommu/dmar0");
  EXPECT_EQ(source_->read_file("sys/kernel/iommu_groups/1/type", kAttrLimit).status,
            ReadStatus::kMissing);
}

TEST_F(UdevSourceTest, EmptyDirectoryBesideFilesIsListed) {
  // An empty arm-smmu-v3/pgtable_format/ has no sysattr, so libudev's list leaves it out; the
  // directory backend shows it, and so must this one.
  fs::create_directories(tree_->abs(std::string(kDmar0) + "/intel-iommu/formats"));
  DirRead regs = source_->list_unit_dir("dmar0", "intel-iommu");
  ASSERT_EQ(regs.status, ReadStatus::kOk);
  EXPECT_EQ(names(regs), (std::vector<std::string>{"cap", "ecap", "formats", "version"}));
  EXPECT_EQ(regs.entries[2].type, EntryType::kDir);
}

TEST_F(UdevSourceTest, SymlinkedAttributeIsNotRegular) {
  // A documented difference: sd-device reads no symlink but driver/subsystem/module, while the
  // directory backend follows a link that stays inside the tree. Kernel attributes are never
  // symlinks to files, so this only shows on hand-made trees.
  const std::string regs = std::string(kDmar0) + "/intel-iommu/";
  tree_->file(regs + "cap.real", "d2008c40660462\n");
  fs::remove(tree_->abs(regs + "cap"));
  tree_->link(regs + "cap", "cap.real");
  EXPECT_EQ(source_->read_unit_file("dmar0", "intel-iommu/cap", kAttrLimit).status,
            ReadStatus::kNotRegular);
  auto dir = open_dir_source(tree_->abs(""));
  ASSERT_TRUE(dir);
  EXPECT_EQ((*dir)->read_unit_file("dmar0", "intel-iommu/cap", kAttrLimit).data,
            "d2008c40660462\n");
}

TEST_F(UdevSourceTest, FifoIsNotRegularAndDoesNotBlock) {
  const std::string fifo = tree_->abs(std::string(kDmar0) + "/intel-iommu/cap");
  fs::remove(fifo);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  EXPECT_EQ(source_->read_unit_file("dmar0", "intel-iommu/cap", kAttrLimit).status,
            ReadStatus::kNotRegular);
}

TEST_F(UdevSourceTest, NoDisagreementNoDiagnostic) {
  ASSERT_TRUE(source_->list_units().ok());
  EXPECT_TRUE(source_->take_diagnostics().empty());
}

TEST_F(UdevSourceTest, UnitLibudevCannotSeeIsReadAndReported) {
  // A class link to a directory without uevent and subsystem: no device for libudev.
  const std::string dmar9 = "sys/devices/virtual/iommu/dmar9";
  tree_->file(dmar9 + "/intel-iommu/cap", "d2008c40660462\n");
  tree_->link("sys/class/iommu/dmar9", "../../devices/virtual/iommu/dmar9");
  DirRead units = source_->list_units();
  ASSERT_EQ(units.status, ReadStatus::kOk);
  EXPECT_EQ(names(units), (std::vector<std::string>{"dmar0", "dmar9"}));
  EXPECT_EQ(source_->take_diagnostics(),
            (Diagnostics{{"class/iommu", Severity::kError,
                          "libudev enumerated 1 units but the directory lists 2; only the "
                          "directory lists \"dmar9\"; every unit either one lists is read"}}));
  EXPECT_TRUE(source_->take_diagnostics().empty());  // taken once
  EXPECT_EQ(source_->read_unit_file("dmar9", "intel-iommu/cap", kAttrLimit).data,
            "d2008c40660462\n");
}

TEST_F(UdevSourceTest, LibudevSeeingNothingIsAnError) {
  // What a relative UMOCKDEV_DIR does: plain opens resolve it from the working directory, but
  // sd-device finds no device. The directory reader, rooted at the tree, lists the unit.
  auto on_tree = open_udev_source(tree_->abs(""));
  ASSERT_TRUE(on_tree);
  const fs::path old_cwd = fs::current_path();
  fs::current_path(fs::path(tree_->abs("")).parent_path());
  ::setenv("UMOCKDEV_DIR", fs::path(tree_->abs("")).parent_path().filename().c_str(), 1);
  DirRead units = (*on_tree)->list_units();
  ::setenv("UMOCKDEV_DIR", tree_->abs("").c_str(), 1);
  fs::current_path(old_cwd);
  ASSERT_EQ(units.status, ReadStatus::kOk);
  EXPECT_EQ(names(units), std::vector<std::string>{"dmar0"});
  EXPECT_EQ((*on_tree)->take_diagnostics(),
            (Diagnostics{{"class/iommu", Severity::kError,
                          "libudev enumerated 0 units but the directory lists 1; only the "
                          "directory lists \"dmar0\"; libudev is not reading this tree (under "
                          "umockdev, UMOCKDEV_DIR must name it)"}}));
}

TEST_F(UdevSourceTest, OnATreeRootReadsThatTreesPlatformFiles) {
  // Without proc/cmdline in the tree the preload would hand over the machine's own.
  auto on_tree = open_udev_source(tree_->abs(""));
  ASSERT_TRUE(on_tree);
  EXPECT_EQ((*on_tree)->root(), tree_->abs(""));
  EXPECT_EQ((*on_tree)->read_file("proc/cmdline", kAttrLimit).status, ReadStatus::kMissing);
  tree_->file("proc/cmdline", "intel_iommu=on\n");
  EXPECT_EQ((*on_tree)->read_file("proc/cmdline", kAttrLimit).data, "intel_iommu=on\n");
  EXPECT_EQ((*on_tree)->read_unit_file("dmar0", "intel-iommu/cap", kAttrLimit).data,
            "d2008c40660462");
}

TEST_F(UdevSourceTest, OnATreeRootNothingEscapes) {
  auto on_tree = open_udev_source(tree_->abs(""));
  ASSERT_TRUE(on_tree);
  const std::string cap = std::string(kDmar0) + "/intel-iommu/cap";
  fs::remove(tree_->abs(cap));
  tree_->link(cap, "/etc/passwd");
  EXPECT_EQ((*on_tree)->read_unit_file("dmar0", "intel-iommu/cap", kAttrLimit).status,
            ReadStatus::kEscapes);
  tree_->link("sys/class/iommu/evil", "/etc");
  EXPECT_EQ((*on_tree)->list_unit_dir("evil", "").status, ReadStatus::kEscapes);
}

TEST_F(UdevSourceTest, NoClassDirectoryIsMissing) {
  fs::remove_all(tree_->abs("sys/class"));
  EXPECT_EQ(source_->list_units().status, ReadStatus::kMissing);
}

TEST_F(UdevSourceTest, DirSourceOnRootSeesTheSameTree) {
  auto dir = open_dir_source("/");
  ASSERT_TRUE(dir);
  Source& root = **dir;
  EXPECT_EQ(names(root.list_units()), std::vector<std::string>{"dmar0"});
  EXPECT_EQ(root.read_unit_file("dmar0", "intel-iommu/cap", kAttrLimit).data, "d2008c40660462\n");
  EXPECT_EQ(names(root.list_unit_dir("dmar0", "intel-iommu")),
            (std::vector<std::string>{"cap", "ecap", "version"}));
  EXPECT_EQ(root.read_link("sys/class/iommu/dmar0/devices/0000:00:02.0").target,
            "../../../../pci0000:00/0000:00:02.0");
  EXPECT_EQ(root.read_file("sys/class/iommu/dmar0/devices/0000:00:02.0/vendor", kAttrLimit).data,
            "0x8086\n");
  EXPECT_EQ(root.read_file("sys/kernel/iommu_groups/0/type", kAttrLimit).data, "DMA\n");
  EXPECT_EQ(root.read_file("sys/class/iommu/dmar0", kAttrLimit).status, ReadStatus::kNotRegular);
  EXPECT_EQ(root.list_dir("sys/kernel/iommu_groups/0/type").status, ReadStatus::kNotRegular);
}

TEST_F(UdevSourceTest, SwitchingTreesBetweenSources) {
  MockTree other;  // now UMOCKDEV_DIR points here
  other.file("sys/devices/virtual/iommu/dmar5/uevent", "SUBSYSTEM=iommu\n");
  other.link("sys/devices/virtual/iommu/dmar5/subsystem", "../../../../class/iommu");
  other.link("sys/class/iommu/dmar5", "../../devices/virtual/iommu/dmar5");
  auto fresh = open_udev_source();
  ASSERT_TRUE(fresh);
  EXPECT_EQ(names((*fresh)->list_units()), (std::vector<std::string>{"dmar0", "dmar5"}));
}

}  // namespace
}  // namespace caps
