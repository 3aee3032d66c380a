// SPDX-License-Identifier: MIT
// Tests for tools/common/json_writer: layout, escaping, UTF-8 repair.
#include "common/json_writer.h"

#include <sstream>

#include <gtest/gtest.h>

namespace tools {
namespace {

std::string quote(std::string_view text) { return json_quote(text); }

TEST(JsonQuote, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(quote("plain"), "\"plain\"");
  EXPECT_EQ(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quote("line\nnext\ttab\r"), "\"line\\u000anext\\u0009tab\\u000d\"");
  EXPECT_EQ(quote(std::string_view("nul\0end", 7)), "\"nul\\u0000end\"");
  EXPECT_EQ(quote("\x1b[31m\x7f"), "\"\\u001b[31m\\u007f\"");
  EXPECT_EQ(quote(""), "\"\"");
}

TEST(JsonQuote, KeepsValidUtf8) {
  EXPECT_EQ(quote("caf\xC3\xA9"), "\"caf\xC3\xA9\"");            // U+00E9
  EXPECT_EQ(quote("\xE2\x82\xAC"), "\"\xE2\x82\xAC\"");          // U+20AC
  EXPECT_EQ(quote("\xF0\x9F\x98\x80"), "\"\xF0\x9F\x98\x80\"");  // U+1F600
  EXPECT_EQ(quote("\xF4\x8F\xBF\xBF"), "\"\xF4\x8F\xBF\xBF\"");  // U+10FFFF
  EXPECT_EQ(quote("\xEF\xBF\xBD"), "\"\xEF\xBF\xBD\"");          // U+FFFD itself
}

constexpr std::string_view kFffd = "\xEF\xBF\xBD";

std::string repeat_fffd(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += kFffd;
  return out;
}

TEST(JsonQuote, ReplacesInvalidUtf8WithOneFffdPerMaximalSubpart) {
  EXPECT_EQ(quote("a\xFF"
                  "b"),
            "\"a" + repeat_fffd(1) + "b\"");
  EXPECT_EQ(quote("\x80\x80"), "\"" + repeat_fffd(2) + "\"");          // stray continuations
  EXPECT_EQ(quote("\xC0\xAF"), "\"" + repeat_fffd(2) + "\"");          // overlong '/'
  EXPECT_EQ(quote("\xE0\x80\xAF"), "\"" + repeat_fffd(3) + "\"");      // overlong 3-byte
  EXPECT_EQ(quote("\xED\xA0\x80"), "\"" + repeat_fffd(3) + "\"");      // surrogate D800
  EXPECT_EQ(quote("\xF4\x90\x80\x80"), "\"" + repeat_fffd(4) + "\"");  // above U+10FFFF
  EXPECT_EQ(quote("\xE2\x82"), "\"" + repeat_fffd(1) + "\"");          // truncated at end
  EXPECT_EQ(quote("\xE2\x82x"), "\"" + repeat_fffd(1) + "x\"");        // truncated mid-string
  EXPECT_EQ(quote("\xF0\x9F\x98"), "\"" + repeat_fffd(1) + "\"");
  EXPECT_EQ(quote("\xE2\x82\"\xE2\x82\xAC"), "\"" + repeat_fffd(1) + "\\\"\xE2\x82\xAC\"");
}

TEST(JsonWriter, EmptyContainers) {
  std::ostringstream out;
  JsonWriter w(out);
  w.begin_object();
  w.key("a");
  w.begin_array();
  w.end_array();
  w.key("o");
  w.begin_object();
  w.end_object();
  w.end_object();
  w.finish();
  EXPECT_EQ(out.str(), "{\n  \"a\": [],\n  \"o\": {}\n}\n");
}

TEST(JsonWriter, NestingAndScalars) {
  std::ostringstream out;
  JsonWriter w(out);
  w.begin_object();
  w.key("s");
  w.string("x");
  w.key("i");
  w.integer(-9223372036854775807 - 1);
  w.key("u");
  w.unsigned_integer(18446744073709551615u);
  w.key("t");
  w.boolean(true);
  w.key("f");
  w.boolean(false);
  w.key("n");
  w.null();
  w.key("list");
  w.begin_array();
  w.integer(1);
  w.begin_object();
  w.key("deep");
  w.begin_array();
  w.string("y");
  w.end_array();
  w.end_object();
  w.end_array();
  w.end_object();
  w.finish();
  EXPECT_EQ(out.str(),
            "{\n"
            "  \"s\": \"x\",\n"
            "  \"i\": -9223372036854775808,\n"
            "  \"u\": 18446744073709551615,\n"
            "  \"t\": true,\n"
            "  \"f\": false,\n"
            "  \"n\": null,\n"
            "  \"list\": [\n"
            "    1,\n"
            "    {\n"
            "      \"deep\": [\n"
            "        \"y\"\n"
            "      ]\n"
            "    }\n"
            "  ]\n"
            "}\n");
}

TEST(JsonWriter, InlineContainersPutEverythingInsideOnOneLine) {
  std::ostringstream out;
  JsonWriter w(out);
  w.begin_object();
  w.key("row");
  w.begin_object(JsonStyle::kInline);
  w.key("a");
  w.integer(1);
  w.key("b");
  w.begin_array(JsonStyle::kBlock);  // forced inline by its parent
  w.string("p");
  w.string("q");
  w.end_array();
  w.key("c");
  w.begin_object();
  w.end_object();
  w.end_object();
  w.key("list");
  w.begin_array(JsonStyle::kInline);
  w.end_array();
  w.end_object();
  w.finish();
  EXPECT_EQ(out.str(),
            "{\n"
            "  \"row\": {\"a\": 1, \"b\": [\"p\", \"q\"], \"c\": {}},\n"
            "  \"list\": []\n"
            "}\n");
}

TEST(JsonWriter, EscapesKeys) {
  std::ostringstream out;
  JsonWriter w(out);
  w.begin_object(JsonStyle::kInline);
  w.key("we\"ird\n\xFF");
  w.string("v");
  w.end_object();
  w.finish();
  EXPECT_EQ(out.str(), "{\"we\\\"ird\\u000a\xEF\xBF\xBD\": \"v\"}\n");
}

TEST(JsonWriter, TopLevelScalar) {
  std::ostringstream out;
  JsonWriter w(out);
  w.string("alone");
  w.finish();
  EXPECT_EQ(out.str(), "\"alone\"\n");
}

}  // namespace
}  // namespace tools
