// SPDX-License-Identifier: MIT
// The string escaper shared by JSON and TOML output, with its rule for invalid UTF-8.
#include "libcaps/string_literal.h"

#include <array>
#include <cstdint>
#include <cstring>

#include "libcaps/parse.h"

namespace caps {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

/// Printable ASCII other than '"' and '\\': copied as it is.
constexpr bool is_plain(unsigned char c) { return c >= 0x20 && c < 0x7F && c != '"' && c != '\\'; }

/// is_plain as a table, one load a byte in the copy loop.
constexpr auto kPlain = [] {
  std::array<bool, 256> table{};
  for (unsigned c = 0; c < 256; ++c) table[c] = is_plain(static_cast<unsigned char>(c));
  return table;
}();

/// The end of the run of plain bytes that starts at `from`: eight bytes at a time while none of
/// them is a control character, '"', '\\', DEL or above 0x7F, then byte by byte.
std::size_t plain_end(std::string_view text, std::size_t from) {
  constexpr uint64_t kOnes = 0x0101010101010101;
  constexpr uint64_t kHigh = 0x8080808080808080;
  // A byte of `v` is zero iff this has its high bit set (exact as a test for any such byte).
  const auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  std::size_t i = from;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t x = 0;
    std::memcpy(&x, text.data() + i, 8);
    const uint64_t special = ((x - 0x20 * kOnes) & ~x & kHigh)  // a byte below 0x20
                             | (x & kHigh)                      // a byte of 0x80 or more
                             | has_zero(x ^ ('"' * kOnes)) | has_zero(x ^ ('\\' * kOnes)) |
                             has_zero(x ^ (0x7F * kOnes));
    if (special != 0) break;
  }
  while (i < text.size() && kPlain[static_cast<unsigned char>(text[i])]) ++i;
  return i;
}

}  // namespace

bool is_plain_literal(std::string_view text) { return plain_end(text, 0) == text.size(); }

void append_string_literal(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t i = plain_end(text, 0);
  if (i == text.size()) {  // nothing to escape: nearly every key and value
    // A short one is quoted on the stack and appended in one piece.
    char quoted[64];
    if (text.size() + 2 <= sizeof quoted) {
      quoted[0] = '"';
      std::memcpy(quoted + 1, text.data(), text.size());
      quoted[text.size() + 1] = '"';
      out.append(quoted, text.size() + 2);
      return;
    }
    out.reserve(out.size() + text.size() + 2);
    out += '"';
    out.append(text);
    out += '"';
    return;
  }
  out += '"';
  out.append(text.substr(0, i));
  while (i < text.size()) {
    // Runs of printable ASCII, nearly all of any real document, are copied in one piece.
    const std::size_t plain = plain_end(text, i);
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
