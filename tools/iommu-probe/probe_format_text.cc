// SPDX-License-Identifier: MIT
// format_text: header, unit table, unit -> group -> device tree, reasons, diagnostics count.
#include "iommu-probe/probe_format_text.h"

#include <algorithm>
#include <optional>
#include <set>
#include <vector>

#include "common/terminal_text.h"
#include "libcaps/caps_properties.h"
#include "libcaps/parse.h"

namespace tools {

namespace {

using caps::Device;
using caps::Group;
using caps::Host;
using caps::Register;
using caps::Unit;

constexpr std::size_t kWrapColumn = 100;

/// Terminal columns taken by printable UTF-8 text (one per code point; good enough for the
/// names sysfs holds).
std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string pad(std::string_view text, std::size_t width) {
  std::string out(text);
  const std::size_t w = display_width(text);
  if (w < width) out.append(width - w, ' ');
  return out;
}

std::string rtrim(std::string text) {
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

std::string plural(std::size_t n, std::string_view word) {
  std::string out = std::to_string(n) + " " + std::string(word);
  if (n != 1) out += 's';
  return out;
}

std::string yes_no(const std::optional<bool>& value) {
  if (!value) return "?";
  return *value ? "yes" : "no";
}

std::string number(const std::optional<int>& value) { return value ? std::to_string(*value) : "?"; }

/// Rows of cells printed as columns two spaces apart, without trailing blanks.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line += "  ";
      line += pad(row[i], widths[i]);
    }
    out << rtrim(line) << '\n';
  }
}

std::string cell(const std::optional<int>& value) { return number(value); }
std::string cell(const std::optional<bool>& value) { return yes_no(value); }
std::string cell(const std::optional<caps::Httu>& value) {
  return value ? std::string(caps::to_string(*value)) : "?";
}
std::string cell(const std::optional<caps::Stall>& value) {
  return value ? std::string(caps::to_string(*value)) : "?";
}
std::string cell(const std::optional<std::vector<std::string>>& value) {
  if (!value) return "?";
  std::string out;
  for (const std::string& item : *value) out += (out.empty() ? "" : ",") + printable(item);
  return out;
}

/// The properties that have a column (CapsProperty::text_column), in table order.
void print_unit_table(std::ostream& out, const Host& host) {
  std::vector<std::vector<std::string>> rows = {{"unit", "model", "layout"}};
  caps::for_each_caps_property([&](const auto& property) {
    if (!property.text_column.empty()) rows[0].emplace_back(property.text_column);
  });
  for (const Unit& unit : host.units) {
    std::vector<std::string>& row = rows.emplace_back(std::vector<std::string>{
        printable(unit.name), printable(unit.model), std::string(caps::to_string(unit.layout))});
    caps::for_each_caps_property([&](const auto& property) {
      if (!property.text_column.empty()) row.push_back(cell(unit.caps.*property.member));
    });
  }
  print_table(out, rows);
}

/// `NAME=value` items joined by two spaces, wrapped before column kWrapColumn.
void print_wrapped(std::ostream& out, std::string_view indent,
                   const std::vector<std::string>& items) {
  std::string line;
  for (const std::string& item : items) {
    if (!line.empty() &&
        indent.size() + display_width(line) + 2 + display_width(item) > kWrapColumn) {
      out << indent << line << '\n';
      line.clear();
    }
    if (!line.empty()) line += "  ";
    line += item;
  }
  if (!line.empty()) out << indent << line << '\n';
}

void print_register(std::ostream& out, std::string_view file, const Register& reg,
                    std::string_view suffix) {
  out << "  " << printable(file) << " (" << printable(reg.name) << ") " << caps::format_hex(reg.raw)
      << suffix << '\n';
  std::vector<std::string> items;
  for (const caps::Field& field : reg.fields) {
    items.push_back(printable(field.name) + "=" + std::to_string(field.value));
  }
  print_wrapped(out, "    ", items);
  if (reg.reserved != 0) out << "    reserved bits set: " << caps::format_hex(reg.reserved) << '\n';
}

void print_registers(std::ostream& out, const Unit& unit) {
  for (const caps::RegisterFile& file : unit.registers) {
    const std::string format = file.format.empty() ? "" : "  format " + printable(file.format);
    print_register(out, file.file, file.main, format);
    if (file.second) print_register(out, file.file, *file.second, "");
  }
}

/// The unit a device belongs to: its `iommu` link, else the unit whose devices/ lists it.
std::optional<std::string> unit_of(const Host& host, std::string_view device) {
  if (const Device* d = host.find_device(device); d && d->unit) return d->unit;
  for (const Unit& unit : host.units) {
    if (std::find(unit.devices.begin(), unit.devices.end(), device) != unit.devices.end()) {
      return unit.name;
    }
  }
  return std::nullopt;
}

/// A group's members: its devices/ entries, then devices whose link names it but that the
/// group did not list.
std::vector<std::string> group_members(const Host& host, const Group& group) {
  std::vector<std::string> members = group.devices;
  for (const Device& d : host.devices) {
    if (d.group == group.id && std::find(members.begin(), members.end(), d.name) == members.end()) {
      members.push_back(d.name);
    }
  }
  return members;
}

