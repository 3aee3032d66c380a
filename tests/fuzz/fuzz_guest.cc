// SPDX-License-Identifier: MIT
// fuzz_guest: parse_guest on any text; a guest that parses must survive write_guest and a
// second parse unchanged (positions aside), and check() against the fixed hosts.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "fuzz_fixtures.h"
#include "libcaps/guest.h"
#include "support/guest_compare.h"

namespace caps::fuzz {
namespace {

using testing::without_positions;

std::string errors(const std::vector<Error>& list) {
  std::string out;
  for (const Error& e : list) out += e.to_string() + "\n";
  return out;
}

}  // namespace
}  // namespace caps::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace caps;
  using fuzz::require;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto guest = parse_guest(text, "fuzz.toml");
  if (!guest) {
    require(!guest.error().empty(), "a rejected guest says why");
    for (const Error& e : guest.error()) {
      require(e.where == "fuzz.toml", "errors name the file", e.to_string());
    }
    return 0;
  }
  require(guest->file == "fuzz.toml", "the guest keeps its file name");
  const std::string written = write_guest(*guest);
  auto again = parse_guest(written, "fuzz.toml");
  require(again.has_value(), "write_guest output parses",
          again ? written : fuzz::errors(again.error()) + written);
  require(fuzz::without_positions(*again) == fuzz::without_positions(*guest),
          "write_guest then parse_guest keeps every value", written);
  require(write_guest(*again) == written, "write_guest is stable", written);

  fuzz::require_no_gain_from_unknowns(*guest, fuzz::fixed_host(),
                                      fuzz::checked(*guest, fuzz::fixed_host()));
  fuzz::checked(*guest, fuzz::unknown_model_host());
  fuzz::checked(*guest, Host{});
  return 0;
}
