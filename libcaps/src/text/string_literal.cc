// SPDX-License-Identifier: MIT
// The string escaper shared by JSON and TOML output, with its rule for invalid UTF-8.
#include "libcaps/string_literal.h"

#include "libcaps/parse.h"

namespace caps {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_plain(unsigned char c) { return c >= 0x20 && c < 0x7F && c != '"' && c != '\\'; }

}  // namespace

void append_string_literal(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < text.size()) {
    // Runs of printable ASCII, nearly all of any real document, are copied in one piece.
    std::size_t plain = i;
    while (plain < text.size() && is_plain(static_cast<unsigned char>(text[plain]))) ++plain;
    if (plain > i) {
      out.append(text.substr(i, plain - i));
      i = plain;
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t len = utf8_sequence_length(text, i);
      if (len == 0) {
        out += kReplacement;
        i += utf8_invalid_length(text, i);
        continue;
      }
      out.append(text.substr(i, len));
      i += len;
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else {  // a control character: is_plain took everything else
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
    ++i;
  }
  out += '"';
}

std::string string_literal(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  append_string_literal(out, text);
  return out;
}

}  // namespace caps
