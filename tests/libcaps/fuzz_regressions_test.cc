// SPDX-License-Identifier: MIT
// Inputs the fuzz targets of tests/fuzz found, as unit tests; their reproducers are seeds in
// tests/fuzz/corpus/ too (see tests/fuzz/README.md).
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "libcaps/host_report.h"
#include "libcaps/reader.h"
#include "support/memory_source.h"

namespace caps {
namespace {

std::string write(const Host& host) {
  std::ostringstream out;
  write_host_report(host, out);
  return out.str();
}

// fuzz_reader: two generic-layout property files whose names differ only in bytes that are
// not UTF-8 ("a\xff", "a\xfe") both became the TOML key "a\uFFFD", so iommu-probe wrote a
// report that load_host_report (and iommu-compat) refused: "cannot redefine existing string".
// The reader now ignores such names, with a warning. Reproducer:
// tests/fuzz/corpus/fuzz_reader/utf8-key-collision.
TEST(FuzzRegressions, PropertyNamesThatAreNotUtf8AreIgnoredAndTheReportLoads) {
  testing::MemorySource source;
  source.unit_file("u0", "arm-smmu-v3/a\xff", "v");
  source.unit_file("u0", "arm-smmu-v3/a\xfe", "v");
  source.unit_file("u0", "arm-smmu-v3/model", "2");
  source.unit_file("u0", "arm-smmu-v3/b", "kept");
  const Host host = read_host(source);
  ASSERT_EQ(host.units.size(), 1u);
  EXPECT_EQ(host.units[0].properties,
            (std::map<std::string, std::string>{{"b", "kept"}, {"model", "2"}}));
  ASSERT_EQ(host.units[0].diagnostics.size(), 2u);
  EXPECT_EQ(host.units[0].diagnostics[0].message, "property name is not valid UTF-8; ignored");
  const std::string text = write(host);
  Result<Host> loaded = load_host_report(text, "host.toml");
  EXPECT_TRUE(loaded.has_value()) << loaded.error().to_string() << "\n" << text;
}

}  // namespace
}  // namespace caps
