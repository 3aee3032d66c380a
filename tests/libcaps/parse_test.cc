// SPDX-License-Identifier: MIT
// Tests for libcaps/src/text/parse.cc: strict hex/decimal parsing, whole error messages, quoting.
#include "libcaps/parse.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace caps {
namespace {

struct Good {
  std::string_view text;
  uint64_t value;
};

struct Bad {
  std::string_view text;
  std::string message;
};

TEST(TrimNewlines, StripsOnlyTrailingLineEnds) {
  EXPECT_EQ(trim_newlines("d2008c40660462\n"), "d2008c40660462");
  EXPECT_EQ(trim_newlines("f050da\r\n"), "f050da");
  EXPECT_EQ(trim_newlines("1:0\n\n"), "1:0");
  EXPECT_EQ(trim_newlines("a\nb"), "a\nb");
  EXPECT_EQ(trim_newlines(" x "), " x ");
  EXPECT_EQ(trim_newlines("\n"), "");
  EXPECT_EQ(trim_newlines(""), "");
}

TEST(ParseHex, AcceptsBareHexAsTheKernelPrintsIt) {
  const Good cases[] = {
      {"0", 0},
      {"d2008c40660462", 0xd2008c40660462},      // VT-d cap, client graphics unit
      {"3ee9e86f050df", 0x3ee9e86f050df},        // VT-d ecap, newer Xeon
      {"a5bf7320a2294aee", 0xa5bf7320a2294aee},  // AMD EFR, Zen 4: all 16 digits
      {"ffffffffffffffff", UINT64_MAX},
      {"FFFFFFFFFFFFFFFF", UINT64_MAX},
      {"aBc", 0xabc},
      {"0000000000000001", 1},  // 16 digits, leading zeros
  };
  for (const Good& c : cases) {
    auto r = parse_hex(c.text);
    ASSERT_TRUE(r) << c.text << ": " << r.error().to_string();
    EXPECT_EQ(*r, c.value) << c.text;
  }
}

TEST(ParseHex, RejectsAnythingElseWithAWholeMessage) {
  const Bad cases[] = {
      {"", "empty value, expected bare hex"},
      {"0x1f", "unexpected 0x prefix in \"0x1f\", expected bare hex"},
      {"0X1F", "unexpected 0x prefix in \"0X1F\", expected bare hex"},
      {"-1", "not bare hex: \"-1\" has \"-\" at offset 0"},
      {"+1", "not bare hex: \"+1\" has \"+\" at offset 0"},
      {" 1f", "not bare hex: \" 1f\" has \" \" at offset 0"},
      {"1f ", "not bare hex: \"1f \" has \" \" at offset 2"},
      {"1f\n", "not bare hex: \"1f\\x0a\" has \"\\x0a\" at offset 2"},
      {"12g4", "not bare hex: \"12g4\" has \"g\" at offset 2"},
      {"1d:5", "not bare hex: \"1d:5\" has \":\" at offset 2"},
      {"10000000000000000", "more than 16 hex digits in \"10000000000000000\""},
      {"00000000000000001", "more than 16 hex digits in \"00000000000000001\""},
  };
  for (const Bad& c : cases) {
    auto r = parse_hex(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().message, c.message);
    EXPECT_EQ(r.error().where, "");
  }
}

TEST(ParseHexPrefixed, AcceptsOptionalPrefix) {
  const Good cases[] = {
      {"0x00000000fee00000", 0xfee00000},  // reserved_regions: "0x%016llx"
      {"0x00000000feefffff", 0xfeefffff},
      {"0xd2", 0xd2},
      {"fee00000", 0xfee00000},
      {"0", 0},
      {"0x0", 0},
  };
  for (const Good& c : cases) {
    auto r = parse_hex_prefixed(c.text);
    ASSERT_TRUE(r) << c.text << ": " << r.error().to_string();
    EXPECT_EQ(*r, c.value) << c.text;
  }
}

TEST(ParseHexPrefixed, RejectsJunk) {
  const Bad cases[] = {
      {"", "empty value, expected hex"},
      {"0x", "no hex digits in \"0x\""},
      {"0X10", "not bare hex: \"0X10\" has \"X\" at offset 1"},
      {"0x-1", "not bare hex: \"0x-1\" has \"-\" at offset 2"},
      {"0x1 ", "not bare hex: \"0x1 \" has \" \" at offset 3"},
      {"0x10000000000000000", "more than 16 hex digits in \"0x10000000000000000\""},
  };
  for (const Bad& c : cases) {
    auto r = parse_hex_prefixed(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().message, c.message);
  }
}

TEST(ParseDec, AcceptsUnsignedDecimal) {
  const Good cases[] = {
      {"0", 0}, {"256", 256}, {"65536", 65536}, {"007", 7}, {"18446744073709551615", UINT64_MAX},
  };
  for (const Good& c : cases) {
    auto r = parse_dec(c.text);
    ASSERT_TRUE(r) << c.text << ": " << r.error().to_string();
    EXPECT_EQ(*r, c.value) << c.text;
  }
}

TEST(ParseDec, RejectsSignsSpacesJunkAndOverflow) {
  const Bad cases[] = {
      {"", "empty value, expected a decimal number"},
      {"-1", "not a decimal number: \"-1\" has \"-\" at offset 0"},
      {"+1", "not a decimal number: \"+1\" has \"+\" at offset 0"},
      {" 1", "not a decimal number: \" 1\" has \" \" at offset 0"},
      {"1 ", "not a decimal number: \"1 \" has \" \" at offset 1"},
      {"1.0", "not a decimal number: \"1.0\" has \".\" at offset 1"},
      {"0x10", "not a decimal number: \"0x10\" has \"x\" at offset 1"},
      {"ff", "not a decimal number: \"ff\" has \"f\" at offset 0"},
      {"18446744073709551616", "decimal value \"18446744073709551616\" does not fit 64 bits"},
  };
  for (const Bad& c : cases) {
    auto r = parse_dec(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().message, c.message);
  }
}

TEST(FormatHex, LowercaseWithPrefixNoPadding) {
  EXPECT_EQ(format_hex(0), "0x0");
  EXPECT_EQ(format_hex(0xd2), "0xd2");
  EXPECT_EQ(format_hex(0xA5BF7320A2294AEE), "0xa5bf7320a2294aee");
  EXPECT_EQ(format_hex(UINT64_MAX), "0xffffffffffffffff");
}

TEST(FormatHex, RoundTripsThroughParseHexPrefixed) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{0x9ed008c40780466}, UINT64_MAX}) {
    auto r = parse_hex_prefixed(format_hex(v));
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, v);
  }
}

