// SPDX-License-Identifier: MIT
// The one did-you-mean of the suite, for unknown keys and values of guest files and host
// reports and for the tools' subcommands alike: optimal string alignment distance with one
// threshold.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace caps {

/// Optimal string alignment distance: Levenshtein plus adjacent transpositions, so the typo
/// `bfd` is one edit from `bdf`.
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The known word nearest to `word` when it is close enough to be a typo of it: one edit for
/// words of up to 3 characters, two up to 9, three beyond; nothing when none is that close.
/// Ties go to the earlier known word. Words longer than 64 bytes are never typos (this also
/// bounds the work on hostile keys).
std::optional<std::string_view> nearest(std::string_view word,
                                        std::span<const std::string_view> known);

}  // namespace caps
