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

// The escaper scans eight bytes at a time for bytes to escape: every byte value, at every
// position of a long string (in the first, a middle and the last block of eight, and in the
// tail), must come out as a one-byte string would.
TEST(StringLiteral, EveryByteAtEveryPositionOfALongString) {
  const std::string plain = "abcdefghijklmnopqrstuvwxy";  // 25 bytes: three blocks and a tail
  for (int c = 0; c < 256; ++c) {
    const std::string alone = string_literal(std::string(1, static_cast<char>(c)));
    const std::string escaped = alone.substr(1, alone.size() - 2);
    for (std::size_t at = 0; at < plain.size(); ++at) {
      std::string text = plain;
      text[at] = static_cast<char>(c);
      const std::string expected =
          "\"" + plain.substr(0, at) + escaped + plain.substr(at + 1) + "\"";
      ASSERT_EQ(string_literal(text), expected) << "byte " << c << " at " << at;
    }
  }
  EXPECT_EQ(string_literal(std::string(1, '"')), "\"\\\"\"");
  EXPECT_EQ(string_literal(std::string(1, '\x7f')), "\"\\u007f\"");
  EXPECT_EQ(string_literal(std::string(1, '~')), "\"~\"");
  EXPECT_EQ(string_literal(std::string(1, '\x80')), "\"" + std::string(kFffd) + "\"");
  // Long plain text (quoted beyond the short-string buffer) comes out as it is.
  const std::string longer(200, 'z');
  EXPECT_EQ(string_literal(longer), "\"" + longer + "\"");
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
