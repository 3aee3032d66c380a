// SPDX-License-Identifier: MIT
// Result<T>: the value-or-error type returned across the libcaps API (tl::expected).
#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace caps {

/// Why an operation failed. `where` names the file, key or path; `message` says what was wrong.
struct Error {
  std::string where;
  std::string message;

  /// "where: message", or just the message when there is no place to name.
  std::string to_string() const { return where.empty() ? message : where + ": " + message; }
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> make_error(std::string where, std::string message) {
  return tl::unexpected<Error>(Error{std::move(where), std::move(message)});
}

}  // namespace caps
