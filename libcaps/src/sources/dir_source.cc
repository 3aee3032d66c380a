// SPDX-License-Identifier: MIT
// The directory backend: a Source that reads a sysfs tree under any root and never leaves it.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dir_source_internal.h"
#include "libcaps/source.h"

namespace caps {
namespace {

/// A hostile tree must not exhaust memory through one huge directory.
constexpr std::size_t kMaxEntries = 100000;
/// The kernel's MAXSYMLINKS; the walker fails the same way openat2 does.
constexpr int kMaxLinks = 40;
/// openat2 returns EAGAIN when a concurrent rename makes ".." unverifiable; retry a little.
constexpr int kMaxOpenRetries = 8;
/// A regular file should never say EAGAIN, but O_NONBLOCK allows it; wait a bounded time.
constexpr int kMaxReadWaits = 10;
constexpr int kReadWaitMs = 100;
/// The first read buffer: one sysfs page plus the byte that proves a file is too large.
constexpr std::size_t kFirstChunk = 4096 + 1;

constexpr int kFileFlags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC;
constexpr int kPathDirFlags = O_PATH | O_DIRECTORY | O_CLOEXEC;

/// Owns one file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  explicit operator bool() const { return fd_ >= 0; }

  void reset(int fd = -1) {
    // Never retry close(): on Linux the descriptor is gone even after EINTR.
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

/// Closes a DIR stream (and the descriptor it owns).
struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

/// An opened path, or why it could not be opened.
struct Opened {
  Fd fd;
  int error = 0;
};

Opened fail(int error) { return Opened{Fd(), error}; }

ReadStatus status_of(int error) {
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return ReadStatus::kMissing;
    case EACCES:
    case EPERM:
      return ReadStatus::kDenied;
    case EXDEV:
      return ReadStatus::kEscapes;
    case ELOOP:
      return ReadStatus::kLoop;
    case ENXIO:   // a socket, or a device without a driver
    case ENODEV:  // a device node whose driver is gone
    case EISDIR:
      return ReadStatus::kNotRegular;
    default:
      return ReadStatus::kError;
  }
}

FileRead file_error(int error) { return FileRead{status_of(error), {}, error}; }
FileRead file_status(ReadStatus status, int error = 0) { return FileRead{status, {}, error}; }
DirRead dir_error(int error) { return DirRead{status_of(error), {}, error}; }
LinkRead link_error(int error) { return LinkRead{status_of(error), {}, error}; }

/// Paths are root-relative. A leading '/' would name the host's root, and a NUL would make
/// the kernel see a shorter path than the caller asked for.
int check_path(std::string_view path) {
  if (!path.empty() && path.front() == '/') return EXDEV;
  if (path.find('\0') != std::string_view::npos) return EINVAL;
  return 0;
}

EntryType entry_type_of_mode(mode_t mode) {
  if (S_ISREG(mode)) return EntryType::kFile;
  if (S_ISDIR(mode)) return EntryType::kDir;
  if (S_ISLNK(mode)) return EntryType::kLink;
  return EntryType::kOther;
}

/// Waits until a descriptor that said EAGAIN is readable; false when it never became so.
bool wait_readable(int fd) {
  pollfd pfd{fd, POLLIN, 0};
  return ::poll(&pfd, 1, kReadWaitMs) >= 0;
}

/// Fills data[used, data.size()) from `fd` (at the file position, or from `offset` when it is
/// not kNoOffset), stopping early only at end of file. Returns 0 or an errno value.
constexpr std::size_t kNoOffset = std::numeric_limits<std::size_t>::max();

int fill(int fd, std::string& data, std::size_t& used, std::size_t offset) {
  int waits = 0;
  while (used < data.size()) {
    char* into = data.data() + used;
    const std::size_t want = data.size() - used;
    const ssize_t n = offset == kNoOffset
                          ? ::read(fd, into, want)
                          : ::pread(fd, into, want, static_cast<off_t>(offset + used));
    if (n == 0) return 0;
    if (n > 0) {
      used += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN && ++waits <= kMaxReadWaits && wait_readable(fd)) continue;
    return errno;
  }
  return 0;
}

/// Reads at most limit + 1 bytes: the extra byte is how a too-large file is told apart
/// without reading the rest of it. st_size is useless here (sysfs always says 4096). The first
/// page goes into `scratch` (kFirstChunk bytes, reused across reads), so a short attribute
/// costs one string of its own size, not a zero-filled page.
FileRead read_bounded(int fd, std::size_t limit, char* scratch) {
  const std::size_t cap = limit == std::numeric_limits<std::size_t>::max() ? limit : limit + 1;
  const std::size_t first = std::min(cap, kFirstChunk);
  std::size_t used = 0;
  int waits = 0;
  while (used < first) {
    const ssize_t n = ::read(fd, scratch + used, first - used);
    if (n == 0) break;
    if (n > 0) {
      used += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN && ++waits <= kMaxReadWaits && wait_readable(fd)) continue;
    return file_error(errno);
  }
  if (used < first || used == cap) {
    if (used > limit) return file_status(ReadStatus::kTooLarge);
    return FileRead{ReadStatus::kOk, std::string(scratch, used), 0};
  }
  // Longer than a page and the limit allows more: grow a string as before.
  std::string data(scratch, used);
  while (true) {
    data.resize(std::min(cap, data.size() * 2));
    if (const int error = fill(fd, data, used, kNoOffset); error != 0) return file_error(error);
    if (used < data.size() || used == cap) break;
  }
  if (used > limit) return file_status(ReadStatus::kTooLarge);
  data.resize(used);
  return FileRead{ReadStatus::kOk, std::move(data), 0};
}

/// A regular file beneath the root, read with pread: only the bytes asked for.
class DirFile final : public PositionedFile {
 public:
  DirFile(Fd fd, std::size_t size) : fd_(std::move(fd)), size_(size) {}

