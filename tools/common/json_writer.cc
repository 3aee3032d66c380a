// SPDX-License-Identifier: MIT
// The streaming JSON writer: layout (strings are escaped by caps::append_string_literal).
#include "common/json_writer.h"

#include <cassert>
#include <charconv>
#include <cstring>

#include "libcaps/string_literal.h"

namespace tools {

std::string json_quote(std::string_view text) { return caps::string_literal(text); }

constexpr std::size_t kFlushSize = 64 * 1024;

void JsonWriter::flush(bool all) {
  if (buffer_.empty() || (!all && buffer_.size() < kFlushSize)) return;
  out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  buffer_.clear();
}

/// ",", then a newline and `2 * depth` spaces, cut from one constant (one append per member).
constexpr std::string_view kSeparatorIndent =
    ",\n                                                                ";

void JsonWriter::newline_indent(std::size_t depth) { separator(false, false, depth); }

void JsonWriter::separator(bool comma, bool is_inline, std::size_t depth) {
  if (is_inline) {
    if (comma) buffer_.append(", ", 2);
    return;
  }
  const std::size_t size = 2 + 2 * depth;  // comma and newline
  if (size <= kSeparatorIndent.size()) {
    buffer_.append(kSeparatorIndent.data() + (comma ? 0 : 1), size - (comma ? 0 : 1));
    return;
  }
  if (comma) buffer_ += ',';
  buffer_ += '\n';
  buffer_.append(2 * depth, ' ');
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (stack_.empty()) return;
  Level& level = stack_.back();
  assert(!level.is_object && "a member of an object needs a key first");
  separator(level.count > 0, level.is_inline, stack_.size());
  ++level.count;
}

void JsonWriter::key(std::string_view name) {
  assert(!stack_.empty() && stack_.back().is_object && !after_key_);
  Level& level = stack_.back();
  const bool comma = level.count > 0;
  ++level.count;
  after_key_ = true;
  // The common case, a plain name in a block object not too deep, in one append:
  // `,\n    "name": `.
  char piece[128];
  const std::size_t indent = 2 * stack_.size();
  const std::size_t lead = (comma ? 2 : 1) + indent;
  if (!level.is_inline && lead <= kSeparatorIndent.size() &&
      lead + name.size() + 4 <= sizeof piece && caps::is_plain_literal(name)) {
    std::memcpy(piece, kSeparatorIndent.data() + (comma ? 0 : 1), lead);
    char* at = piece + lead;
    *at++ = '"';
    std::memcpy(at, name.data(), name.size());
    at += name.size();
    std::memcpy(at, "\": ", 3);
    at += 3;
    buffer_.append(piece, static_cast<std::size_t>(at - piece));
    return;
  }
  separator(comma, level.is_inline, stack_.size());
  caps::append_string_literal(buffer_, name);
  buffer_.append(": ", 2);
}

void JsonWriter::begin(bool is_object, JsonStyle style) {
  before_value();
  const bool parent_inline = !stack_.empty() && stack_.back().is_inline;
  stack_.push_back({is_object, parent_inline || style == JsonStyle::kInline, 0});
  buffer_ += is_object ? '{' : '[';
}

void JsonWriter::end(bool is_object) {
  assert(!stack_.empty() && stack_.back().is_object == is_object && !after_key_);
  const Level level = stack_.back();
  stack_.pop_back();
  if (level.count > 0 && !level.is_inline) newline_indent(stack_.size());
  buffer_ += is_object ? '}' : ']';
  flush(false);
}

void JsonWriter::begin_object(JsonStyle style) { begin(true, style); }
void JsonWriter::end_object() { end(true); }
void JsonWriter::begin_array(JsonStyle style) { begin(false, style); }
void JsonWriter::end_array() { end(false); }

void JsonWriter::string(std::string_view text) {
  before_value();
  caps::append_string_literal(buffer_, text);
  flush(false);
}

void JsonWriter::integer(int64_t value) {
  before_value();
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  buffer_.append(buf, result.ptr);
}

void JsonWriter::unsigned_integer(uint64_t value) {
  before_value();
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  buffer_.append(buf, result.ptr);
}

void JsonWriter::boolean(bool value) {
  before_value();
  buffer_ += value ? "true" : "false";
}

void JsonWriter::null() {
  before_value();
  buffer_ += "null";
}

void JsonWriter::string_or_null(std::string_view text) {
  if (text.empty()) {
    null();
  } else {
    string(text);
  }
}

void JsonWriter::positive_or_null(int64_t value) {
  if (value <= 0) {
    null();
  } else {
    integer(value);
  }
}

void JsonWriter::finish() {
  assert(stack_.empty() && !after_key_);
  buffer_ += '\n';
  flush();
}

}  // namespace tools
