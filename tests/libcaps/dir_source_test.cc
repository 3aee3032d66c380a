// SPDX-License-Identifier: MIT
// Tests for the directory backend: statuses, containment and bounds, on trees built at run time,
// for both the openat2 resolver and the fallback walker.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "libcaps/source.h"
#include "sources/dir_source_internal.h"

namespace caps {

/// Statuses print by name in failure messages.
void PrintTo(ReadStatus status, std::ostream* out) { *out << to_string(status); }

namespace {

namespace fs = std::filesystem;
using internal::Resolver;

/// A directory tree in a fresh temporary directory, removed afterwards.
class TempTree {
 public:
  TempTree() {
    std::string tmpl = (fs::temp_directory_path() / "dirsrc.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = tmpl;
  }
  ~TempTree() {
    // Restore permissions that a test took away, so remove_all works without root.
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (!it->is_symlink()) ::chmod(it->path().c_str(), 0755);
    }
    fs::remove_all(root_, ec);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::string& root() const { return root_; }
  std::string abs(const std::string& rel) const { return root_ + "/" + rel; }

  void dir(const std::string& rel) const { fs::create_directories(abs(rel)); }
  void file(const std::string& rel, const std::string& content) const {
    parent(rel);
    std::ofstream(abs(rel), std::ios::binary) << content;
  }
  void link(const std::string& rel, const std::string& target) const {
    parent(rel);
    fs::create_symlink(target, abs(rel));
  }
  void fifo(const std::string& rel) const {
    parent(rel);
    ASSERT_EQ(::mkfifo(abs(rel).c_str(), 0644), 0);
  }
  void socket(const std::string& rel) const {
    parent(rel);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = abs(rel);
    ASSERT_LT(path.size(), sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);  // the socket file stays
  }

 private:
  void parent(const std::string& rel) const {
    fs::create_directories(fs::path(abs(rel)).parent_path());
  }

  std::string root_;
};

constexpr const char* kCap = "sys/devices/virtual/iommu/dmar0/intel-iommu/cap";
constexpr const char* kEcap = "sys/devices/virtual/iommu/dmar0/intel-iommu/ecap";

/// The sysfs-like part of every fixture: two units behind class links, a device link.
void build_sysfs(const TempTree& t) {
  t.file(kCap, "d2008c40660462\n");
  t.file(kEcap, "f050da");  // no trailing newline, as umockdev A: lines write it
  t.file("sys/devices/virtual/iommu/dmar0/intel-iommu/empty", "");
  t.file("sys/devices/virtual/iommu/dmar0/uevent", "SUBSYSTEM=iommu\n");
  t.dir("sys/devices/virtual/iommu/dmar1/devices");
  t.file("sys/devices/pci0000:00/0000:00:02.0/vendor", "0x8086\n");
  t.link("sys/devices/virtual/iommu/dmar0/devices/0000:00:02.0",
         "../../../../pci0000:00/0000:00:02.0");
  t.link("sys/class/iommu/dmar0", "../../devices/virtual/iommu/dmar0");
  t.link("sys/class/iommu/dmar1", "../../devices/virtual/iommu/dmar1");
  t.file("sys/kernel/iommu_groups/0/type", "DMA\n");
}

std::vector<std::string> names(const DirRead& read) {
  std::vector<std::string> out;
  for (const DirEntry& e : read.entries) out.push_back(e.name);
  return out;
}

/// How many descriptors this process has open.
int open_fds() {
  int count = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++count;
  return count;
}

/// Bytes this process has read through read(2) so far (task I/O accounting), or -1.
long long bytes_read() {
  std::ifstream io("/proc/self/io");
  std::string key;
  long long value = 0;
  while (io >> key >> value) {
    if (key == "rchar:") return value;
  }
  return -1;
}

/// Runs `op` without root's permission bypass: in a child that dropped to nobody when we are
/// root (CAP_DAC_OVERRIDE ignores file modes), directly otherwise. Returns the status.
ReadStatus without_privileges(const std::function<ReadStatus()>& op) {
  if (::geteuid() != 0) return op();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const bool dropped = ::setgroups(0, nullptr) == 0 && ::setresgid(65534, 65534, 65534) == 0 &&
                         ::setresuid(65534, 65534, 65534) == 0;
    ::_exit(dropped ? static_cast<int>(op()) : 100);
  }
  int wstatus = 0;
  if (pid < 0 || ::waitpid(pid, &wstatus, 0) != pid || !WIFEXITED(wstatus))
    return ReadStatus::kError;
  if (WEXITSTATUS(wstatus) == 100) return ReadStatus::kError;
  return static_cast<ReadStatus>(WEXITSTATUS(wstatus));
}

std::string resolver_name(const testing::TestParamInfo<Resolver>& info) {
  return info.param == Resolver::kOpenat2 ? "Openat2" : "Walk";
}

class DirSourceTest : public testing::TestWithParam<Resolver> {
 protected:
  void SetUp() override {
    if (GetParam() == Resolver::kOpenat2 && !internal::openat2_available()) {
      GTEST_SKIP() << "openat2 is not available on this kernel";
    }
    build_sysfs(tree_);
    source_ = open(tree_.root());
  }

