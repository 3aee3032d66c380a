// SPDX-License-Identifier: MIT
// iommu-probe: reads a host's IOMMU units, groups and devices and prints them as text, JSON or
// a TOML host report. A thin driver: parse options, call libcaps, format.
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <filesystem>
#include <iostream>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include <fstream>
#include <sstream>

#include "common/atomic_file.h"
#include "common/host_source.h"
#include "common/option_table.h"
#include "common/terminal_text.h"
#include "common/tool_main.h"
#include "common/version.h"
#include "iommu-probe/check_format.h"
#include "iommu-probe/probe_format_json.h"
#include "iommu-probe/probe_format_nfd.h"
#include "iommu-probe/probe_format_text.h"
#include "libcaps/host_report.h"
#include "libcaps/iommufd.h"
#include "libcaps/kernel_log.h"
#include "libcaps/reader.h"
#include "libcaps/readiness.h"
#include "libcaps/source.h"

namespace tools {
// The host model run() reads, never freed (see there). A function-local static was not enough:
// nothing read it again, so the optimizer dropped the store and LeakSanitizer saw a leak. A
// variable of external linkage must be stored before the next call that could read it.
extern const caps::Host* kept_host;
const caps::Host* kept_host = nullptr;
}  // namespace tools

namespace {

/// 1: the tree could not be read or gave an error; 2: the command line (--output included)
/// cannot be used; 4: the output could not be written or memory ran out, as iommu-compat.
constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitWriteFailed = 4;

struct Options {
  std::string sysfs_root = "/";
  std::string backend = "auto";
  std::string format = "text";
  bool registers = false;
  std::vector<std::string> units;
  bool no_pci_config = false;
  std::string output;
  bool check = false;  // --check: readiness lines instead of the model
  std::string color = "auto";
  bool quiet = false;
  std::string iommufd = "auto";  // auto, on, off (docs/iommufd.md)
  std::string iommufd_replay;    // a replay file: recorded answers instead of the kernel's
  std::string from_log;  // --from-log FILE or "-": a kernel log instead of a tree
};

constexpr std::string_view kTool = "iommu-probe";

void print_error(const std::string& message) { tools::print_tool_error(kTool, message); }

int usage_error(const std::string& message) {
  tools::print_usage_error(kTool, message);
  return kExitUsage;
}

/// Prints every diagnostic as "iommu-probe: <severity>: <path>: <message>"; true when one of
/// them is an error.
bool report_diagnostics(const caps::Host& host) {
  bool error = false;
  auto print = [&](const caps::Diagnostics& diagnostics) {
    for (const caps::Diagnostic& d : diagnostics) {
      std::cerr << "iommu-probe: " << caps::to_string(d.severity) << ": "
                << tools::printable(d.path) << ": " << tools::printable_message(d.message) << '\n';
      error = error || d.severity == caps::Severity::kError;
    }
  };
  for (const caps::Unit& unit : host.units) print(unit.diagnostics);
  print(host.diagnostics);
  return error;
}

/// --check: the readiness lines in text, with colour when asked or on a terminal.
void write_check_text(const caps::Host& host, const std::vector<caps::ReadinessCheck>& checks,
                      const std::vector<caps::ReadinessCheck>& findings, const Options& options,
                      bool to_stdout, std::ostream& out) {
  const bool color = *tools::decide_color(options.color, to_stdout && isatty(STDOUT_FILENO),
                                          std::getenv("NO_COLOR"), std::getenv("TERM"));
  tools::format_check_text(host, checks, findings, out, {color, options.quiet});
}

/// The facts beyond the model that nfd and --check need: read from the tree, or unknown when
/// the host came from a kernel log (`source` null), which does not say.
caps::AssignmentSupport assignment_support(caps::Source* source, const caps::Host& host) {
  if (source != nullptr) {
    return caps::read_assignment_support(*source, host.platform.kernel_release);
  }
  const caps::Facility unknown{std::nullopt, "a kernel log does not say"};
  return {unknown, unknown};
}

/// One row per --format: how it writes the model, and how it writes --check (null: it does
/// not). The option's choices and the --check refusal are read from here.
struct ProbeFormat {
  std::string_view name;
  void (*write)(const caps::Host&, caps::Source*, const Options&, std::ostream&);
  void (*write_check)(const caps::Host&, const std::vector<caps::ReadinessCheck>& checks,
                      const std::vector<caps::ReadinessCheck>& findings, const Options&,
                      bool to_stdout, std::ostream&);
};

constexpr ProbeFormat kFormats[] = {
    {"text",
     [](const caps::Host& host, caps::Source*, const Options& options, std::ostream& out) {
       tools::format_text(host, out, {.registers = options.registers});
     },
     write_check_text},
    {"json",
     [](const caps::Host& host, caps::Source*, const Options&, std::ostream& out) {
       tools::format_json(host, out);
     },
     [](const caps::Host& host, const std::vector<caps::ReadinessCheck>& checks,
        const std::vector<caps::ReadinessCheck>& findings, const Options&, bool,
        std::ostream& out) { tools::format_check_json(host, checks, findings, out); }},
    {"toml",
     [](const caps::Host& host, caps::Source*, const Options&, std::ostream& out) {
       caps::write_host_report(host, out);
     },
     nullptr},
    // Node Feature Discovery's features.d file (docs/nfd.md).
    {"nfd",
     [](const caps::Host& host, caps::Source* source, const Options&, std::ostream& out) {
       tools::format_nfd(host, assignment_support(source, host), out);
     },
     nullptr},
};

const ProbeFormat& format_named(std::string_view name) {
  for (const ProbeFormat& format : kFormats) {
    if (format.name == name) return format;
  }
  return kFormats[0];  // not reached: CLI11 admits only the names above
}

std::vector<std::string> format_names(bool check_only) {
  std::vector<std::string> names;
  for (const ProbeFormat& format : kFormats) {
    if (!check_only || format.write_check != nullptr) names.emplace_back(format.name);
  }
  return names;
}

/// --check: the readiness lines and the posture findings; returns the exit status they give.
int write_check(const caps::Host& host, caps::Source* source, const Options& options,
                bool to_stdout, std::ostream& out) {
  const std::vector<caps::ReadinessCheck> checks =
      caps::check_readiness(host, assignment_support(source, host));
  const std::vector<caps::ReadinessCheck> findings = caps::check_posture(host);
  format_named(options.format).write_check(host, checks, findings, options, to_stdout, out);
  return tools::check_exit_code(std::max(caps::worst_status(checks), caps::worst_status(findings)));
}

/// Asks iommufd about the host's vfio-pci functions when the options say so: `auto` asks the
/// running kernel when the root is "/" and the process is root (else records why not), `on`
/// asks it whatever the user, `off` never; a replay file answers instead of the kernel, for
/// any root. Returns an error message, or empty.
std::string ask_iommufd(caps::Host& host, caps::Source& source, const Options& options) {
  if (!options.iommufd_replay.empty()) {
    std::ifstream in(options.iommufd_replay, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) return options.iommufd_replay + ": cannot be read";
    caps::Result<caps::ReplayKernel> kernel =
        caps::parse_iommufd_replay(text.str(), options.iommufd_replay);
    if (!kernel) return kernel.error().to_string();
    std::unique_ptr<caps::IommufdPort> port = caps::replay_iommufd_port(std::move(*kernel));
    caps::probe_iommufd(host, source, *port);
    return {};
  }
  if (options.iommufd == "off") return {};
  // A copied tree, or a umockdev testbed standing in for / (UMOCKDEV_DIR): the running
  // kernel's /dev/iommu does not describe it, so `auto` leaves it alone like any copy.
  const bool testbed = std::getenv("UMOCKDEV_DIR") != nullptr && options.iommufd == "auto";
  const bool live = options.sysfs_root == "/" && !testbed;
  if (!live) return {};
  if (options.iommufd == "auto" && geteuid() != 0) {
    host.iommufd.reason =
        "not root: opening /dev/iommu and /dev/vfio/devices/* needs root (--iommufd on tries "
        "anyway)";
    return {};
  }
  std::unique_ptr<caps::IommufdPort> port = caps::kernel_iommufd_port();
  caps::probe_iommufd(host, source, *port);
  return {};
}

/// Installs the output; `status` unless that fails.
int commit(tools::OutputFile& out, int status) {
  if (const caps::Result<void> done = out.commit(); !done) {
    print_error(done.error().to_string());
    return kExitWriteFailed;
  }
  return status;
}

/// Kernel logs past this are not logs: dmesg's ring buffer is at most 32 MiB (LOG_BUF_SHIFT 25).
constexpr size_t kLogLimit = 256 * 1024 * 1024;

/// --from-log: the host a kernel log describes, in any format. Lines the log reader does not
/// know are counted on stderr, never an error; problems with the lines it knows are warnings.
int run_from_log(const Options& options, tools::OutputFile& out, bool to_stdout) {
  const bool stdin_log = options.from_log == "-";
  const std::string name = stdin_log ? "(stdin)" : options.from_log;
  std::string text;
  std::ifstream file;
  if (!stdin_log) file.open(options.from_log, std::ios::binary);
  std::istream& in = stdin_log ? std::cin : file;
  if (!in) {
    print_error("cannot open kernel log " + tools::printable(name));
    return kExitError;
  }
  std::vector<char> buffer(65536);
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    text.append(buffer.data(), static_cast<size_t>(in.gcount()));
    if (text.size() > kLogLimit) {
      print_error("kernel log " + tools::printable(name) + " is larger than 256 MiB");
      return kExitError;
    }
  }
  if (in.bad()) {
    print_error("cannot read kernel log " + tools::printable(name));
    return kExitError;
  }
  caps::KernelLogRead read = caps::read_kernel_log(text, name);
  tools::kept_host = new caps::Host(std::move(read.host));
  const caps::Host& host = *tools::kept_host;
  std::cerr << "iommu-probe: note: " << tools::printable(name) << ": " << read.lines
            << " lines, " << read.known << " known, " << read.unknown << " not known (ignored)\n";
  if (options.check) {
    return commit(out, write_check(host, nullptr, options, to_stdout, out.stream()));
  }
  report_diagnostics(host);
  format_named(options.format).write(host, nullptr, options, out.stream());
  return commit(out, kExitOk);
}

