// SPDX-License-Identifier: MIT
// A strict JSON parser (RFC 8259, UTF-8 only) for tests: proves a tool's output is valid JSON
// and gives a small tree to assert on.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hostile {

/// A parsed JSON value. Numbers keep their text; strings are decoded to UTF-8.
struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string text;  // the number's literal, or the decoded string
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;  // in document order

  /// The member named `key`, or nullptr (also when this is not an object).
  const Json* get(std::string_view key) const;
};

struct JsonParse {
  Json value;
  std::string error;  // empty when the text is valid; else "offset N: what is wrong"

  bool ok() const { return error.empty(); }
};

/// Parses exactly one JSON text (whitespace around it allowed). Strict: no trailing commas,
/// comments, leading zeros, raw control characters, lone surrogates, invalid UTF-8 or
/// duplicate object keys.
JsonParse parse_json(std::string_view text);

}  // namespace hostile