TEST(Utf8, SequenceLengths) {
  EXPECT_EQ(utf8_sequence_length("a", 0), 1u);
  EXPECT_EQ(utf8_sequence_length("\xC3\xA9", 0), 2u);
  EXPECT_EQ(utf8_sequence_length("\xC3", 0), 0u);
  EXPECT_EQ(utf8_invalid_length("\xC3", 0), 1u);
  EXPECT_EQ(utf8_invalid_length("\xF0\x9F\x98"
                                "a",
                                0),
            3u);
  EXPECT_EQ(utf8_invalid_length("\xFF", 0), 1u);
}

TEST(Quote, EscapesNonPrintableBytes) {
  EXPECT_EQ(quote(""), "\"\"");
  EXPECT_EQ(quote("abc"), "\"abc\"");
  EXPECT_EQ(quote("a b~"), "\"a b~\"");
  EXPECT_EQ(quote("a\tb\n"), "\"a\\x09b\\x0a\"");
  EXPECT_EQ(quote(std::string_view("a\0b", 3)), "\"a\\x00b\"");
  EXPECT_EQ(quote("\x7f\xff"), "\"\\x7f\\xff\"");
}

TEST(Quote, ShowsAtMost64Bytes) {
  const std::string exactly(64, 'a');
  EXPECT_EQ(quote(exactly), "\"" + exactly + "\"");
  const std::string longer(65, 'b');
  EXPECT_EQ(quote(longer), "\"" + std::string(64, 'b') + "\"...");
  // The limit counts input bytes, not escaped output.
  const std::string binary(70, '\x01');
  std::string shown;
  for (int i = 0; i < 64; ++i) shown += "\\x01";
  EXPECT_EQ(quote(binary), "\"" + shown + "\"...");
}

// One function, two strictnesses: device_less orders by the shape alone; a guest's device
// name must be what sysfs would call a PCI function.
TEST(IsPciAddress, WhatEachFormAccepts) {
  struct Case {
    std::string_view name;
    bool shape;
    bool sysfs;
  };
  const Case cases[] = {
      {"0000:00:02.0", true, true},
      {"0000:00:1f.7", true, true},
      {"ffff:ff:1f.7", true, true},
      {"0000:00:1F.7", true, false},  // uppercase: a sysfs name never has it
      {"0000:00:20.0", true, false},  // device 0x20 does not exist
      {"0000:00:02.8", true, false},  // nor function 8
      {"0000:00:02.f", true, false},
      {"10000:00:02.0", false, true},  // a VMD domain: 5 digits
      {"0000abcd:00:02.0", false, true},
      {"000000000:00:02.0", false, false},  // 9 domain digits
      {"000:00:02.0", false, false},
      {"00:02.0", false, false},  // no domain
      {"0000:00:2.0", false, false},
      {"0000:0:02.0", false, false},
      {"0000:00:02", false, false},
      {"0000:00:02.", false, false},
      {"0000:00:02.00", false, false},
      {"0000-00:02.0", false, false},
      {"0000:00.02:0", false, false},
      {"g000:00:02.0", false, false},
      {":00:02.0", false, false},
      {"platform-dev", false, false},
      {"", false, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(is_pci_address(c.name, PciAddressForm::kShape), c.shape) << c.name;
    EXPECT_EQ(is_pci_address(c.name, PciAddressForm::kSysfs), c.sysfs) << c.name;
  }
}

}  // namespace
}  // namespace caps
