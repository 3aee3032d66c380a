// SPDX-License-Identifier: MIT
// Tests for libcaps/src/decoding/decode.cc: the generic table-driven decoder on small made-up
// layouts.
#include "libcaps/decode.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace caps {
namespace {

// A made-up layout: a nibble, a bit, a field crossing the 32-bit boundary, the top nibble.
// Reserved: bits [7:5] and [59:40].
constexpr FieldSpec kToyFields[] = {
    {"LOW", 0, 3},
    {"BIT", 4, 4},
    {"MID", 30, 39},
    {"TOP", 60, 63},
};
constexpr uint64_t kToyReserved = 0x0fffff00000000e0;
constexpr RegisterSpec kToy{"TOY", kToyFields, kToyReserved};

struct Case {
  uint64_t raw;
  uint64_t low, bit, mid, top, reserved;
};

TEST(Decode, EveryFieldInTableOrderWithReservedBits) {
  const Case cases[] = {
      // 0: nothing set.
      {0, 0, 0, 0, 0, 0},
      // All ones: LOW=0xf, BIT=1, MID=10 bits=0x3ff, TOP=0xf, reserved = the whole mask.
      {UINT64_MAX, 0xf, 1, 0x3ff, 0xf, kToyReserved},
      // 0x1a: LOW = 0xa, BIT = bit 4 = 1.
      {0x1a, 0xa, 1, 0, 0, 0},
      // 0xc0000000 = bits 31,30 -> MID = 0b11 = 3.
      {0xc0000000, 0, 0, 3, 0, 0},
      // 0x80_0000_0000 = bit 39 -> MID bit 9 = 0x200.
      {0x8000000000, 0, 0, 0x200, 0, 0},
      // 0xa000000000000020: bits 63, 61 -> TOP = 0b1010 = 0xa; bit 5 is reserved.
      {0xa000000000000020, 0, 0, 0, 0xa, 0x20},
      // 0x10000000000 = bit 40, reserved.
      {0x10000000000, 0, 0, 0, 0, 0x10000000000},
  };
  for (const Case& c : cases) {
    const Register r = decode(kToy, c.raw);
    const Register want{
        "TOY", c.raw, {{"LOW", c.low}, {"BIT", c.bit}, {"MID", c.mid}, {"TOP", c.top}}, c.reserved};
    EXPECT_EQ(r, want) << std::hex << c.raw;
  }
}

TEST(Decode, FullWidthFieldKeepsAll64Bits) {
  constexpr FieldSpec kWhole[] = {{"WHOLE", 0, 63}};
  const Register r = decode(RegisterSpec{"W", kWhole, 0}, UINT64_MAX);
  ASSERT_EQ(r.fields.size(), 1u);
  EXPECT_EQ(r.fields[0].value, UINT64_MAX);
  EXPECT_EQ(r.reserved, 0u);
}

TEST(Decode, KeepsTableOrderEvenWhenNotSorted) {
  constexpr FieldSpec kBackwards[] = {{"HI", 8, 15}, {"LO", 0, 7}};
  const Register r = decode(RegisterSpec{"B", kBackwards, 0}, 0x1234);
  const Register want{"B", 0x1234, {{"HI", 0x12}, {"LO", 0x34}}, 0};
  EXPECT_EQ(r, want);
}

TEST(Decode, ReservedIsOnlyWhatIsSet) {
  // Mask 0xf0, raw 0x5a: reserved = 0x50.
  constexpr FieldSpec kLow[] = {{"L", 0, 3}};
  const Register r = decode(RegisterSpec{"R", kLow, 0xf0}, 0x5a);
  EXPECT_EQ(r.reserved, 0x50u);
  EXPECT_EQ(r.field("L"), 0xau);
  EXPECT_EQ(r.field("nope"), std::nullopt);
}

TEST(Decode, EmptyTable) {
  const Register r = decode(RegisterSpec{"NONE", {}, UINT64_MAX}, 0x42);
  EXPECT_TRUE(r.fields.empty());
  EXPECT_EQ(r.reserved, 0x42u);
  EXPECT_EQ(r.name, "NONE");
}

}  // namespace
}  // namespace caps
