// iommu-compat: checks guest vIOMMU descriptions against hosts (a live host, fake sysfs trees
// or host reports) and suggests the most capable guest a set of hosts supports. A thin driver:
// parse options, load inputs, call libcaps, format.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/atomic_file.h"
#include "common/compat_format.h"
#include "common/compat_report.h"
#include "common/host_source.h"
#include "common/probe_format_text.h"
#include "common/version.h"
#include "libcaps/check.h"
#include "libcaps/guest.h"
#include "libcaps/host_report.h"
#include "libcaps/reader.h"
#include "libcaps/source.h"
#include "libcaps/suggest.h"

namespace {

/// Exit codes besides the verdicts' (guest-config.md section 3): bad input and usage share 2.
constexpr int kExitOk = 0;
constexpr int kExitNoGuest = 1;
constexpr int kExitBadInput = 2;

/// Guest files and host reports larger than this are not ours.
constexpr std::uintmax_t kInputLimit = 64 << 20;

struct HostOptions {
  std::vector<std::string> sysfs_roots;
  std::vector<std::string> reports;
  std::string backend = "auto";
};

struct CheckOptions {
  HostOptions hosts;
  std::vector<std::string> guests;
  std::string format = "text";
  std::string output;
  bool show_passes = false;
};

struct SuggestOptions {
  HostOptions hosts;
  std::string model;
  std::string output;
};

void print_error(const std::string& message) {
  std::cerr << "iommu-compat: error: " << tools::printable_message(message) << '\n';
}

int usage_error(const std::string& message) {
  print_error(message);
  std::cerr << "Run 'iommu-compat --help' for more information.\n";
  return kExitBadInput;
}

/// The whole of a regular file, or an error naming it.
caps::Result<std::string> read_text_file(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) return caps::make_error(path, "cannot read: " + ec.message());
  if (!std::filesystem::is_regular_file(status)) {
    return caps::make_error(path, "cannot read: not a regular file");
  }
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > kInputLimit) return caps::make_error(path, "cannot read: larger than 64 MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return caps::make_error(path, std::string("cannot read: ") + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return caps::make_error(path, "cannot read: i/o error");
  return text.str();
}

/// A host to check against: loaded, or the reason it could not be.
struct HostInput {
  std::string name;
  caps::Result<caps::Host> host;
};

caps::Result<caps::Host> read_tree(const std::string& root, const std::string& backend) {
  caps::Result<std::unique_ptr<caps::Source>> source = tools::open_host_source(root, backend);
  if (!source) return tl::unexpected(source.error());
  return caps::read_host(**source);
}

caps::Result<caps::Host> load_report(const std::string& path) {
  caps::Result<std::string> text = read_text_file(path);
  if (!text) return tl::unexpected(text.error());
  return caps::load_host_report(*text, path);
}

/// Every host the options name, in order: the --sysfs-root trees, then the --host reports;
/// with neither, the live host at "/".
std::vector<HostInput> load_hosts(const HostOptions& options) {
  std::vector<HostInput> out;
  std::vector<std::string> roots = options.sysfs_roots;
  if (roots.empty() && options.reports.empty()) roots.push_back("/");
  for (const std::string& root : roots) out.push_back({root, read_tree(root, options.backend)});
  for (const std::string& path : options.reports) out.push_back({path, load_report(path)});
  return out;
}

/// A usage error for --backend udev on a tree that is not the real root, else empty.
std::string check_backend(const HostOptions& options) {
  for (const std::string& root : options.sysfs_roots) {
    if (std::string problem = tools::backend_problem(options.backend, root); !problem.empty()) {
      return problem;
    }
  }
  return {};
}

/// A guest to check: parsed, or its errors ("file:line:col", message).
struct GuestInput {
  std::string name;
  std::optional<caps::Guest> guest;
  std::vector<caps::Error> errors;
};

GuestInput load_guest(const std::string& path) {
  GuestInput in{path, std::nullopt, {}};
  caps::Result<std::string> text = read_text_file(path);
  if (!text) {
    in.errors.push_back(text.error());
    return in;
  }
  auto parsed = caps::parse_guest(*text, path);
  if (parsed) {
    in.guest = std::move(*parsed);
  } else {
    in.errors = std::move(parsed.error());
  }
  return in;
}

tools::CompatPair run_pair(const GuestInput& guest, const HostInput& host,
                           const caps::CheckOptions& check_options) {
  if (guest.guest && host.host) return {caps::check(*guest.guest, *host.host, check_options), {}};
  tools::CompatPair pair;
  pair.report.guest = guest.name;
  pair.report.host = host.host ? host.host->root : host.name;
  pair.report.verdict = caps::Verdict::kBadInput;
  pair.errors = guest.errors;
  if (!host.host) pair.errors.push_back(host.host.error());
  return pair;
}

/// Writes `text` to stdout or atomically to `output`; false (after saying why) on failure.
bool emit(const std::string& text, const std::string& output) {
  if (output.empty()) {
    std::cout << text << std::flush;
    if (std::cout) return true;
    print_error("cannot write to standard output");
    return false;
  }
  const caps::Result<void> written = tools::write_file_atomically(output, text);
  if (!written) print_error(written.error().to_string());
  return written.has_value();
}

std::string format(const std::vector<tools::CompatPair>& pairs, const CheckOptions& options) {
  std::ostringstream out;
  if (options.format == "json") {
    tools::format_compat_json(pairs, out);
  } else if (options.format == "junit") {
    tools::format_compat_junit(pairs, out);
  } else if (options.format == "github") {
    tools::format_compat_github(pairs, out);
  } else {
    tools::format_compat_text(pairs, out, {.show_passes = options.show_passes});
  }
  return out.str();
}

