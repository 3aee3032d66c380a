// SPDX-License-Identifier: MIT
// fuzz_reader_seed ROOT OUT: reads the sysfs tree under ROOT with read_host and writes every
// file, listing, link and failure it saw as a fuzz_reader input (tree_encoding.h) to OUT,
// after checking that the input reads back as the same host.
#include <fstream>
#include <iostream>
#include <set>
#include <string>

#include "host_compare.h"
#include "libcaps/reader.h"
#include "libcaps/source.h"
#include "tree_encoding.h"

namespace caps::fuzz {
namespace {

/// Passes every call to `inner` and encodes what it returned.
class RecordingSource : public Source {
 public:
  explicit RecordingSource(Source& inner) : inner_(inner) {}

  std::string_view backend() const override { return inner_.backend(); }
  const std::string& root() const override { return inner_.root(); }
  DirRead list_units() override { return list_dir("sys/class/iommu"); }

  FileRead read_file(std::string_view path, std::size_t limit) override {
    FileRead read = inner_.read_file(path, limit);
    if (!seen_.insert("f:" + std::string(path)).second) return read;
    if (read.ok()) encoder_.file(path, read.data);
    if (!read.ok() && read.status != ReadStatus::kMissing) encoder_.fail(path, read.status);
    return read;
  }

  DirRead list_dir(std::string_view path) override {
    DirRead read = inner_.list_dir(path);
    if (!seen_.insert("d:" + std::string(path)).second) return read;
    if (read.ok()) {
      encoder_.dir(path);
      for (const DirEntry& e : read.entries) {
        // Files the reader reads are encoded with their bytes; the others only as names.
        std::string child = std::string(path) + "/" + e.name;
        if (e.type == EntryType::kFile) {
          listed_files_.insert(child);
        } else if (seen_.insert("n:" + child).second) {
          encoder_.dir(child);
        }
      }
    }
    if (!read.ok() && read.status != ReadStatus::kMissing) encoder_.fail(path, read.status);
    return read;
  }

  LinkRead read_link(std::string_view path) override {
    LinkRead read = inner_.read_link(path);
    if (!seen_.insert("l:" + std::string(path)).second) return read;
    if (read.ok()) encoder_.link(path, read.target);
    if (!read.ok() && read.status != ReadStatus::kMissing) encoder_.fail(path, read.status);
    return read;
  }

  /// The encoded tree; files that were listed but never read are empty.
  std::string bytes() {
    for (const std::string& path : listed_files_) {
      if (!seen_.count("f:" + path)) encoder_.file(path, "");
    }
    listed_files_.clear();
    return encoder_.bytes();
  }

 private:
  Source& inner_;
  TreeEncoder encoder_;
  std::set<std::string> listed_files_;
  std::set<std::string> seen_;  // "f:", "d:", "n:", "l:" + path: what was encoded
};

}  // namespace
}  // namespace caps::fuzz

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: fuzz_reader_seed ROOT OUT\n";
    return 2;
  }
  caps::Result<std::unique_ptr<caps::Source>> dir = caps::open_dir_source(argv[1]);
  if (!dir) {
    std::cerr << "fuzz_reader_seed: " << dir.error().to_string() << "\n";
    return 1;
  }
  caps::fuzz::RecordingSource recording(**dir);
  const caps::Host host = caps::read_host(recording);
  // The seed must give fuzz_reader the very host the directory gave.
  caps::testing::MemorySource memory;
  const std::string bytes = recording.bytes();
  caps::fuzz::Cursor in(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  caps::fuzz::decode_tree(in, memory);
  caps::fuzz::require_same_host(caps::read_host(memory), host, argv[1]);
  std::ofstream out(argv[2], std::ios::binary);
  out << recording.bytes();
  return out.good() ? 0 : 1;
}
