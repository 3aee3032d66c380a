// SPDX-License-Identifier: MIT
// Tests for tools/common/terminal_text: names and messages made safe for a terminal.
#include "common/terminal_text.h"

#include <gtest/gtest.h>

namespace tools {
namespace {

TEST(Printable, EscapesControlsBackslashesAndInvalidUtf8) {
  EXPECT_EQ(printable("dmar0"), "dmar0");
  EXPECT_EQ(printable("a\\b"), "a\\\\b");
  EXPECT_EQ(printable("\n\t\x1b[2J\x7f"), "\\x0a\\x09\\x1b[2J\\x7f");
  EXPECT_EQ(printable(std::string_view("\0", 1)), "\\x00");
  EXPECT_EQ(printable("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");
  EXPECT_EQ(printable("\xff\xc3"), "\\xff\\xc3");
  EXPECT_EQ(printable("\xc2\x9b"), "\\xc2\\x9b");  // C1 control CSI
}

TEST(Printable, MessagesKeepTheirBackslashes) {
  // caps::quote() already wrote a bad byte as "\xNN": doubling its backslash would hide it.
  EXPECT_EQ(printable_message("bad value \\xff\n"), "bad value \\xff\\x0a");
  EXPECT_EQ(printable_message("a\\b \x1b"), "a\\b \\x1b");
}

}  // namespace
}  // namespace tools
