// SPDX-License-Identifier: MIT
// The kernel command line split into words and parameters, and the helpers that read the IOMMU
// drivers' options from it.
#include "cmdline.h"

#include <algorithm>

namespace caps {

std::vector<std::string> split_cmdline(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
      continue;
    }
    if (!quoted && (c == ' ' || c == '\t' || c == '\n')) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
      continue;
    }
    word += c;
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

std::vector<CmdlineParam> parse_cmdline(std::string_view line) {
  std::vector<CmdlineParam> params;
  for (std::string& word : split_cmdline(line)) {
    const size_t eq = word.find('=');
    if (eq == std::string::npos) {
      params.push_back({std::move(word), std::nullopt});
    } else {
      params.push_back({word.substr(0, eq), word.substr(eq + 1)});
    }
  }
  return params;
}

bool same_param(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.find('.') == std::string_view::npos) return a == b;
  auto norm = [](char c) { return c == '-' ? '_' : c; };
  return std::equal(a.begin(), a.end(), b.begin(),
                    [&](char x, char y) { return norm(x) == norm(y); });
}

std::vector<std::string> param_options(const std::vector<CmdlineParam>& params,
                                       std::string_view name) {
  std::vector<std::string> options;
  for (const CmdlineParam& param : params) {
    if (!param.value || !same_param(param.name, name)) continue;
    std::string_view values = *param.value;
    while (!values.empty()) {
      const size_t comma = values.find(',');
      std::string_view option = values.substr(0, comma);
      if (!option.empty()) options.emplace_back(option);
      if (comma == std::string_view::npos) break;
      values.remove_prefix(comma + 1);
    }
  }
  return options;
}

bool has_option(const std::vector<CmdlineParam>& params, std::string_view name,
                std::string_view option) {
  const std::vector<std::string> options = param_options(params, name);
  return std::find(options.begin(), options.end(), option) != options.end();
}

std::optional<std::string> last_value(const std::vector<CmdlineParam>& params,
                                      std::string_view name) {
  std::optional<std::string> value;
  for (const CmdlineParam& param : params) {
    if (same_param(param.name, name)) value = param.value.value_or("");
  }
  return value;
}

std::optional<bool> kernel_bool(std::string_view value) {
  if (value.empty()) return std::nullopt;
  switch (value[0]) {
    case 'y':
    case 'Y':
    case 't':
    case 'T':
    case '1':
      return true;
    case 'n':
    case 'N':
    case 'f':
    case 'F':
    case '0':
      return false;
    case 'o':
    case 'O':
      if (value.size() < 2) return std::nullopt;
      if (value[1] == 'n' || value[1] == 'N') return true;
      if (value[1] == 'f' || value[1] == 'F') return false;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace caps
