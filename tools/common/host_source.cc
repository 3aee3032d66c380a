// SPDX-License-Identifier: MIT
// Choosing and opening the Source a tool reads a host through.
#include "common/host_source.h"

#include <cstdlib>
#include <filesystem>
#include <string_view>

namespace tools {

namespace {

bool is_real_root(const std::string& root) {
  return std::filesystem::path(root).lexically_normal() == "/";
}

/// The tree libudev reads as "/": the umockdev testbed when this process runs under umockdev's
/// preload, else "/". The preload joins UMOCKDEV_DIR and "/sys/..." as text, so a relative
/// value would be taken from the current directory for plain opens but not for sd-device's
/// path checks, which then see no device at all: it is made absolute here, for this process
/// (the preload reads the variable on every call).
std::string udev_tree() {
  const char* preload = std::getenv("LD_PRELOAD");
  const char* dir = std::getenv("UMOCKDEV_DIR");
  if (preload == nullptr || std::string_view(preload).find("umockdev") == std::string_view::npos ||
      dir == nullptr || *dir == '\0') {
    return "/";
  }
  std::error_code ec;
  std::filesystem::path tree = std::filesystem::absolute(dir, ec).lexically_normal();
  if (ec) return dir;  // the directory backend then says why the root is unusable
  std::string text = tree.string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  if (text != dir) ::setenv("UMOCKDEV_DIR", text.c_str(), 1);
  return text;
}

}  // namespace

std::string backend_problem(std::string_view backend, const std::string& root) {
  if (backend != "udev" || is_real_root(root)) return {};
  return "--backend udev reads only the real root /, not " + root + " (use --backend dir)";
}

caps::Result<std::unique_ptr<caps::Source>> open_host_source(const std::string& root,
                                                             std::string_view backend) {
  const bool udev = backend == "udev" || (backend == "auto" && is_real_root(root));
  if (udev) return caps::open_udev_source(udev_tree());
  return caps::open_dir_source(root);
}

}  // namespace tools
