// SPDX-License-Identifier: MIT
// What a host read from a kernel log says differently from the host read from the same
// machine's sysfs tree: the unit facts (model, layout, registers, normalized properties,
// extras, the intel-iommu properties), groups and their members, and the kernel release.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "libcaps/caps_properties.h"
#include "libcaps/model.h"

namespace caps::testing {

/// The facts a kernel log cannot give, by model, and why: they stay unknown in the log's host.
/// AMD-Vi: the log prints the capability's offset ("Found IOMMU cap 0x40"), not the capability
/// header, so what the header says (IotlbSup -> ats, NpCache, HtTunnel, EFRSup) is not there.
inline bool log_cannot_give(std::string_view model, std::string_view fact) {
  static const std::set<std::string, std::less<>> amd = {"ats", "np_cache", "ht_tunnel",
                                                        "efr_supported", "register cap"};
  static const std::set<std::string, std::less<>> vtd = {"domains_used"};
  if (model == kModelAmdVi) return amd.contains(fact);
  if (model == kModelIntelVtd) return vtd.contains(fact);
  return false;
}

template <class T>
std::string show_value(const std::optional<T>& v) {
  if (!v) return "unknown";
  if constexpr (std::is_same_v<T, bool>) {
    return *v ? "true" : "false";
  } else if constexpr (std::is_same_v<T, int>) {
    return std::to_string(*v);
  } else if constexpr (std::is_same_v<T, Httu> || std::is_same_v<T, Stall>) {
    return std::string(to_string(*v));
  } else {
    std::string s;
    for (const auto& item : *v) s += (s.empty() ? "" : ",") + item;
    return "[" + s + "]";
  }
}

/// Every disagreement, one line each; empty when the log agrees with the tree. A fact the log
/// knows and the tree does not (SMMUv3 publishes nothing in sysfs) is no disagreement; a fact
/// the tree knows and the log does not is one, unless log_cannot_give() names it.
inline std::vector<std::string> log_tree_disagreements(const Host& log, const Host& tree) {
  std::vector<std::string> out;
  // A unit the log cannot name as sysfs does (virtio-iommu: named after its PCI function) is
  // matched by model when each side has exactly one of that model.
  auto only_of_model = [](const Host& host, const std::string& model) -> const Unit* {
    const Unit* found = nullptr;
    for (const Unit& u : host.units) {
      if (u.model != model) continue;
      if (found != nullptr) return nullptr;
      found = &u;
    }
    return found;
  };
  std::set<std::string> matched;
  for (const Unit& t : tree.units) {
    const Unit* l = log.find_unit(t.name);
    if (l == nullptr && t.model == kModelVirtioIommu && only_of_model(tree, t.model) == &t) {
      l = only_of_model(log, t.model);
    }
    if (l != nullptr) matched.insert(l->name);
    if (l == nullptr) {
      out.push_back("unit " + t.name + " (" + t.model + ") is in the tree, not in the log");
      continue;
    }
    const std::string u = "unit " + t.name + ": ";
    if (l->model != t.model) out.push_back(u + "model " + l->model + " vs tree " + t.model);
    if (l->layout != t.layout) {
      out.push_back(u + "layout " + std::string(to_string(l->layout)) + " vs tree " +
                    std::string(to_string(t.layout)));
    }
    for (const RegisterFile& tr : t.registers) {
      const RegisterFile* lr = nullptr;
      for (const RegisterFile& r : l->registers) {
        if (r.file == tr.file) lr = &r;
      }
      if (lr == nullptr) {
        if (!log_cannot_give(t.model, "register " + tr.file)) {
          out.push_back(u + "register " + tr.file + " missing from the log");
        }
        continue;
      }
      if (lr->main != tr.main) out.push_back(u + tr.file + " " + tr.main.name + " differs");
      if (lr->second != tr.second) out.push_back(u + tr.file + " second register differs");
    }
    for_each_caps_property([&](const auto& p) {
      const auto& lv = l->caps.*(p.member);
      const auto& tv = t.caps.*(p.member);
      if (lv == tv || (lv && !tv)) return;
      if (!lv && log_cannot_give(t.model, p.name)) return;
      out.push_back(u + std::string(p.name) + " " + show_value(lv) + " vs tree " +
                    show_value(tv));
    });
    for (const auto& [key, value] : t.extra) {
      auto found = l->extra.find(key);
      if (found == l->extra.end()) {
        if (!log_cannot_give(t.model, key)) out.push_back(u + "extra " + key + " missing");
      } else if (found->second != value) {
        out.push_back(u + "extra " + key + " differs");
      }
    }
    for (const auto& [key, value] : t.properties) {
      auto found = l->properties.find(key);
      if (found == l->properties.end()) {
        if (!log_cannot_give(t.model, key)) out.push_back(u + "property " + key + " missing");
      } else if (found->second != value) {
        out.push_back(u + "property " + key + " " + found->second + " vs tree " + value);
      }
    }
    if (l->devices != t.devices) out.push_back(u + "devices differ");
  }
  for (const Unit& l : log.units) {
    if (!matched.contains(l.name)) out.push_back("unit " + l.name + " only in the log");
  }
  for (const Group& t : tree.groups) {
    const Group* l = log.find_group(t.id);
    if (l == nullptr) {
      out.push_back("group " + std::to_string(t.id) + " is not in the log");
    } else if (l->devices != t.devices) {
      out.push_back("group " + std::to_string(t.id) + " members differ");
    }
  }
  if (log.groups.size() != tree.groups.size()) out.push_back("the log has other groups");
  if (log.platform.kernel_release && tree.platform.kernel_release &&
      *log.platform.kernel_release != *tree.platform.kernel_release) {
    out.push_back("kernel release " + *log.platform.kernel_release + " vs tree " +
                  *tree.platform.kernel_release);
  }
  return out;
}

}  // namespace caps::testing
