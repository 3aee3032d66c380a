// write_file_atomically: temp file, fsync, rename, fsync of the directory.
#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

/// Fills the temporary file `fd`, sets its mode, flushes and closes it; 0 or errno, with `what`
/// saying which step failed.
int fill_and_close(int fd, std::string_view content, mode_t mode, const char*& what) {
  what = "cannot write";
  int error = write_all(fd, content);
  if (error == 0 && ::fchmod(fd, mode) != 0) {
    what = "cannot set the mode of";
    error = errno;
  }
  if (error == 0 && ::fsync(fd) != 0) {
    what = "cannot flush";
    error = errno;
  }
  if (::close(fd) != 0 && error == 0) {
    what = "cannot close";
    error = errno;
  }
  return error;
}

}  // namespace

caps::Result<void> write_file_atomically(const std::string& path, std::string_view content) {
  std::string dir;
  std::string base;
  split_path(path, dir, base);
  if (base.empty() || base == "." || base == "..") {
    return caps::make_error(path, "cannot replace: " + reason(EISDIR));
  }
  const mode_t mode = new_file_mode(path);

  // A dot-file, so directory watchers that skip hidden files never see it half-written.
  std::string temp = (dir == "/" ? "" : dir) + "/." + base + ".XXXXXX";
  std::vector<char> name(temp.begin(), temp.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) {
    return caps::make_error(path,
                            "cannot create a temporary file in " + dir + ": " + reason(errno));
  }
  temp = name.data();

  const char* what = "";
  if (const int error = fill_and_close(fd, content, mode, what); error != 0) {
    ::unlink(temp.c_str());
    return caps::make_error(path, std::string(what) + " " + temp + ": " + reason(error));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    return caps::make_error(path, "cannot replace: " + reason(error));
  }
  if (const int error = sync_directory(dir); error != 0) {
    return caps::make_error(path,
                            "written, but cannot flush directory " + dir + ": " + reason(error));
  }
  return {};
}

}  // namespace tools
