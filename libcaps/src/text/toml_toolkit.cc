// SPDX-License-Identifier: MIT
// The strict TOML toolkit shared by the guest file parser and the host report loader.
#include "toml_toolkit.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace caps::toml_toolkit {

namespace {

struct TypeNames {
  toml::node_type type;
  std::string_view with_article;
  std::string_view without;
};

constexpr TypeNames kTypeNames[] = {
    {toml::node_type::none, "nothing", "nothing"},
    {toml::node_type::table, "a table", "table"},
    {toml::node_type::array, "an array", "array"},
    {toml::node_type::string, "a string", "string"},
    {toml::node_type::integer, "an integer", "integer"},
    {toml::node_type::floating_point, "a floating-point number", "float"},
    {toml::node_type::boolean, "a boolean", "boolean"},
    {toml::node_type::date, "a date", "date"},
    {toml::node_type::time, "a time", "time"},
    {toml::node_type::date_time, "a date-time", "date-time"},
};

}  // namespace

std::string_view type_name(toml::node_type type, Article article) {
  for (const TypeNames& names : kTypeNames) {
    if (names.type == type) {
      return article == Article::kWith ? names.with_article : names.without;
    }
  }
  return article == Article::kWith ? "a value" : "value";
}

SourcePos position(const toml::source_region& region, std::size_t line_offset) {
  return {static_cast<int>(region.begin.line + line_offset), static_cast<int>(region.begin.column)};
}

std::string syntax_message(const toml::parse_error& e) {
  std::string description(e.description());
  if (!description.empty()) {
    description[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(description[0])));
  }
  if (!description.empty() && description.back() == '.') description.pop_back();
  return "invalid TOML: " + description;
}

std::string join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return std::string(path) + "." + std::string(key);
}

void Reader::error(SourcePos pos, std::string message) {
  // Something about a table that was not written (no header): the top of the file.
  if (pos.line <= 0) pos = {1, 1};
  errors_.push_back({pos, std::move(message)});
}

void Reader::error(const toml::source_region& region, std::string_view path, std::string message) {
  error(position(region),
        path.empty() ? std::move(message) : std::string(path) + ": " + std::move(message));
}

std::vector<Reader::UnknownKey> Reader::unknown_keys(
    const toml::table& table, std::span<const std::string_view> known) const {
  std::vector<UnknownKey> out;
  for (auto&& [key, node] : table) {
    const std::string_view name = key.str();
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    out.push_back({name, position(key.source()), caps::nearest(name, known)});
  }
  return out;
}

std::vector<Problem> Reader::take_sorted_errors() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const Problem& a, const Problem& b) {
    return std::pair(a.pos.line, a.pos.column) < std::pair(b.pos.line, b.pos.column);
  });
  return std::move(errors_);
}

}  // namespace caps::toml_toolkit
