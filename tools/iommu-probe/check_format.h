// SPDX-License-Identifier: MIT
// iommu-probe --check output: one line per readiness check (text, optionally coloured) or JSON.
#pragma once

#include <optional>
#include <ostream>
#include <string_view>
#include <vector>

#include "libcaps/model.h"
#include "libcaps/readiness.h"

namespace tools {

struct CheckTextOptions {
  bool color = false;  // ANSI colours on the status word
  bool quiet = false;  // only WARN and FAIL lines, no summary
};

/// "IOMMU enabled by the kernel ...: PASS (detail)", then "    hint: ..." under every WARN and
/// FAIL; then the posture findings (caps::check_posture) in the same form; then a summary line
/// naming the host (not with quiet).
void format_check_text(const caps::Host& host, const std::vector<caps::ReadinessCheck>& checks,
                       const std::vector<caps::ReadinessCheck>& findings, std::ostream& out,
                       const CheckTextOptions& options = {});

/// The same as a JSON document, schema "iommu-probe-check/1": every check, whatever quiet, and
/// the posture findings; its status is the worst of both.
void format_check_json(const caps::Host& host, const std::vector<caps::ReadinessCheck>& checks,
                       const std::vector<caps::ReadinessCheck>& findings, std::ostream& out);

/// Whether to colour: "always" and "never" say; "auto" colours a terminal unless NO_COLOR is
/// set and not empty (no-color.org) or TERM is "dumb". nullopt for any other mode.
std::optional<bool> decide_color(std::string_view mode, bool is_terminal, const char* no_color,
                                 const char* term);

/// The exit status of a --check run: 0 every check passed, 3 the worst is a warning, 1 a
/// check failed.
int check_exit_code(caps::CheckStatus worst);

}  // namespace tools
