// SPDX-License-Identifier: MIT
// Strict parsers for sysfs values (bare hex, prefixed hex, decimal) and message quoting.
#include "libcaps/parse.h"

#include <charconv>
#include <system_error>

namespace caps {
namespace {

constexpr size_t kMaxHexDigits = 16;
constexpr size_t kMaxQuoted = 64;

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_dec_digit(char c) { return c >= '0' && c <= '9'; }

bool is_lower_hex(std::string_view text, size_t min_digits, size_t max_digits) {
  if (text.size() < min_digits || text.size() > max_digits) return false;
  for (char c : text) {
    if (!is_dec_digit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

bool has_pci_shape(std::string_view name) {
  if (name.size() != 12 || name[4] != ':' || name[7] != ':' || name[10] != '.') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11}) {
    if (!is_hex_digit(name[i])) return false;
  }
  return true;
}

bool is_sysfs_pci_name(std::string_view name) {
  const size_t dot = name.rfind('.');
  const size_t colon2 = name.rfind(':');
  if (dot == std::string_view::npos || colon2 == std::string_view::npos || colon2 == 0) {
    return false;
  }
  const size_t colon1 = name.rfind(':', colon2 - 1);
  if (colon1 == std::string_view::npos || dot < colon2) return false;
  const std::string_view domain = name.substr(0, colon1);
  const std::string_view bus = name.substr(colon1 + 1, colon2 - colon1 - 1);
  const std::string_view device = name.substr(colon2 + 1, dot - colon2 - 1);
  const std::string_view function = name.substr(dot + 1);
  if (!is_lower_hex(domain, 4, 8) || !is_lower_hex(bus, 2, 2) || !is_lower_hex(device, 2, 2)) {
    return false;
  }
  if (device[0] > '1') return false;
  return function.size() == 1 && function[0] >= '0' && function[0] <= '7';
}

// Parses `digits` (the part after any prefix) as hex; messages quote `whole`, the text the
// caller was given, so the user sees what the file held.
Result<uint64_t> parse_hex_digits(std::string_view digits, std::string_view whole) {
  if (digits.empty()) return make_error("", "no hex digits in " + quote(whole));
  for (size_t i = 0; i < digits.size(); ++i) {
    if (!is_hex_digit(digits[i])) {
      return make_error("", "not bare hex: " + quote(whole) + " has " + quote(digits.substr(i, 1)) +
                                " at offset " + std::to_string(whole.size() - digits.size() + i));
    }
  }
  // The kernel prints %llx without padding, so more than 16 digits is never a 64-bit value.
  if (digits.size() > kMaxHexDigits) {
    return make_error("", "more than 16 hex digits in " + quote(whole));
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, 16);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    return make_error("", "not a 64-bit hex value: " + quote(whole));
  }
  return value;
}

}  // namespace

std::string_view trim_newlines(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

Result<uint64_t> parse_hex(std::string_view text) {
  if (text.empty()) return make_error("", "empty value, expected bare hex");
  if (text.starts_with("0x") || text.starts_with("0X")) {
    return make_error("", "unexpected 0x prefix in " + quote(text) + ", expected bare hex");
  }
  return parse_hex_digits(text, text);
}

Result<uint64_t> parse_hex_prefixed(std::string_view text) {
  if (text.empty()) return make_error("", "empty value, expected hex");
  if (text.starts_with("0x")) return parse_hex_digits(text.substr(2), text);
  return parse_hex_digits(text, text);
}

Result<uint64_t> parse_dec(std::string_view text) {
  if (text.empty()) return make_error("", "empty value, expected a decimal number");
  for (size_t i = 0; i < text.size(); ++i) {
    if (!is_dec_digit(text[i])) {
      return make_error("", "not a decimal number: " + quote(text) + " has " +
                                quote(text.substr(i, 1)) + " at offset " + std::to_string(i));
    }
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (ec == std::errc::result_out_of_range) {
    return make_error("", "decimal value " + quote(text) + " does not fit 64 bits");
  }
  if (ec != std::errc() || end != text.data() + text.size()) {
    return make_error("", "not a decimal number: " + quote(text));
  }
  return value;
}

std::string format_hex(uint64_t value) {
  char buf[kMaxHexDigits];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, 16);
  (void)ec;  // 16 hex digits always fit a 64-bit value
  return "0x" + std::string(buf, end);
}

std::string quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  const std::string_view shown = text.substr(0, kMaxQuoted);
  for (char c : shown) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out += c;
      continue;
    }
    out += "\\x";
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  out += '"';
  if (text.size() > kMaxQuoted) out += "...";
  return out;
}

namespace {

/// How the bytes at `text[pos]` fit the UTF-8 rules (Unicode table 3-7): the length the lead
/// byte asks for (0 if it starts no sequence) and how many bytes from `pos` follow the rules.
struct Utf8Match {
  std::size_t length = 0;
  std::size_t matched = 0;
};

Utf8Match match_utf8(std::string_view text, std::size_t pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  if (lead < 0x80) return {1, 1};
  std::size_t length = 0;
  unsigned char lo = 0x80;  // range of the first continuation byte
  unsigned char hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) length = 2;
  if (lead >= 0xE0 && lead <= 0xEF) length = 3;
  if (lead >= 0xF0 && lead <= 0xF4) length = 4;
  if (lead == 0xE0) lo = 0xA0;  // no overlong forms
  if (lead == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  if (lead == 0xF0) lo = 0x90;
  if (lead == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  if (length == 0) return {0, 0};
  std::size_t n = 1;
  for (; n < length && pos + n < text.size(); ++n) {
    const auto b = static_cast<unsigned char>(text[pos + n]);
    if (b < (n == 1 ? lo : 0x80) || b > (n == 1 ? hi : 0xBF)) break;
  }
  return {length, n};
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view text, std::size_t pos) {
  const Utf8Match m = match_utf8(text, pos);
  return m.length != 0 && m.matched == m.length ? m.length : 0;
}

std::size_t utf8_invalid_length(std::string_view text, std::size_t pos) {
  const Utf8Match m = match_utf8(text, pos);
  return m.matched == 0 ? 1 : m.matched;
}

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

bool is_pci_address(std::string_view name, PciAddressForm form) {
  switch (form) {
    case PciAddressForm::kShape:
      return has_pci_shape(name);
    case PciAddressForm::kSysfs:
      return is_sysfs_pci_name(name);
  }
  return false;
}

}  // namespace caps