int run_check(const CheckOptions& options) {
  if (std::string error = check_backend(options.hosts); !error.empty()) return usage_error(error);
  const std::vector<HostInput> hosts = load_hosts(options.hosts);
  std::vector<GuestInput> guests;
  for (const std::string& path : options.guests) guests.push_back(load_guest(path));

  // Text (unless asked) and GitHub annotations show no passing finding, so none is built.
  const bool passes_shown =
      options.format == "json" || options.format == "junit" || options.show_passes;
  std::vector<tools::CompatPair> pairs;
  for (const GuestInput& guest : guests) {
    for (const HostInput& host : hosts) {
      pairs.push_back(run_pair(guest, host, {.passes = passes_shown}));
    }
  }
  // The text report on the terminal shows input errors already; elsewhere say them on stderr
  // too, once each, so a CI log shows why a run was bad-input.
  if (options.format != "text" || !options.output.empty()) {
    std::set<std::string> seen;
    for (const tools::CompatPair& pair : pairs) {
      for (const caps::Error& e : pair.errors) {
        if (seen.insert(e.to_string()).second) print_error(e.to_string());
      }
    }
  }
  if (!emit(format(pairs, options), options.output)) return kExitBadInput;
  return caps::exit_code(tools::overall_verdict(pairs));
}

/// The suggestion as a guest file, then comments naming the hosts and what was left out.
std::string suggestion_text(const caps::Suggestion& suggestion,
                            const std::vector<caps::Host>& hosts) {
  std::string out = caps::write_guest(suggestion.guest);
  out += "\n# suggested by iommu-compat for:\n";
  for (const caps::Host& host : hosts) out += "#   " + tools::printable(host.root) + "\n";
  if (suggestion.notes.empty()) return out;
  out += "# left out or limited:\n";
  for (const caps::SuggestNote& note : suggestion.notes) {
    out += "#   " + tools::printable(note.key) + ": " + tools::printable(note.reason) + "\n";
  }
  return out;
}

int run_suggest(const SuggestOptions& options) {
  if (std::string error = check_backend(options.hosts); !error.empty()) return usage_error(error);
  std::vector<caps::Host> hosts;
  bool bad = false;
  for (HostInput& input : load_hosts(options.hosts)) {
    if (!input.host) {
      print_error(input.host.error().to_string());
      bad = true;
      continue;
    }
    hosts.push_back(std::move(*input.host));
  }
  if (bad) return kExitBadInput;
  const caps::Result<caps::Suggestion> suggestion = caps::suggest_guest(options.model, hosts);
  if (!suggestion) {
    print_error(suggestion.error().to_string());
    return kExitNoGuest;
  }
  if (!emit(suggestion_text(*suggestion, hosts), options.output)) return kExitBadInput;
  return kExitOk;
}

void add_host_options(CLI::App& app, HostOptions& options) {
  app.add_option("--sysfs-root", options.sysfs_roots,
                 "A host: directory holding sys/ and proc/ (repeatable; default: the live host /)")
      ->type_name("DIR")
      ->take_all()
      ->allow_extra_args(false);
  app.add_option("--host", options.reports,
                 "A host: report written by iommu-probe --format toml (repeatable)")
      ->type_name("REPORT.toml")
      ->allow_extra_args(false);
  app.add_option("--backend", options.backend,
                 "How to read trees. auto: udev for the root /, else dir; udev needs the root /")
      ->check(CLI::IsMember({"auto", "dir", "udev"}))
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Checks guest vIOMMU descriptions against hosts' IOMMUs.", "iommu-compat"};
  app.set_version_flag("--version", std::string(tools::version()));
  app.require_subcommand(1);

  CheckOptions check;
  CLI::App* check_cmd = app.add_subcommand(
      "check",
      "Check every GUEST against every host. Exit: 0 compatible, 1 incompatible, 2 bad input, "
      "3 undecided; several pairs: the worst by bad-input > incompatible > undecided > "
      "compatible");
  add_host_options(*check_cmd, check.hosts);
  check_cmd->add_option("--format", check.format, "Output format")
      ->check(CLI::IsMember({"text", "json", "junit", "github"}))
      ->capture_default_str();
  check_cmd->add_option("--output", check.output, "Write to FILE (atomically) instead of stdout")
      ->type_name("FILE");
  check_cmd->add_flag("--show-passes", check.show_passes, "Text: list passing findings too");
  check_cmd->add_option("guests", check.guests, "Guest description files (TOML, format 1)")
      ->type_name("GUEST.toml")
      ->required();

  SuggestOptions suggest;
  CLI::App* suggest_cmd = app.add_subcommand(
      "suggest",
      "Print the most capable guest of MODEL that every host supports. Exit: 0 printed, "
      "1 a host has no IOMMU unit, 2 bad input");
  add_host_options(*suggest_cmd, suggest.hosts);
  suggest_cmd->add_option("--model", suggest.model, "The vIOMMU model")
      ->check(CLI::IsMember({"intel-vtd", "amd-vi", "arm-smmu-v3", "virtio-iommu"}))
      ->required();
  suggest_cmd
      ->add_option("--output", suggest.output, "Write to FILE (atomically) instead of stdout")
      ->type_name("FILE");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    return usage_error(e.what());
  }
  if (check_cmd->parsed()) return run_check(check);
  return run_suggest(suggest);
}
