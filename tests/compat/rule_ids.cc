// SPDX-License-Identifier: MIT
// Prints the id of every rule check() runs, one a line, in report order (caps::rule_ids()), so
// the rule coverage test asks the library for its rules instead of reading the source.
#include <iostream>
#include <string_view>

#include "libcaps/check.h"

int main() {
  for (std::string_view id : caps::rule_ids()) std::cout << id << '\n';
  return std::cout.flush() ? 0 : 1;
}
