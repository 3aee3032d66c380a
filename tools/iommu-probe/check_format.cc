// SPDX-License-Identifier: MIT
// iommu-probe --check output in text and JSON.
#include "iommu-probe/check_format.h"

#include <algorithm>
#include <string>

#include "common/json_writer.h"
#include "common/terminal_text.h"

namespace tools {
namespace {

/// Width of the title column, so the status words line up as virt-host-validate's do.
constexpr size_t kTitleWidth = 32;

std::string_view status_word(caps::CheckStatus status) {
  switch (status) {
    case caps::CheckStatus::kPass:
      return "PASS";
    case caps::CheckStatus::kWarn:
      return "WARN";
    case caps::CheckStatus::kFail:
      return "FAIL";
  }
  return "FAIL";
}

std::string_view color_of(caps::CheckStatus status) {
  switch (status) {
    case caps::CheckStatus::kPass:
      return "\033[32m";  // green
    case caps::CheckStatus::kWarn:
      return "\033[33m";  // yellow
    case caps::CheckStatus::kFail:
      return "\033[31m";  // red
  }
  return "";
}

/// A JSON array of readiness lines (checks or posture findings).
void write_lines(JsonWriter& w, const std::vector<caps::ReadinessCheck>& lines) {
  w.begin_array();
  for (const caps::ReadinessCheck& check : lines) {
    w.begin_object();
    w.key("id");
    w.string(check.id);
    w.key("title");
    w.string(check.title);
    w.key("status");
    w.string(caps::to_string(check.status));
    w.key("detail");
    w.string(check.detail);
    w.key("hint");
    w.string(check.hint);
    w.end_object();
  }
  w.end_array();
}

}  // namespace

void format_check_text(const caps::Host& host, const std::vector<caps::ReadinessCheck>& checks,
                       const std::vector<caps::ReadinessCheck>& findings, std::ostream& out,
                       const CheckTextOptions& options) {
  size_t counts[3] = {0, 0, 0};
  auto line = [&](const caps::ReadinessCheck& check) {
    ++counts[static_cast<int>(check.status)];
    if (options.quiet && check.status == caps::CheckStatus::kPass) return;
    std::string title = check.title;
    if (title.size() < kTitleWidth) title.resize(kTitleWidth, ' ');
    out << title << ": ";
    if (options.color) out << color_of(check.status);
    out << status_word(check.status);
    if (options.color) out << "\033[0m";
    out << " (" << printable_message(check.detail) << ")\n";
    if (!check.hint.empty()) out << "    hint: " << printable_message(check.hint) << '\n';
  };
  for (const caps::ReadinessCheck& check : checks) line(check);
  for (const caps::ReadinessCheck& finding : findings) line(finding);
  if (options.quiet) return;
  out << printable(host.root) << ": " << counts[0] << " pass, " << counts[1] << " warn, "
      << counts[2] << " fail\n";
}

void format_check_json(const caps::Host& host, const std::vector<caps::ReadinessCheck>& checks,
                       const std::vector<caps::ReadinessCheck>& findings, std::ostream& out) {
  JsonWriter w(out);
  w.begin_object();
  w.key("schema");
  w.string("iommu-probe-check/1");
  w.key("host");
  w.begin_object(JsonStyle::kInline);
  w.key("root");
  w.string(host.root);
  w.key("backend");
  w.string(host.backend);
  w.end_object();
  w.key("status");
  w.string(caps::to_string(std::max(caps::worst_status(checks), caps::worst_status(findings))));
  w.key("checks");
  write_lines(w, checks);
  w.key("findings");
  write_lines(w, findings);
  w.end_object();
  w.finish();
}

std::optional<bool> decide_color(std::string_view mode, bool is_terminal, const char* no_color,
                                 const char* term) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  if (mode != "auto") return std::nullopt;
  if (no_color && *no_color) return false;
  if (term && std::string_view(term) == "dumb") return false;
  return is_terminal;
}

int check_exit_code(caps::CheckStatus worst) {
  switch (worst) {
    case caps::CheckStatus::kPass:
      return 0;
    case caps::CheckStatus::kWarn:
      return 3;
    case caps::CheckStatus::kFail:
      return 1;
  }
  return 1;
}

}  // namespace tools
