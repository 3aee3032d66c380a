// Tests for tools/common/atomic_file: replacement, and failures that leave everything as it was.
#include "common/atomic_file.h"

#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace tools {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "atomic_file_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
  }

  static std::string read(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static void write(const fs::path& path, std::string_view text) { std::ofstream(path) << text; }
  /// Every entry of the test directory, to prove no temporary file was left behind.
  std::vector<std::string> entries(const fs::path& dir) const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

TEST_F(AtomicFileTest, CreatesANewFile) {
  const fs::path target = dir_ / "out.json";
  ASSERT_TRUE(write_file_atomically(target, "{}\n"));
  EXPECT_EQ(read(target), "{}\n");
  EXPECT_EQ(entries(dir_), std::vector<std::string>{"out.json"});
}

TEST_F(AtomicFileTest, NewFileModeFollowsTheUmask) {
  const mode_t old = ::umask(022);
  const fs::path target = dir_ / "out.json";
  ASSERT_TRUE(write_file_atomically(target, "x"));
  ::umask(old);
  struct stat st;
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(AtomicFileTest, ReplacesAnExistingFileAndKeepsItsMode) {
  const fs::path target = dir_ / "out.json";
  write(target, "old content that is longer");
  ASSERT_EQ(::chmod(target.c_str(), 0640), 0);
  ASSERT_TRUE(write_file_atomically(target, "new"));
  EXPECT_EQ(read(target), "new");
  struct stat st;
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(entries(dir_), std::vector<std::string>{"out.json"});
}

TEST_F(AtomicFileTest, WritesEmptyAndBinaryContent) {
  const fs::path target = dir_ / "bin";
  const std::string content("a\0b\xff", 4);
  ASSERT_TRUE(write_file_atomically(target, content));
  EXPECT_EQ(read(target), content);
  ASSERT_TRUE(write_file_atomically(target, ""));
  EXPECT_EQ(read(target), "");
}

TEST_F(AtomicFileTest, RelativePathUsesTheCurrentDirectory) {
  const fs::path cwd = fs::current_path();
  fs::current_path(dir_);
  const auto result = write_file_atomically("rel.txt", "r");
  fs::current_path(cwd);
  ASSERT_TRUE(result);
  EXPECT_EQ(read(dir_ / "rel.txt"), "r");
}

TEST_F(AtomicFileTest, TargetIsADirectory) {
  const fs::path target = dir_ / "sub";
  fs::create_directory(target);
  write(target / "keep", "kept");
  const auto result = write_file_atomically(target, "new");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().to_string(), target.string() + ": cannot replace: Is a directory");
  EXPECT_EQ(read(target / "keep"), "kept");
  EXPECT_EQ(entries(dir_), std::vector<std::string>{"sub"});
}

TEST_F(AtomicFileTest, MissingDirectory) {
  const fs::path target = dir_ / "nope" / "out.json";
  const auto result = write_file_atomically(target, "x");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().to_string(), target.string() + ": cannot create a temporary file in " +
                                            (dir_ / "nope").string() +
                                            ": No such file or directory");
  EXPECT_TRUE(entries(dir_).empty());
}

TEST_F(AtomicFileTest, TrailingSlashIsRejected) {
  const auto result = write_file_atomically(dir_.string() + "/", "x");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "cannot replace: Is a directory");
  EXPECT_TRUE(entries(dir_).empty());
}

TEST_F(AtomicFileTest, UnwritableDirectoryLeavesTheOldFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  const fs::path sub = dir_ / "ro";
  fs::create_directory(sub);
  write(sub / "out.json", "old");
  fs::permissions(sub, fs::perms::owner_read | fs::perms::owner_exec);
  const auto result = write_file_atomically(sub / "out.json", "new");
  fs::permissions(sub, fs::perms::owner_all);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().to_string(), (sub / "out.json").string() +
                                            ": cannot create a temporary file in " + sub.string() +
                                            ": Permission denied");
  EXPECT_EQ(read(sub / "out.json"), "old");
  EXPECT_EQ(entries(sub), std::vector<std::string>{"out.json"});
}

TEST_F(AtomicFileTest, WriteFailureLeavesTheOldFileAndNoTemporaryFile) {
  // A file-size limit makes write(2) fail with EFBIG once the temporary file is half written.
  const fs::path target = dir_ / "out.json";
  write(target, "old");
  struct rlimit saved;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit small = saved;
  small.rlim_cur = 16;
  auto* previous = ::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const auto result = write_file_atomically(target, std::string(100, 'x'));
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::signal(SIGXFSZ, previous);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().where, target.string());
  EXPECT_TRUE(result.error().message.starts_with("cannot write " + dir_.string() + "/.out.json."))
      << result.error().message;
  EXPECT_TRUE(result.error().message.ends_with(": File too large")) << result.error().message;
  EXPECT_EQ(read(target), "old");
  EXPECT_EQ(entries(dir_), std::vector<std::string>{"out.json"});
}

TEST_F(AtomicFileTest, CrashMidWriteLeavesTheOldFileInPlace) {
  // A child is killed while writing: with a file-size limit and SIGXFSZ at its default action,
  // the kernel ends the process in the middle of write(2), as a crash would. Nothing can clean
  // up after that, but the target must still hold its old content, never a partial one.
  const fs::path target = dir_ / "report.toml";
  write(target, "old report\n");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    struct rlimit small = {4096, 4096};
    ::signal(SIGXFSZ, SIG_DFL);
    ::setrlimit(RLIMIT_FSIZE, &small);
    (void)write_file_atomically(target, std::string(1 << 20, 'x'));
    ::_exit(0);  // not reached: the write above is past the limit
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child was expected to die mid-write";
  EXPECT_EQ(WTERMSIG(status), SIGXFSZ);
  EXPECT_EQ(read(target), "old report\n");
  // The dead writer's partial temporary file is beside the target under another name.
  for (const std::string& name : entries(dir_)) {
    if (name != "report.toml") {
      EXPECT_TRUE(name.starts_with(".report.toml.")) << name;
    }
  }
}

TEST_F(AtomicFileTest, FullDiskLeavesTheOldFileAndNoTemporaryFile) {
  // A real full disk: a 64 KiB tmpfs (needs root, or CAP_SYS_ADMIN).
  const fs::path mount = dir_ / "tiny";
  fs::create_directory(mount);
  if (::mount("tmpfs", mount.c_str(), "tmpfs", 0, "size=64k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  }
  const fs::path target = mount / "out.json";
  write(target, "old");
  const auto result = write_file_atomically(target, std::string(1 << 20, 'x'));
  const std::string old = read(target);
  const std::vector<std::string> left = entries(mount);
  ::umount(mount.c_str());
  ASSERT_FALSE(result);
  EXPECT_TRUE(result.error().message.ends_with(": No space left on device"))
      << result.error().message;
  EXPECT_EQ(old, "old");
  EXPECT_EQ(left, std::vector<std::string>{"out.json"});
}

}  // namespace
}  // namespace tools
