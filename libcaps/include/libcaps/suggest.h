// SPDX-License-Identifier: MIT
// Suggesting a guest: the most capable vIOMMU of a given model that every given host supports
// (the intersection of all their units, like QEMU's "auto" values or libvirt's cpu-baseline).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "libcaps/guest.h"
#include "libcaps/model.h"
#include "libcaps/result.h"

namespace caps {

/// A guest key the suggestion leaves out (or limits), and why: "output_bits" with
/// "unknown on fake-sysfs/hosts/x (dmar0)". Keys are those of [viommu].
struct SuggestNote {
  std::string key;
  std::string reason;

  bool operator==(const SuggestNote&) const = default;
};

struct Suggestion {
  Guest guest;                     // positions are 0:0; file is empty
  std::vector<SuggestNote> notes;  // in [viommu] key order
};

/// The most capable guest of `model` that check() does not find incompatible on any of
/// `hosts`: every width is the minimum over all units of all hosts (ssid_bits also at most
/// 20, the PCIe limit), httu the lowest, each boolean feature set only when every unit has
/// it, `nested` only when every unit has it and is of `model`, pgtable_format one format of
/// the model's family that every unit lists. A fact unknown on any unit is left out, never
/// guessed, and named in a note. No [[device]], [pasid_table] or [pasid_alloc] is suggested.
/// Fails when the model is unknown, `hosts` is empty, or a host has no IOMMU unit (then no
/// vIOMMU can pass there).
Result<Suggestion> suggest_guest(std::string_view model, const std::vector<Host>& hosts);

/// The same over hosts held elsewhere (a fleet's subsets, without copying the hosts). A name of
/// its own, so that `suggest_guest(model, {})` stays unambiguous.
Result<Suggestion> suggest_guest_for(std::string_view model,
                                     const std::vector<const Host*>& hosts);

}  // namespace caps
