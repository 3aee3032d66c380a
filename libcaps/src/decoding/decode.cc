// SPDX-License-Identifier: MIT
// The generic table-driven register decoder shared by every vendor's field tables.
#include "libcaps/decode.h"

namespace caps {
namespace {

// All ones in the low `width` bits; width 64 would overflow a plain shift.
constexpr uint64_t low_mask(unsigned width) {
  return width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
}

}  // namespace

Register decode(const RegisterSpec& spec, uint64_t raw) {
  Register reg;
  reg.name = std::string(spec.name);
  reg.raw = raw;
  reg.fields.reserve(spec.fields.size());
  for (const FieldSpec& f : spec.fields) {
    reg.fields.push_back(Field{std::string(f.name), (raw >> f.lo) & low_mask(f.hi - f.lo + 1)});
  }
  reg.reserved = raw & spec.reserved_mask;
  return reg;
}

}  // namespace caps
