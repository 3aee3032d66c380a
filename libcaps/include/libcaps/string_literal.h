// SPDX-License-Identifier: MIT
// The one string escaper of the suite: a double-quoted literal that is valid JSON and a valid
// TOML basic string alike, used by the host-report, guest-file and JSON writers.
#pragma once

#include <string>
#include <string_view>

namespace caps {

/// Appends `text` as a double-quoted string literal, valid in JSON and in TOML:
/// - printable ASCII and well-formed UTF-8 as is;
/// - `"` and `\` escaped with a backslash;
/// - other ASCII control characters (U+0000-U+001F, U+007F) as `\u00xx`, lowercase hex
///   (both formats accept it; JSON forbids raw ones and TOML forbids them in basic strings);
/// - bytes that are not UTF-8 as U+FFFD, one per maximal invalid subsequence (Unicode's
///   "maximal subpart" practice, which the WHATWG Encoding Standard's decoder follows):
///   "\xE2\x82" (a cut-off euro sign) is one U+FFFD, "\xFF\xFF" two.
/// So the same bytes give the same characters in every output, and any output parses.
void append_string_literal(std::string& out, std::string_view text);

/// Whether append_string_literal copies `text` unchanged between the quotes: printable ASCII
/// without `"` or `\`. Writers use it to lay out a plain key or value in one piece.
bool is_plain_literal(std::string_view text);

/// `text` as a string literal (see append_string_literal).
std::string string_literal(std::string_view text);

}  // namespace caps
