// format_compat_text: findings as compiler-style lines, then a guest x host matrix.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/compat_format.h"
#include "common/probe_format_text.h"

namespace tools {
namespace {

/// "file:line:col", "file:line" or "file" for a finding's guest key.
std::string location(const std::string& file, const caps::SourcePos& pos) {
  std::string out = printable(file);
  if (pos.line > 0) out += ":" + std::to_string(pos.line);
  if (pos.line > 0 && pos.column > 0) out += ":" + std::to_string(pos.column);
  return out;
}

void print_finding(const std::string& file, const caps::Finding& f, std::ostream& out) {
  out << location(file, f.pos) << ": " << caps::to_string(f.outcome) << " [" << printable(f.rule)
      << "] " << printable_message(f.message) << '\n';
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
    out << printable_message(e.where.empty() ? e.message : e.where + ": error: " + e.message)
        << '\n';
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

/// Distinct values in order of first appearance.
std::vector<std::string> distinct(const std::vector<CompatPair>& pairs,
                                  std::string caps::Report::*field) {
  std::vector<std::string> out;
  std::set<std::string_view> seen;
  for (const CompatPair& pair : pairs) {
    const std::string& value = pair.report.*field;
    if (seen.insert(value).second) out.push_back(value);
  }
  return out;
}

std::string pad(std::string text, size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

/// Hosts are numbered columns with a legend: host names are paths, too long for headers.
void print_matrix(const std::vector<CompatPair>& pairs, std::ostream& out) {
  const std::vector<std::string> guests = distinct(pairs, &caps::Report::guest);
  const std::vector<std::string> hosts = distinct(pairs, &caps::Report::host);
  out << "matrix: " << guests.size() << (guests.size() == 1 ? " guest" : " guests") << " x "
      << hosts.size() << (hosts.size() == 1 ? " host" : " hosts") << '\n';
  for (size_t i = 0; i < hosts.size(); ++i) {
    out << "  [" << i + 1 << "] " << printable(hosts[i]) << '\n';
  }
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"guest"});
  for (size_t i = 0; i < hosts.size(); ++i) rows[0].push_back("[" + std::to_string(i + 1) + "]");
  using Cell = std::pair<std::string_view, std::string_view>;  // guest, host
  std::map<Cell, caps::Verdict> verdicts;
  for (const CompatPair& p : pairs) {
    verdicts.emplace(Cell(p.report.guest, p.report.host), p.report.verdict);
  }
  for (const std::string& guest : guests) {
    std::vector<std::string> row{printable(guest)};
    for (const std::string& host : hosts) {
      auto it = verdicts.find({guest, host});
      row.push_back(it == verdicts.end() ? "-" : std::string(caps::to_string(it->second)));
    }
    rows.push_back(std::move(row));
  }
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += i + 1 == row.size() ? row[i] : pad(row[i], widths[i] + 2);
    }
    out << line << '\n';
  }
  const caps::Verdict overall = overall_verdict(pairs);
  out << "overall: " << caps::to_string(overall) << " (exit " << caps::exit_code(overall) << ")\n";
}

}  // namespace

void format_compat_text(const std::vector<CompatPair>& pairs, std::ostream& out,
                        const CompatTextOptions& options) {
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i > 0) out << '\n';
    print_pair(pairs[i], out, options);
  }
  if (pairs.size() > 1) {
    out << '\n';
    print_matrix(pairs, out);
  }
}

}  // namespace tools
