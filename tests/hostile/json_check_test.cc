// SPDX-License-Identifier: MIT
// The strict JSON checker that the hostile-tree tests trust: it must refuse what RFC 8259
// refuses, or a broken output would pass.
#include "json_check.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hostile {
namespace {

TEST(JsonCheckTest, AcceptsValidDocuments) {
  for (const std::string& text : std::vector<std::string>{
           "{}", "[]", "0", "-0.5e+3", "\"\"", " true ", "null", R"({"a": [1, 2, {"b": null}]})",
           R"("\u00e9\ud83d\ude00\\\"\/\b\f\n\r\t")", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
           R"("\u0000")"}) {
    JsonParse parsed = parse_json(text);
    EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.error;
  }
}

TEST(JsonCheckTest, RejectsInvalidDocuments) {
  for (const std::string& text :
       std::vector<std::string>{"",
                                "{",
                                "[1,]",
                                "{\"a\":1,}",
                                "01",
                                "1.",
                                ".5",
                                "+1",
                                "-",
                                "1e",
                                "tru",
                                "nul",
                                "{'a':1}",
                                "{\"a\" 1}",
                                "{\"a\":1 \"b\":2}",
                                "[1 2]",
                                "{} {}",
                                "\"a",
                                "\"\\x41\"",
                                "\"\\u12\"",
                                "\"\\ud800\"",
                                "\"\\udc00\"",
                                "\"\\ud800\\u0041\"",
                                "\"a\nb\"",
                                std::string("\"a\0b\"", 5),
                                "\"\xff\"",
                                "\"\xc0\xaf\"",
                                "\"\xed\xa0\x80\"",
                                "\"\xf4\x90\x80\x80\"",
                                "\"\xe2\x82\"",
                                "{\"a\":1,\"a\":2}",
                                "NaN",
                                "[1]/**/",
                                std::string(300, '[') + std::string(300, ']')}) {
    EXPECT_FALSE(parse_json(text).ok()) << "accepted: " << text;
  }
}

TEST(JsonCheckTest, DecodesStringsAndKeepsStructure) {
  JsonParse parsed =
      parse_json(R"({"units": [{"name": "dm\nar\u00ff"}, {"name": "x"}], "n": -12})");
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  const Json* units = parsed.value.get("units");
  ASSERT_NE(units, nullptr);
  ASSERT_EQ(units->items.size(), 2u);
  EXPECT_EQ(units->items[0].get("name")->text, "dm\nar\xc3\xbf");
  EXPECT_EQ(parsed.value.get("n")->text, "-12");
  EXPECT_EQ(parsed.value.get("missing"), nullptr);
}

TEST(JsonCheckTest, ErrorsSayWhere) {
  EXPECT_EQ(parse_json("[1,]").error, "offset 3: unexpected character");
  EXPECT_EQ(parse_json("{\"a\":1,\"a\":2}").error, "offset 10: duplicate key \"a\"");
}

}  // namespace
}  // namespace hostile
