// SPDX-License-Identifier: MIT
// iommu-compat: checks guest vIOMMU descriptions against hosts (a live host, fake sysfs trees
// or host reports) and suggests the most capable guest a set of hosts supports. A thin driver:
// parse options, load inputs, call libcaps, format.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <new>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/atomic_file.h"
#include "common/host_source.h"
#include "common/option_table.h"
#include "common/terminal_text.h"
#include "common/tool_main.h"
#include "common/version.h"
#include "convert.h"
#include "iommu-compat/compat_format.h"
#include "iommu-compat/compat_report.h"
#include "iommu-compat/fleet_format.h"
#include "libcaps/check.h"
#include "libcaps/fleet.h"
#include "libcaps/deployment.h"
#include "libcaps/guest.h"
#include "libcaps/guest_vmm.h"
#include "libcaps/host_report.h"
#include "libcaps/model.h"
#include "libcaps/reader.h"
#include "libcaps/source.h"
#include "libcaps/spelling.h"
#include "libcaps/suggest.h"

namespace {

/// Exit codes besides the verdicts' (guest-config.md section 3): bad input and usage share 2;
/// 4 is a failure of the tool's own output or resources (a full disk, a closed pipe, memory),
/// which says nothing about the inputs and must not read as bad input.
constexpr int kExitOk = 0;
constexpr int kExitNoGuest = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitWriteFailed = 4;

constexpr std::string_view kSubcommands[] = {"check", "suggest", "convert", "migrate", "baseline"};

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
  std::vector<std::string> qemu_args;  // --qemu-args: command lines given inline
  std::string qemu_version;
  std::string format = "text";
  std::string output;
  bool show_passes = false;
  bool together = false;  // --together: the guests are one deployment on the one host
};

struct SuggestOptions {
  HostOptions hosts;
  std::string model;
  std::string format = "toml";
  std::string qemu_version;
  std::string output;
};

struct MigrateOptions {
  std::string from;
  std::string to;
  std::vector<std::string> guests;
  std::string backend = "auto";
  std::string qemu_version;
  std::string format = "text";
  std::string output;
};

struct BaselineOptions {
  std::vector<std::string> hosts;
  std::string model;  // empty: the one model of every unit
  std::string backend = "auto";
  std::string format = "text";
  std::string output;
};

struct ConvertOptions {
  std::string input;
  std::string to;
  std::string qemu_version;
  std::string output;
};

constexpr std::string_view kTool = "iommu-compat";

void print_error(const std::string& message) { tools::print_tool_error(kTool, message); }

int usage_error(const std::string& message) {
  tools::print_usage_error(kTool, message);
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
  // Read with explicit appends, not `ostream << rdbuf()`: that swallows an allocation failure
  // and returns the part read so far, which would check a guest cut short. Here bad_alloc
  // reaches main (exit 4) and a short read is an error.
  std::string text;
  if (!ec) text.reserve(static_cast<size_t>(size));
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
  }
  if (in.bad() || !in.eof()) return caps::make_error(path, "cannot read: i/o error");
  return text;
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

/// A --host value: a report file, or a directory standing for every *.toml in it, sorted by
/// name (so `--host hosts/` needs no shell glob, which would turn every report after the first
/// into a guest). Errors: the directory cannot be listed or holds no report.
struct ReportPath {
  std::string path;
  std::optional<caps::Error> error;
};

std::vector<ReportPath> expand_reports(const std::vector<std::string>& values) {
  std::vector<ReportPath> out;
  for (const std::string& value : values) {
    std::error_code ec;
    if (!std::filesystem::is_directory(value, ec)) {
      out.push_back({value, std::nullopt});
      continue;
    }
    std::vector<std::string> found;
    for (std::filesystem::directory_iterator it(value, ec), end; !ec && it != end;
         it.increment(ec)) {
      const std::filesystem::path& p = it->path();
      if (p.extension() == ".toml" && !p.filename().string().starts_with(".")) {
        found.push_back(p.string());
      }
    }
    if (ec) {
      out.push_back({value, caps::Error{value, "cannot list the directory: " + ec.message()}});
      continue;
    }
    if (found.empty()) {
      out.push_back({value, caps::Error{value, "directory holds no host report (*.toml)"}});
      continue;
    }
    std::sort(found.begin(), found.end());
    for (std::string& path : found) out.push_back({std::move(path), std::nullopt});
  }
  return out;
}

