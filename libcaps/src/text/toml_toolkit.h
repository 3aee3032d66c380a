// SPDX-License-Identifier: MIT
// The strict TOML toolkit that guest files and host reports are read with: positions, type
// names, unknown-key checks with one did-you-mean (spelling.h), typed look-ups and collected
// errors.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "libcaps/guest.h"
#include "libcaps/spelling.h"

namespace caps::toml_toolkit {

/// A problem found in a file and where: line and column of the key or value concerned.
struct Problem {
  SourcePos pos;
  std::string message;
};

/// How a type is named in "expected X, got Y": guest files say "a string", host reports
/// "string" (their messages were written that way and tests compare them whole).
enum class Article { kWith, kWithout };

/// "a string", "an integer", "a floating-point number" ... or, without the article, "string",
/// "integer", "float" ...
std::string_view type_name(toml::node_type type, Article article);

/// The key's or node's position, `line_offset` added to the line (for text parsed in parts).
SourcePos position(const toml::source_region& region, std::size_t line_offset = 0);

/// "invalid TOML: ..." text for a toml++ syntax error: description lowercased, no final period.
std::string syntax_message(const toml::parse_error& e);

/// `path.key`, or `key` at the top level.
std::string join(std::string_view path, std::string_view key);

/// Reads TOML tables strictly, collecting every problem with its position. One reader per file
/// (or per run of parts of one file: set line_offset before each part).
class Reader {
 public:
  Reader(std::string_view file, Article article) : file_(file), article_(article) {}

  const std::string& file() const { return file_; }
  const std::vector<Problem>& errors() const { return errors_; }
  bool failed() const { return !errors_.empty(); }

  /// Added to toml++'s line numbers: the line before the current part's first.
  void set_line_offset(std::size_t offset) { line_offset_ = offset; }
  SourcePos position(const toml::source_region& region) const {
    return toml_toolkit::position(region, line_offset_);
  }

  /// Records a problem at `pos` (the top of the file when the position is not known).
  void error(SourcePos pos, std::string message);
  /// Records "path: message" (or just the message when `path` is empty) at `region`.
  void error(const toml::source_region& region, std::string_view path, std::string message);

  /// An unknown key of a table, with the known key it is likely a typo of.
  struct UnknownKey {
    std::string_view key;
    SourcePos pos;
    std::optional<std::string_view> near;
  };
  /// The keys of `table` not in `known`, in toml++'s order.
  std::vector<UnknownKey> unknown_keys(const toml::table& table,
                                       std::span<const std::string_view> known) const;

  /// `node` as a T, or nullptr with "path: expected <expected>, got <type>" recorded at `at`
  /// when it is something else. nullptr (nothing recorded) when `node` is nullptr.
  template <class T>
  const T* typed_at(const toml::node* node, SourcePos at, std::string_view path,
                    std::string_view expected) {
    if (node == nullptr) return nullptr;
    if (const T* value = node->as<T>()) return value;
    error(at, std::string(path) + ": expected " + std::string(expected) + ", got " +
                  std::string(type_name(node->type(), article_)));
    return nullptr;
  }
  /// typed_at the node's own position.
  template <class T>
  const T* typed(const toml::node* node, std::string_view path, std::string_view expected) {
    if (node == nullptr) return nullptr;
    return typed_at<T>(node, position(node->source()), path, expected);
  }

  /// The errors in file order (toml++ tables iterate in key order, not file order).
  std::vector<Problem> take_sorted_errors();

 private:
  std::string file_;
  Article article_;
  std::size_t line_offset_ = 0;
  std::vector<Problem> errors_;
};

}  // namespace caps::toml_toolkit