  FileRead read_at(std::size_t offset, std::size_t length) override {
    constexpr auto kMaxOffset = static_cast<std::size_t>(std::numeric_limits<off_t>::max());
    if (length > kMaxOffset || offset > kMaxOffset - length) {
      return file_error(EINVAL);
    }
    std::string data(length, '\0');
    std::size_t used = 0;
    if (const int error = fill(fd_.get(), data, used, offset); error != 0) {
      return file_error(error);
    }
    data.resize(used);
    return FileRead{ReadStatus::kOk, std::move(data), 0};
  }
  std::size_t size_hint() const override { return size_; }

 private:
  Fd fd_;
  std::size_t size_;
};

/// The size of an opened regular file, or why it cannot be read as one.
FileOpen stat_regular(int fd, struct stat& st) {
  if (::fstat(fd, &st) != 0) return FileOpen{status_of(errno), nullptr, errno};
  if (!S_ISREG(st.st_mode)) return FileOpen{ReadStatus::kNotRegular, nullptr, 0};
  return FileOpen{ReadStatus::kOk, nullptr, 0};
}

/// Checks the opened object is a regular file, then reads it.
FileRead read_opened(Fd fd, std::size_t limit, char* scratch) {
  struct stat st {};
  if (FileOpen checked = stat_regular(fd.get(), st); !checked.ok()) {
    return file_status(checked.status, checked.error);
  }
  return read_bounded(fd.get(), limit, scratch);
}

/// Checks the opened object is a regular file, then keeps it open for positioned reads.
FileOpen open_opened(Fd fd) {
  struct stat st {};
  FileOpen checked = stat_regular(fd.get(), st);
  if (!checked.ok()) return checked;
  const std::size_t size = st.st_size > 0 ? static_cast<std::size_t>(st.st_size) : 0;
  checked.file = std::make_unique<DirFile>(std::move(fd), size);
  return checked;
}

/// Adds one directory entry to `out` unless it is "." or ".."; false when `out` is full (the
/// listing is then kTooLarge). `stat_entry(name, st)` is the fallback for filesystems that
/// report DT_UNKNOWN; it returns an errno value.
template <class StatEntry>
bool add_entry(DirRead& out, const char* d_name, unsigned char d_type, StatEntry& stat_entry) {
  const std::string_view name = d_name;
  if (name == "." || name == "..") return true;
  if (out.entries.size() == kMaxEntries) return false;
  EntryType type = EntryType::kOther;
  switch (d_type) {
    case DT_REG:
      type = EntryType::kFile;
      break;
    case DT_DIR:
      type = EntryType::kDir;
      break;
    case DT_LNK:
      type = EntryType::kLink;
      break;
    case DT_UNKNOWN: {
      struct stat st {};
      const int error = stat_entry(d_name, st);
      if (error == ENOENT) return true;  // removed since the listing saw it
      if (error == 0) type = entry_type_of_mode(st.st_mode);
      break;
    }
    default:
      break;
  }
  out.entries.push_back(DirEntry{std::string(name), type});
  return true;
}

void sort_entries(DirRead& out) {
  // std::string compares through char_traits<char>, which orders bytes as unsigned char.
  std::sort(out.entries.begin(), out.entries.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
}

/// Collects a directory stream's entries, sorted (the libc mode, which an LD_PRELOAD sees).
template <class StatEntry>
DirRead collect_entries(DIR* dir, StatEntry&& stat_entry) {
  DirRead out{ReadStatus::kOk, {}, 0};
  while (true) {
    errno = 0;
    const dirent* de = ::readdir(dir);
    if (de == nullptr) {
      if (errno != 0) return dir_error(errno);
      break;
    }
    if (!add_entry(out, de->d_name, de->d_type, stat_entry)) {
      return DirRead{ReadStatus::kTooLarge, {}, 0};
    }
  }
  sort_entries(out);
  return out;
}

/// Collects the entries of a descriptor opened O_DIRECTORY, sorted, with getdents64 into
/// `buffer`. The same listing as fdopendir + readdir without their bookkeeping (an fstat and
/// two fcntl per directory, and a DIR allocation): O_DIRECTORY already proved a directory.
template <class StatEntry>
DirRead collect_entries_fd(int fd, char* buffer, std::size_t size, StatEntry&& stat_entry) {
  DirRead out{ReadStatus::kOk, {}, 0};
  while (true) {
    const ssize_t n = ::getdents64(fd, buffer, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return dir_error(errno);
    }
    if (n == 0) break;
    for (ssize_t at = 0; at < n;) {
      const auto* de = reinterpret_cast<const struct dirent64*>(buffer + at);
      if (!add_entry(out, de->d_name, de->d_type, stat_entry)) {
        return DirRead{ReadStatus::kTooLarge, {}, 0};
      }
      at += de->d_reclen;
    }
  }
  sort_entries(out);
  return out;
}

/// Splits a path into its components; empty ones ("a//b", a trailing '/') become ".", which
/// keeps the rule that a name followed by anything must be a directory.
void push_components(std::string_view path, std::deque<std::string>& out) {
  std::vector<std::string> parts;
  while (true) {
    const std::size_t slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    parts.emplace_back(part.empty() ? "." : part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  out.insert(out.begin(), parts.begin(), parts.end());
}

/// The text of the symlink open as an O_PATH descriptor.
int read_link_fd(int fd, std::string& target) {
  char buf[PATH_MAX];
  const ssize_t n = ::readlinkat(fd, "", buf, sizeof buf);
  if (n < 0) return errno;
  if (static_cast<std::size_t>(n) == sizeof buf) return ENAMETOOLONG;
  target.assign(buf, static_cast<std::size_t>(n));
  return 0;
}

/// Opens `path` beneath `root_fd` without openat2, with its RESOLVE_BENEATH semantics: every
/// component is opened O_PATH | O_NOFOLLOW, symlinks are expanded by hand, ".." pops a stack
/// of the directories actually opened (so it is the physical parent, as in the kernel), and
/// an absolute target or a pop past the root is EXDEV.
Opened walk_open(int root_fd, std::string_view path, int flags) {
  std::deque<std::string> todo;
  push_components(path, todo);
  std::vector<Fd> dirs;  // the directories below the root on the way to the target
  const auto current = [&] { return dirs.empty() ? root_fd : dirs.back().get(); };
  int links = 0;
  while (!todo.empty()) {
    const std::string name = std::move(todo.front());
    todo.pop_front();
    if (name == ".") continue;
    if (name == "..") {
      if (dirs.empty()) return fail(EXDEV);
      dirs.pop_back();
      continue;
    }
    Fd fd(::openat(current(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return fail(errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail(errno);
    if (S_ISLNK(st.st_mode)) {
      if (++links > kMaxLinks) return fail(ELOOP);
      std::string target;
      if (const int error = read_link_fd(fd.get(), target); error != 0) return fail(error);
      if (target.empty()) return fail(ENOENT);
      if (target.front() == '/') return fail(EXDEV);
      push_components(target, todo);
      continue;
    }
    if (todo.empty()) {
      // O_NOFOLLOW: if the name became a symlink since the O_PATH open, fail rather than follow.
      Fd last(::openat(current(), name.c_str(), flags | O_NOFOLLOW));
      if (!last) return fail(errno);
      return Opened{std::move(last), 0};
    }
    if (!S_ISDIR(st.st_mode)) return fail(ENOTDIR);
    dirs.push_back(std::move(fd));
  }
  // The path ended in ".", "..", "/" or was empty: the target is the current directory.
  Fd self(::openat(current(), ".", flags));
  if (!self) return fail(errno);
  return Opened{std::move(self), 0};
}

Opened openat2_open(int root_fd, std::string_view path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  // openat2 has no AT_EMPTY_PATH; "." names the root itself.
  const std::string name = path.empty() ? std::string(".") : std::string(path);
  for (int attempt = 0;; ++attempt) {
    const long fd = ::syscall(SYS_openat2, root_fd, name.c_str(), &how, sizeof how);
    if (fd >= 0) return Opened{Fd(static_cast<int>(fd)), 0};
    const bool retry = errno == EINTR || (errno == EAGAIN && attempt < kMaxOpenRetries);
    if (!retry) return fail(errno);
  }
}

/// Whether an openat2 probe error means "this kernel or seccomp policy has no openat2".
bool means_no_openat2(int error) {
  return error == ENOSYS || error == EPERM || error == E2BIG || error == EINVAL;
}

enum class Mode { kLibc, kOpenat2, kWalk };

class DirSource final : public Source {
 public:
  DirSource(std::string root, Fd root_fd, Mode mode)
      : root_(std::move(root)), root_fd_(std::move(root_fd)), mode_(mode) {}

  std::string_view backend() const override { return "dir"; }
  const std::string& root() const override { return root_; }
  DirRead list_units() override { return list_dir("sys/class/iommu"); }

  FileRead read_file(std::string_view path, std::size_t limit) override {
    if (const int error = check_path(path); error != 0) return file_error(error);
    Opened opened = open_beneath(path, kFileFlags);
    if (!opened.fd) return file_error(opened.error);
    return read_opened(std::move(opened.fd), limit, scratch_.get());
  }

  /// The same checks and opening as read_file; `limit` is not needed, the reads are the caller's.
  FileOpen open_file(std::string_view path, std::size_t /*limit*/) override {
    if (const int error = check_path(path); error != 0) {
      return FileOpen{status_of(error), nullptr, error};
    }
    Opened opened = open_beneath(path, kFileFlags);
    if (!opened.fd) return FileOpen{status_of(opened.error), nullptr, opened.error};
    return open_opened(std::move(opened.fd));
  }

  DirRead list_dir(std::string_view path) override {
    if (const int error = check_path(path); error != 0) return dir_error(error);
    if (mode_ == Mode::kLibc) return list_dir_libc(path);
    Opened opened = open_beneath(path, kDirFlags);
    if (!opened.fd) return not_a_dir(path, opened.error);
    const int dir_fd = opened.fd.get();
    return collect_entries_fd(
        dir_fd, scratch_.get(), kScratchSize, [dir_fd](const char* name, struct stat& st) {
          return ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
        });
  }

  LinkRead read_link(std::string_view path) override {
    if (const int error = check_path(path); error != 0) return link_error(error);
    if (mode_ == Mode::kLibc) return read_link_libc(path);
    const std::size_t slash = path.rfind('/');
    const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    if (name.empty() || name == "." || name == "..") return not_a_link(path);
    const std::string_view parent =
        slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
    Opened dir = open_beneath(parent, kPathDirFlags);
    if (!dir.fd) return link_error(dir.error);
    return read_link_in(dir.fd.get(), name);
  }

  /// One O_PATH open of `dir` for all the links, then a readlinkat each: what read_link does
  /// per link, with the directory opened once (a device's iommu, iommu_group and driver).
  std::vector<LinkRead> read_links(std::string_view dir,
                                   std::span<const std::string_view> names) override {
    const bool plain = std::all_of(names.begin(), names.end(), [](std::string_view name) {
      return !name.empty() && name != "." && name != ".." &&
             name.find('/') == std::string_view::npos;
    });
    std::vector<LinkRead> out;
    out.reserve(names.size());
    if (mode_ == Mode::kLibc || !plain || dir.empty() || check_path(dir) != 0) {
      return Source::read_links(dir, names);
    }
    Opened opened = open_beneath(dir, kPathDirFlags);
    for (std::string_view name : names) {
      if (const int error = check_path(name); error != 0) {
        out.push_back(link_error(error));
      } else if (!opened.fd) {
        out.push_back(link_error(opened.error));
      } else {
        out.push_back(read_link_in(opened.fd.get(), name));
      }
    }
    return out;
  }

 private:
  /// On "/" the path is made absolute for plain libc calls, which an LD_PRELOAD can redirect.
  static std::string absolute(std::string_view path) {
    std::string out = "/";
    out += path;
    return out;
  }

  Opened open_beneath(std::string_view path, int flags) const {
    switch (mode_) {
      case Mode::kLibc: {
        Fd fd(::open(absolute(path).c_str(), flags));
        if (!fd) return fail(errno);
        return Opened{std::move(fd), 0};
      }
      case Mode::kOpenat2:
        return openat2_open(root_fd_.get(), path, flags);
      case Mode::kWalk:
        return walk_open(root_fd_.get(), path, flags);
    }
    return fail(EINVAL);
  }

  /// O_DIRECTORY says ENOTDIR both for "a component on the way is a file" (missing) and for
  /// "the target is a file" (not a directory); an O_PATH open, which has no side effects even
  /// on FIFOs and devices, tells them apart.
  DirRead not_a_dir(std::string_view path, int error) const {
    if (error != ENOTDIR) return dir_error(error);
    Opened probe = open_beneath(path, O_PATH | O_CLOEXEC);
    if (!probe.fd) return dir_error(probe.error);
    return DirRead{ReadStatus::kNotRegular, {}, ENOTDIR};
  }

  DirRead list_dir_libc(std::string_view path) const {
    const std::string abs = absolute(path);
    DirPtr dir(::opendir(abs.c_str()));
    if (!dir) {
      const int error = errno;
      struct stat st {};
      if (error == ENOTDIR && ::stat(abs.c_str(), &st) == 0) {
        return DirRead{ReadStatus::kNotRegular, {}, ENOTDIR};
      }
      return dir_error(error);
    }
    // An absolute lstat, not fstatat on dirfd: the preload only rewrites absolute paths.
    return collect_entries(dir.get(), [&abs](const char* name, struct stat& st) {
      const std::string entry = abs + "/" + name;
      return ::lstat(entry.c_str(), &st) == 0 ? 0 : errno;
    });
  }

  LinkRead read_link_libc(std::string_view path) const {
    return finish_link(
        [](const char* p, char* buf, std::size_t size) { return ::readlink(p, buf, size); },
        absolute(path).c_str());
  }

  /// The link `name` (one component) in the directory open as `dir_fd`.
  static LinkRead read_link_in(int dir_fd, std::string_view name) {
    const std::string leaf(name);
    return finish_link([dir_fd](const char* p, char* buf,
                                std::size_t size) { return ::readlinkat(dir_fd, p, buf, size); },
                       leaf.c_str());
  }

  /// Whatever `path` is, it is not a symlink: report why it cannot be read as one.
  LinkRead not_a_link(std::string_view path) const {
    Opened probe = open_beneath(path, O_PATH | O_CLOEXEC);
    if (!probe.fd) return link_error(probe.error);
    return LinkRead{ReadStatus::kNotRegular, {}, EINVAL};
  }

  template <class ReadLink>
  static LinkRead finish_link(ReadLink&& read_link_at, const char* path) {
    char buf[PATH_MAX];
    const ssize_t n = read_link_at(path, buf, sizeof buf);
    if (n < 0) {
      // readlink says EINVAL for anything that is not a symlink.
      if (errno == EINVAL) return LinkRead{ReadStatus::kNotRegular, {}, EINVAL};
      return link_error(errno);
    }
    if (static_cast<std::size_t>(n) == sizeof buf) return LinkRead{ReadStatus::kTooLarge, {}, 0};
    return LinkRead{ReadStatus::kOk, std::string(buf, static_cast<std::size_t>(n)), 0};
  }

  /// Room for the first page of a file (kFirstChunk) and for a getdents64 batch, reused.
  static constexpr std::size_t kScratchSize = 32 * 1024;
  static_assert(kScratchSize >= kFirstChunk);

  std::string root_;
  Fd root_fd_;  // O_PATH directory; unused in kLibc mode
  Mode mode_;
  std::unique_ptr<char[]> scratch_ = std::make_unique<char[]>(kScratchSize);
};

/// strerror text in the lowercase our messages use.
std::string error_text(int error) {
  std::string text = std::strerror(error);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

Result<Mode> choose_mode(const std::string& root, internal::Resolver resolver) {
  switch (resolver) {
    case internal::Resolver::kAuto:
      // Under "/" nothing is outside the root, and only plain absolute-path libc calls are
      // seen by the umockdev preload that the libudev backend's tests run under.
      if (root == "/") return Mode::kLibc;
      return internal::openat2_available() ? Mode::kOpenat2 : Mode::kWalk;
    case internal::Resolver::kOpenat2:
      if (!internal::openat2_available()) return make_error(root, "openat2 is not available");
      return Mode::kOpenat2;
    case internal::Resolver::kWalk:
      return Mode::kWalk;
  }
  return make_error(root, "unknown resolver");
}

}  // namespace

namespace internal {

bool openat2_available() {
  static const bool available = [] {
    Fd root(::open("/", kPathDirFlags));
    if (!root) return false;
    Opened probe = openat2_open(root.get(), ".", O_PATH | O_CLOEXEC);
    return probe.fd || !means_no_openat2(probe.error);
  }();
  return available;
}

Result<std::unique_ptr<Source>> open_dir_source(const std::string& root, Resolver resolver) {
  if (root.empty()) return make_error("", "the root directory is an empty path");
  Result<Mode> mode = choose_mode(root, resolver);
  if (!mode) return tl::unexpected(mode.error());
  Fd root_fd(::open(root.c_str(), kPathDirFlags));
  if (!root_fd) {
    const int error = errno;
    if (error == ENOTDIR) return make_error(root, "not a directory");
    return make_error(root, "cannot open root directory: " + error_text(error));
  }
  if (*mode == Mode::kLibc) root_fd.reset();
  return std::unique_ptr<Source>(new DirSource(root, std::move(root_fd), *mode));
}

}  // namespace internal

Result<std::unique_ptr<Source>> open_dir_source(const std::string& root) {
  return internal::open_dir_source(root, internal::Resolver::kAuto);
}

}  // namespace caps
