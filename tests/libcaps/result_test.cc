// SPDX-License-Identifier: MIT
// Tests for Error's structured location: the file, line and column kept apart and written as
// a compiler would ("file:line:col"), leaving out what is not known.
#include "libcaps/result.h"

#include <gtest/gtest.h>

namespace caps {
namespace {

TEST(Location, LeavesOutWhatIsNotKnown) {
  EXPECT_EQ(location("g.toml", {5, 8}), "g.toml:5:8");
  EXPECT_EQ(location("g.toml", {5, 0}), "g.toml:5");
  EXPECT_EQ(location("g.toml", {}), "g.toml");
  EXPECT_EQ(location("g.toml", {0, 3}), "g.toml");  // a column without its line means nothing
  EXPECT_EQ(location("", {}), "");
}

TEST(Location, AFileNameMayHoldColonsAndDigits) {
  EXPECT_EQ(location("c:/x.toml", {12, 3}), "c:/x.toml:12:3");
  EXPECT_EQ(location("v:12", {}), "v:12");
  const Error e{"v:12", "cannot read", {}};
  EXPECT_EQ(e.where, "v:12");
  EXPECT_EQ(e.pos.line, 0);
}

TEST(ErrorToString, LocationThenMessage) {
  EXPECT_EQ((Error{"g.toml", "unknown key", {7, 1}}).to_string(), "g.toml:7:1: unknown key");
  EXPECT_EQ((Error{"r.toml", "no [end]", {40, 0}}).to_string(), "r.toml:40: no [end]");
  EXPECT_EQ((Error{"--output", "empty path"}).to_string(), "--output: empty path");
  EXPECT_EQ((Error{"", "no hex digits"}).to_string(), "no hex digits");
  EXPECT_EQ((Error{"g.toml", "unknown key", {7, 1}}).location(), "g.toml:7:1");
}

}  // namespace
}  // namespace caps
