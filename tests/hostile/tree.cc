// SPDX-License-Identifier: MIT
// Tree building with std::filesystem, plus the POSIX calls for special files.
#include "tree.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace hostile {

namespace fs = std::filesystem;

Tree::Tree(fs::path root) : root_(std::move(root)) {
  fs::create_directories(root_ / "sys/class/iommu");
  fs::create_directories(root_ / "sys/devices/virtual/iommu");
  write("proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 ro intel_iommu=on\n");
}

fs::path Tree::unit_dir(std::string_view name) const {
  return root_ / "sys/devices/virtual/iommu" / std::string(name);
}

fs::path Tree::resolve(const fs::path& path) const {
  return path.is_absolute() ? path : root_ / path;
}

fs::path Tree::add_unit_shell(std::string_view name) {
  const fs::path dir = unit_dir(name);
  fs::create_directories(dir);
  write(dir / "uevent", "SUBSYSTEM=iommu\n");
  symlink("../../../../class/iommu", dir / "subsystem");
  symlink("../../devices/virtual/iommu/" + std::string(name),
          root_ / "sys/class/iommu" / std::string(name));
  return dir;
}

fs::path Tree::add_intel_unit(std::string_view name) {
  const fs::path dir = add_unit_shell(name);
  write(dir / "intel-iommu/cap", "d2008c40660462\n");
  write(dir / "intel-iommu/ecap", "f050da\n");
  write(dir / "intel-iommu/version", "1:0\n");
  write(dir / "intel-iommu/address", "fed90000\n");
  write(dir / "intel-iommu/domains_supported", "256\n");  // cap.ND = 2
  write(dir / "intel-iommu/domains_used", "1\n");
  return dir;
}

fs::path Tree::add_generic_unit(std::string_view name) {
  const fs::path dir = add_unit_shell(name);
  write(dir / "arm-smmu-v3/model", "2\n");
  write(dir / "arm-smmu-v3/asid_bits", "16\n");
  write(dir / "arm-smmu-v3/ssid_bits", "20\n");
  write(dir / "arm-smmu-v3/input_bits", "48\n");
  write(dir / "arm-smmu-v3/output_bits", "48\n");
  return dir;
}

void Tree::write(const fs::path& path, std::string_view content) const {
  const fs::path full = resolve(path);
  fs::create_directories(full.parent_path());
  remove(full);
  std::ofstream out(full, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out.flush()) throw std::runtime_error("cannot write " + full.string());
}

void Tree::symlink(std::string_view target, const fs::path& path) const {
  const fs::path full = resolve(path);
  fs::create_directories(full.parent_path());
  remove(full);
  fs::create_symlink(std::string(target), full);
}

void Tree::remove(const fs::path& path) const { fs::remove_all(resolve(path)); }

namespace {

std::string errno_text() { return std::strerror(errno); }

}  // namespace

std::string make_fifo(const fs::path& path) {
  fs::remove_all(path);
  return ::mkfifo(path.c_str(), 0644) == 0 ? "" : errno_text();
}

std::string make_socket(const fs::path& path) {
  fs::remove_all(path);
  // sun_path holds 108 bytes and build directories can be deeper than that: bind the
  // leaf name relative to a directory descriptor's /proc path instead.
  const std::string leaf = path.filename();
  const std::string dir = path.parent_path();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_text();
  const int dir_fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    const std::string error = errno_text();
    ::close(fd);
    return error;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string short_path = "/proc/self/fd/" + std::to_string(dir_fd) + "/" + leaf;
  std::string error;
  if (short_path.size() >= sizeof addr.sun_path) {
    error = "socket path too long";
  } else {
    std::memcpy(addr.sun_path, short_path.c_str(), short_path.size() + 1);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      error = errno_text();
    }
  }
  ::close(dir_fd);
  ::close(fd);  // the socket file stays; nobody listens on it
  return error;
}

std::string make_char_device(const fs::path& path, unsigned major, unsigned minor) {
  fs::remove_all(path);
  return ::mknod(path.c_str(), S_IFCHR | 0644, makedev(major, minor)) == 0 ? "" : errno_text();
}

}  // namespace hostile
