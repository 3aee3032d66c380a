// SPDX-License-Identifier: MIT
// format_compat_github: GitHub Actions workflow commands (::error / ::warning annotations).
#include <set>
#include <string>

#include "iommu-compat/compat_format.h"

namespace tools {
namespace {

/// "file=F,line=L,col=C,title=T", leaving out what is unknown.
std::string properties(const std::string& file, caps::SourcePos pos, const std::string& title) {
  std::string out;
  auto add = [&](std::string_view name, const std::string& value) {
    if (!out.empty()) out += ",";
    out += std::string(name) + "=" + github_escape_property(value);
  };
  if (!file.empty()) add("file", file);
  if (!file.empty() && pos.line > 0) add("line", std::to_string(pos.line));
  if (!file.empty() && pos.line > 0 && pos.column > 0) add("col", std::to_string(pos.column));
  add("title", title);
  return out;
}

std::string command(std::string_view level, const std::string& file, caps::SourcePos pos,
                    const std::string& title, const std::string& message) {
  return "::" + std::string(level) + " " + properties(file, pos, title) +
         "::" + github_escape_data(message);
}

}  // namespace

std::string github_escape_data(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '%':
        out += "%25";
        break;
      case '\r':
        out += "%0D";
        break;
      case '\n':
        out += "%0A";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string github_escape_property(std::string_view text) {
  std::string out;
  for (char c : github_escape_data(text)) {
    switch (c) {
      case ':':
        out += "%3A";
        break;
      case ',':
        out += "%2C";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

class GithubFormatter : public CompatFormatter {
 public:
  explicit GithubFormatter(std::ostream& out) : out_(out) {}
  void add(const CompatPair& pair) override {
    const caps::Report& r = pair.report;
    if (r.guest != guest_) {
      guest_ = r.guest;
      guest_errors_.clear();
    }
    for (const caps::Error& e : pair.errors) {
      const std::string line = command("error", e.where, e.pos, "bad-input", e.message);
      std::set<std::string>& seen = is_host_error(pair, e) ? host_errors_ : guest_errors_;
      if (seen.insert(line).second) out_ << line << '\n';
    }
    for (const caps::Finding& f : r.findings) {
      if (f.outcome == caps::Outcome::kPass) continue;
      const std::string_view level = f.outcome == caps::Outcome::kFail ? "error" : "warning";
      // The host leads the message: one guest line gets an annotation per host it fails on.
      std::string message = "on " + r.host + ": " + f.message;
      if (!f.hint.empty()) message += " (hint: " + f.hint + ")";
      out_ << command(level, r.guest, f.pos, f.rule, message) << '\n';
    }
    out_ << "iommu-compat: " << github_escape_data(r.guest) << " on " << github_escape_data(r.host)
         << ": " << caps::to_string(r.verdict) << '\n';
  }
  /// One annotation per deployment finding that did not pass, at the last guest it names
  /// (the one refused, or the one that overflows); the message names all of them.
  void add_deployment(const CompatDeployment& d) override {
    const caps::DeploymentReport& r = d.report;
    // d.errors are the pairs' input errors, annotated with the pairs already.
    for (const caps::DeploymentFinding& f : r.findings) {
      if (f.outcome == caps::Outcome::kPass) continue;
      const std::string_view level = f.outcome == caps::Outcome::kFail ? "error" : "warning";
      std::string message = "deployment on " + r.host + ": " + f.message;
      if (!f.hint.empty()) message += " (hint: " + f.hint + ")";
      const caps::DeploymentPlace at = f.places.empty() ? caps::DeploymentPlace{} : f.places.back();
      out_ << command(level, at.guest, at.pos, f.rule, message) << '\n';
    }
    out_ << "iommu-compat: deployment of " << r.guests.size() << " guests on "
         << github_escape_data(r.host) << ": " << caps::to_string(r.verdict) << '\n';
  }
  void finish() override {}

 private:
  std::ostream& out_;
  // Errors already annotated: a guest's (its parse errors once, not once per host) and the
  // hosts' (a broken report once per run); the guest's are forgotten with the guest, so
  // memory does not grow with the matrix.
  std::string guest_;
  std::set<std::string> guest_errors_;
  std::set<std::string> host_errors_;
};

}  // namespace

std::unique_ptr<CompatFormatter> make_compat_github_formatter(std::ostream& out) {
  return std::make_unique<GithubFormatter>(out);
}

void format_compat_github(const std::vector<CompatPair>& pairs, std::ostream& out) {
  GithubFormatter f(out);
  for (const CompatPair& pair : pairs) f.add(pair);
  f.finish();
}

}  // namespace tools
