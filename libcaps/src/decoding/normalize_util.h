// SPDX-License-Identifier: MIT
// Shared by the vendor normalizers (decode_vtd.cc, decode_amd.cc): a decoded register viewed
// with its evidence prefix, and the small helpers that write evidence, warnings and extras.
#pragma once

#include <charconv>
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

/// One register value viewed through its field table, plus the prefix its fields carry in
/// evidence ("cap", "ecap", "efr"). Field values come from the raw value and the table, so a
/// Register built elsewhere (say, from a saved report) cannot lack a field the rules read.
struct Reg {
  std::string_view prefix;
  const RegisterSpec* spec;
  uint64_t raw;

  /// The field `name`'s value; a name the table does not define is a programming error
  /// (std::bad_optional_access, as Register::field(name).value()).
  uint64_t operator[](std::string_view name) const {
    for (const FieldSpec& f : spec->fields) {
      if (f.name == name) {
        const unsigned width = f.hi - f.lo + 1;
        const uint64_t mask = width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
        return (raw >> f.lo) & mask;
      }
    }
    return std::optional<uint64_t>().value();
  }
  bool on(std::string_view name) const { return (*this)[name] != 0; }
  /// "ecap.PSS=19"
  std::string show(std::string_view name) const {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, (*this)[name]).ptr;
    std::string out;
    out.reserve(prefix.size() + name.size() + 2 + static_cast<std::size_t>(end - digits));
    out.append(prefix).append(1, '.').append(name).append(1, '=').append(digits, end);
    return out;
  }
};

inline std::optional<Reg> view(std::string_view prefix, const RegisterSpec& spec,
                               const Register* r) {
  if (r == nullptr) return std::nullopt;
  return Reg{prefix, &spec, r->raw};
}

inline std::string join(const Facts& facts) {
  std::size_t size = 0;
  for (const std::string& f : facts) size += f.size() + 2;
  std::string out;
  out.reserve(size);
  for (const std::string& f : facts) {
    if (!out.empty()) out += ", ";
    out += f;
  }
  return out;
}

/// "ecap.PSS=19, ecap.PASID=1 -> 20 PASID bits"
inline std::string because(const Facts& facts, std::string_view result) {
  std::string out = join(facts);
  out.reserve(out.size() + 4 + result.size());
  out.append(" -> ").append(result);
  return out;
}

inline std::string_view true_false(bool b) { return b ? "true" : "false"; }

inline void warn(Normalized& n, std::string message) {
  n.diagnostics.push_back(Diagnostic{"", Severity::kWarning, std::move(message)});
}

inline Scalar flag(bool b) { return Scalar{b}; }
inline Scalar number(uint64_t v) { return Scalar{static_cast<int64_t>(v)}; }

}  // namespace caps::normalize
