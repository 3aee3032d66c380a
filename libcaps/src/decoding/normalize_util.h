// SPDX-License-Identifier: MIT
// Shared by the vendor normalizers (decode_vtd.cc, decode_amd.cc): a decoded register viewed
// with its evidence prefix, and the small helpers that write evidence, warnings and extras.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libcaps/decode.h"

namespace caps::normalize {

/// Bits [hi:lo] set.
constexpr uint64_t bits(unsigned hi, unsigned lo) {
  const uint64_t upto_hi = hi >= 63 ? ~uint64_t{0} : (uint64_t{1} << (hi + 1)) - 1;
  return upto_hi & ~((uint64_t{1} << lo) - 1);
}

/// The register fields a value was derived from: "ecap.PSS=19".
using Facts = std::vector<std::string>;

/// One decoded register plus the prefix its fields carry in evidence ("cap", "ecap", "efr").
struct Reg {
  std::string_view prefix;
  Register reg;

  uint64_t operator[](std::string_view name) const { return reg.field(name).value(); }
  bool on(std::string_view name) const { return (*this)[name] != 0; }
  /// "ecap.PSS=19"
  std::string show(std::string_view name) const {
    return std::string(prefix) + "." + std::string(name) + "=" + std::to_string((*this)[name]);
  }
};

/// Re-decoded from raw, so a Register built elsewhere (say, from a saved report) cannot lack a
/// field the rules read.
inline std::optional<Reg> view(std::string_view prefix, const RegisterSpec& spec,
                               const Register* r) {
  if (r == nullptr) return std::nullopt;
  return Reg{prefix, decode(spec, r->raw)};
}

inline std::string join(const Facts& facts) {
  std::string out;
  for (const std::string& f : facts) out += (out.empty() ? "" : ", ") + f;
  return out;
}

/// "ecap.PSS=19, ecap.PASID=1 -> 20 PASID bits"
inline std::string because(const Facts& facts, std::string_view result) {
  return join(facts) + " -> " + std::string(result);
}

inline std::string_view true_false(bool b) { return b ? "true" : "false"; }

inline void warn(Normalized& n, std::string message) {
  n.diagnostics.push_back(Diagnostic{"", Severity::kWarning, std::move(message)});
}

inline Scalar flag(bool b) { return Scalar{b}; }
inline Scalar number(uint64_t v) { return Scalar{static_cast<int64_t>(v)}; }

}  // namespace caps::normalize