/// Every host the options name, in order: the --sysfs-root trees, then the --host reports;
/// with neither, the live host at "/".
std::vector<HostInput> load_hosts(const HostOptions& options,
                                  const std::vector<ReportPath>& reports) {
  std::vector<HostInput> out;
  std::vector<std::string> roots = options.sysfs_roots;
  if (roots.empty() && options.reports.empty()) roots.push_back("/");
  for (const std::string& root : roots) out.push_back({root, read_tree(root, options.backend)});
  for (const ReportPath& report : reports) {
    if (report.error) {
      out.push_back({report.path, tl::unexpected(*report.error)});
    } else {
      out.push_back({report.path, load_report(report.path)});
    }
  }
  return out;
}

/// The trees the options read (for the --output check): the --sysfs-roots, or the live "/".
std::vector<std::string> trees(const HostOptions& options) {
  if (options.sysfs_roots.empty() && options.reports.empty()) return {"/"};
  return options.sysfs_roots;
}

/// Where --output goes, checked before any input is read: what it is (a regular file to
/// replace, a device, or refused) and that it is none of the inputs. A refusal is a usage
/// error (exit 2), printed here.
std::optional<tools::OutputTarget> check_output(const std::string& output,
                                                const std::vector<std::string>& files,
                                                const std::vector<std::string>& roots) {
  caps::Result<tools::OutputTarget> target = tools::classify_output(output);
  if (!target) {
    print_error(target.error().to_string());
    return std::nullopt;
  }
  if (std::string conflict = tools::output_conflict(*target, files, roots); !conflict.empty()) {
    print_error(conflict);
    return std::nullopt;
  }
  return *target;
}

/// Standard output, or the --output target opened; nullptr after saying why.
std::unique_ptr<tools::OutputFile> open_output(const std::optional<tools::OutputTarget>& target) {
  if (!target) return tools::OutputFile::standard_output();
  caps::Result<std::unique_ptr<tools::OutputFile>> out = tools::OutputFile::open(*target);
  if (!out) {
    print_error(out.error().to_string());
    return nullptr;
  }
  return std::move(*out);
}

/// Makes the output final; false after saying why.
bool commit(tools::OutputFile& out) {
  const caps::Result<void> done = out.commit();
  if (!done) print_error(done.error().to_string());
  return done.has_value();
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

/// Whether `text` is a host report (its schema line), which a guest parse would bury in
/// unknown-key errors: a shell glob after --host makes reports into guests.
bool looks_like_host_report(std::string_view text) {
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    line.remove_prefix(std::min(line.find_first_not_of(" \t"), line.size()));
    if (line.empty() || line.front() == '#') continue;
    return line.starts_with("schema") && line.find("\"iommu-probe/") != std::string_view::npos;
  }
  return false;
}

/// --qemu-version's release, or the newest the VMM rules cite when it is not given.
caps::Result<caps::QemuVersion> qemu_version(const std::string& value) {
  if (value.empty()) return caps::kNewestQemu;
  return caps::parse_qemu_version(value);
}

/// A guest in any syntax, told by its content: guest file, QEMU command line, libvirt domain.
tl::expected<caps::Guest, std::vector<caps::Error>> parse_any_guest(const std::string& text,
                                                                    const std::string& name,
                                                                    caps::QemuVersion version) {
  switch (caps::detect_guest_input(text)) {
    case caps::GuestInputKind::kQemu:
      return caps::parse_qemu_guest(text, name, version);
    case caps::GuestInputKind::kLibvirt:
      return caps::parse_libvirt_guest(text, name, version);
    case caps::GuestInputKind::kToml:
      break;
  }
  return caps::parse_guest(text, name);
}

