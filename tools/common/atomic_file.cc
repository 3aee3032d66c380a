// SPDX-License-Identifier: MIT
// OutputFile: --output as a temporary file renamed over a regular file, or a device written in
// place; every write, flush and close checked.
#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <streambuf>
#include <vector>

namespace tools {

namespace {

std::string reason(int error) { return std::strerror(error); }

/// The directory part of `path` ("." when there is none) and the last component.
void split_path(const std::string& path, std::string& dir, std::string& base) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    dir = ".";
    base = path;
    return;
  }
  dir = slash == 0 ? "/" : path.substr(0, slash);
  base = path.substr(slash + 1);
}

/// The permission bits the new file gets: the old file's, or 0666 minus the umask. Reading
/// the umask means setting it; the tools are single-threaded, so the brief change is harmless.
mode_t new_file_mode(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return st.st_mode & 07777;
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return 0666 & ~mask;
}

/// Writes all of `content` to `fd`, retrying short writes and interruptions; 0 or errno.
int write_all(int fd, std::string_view content) {
  while (!content.empty()) {
    const ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

/// Flushes a directory entry change to disk; 0 or errno. Some file systems cannot sync a
/// directory (EINVAL); there is nothing more to do on them.
int sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int error = 0;
  if (::fsync(fd) != 0 && errno != EINVAL) error = errno;
  ::close(fd);
  return error;
}

/// The descriptor `path` names for the process itself (/dev/stdout, /dev/stderr, /dev/fd/N,
/// /proc/self/fd/N), or -1. Opening such a path anew would not share the descriptor's file
/// offset (a shell's `>>` would be overwritten) and could resolve to a regular file that
/// would then be replaced under the shell's feet; the descriptor itself is what was meant.
int own_descriptor(const std::string& path) {
  if (path == "/dev/stdout") return 1;
  if (path == "/dev/stderr") return 2;
  for (std::string_view prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    if (!path.starts_with(prefix)) continue;
    const std::string_view digits = std::string_view(path).substr(prefix.size());
    int fd = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), fd);
    if (ec == std::errc() && end == digits.data() + digits.size() && !digits.empty()) return fd;
  }
  return -1;
}

/// Why a file of type `mode` cannot be an output, or empty.
std::string refusal(mode_t mode) {
  if (S_ISDIR(mode)) return "cannot replace: " + reason(EISDIR);
  if (S_ISBLK(mode)) return "is a block device: refusing to write to it";
  if (S_ISSOCK(mode)) return "is a socket: cannot write to it";
  return "is not a regular file, character device or FIFO: refusing to write to it";
}

}  // namespace

std::optional<FileId> file_id(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileId{st.st_dev, st.st_ino};
}

caps::Result<OutputTarget> classify_output(const std::string& path) {
  OutputTarget target;
  target.path = path;
  if (path.empty()) return caps::make_error("--output", "empty path");
  if (const int fd = own_descriptor(path); fd >= 0) {
    if (::fcntl(fd, F_GETFD) < 0) return caps::make_error(path, "cannot write: " + reason(errno));
    target.kind = OutputTarget::Kind::kDescriptor;
    target.descriptor = fd;
    target.id = file_id(path);
    return target;
  }
  std::string dir;
  std::string base;
  split_path(path, dir, base);
  if (base.empty() || base == "." || base == "..") {
    return caps::make_error(path, "cannot replace: " + reason(EISDIR));
  }
  struct stat link;
  if (::lstat(path.c_str(), &link) != 0) {
    if (errno != ENOENT) return caps::make_error(path, "cannot write: " + reason(errno));
    struct stat parent;
    if (::stat(dir.c_str(), &parent) != 0) {
      return caps::make_error(path, "cannot create a file in " + dir + ": " + reason(errno));
    }
    if (!S_ISDIR(parent.st_mode)) {
      return caps::make_error(path, "cannot create a file in " + dir + ": " + reason(ENOTDIR));
    }
    target.file = path;
    return target;
  }
  struct stat st = link;
  if (S_ISLNK(link.st_mode) && ::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return caps::make_error(path,
                              "is a symbolic link to a file that does not exist: refusing to "
                              "create its target");
    }
    return caps::make_error(path, "cannot follow the symbolic link: " + reason(errno));
  }
  target.id = FileId{st.st_dev, st.st_ino};
  if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
    target.kind = OutputTarget::Kind::kDevice;
    target.file = path;
    return target;
  }
  if (!S_ISREG(st.st_mode)) return caps::make_error(path, refusal(st.st_mode));
  if (!S_ISLNK(link.st_mode)) {
    target.file = path;
    return target;
  }
  // A link to a regular file: its target is replaced and the link kept, as an editor saving
  // through a link does; renaming over the link would turn it into a plain file.
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    return caps::make_error(path, "cannot follow the symbolic link: " + reason(errno));
  }
  target.file = resolved;
  return target;
}

std::string output_conflict(const OutputTarget& target, const std::vector<std::string>& input_files,
                            const std::vector<std::string>& trees) {
  namespace fs = std::filesystem;
  if (target.id) {
    for (const std::string& input : input_files) {
      if (file_id(input) == target.id) {
        return target.path + ": the output is also an input (" + input +
               "): refusing to overwrite it";
      }
    }
  }
  if (target.kind != OutputTarget::Kind::kReplace) return {};
  std::error_code ec;
  const fs::path file = fs::weakly_canonical(fs::absolute(target.file, ec), ec);
  if (ec) return {};
  for (const std::string& tree : trees) {
    const fs::path root = fs::weakly_canonical(fs::absolute(tree, ec), ec);
    if (ec) continue;
    for (const char* part : {"sys", "proc"}) {
      const fs::path relative = file.lexically_relative(root / part);
      if (!relative.empty() && *relative.begin() != "..") {
        return target.path + ": the output is inside the tree " + tree +
               " that is read: refusing to write there";
      }
    }
  }
  return {};
}

