// SPDX-License-Identifier: MIT
// suggest_guest(): the intersection of every unit of every host, written as a guest that
// check() cannot find incompatible there. Unknown facts are left out and noted, never guessed.
#include "libcaps/suggest.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "model_table.h"

namespace caps {
namespace {

/// One unit and the host it belongs to.
struct HostUnit {
  const Host* host;
  const Unit* unit;
};

/// "dmar1, dmar2 on hosts/a; ivhd0 on hosts/b": units grouped by host, in the order given.
std::string describe(const std::vector<HostUnit>& units) {
  std::string out;
  const Host* current = nullptr;
  for (const HostUnit& hu : units) {
    if (hu.host != current) {
      if (current) out += " on " + current->root + "; ";
      current = hu.host;
    } else {
      out += ", ";
    }
    out += hu.unit->name;
  }
  if (current) out += " on " + current->root;
  return out;
}

/// The units for which `pred` holds.
template <class Pred>
std::vector<HostUnit> units_where(const std::vector<HostUnit>& units, Pred pred) {
  std::vector<HostUnit> out;
  for (const HostUnit& hu : units) {
    if (pred(*hu.unit)) out.push_back(hu);
  }
  return out;
}

class Builder {
 public:
  Builder(const ModelInfo& info, std::vector<HostUnit> units)
      : info_(info), model_(info.name), units_(std::move(units)) {
    suggestion_.guest.format = 1;
    suggestion_.guest.viommu.model.value = model_;
  }

  Suggestion build() && {
    GuestViommu& v = suggestion_.guest.viommu;
    v.input_bits = width("input_bits", &Caps::input_bits, 0);
    v.output_bits = width("output_bits", &Caps::output_bits, 0);
    v.asid_bits = width("asid_bits", &Caps::asid_bits, 0);
    v.ssid_bits = width("ssid_bits", &Caps::ssid_bits, kPciePasidBits);
    v.httu = httu();
    if (info_.stall_and_btm) {
      v.stall = stall();
      v.btm = feature("btm", &Caps::btm);
    }
    v.pgtable_format = pgtable_format();
    v.nested = nested();
    v.ats = feature("ats", &Caps::ats);
    v.page_requests = feature("page_requests", &Caps::page_requests);
    v.dirty_tracking = feature("dirty_tracking", &Caps::dirty_tracking);
    return std::move(suggestion_);
  }

 private:
  void note(std::string key, std::string reason) {
    suggestion_.notes.push_back({std::move(key), std::move(reason)});
  }

  /// Notes `key` as unknown when some unit does not know `property`; true if all know it.
  template <class T>
  bool all_known(const std::string& key, std::optional<T> Caps::*property) {
    auto unknown = units_where(units_, [&](const Unit& u) { return !(u.caps.*property); });
    if (unknown.empty()) return true;
    note(key, "unknown on " + describe(unknown));
    return false;
  }

  /// The smallest width over all units; `cap` > 0 also bounds it (the PCIe PASID limit).
  std::optional<Located<int>> width(const std::string& key, std::optional<int> Caps::*property,
                                    int cap) {
    if (!all_known(key, property)) return std::nullopt;
    int least = *(units_.front().unit->caps.*property);
    for (const HostUnit& hu : units_) least = std::min(least, *(hu.unit->caps.*property));
    if (least <= 0) {
      auto none = units_where(units_, [&](const Unit& u) { return *(u.caps.*property) <= 0; });
      note(key, "none on " + describe(none));
      return std::nullopt;
    }
    if (cap > 0 && least > cap) {
      note(key, "limited to " + std::to_string(cap) + " (the PCIe PASID width); the units have " +
                    std::to_string(least) + " or more");
      least = cap;
    }
    return Located<int>{least, {}};
  }

  std::optional<Located<Httu>> httu() {
    if (!all_known("httu", &Caps::httu)) return std::nullopt;
    Httu least = Httu::kAccessDirty;
    for (const HostUnit& hu : units_) least = std::min(least, *hu.unit->caps.httu);
    if (least == Httu::kNone) {
      note("httu", "none on " + describe(units_where(units_, [](const Unit& u) {
                     return *u.caps.httu == Httu::kNone;
                   })));
      return std::nullopt;
    }
    return Located<Httu>{least, {}};
  }

  /// `disabled` if a unit has no stall support, else `enabled`. No value fits a mix of units
  /// that force stalls and units without stall support.
  std::optional<Located<Stall>> stall() {
    if (!all_known("stall", &Caps::stall)) return std::nullopt;
    auto with = [&](Stall s) {
      return units_where(units_, [&](const Unit& u) { return *u.caps.stall == s; });
    };
    const std::vector<HostUnit> disabled = with(Stall::kDisabled);
    const std::vector<HostUnit> force = with(Stall::kForce);
    if (!disabled.empty() && !force.empty()) {
      note("stall", "no value fits both " + describe(force) + " (force) and " + describe(disabled) +
                        " (disabled)");
      return std::nullopt;
    }
    return Located<Stall>{disabled.empty() ? Stall::kEnabled : Stall::kDisabled, {}};
  }