  std::unique_ptr<Source> open(const std::string& root) {
    auto source = internal::open_dir_source(root, GetParam());
    EXPECT_TRUE(source) << source.error().to_string();
    return source ? std::move(*source) : nullptr;
  }

  FileRead read(const std::string& path, std::size_t limit = kAttrLimit) {
    return source_->read_file(path, limit);
  }

  TempTree tree_;
  std::unique_ptr<Source> source_;
};

INSTANTIATE_TEST_SUITE_P(Resolvers, DirSourceTest,
                         testing::Values(Resolver::kOpenat2, Resolver::kWalk), resolver_name);

TEST_P(DirSourceTest, ReadsFilesUntrimmed) {
  FileRead cap = read(kCap);
  ASSERT_EQ(cap.status, ReadStatus::kOk);
  EXPECT_EQ(cap.data, "d2008c40660462\n");
  FileRead ecap = read(kEcap);
  ASSERT_EQ(ecap.status, ReadStatus::kOk);
  EXPECT_EQ(ecap.data, "f050da");
}

TEST_P(DirSourceTest, ReadsEmptyFile) {
  FileRead empty = read("sys/devices/virtual/iommu/dmar0/intel-iommu/empty");
  ASSERT_EQ(empty.status, ReadStatus::kOk);
  EXPECT_EQ(empty.data, "");
}

TEST_P(DirSourceTest, FollowsLinksThatStayInside) {
  // Like sysfs class links: ../../devices/..., then the devices/ link of a unit.
  EXPECT_EQ(read("sys/class/iommu/dmar0/intel-iommu/cap").data, "d2008c40660462\n");
  EXPECT_EQ(read("sys/class/iommu/dmar0/devices/0000:00:02.0/vendor").data, "0x8086\n");
  EXPECT_EQ(source_->read_unit_file("dmar0", "intel-iommu/ecap", kAttrLimit).data, "f050da");
  tree_.link("up", "sys/../sys/class/iommu/dmar0/intel-iommu/cap");
  EXPECT_EQ(read("up").data, "d2008c40660462\n");
  tree_.link("sys/rootlink", "..");
  EXPECT_EQ(read("sys/rootlink/sys/rootlink/" + std::string(kCap)).status, ReadStatus::kOk);
}

TEST_P(DirSourceTest, DotDotThatStaysInsideIsFine) {
  EXPECT_EQ(read("sys/../sys/class/iommu/../iommu/dmar0/intel-iommu/cap").status, ReadStatus::kOk);
  // ".." after a link is the physical parent, as in the kernel: dmar0/.. is devices/virtual/iommu.
  EXPECT_EQ(read("sys/class/iommu/dmar0/../dmar0/intel-iommu/cap").status, ReadStatus::kOk);
  // Lexically this is sys/kernel/...; physically it is sys/devices/kernel/..., which is absent.
  EXPECT_EQ(read("sys/class/iommu/dmar0/../../../kernel/iommu_groups/0/type").status,
            ReadStatus::kMissing);
  EXPECT_EQ(read("sys//class/./iommu/dmar0/intel-iommu/cap").status, ReadStatus::kOk);
}

TEST_P(DirSourceTest, Missing) {
  EXPECT_EQ(read("sys/nope").status, ReadStatus::kMissing);
  EXPECT_EQ(read("sys/nope/cap").status, ReadStatus::kMissing);
  EXPECT_EQ(read(std::string(kCap) + "/x").status, ReadStatus::kMissing);  // ENOTDIR
  EXPECT_EQ(read(std::string(kCap) + "/").status, ReadStatus::kMissing);
  EXPECT_EQ(read("sys/class/iommu/dmar9/intel-iommu/cap").status, ReadStatus::kMissing);
  tree_.link("dangling", "nowhere");
  EXPECT_EQ(read("dangling").status, ReadStatus::kMissing);
  EXPECT_EQ(read("dangling").error, ENOENT);
}

TEST_P(DirSourceTest, VanishedFileIsMissing) {
  DirRead before = source_->list_dir("sys/devices/virtual/iommu/dmar0/intel-iommu");
  ASSERT_TRUE(before.ok());
  fs::remove(tree_.abs(kEcap));
  EXPECT_EQ(read(kEcap).status, ReadStatus::kMissing);
}

TEST_P(DirSourceTest, DirectoryIsNotRegular) {
  EXPECT_EQ(read("sys/class/iommu/dmar0/intel-iommu").status, ReadStatus::kNotRegular);
  EXPECT_EQ(read("sys/class/iommu/dmar0").status, ReadStatus::kNotRegular);
  EXPECT_EQ(read("").status, ReadStatus::kNotRegular);
  EXPECT_EQ(read("sys/.").status, ReadStatus::kNotRegular);
  EXPECT_EQ(read("sys/..").status, ReadStatus::kNotRegular);
}

TEST_P(DirSourceTest, FifoDoesNotBlock) {
  tree_.fifo("special/fifo");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(read("special/fifo").status, ReadStatus::kNotRegular);
  EXPECT_EQ(source_->list_dir("special/fifo").status, ReadStatus::kNotRegular);
  EXPECT_EQ(source_->read_link("special/fifo").status, ReadStatus::kNotRegular);
  // A blocking open would hang until ctest's deadline; a read that waited out the EAGAIN retries
  // would take about 1 s. Either way this is a hang guard, generous for a loaded machine.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST_P(DirSourceTest, SocketIsNotRegular) {
  tree_.socket("special/sock");
  EXPECT_EQ(read("special/sock").status, ReadStatus::kNotRegular);
  EXPECT_EQ(source_->list_dir("special/sock").status, ReadStatus::kNotRegular);
}

TEST_P(DirSourceTest, LinkToDevNullEscapes) {
  tree_.link("special/null", "/dev/null");
  EXPECT_EQ(read("special/null").status, ReadStatus::kEscapes);
  EXPECT_EQ(read("special/null").error, EXDEV);
}

TEST_P(DirSourceTest, CharacterDeviceIsNotRegular) {
  if (::mknod(tree_.abs("null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    GTEST_SKIP() << "mknod needs CAP_MKNOD: " << std::strerror(errno);
  }
  EXPECT_EQ(read("null").status, ReadStatus::kNotRegular);
  EXPECT_EQ(source_->list_dir("null").status, ReadStatus::kNotRegular);
}

TEST_P(DirSourceTest, OversizedFileStopsAtLimitPlusOne) {
  tree_.file("big", std::string(5 << 20, 'x'));
  const long long before = bytes_read();
  FileRead big = read("big");
  const long long after = bytes_read();
  EXPECT_EQ(big.status, ReadStatus::kTooLarge);
  EXPECT_EQ(big.data, "");
  if (before >= 0 && after >= 0) {
    // limit + 1 bytes, plus what reading /proc/self/io itself costs.
    EXPECT_LT(after - before, 64 * 1024);
  }
}

TEST_P(DirSourceTest, LimitBoundaries) {
  tree_.file("page", std::string(kAttrLimit, 'p'));
  tree_.file("page1", std::string(kAttrLimit + 1, 'p'));
  tree_.file("one", "1");
  tree_.file("empty", "");
  EXPECT_EQ(read("page").data.size(), kAttrLimit);
  EXPECT_EQ(read("page1").status, ReadStatus::kTooLarge);
  EXPECT_EQ(read("one", 0).status, ReadStatus::kTooLarge);
  EXPECT_EQ(read("empty", 0).status, ReadStatus::kOk);
  EXPECT_EQ(read("one", 1).data, "1");
  // The limit + 1 must not overflow, and a large limit must not allocate it up front.
  EXPECT_EQ(read("one", std::numeric_limits<std::size_t>::max()).data, "1");
  tree_.file("mid", std::string(100000, 'm'));  // grows the buffer several times
  EXPECT_EQ(read("mid", 1 << 20).data.size(), 100000u);
}

TEST_P(DirSourceTest, SymlinkLoops) {
  tree_.link("loop/a", "b");
  tree_.link("loop/b", "a");
  tree_.link("loop/self", "self");
  EXPECT_EQ(read("loop/a").status, ReadStatus::kLoop);
  EXPECT_EQ(read("loop/self").status, ReadStatus::kLoop);
  EXPECT_EQ(read("loop/self/x").status, ReadStatus::kLoop);
  EXPECT_EQ(source_->list_dir("loop/a").status, ReadStatus::kLoop);
  EXPECT_EQ(read("loop/a").error, ELOOP);
}

TEST_P(DirSourceTest, FortyLinksAreFineFortyOneAreALoop) {
  // The kernel's MAXSYMLINKS; the walker must agree with openat2.
  tree_.file("chain/target", "end\n");
  for (int i = 0; i < 41; ++i) {
    tree_.link("chain/l" + std::to_string(i), i == 40 ? "target" : "l" + std::to_string(i + 1));
  }
  EXPECT_EQ(read("chain/l1").data, "end\n");              // 40 links
  EXPECT_EQ(read("chain/l0").status, ReadStatus::kLoop);  // 41 links
}

TEST_P(DirSourceTest, RelativeLinkOutOfTheRootEscapes) {
  tree_.link("sys/esc", "../../../../../../../../etc/passwd");
  tree_.link("sys/a/b/esc", "../../../..");  // one level above the root
  tree_.link("sys/a/b/ok", "../../..");      // the root itself
  EXPECT_EQ(read("sys/esc").status, ReadStatus::kEscapes);
  EXPECT_EQ(read("sys/a/b/esc/etc/passwd").status, ReadStatus::kEscapes);
  EXPECT_EQ(source_->list_dir("sys/a/b/esc").status, ReadStatus::kEscapes);
  EXPECT_EQ(read("sys/a/b/ok/" + std::string(kCap)).status, ReadStatus::kOk);
}

TEST_P(DirSourceTest, AbsoluteLinkEscapes) {
  tree_.link("abs", "/etc/passwd");
  tree_.link("abs_inside", tree_.abs(kCap));  // absolute even though it names a file inside
  tree_.link("absdir", "/etc");
  EXPECT_EQ(read("abs").status, ReadStatus::kEscapes);
  EXPECT_EQ(read("abs_inside").status, ReadStatus::kEscapes);
  EXPECT_EQ(read("absdir/passwd").status, ReadStatus::kEscapes);
  EXPECT_EQ(source_->list_dir("absdir").status, ReadStatus::kEscapes);
}

TEST_P(DirSourceTest, DotDotInPathEscapes) {
  EXPECT_EQ(read("../etc/passwd").status, ReadStatus::kEscapes);
  EXPECT_EQ(read("sys/../../etc/passwd").status, ReadStatus::kEscapes);
  EXPECT_EQ(read("..").status, ReadStatus::kEscapes);
  // Even when a later component would come back inside (RESOLVE_BENEATH semantics).
  const std::string back = "../" + fs::path(tree_.root()).filename().string() + "/" + kCap;
  EXPECT_EQ(read(back).status, ReadStatus::kEscapes);
  EXPECT_EQ(source_->list_dir("..").status, ReadStatus::kEscapes);
  EXPECT_EQ(source_->read_link("../x").status, ReadStatus::kEscapes);
  EXPECT_EQ(source_->read_link("..").status, ReadStatus::kEscapes);
}

TEST_P(DirSourceTest, AbsoluteRequestEscapes) {
  EXPECT_EQ(read("/etc/passwd").status, ReadStatus::kEscapes);
  EXPECT_EQ(source_->list_dir("/etc").status, ReadStatus::kEscapes);
  EXPECT_EQ(source_->read_link("/etc/passwd").status, ReadStatus::kEscapes);
}

TEST_P(DirSourceTest, NulInPathIsAnError) {
  const std::string path = std::string(kCap) + std::string("\0/../../../../../x", 18);
  EXPECT_EQ(read(path).status, ReadStatus::kError);
  EXPECT_EQ(read(path).error, EINVAL);
}

TEST_P(DirSourceTest, ListsSortedWithTypes) {
  DirRead root = source_->list_dir("");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(names(root), std::vector<std::string>{"sys"});

  DirRead unit = source_->list_dir("sys/class/iommu/dmar0");
  ASSERT_TRUE(unit.ok());
  ASSERT_EQ(names(unit), (std::vector<std::string>{"devices", "intel-iommu", "uevent"}));
  EXPECT_EQ(unit.entries[0].type, EntryType::kDir);
  EXPECT_EQ(unit.entries[2].type, EntryType::kFile);

  DirRead devices = source_->list_unit_dir("dmar0", "devices");
  ASSERT_TRUE(devices.ok());
  ASSERT_EQ(names(devices), std::vector<std::string>{"0000:00:02.0"});
  EXPECT_EQ(devices.entries[0].type, EntryType::kLink);

  DirRead empty = source_->list_unit_dir("dmar1", "devices");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty.entries.empty());
}

TEST_P(DirSourceTest, ListUnits) {
  DirRead units = source_->list_units();
  ASSERT_TRUE(units.ok());
  ASSERT_EQ(names(units), (std::vector<std::string>{"dmar0", "dmar1"}));
  EXPECT_EQ(units.entries[0].type, EntryType::kLink);

  TempTree bare;
  EXPECT_EQ(open(bare.root())->list_units().status, ReadStatus::kMissing);
}

TEST_P(DirSourceTest, ListErrors) {
  EXPECT_EQ(source_->list_dir(kCap).status, ReadStatus::kNotRegular);
  EXPECT_EQ(source_->list_dir("sys/nope").status, ReadStatus::kMissing);
  EXPECT_EQ(source_->list_dir(std::string(kCap) + "/x").status, ReadStatus::kMissing);
  tree_.link("sys/tofile", "devices/virtual/iommu/dmar0/intel-iommu/cap");
  EXPECT_EQ(source_->list_dir("sys/tofile").status, ReadStatus::kNotRegular);
}

TEST_P(DirSourceTest, NonUtf8NamesAreListedExactly) {
  const std::vector<std::string> created = {"\xff",
                                            "a\x80"
                                            "b",
                                            "B",
                                            "a",
                                            "\x01",
                                            "\xc3\xa9"};
  for (const std::string& name : created) tree_.file("names/" + name, name);
  DirRead listed = source_->list_dir("names");
  ASSERT_TRUE(listed.ok());
  // Byte order, bytes compared unsigned: 0x01 < 'B' < 'a' < "a\x80b" < 0xc3 < 0xff.
  EXPECT_EQ(names(listed), (std::vector<std::string>{"\x01", "B", "a",
                                                     "a\x80"
                                                     "b",
                                                     "\xc3\xa9", "\xff"}));
  EXPECT_EQ(read("names/\xff").data, "\xff");
}

TEST_P(DirSourceTest, ReadLink) {
  LinkRead link = source_->read_link("sys/class/iommu/dmar0");
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link.target, "../../devices/virtual/iommu/dmar0");
  // The parent is resolved (through the class link), the last component is not followed.
  EXPECT_EQ(source_->read_link("sys/class/iommu/dmar0/devices/0000:00:02.0").target,
            "../../../../pci0000:00/0000:00:02.0");
  // Reading the text of a link that points outside is fine: it is not followed.
  tree_.link("abs", "/etc/passwd");
  EXPECT_EQ(source_->read_link("abs").target, "/etc/passwd");
  tree_.link("loop", "loop");
  EXPECT_EQ(source_->read_link("loop").target, "loop");
}

TEST_P(DirSourceTest, ReadLinkErrors) {
  EXPECT_EQ(source_->read_link(kCap).status, ReadStatus::kNotRegular);
  EXPECT_EQ(source_->read_link("sys/class").status, ReadStatus::kNotRegular);
  EXPECT_EQ(source_->read_link("").status, ReadStatus::kNotRegular);
  EXPECT_EQ(source_->read_link("sys/class/iommu/dmar0/").status, ReadStatus::kNotRegular);
  EXPECT_EQ(source_->read_link("sys/nope").status, ReadStatus::kMissing);
  EXPECT_EQ(source_->read_link("sys/nope/x").status, ReadStatus::kMissing);
  tree_.link("abs", "/etc");
  EXPECT_EQ(source_->read_link("abs/passwd").status, ReadStatus::kEscapes);
}

// The listing reads getdents64 in batches of 32 KiB: a directory of 2,000 long names (about
// 128 KiB of entries) takes several, and every name comes out once, sorted, with its type.
TEST_P(DirSourceTest, ListsADirectoryLargerThanOneBatch) {
  std::vector<std::string> expected;
  for (int i = 0; i < 2000; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "entry-%04d-with-a-name-long-enough-to-fill-batches", i);
    expected.emplace_back(name);
    tree_.file("many/" + expected.back(), "");
  }
  tree_.dir("many/zz-dir");
  tree_.link("many/zz-link", "zz-dir");
  expected.emplace_back("zz-dir");
  expected.emplace_back("zz-link");
  const DirRead listing = source_->list_dir("many");
  ASSERT_EQ(listing.status, ReadStatus::kOk);
  EXPECT_EQ(names(listing), expected);
  EXPECT_EQ(listing.entries.front().type, EntryType::kFile);
  EXPECT_EQ(listing.entries[2000].type, EntryType::kDir);
  EXPECT_EQ(listing.entries[2001].type, EntryType::kLink);
}

// read_links opens the directory once for all the links; each result must be what read_link
// gives for that path, failures included, and it must not keep a descriptor.
TEST_P(DirSourceTest, ReadLinksAgreesWithReadLink) {
  tree_.link("d/abs", "/etc/passwd");
  tree_.link("d/loop", "loop");
  tree_.link("d/rel", "../sys");
  tree_.file("d/file", "x");
  tree_.dir("d/dir");
  tree_.fifo("d/fifo");
  tree_.link("esc", "/etc");
  const std::vector<std::string_view> names = {"abs",  "loop", "rel", "file", "dir",
                                               "fifo", "nope", ".",   "..",   ""};
  const int before = open_fds();
  for (const std::string_view dir :
       {"d", "d/", "sys/class/iommu/dmar0", "sys/class/iommu/dmar0/devices/0000:00:02.0/..",
        "sys/nope", "d/file", "d/fifo", "esc", "../x", "/d", "", "."}) {
    SCOPED_TRACE("dir \"" + std::string(dir) + "\"");
    const std::vector<LinkRead> links = source_->read_links(dir, names);
    ASSERT_EQ(links.size(), names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::string path =
          dir.empty() ? std::string(names[i]) : std::string(dir) + "/" + std::string(names[i]);
      const LinkRead one = source_->read_link(path);
      EXPECT_EQ(links[i].status, one.status) << path;
      EXPECT_EQ(links[i].target, one.target) << path;
      EXPECT_EQ(links[i].error, one.error) << path;
    }
  }
  const std::vector<LinkRead> device = source_->read_links(
      "sys/class/iommu/dmar0", std::vector<std::string_view>{"subsystem", "devices"});
  EXPECT_EQ(device[0].status, ReadStatus::kMissing);
  EXPECT_EQ(device[1].status, ReadStatus::kNotRegular);
  EXPECT_EQ(source_->read_links("d", std::vector<std::string_view>{"abs"})[0].target,
            "/etc/passwd");
  EXPECT_EQ(open_fds(), before);
}

TEST_P(DirSourceTest, UnreadableIsDenied) {
  // Root bypasses file modes, so the reads run in a child that dropped to nobody.
  ASSERT_EQ(::chmod(tree_.root().c_str(), 0755), 0);  // mkdtemp made it 0700
  tree_.file("locked/secret", "x\n");
  tree_.file("closed/inner", "x\n");
  tree_.dir("nolist");
  ASSERT_EQ(::chmod(tree_.abs("locked/secret").c_str(), 0), 0);
  ASSERT_EQ(::chmod(tree_.abs("closed").c_str(), 0600), 0);  // no search permission
  ASSERT_EQ(::chmod(tree_.abs("nolist").c_str(), 0311), 0);  // search but no read
  Source& source = *source_;
  EXPECT_EQ(without_privileges([&] { return source.read_file("locked/secret", 100).status; }),
            ReadStatus::kDenied);
  EXPECT_EQ(without_privileges([&] { return source.read_file("closed/inner", 100).status; }),
            ReadStatus::kDenied);
  EXPECT_EQ(without_privileges([&] { return source.list_dir("nolist").status; }),
            ReadStatus::kDenied);
  EXPECT_EQ(without_privileges(
                [&] { return source.read_file("sys/kernel/iommu_groups/0/type", 100).status; }),
            ReadStatus::kOk);
}

TEST_P(DirSourceTest, NoDescriptorLeaks) {
  tree_.fifo("fifo");
  tree_.link("loop", "loop");
  tree_.link("esc", "../..");
  tree_.file("big", std::string(10000, 'b'));
  const int before = open_fds();
  for (const char* path : {kCap, "fifo", "loop", "esc/x", "sys/nope", "big", "sys", "",
                           "sys/class/iommu/dmar0/devices/0000:00:02.0/vendor"}) {
    read(path);
    source_->list_dir(path);
    source_->read_link(path);
  }
  source_->list_units();
  EXPECT_EQ(open_fds(), before);
}

TEST_P(DirSourceTest, RootMayBeGivenWithTrailingSlash) {
  auto source = open(tree_.root() + "/");
  ASSERT_TRUE(source);
  EXPECT_EQ(source->read_file(kCap, kAttrLimit).data, "d2008c40660462\n");
}

TEST(DirSource, WalkerAgreesWithOpenat2) {
  if (!internal::openat2_available()) GTEST_SKIP() << "openat2 is not available on this kernel";
  TempTree tree;
  build_sysfs(tree);
  tree.link("l/root", "..");
  tree.link("l/esc", "../..");
  tree.link("l/abs", "/");
  tree.link("l/loop", "loop");
  tree.link("l/dirslash", "../sys/");
  tree.link("l/fileslash", "../" + std::string(kCap) + "/");
  tree.link("l/dangling", "nowhere/x");
  tree.fifo("l/fifo");
  auto kernel = internal::open_dir_source(tree.root(), Resolver::kOpenat2);
  auto walker = internal::open_dir_source(tree.root(), Resolver::kWalk);
  ASSERT_TRUE(kernel && walker);
  const std::vector<std::string> paths = {
      "",
      ".",
      "..",
      "sys",
      "sys/",
      "sys/.",
      "sys/..",
      "sys/../..",
      "l/root",
      "l/root/",
      "l/root/sys/class/iommu/dmar0/intel-iommu/cap",
      "l/esc",
      "l/esc/x",
      "l/abs",
      "l/loop",
      "l/loop/",
      "l/dirslash",
      "l/dirslash/class",
      "l/fileslash",
      "l/dangling",
      "l/fifo",
      "l/fifo/",
      "sys/class/iommu/dmar0/..",
      "sys/class/iommu/dmar0/../dmar1",
      "sys/class/iommu/dmar0/devices/0000:00:02.0/../../../../../kernel",
      "sys//class///iommu",
      "sys/class/iommu/dmar0/intel-iommu/cap/..",
      std::string(kCap) + "/."};
  for (const std::string& path : paths) {
    SCOPED_TRACE("path \"" + path + "\"");
    const FileRead kf = (*kernel)->read_file(path, kAttrLimit);
    const FileRead wf = (*walker)->read_file(path, kAttrLimit);
    EXPECT_EQ(kf.status, wf.status);
    EXPECT_EQ(kf.data, wf.data);
    const DirRead kd = (*kernel)->list_dir(path);
    const DirRead wd = (*walker)->list_dir(path);
    EXPECT_EQ(kd.status, wd.status);
    EXPECT_EQ(names(kd), names(wd));
    const LinkRead kl = (*kernel)->read_link(path);
    const LinkRead wl = (*walker)->read_link(path);
    EXPECT_EQ(kl.status, wl.status);
    EXPECT_EQ(kl.target, wl.target);
  }
}

TEST(DirSource, NamesItself) {
  TempTree tree;
  auto source = open_dir_source(tree.root());
  ASSERT_TRUE(source) << source.error().to_string();
  EXPECT_EQ((*source)->backend(), "dir");
  EXPECT_EQ((*source)->root(), tree.root());
}

TEST(DirSource, OpenFailsOnMissingRoot) {
  TempTree tree;
  const std::string root = tree.abs("nope");
  auto source = open_dir_source(root);
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().where, root);
  EXPECT_EQ(source.error().to_string(),
            root + ": cannot open root directory: no such file or directory");
}

