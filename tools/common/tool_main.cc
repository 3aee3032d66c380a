// SPDX-License-Identifier: MIT
// The error lines and exception catch both tools' mains share.
#include "common/tool_main.h"

#include <exception>
#include <iostream>
#include <new>

#include "common/terminal_text.h"

namespace tools {

void print_tool_error(std::string_view tool, std::string_view message) {
  std::cerr << tool << ": error: " << printable_message(message) << '\n';
}

void print_usage_error(std::string_view tool, std::string_view message) {
  print_tool_error(tool, message);
  std::cerr << "Run '" << tool << " --help' for more information.\n";
}

int run_main(std::string_view tool, int (*run)(int, char**), int argc, char** argv, int failed) {
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc&) {
    print_tool_error(tool, "out of memory");
  } catch (const std::exception& e) {
    print_tool_error(tool, e.what());
  }
  return failed;
}

}  // namespace tools
