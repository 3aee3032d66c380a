// SPDX-License-Identifier: MIT
// Result<T>: the value-or-error type returned across the libcaps API (tl::expected).
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace caps {

/// 1-based line and column of a key in the guest file; 0 when the key was not written.
struct SourcePos {
  int line = 0;
  int column = 0;

  bool operator==(const SourcePos&) const = default;
};

/// "file:line:col", "file:line" or "file": the place a compiler would print, leaving out what
/// is 0 (a column without its line means nothing).
inline std::string location(std::string_view file, SourcePos pos) {
  std::string out(file);
  if (pos.line <= 0) return out;
  out += ":" + std::to_string(pos.line);
  if (pos.column > 0) out += ":" + std::to_string(pos.column);
  return out;
}

/// Why an operation failed. `where` names the file, key or path; `pos` the line and column in
/// that file when there is one; `message` says what was wrong.
struct Error {
  Error() = default;
  Error(std::string where_, std::string message_, SourcePos pos_ = {})
      : where(std::move(where_)), message(std::move(message_)), pos(pos_) {}

  std::string where;
  std::string message;
  SourcePos pos;

  /// "where:line:col" as location() writes it.
  std::string location() const { return caps::location(where, pos); }

  /// "where:line:col: message", or just the message when there is no place to name.
  std::string to_string() const {
    std::string place = location();
    return place.empty() ? message : place + ": " + message;
  }
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> make_error(std::string where, std::string message) {
  return tl::unexpected<Error>(Error{std::move(where), std::move(message)});
}

}  // namespace caps
