// SPDX-License-Identifier: MIT
// Text made safe for a terminal: what both tools print of names, paths and messages.
#include "common/terminal_text.h"

#include "libcaps/parse.h"

namespace tools {

namespace {

std::string escape_for_terminal(std::string_view text, bool double_backslashes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t len = c < 0x80 ? 1 : caps::utf8_sequence_length(text, i);
    // C1 controls (U+0080..U+009F) are as dangerous on a terminal as C0 ones.
    const bool c1 = len == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
    if (len > 1 && !c1) {
      out.append(text.substr(i, len));
      i += len;
      continue;
    }
    const std::size_t n = len == 0 ? 1 : len;
    for (std::size_t k = 0; k < n; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if (b == '\\' && double_backslashes) {
        out += "\\\\";
      } else if (b >= 0x20 && b < 0x7F) {
        out += static_cast<char>(b);
      } else {
        out += "\\x";
        out += kHex[b >> 4];
        out += kHex[b & 0xF];
      }
    }
    i += n;
  }
  return out;
}

}  // namespace

std::string printable(std::string_view text) { return escape_for_terminal(text, true); }

std::string printable_message(std::string_view text) { return escape_for_terminal(text, false); }

}  // namespace tools