/// Every device name the host mentions, in host order then unit order, without repeats.
std::vector<std::string> all_device_names(const Host& host) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  auto add = [&](const std::string& name) {
    if (seen.insert(name).second) names.push_back(name);
  };
  for (const Device& d : host.devices) add(d.name);
  for (const Unit& u : host.units) {
    for (const std::string& name : u.devices) add(name);
  }
  for (const Group& g : host.groups) {
    for (const std::string& name : g.devices) add(name);
  }
  return names;
}

std::string pasid_text(const caps::PciInfo& pci) {
  if (!pci.pasid) return "";
  if (!*pci.pasid) return "pasid=no";
  const caps::PasidCapability& cap = **pci.pasid;
  std::string text = "pasid=" + std::to_string(cap.max_width);
  if (cap.exec && cap.priv) return text + " (exec, priv)";
  if (cap.exec) return text + " (exec)";
  if (cap.priv) return text + " (priv)";
  return text;
}

/// The device lines of the tree, as cells: name, driver, then what PCI config says.
std::vector<std::string> device_cells(const Host& host, const std::string& name) {
  const Device* device = host.find_device(name);
  std::vector<std::string> cells = {printable(name)};
  if (!device) return cells;
  cells.push_back(!device->driver_known ? "(driver unknown)"
                  : device->driver      ? printable(*device->driver)
                                        : "(no driver)");
  if (!device->pci) return cells;
  for (std::string cell :
       {pasid_text(*device->pci), device->pci->ats ? "ats=" + yes_no(device->pci->ats) : "",
        device->pci->pri ? "pri=" + yes_no(device->pci->pri) : ""}) {
    if (!cell.empty()) cells.push_back(std::move(cell));
  }
  return cells;
}

struct TreeSection {
  std::string title;
  std::optional<std::string> unit;  // nullopt: "(no unit)"
  const Unit* read_unit = nullptr;  // the unit's record, when it was read
};

std::vector<TreeSection> tree_sections(const Host& host, const std::vector<std::string>& names) {
  std::vector<TreeSection> sections;
  for (const Unit& unit : host.units) sections.push_back({printable(unit.name), unit.name, &unit});
  std::vector<std::string> unread;
  bool any_without_unit = false;
  for (const std::string& name : names) {
    const std::optional<std::string> unit = unit_of(host, name);
    if (!unit) {
      any_without_unit = true;
    } else if (!host.find_unit(*unit) &&
               std::find(unread.begin(), unread.end(), *unit) == unread.end()) {
      unread.push_back(*unit);
    }
  }
  std::sort(unread.begin(), unread.end(),
            [](const std::string& a, const std::string& b) { return caps::natural_less(a, b); });
  for (const std::string& unit : unread) {
    sections.push_back({printable(unit) + " (not read)", unit, nullptr});
  }
  if (any_without_unit) sections.push_back({"(no unit)", std::nullopt, nullptr});
  return sections;
}

std::string group_title(const Group& group) {
  std::string title = "group " + std::to_string(group.id) + " (" +
                      (group.type ? printable(*group.type) : "type ?") + ")";
  if (group.name) title += " " + printable(*group.name);
  if (!group.devices_known) title += " (members unknown)";
  return title;
}

void print_tree(std::ostream& out, const Host& host, const TextOptions& options) {
  const std::vector<std::string> names = all_device_names(host);
  const std::vector<TreeSection> sections = tree_sections(host, names);

  // Lines are built first so the device columns line up across the whole tree.
  struct Line {
    std::string heading;              // a unit, group or "(no group)" line, already indented
    std::vector<std::string> cells;   // a device line
    const Unit* registers = nullptr;  // print this unit's registers here
  };
  std::vector<Line> lines;
  std::set<std::string> grouped;
  for (const Group& group : host.groups) {
    for (const std::string& name : group_members(host, group)) grouped.insert(name);
  }
  for (const TreeSection& section : sections) {
    lines.push_back({section.title, {}, nullptr});
    if (options.registers && section.read_unit) lines.push_back({"", {}, section.read_unit});
    const std::size_t first_line = lines.size();
    for (const Group& group : host.groups) {
      std::vector<std::string> members;
      for (const std::string& name : group_members(host, group)) {
        if (unit_of(host, name) == section.unit) members.push_back(name);
      }
      if (members.empty()) continue;
      lines.push_back({"  " + group_title(group), {}, nullptr});
      for (const std::string& name : members) lines.push_back({"", device_cells(host, name)});
    }
    bool first = true;
    for (const std::string& name : names) {
      if (grouped.count(name) || unit_of(host, name) != section.unit) continue;
      if (first) lines.push_back({"  (no group)", {}, nullptr});
      first = false;
      lines.push_back({"", device_cells(host, name)});
    }
    if (lines.size() == first_line) lines.push_back({"  (no devices)", {}, nullptr});
  }

  std::vector<std::size_t> widths;
  for (const Line& line : lines) {
    widths.resize(std::max(widths.size(), line.cells.size()), 0);
    for (std::size_t i = 0; i < line.cells.size(); ++i) {
      widths[i] = std::max(widths[i], display_width(line.cells[i]));
    }
  }
  for (const Line& line : lines) {
    if (line.registers) {
      print_registers(out, *line.registers);
    } else if (line.cells.empty()) {
      out << line.heading << '\n';
    } else {
      std::string text = "    ";
      for (std::size_t i = 0; i < line.cells.size(); ++i) {
        if (i > 0) text += "  ";
        text += pad(line.cells[i], widths[i]);
      }
      out << rtrim(text) << '\n';
    }
  }
}

