// SPDX-License-Identifier: MIT
// A small streaming JSON writer: pretty-printed, deterministic, always valid JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace tools {

/// How a container is laid out. kBlock puts each member on its own line, indented by two
/// spaces; kInline writes the container and everything in it on one line (`{"a": 1, "b": 2}`).
enum class JsonStyle { kBlock, kInline };

/// Writes one JSON value to a stream as it is built. Calls must form a valid document (a key
/// before every member of an object, balanced begin/end); misuse is a programming error and
/// is caught by assertions. Strings are escaped by caps::append_string_literal, and bytes that
/// are not valid UTF-8 become U+FFFD (one per maximal invalid subsequence), so the output is
/// valid JSON whatever the input bytes. Output is gathered in a
/// buffer and handed to the stream in large pieces (a probe of thousands of units writes
/// millions of tokens; one stream call per token cost more than building the document).
class JsonWriter {
 public:
  explicit JsonWriter(std::ostream& out) : out_(out) {}
  ~JsonWriter() { flush(); }
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  void begin_object(JsonStyle style = JsonStyle::kBlock);
  void end_object();
  void begin_array(JsonStyle style = JsonStyle::kBlock);
  void end_array();

  /// The key of the next object member.
  void key(std::string_view name);

  void string(std::string_view text);
  void integer(int64_t value);
  void unsigned_integer(uint64_t value);
  void boolean(bool value);
  void null();
  /// `text`, or null when it is empty (a fact the model leaves unsaid).
  void string_or_null(std::string_view text);
  /// `value`, or null when it is 0 or less (a line or column the model does not have).
  void positive_or_null(int64_t value);

  /// Ends the document with a newline; call once after the outermost value.
  void finish();

 private:
  struct Level {
    bool is_object;
    bool is_inline;
    std::size_t count;  // members written so far
  };

  /// Separator and indentation before a value (or before a key in an object).
  void before_value();
  void newline_indent(std::size_t depth);
  /// Before a member: ", " inline; else "," (when `comma`), a newline and the indentation.
  void separator(bool comma, bool is_inline, std::size_t depth);
  void begin(bool is_object, JsonStyle style);
  void end(bool is_object);
  /// Hands the buffer to the stream once it is large, or always when `all`.
  void flush(bool all = true);

  std::ostream& out_;
  std::string buffer_;
  std::vector<Level> stack_;
  bool after_key_ = false;
};

/// `text` as a JSON string literal, quotes included.
std::string json_quote(std::string_view text);

}  // namespace tools
