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

#include "check_rules.h"
#include "libcaps/caps_properties.h"
#include "model/model_table.h"

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

  /// Every property a guest can set, merged as its row of kCapsProperties says.
  Suggestion build() && {
    GuestViommu& v = suggestion_.guest.viommu;
    for_each_caps_property([&](const auto& property) {
      if (property.guest == nullptr) return;
      if (!property.only_model.empty() && model_ != property.only_model) return;
      v.*property.guest = merged(property);
    });
    return std::move(suggestion_);
  }

 private:
  std::optional<Located<int>> merged(const CapsProperty<int>& p) {
    return width(std::string(p.guest_key), p.member, p.bound);
  }
  std::optional<Located<Httu>> merged(const CapsProperty<Httu>& p) {
    return httu(std::string(p.guest_key), p.member);
  }
  std::optional<Located<Stall>> merged(const CapsProperty<Stall>& p) {
    return stall(std::string(p.guest_key), p.member);
  }
  std::optional<Located<bool>> merged(const CapsProperty<bool>& p) {
    if (p.merge == Merge::kNested) return nested(std::string(p.guest_key), p.member);
    return feature(std::string(p.guest_key), p.member);
  }
  std::optional<Located<std::string>> merged(const CapsProperty<Formats, std::string>& p) {
    return pgtable_format(std::string(p.guest_key), p.member);
  }

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

  std::optional<Located<Httu>> httu(const std::string& key, std::optional<Httu> Caps::*property) {
    if (!all_known(key, property)) return std::nullopt;
    Httu least = Httu::kAccessDirty;
    for (const HostUnit& hu : units_) least = std::min(least, *(hu.unit->caps.*property));
    if (least == Httu::kNone) {
      note(key, "none on " + describe(units_where(units_, [&](const Unit& u) {
                  return *(u.caps.*property) == Httu::kNone;
                })));
      return std::nullopt;
    }
    return Located<Httu>{least, {}};
  }

  /// `disabled` if a unit has no stall support, else `enabled`. No value fits a mix of units
  /// that force stalls and units without stall support.
  std::optional<Located<Stall>> stall(const std::string& key,
                                      std::optional<Stall> Caps::*property) {
    if (!all_known(key, property)) return std::nullopt;
    auto with = [&](Stall s) {
      return units_where(units_, [&](const Unit& u) { return *(u.caps.*property) == s; });
    };
    const std::vector<HostUnit> disabled = with(Stall::kDisabled);
    const std::vector<HostUnit> force = with(Stall::kForce);
    if (!disabled.empty() && !force.empty()) {
      note(key, "no value fits both " + describe(force) + " (force) and " + describe(disabled) +
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

  std::optional<Located<bool>> nested(const std::string& key, std::optional<bool> Caps::*property) {
    if (info_.paravirtual) {
      note(key, model_ + " has no hardware nesting");
      return std::nullopt;
    }
    auto other = units_where(units_, [&](const Unit& u) { return u.model != model_; });
    if (!other.empty()) {
      note(key, "hardware nesting needs every unit to be " + model_ + ", not " + describe(other));
      return std::nullopt;
    }
    std::optional<Located<bool>> result = feature(key, property);
    if (!result || !info_.accelerated_host_checks) return result;
    // A nested vSMMU is an accelerated one, which QEMU compares with each host SMMU: the
    // smmuv3.* rules (check_rules_smmuv3.cc).
    for (const HostUnit& hu : units_) {
      const std::string blocker = rules::smmuv3_accel_blocker(*hu.unit);
      if (!blocker.empty()) {
        note(key, "accelerated " + model_ + " on " + hu.unit->name + ": " + blocker);
        return std::nullopt;
      }
    }
    return result;
  }

  std::optional<Located<std::string>> pgtable_format(const std::string& key,
                                                     std::optional<Formats> Caps::*property) {
    if (info_.paravirtual) {
      note(key, model_ + " shares no page tables with the host");
      return std::nullopt;
    }
    if (!all_known(key, property)) return std::nullopt;
    std::set<std::string> common((units_.front().unit->caps.*property)->begin(),
                                 (units_.front().unit->caps.*property)->end());
    for (const HostUnit& hu : units_) {
      const std::vector<std::string>& have = *(hu.unit->caps.*property);
      std::erase_if(common, [&](const std::string& f) {
        return std::find(have.begin(), have.end(), f) == have.end();
      });
    }
    std::vector<std::string> candidates;
    for (const std::string& f : common) {
      if (in_pgtable_family(info_, f)) candidates.push_back(f);
    }
    if (candidates.empty()) {
      note(key, common.empty() ? "no page-table format is common to every unit"
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
  std::vector<const Host*> pointers;
  pointers.reserve(hosts.size());
  for (const Host& host : hosts) pointers.push_back(&host);
  return suggest_guest_for(model, pointers);
}

Result<Suggestion> suggest_guest_for(std::string_view model,
                                     const std::vector<const Host*>& hosts) {
  const ModelInfo* info = find_model(model);
  if (info == nullptr) {
    return make_error("model", "unknown vIOMMU model \"" + std::string(model) + "\" (use " +
                                   model_list(" or ") + ")");
  }
  if (hosts.empty()) return make_error("", "no host to suggest a guest for");
  std::vector<HostUnit> units;
  for (const Host* host : hosts) {
    if (host->units.empty()) {
      return make_error(host->root, "no IOMMU unit: no vIOMMU can run on this host");
    }
    for (const Unit& unit : host->units) units.push_back({host, &unit});
  }
  return Builder(*info, std::move(units)).build();
}

}  // namespace caps
