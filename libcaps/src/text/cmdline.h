// SPDX-License-Identifier: MIT
// The kernel command line as the kernel splits it: words, `name=value` parameters, and the
// comma-separated options the IOMMU drivers read from their parameters' values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace caps {

/// One word of the command line: `name` before the first '=', `value` after it (nullopt for a
/// bare word such as "quiet").
struct CmdlineParam {
  std::string name;
  std::optional<std::string> value;

  bool operator==(const CmdlineParam&) const = default;
};

/// The words of a command line; double quotes group words (the kernel's next_arg()).
std::vector<std::string> split_cmdline(std::string_view line);

/// The parameters of a command line, in order.
std::vector<CmdlineParam> parse_cmdline(std::string_view line);

/// Whether parameter names `a` and `b` are the same parameter. Module parameters (a '.' in
/// the name) treat '-' and '_' alike, as the kernel's parameq() does; __setup() names such as
/// intel_iommu= are compared byte for byte (obsolete_checksetup() uses strncmp).
bool same_param(std::string_view a, std::string_view b);

/// The comma-separated options of every `name=` on the line, in order; empty options (",,")
/// are skipped as the drivers' parsers skip them.
std::vector<std::string> param_options(const std::vector<CmdlineParam>& params,
                                       std::string_view name);

/// Whether `name=...` has `option` among its comma-separated options.
bool has_option(const std::vector<CmdlineParam>& params, std::string_view name,
                std::string_view option);

/// The last value of `name` on the line (the one the kernel keeps for a module or early
/// parameter); nullopt when absent. A bare `name` gives "".
std::optional<std::string> last_value(const std::vector<CmdlineParam>& params,
                                      std::string_view name);

/// A boolean as kstrtobool() (lib/kstrtox.c) reads it: y/Y/t/T/1 and "on" true, n/N/f/F/0
/// and "off" false, by the first one or two characters; nullopt for anything else, which the
/// kernel rejects (-EINVAL) and so ignores.
std::optional<bool> kernel_bool(std::string_view value);

}  // namespace caps
