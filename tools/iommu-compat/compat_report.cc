// SPDX-License-Identifier: MIT
// Helpers shared by iommu-compat's output formats.
#include "iommu-compat/compat_report.h"

#include <algorithm>
#include <charconv>

namespace tools {
namespace {

/// Larger is worse: the precedence of overall_verdict.
int severity(caps::Verdict verdict) {
  switch (verdict) {
    case caps::Verdict::kCompatible:
      return 0;
    case caps::Verdict::kUndecided:
      return 1;
    case caps::Verdict::kIncompatible:
      return 2;
    case caps::Verdict::kBadInput:
      return 3;
  }
  return 3;
}

/// The number after the last ':' of `text`, if it is all digits; `text` loses that suffix.
bool pop_number(std::string_view& text, int& value) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) return false;
  const std::string_view digits = text.substr(colon + 1);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) return false;
  text = text.substr(0, colon);
  return true;
}

}  // namespace

caps::Verdict worse_verdict(caps::Verdict a, caps::Verdict b) {
  return severity(b) > severity(a) ? b : a;
}

caps::Verdict overall_verdict(const std::vector<CompatPair>& pairs) {
  caps::Verdict worst = caps::Verdict::kCompatible;
  for (const CompatPair& pair : pairs) worst = worse_verdict(worst, pair.report.verdict);
  return worst;
}

bool is_host_error(const CompatPair& pair, const caps::Error& e) {
  return !pair.report.host.empty() && split_where(e.where).file == pair.report.host;
}

Place split_where(std::string_view where) {
  Place place;
  int last = 0;
  if (pop_number(where, last)) {
    int first = 0;
    if (pop_number(where, first)) {
      place.line = first;
      place.column = last;
    } else {
      place.line = last;
    }
  }
  place.file = std::string(where);
  return place;
}

Tally tally(const CompatPair& pair) {
  Tally t;
  for (const caps::Finding& f : pair.report.findings) {
    switch (f.outcome) {
      case caps::Outcome::kPass:
        ++t.pass;
        break;
      case caps::Outcome::kWarn:
        ++t.warn;
        break;
      case caps::Outcome::kFail:
        ++t.fail;
        break;
      case caps::Outcome::kUnknown:
        ++t.unknown;
        break;
    }
  }
  t.errors = static_cast<int>(pair.errors.size());
  return t;
}

}  // namespace tools
