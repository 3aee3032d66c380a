// SPDX-License-Identifier: MIT
// format_compat_text: findings as compiler-style lines, then a guest x host matrix.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/terminal_text.h"
#include "iommu-compat/compat_format.h"

namespace tools {
namespace {

void print_finding(const std::string& file, const caps::Finding& f, std::ostream& out) {
  out << printable(caps::location(file, f.pos)) << ": " << caps::to_string(f.outcome) << " ["
      << printable(f.rule) << "] " << printable_message(f.message) << '\n';
  if (!f.evidence.empty()) out << "    evidence: " << printable(f.evidence) << '\n';
  if (!f.hint.empty()) out << "    hint: " << printable(f.hint) << '\n';
}

/// `text` split at every occurrence of `unit`: texts that differ only in the unit they name
/// split into the same pieces.
std::vector<std::string_view> split_at(std::string_view text, std::string_view unit) {
  std::vector<std::string_view> pieces;
  size_t from = 0;
  for (size_t at = text.find(unit); at != std::string_view::npos; at = text.find(unit, from)) {
    pieces.push_back(text.substr(from, at - from));
    from = at + unit.size();
  }
  pieces.push_back(text.substr(from));
  return pieces;
}

/// True if `a` and `b` say the same thing of different units: same rule, outcome, place and
/// hint, and the same message and evidence once each names its own unit.
bool same_but_unit(const caps::Finding& a, const caps::Finding& b) {
  return !a.unit.empty() && !b.unit.empty() && a.unit != b.unit && a.rule == b.rule &&
         a.outcome == b.outcome && a.guest_key == b.guest_key && a.pos == b.pos &&
         a.hint == b.hint && split_at(a.message, a.unit) == split_at(b.message, b.unit) &&
         split_at(a.evidence, a.unit) == split_at(b.evidence, b.unit);
}

void print_pair(const CompatPair& pair, std::ostream& out, const CompatTextOptions& options) {
  const caps::Report& r = pair.report;
  out << printable(r.guest) << " on " << printable(r.host) << ": " << caps::to_string(r.verdict)
      << '\n';
  for (const caps::Error& e : pair.errors) {
    const std::string place = e.location();
    out << printable_message(place.empty() ? e.message : place + ": error: " + e.message) << '\n';
  }
  // A finding repeated for identical units (a two-socket server has a dozen) prints once,
  // with the other units on an "also on" line.
  const std::vector<caps::Finding>& findings = r.findings;
  for (size_t i = 0; i < findings.size();) {
    const caps::Finding& f = findings[i++];
    if (f.outcome == caps::Outcome::kPass && !options.show_passes) continue;
    print_finding(r.guest, f, out);
    std::vector<std::string> also;
    for (; i < findings.size() && same_but_unit(f, findings[i]); ++i) {
      also.push_back(printable(findings[i].unit));
    }
    if (also.empty()) continue;
    out << "    also on";
    for (size_t a = 0; a < also.size(); ++a) out << (a == 0 ? " " : ", ") << also[a];
    out << " (the same finding)\n";
  }
}

/// A deployment finding at its last place (the guest refused, or the one that overflows),
/// with the other guests' places on a "with" line.
void print_deployment_finding(const caps::DeploymentFinding& f, std::ostream& out) {
  auto where = [](const caps::DeploymentPlace& p) { return caps::location(p.guest, p.pos); };
  const std::string at = f.places.empty() ? std::string("deployment") : where(f.places.back());
  out << printable(at) << ": " << caps::to_string(f.outcome) << " [" << printable(f.rule) << "] "
      << printable_message(f.message) << '\n';
  if (!f.evidence.empty()) out << "    evidence: " << printable(f.evidence) << '\n';
  if (!f.hint.empty()) out << "    hint: " << printable(f.hint) << '\n';
  if (f.places.size() > 1) {
    out << "    with:";
    for (size_t i = 0; i + 1 < f.places.size(); ++i) {
      out << (i == 0 ? " " : ", ") << printable(where(f.places[i]));
    }
    out << '\n';
  }
}

std::string pad(std::string text, size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

/// Distinct names in order of first appearance, each with its index.
class Names {
 public:
  size_t index(const std::string& name) {
    auto [it, added] = index_.emplace(name, names_.size());
    if (added) names_.push_back(name);
    return it->second;
  }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
  std::map<std::string, size_t, std::less<>> index_;
};

/// Pairs printed as they come; for the closing matrix only each pair's verdict is kept.
class TextFormatter : public CompatFormatter {
 public:
  TextFormatter(std::ostream& out, const CompatTextOptions& options)
      : out_(out), options_(options) {}

  void add(const CompatPair& pair) override {
    if (count_++ > 0) out_ << '\n';
    print_pair(pair, out_, options_);
    const size_t guest = guests_.index(pair.report.guest);
    const size_t host = hosts_.index(pair.report.host);
    verdicts_.emplace(std::pair(guest, host), pair.report.verdict);  // the first pair wins
    overall_ = worse_verdict(overall_, pair.report.verdict);
  }

  void add_deployment(const CompatDeployment& d) override {
    const caps::DeploymentReport& r = d.report;
    if (count_ > 0) out_ << '\n';
    out_ << "deployment of " << r.guests.size() << (r.guests.size() == 1 ? " guest" : " guests")
         << " on " << printable(r.host) << ": " << caps::to_string(r.verdict) << '\n';
    for (const caps::Error& e : d.errors) {
      const std::string place = e.location();
      out_ << printable_message(place.empty() ? e.message : place + ": error: " + e.message)
           << '\n';
    }
    for (const caps::DeploymentFinding& f : r.findings) {
      if (f.outcome == caps::Outcome::kPass && !options_.show_passes) continue;
      print_deployment_finding(f, out_);
    }
    deployment_ = r.verdict;
  }

  void finish() override {
    if (count_ <= 1 && !deployment_) return;
    out_ << '\n';
    if (count_ > 1) print_matrix();
    if (deployment_) {
      out_ << "overall: " << caps::to_string(together_verdict(overall_, *deployment_))
           << " (exit " << together_exit_code(overall_, *deployment_)
           << "; pairs: " << caps::to_string(overall_)
           << ", deployment: " << caps::to_string(*deployment_) << ")\n";
    }
  }

 private:
  /// Hosts are numbered columns with a legend: host names are paths, too long for headers.
  void print_matrix() {
    const std::vector<std::string>& guests = guests_.names();
    const std::vector<std::string>& hosts = hosts_.names();
    out_ << "matrix: " << guests.size() << (guests.size() == 1 ? " guest" : " guests") << " x "
         << hosts.size() << (hosts.size() == 1 ? " host" : " hosts") << '\n';
    for (size_t i = 0; i < hosts.size(); ++i) {
      out_ << "  [" << i + 1 << "] " << printable(hosts[i]) << '\n';
    }
    // Widths first, then the rows: the table is never held whole.
    std::vector<size_t> widths(hosts.size() + 1, std::string_view("guest").size());
    for (size_t h = 0; h < hosts.size(); ++h) {
      widths[h + 1] = std::to_string(h + 1).size() + 2;
    }
    for (size_t g = 0; g < guests.size(); ++g) {
      widths[0] = std::max(widths[0], printable(guests[g]).size());
      for (size_t h = 0; h < hosts.size(); ++h) {
        widths[h + 1] = std::max(widths[h + 1], cell(g, h).size());
      }
    }
    std::vector<std::string> row{"guest"};
    for (size_t h = 0; h < hosts.size(); ++h) row.push_back("[" + std::to_string(h + 1) + "]");
    print_row(row, widths);
    for (size_t g = 0; g < guests.size(); ++g) {
      row.assign(1, printable(guests[g]));
      for (size_t h = 0; h < hosts.size(); ++h) row.push_back(cell(g, h));
      print_row(row, widths);
    }
    if (!deployment_) {
      out_ << "overall: " << caps::to_string(overall_) << " (exit " << caps::exit_code(overall_)
           << ")\n";
    }
  }

  std::string cell(size_t guest, size_t host) const {
    auto it = verdicts_.find({guest, host});
    return it == verdicts_.end() ? "-" : std::string(caps::to_string(it->second));
  }

  void print_row(const std::vector<std::string>& row, const std::vector<size_t>& widths) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += i + 1 == row.size() ? row[i] : pad(row[i], widths[i] + 2);
    }
    out_ << line << '\n';
  }

  std::ostream& out_;
  CompatTextOptions options_;
  size_t count_ = 0;
  Names guests_;
  Names hosts_;
  std::map<std::pair<size_t, size_t>, caps::Verdict> verdicts_;
  caps::Verdict overall_ = caps::Verdict::kCompatible;
  std::optional<caps::Verdict> deployment_;
};

}  // namespace

std::unique_ptr<CompatFormatter> make_compat_text_formatter(std::ostream& out,
                                                            const CompatTextOptions& options) {
  return std::make_unique<TextFormatter>(out, options);
}

void format_compat_text(const std::vector<CompatPair>& pairs, std::ostream& out,
                        const CompatTextOptions& options) {
  TextFormatter f(out, options);
  for (const CompatPair& pair : pairs) f.add(pair);
  f.finish();
}

}  // namespace tools
