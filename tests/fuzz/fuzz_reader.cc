// SPDX-License-Identifier: MIT
// fuzz_reader: read_host over a tree synthesized from the input (tree_encoding.h), then the
// JSON formatter and the host-report round trip: the report must load back to the same host.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "host_compare.h"
#include "iommu-probe/probe_format_json.h"
#include "libcaps/host_report.h"
#include "libcaps/reader.h"
#include "support/memory_source.h"
#include "tree_encoding.h"

namespace caps::fuzz {
namespace {

/// A MemorySource that checks every path the reader asks for. The tree never has an empty,
/// "." or ".." component (tree_encoding.h), so such a component would be one the reader made
/// up, e.g. from a link's text: a path that could leave the root on a real file system.
class CheckedSource : public testing::MemorySource {
 public:
  FileRead read_file(std::string_view path, std::size_t limit) override {
    check(path);
    FileRead read = MemorySource::read_file(path, limit);
    require(!read.ok() || read.data.size() <= limit, "no read beyond the limit");
    return read;
  }
  DirRead list_dir(std::string_view path) override {
    check(path);
    return MemorySource::list_dir(path);
  }
  LinkRead read_link(std::string_view path) override {
    check(path);
    return MemorySource::read_link(path);
  }

 private:
  static void check(std::string_view path) {
    require(!path.empty() && path.front() != '/', "paths are root-relative", path);
    std::string_view rest = path;
    while (true) {
      const std::size_t slash = rest.find('/');
      const std::string_view part = rest.substr(0, slash);
      require(!part.empty() && part != "." && part != "..", "no made-up path component", path);
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
  }
};

/// Not instrumented: its branches are the fuzzer's, not the code under test.
FUZZ_NO_COVERAGE bool json_text_ok(std::string_view json) {
  return valid_utf8(json) && std::all_of(json.begin(), json.end(), [](char c) {
           return static_cast<unsigned char>(c) >= 0x20 || c == '\n';
         });
}

void check_json(const Host& host, bool with_source) {
  std::ostringstream out;
  tools::format_json(host, out, with_source);
  require(json_text_ok(out.str()), "JSON output is UTF-8 without raw control bytes", out.str());
}

void check_report_round_trip(const Host& host) {
  std::ostringstream out;
  write_host_report(host, out);
  const std::string text = out.str();
  require(valid_utf8(text), "host report is UTF-8");
  Result<Host> loaded = load_host_report(text, "fuzz.toml");
  require(loaded.has_value(), "a written host report loads",
          loaded ? std::string() : loaded.error().to_string() + "\n" + text);
  // Bytes that are not UTF-8 are written as U+FFFD (host_report.h): compare with the host
  // repaired the same way.
  Host expected = host;
  repair_host(expected);
  require(loaded->backend == "report" && loaded->root == "fuzz.toml", "loaded source");
  require_same_host(*loaded, expected, text);
}

}  // namespace
}  // namespace caps::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  caps::fuzz::CheckedSource source;
  caps::fuzz::Cursor in(data, size);
  caps::fuzz::DecodedTree tree = caps::fuzz::decode_tree(in, source);
  caps::ReadOptions options;
  options.read_pci_config = tree.read_pci_config;
  options.units = tree.units;
  const caps::Host host = caps::read_host(source, options);
  caps::fuzz::check_json(host, size % 2 == 0);
  caps::fuzz::check_report_round_trip(host);
  return 0;
}