/// A stream buffer over a descriptor that remembers the first write error, so the reason
/// ("No space left on device") reaches the message instead of a bare failed stream.
class OutputFile::Buffer : public std::streambuf {
 public:
  explicit Buffer(int fd) : fd_(fd), data_(1 << 16) {
    setp(data_.data(), data_.data() + data_.size());
  }

  /// Writes what is buffered; false (and error() set) on failure.
  bool drain() {
    if (error_ != 0) return false;
    const std::string_view pending(pbase(), static_cast<std::size_t>(pptr() - pbase()));
    setp(data_.data(), data_.data() + data_.size());
    error_ = write_all(fd_, pending);
    return error_ == 0;
  }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    *pptr() = traits_type::to_char_type(c);
    pbump(1);
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (n <= epptr() - pptr()) {
      std::memcpy(pptr(), s, static_cast<std::size_t>(n));
      pbump(static_cast<int>(n));
      return n;
    }
    if (!drain()) return 0;
    error_ = write_all(fd_, std::string_view(s, static_cast<std::size_t>(n)));
    return error_ == 0 ? n : 0;
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  int fd_;
  int error_ = 0;
  std::vector<char> data_;
};

OutputFile::OutputFile(std::string name, int fd, bool owns_fd)
    : name_(std::move(name)),
      fd_(fd),
      owns_fd_(owns_fd),
      buffer_(std::make_unique<Buffer>(fd)),
      stream_(std::make_unique<std::ostream>(buffer_.get())) {}

OutputFile::~OutputFile() {
  if (committed_) return;
  if (owns_fd_) ::close(fd_);
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

std::ostream& OutputFile::stream() { return *stream_; }

std::unique_ptr<OutputFile> OutputFile::standard_output() {
  return std::unique_ptr<OutputFile>(new OutputFile("standard output", 1, false));
}

caps::Result<std::unique_ptr<OutputFile>> OutputFile::open(const OutputTarget& target) {
  if (target.kind == OutputTarget::Kind::kDescriptor) {
    return std::unique_ptr<OutputFile>(new OutputFile(target.path, target.descriptor, false));
  }
  if (target.kind == OutputTarget::Kind::kDevice) {
    // No O_TRUNC: devices and FIFOs have nothing to truncate. A FIFO blocks here until it
    // has a reader, as any writer to it does.
    const int fd = ::open(target.file.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return caps::make_error(target.path, "cannot open: " + reason(errno));
    return std::unique_ptr<OutputFile>(new OutputFile(target.path, fd, true));
  }
  std::string dir;
  std::string base;
  split_path(target.file, dir, base);
  const mode_t mode = new_file_mode(target.file);
  // A dot-file, so directory watchers that skip hidden files never see it half-written.
  std::string temp = (dir == "/" ? "" : dir) + "/." + base + ".XXXXXX";
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) {
    return caps::make_error(target.path,
                            "cannot create a temporary file in " + dir + ": " + reason(errno));
  }
  std::unique_ptr<OutputFile> out(new OutputFile(target.path, fd, true));
  out->temp_ = temp;
  out->file_ = target.file;
  out->dir_ = dir;
  out->mode_ = mode;
  return out;
}

caps::Result<void> OutputFile::commit() {
  const bool replacing = !temp_.empty();
  // A replacement names the temporary file that failed; a device is the path itself.
  const std::string written = replacing ? " " + temp_ : "";
  auto fail = [&](const std::string& what, int error) {
    return caps::make_error(name_, what + written + ": " + reason(error));
  };
  stream_->flush();
  if (buffer_->error() != 0) return fail("cannot write", buffer_->error());
  if (!*stream_) {
    // Nothing failed to reach the file, so the formatter's own writes failed: in practice
    // an allocation.
    return caps::make_error(
        name_, "cannot write" + written + ": the output could not be formatted (out of memory?)");
  }
  if (replacing) {
    if (::fchmod(fd_, mode_) != 0) return fail("cannot set the mode of", errno);
    if (::fsync(fd_) != 0) return fail("cannot flush", errno);
  }
  if (owns_fd_) {
    const int fd = fd_;
    owns_fd_ = false;  // closed even when close() fails: retrying it is wrong on Linux
    if (::close(fd) != 0) return fail("cannot close", errno);
  }
  if (!replacing) {
    committed_ = true;
    return {};
  }
  if (::rename(temp_.c_str(), file_.c_str()) != 0) {
    const int error = errno;
    return caps::make_error(name_, "cannot replace: " + reason(error));
  }
  committed_ = true;
  if (const int error = sync_directory(dir_); error != 0) {
    return caps::make_error(name_,
                            "written, but cannot flush directory " + dir_ + ": " + reason(error));
  }
  return {};
}

caps::Result<void> write_file_atomically(const std::string& path, std::string_view content) {
  caps::Result<OutputTarget> target = classify_output(path);
  if (!target) return tl::unexpected(target.error());
  caps::Result<std::unique_ptr<OutputFile>> out = OutputFile::open(*target);
  if (!out) return tl::unexpected(out.error());
  (*out)->stream().write(content.data(), static_cast<std::streamsize>(content.size()));
  return (*out)->commit();
}

}  // namespace tools
