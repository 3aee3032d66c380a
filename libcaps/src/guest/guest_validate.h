// SPDX-License-Identifier: MIT
// The semantic half of guest reading, shared by parse_guest (TOML) and validate_guest (any
// front end): problems with their key path, and the messages both halves must spell alike.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "guest_keys.h"
#include "libcaps/guest.h"

namespace caps {

/// A problem with what a guest says: the key path it concerns ("viommu.units[2]"), where the
/// value was written (0 when not known) and the whole message ("viommu.units[2]: ...").
struct GuestProblem {
  std::string path;
  SourcePos pos;
  std::string message;
};

/// Every semantic problem of `guest`: ranges, the vIOMMU model name, device names and their
/// repeats, units lists. Values a front end left out are not checked (they are not wrong).
std::vector<GuestProblem> guest_problems(const Guest& guest);

/// "path: expected lo..hi, got value".
std::string range_message(std::string_view path, GuestRange range, int64_t value);

/// "path: `value` is not one of a | b | c; did you mean `b`?" (the hint when one is close).
std::string not_one_of(std::string_view path, std::string_view value,
                       std::span<const std::string_view> choices);

/// "path: expected a non-empty string".
std::string empty_string_message(std::string_view path);

/// The elements of a units list one by one: each must be non-empty and not repeat an earlier
/// one. Holds views of the names, which must outlive it.
class UnitsCheck {
 public:
  /// The problem with the next element, without its path ("`x` is listed twice"), if any.
  std::optional<std::string> add(std::string_view name);

 private:
  std::unordered_set<std::string_view> seen_;
};

}  // namespace caps