int run(int argc, char** argv) {
  Options options;
  CLI::App app{"Reports the host's IOMMU units, their capabilities, groups and devices.",
               "iommu-probe"};
  app.add_option("--sysfs-root", options.sysfs_root,
                 "Directory holding sys/ and proc/ (a live host or a copied tree)")
      ->type_name("DIR")
      ->capture_default_str();
  app.add_option("--backend", options.backend,
                 "auto: udev when the root is /, else dir; udev needs the root /")
      ->check(CLI::IsMember({"auto", "dir", "udev"}))
      ->capture_default_str();
  app.add_option("--format", options.format,
                 "Output format; toml writes a host report, nfd a Node Feature Discovery "
                 "feature file")
      ->check(CLI::IsMember(format_names(false)))
      ->capture_default_str();
  app.add_flag("--registers", options.registers,
               "Text: print every decoded register field (JSON and TOML always include them)");
  app.add_option("--unit,units", options.units, "Read only this unit (repeatable)")
      ->type_name("NAME");
  app.add_flag("--no-pci-config", options.no_pci_config,
               "Do not read devices' PCI config space (PASID, ATS, PRI stay unknown)");
  app.add_option("--output", options.output, "Write to FILE (atomically) instead of stdout")
      ->type_name("FILE");
  app.add_flag("--check", options.check,
               "Check the host is ready for device assignment: one PASS/WARN/FAIL line per check "
               "(text or json); exit 0 all pass, 3 a warning, 1 a failure");
  app.add_option("--color", options.color, "--check text: colour the status words")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  app.add_flag("-q,--quiet", options.quiet, "--check text: print only WARN and FAIL lines");
  app.add_option("--iommufd", options.iommufd,
                 "Ask iommufd (IOMMU_GET_HW_INFO) about vfio-pci functions with a vfio cdev: "
                 "auto when the root is / and run as root; on; off")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str();
  app.add_option("--iommufd-replay", options.iommufd_replay,
                 "Answer iommufd questions from a recorded replay FILE instead of the kernel")
      ->type_name("FILE");
  CLI::Option* from_log =
      app.add_option("--from-log", options.from_log,
                     "Build the host from a kernel log (dmesg, journalctl -k or a pasted report; "
                     "- reads stdin) instead of a tree")
          ->type_name("FILE");
  for (const char* tree_only : {"--sysfs-root", "--backend", "--unit", "--no-pci-config",
                                "--iommufd-replay"}) {
    from_log->excludes(app.get_option(tree_only));
  }
  app.set_version_flag("--version", std::string(tools::version()));
  tools::add_list_options_flag(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    return usage_error(e.what());
  }
  if (std::string problem = tools::backend_problem(options.backend, options.sysfs_root);
      !problem.empty()) {
    return usage_error(problem);
  }
  if (options.iommufd == "on" && options.sysfs_root != "/" && options.iommufd_replay.empty()) {
    return usage_error("--iommufd on asks the running kernel, which describes only the root /; "
                       "give --iommufd-replay FILE for another tree");
  }
  if (options.check && format_named(options.format).write_check == nullptr) {
    std::string names;
    for (const std::string& name : format_names(true))
      names += (names.empty() ? "" : " or ") + name;
    return usage_error("--check writes " + names);
  }
  // Where the output goes is settled before the tree is read: a refusal costs nothing, and a
  // report never lands inside the tree it describes.
  std::optional<tools::OutputTarget> target;
  if (!options.output.empty()) {
    caps::Result<tools::OutputTarget> classified = tools::classify_output(options.output);
    if (!classified) return usage_error(classified.error().to_string());
    std::vector<std::string> inputs;
    if (!options.from_log.empty() && options.from_log != "-") inputs.push_back(options.from_log);
    if (std::string conflict = tools::output_conflict(
            *classified, inputs,
            options.from_log.empty() ? std::vector<std::string>{options.sysfs_root}
                                     : std::vector<std::string>{});
        !conflict.empty()) {
      return usage_error(conflict);
    }
    target = *classified;
  }
  std::unique_ptr<tools::OutputFile> out = tools::OutputFile::standard_output();
  if (target) {
    caps::Result<std::unique_ptr<tools::OutputFile>> opened = tools::OutputFile::open(*target);
    if (!opened) {
      print_error(opened.error().to_string());
      return kExitWriteFailed;
    }
    out = std::move(*opened);
  }

  if (!options.from_log.empty()) return run_from_log(options, *out, !target);

  caps::Result<std::unique_ptr<caps::Source>> source =
      tools::open_host_source(options.sysfs_root, options.backend);
  if (!source) {
    print_error(source.error().to_string());
    return kExitError;
  }
  const caps::ReadOptions read_options{options.units, !options.no_pci_config};
  // Kept to the end of the process, never freed: it is the last thing the process holds, and
  // freeing its hundreds of thousands of strings and nodes one by one (on a host of thousands
  // of units) costs more than the kernel taking the whole heap back at exit. A global keeps it
  // reachable, so leak checkers do not count it.
  caps::Host* read = new caps::Host(caps::read_host(**source, read_options));
  tools::kept_host = read;
  if (std::string problem = ask_iommufd(*read, **source, options); !problem.empty()) {
    print_error(problem);
    return kExitError;
  }
  const caps::Host& host = *tools::kept_host;
  if (options.check) {
    return commit(*out, write_check(host, source->get(), options, !target, out->stream()));
  }

  bool failed = report_diagnostics(host);
  for (const std::string& name : options.units) {
    if (host.find_unit(name)) continue;
    if (!failed) print_error("no unit named " + name);
    failed = true;
  }
  format_named(options.format).write(host, source->get(), options, out->stream());
  return commit(*out, failed ? kExitError : kExitOk);
}

}  // namespace

// Exceptions stop here: a failed allocation ends the run with a message and exit 4.
int main(int argc, char** argv) {
  return tools::run_main(kTool, run, argc, argv, kExitWriteFailed);
}
