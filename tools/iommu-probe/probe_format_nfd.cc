// SPDX-License-Identifier: MIT
// format_nfd: host-wide and per-model summaries walked from the property table, then groups,
// vfio-pci and iommufd. Every row here is a row of docs/nfd.md's table.
#include "iommu-probe/probe_format_nfd.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "libcaps/caps_properties.h"

namespace tools {

namespace {

using caps::Unit;

using Lines = std::vector<std::pair<std::string, std::string>>;

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/// What a Kubernetes label name or value may hold ([A-Za-z0-9._-]), anything else as '-'
/// ("access+dirty" -> "access-dirty"); ends that are not alphanumeric are trimmed.
std::string label_safe(std::string_view text) {
  std::string safe;
  for (char c : text) safe += is_alnum(c) || c == '.' || c == '_' || c == '-' ? c : '-';
  while (!safe.empty() && !is_alnum(safe.back())) safe.pop_back();
  std::size_t first = 0;
  while (first < safe.size() && !is_alnum(safe[first])) ++first;
  return safe.substr(first);
}

std::string value_text(int value) { return std::to_string(value); }
std::string value_text(bool value) { return value ? "true" : "false"; }
std::string value_text(caps::Httu value) { return label_safe(caps::to_string(value)); }
std::string value_text(caps::Stall value) { return label_safe(caps::to_string(value)); }

/// The summary of one property over `units`: nullopt when a unit does not know it (or there
/// is no unit). A width, httu or stall gives its least (httu none < access < access+dirty;
/// stall disabled < enabled < force); a feature is true only when every unit has it, false
/// when one unit lacks it (a known "no" decides even beside unknowns).
template <class T>
std::optional<T> summarise(const std::vector<const Unit*>& units,
                           std::optional<T> caps::Caps::*member) {
  if constexpr (std::is_same_v<T, bool>) {
    bool all_known = !units.empty();
    for (const Unit* unit : units) {
      const std::optional<bool>& value = unit->caps.*member;
      if (value && !*value) return false;
      if (!value) all_known = false;
    }
    return all_known ? std::optional<bool>(true) : std::nullopt;
  } else {
    std::optional<T> least;
    for (const Unit* unit : units) {
      const std::optional<T>& value = unit->caps.*member;
      if (!value) return std::nullopt;
      if (!least || *value < *least) least = *value;
    }
    return least;
  }
}

/// Lines for every property of the table over `units`, names "<prefix><property>".
void summarise_caps(const std::vector<const Unit*>& units, const std::string& prefix,
                    Lines& lines) {
  caps::for_each_caps_property([&](const auto& property) {
    using T = typename std::decay_t<decltype(property)>::Value;
    const std::string name = prefix + std::string(property.name);
    if constexpr (std::is_same_v<T, caps::Formats>) {
      // A page-table format every unit offers: one name per format, value true.
      if (units.empty()) return;
      std::optional<std::set<std::string>> common;
      for (const Unit* unit : units) {
        const auto& formats = unit->caps.*property.member;
        if (!formats) return;
        std::set<std::string> mine(formats->begin(), formats->end());
        if (!common) {
          common = std::move(mine);
        } else {
          std::set<std::string> both;
          std::set_intersection(common->begin(), common->end(), mine.begin(), mine.end(),
                                std::inserter(both, both.end()));
          common = std::move(both);
        }
      }
      for (const std::string& format : *common) {
        const std::string safe = label_safe(format);
        if (!safe.empty()) lines.emplace_back(name + "." + safe, "true");
      }
    } else {
      if (const std::optional<T> value = summarise<T>(units, property.member)) {
        lines.emplace_back(name, value_text(*value));
      }
    }
  });
}

bool vfio_bound(const caps::Device& device) {
  return device.driver_known && device.driver == "vfio-pci";
}

bool vfio_bound(const caps::Host& host, const std::string& name) {
  const caps::Device* device = host.find_device(name);
  return device && vfio_bound(*device);
}

}  // namespace

void format_nfd(const caps::Host& host, const caps::AssignmentSupport& support, std::ostream& out) {
  Lines lines;
  lines.emplace_back("iommu.present", value_text(!host.units.empty()));
  lines.emplace_back("iommu.units", std::to_string(host.units.size()));

  std::vector<const Unit*> all;
  std::set<std::string> models;
  for (const Unit& unit : host.units) {
    all.push_back(&unit);
    models.insert(unit.model);
  }
  summarise_caps(all, "iommu.", lines);
  for (const std::string& model : models) {
    const std::string safe = label_safe(model);
    if (safe.empty()) continue;
    std::vector<const Unit*> of_model;
    for (const Unit* unit : all) {
      if (unit->model == model) of_model.push_back(unit);
    }
    lines.emplace_back("iommu.model." + safe, std::to_string(of_model.size()));
    summarise_caps(of_model, "iommu." + safe + ".", lines);
  }

  lines.emplace_back("iommu.groups", std::to_string(host.groups.size()));
  // Bound to vfio-pci: counted only when every driver link could be read.
  const bool drivers_known = std::all_of(host.devices.begin(), host.devices.end(),
                                         [](const caps::Device& d) { return d.driver_known; });
  if (drivers_known) {
    std::size_t devices = 0;
    for (const caps::Device& device : host.devices) devices += vfio_bound(device);
    const bool groups_known = std::all_of(host.groups.begin(), host.groups.end(),
                                          [](const caps::Group& g) { return g.devices_known; });
    lines.emplace_back("iommu.vfio_pci.devices", std::to_string(devices));
    if (groups_known) {
      std::size_t groups = 0;
      for (const caps::Group& group : host.groups) {
        groups += !group.devices.empty() &&
                  std::all_of(group.devices.begin(), group.devices.end(),
                              [&](const std::string& d) { return vfio_bound(host, d); });
      }
      lines.emplace_back("iommu.vfio_pci.groups", std::to_string(groups));
    }
  }
  if (support.vfio_pci.present) {
    lines.emplace_back("iommu.vfio_pci", value_text(*support.vfio_pci.present));
  }
  if (support.iommufd.present) {
    lines.emplace_back("iommu.iommufd", value_text(*support.iommufd.present));
  }

  out << "# IOMMU features for Node Feature Discovery, written by iommu-probe --format nfd.\n"
         "# The features are described in iommu-tools' docs/nfd.md.\n";
  for (const auto& [name, value] : lines) out << kNfdPrefix << name << '=' << value << '\n';
}

}  // namespace tools
