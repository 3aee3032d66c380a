// SPDX-License-Identifier: MIT
// Tests for the one string escaper (libcaps/src/text/string_literal.cc) that JSON output, host
// reports and guest files share.
#include "libcaps/string_literal.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "libcaps/host_report.h"

namespace caps {
namespace {

constexpr std::string_view kFffd = "\xEF\xBF\xBD";

TEST(StringLiteral, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(string_literal("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(string_literal(std::string_view("\n\t\0\x1b\x7f", 5)),
            "\"\\u000a\\u0009\\u0000\\u001b\\u007f\"");
  EXPECT_EQ(string_literal("caf\xC3\xA9 \xE2\x82\xAC"), "\"caf\xC3\xA9 \xE2\x82\xAC\"");
}

// One U+FFFD per maximal invalid subsequence (Unicode's "maximal subpart" practice).
TEST(StringLiteral, OneReplacementPerMaximalInvalidSubsequence) {
  const std::string q = "\"";
  EXPECT_EQ(string_literal("\xE2\x82"), q + std::string(kFffd) + q);         // cut-off euro
  EXPECT_EQ(string_literal("\xE2\x82x"), q + std::string(kFffd) + "x" + q);  // cut, then ASCII
  EXPECT_EQ(string_literal("\xFF\xFF"), q + std::string(kFffd) + std::string(kFffd) + q);
  EXPECT_EQ(string_literal("\xF0\x9F\x98"), q + std::string(kFffd) + q);  // cut-off emoji
  EXPECT_EQ(string_literal("\xC0\xAF"), q + std::string(kFffd) + std::string(kFffd) + q);
  EXPECT_EQ(string_literal("\xED\xA0\x80"),  // a surrogate: each byte on its own
            q + std::string(kFffd) + std::string(kFffd) + std::string(kFffd) + q);
}

// The bug this escaper fixed: the host report wrote two U+FFFD where JSON wrote one.
TEST(StringLiteral, HostReportsReplaceLikeJson) {
  Host h;
  h.platform.cmdline = "root=\xE2\x82";
  std::ostringstream out;
  write_host_report(h, out);
  EXPECT_NE(out.str().find("cmdline = \"root=" + std::string(kFffd) + "\"\n"), std::string::npos)
      << out.str();
}

}  // namespace
}  // namespace caps