TEST(DirSource, OpenFailsOnFileRoot) {
  TempTree tree;
  tree.file("file", "x");
  auto source = open_dir_source(tree.abs("file"));
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().to_string(), tree.abs("file") + ": not a directory");
}

TEST(DirSource, RootModeReadsAbsolutePaths) {
  auto source = open_dir_source("/");
  ASSERT_TRUE(source);
  Source& root = **source;
  EXPECT_EQ(root.root(), "/");
  FileRead comm = root.read_file("proc/self/comm", kAttrLimit);
  ASSERT_TRUE(comm.ok());
  EXPECT_EQ(comm.data, "dir_source_test\n");

  TempTree tree;
  build_sysfs(tree);
  const std::string rel = tree.root().substr(1);  // the tree as seen from "/"
  EXPECT_EQ(root.read_file(rel + "/sys/class/iommu/dmar0/intel-iommu/cap", kAttrLimit).data,
            "d2008c40660462\n");
  EXPECT_EQ(names(root.list_dir(rel + "/sys/class/iommu")),
            (std::vector<std::string>{"dmar0", "dmar1"}));
  EXPECT_EQ(root.read_link(rel + "/sys/class/iommu/dmar0").target,
            "../../devices/virtual/iommu/dmar0");
  EXPECT_EQ(root.read_link(rel).status, ReadStatus::kNotRegular);
  EXPECT_EQ(root.list_dir(rel + "/sys/kernel/iommu_groups/0/type").status, ReadStatus::kNotRegular);
  EXPECT_EQ(root.list_dir(rel + "/nope").status, ReadStatus::kMissing);
  EXPECT_EQ(root.read_file("proc", kAttrLimit).status, ReadStatus::kNotRegular);
  EXPECT_EQ(root.read_file("/etc/passwd", kAttrLimit).status, ReadStatus::kEscapes);

  tree.fifo("fifo");
  EXPECT_EQ(root.read_file(rel + "/fifo", kAttrLimit).status, ReadStatus::kNotRegular);
  tree.file("big", std::string(5 << 20, 'x'));
  EXPECT_EQ(root.read_file(rel + "/big", kAttrLimit).status, ReadStatus::kTooLarge);
  tree.link("loop", "loop");
  EXPECT_EQ(root.read_file(rel + "/loop", kAttrLimit).status, ReadStatus::kLoop);
}

}  // namespace
}  // namespace caps
