// SPDX-License-Identifier: MIT
// Tests for tools/common/atomic_file: replacement, and failures that leave everything as it was.
#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
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

  /// A character device to write to: a node of `real`'s numbers made in the test directory
  /// when this process may make one (root), so that a regression that renames over the path
  /// turns the scratch node, not the machine's /dev/null or /dev/full, into a regular file
  /// (as a test of this very defect once did). Without privileges the real node is used: then
  /// nothing can rename over it. Empty when root cannot use a node here (a nodev mount).
  fs::path character_device(const char* real) const {
    struct stat st;
    if (::stat(real, &st) != 0 || !S_ISCHR(st.st_mode)) return {};
    const fs::path node = dir_ / fs::path(real).filename();
    if (::mknod(node.c_str(), S_IFCHR | 0666, st.st_rdev) != 0) {
      return ::geteuid() == 0 ? fs::path() : fs::path(real);
    }
    const int fd = ::open(node.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return {};
    ::close(fd);
    return node;
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
  EXPECT_EQ(result.error().to_string(), target.string() + ": cannot create a file in " +
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

std::string type_of(const fs::path& path) {
  switch (fs::symlink_status(path).type()) {
    case fs::file_type::regular:
      return "regular";
    case fs::file_type::symlink:
      return "symlink";
    case fs::file_type::character:
      return "character";
    case fs::file_type::fifo:
      return "fifo";
    case fs::file_type::socket:
      return "socket";
    case fs::file_type::directory:
      return "directory";
    case fs::file_type::not_found:
      return "missing";
    default:
      return "other";
  }
}

TEST_F(AtomicFileTest, ClassifiesRegularFilesAndNewPathsAsReplacements) {
  write(dir_ / "old", "x");
  const auto old = classify_output(dir_ / "old");
  ASSERT_TRUE(old) << old.error().to_string();
  EXPECT_EQ(old->kind, OutputTarget::Kind::kReplace);
  EXPECT_EQ(old->id, file_id(dir_ / "old"));
  const auto fresh = classify_output(dir_ / "new");
  ASSERT_TRUE(fresh) << fresh.error().to_string();
  EXPECT_EQ(fresh->kind, OutputTarget::Kind::kReplace);
  EXPECT_FALSE(fresh->id.has_value());
}

TEST_F(AtomicFileTest, CharacterDeviceIsWrittenInPlaceNotReplaced) {
  // A null device: a rename over it (as root) would turn the device node into a regular file.
  const fs::path null = character_device("/dev/null");
  if (null.empty()) GTEST_SKIP() << "no null device to write to";
  const auto target = classify_output(null);
  ASSERT_TRUE(target) << target.error().to_string();
  EXPECT_EQ(target->kind, OutputTarget::Kind::kDevice);
  ASSERT_TRUE(write_file_atomically(null, "discarded"));
  EXPECT_EQ(type_of(null), "character");
}

TEST_F(AtomicFileTest, FullDeviceIsAWriteErrorNotASilentSuccess) {
  const fs::path full = character_device("/dev/full");
  if (full.empty()) GTEST_SKIP() << "no full device to write to";
  const auto result = write_file_atomically(full, "x");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().to_string(), full.string() + ": cannot write: No space left on device");
  EXPECT_EQ(type_of(full), "character");
}

TEST_F(AtomicFileTest, FifoIsWrittenInPlace) {
  const fs::path fifo = dir_ / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // The reader end, opened without blocking, so the writer's open does not wait.
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  ASSERT_TRUE(write_file_atomically(fifo, "through the pipe"));
  char data[64] = {};
  const ssize_t n = ::read(reader, data, sizeof data);
  ::close(reader);
  EXPECT_EQ(std::string(data, n > 0 ? static_cast<size_t>(n) : 0), "through the pipe");
  EXPECT_EQ(type_of(fifo), "fifo");
}

TEST_F(AtomicFileTest, SymlinkToARegularFileReplacesTheTargetAndKeepsTheLink) {
  write(dir_ / "real.json", "old");
  ASSERT_EQ(::chmod((dir_ / "real.json").c_str(), 0640), 0);
  fs::create_symlink("real.json", dir_ / "link.json");
  ASSERT_TRUE(write_file_atomically(dir_ / "link.json", "new"));
  EXPECT_EQ(type_of(dir_ / "link.json"), "symlink");
  EXPECT_EQ(fs::read_symlink(dir_ / "link.json"), "real.json");
  EXPECT_EQ(read(dir_ / "real.json"), "new");
  EXPECT_EQ(fs::status(dir_ / "real.json").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_EQ(entries(dir_), (std::vector<std::string>{"link.json", "real.json"}));
}

TEST_F(AtomicFileTest, SymlinkIntoAnotherDirectoryReplacesTheTargetThere) {
  fs::create_directory(dir_ / "elsewhere");
  write(dir_ / "elsewhere" / "real.json", "old");
  fs::create_symlink(dir_ / "elsewhere" / "real.json", dir_ / "link.json");
  ASSERT_TRUE(write_file_atomically(dir_ / "link.json", "new"));
  EXPECT_EQ(type_of(dir_ / "link.json"), "symlink");
  EXPECT_EQ(read(dir_ / "elsewhere" / "real.json"), "new");
  EXPECT_EQ(entries(dir_ / "elsewhere"), std::vector<std::string>{"real.json"});
}

TEST_F(AtomicFileTest, DanglingSymlinkIsRefused) {
  fs::create_symlink("nowhere", dir_ / "link");
  const auto result = write_file_atomically(dir_ / "link", "x");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().to_string(),
            (dir_ / "link").string() +
                ": is a symbolic link to a file that does not exist: refusing to create its "
                "target");
  EXPECT_EQ(entries(dir_), std::vector<std::string>{"link"});
}

TEST_F(AtomicFileTest, SocketIsRefused) {
  const fs::path path = dir_ / "sock";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.string().size(), sizeof addr.sun_path);
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const auto result = write_file_atomically(path, "x");
  ::close(fd);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().to_string(), path.string() + ": is a socket: cannot write to it");
  EXPECT_EQ(type_of(path), "socket");
}

