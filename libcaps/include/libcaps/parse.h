// SPDX-License-Identifier: MIT
// Strict parsers for the values sysfs files hold (bare hex, decimal, keywords).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "libcaps/result.h"

namespace caps {

/// `text` without trailing '\n' and '\r' (what the kernel appends and libudev strips).
std::string_view trim_newlines(std::string_view text);

/// Bare lowercase or uppercase hex as the kernel prints with %llx: no "0x", no sign, no
/// spaces, 1..16 digits, no trailing junk. Errors say what was wrong, quoting the text.
Result<uint64_t> parse_hex(std::string_view text);

/// Hex with an optional "0x" prefix (reserved_regions, report files).
Result<uint64_t> parse_hex_prefixed(std::string_view text);

/// Unsigned decimal, no sign, no spaces, no trailing junk, fits 64 bits.
Result<uint64_t> parse_dec(std::string_view text);

/// "0x" + lowercase hex, no padding: format_hex(0xd2) == "0xd2".
std::string format_hex(uint64_t value);

/// The length of the well-formed UTF-8 sequence at `text[pos]` (1 for ASCII), or 0 when the
/// bytes there are not one (stray continuation, overlong form, surrogate, > U+10FFFF, cut off).
std::size_t utf8_sequence_length(std::string_view text, std::size_t pos);

/// The length of the longest prefix of an invalid sequence at `text[pos]` that is replaced by a
/// single U+FFFD (Unicode's "maximal subpart" rule); at least 1.
std::size_t utf8_invalid_length(std::string_view text, std::size_t pos);

/// Whether all of `text` is well-formed UTF-8.
bool is_valid_utf8(std::string_view text);

/// How strictly is_pci_address reads a PCI function's name DDDD:BB:DD.F.
enum class PciAddressForm {
  /// The fixed-width shape of the kernel's dev_name(), hex in either case: four digits, ':',
  /// two, ':', two, '.', one. What ordering needs: such names sort by their bytes as by their
  /// numbers.
  kShape,
  /// A function as sysfs names it, for what a user writes: lowercase hex, a domain of 4 to 8
  /// digits (VMD domains start at 0x10000), device 00-1f, function 0-7.
  kSysfs,
};

/// Whether `name` is a PCI function's address in `form`.
bool is_pci_address(std::string_view name, PciAddressForm form);

/// `text` quoted for a message: printable ASCII as is, anything else as \xNN; at most 64
/// bytes shown, then "...".
std::string quote(std::string_view text);

}  // namespace caps
