// Choosing and opening the Source a tool reads a host through.
#include "common/host_source.h"

#include <filesystem>

namespace tools {

namespace {

bool is_real_root(const std::string& root) {
  return std::filesystem::path(root).lexically_normal() == "/";
}

}  // namespace

std::string backend_problem(std::string_view backend, const std::string& root) {
  if (backend != "udev" || is_real_root(root)) return {};
  return "--backend udev reads only the real root /, not " + root + " (use --backend dir)";
}

caps::Result<std::unique_ptr<caps::Source>> open_host_source(const std::string& root,
                                                             std::string_view backend) {
  const bool udev = backend == "udev" || (backend == "auto" && is_real_root(root));
  if (udev) return caps::open_udev_source();
  return caps::open_dir_source(root);
}

}  // namespace tools