/// `--qemu-args '...'` (its name in messages) or a guest file.
GuestInput load_guest(const std::string& path, caps::QemuVersion version, bool inline_args) {
  GuestInput in{inline_args ? "--qemu-args" : path, std::nullopt, {}};
  if (inline_args) {
    auto parsed = caps::parse_qemu_guest(path, "--qemu-args", version);
    if (parsed) in.guest = std::move(*parsed);
    if (!parsed) in.errors = std::move(parsed.error());
    return in;
  }
  caps::Result<std::string> text = read_text_file(path);
  if (!text) {
    in.errors.push_back(text.error());
    return in;
  }
  if (looks_like_host_report(*text)) {
    in.errors.push_back({path,
                         "a host report, not a guest: give each report its own --host, or "
                         "--host DIR for every *.toml in a directory"});
    return in;
  }
  auto parsed = parse_any_guest(*text, path, version);
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

/// Input errors said once each on stderr: a guest's once for that guest, a host's once per
/// run; the guest's are forgotten with the guest, so memory does not grow with the matrix.
class ErrorEcho {
 public:
  void add(const tools::CompatPair& pair) {
    if (pair.report.guest != guest_) {
      guest_ = pair.report.guest;
      guest_seen_.clear();
    }
    for (const caps::Error& e : pair.errors) {
      std::set<std::string>& seen = tools::is_host_error(pair, e) ? host_seen_ : guest_seen_;
      if (seen.insert(e.to_string()).second) print_error(e.to_string());
    }
  }

 private:
  std::string guest_;
  std::set<std::string> guest_seen_;
  std::set<std::string> host_seen_;
};

/// --together: the guests as one deployment on `host` (docs/rules.md, "Deployment rules");
/// bad-input, judging nothing, when the host or any guest could not be used.
tools::CompatDeployment run_deployment(const std::vector<GuestInput>& guests,
                                       const HostInput& host, bool passes) {
  tools::CompatDeployment out;
  std::vector<caps::Guest> parsed;
  for (const GuestInput& g : guests) {
    out.report.guests.push_back(g.name);
    if (g.guest) parsed.push_back(*g.guest);
    out.errors.insert(out.errors.end(), g.errors.begin(), g.errors.end());
  }
  if (!host.host) out.errors.push_back(host.host.error());
  if (!out.errors.empty()) {
    out.report.host = host.host ? host.host->root : host.name;
    out.report.verdict = caps::Verdict::kBadInput;
    return out;
  }
  out.report = caps::check_deployment(parsed, *host.host, {.passes = passes});
  return out;
}

int run_check(const CheckOptions& options) {
  if (std::string error = check_backend(options.hosts); !error.empty()) return usage_error(error);
  if (options.guests.empty() && options.qemu_args.empty()) {
    return usage_error("guests: at least one GUEST file or --qemu-args is required");
  }
  const caps::Result<caps::QemuVersion> version = qemu_version(options.qemu_version);
  if (!version) return usage_error(version.error().to_string());
  const std::vector<ReportPath> reports = expand_reports(options.hosts.reports);
  if (options.together && options.hosts.sysfs_roots.size() + reports.size() > 1) {
    return usage_error("--together checks the guests on one host: give one --host or --sysfs-root");
  }
  std::optional<tools::OutputTarget> target;
  if (!options.output.empty()) {
    std::vector<std::string> files = options.guests;
    for (const ReportPath& r : reports) files.push_back(r.path);
    target = check_output(options.output, files, trees(options.hosts));
    if (!target) return kExitBadInput;
  }
  const std::unique_ptr<tools::OutputFile> out = open_output(target);
  if (!out) return kExitWriteFailed;

  const std::vector<HostInput> hosts = load_hosts(options.hosts, reports);
  // Text (unless asked) and GitHub annotations show no passing finding, so none is built.
  const bool passes_shown =
      options.format == "json" || options.format == "junit" || options.show_passes;
  // The text report on the terminal shows input errors already; elsewhere say them on stderr
  // too, so a CI log shows why a run was bad-input.
  const bool echo_errors = options.format != "text" || !options.output.empty();
  ErrorEcho echo;
  const std::unique_ptr<tools::CompatFormatter> formatter = tools::make_compat_formatter(
      options.format, out->stream(), {.show_passes = options.show_passes});
  caps::Verdict overall = caps::Verdict::kCompatible;
  // One guest at a time and each pair formatted as soon as it is checked: a matrix of
  // thousands of guests needs the memory of one pair, not of all.
  std::vector<std::pair<std::string, bool>> guests;  // (path or arguments, inline)
  for (const std::string& args : options.qemu_args) guests.emplace_back(args, true);
  for (const std::string& path : options.guests) guests.emplace_back(path, false);
  std::vector<GuestInput> deployment;  // --together only: every guest, kept for the end
  for (const auto& [path, inline_args] : guests) {
    const GuestInput guest = load_guest(path, *version, inline_args);
    if (options.together) deployment.push_back(guest);
    for (const HostInput& host : hosts) {
      const tools::CompatPair pair = run_pair(guest, host, {.passes = passes_shown});
      if (echo_errors) echo.add(pair);
      overall = tools::worse_verdict(overall, pair.report.verdict);
      formatter->add(pair);
    }
    if (!out->stream()) break;  // the output failed: commit says why, the rest is wasted
  }
  std::optional<caps::Verdict> together;
  if (options.together && out->stream()) {
    const tools::CompatDeployment d = run_deployment(deployment, hosts.front(), passes_shown);
    formatter->add_deployment(d);
    together = d.report.verdict;
  }
  formatter->finish();
  if (!commit(*out)) return kExitWriteFailed;
  return together ? tools::together_exit_code(overall, *together) : caps::exit_code(overall);
}

/// The suggestion as a guest file, QEMU options or libvirt domain, then comments naming the
/// hosts and what was left out (XML comments after the domain for libvirt).
std::string suggestion_text(const caps::Suggestion& suggestion,
                            const std::vector<caps::Host>& hosts, const std::string& format,
                            caps::QemuVersion version) {
  std::string out = format == "qemu"      ? caps::write_qemu_args(suggestion.guest, version) + "\n"
                    : format == "libvirt" ? caps::write_libvirt_iommu(suggestion.guest, version)
                                          : caps::write_guest(suggestion.guest);
  std::vector<std::string> lines = {"suggested by iommu-compat for:"};
  for (const caps::Host& host : hosts) lines.push_back("  " + tools::printable(host.root));
  if (!suggestion.notes.empty()) lines.push_back("left out or limited:");
  for (const caps::SuggestNote& note : suggestion.notes) {
    lines.push_back("  " + tools::printable(note.key) + ": " + tools::printable(note.reason));
  }
  out += "\n";
  for (const std::string& line : lines) {
    if (format != "libvirt") {
      out += "# " + line + "\n";
      continue;
    }
    std::string comment = line;  // "--" may not appear inside an XML comment
    for (size_t at = comment.find("--"); at != std::string::npos; at = comment.find("--", at))
      comment.replace(at, 2, "-\\-");
    out += "<!-- " + comment + " -->\n";
  }
  return out;
}

int run_suggest(const SuggestOptions& options) {
  if (std::string error = check_backend(options.hosts); !error.empty()) return usage_error(error);
  const std::vector<ReportPath> reports = expand_reports(options.hosts.reports);
  std::optional<tools::OutputTarget> target;
  if (!options.output.empty()) {
    std::vector<std::string> files;
    for (const ReportPath& r : reports) files.push_back(r.path);
    target = check_output(options.output, files, trees(options.hosts));
    if (!target) return kExitBadInput;
  }
  std::vector<caps::Host> hosts;
  bool bad = false;
  for (HostInput& input : load_hosts(options.hosts, reports)) {
    if (!input.host) {
      print_error(input.host.error().to_string());
      bad = true;
      continue;
    }
    hosts.push_back(std::move(*input.host));
  }
  if (bad) return kExitBadInput;
  const caps::Result<caps::QemuVersion> version = qemu_version(options.qemu_version);
  if (!version) return usage_error(version.error().to_string());
  const caps::Result<caps::Suggestion> suggestion = caps::suggest_guest(options.model, hosts);
  if (!suggestion) {
    print_error(suggestion.error().to_string());
    return kExitNoGuest;
  }
  const std::unique_ptr<tools::OutputFile> out = open_output(target);
  if (!out) return kExitWriteFailed;
  out->stream() << suggestion_text(*suggestion, hosts, options.format, *version);
  if (!commit(*out)) return kExitWriteFailed;
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// migrate and baseline: a HOST argument is told by what it is, so one word names any host
// check takes: "/" the live host, a directory holding sys/ a tree, another directory every
// *.toml report in it (as --host DIR), a file a host report.

/// Whether `value` names a tree (the live root or a directory with sys/) rather than reports.
bool is_tree(const std::string& value) {
  std::error_code ec;
  if (std::filesystem::path(value).lexically_normal() == "/") return true;
  return std::filesystem::is_directory(std::filesystem::path(value) / "sys", ec);
}

/// The hosts one HOST word names (several for a directory of reports).
std::vector<HostInput> load_host_words(const std::vector<std::string>& words,
                                       const std::string& backend) {
  std::vector<HostInput> out;
  for (const std::string& word : words) {
    if (is_tree(word)) {
      out.push_back({word, read_tree(word, backend)});
      continue;
    }
    for (const ReportPath& report : expand_reports({word})) {
      if (report.error) {
        out.push_back({report.path, tl::unexpected(*report.error)});
      } else {
        out.push_back({report.path, load_report(report.path)});
      }
    }
  }
  return out;
}

/// The report files among HOST words (for the --output check), and the trees.
void split_host_words(const std::vector<std::string>& words, std::vector<std::string>& files,
                      std::vector<std::string>& roots) {
  for (const std::string& word : words) {
    if (is_tree(word)) {
      roots.push_back(word);
      continue;
    }
    for (const ReportPath& report : expand_reports({word})) files.push_back(report.path);
  }
}

std::string check_backend_words(const std::string& backend, const std::vector<std::string>& words) {
  for (const std::string& word : words) {
    if (!is_tree(word)) continue;
    if (std::string problem = tools::backend_problem(backend, word); !problem.empty()) {
      return problem;
    }
  }
  return {};
}

/// One host from --from or --to: exactly one, loaded; else the error to print.
caps::Result<caps::Host> load_one_host(const std::string& option, const std::string& word,
                                       const std::string& backend) {
  std::vector<HostInput> hosts = load_host_words({word}, backend);
  if (hosts.size() != 1) {
    return caps::make_error(word, option + " takes one host; this directory holds " +
                                      std::to_string(hosts.size()) + " reports");
  }
  return std::move(hosts.front().host);
}

/// Exit: the worst guest's target verdict (0 compatible, 1 incompatible, 3 undecided), 2 bad
/// input (a host or guest unusable), 4 the output could not be written.
int run_migrate(const MigrateOptions& options) {
  if (std::string error = check_backend_words(options.backend, {options.from, options.to});
      !error.empty()) {
    return usage_error(error);
  }
  const caps::Result<caps::QemuVersion> version = qemu_version(options.qemu_version);
  if (!version) return usage_error(version.error().to_string());
  std::optional<tools::OutputTarget> target;
  if (!options.output.empty()) {
    std::vector<std::string> files = options.guests;
    std::vector<std::string> roots;
    split_host_words({options.from, options.to}, files, roots);
    target = check_output(options.output, files, roots);
    if (!target) return kExitBadInput;
  }
  const std::unique_ptr<tools::OutputFile> out = open_output(target);
  if (!out) return kExitWriteFailed;
  const caps::Result<caps::Host> from = load_one_host("--from", options.from, options.backend);
  const caps::Result<caps::Host> to = load_one_host("--to", options.to, options.backend);
  // Errors go to stderr too (once each), so a CI log shows why a run was bad-input.
  if (!from) print_error(from.error().to_string());
  if (!to) print_error(to.error().to_string());
  std::vector<tools::MigratePair> pairs;
  for (const std::string& path : options.guests) {
    GuestInput guest = load_guest(path, *version, false);
    for (const caps::Error& e : guest.errors) print_error(e.to_string());
    tools::MigratePair pair{path, from ? from->root : options.from, to ? to->root : options.to,
                            std::nullopt, std::move(guest.errors)};
    if (!from) pair.errors.push_back(from.error());
    if (!to) pair.errors.push_back(to.error());
    if (guest.guest && from && to) pair.migration = caps::compare_migration(*guest.guest, *from, *to);
    pairs.push_back(std::move(pair));
  }
  caps::Verdict overall = caps::Verdict::kCompatible;
  for (const tools::MigratePair& pair : pairs) overall = tools::worse_verdict(overall, pair.verdict());
  if (options.format == "json") {
    tools::format_migrate_json(pairs, out->stream());
  } else {
    tools::format_migrate_text(pairs, out->stream());
  }
  if (!commit(*out)) return kExitWriteFailed;
  return caps::exit_code(overall);
}

/// The one model of every unit of `hosts`, or empty when they differ or none is known.
std::string common_model(const std::vector<caps::Host>& hosts) {
  std::string model;
  for (const caps::Host& host : hosts) {
    for (const caps::Unit& unit : host.units) {
      if (model.empty()) model = unit.model;
      if (unit.model != model) return {};
    }
  }
  const std::span<const std::string_view> known = caps::model_names();
  return std::find(known.begin(), known.end(), model) != known.end() ? model : std::string();
}

/// Exit: 0 printed, 1 a host has no IOMMU unit, 2 bad input (or no --model where the units'
/// models differ), 4 the output could not be written.
int run_baseline(const BaselineOptions& options) {
  if (std::string error = check_backend_words(options.backend, options.hosts); !error.empty()) {
    return usage_error(error);
  }
  std::optional<tools::OutputTarget> target;
  if (!options.output.empty()) {
    std::vector<std::string> files;
    std::vector<std::string> roots;
    split_host_words(options.hosts, files, roots);
    target = check_output(options.output, files, roots);
    if (!target) return kExitBadInput;
  }
  std::vector<caps::Host> hosts;
  bool bad = false;
  for (HostInput& input : load_host_words(options.hosts, options.backend)) {
    if (!input.host) {
      print_error(input.host.error().to_string());
      bad = true;
      continue;
    }
    hosts.push_back(std::move(*input.host));
  }
  if (bad) return kExitBadInput;
  std::string model = options.model;
  if (model.empty() && (model = common_model(hosts)).empty()) {
    return usage_error("--model: the hosts' units are not all of one known model; name it");
  }
  const caps::Result<caps::Baseline> baseline = caps::fleet_baseline(model, hosts);
  if (!baseline) {
    print_error(baseline.error().to_string());
    return kExitNoGuest;
  }
  const std::unique_ptr<tools::OutputFile> out = open_output(target);
  if (!out) return kExitWriteFailed;
  if (options.format == "json") {
    tools::format_baseline_json(*baseline, out->stream());
  } else {
    tools::format_baseline_text(*baseline, out->stream());
  }
  if (!commit(*out)) return kExitWriteFailed;
  return kExitOk;
}

/// Exit 1 when the output could not carry every fact of the input (each named on stderr).
int run_convert(const ConvertOptions& options) {
  const caps::Result<caps::QemuVersion> version = qemu_version(options.qemu_version);
  if (!version) return usage_error(version.error().to_string());
  std::optional<tools::OutputTarget> target;
  if (!options.output.empty() && !(target = check_output(options.output, {options.input}, {}))) {
    return kExitBadInput;
  }
  GuestInput in = load_guest(options.input, *version, false);
  for (const caps::Error& error : in.errors) print_error(error.to_string());
  if (!in.guest) return kExitBadInput;
  const tools::Conversion conversion = tools::convert_guest(*in.guest, options.to, *version);
  const std::unique_ptr<tools::OutputFile> out = open_output(target);
  if (!out) return kExitWriteFailed;
  out->stream() << conversion.text;
  if (!commit(*out)) return kExitWriteFailed;
  for (const std::string& loss : conversion.losses) {
    std::cerr << "iommu-compat: warning: " << tools::printable_message(options.input + ": " + loss)
              << '\n';
  }
  return conversion.losses.empty() ? kExitOk : kExitNoGuest;
}

void add_host_options(CLI::App& app, HostOptions& options) {
  app.add_option("--sysfs-root", options.sysfs_roots,
                 "A host: directory holding sys/ and proc/ (repeatable; default: the live host /)")
      ->type_name("DIR")
      ->take_all()
      ->allow_extra_args(false);
  // One value per --host (allow_extra_args(false); CLI11 2.1's expected(1) would also forbid
  // repeating the flag): the words after it are guests.
  app.add_option("--host", options.reports,
                 "A host: report written by iommu-probe --format toml, or a directory of them "
                 "(every *.toml in it); one per --host, repeatable")
      ->type_name("REPORT.toml|DIR")
      ->take_all()
      ->allow_extra_args(false);
  app.add_option("--backend", options.backend,
                 "How to read trees. auto: udev for the root /, else dir; udev needs the root /")
      ->check(CLI::IsMember({"auto", "dir", "udev"}))
      ->capture_default_str();
}

/// A usage error for a first argument that is neither an option nor a subcommand (CLI11 would
/// only say a subcommand is required), else empty.
std::string unknown_subcommand(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return {};
  const std::string_view word = argv[1];
  for (std::string_view name : kSubcommands) {
    if (word == name) return {};
  }
  std::string message = "unknown subcommand '" + tools::printable(word) + "'";
  // The library's did-you-mean, so a subcommand typo is judged like a key typo.
  if (auto near = caps::nearest(word, kSubcommands)) {
    message += " (did you mean '" + std::string(*near) + "'?)";
  }
  return message;
}

int run(int argc, char** argv) {
  CLI::App app{"Checks guest vIOMMU descriptions against hosts' IOMMUs.", "iommu-compat"};
  app.set_version_flag("--version", std::string(tools::version()));
  tools::add_list_options_flag(app);
  app.require_subcommand(1);

  CheckOptions check;
  CLI::App* check_cmd = app.add_subcommand(
      "check",
      "Check every GUEST against every host. Exit: 0 compatible, 1 incompatible, 2 bad input, "
      "3 undecided, 4 the output could not be written or memory ran out, 5 (--together) the "
      "guests conflict; several pairs: the worst by bad-input > incompatible > undecided > "
      "compatible");
  add_host_options(*check_cmd, check.hosts);
  check_cmd->add_option("--format", check.format, "Output format")
      ->check(CLI::IsMember({"text", "json", "junit", "github"}))
      ->capture_default_str();
  check_cmd
      ->add_option("--output", check.output,
                   "Write to FILE instead of stdout: a regular file is replaced atomically, "
                   "a device or FIFO written in place")
      ->type_name("FILE");
  check_cmd->add_flag("--show-passes", check.show_passes, "Text: list passing findings too");
  check_cmd->add_flag("--together", check.together,
                      "Also check the guests as one deployment on the one host: a group or "
                      "device in two guests, PASIDs over a unit's space. Exit 5: each guest "
                      "fits alone, not together");
  check_cmd
      ->add_option("--qemu-args", check.qemu_args,
                   "A QEMU command line to check, shell-quoted in one argument (repeatable)")
      ->type_name("'ARGS'")
      ->allow_extra_args(false);
  check_cmd
      ->add_option("--qemu-version", check.qemu_version,
                   "The QEMU release the VMM rules judge by (default: 11.0, the newest cited)")
      ->type_name("X.Y");
  check_cmd
      ->add_option("guests", check.guests,
                   "Guests: guest files (TOML), QEMU command lines (one argument a line, or "
                   "shell-quoted) or libvirt domain XML, told apart by their content")
      ->type_name("GUEST");

  SuggestOptions suggest;
  CLI::App* suggest_cmd = app.add_subcommand(
      "suggest",
      "Print the most capable guest of MODEL that every host supports. Exit: 0 printed, "
      "1 a host has no IOMMU unit, 2 bad input, 4 the output could not be written");
  add_host_options(*suggest_cmd, suggest.hosts);
  suggest_cmd->add_option("--model", suggest.model, "The vIOMMU model")
      ->check(CLI::IsMember(
          std::vector<std::string>(caps::model_names().begin(), caps::model_names().end())))
      ->required();
  suggest_cmd
      ->add_option("--format", suggest.format,
                   "toml: a guest file; qemu: QEMU options; "
                   "libvirt: a domain with the <iommu>")
      ->check(CLI::IsMember({"toml", "qemu", "libvirt"}))
      ->capture_default_str();
  suggest_cmd
      ->add_option("--qemu-version", suggest.qemu_version,
                   "The QEMU release the options are for (default: 11.0)")
      ->type_name("X.Y");
  suggest_cmd
      ->add_option("--output", suggest.output, "Write to FILE (atomically) instead of stdout")
      ->type_name("FILE");

  ConvertOptions convert;
  CLI::App* convert_cmd = app.add_subcommand(
      "convert",
      "Write INPUT (guest file, QEMU command line or libvirt domain) in another syntax. Exit: "
      "0 every fact kept, 1 written but some facts could not be expressed (named on stderr), "
      "2 bad input, 4 the output could not be written");
  convert_cmd->add_option("--to", convert.to, "The syntax to write")
      ->check(CLI::IsMember({"toml", "qemu", "libvirt"}))
      ->required();
  convert_cmd
      ->add_option("--qemu-version", convert.qemu_version,
                   "The QEMU release to read and write for (default: 11.0)")
      ->type_name("X.Y");
  convert_cmd
      ->add_option("--output", convert.output, "Write to FILE (atomically) instead of stdout")
      ->type_name("FILE");
  convert_cmd->add_option("input", convert.input, "The guest to convert")
      ->type_name("INPUT")
      ->required();

  MigrateOptions migrate;
  CLI::App* migrate_cmd = app.add_subcommand(
      "migrate",
      "Will each GUEST, running on the --from host, also work on the --to host? Prints both "
      "verdicts and the blockers: what the guest relies on that the target lacks. HOST: the "
      "live host /, a tree holding sys/, or a host report. Exit: the worst target verdict "
      "(0 compatible, 1 incompatible, 3 undecided), 2 bad input, 4 the output could not be "
      "written");
  migrate_cmd->add_option("--from", migrate.from, "The host the guest runs on")
      ->type_name("HOST")
      ->required();
  migrate_cmd->add_option("--to", migrate.to, "The host it would move to")
      ->type_name("HOST")
      ->required();
  migrate_cmd->add_option("--format", migrate.format, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  migrate_cmd
      ->add_option("--backend", migrate.backend,
                   "How to read trees. auto: udev for the root /, else dir; udev needs the root /")
      ->check(CLI::IsMember({"auto", "dir", "udev"}))
      ->capture_default_str();
  migrate_cmd
      ->add_option("--qemu-version", migrate.qemu_version,
                   "The QEMU release the VMM rules judge by (default: 11.0, the newest cited)")
      ->type_name("X.Y");
  migrate_cmd
      ->add_option("--output", migrate.output, "Write to FILE (atomically) instead of stdout")
      ->type_name("FILE");
  migrate_cmd
      ->add_option("guests", migrate.guests,
                   "Guests: guest files (TOML), QEMU command lines or libvirt domain XML")
      ->type_name("GUEST")
      ->required();

  BaselineOptions baseline;
  CLI::App* baseline_cmd = app.add_subcommand(
      "baseline",
      "Print the most capable guest every HOST supports, and per host what it adds and what "
      "it holds the fleet back by. HOST: the live host /, a tree holding sys/, a host report or "
      "a directory of them. Exit: 0 printed, 1 a host has no IOMMU unit, 2 bad input, 4 the "
      "output could not be written");
  baseline_cmd
      ->add_option("--model", baseline.model,
                   "The vIOMMU model (default: the model of every unit, when they agree)")
      ->check(CLI::IsMember(
          std::vector<std::string>(caps::model_names().begin(), caps::model_names().end())));
  baseline_cmd
      ->add_option("--format", baseline.format,
                   "text: a guest file with the per-host comparison in comments; json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  baseline_cmd
      ->add_option("--backend", baseline.backend,
                   "How to read trees. auto: udev for the root /, else dir; udev needs the root /")
      ->check(CLI::IsMember({"auto", "dir", "udev"}))
      ->capture_default_str();
  baseline_cmd
      ->add_option("--output", baseline.output, "Write to FILE (atomically) instead of stdout")
      ->type_name("FILE");
  baseline_cmd->add_option("hosts", baseline.hosts, "The fleet's hosts")
      ->type_name("HOST")
      ->required();

  if (std::string problem = unknown_subcommand(argc, argv); !problem.empty()) {
    return usage_error(problem);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    return usage_error(e.what());
  }
  if (check_cmd->parsed()) return run_check(check);
  if (convert_cmd->parsed()) return run_convert(convert);
  if (migrate_cmd->parsed()) return run_migrate(migrate);
  if (baseline_cmd->parsed()) return run_baseline(baseline);
  return run_suggest(suggest);
}

}  // namespace

// Exceptions stop here: an allocation that fails anywhere (a formatter's string, a guest's
// findings) ends the run with a message and exit 4.
int main(int argc, char** argv) {
  return tools::run_main(kTool, run, argc, argv, kExitWriteFailed);
}
