// SPDX-License-Identifier: MIT
// What both tools do at their edge: an error line on stderr, a usage error, and the catch in
// main that stops every exception.
#pragma once

#include <string_view>

namespace tools {

/// "TOOL: error: MESSAGE" on stderr, the message made safe for a terminal.
void print_tool_error(std::string_view tool, std::string_view message);

/// print_tool_error, then where to read the usage.
void print_usage_error(std::string_view tool, std::string_view message);

/// `run(argc, argv)`; an exception that escapes it (an allocation that fails anywhere) is
/// printed and gives `failed`. The unwinding has removed any temporary output file by then,
/// so --output never installs a partial file.
int run_main(std::string_view tool, int (*run)(int, char**), int argc, char** argv, int failed);

}  // namespace tools