TEST_F(AtomicFileTest, BlockDeviceIsRefused) {
  const fs::path node = dir_ / "blk";
  if (::mknod(node.c_str(), S_IFBLK | 0600, makedev(7, 200)) != 0) {
    GTEST_SKIP() << "cannot make a device node here: " << std::strerror(errno);
  }
  const auto result = write_file_atomically(node, "x");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().to_string(),
            node.string() + ": is a block device: refusing to write to it");
  EXPECT_EQ(fs::symlink_status(node).type(), fs::file_type::block);
}

TEST_F(AtomicFileTest, OwnDescriptorsAreWrittenDirectly) {
  const auto out = classify_output("/dev/stdout");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->kind, OutputTarget::Kind::kDescriptor);
  EXPECT_EQ(out->descriptor, 1);
  const auto fd = classify_output("/dev/fd/2");
  ASSERT_TRUE(fd);
  EXPECT_EQ(fd->descriptor, 2);
  const auto closed = classify_output("/proc/self/fd/999");
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error().to_string(), "/proc/self/fd/999: cannot write: Bad file descriptor");
}

TEST_F(AtomicFileTest, FailedStreamIsNotCommitted) {
  // A formatter that cannot allocate leaves its stream bad with nothing wrong in the file:
  // the commit must still fail, and the old file stay.
  const fs::path target = dir_ / "out.json";
  write(target, "old");
  auto classified = classify_output(target);
  ASSERT_TRUE(classified);
  auto out = OutputFile::open(*classified);
  ASSERT_TRUE(out);
  (*out)->stream() << "partial";
  (*out)->stream().setstate(std::ios::badbit);
  const auto result = (*out)->commit();
  ASSERT_FALSE(result);
  EXPECT_TRUE(
      result.error().message.ends_with("the output could not be formatted (out of memory?)"))
      << result.error().message;
  out->reset();
  EXPECT_EQ(read(target), "old");
  EXPECT_EQ(entries(dir_), std::vector<std::string>{"out.json"});
}

TEST_F(AtomicFileTest, UncommittedOutputLeavesTheOldFile) {
  const fs::path target = dir_ / "out.json";
  write(target, "old");
  {
    auto out = OutputFile::open(*classify_output(target));
    ASSERT_TRUE(out);
    (*out)->stream() << std::string(1 << 20, 'x');  // past the buffer: on disk already
  }
  EXPECT_EQ(read(target), "old");
  EXPECT_EQ(entries(dir_), std::vector<std::string>{"out.json"});
}

TEST_F(AtomicFileTest, OutputThatIsAnInputIsAConflictHoweverSpelled) {
  write(dir_ / "g.toml", "guest");
  fs::create_symlink("g.toml", dir_ / "alias.toml");
  fs::create_hard_link(dir_ / "g.toml", dir_ / "hard.toml");
  const std::vector<std::string> inputs = {(dir_ / "other.toml").string(),
                                           (dir_ / "g.toml").string()};
  for (const fs::path& spelling :
       {dir_ / "g.toml", dir_ / "." / "g.toml", dir_ / "alias.toml", dir_ / "hard.toml"}) {
    const auto target = classify_output(spelling);
    ASSERT_TRUE(target) << spelling;
    EXPECT_EQ(output_conflict(*target, inputs, {}),
              spelling.string() + ": the output is also an input (" + (dir_ / "g.toml").string() +
                  "): refusing to overwrite it")
        << spelling;
  }
  const auto other = classify_output(dir_ / "report.json");
  ASSERT_TRUE(other);
  EXPECT_EQ(output_conflict(*other, inputs, {}), "");
}

TEST_F(AtomicFileTest, OutputInsideATreeReadIsAConflict) {
  fs::create_directories(dir_ / "tree" / "sys" / "class");
  fs::create_directories(dir_ / "tree" / "proc");
  write(dir_ / "tree" / "proc" / "cmdline", "ro");
  const std::vector<std::string> trees = {(dir_ / "tree").string()};
  for (const fs::path& inside :
       {dir_ / "tree" / "sys" / "class" / "new.json", dir_ / "tree" / "proc" / "cmdline"}) {
    const auto target = classify_output(inside);
    ASSERT_TRUE(target) << inside;
    EXPECT_EQ(output_conflict(*target, {}, trees),
              inside.string() + ": the output is inside the tree " + trees[0] +
                  " that is read: refusing to write there");
  }
  // Beside sys/ and proc/ is not read.
  const auto beside = classify_output(dir_ / "tree" / "report.json");
  ASSERT_TRUE(beside);
  EXPECT_EQ(output_conflict(*beside, {}, trees), "");
}

}  // namespace
}  // namespace tools
