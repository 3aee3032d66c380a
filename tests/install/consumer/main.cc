// SPDX-License-Identifier: MIT
// A program outside the project that uses the installed libcaps: reads a fake-sysfs tree
// through the directory source, wrapped in a Source of its own (as a consumer with its own
// backend would write, so libcaps' vtables and type info must be exported), and prints how many
// IOMMU units it holds.
#include <libcaps/reader.h>
#include <libcaps/source.h>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace {

class CountingSource : public caps::Source {
 public:
  explicit CountingSource(std::unique_ptr<caps::Source> inner) : inner_(std::move(inner)) {}

  std::string_view backend() const override { return inner_->backend(); }
  const std::string& root() const override { return inner_->root(); }
  caps::DirRead list_units() override { return inner_->list_units(); }
  caps::FileRead read_file(std::string_view path, std::size_t limit) override {
    ++reads_;
    return inner_->read_file(path, limit);
  }
  caps::DirRead list_dir(std::string_view path) override { return inner_->list_dir(path); }
  caps::LinkRead read_link(std::string_view path) override { return inner_->read_link(path); }

  int reads() const { return reads_; }

 private:
  std::unique_ptr<caps::Source> inner_;
  int reads_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer SYSFS-ROOT\n");
    return 2;
  }
  auto dir = caps::open_dir_source(argv[1]);
  if (!dir) {
    std::fprintf(stderr, "consumer: %s\n", dir.error().to_string().c_str());
    return 1;
  }
  CountingSource source(std::move(*dir));
  const caps::Host host = caps::read_host(source);
  // The unit files are read through read_file (Source's default read_unit_file), so a host
  // read without one call through the consumer's override did not use it.
  if (source.reads() == 0) {
    std::fprintf(stderr, "consumer: libcaps never called CountingSource::read_file\n");
    return 1;
  }
  std::printf("units %zu\n", host.units.size());
  return 0;
}