  /// `true` when every unit has the feature; left out otherwise.
  std::optional<Located<bool>> feature(const std::string& key,
                                       std::optional<bool> Caps::*property) {
    auto without = units_where(units_, [&](const Unit& u) {
      const std::optional<bool>& have = u.caps.*property;
      return have && !*have;
    });
    if (!without.empty()) {
      note(key, "not supported by " + describe(without));
      return std::nullopt;
    }
    if (!all_known(key, property)) return std::nullopt;
    return Located<bool>{true, {}};
  }

  std::optional<Located<bool>> nested() {
    if (info_.paravirtual) {
      note("nested", model_ + " has no hardware nesting");
      return std::nullopt;
    }
    auto other = units_where(units_, [&](const Unit& u) { return u.model != model_; });
    if (!other.empty()) {
      note("nested",
           "hardware nesting needs every unit to be " + model_ + ", not " + describe(other));
      return std::nullopt;
    }
    return feature("nested", &Caps::nested);
  }

  std::optional<Located<std::string>> pgtable_format() {
    if (info_.paravirtual) {
      note("pgtable_format", model_ + " shares no page tables with the host");
      return std::nullopt;
    }
    if (!all_known("pgtable_format", &Caps::pgtable_formats)) return std::nullopt;
    std::set<std::string> common(units_.front().unit->caps.pgtable_formats->begin(),
                                 units_.front().unit->caps.pgtable_formats->end());
    for (const HostUnit& hu : units_) {
      const std::vector<std::string>& have = *hu.unit->caps.pgtable_formats;
      std::erase_if(common, [&](const std::string& f) {
        return std::find(have.begin(), have.end(), f) == have.end();
      });
    }
    std::vector<std::string> candidates;
    for (const std::string& f : common) {
      if (in_pgtable_family(info_, f)) candidates.push_back(f);
    }
    if (candidates.empty()) {
      note("pgtable_format", common.empty() ? "no page-table format is common to every unit"
                                            : "no " + model_ +
                                                  " page-table format is common to "
                                                  "every unit");
      return std::nullopt;
    }
    std::sort(candidates.begin(), candidates.end(),
              [&](const std::string& a, const std::string& b) { return preferred(a, b); });
    return Located<std::string>{candidates.front(), {}};
  }

  /// Tables a guest builds itself (stage 1: vtd-fs, amd-v2, lpae) come first, as with
  /// nesting the host walks them; then the wider format; then by name.
  bool preferred(const std::string& a, const std::string& b) const {
    const bool a_first = is_first_stage(a);
    const bool b_first = is_first_stage(b);
    if (a_first != b_first) return a_first;
    const int a_size = trailing_number(a);
    const int b_size = trailing_number(b);
    if (a_size != b_size) return a_size > b_size;
    return a < b;
  }

  bool is_first_stage(std::string_view format) const {
    return std::any_of(info_.first_stage_prefixes.begin(), info_.first_stage_prefixes.end(),
                       [&](std::string_view prefix) { return format.starts_with(prefix); });
  }

  /// 48 for "vtd-fs-48", 6 for "amd-v1-6L", 0 when there is none.
  static int trailing_number(std::string_view format) {
    if (!format.empty() && format.back() == 'L') format.remove_suffix(1);
    size_t start = format.size();
    while (start > 0 && std::isdigit(static_cast<unsigned char>(format[start - 1]))) --start;
    int value = 0;
    std::from_chars(format.data() + start, format.data() + format.size(), value);
    return value;
  }

  const ModelInfo& info_;
  std::string model_;
  std::vector<HostUnit> units_;
  Suggestion suggestion_;
};

}  // namespace

Result<Suggestion> suggest_guest(std::string_view model, const std::vector<Host>& hosts) {
  const ModelInfo* info = find_model(model);
  if (info == nullptr) {
    return make_error("model", "unknown vIOMMU model \"" + std::string(model) + "\" (use " +
                                   model_list(" or ") + ")");
  }
  if (hosts.empty()) return make_error("", "no host to suggest a guest for");
  std::vector<HostUnit> units;
  for (const Host& host : hosts) {
    if (host.units.empty()) {
      return make_error(host.root, "no IOMMU unit: no vIOMMU can run on this host");
    }
    for (const Unit& unit : host.units) units.push_back({&host, &unit});
  }
  return Builder(*info, std::move(units)).build();
}

}  // namespace caps
