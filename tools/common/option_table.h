// SPDX-License-Identifier: MIT
// The hidden --list-options flag: a tool prints its own CLI11 option table for the shell
// completions (tools/completion), which therefore follow every option added or changed.
#pragma once

#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

namespace tools {

/// One line per subcommand, option and positional of `app` and its subcommands, fields
/// separated by tabs:
///   command  NAME  DESCRIPTION
///   option   SCOPE  NAMES  ARG  DESCRIPTION     (SCOPE "-" or a subcommand; NAMES "-q,--quiet")
///   argument SCOPE  NAME   ARG  DESCRIPTION
/// ARG is "-" for a flag, "{a,b}" for a choice, else the type name (DIR, FILE, NAME, ...).
inline void print_option_table(const CLI::App& app, const std::string& scope, std::ostream& out) {
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_group().empty()) continue;  // hidden, like --list-options itself
    std::string arg = opt->get_items_expected_max() == 0 ? "-" : opt->get_type_name();
    if (size_t brace = arg.find(":{"); brace != std::string::npos) arg = arg.substr(brace + 1);
    if (arg.empty()) arg = "VALUE";
    std::string names;
    for (const std::string& s : opt->get_snames()) names += (names.empty() ? "-" : ",-") + s;
    for (const std::string& l : opt->get_lnames()) names += (names.empty() ? "--" : ",--") + l;
    // "--unit,units" is both an option and the positional words.
    if (opt->nonpositional()) {
      out << "option\t" << scope << '\t' << names << '\t' << arg << '\t' << opt->get_description()
          << '\n';
    }
    if (opt->get_positional()) {
      out << "argument\t" << scope << '\t' << opt->get_name(true) << '\t' << arg << '\t'
          << opt->get_description() << '\n';
    }
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    out << "command\t" << sub->get_name() << '\t' << sub->get_description() << '\n';
    print_option_table(*sub, sub->get_name(), out);
  }
}

/// Adds the hidden --list-options flag to `app`: it prints the table and ends parsing with
/// CLI::Success (exit 0), before any required option or subcommand is asked for.
inline void add_list_options_flag(CLI::App& app) {
  app.add_flag_callback(
         "--list-options",
         [&app] {
           print_option_table(app, "-", std::cout);
           throw CLI::Success();
         },
         "Print the option table for shell completions")
      ->group("");
}

}  // namespace tools
