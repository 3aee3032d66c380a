// SPDX-License-Identifier: MIT
// fuzz_host_report: load_host_report on any text; a report that loads must write and load
// back to the same host, format as JSON, and check() with the fixed guests.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "fuzz_fixtures.h"
#include "host_compare.h"
#include "iommu-probe/probe_format_json.h"
#include "libcaps/host_report.h"

namespace {

std::string write(const caps::Host& host) {
  std::ostringstream out;
  caps::write_host_report(host, out);
  return out.str();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace caps;
  using fuzz::require;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<Host> host = load_host_report(text, "fuzz.toml");
  if (!host) {
    require(host.error().where == "fuzz.toml", "errors name the file",
            host.error().to_string());
    return 0;
  }
  require(host->backend == "report" && host->root == "fuzz.toml", "loaded source");
  const std::string written = write(*host);
  Result<Host> again = load_host_report(written, "fuzz.toml");
  require(again.has_value(), "a written report loads",
          again ? written : again.error().to_string() + "\n" + written);
  fuzz::require_same_host(*again, *host, written);
  require(write(*again) == written, "write_host_report is stable", written);

  std::ostringstream json;
  tools::format_json(*host, json);
  require(fuzz::valid_utf8(json.str()), "JSON output is UTF-8");

  for (const Guest& guest : fuzz::fixed_guests()) {
    fuzz::require_no_gain_from_unknowns(guest, *host, fuzz::checked(guest, *host));
  }
  return 0;
}