std::string diagnostics_summary(const Host& host) {
  std::size_t warnings = 0;
  std::size_t errors = 0;
  auto count = [&](const caps::Diagnostics& diagnostics) {
    for (const caps::Diagnostic& d : diagnostics) {
      (d.severity == caps::Severity::kError ? errors : warnings) += 1;
    }
  };
  count(host.diagnostics);
  for (const Unit& unit : host.units) count(unit.diagnostics);
  if (warnings + errors == 0) return "diagnostics: none";
  return "diagnostics: " + plural(warnings, "warning") + ", " + plural(errors, "error");
}

/// The iommufd section (docs/iommufd.md): only when iommufd was asked or said why not.
void print_iommufd(std::ostream& out, const Host& host, const TextOptions& options) {
  const caps::IommufdStatus& status = host.iommufd;
  if (status.state == "not-asked" && status.reason.empty()) return;
  out << "\niommufd (IOMMU_GET_HW_INFO";
  if (!status.via.empty()) out << ", via " << printable(status.via);
  out << "): " << printable(status.state);
  if (!status.reason.empty()) out << ": " << printable(status.reason);
  out << '\n';
  for (const Unit& unit : host.units) {
    if (!unit.iommufd) continue;
    const caps::IommufdUnitInfo& info = *unit.iommufd;
    out << "  " << printable(unit.name) << " through " << printable(info.device) << ": "
        << caps::iommufd_data_type_name(info.data_type) << ", " << info.data_len << " bytes";
    for (const caps::Field& field : info.fields) {
      if (field.name == "flags" && field.value == 0) continue;
      out << ", " << printable(field.name) << ' ' << caps::format_hex(field.value);
    }
    if (info.fields.empty() && !info.data.empty()) out << ", data " << info.data;
    if (info.matches_sysfs) out << (*info.matches_sysfs ? ", equal to sysfs" : ", DIFFERENT from sysfs");
    out << '\n';
    if (options.registers) {
      for (const Register& reg : info.registers) print_register(out, "iommufd", reg, "");
    }
  }
  for (const Device& device : host.devices) {
    if (!device.iommufd) continue;
    const caps::IommufdDeviceInfo& info = *device.iommufd;
    out << "  " << printable(device.name) << " (" << printable(info.cdev) << "): ";
    if (!info.error.empty()) {
      out << printable(info.error) << '\n';
      continue;
    }
    if (info.capabilities) {
      out << "capabilities " << caps::format_hex(*info.capabilities);
      std::string names;
      constexpr std::pair<uint64_t, std::string_view> kBits[] = {
          {1u << 0, "dirty_tracking"}, {1u << 1, "pasid_exec"}, {1u << 2, "pasid_priv"}};
      for (const auto& [mask, name] : kBits) {
        if (*info.capabilities & mask) names += (names.empty() ? "" : " ") + std::string(name);
      }
      if (!names.empty()) out << " (" << names << ")";
    } else {
      out << "capabilities not reported (kernel before 6.7)";
    }
    if (info.max_pasid_log2) {
      out << ", max_pasid_log2 " << *info.max_pasid_log2;
    } else {
      out << ", max_pasid_log2 not reported (kernel before 6.15)";
    }
    out << '\n';
  }
}

}  // namespace

void format_text(const Host& host, std::ostream& out, const TextOptions& options) {
  out << "host " << printable(host.root) << " (backend " << printable(host.backend)
      << "): " << plural(host.units.size(), "unit") << ", " << plural(host.groups.size(), "group")
      << ", " << plural(host.devices.size(), "device") << '\n';
  if (!host.units.empty()) {
    out << '\n';
    print_unit_table(out, host);
  }
  if (!host.units.empty() || !all_device_names(host).empty()) {
    out << '\n';
    print_tree(out, host, options);
  }
  if (host.units.empty()) {
    out << "\nno IOMMU unit";
    if (host.platform.why_no_units.empty()) {
      out << '\n';
    } else {
      out << ":\n";
      for (const std::string& reason : host.platform.why_no_units) {
        out << "  - " << printable(reason) << '\n';
      }
    }
  }
  print_iommufd(out, host, options);
  out << '\n' << diagnostics_summary(host) << '\n';
}

}  // namespace tools
