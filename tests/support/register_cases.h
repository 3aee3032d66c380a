// SPDX-License-Identifier: MIT
// Shared by the decoder tests: a register test case and the whole-table coverage check.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "libcaps/decode.h"

namespace caps::testing {

/// A raw value and everything decode() must say about it.
struct RegCase {
  const char* what;
  uint64_t raw;
  std::vector<Field> fields;  // every field, table (bit) order
  uint64_t reserved;
};

/// Checks a whole table: no field overlaps another or the reserved mask, and together they
/// cover all 64 bits; fields are in bit order.
inline void expect_covers_all_bits(const RegisterSpec& spec) {
  uint64_t seen = spec.reserved_mask;
  unsigned last_lo = 0;
  for (const FieldSpec& f : spec.fields) {
    ASSERT_LE(f.lo, f.hi) << f.name;
    ASSERT_LE(f.hi, 63u) << f.name;
    EXPECT_GE(f.lo, last_lo) << f.name << " out of bit order";
    last_lo = f.lo;
    for (unsigned b = f.lo; b <= f.hi; ++b) {
      EXPECT_EQ(seen & (uint64_t{1} << b), 0u) << f.name << " overlaps at bit " << b;
      seen |= uint64_t{1} << b;
    }
  }
  EXPECT_EQ(seen, UINT64_MAX) << spec.name;
}

}  // namespace caps::testing
