// A program outside the project that uses the installed libcaps: reads a fake-sysfs tree
// through the directory source and prints how many IOMMU units it holds.
#include <libcaps/reader.h>
#include <libcaps/source.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer SYSFS-ROOT\n");
    return 2;
  }
  auto source = caps::open_dir_source(argv[1]);
  if (!source) {
    std::fprintf(stderr, "consumer: %s\n", source.error().to_string().c_str());
    return 1;
  }
  const caps::Host host = caps::read_host(**source);
  std::printf("units %zu\n", host.units.size());
  return 0;
}
