// SPDX-License-Identifier: MIT
// Host reports: a Host written as TOML by hand (fixed order) and loaded back with toml++.
//
// Shape (schemas/host-report.schema.json is the full description):
//   schema = "iommu-probe/2"
//   [source]            backend, sysfs_root (informational; a loaded report is backend "report")
//   [platform]          acpi_tables, cmdline?, kernel_release?, why_no_units
//   [[unit]]            name, model, layout, devices
//     [unit.caps]       known normalized properties only; a missing key is unknown
//     [unit.evidence]   property -> text
//     [[unit.register]] file, name, raw, reserved?, format?, [unit.register.fields] (file order =
//                       bit order), [unit.register.efr2] {name, raw, reserved?, fields}
//     [unit.properties] file -> text;  [unit.extra] name -> bool | integer | string
//     [[unit.diagnostic]] path, severity, message
//   [[group]]           id, type?, name?, devices, devices_known?,
//                       reserved_regions = [{start, end, type}]
//   [[device]]          name, unit?, group?, driver?, driver_known?, [device.pci]
//     [device.pci]      vendor, device, class, header_type, config_size?, pasid?, ats?, pri?
//                       pasid: missing = unknown (extended config space not readable),
//                       false = capability absent, {max_width, exec, priv} = present
//   [[diagnostic]]      host diagnostics
//   [end]               units, groups, devices, diagnostics: counts, written last. A report
//                       without it, or whose counts differ, is refused as incomplete.
// Loading parses the report one top-level table at a time (split_report), so that only one
// table's toml++ tree is held at once; names of units and devices and ids of groups must be
// unique.
// Register raw values, reserved bits and addresses are "0x.." strings: TOML integers are
// signed 64-bit. Other unsigned values (field values, group ids) are integers, or "0x.."
// strings when they exceed 2^63-1. TOML text must be UTF-8: bytes that are not valid UTF-8
// are written as U+FFFD (one per maximal invalid subsequence, as in JSON output: see
// string_literal.h), the one case where a loaded report differs from the host written.
#include "libcaps/host_report.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "libcaps/caps_properties.h"
#include "libcaps/parse.h"
#include "libcaps/string_literal.h"
#include "model/model_table.h"
#include "text/toml_toolkit.h"

namespace caps {

namespace {

// ---------------------------------------------------------------------------------------------
// Writing

/// A TOML basic string literal (control characters escaped, invalid UTF-8 as U+FFFD).
std::string quoted(std::string_view text) { return string_literal(text); }

/// A key: bare when TOML allows it, else quoted.
std::string toml_key(std::string_view name) {
  const bool bare = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
  return bare ? std::string(name) : quoted(name);
}

/// An unsigned value as a TOML integer, or a hex string when it does not fit one.
std::string unsigned_value(uint64_t value) {
  if (value > static_cast<uint64_t>(INT64_MAX)) return quoted(format_hex(value));
  return std::to_string(value);
}

std::string hex_value(uint64_t value) { return quoted(format_hex(value)); }

std::string bool_value(bool value) { return value ? "true" : "false"; }

/// An array of strings: one line when short, else one item per line.
std::string string_array(const std::vector<std::string>& items) {
  std::string line = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) line += ", ";
    line += quoted(items[i]);
  }
  line += "]";
  if (line.size() <= 80) return line;
  std::string block = "[\n";
  for (const std::string& item : items) block += "  " + quoted(item) + ",\n";
  return block + "]";
}

class ReportWriter {
 public:
  explicit ReportWriter(std::ostream& out) : out_(out) {}

  void write(const Host& host) {
    out_ << "# iommu-probe host report. A missing key means \"unknown\"; see "
            "schemas/host-report.schema.json.\n";
    line("schema", quoted(kHostReportSchema));
    header("[source]");
    line("backend", quoted(host.backend));
    line("sysfs_root", quoted(host.root));
    header("[platform]");
    line("acpi_tables", string_array(host.platform.acpi_tables));
    if (host.platform.cmdline) line("cmdline", quoted(*host.platform.cmdline));
    if (host.platform.kernel_release) {
      line("kernel_release", quoted(*host.platform.kernel_release));
    }
    line("why_no_units", string_array(host.platform.why_no_units));
    write_iommufd_status(host.iommufd);
    for (const Unit& unit : host.units) write_unit(unit);
    for (const Group& group : host.groups) write_group(group);
    for (const Device& device : host.devices) write_device(device);
    write_diagnostics("diagnostic", host.diagnostics);
    // Last, so that a report cut short anywhere lacks it (or its counts) and is refused.
    header("[end]");
    line("units", std::to_string(host.units.size()));
    line("groups", std::to_string(host.groups.size()));
    line("devices", std::to_string(host.devices.size()));
    line("diagnostics", std::to_string(host.diagnostics.size()));
  }

 private:
  void header(std::string_view text) { out_ << '\n' << text << '\n'; }
  void line(std::string_view key, std::string_view value) {
    out_ << toml_key(key) << " = " << value << '\n';
  }
  template <class T>
  void optional_line(std::string_view key, const std::optional<T>& value) {
    if (!value) return;
    if constexpr (std::is_same_v<T, bool>) {
      line(key, bool_value(*value));
    } else {
      line(key, std::to_string(*value));
    }
  }

  static std::string caps_value(int value) { return std::to_string(value); }
  static std::string caps_value(bool value) { return bool_value(value); }
  static std::string caps_value(Httu value) { return quoted(to_string(value)); }
  static std::string caps_value(Stall value) { return quoted(to_string(value)); }
  static std::string caps_value(const std::vector<std::string>& value) {
    return string_array(value);
  }

  /// The known properties, in table order; unknown ones are left out.
  void write_caps(const Caps& caps) {
    header("[unit.caps]");
    for_each_caps_property([&](const auto& property) {
      if (const auto& value = caps.*property.member) line(property.name, caps_value(*value));
    });
  }

  void write_string_map(std::string_view table, const std::map<std::string, std::string>& map) {
    if (map.empty()) return;
    header(table);
    for (const auto& [key, value] : map) line(key, quoted(value));
  }

  void write_register_body(const Register& reg, std::string_view fields_header) {
    line("name", quoted(reg.name));
    line("raw", hex_value(reg.raw));
    if (reg.reserved != 0) line("reserved", hex_value(reg.reserved));
    if (reg.fields.empty()) return;
    header(fields_header);
    for (const Field& field : reg.fields) line(field.name, unsigned_value(field.value));
  }

  void write_register(const RegisterFile& file) {
    header("[[unit.register]]");
    line("file", quoted(file.file));
    if (!file.format.empty()) line("format", quoted(file.format));
    write_register_body(file.main, "[unit.register.fields]");
    if (!file.second) return;
    header("[unit.register.efr2]");
    write_register_body(*file.second, "[unit.register.efr2.fields]");
  }

  void write_extra(const std::map<std::string, Scalar>& extra) {
    if (extra.empty()) return;
    header("[unit.extra]");
    for (const auto& [key, value] : extra) {
      if (const bool* b = std::get_if<bool>(&value)) {
        line(key, bool_value(*b));
      } else if (const int64_t* i = std::get_if<int64_t>(&value)) {
        line(key, std::to_string(*i));
      } else {
        line(key, quoted(std::get<std::string>(value)));
      }
    }
  }

  void write_diagnostics(std::string_view table, const Diagnostics& diagnostics) {
    for (const Diagnostic& d : diagnostics) {
      header("[[" + std::string(table) + "]]");
      line("path", quoted(d.path));
      line("severity", quoted(to_string(d.severity)));
      line("message", quoted(d.message));
    }
  }

  /// [iommufd]: only when iommufd was asked, so reports of hosts it was not asked about are
  /// unchanged (docs/iommufd.md).
  void write_iommufd_status(const IommufdStatus& status) {
    if (status.state == "not-asked" && status.reason.empty()) return;
    header("[iommufd]");
    line("state", quoted(status.state));
    if (!status.reason.empty()) line("reason", quoted(status.reason));
    if (!status.via.empty()) line("via", quoted(status.via));
  }

  void write_unit_iommufd(const IommufdUnitInfo& info) {
    header("[unit.iommufd]");
    line("device", quoted(info.device));
    line("data_type", std::to_string(info.data_type));
    line("data_type_name", quoted(iommufd_data_type_name(info.data_type)));
    line("data_len", std::to_string(info.data_len));
    line("data", quoted(info.data));
    optional_line("matches_sysfs", info.matches_sysfs);
    if (!info.fields.empty()) {
      header("[unit.iommufd.fields]");
      for (const Field& field : info.fields) line(field.name, hex_value(field.value));
    }
    for (const Register& reg : info.registers) {
      header("[[unit.iommufd.register]]");
      write_register_body(reg, "[unit.iommufd.register.fields]");
    }
  }

  void write_unit(const Unit& unit) {
    header("[[unit]]");
    line("name", quoted(unit.name));
    line("model", quoted(unit.model));
    line("layout", quoted(to_string(unit.layout)));
    line("devices", string_array(unit.devices));
    write_caps(unit.caps);
    write_string_map("[unit.evidence]", unit.evidence);
    for (const RegisterFile& file : unit.registers) write_register(file);
    write_string_map("[unit.properties]", unit.properties);
    write_extra(unit.extra);
    if (unit.iommufd) write_unit_iommufd(*unit.iommufd);
    write_diagnostics("unit.diagnostic", unit.diagnostics);
  }

  void write_group(const Group& group) {
    header("[[group]]");
    line("id", unsigned_value(group.id));
    if (group.type) line("type", quoted(*group.type));
    if (group.name) line("name", quoted(*group.name));
    line("devices", string_array(group.devices));
    if (!group.devices_known) line("devices_known", "false");
    if (!group.reserved_regions_known) line("reserved_regions_known", "false");
    if (group.reserved_regions.empty()) {
      line("reserved_regions", "[]");
      return;
    }
    out_ << "reserved_regions = [\n";
    for (const ReservedRegion& r : group.reserved_regions) {
      out_ << "  {start = " << hex_value(r.start) << ", end = " << hex_value(r.end)
           << ", type = " << quoted(r.type) << "},\n";
    }
    out_ << "]\n";
  }

  void write_pci(const PciInfo& pci) {
    header("[device.pci]");
    char buf[16];
    std::snprintf(buf, sizeof buf, "\"0x%04x\"", static_cast<unsigned>(pci.vendor));
    line("vendor", buf);
    std::snprintf(buf, sizeof buf, "\"0x%04x\"", static_cast<unsigned>(pci.device));
    line("device", buf);
    std::snprintf(buf, sizeof buf, "\"0x%06x\"", static_cast<unsigned>(pci.class_code));
    line("class", buf);
    line("header_type", std::to_string(pci.header_type));
    if (pci.config_size != 0) line("config_size", std::to_string(pci.config_size));
    if (pci.pasid && !*pci.pasid) line("pasid", "false");
    if (pci.pasid && *pci.pasid) {
      const PasidCapability& cap = **pci.pasid;
      line("pasid", "{max_width = " + std::to_string(cap.max_width) + ", exec = " +
                        bool_value(cap.exec) + ", priv = " + bool_value(cap.priv) + "}");
    }
    optional_line("ats", pci.ats);
    optional_line("pri", pci.pri);
  }

  void write_device(const Device& device) {
    header("[[device]]");
    line("name", quoted(device.name));
    if (device.unit) line("unit", quoted(*device.unit));
    if (device.group) line("group", unsigned_value(*device.group));
    if (device.driver) line("driver", quoted(*device.driver));
    if (!device.driver_known) line("driver_known", "false");
    if (device.pci) write_pci(*device.pci);
    if (device.iommufd) {
      const IommufdDeviceInfo& info = *device.iommufd;
      header("[device.iommufd]");
      line("cdev", quoted(info.cdev));
      if (info.capabilities) line("capabilities", hex_value(*info.capabilities));
      optional_line("max_pasid_log2", info.max_pasid_log2);
      if (!info.error.empty()) line("error", quoted(info.error));
    }
  }

  std::ostream& out_;
};

// ---------------------------------------------------------------------------------------------
// Loading

using Keys = std::initializer_list<std::string_view>;

/// Why a report whose last line is `last_line` is refused when it has no [end] table.
Error incomplete(std::string_view file, std::size_t last_line) {
  return Error{std::string(file),
               "the report ends without its [end] table, which iommu-probe writes last: it is "
               "incomplete (cut short while written or copied); write it again",
               {static_cast<int>(last_line), 0}};
}

/// Reads a parsed report into a Host. Unlike a guest file, a report is refused at its first
/// problem (later reads return defaults and are ignored): it is written by iommu-probe, so a
/// problem means it was edited or damaged, and what follows a bad table (counts, uniqueness,
/// the [end] check) would only repeat it. The loader never throws and never crashes.
class ReportLoader {
 public:
  explicit ReportLoader(std::string_view file)
      : file_(file), reader_(file, toml_toolkit::Article::kWithout) {}

  std::optional<Error> error() const {
    if (!reader_.failed()) return finish_error_;
    const toml_toolkit::Problem& p = reader_.errors().front();
    return Error{file_, p.message, p.pos};
  }

  /// Loads one part of the report (see split_report) into `host`, whose first line is line
  /// `first_line` of the file. The head must come first and [end] last.
  void load_part(const toml::table& root, std::size_t first_line, Host& host) {
    reader_.set_line_offset(first_line - 1);
    check_keys(root, "",
               {"schema", "source", "platform", "iommufd", "unit", "group", "device", "diagnostic",
                "end"});
    if (!seen_head_) {
      seen_head_ = true;
      check_schema(root);
    }
    if (ended_) {
      // Two reports pasted together, or text after the [end] table.
      fail(root.source(), "end", "nothing may follow the [end] table");
    }
    load_once(root, "schema");
    if (const toml::table* source = table(root, "", "source");
        source && load_once(root, "source")) {
      check_keys(*source, "source", {"backend", "sysfs_root"});
      string(*source, "source", "backend", false);
      string(*source, "source", "sysfs_root", false);
    }
    if (const toml::table* platform = table(root, "", "platform");
        platform && load_once(root, "platform")) {
      load_platform(*platform, host.platform);
    }
    if (const toml::table* status = table(root, "", "iommufd");
        status && load_once(root, "iommufd")) {
      check_keys(*status, "iommufd", {"state", "reason", "via"});
      host.iommufd.state = required_string(*status, "iommufd", "state");
      // A missing `state` is said by required_string; only a present one is checked here.
      const toml::node* state = status->get("state");
      if (state != nullptr && host.iommufd.state != "not-asked" && host.iommufd.state != "asked" &&
          host.iommufd.state != "unavailable") {
        fail(state->source(), "iommufd.state",
             "expected \"not-asked\", \"asked\" or \"unavailable\", got " +
                 quote(host.iommufd.state));
      }
      host.iommufd.reason = string(*status, "iommufd", "reason", false).value_or("");
      host.iommufd.via = string(*status, "iommufd", "via", false).value_or("");
    }
    for_each_table(
        root, "", "unit", host.units.size(), [&](const toml::table& t, const std::string& path) {
          host.units.push_back(load_unit(t, path));
          const std::string& name = host.units.back().name;
          check_unique(units_, name, t.get("name"), join(path, "name"), "unit", quote(name));
        });
    for_each_table(
        root, "", "group", host.groups.size(), [&](const toml::table& t, const std::string& path) {
          host.groups.push_back(load_group(t, path));
          const uint64_t id = host.groups.back().id;
          check_unique(groups_, id, t.get("id"), join(path, "id"), "group", std::to_string(id));
        });
    for_each_table(root, "", "device", host.devices.size(),
                   [&](const toml::table& t, const std::string& path) {
                     host.devices.push_back(load_device(t, path));
                     const std::string& name = host.devices.back().name;
                     check_unique(devices_, name, t.get("name"), join(path, "name"), "device",
                                  quote(name));
                   });
    load_diagnostics(root, "", "diagnostic", host.diagnostics);
    if (const toml::table* end = table(root, "", "end"); end && load_once(root, "end")) {
      check_end(*end, host);
      ended_ = true;
    }
  }

  /// Whether the report's parts were all loaded and ended with [end]; else records why not.
  void finish(std::size_t last_line) {
    if (ended_ || error()) return;
    finish_error_ = incomplete(file_, last_line);
  }

  /// Records an error for a part toml++ could not parse.
  void parse_failed(const toml::parse_error& e, std::size_t first_line) {
    reader_.set_line_offset(first_line - 1);
    fail(e.source(), "", std::string(e.description()));
  }

 private:
  // --- the report as a whole ----------------------------------------------------------------

  void check_schema(const toml::table& root) {
    const std::optional<std::string> schema = string(root, "", "schema", true);
    if (!schema || *schema == kHostReportSchema) return;
    if (*schema == "iommu-probe/1") {
      fail(root.get("schema")->source(), "schema",
           "\"iommu-probe/1\": written by an older iommu-probe, whose reports cannot show that "
           "they are complete; write the report again with this iommu-probe (schema \"" +
               std::string(kHostReportSchema) + "\")");
      return;
    }
    fail(root.get("schema")->source(), "schema",
         "expected \"" + std::string(kHostReportSchema) + "\", got " + quote(*schema));
  }

  /// False (and an error) when top-level `key` was already given in an earlier part; the
  /// parts are parsed apart, so toml++ cannot see that itself.
  bool load_once(const toml::table& root, std::string_view key) {
    const toml::node* n = root.get(key);
    if (!n) return false;
    const std::size_t line = reader_.position(n->source()).line;
    const auto [it, inserted] = once_.try_emplace(std::string(key), line);
    if (inserted) return true;
    fail(n->source(), std::string(key),
         "given twice (first at line " + std::to_string(it->second) + ")");
    return false;
  }

  /// The counts in [end] must match what was loaded: a report cut at a line end inside [end],
  /// or with tables lost or added in the middle, is refused.
  void check_end(const toml::table& end, const Host& host) {
    check_keys(end, "end", {"units", "groups", "devices", "diagnostics"});
    const std::pair<std::string_view, std::size_t> counts[] = {
        {"units", host.units.size()},
        {"groups", host.groups.size()},
        {"devices", host.devices.size()},
        {"diagnostics", host.diagnostics.size()}};
    const std::string_view tables[] = {"[[unit]]", "[[group]]", "[[device]]", "[[diagnostic]]"};
    for (std::size_t i = 0; i < std::size(counts); ++i) {
      const auto [key, loaded] = counts[i];
      const toml::node* n = end.get(key);
      if (!n) {
        fail(end.source(), join("end", key),
             "missing: the report is incomplete (cut short while written or copied); write it "
             "again");
        continue;
      }
      const std::optional<int64_t> count = integer(end, "end", key, true, 0, INT64_MAX);
      if (count && static_cast<uint64_t>(*count) != loaded) {
        fail(n->source(), join("end", key),
             "the report has " + std::to_string(loaded) + " " + std::string(tables[i]) +
                 " tables but [end] counts " + std::to_string(*count) +
                 ": it is incomplete or was edited; write it again");
      }
    }
  }

  /// Refuses a second unit, device or group with the same name or id: a check would see only
  /// one of them.
  template <class Key>
  void check_unique(std::unordered_map<Key, std::size_t>& seen, const Key& key,
                    const toml::node* where, const std::string& path, std::string_view what,
                    std::string_view shown) {
    if (!where) return;
    const std::size_t line = reader_.position(where->source()).line;
    const auto [it, inserted] = seen.try_emplace(key, line);
    if (inserted) return;
    fail(where->source(), path,
         "duplicate " + std::string(what) + " " + std::string(shown) + " (first at line " +
             std::to_string(it->second) + ")");
  }

 private:
  // --- errors -------------------------------------------------------------------------------

  /// Records the first problem only (see the class comment).
  void fail(const toml::source_region& where, const std::string& path, std::string message) {
    if (reader_.failed()) return;
    reader_.error(where, path, std::move(message));
  }

  static std::string join(const std::string& path, std::string_view key) {
    return toml_toolkit::join(path, key);
  }

  void check_keys(const toml::table& t, const std::string& path, Keys known) {
    check_keys(t, path, std::span<const std::string_view>(known.begin(), known.size()));
  }
  void check_keys(const toml::table& t, const std::string& path,
                  std::span<const std::string_view> keys) {
    for (const toml_toolkit::Reader::UnknownKey& unknown : reader_.unknown_keys(t, keys)) {
      std::string message = "unknown key";
      if (unknown.near) message += ", did you mean " + std::string(*unknown.near) + "?";
      if (!reader_.failed()) reader_.error(unknown.pos, join(path, unknown.key) + ": " + message);
    }
  }

  // --- typed look-ups: nullptr / nullopt when missing or wrong (the error is recorded) ------

  const toml::node* node(const toml::table& t, const std::string& path, std::string_view key,
                         bool required) {
    const toml::node* n = t.get(key);
    if (!n && required) fail(t.source(), join(path, key), "missing key");
    return n;
  }

  template <class T>
  const T* typed(const toml::node* n, const std::string& path, std::string_view expected) {
    if (!n) return nullptr;
    if (const T* value = n->as<T>()) return value;
    if (reader_.failed()) return nullptr;
    return reader_.typed<T>(n, path, expected);
  }

  const toml::table* table(const toml::table& t, const std::string& path, std::string_view key) {
    return typed<toml::table>(node(t, path, key, false), join(path, key), "a table");
  }

  std::optional<std::string> string(const toml::table& t, const std::string& path,
                                    std::string_view key, bool required) {
    const auto* v =
        typed<toml::value<std::string>>(node(t, path, key, required), join(path, key), "a string");
    if (!v) return std::nullopt;
    return v->get();
  }

  std::string required_string(const toml::table& t, const std::string& path, std::string_view key) {
    return string(t, path, key, true).value_or("");
  }

  std::optional<bool> boolean(const toml::table& t, const std::string& path, std::string_view key,
                              bool required) {
    const auto* v =
        typed<toml::value<bool>>(node(t, path, key, required), join(path, key), "a boolean");
    if (!v) return std::nullopt;
    return v->get();
  }

  std::optional<int64_t> integer(const toml::table& t, const std::string& path,
                                 std::string_view key, bool required, int64_t lo, int64_t hi) {
    const toml::node* n = node(t, path, key, required);
    const auto* v = typed<toml::value<int64_t>>(n, join(path, key), "an integer");
    if (!v) return std::nullopt;
    if (v->get() < lo || v->get() > hi) {
      fail(n->source(), join(path, key),
           "value " + std::to_string(v->get()) + " is out of range " + std::to_string(lo) + ".." +
               std::to_string(hi));
      return std::nullopt;
    }
    return v->get();
  }

  /// A width in the range the property table gives it: the values the sysfs readers accept.
  std::optional<int> width(const toml::table& t, const std::string& path, std::string_view key,
                           int lo, int hi) {
    const std::optional<int64_t> v = integer(t, path, key, false, lo, hi);
    if (!v) return std::nullopt;
    return static_cast<int>(*v);
  }

  /// A "0x.." string (strict: prefix, 1..16 hex digits).
  std::optional<uint64_t> hex_of(const toml::node* n, const std::string& path) {
    const auto* v = typed<toml::value<std::string>>(n, path, "a \"0x..\" hex string");
    if (!v) return std::nullopt;
    const std::string& text = v->get();
    if (!text.starts_with("0x")) {
      fail(n->source(), path, "expected a \"0x..\" hex string, got " + quote(text));
      return std::nullopt;
    }
    Result<uint64_t> parsed = parse_hex_prefixed(text);
    if (!parsed) {
      fail(n->source(), path, parsed.error().message);
      return std::nullopt;
    }
    return *parsed;
  }

  std::optional<uint64_t> hex(const toml::table& t, const std::string& path, std::string_view key,
                              bool required) {
    return hex_of(node(t, path, key, required), join(path, key));
  }

  /// A non-negative integer, or a "0x.." string for values above 2^63-1.
  std::optional<uint64_t> unsigned_of(const toml::node* n, const std::string& path) {
    if (!n) return std::nullopt;
    if (n->is_string()) return hex_of(n, path);
    const auto* v = typed<toml::value<int64_t>>(n, path, "a non-negative integer");
    if (!v) return std::nullopt;
    if (v->get() < 0) {
      fail(n->source(), path, "expected a non-negative integer, got " + std::to_string(v->get()));
      return std::nullopt;
    }
    return static_cast<uint64_t>(v->get());
  }

  std::vector<std::string> string_array(const toml::table& t, const std::string& path,
                                        std::string_view key) {
    std::vector<std::string> out;
    const std::string where = join(path, key);
    const auto* array = typed<toml::array>(node(t, path, key, false), where, "an array");
    if (!array) return out;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::node& item = *array->get(i);
      const std::string item_path = where + "[" + std::to_string(i) + "]";
      if (const auto* s = typed<toml::value<std::string>>(&item, item_path, "a string")) {
        out.push_back(s->get());
      }
    }
    return out;
  }

  /// Calls `load` for each table of the array of tables `key` (missing = none), numbering
  /// them from `first` (the tables of that key already loaded from earlier parts).
  template <class F>
  void for_each_table(const toml::table& t, const std::string& path, std::string_view key,
                      std::size_t first, F&& load) {
    const std::string where = join(path, key);
    const auto* array = typed<toml::array>(node(t, path, key, false), where, "an array of tables");
    if (!array) return;
    for (std::size_t i = 0; i < array->size() && !reader_.failed(); ++i) {
      const std::string item_path = where + "[" + std::to_string(first + i) + "]";
      if (const auto* item = typed<toml::table>(array->get(i), item_path, "a table")) {
        load(*item, item_path);
      }
    }
  }

  /// The entries of a table in file order (toml++ keeps them sorted by name).
  static std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(
      const toml::table& t) {
    std::vector<std::pair<const toml::key*, const toml::node*>> entries;
    for (const auto& [key, value] : t) entries.emplace_back(&key, &value);
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      const toml::source_position& pa = a.first->source().begin;
      const toml::source_position& pb = b.first->source().begin;
      return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
    });
    return entries;
  }

  // --- model parts ---------------------------------------------------------------------------

  void load_platform(const toml::table& t, Platform& platform) {
    check_keys(t, "platform", {"acpi_tables", "cmdline", "kernel_release", "why_no_units"});
    platform.acpi_tables = string_array(t, "platform", "acpi_tables");
    platform.cmdline = string(t, "platform", "cmdline", false);
    platform.kernel_release = string(t, "platform", "kernel_release", false);
    platform.why_no_units = string_array(t, "platform", "why_no_units");
  }

  /// Appends the diagnostics of the array of tables `key` to `out`.
  void load_diagnostics(const toml::table& t, const std::string& path, std::string_view key,
                        Diagnostics& out) {
    for_each_table(t, path, key, out.size(), [&](const toml::table& d, const std::string& where) {
      check_keys(d, where, {"path", "severity", "message"});
      Diagnostic diagnostic;
      diagnostic.path = required_string(d, where, "path");
      const std::optional<std::string> severity = string(d, where, "severity", true);
      if (severity == "error") {
        diagnostic.severity = Severity::kError;
      } else if (severity && severity != "warning") {
        fail(d.get("severity")->source(), join(where, "severity"),
             "expected \"warning\" or \"error\", got " + quote(*severity));
      }
      diagnostic.message = required_string(d, where, "message");
      out.push_back(std::move(diagnostic));
    });
  }

  void load_cap(const toml::table& t, const std::string& path, const CapsProperty<int>& property,
                std::optional<int>& out) {
    out = width(t, path, property.name, property.lo, property.hi);
  }
  template <class Property, class T>
  void load_cap(const toml::table& t, const std::string& path, const Property& property,
                std::optional<T>& out) {
    load_cap(t, path, property.name, out);
  }
  void load_cap(const toml::table& t, const std::string& path, std::string_view key,
                std::optional<bool>& out) {
    out = boolean(t, path, key, false);
  }
  /// An enumeration as its to_string() spells it; `expected` lists the spellings.
  template <class E>
  void load_enum(const toml::table& t, const std::string& path, std::string_view key,
                 std::optional<E>& out, std::optional<E> (*parse)(std::string_view),
                 std::string_view expected) {
    const std::optional<std::string> text = string(t, path, key, false);
    if (!text) return;
    out = parse(*text);
    if (!out) {
      fail(t.get(key)->source(), join(path, key),
           "expected " + std::string(expected) + ", got " + quote(*text));
    }
  }
  void load_cap(const toml::table& t, const std::string& path, std::string_view key,
                std::optional<Httu>& out) {
    load_enum(t, path, key, out, parse_httu, R"("none", "access" or "access+dirty")");
  }
  void load_cap(const toml::table& t, const std::string& path, std::string_view key,
                std::optional<Stall>& out) {
    load_enum(t, path, key, out, parse_stall, R"("disabled", "enabled" or "force")");
  }
  void load_cap(const toml::table& t, const std::string& path, std::string_view key,
                std::optional<std::vector<std::string>>& out) {
    if (t.contains(key)) out = string_array(t, path, key);
  }

  Caps load_caps(const toml::table& t, const std::string& path) {
    static constexpr auto kNames = caps_property_names();
    check_keys(t, path, kNames);
    Caps caps;
    for_each_caps_property(
        [&](const auto& property) { load_cap(t, path, property, caps.*property.member); });
    return caps;
  }

  std::map<std::string, std::string> string_map(const toml::table& t, const std::string& path,
                                                std::string_view key) {
    std::map<std::string, std::string> out;
    const toml::table* map = table(t, path, key);
    if (!map) return out;
    for (const auto& [name, value] : *map) {
      const std::string where = join(join(path, key), name.str());
      if (const auto* s = typed<toml::value<std::string>>(&value, where, "a string")) {
        out.emplace(std::string(name.str()), s->get());
      }
    }
    return out;
  }

  std::map<std::string, Scalar> load_extra(const toml::table& t, const std::string& path) {
    std::map<std::string, Scalar> out;
    const toml::table* map = table(t, path, "extra");
    if (!map) return out;
    for (const auto& [name, value] : *map) {
      const std::string key(name.str());
      if (const auto* b = value.as_boolean()) {
        out.emplace(key, b->get());
      } else if (const auto* i = value.as_integer()) {
        out.emplace(key, i->get());
      } else if (const auto* s = value.as_string()) {
        out.emplace(key, s->get());
      } else {
        fail(value.source(), join(join(path, "extra"), key),
             "expected a boolean, an integer or a string, got " +
                 std::string(
                     toml_toolkit::type_name(value.type(), toml_toolkit::Article::kWithout)));
      }
    }
    return out;
  }

  /// name, raw, reserved? and fields of a register; `extra_keys` are the caller's own keys.
  Register load_register(const toml::table& t, const std::string& path, Keys keys) {
    check_keys(t, path, keys);
    Register reg;
    reg.name = required_string(t, path, "name");
    reg.raw = hex(t, path, "raw", true).value_or(0);
    reg.reserved = hex(t, path, "reserved", false).value_or(0);
    const toml::table* fields = table(t, path, "fields");
    if (!fields) return reg;
    reg.fields.reserve(fields->size());
    for (const auto& [key, value] : in_file_order(*fields)) {
      const std::string where = join(join(path, "fields"), key->str());
      reg.fields.push_back({std::string(key->str()), unsigned_of(value, where).value_or(0)});
    }
    return reg;
  }

  RegisterFile load_register_file(const toml::table& t, const std::string& path) {
    RegisterFile file;
    file.main =
        load_register(t, path, {"file", "name", "raw", "reserved", "fields", "format", "efr2"});
    file.file = required_string(t, path, "file");
    file.format = string(t, path, "format", false).value_or("");
    if (const toml::table* second = table(t, path, "efr2")) {
      file.second =
          load_register(*second, join(path, "efr2"), {"name", "raw", "reserved", "fields"});
    }
    return file;
  }

  IommufdUnitInfo load_unit_iommufd(const toml::table& t, const std::string& path) {
    check_keys(t, path,
               {"device", "data_type", "data_type_name", "data_len", "data", "matches_sysfs",
                "fields", "register"});
    IommufdUnitInfo info;
    info.device = required_string(t, path, "device");
    info.data_type =
        static_cast<uint32_t>(integer(t, path, "data_type", true, 0, UINT32_MAX).value_or(0));
    string(t, path, "data_type_name", false);  // derived from data_type
    info.data_len =
        static_cast<uint32_t>(integer(t, path, "data_len", true, 0, UINT32_MAX).value_or(0));
    info.data = required_string(t, path, "data");
    if (info.data.size() % 2 != 0 ||
        info.data.find_first_not_of("0123456789abcdef") != std::string::npos) {
      fail(t.get("data")->source(), join(path, "data"),
           "expected lowercase hex bytes, got " + quote(info.data));
    }
    info.matches_sysfs = boolean(t, path, "matches_sysfs", false);
    if (const toml::table* fields = table(t, path, "fields")) {
      for (const auto& [key, value] : in_file_order(*fields)) {
        const std::string where = join(join(path, "fields"), key->str());
        info.fields.push_back({std::string(key->str()), hex_of(value, where).value_or(0)});
      }
    }
    for_each_table(t, path, "register", 0, [&](const toml::table& r, const std::string& where) {
      info.registers.push_back(load_register(r, where, {"name", "raw", "reserved", "fields"}));
    });
    return info;
  }

  IommufdDeviceInfo load_device_iommufd(const toml::table& t, const std::string& path) {
    check_keys(t, path, {"cdev", "capabilities", "max_pasid_log2", "error"});
    IommufdDeviceInfo info;
    info.cdev = required_string(t, path, "cdev");
    info.capabilities = hex(t, path, "capabilities", false);
    if (const std::optional<int64_t> log2 = integer(t, path, "max_pasid_log2", false, 0, 255)) {
      info.max_pasid_log2 = static_cast<int>(*log2);
    }
    info.error = string(t, path, "error", false).value_or("");
    return info;
  }

  Unit load_unit(const toml::table& t, const std::string& path) {
    check_keys(t, path,
               {"name", "model", "layout", "devices", "caps", "evidence", "register", "properties",
                "extra", "diagnostic", "iommufd"});
    Unit unit;
    unit.name = required_string(t, path, "name");
    unit.model = required_string(t, path, "model");
    if (const std::optional<std::string> layout = string(t, path, "layout", true)) {
      if (const UnitLayout* row = find_layout(*layout)) {
        unit.layout = row->layout;
      } else {
        fail(t.get("layout")->source(), join(path, "layout"),
             "expected " + layout_list() + ", got " + quote(*layout));
      }
    }
    unit.devices = string_array(t, path, "devices");
    if (const toml::table* caps = table(t, path, "caps")) {
      unit.caps = load_caps(*caps, join(path, "caps"));
    }
    unit.evidence = string_map(t, path, "evidence");
    std::unordered_map<std::string, std::size_t> files;
    for_each_table(t, path, "register", 0, [&](const toml::table& r, const std::string& where) {
      unit.registers.push_back(load_register_file(r, where));
      check_unique(files, unit.registers.back().file, r.get("file"), join(where, "file"),
                   "register file", quote(unit.registers.back().file));
    });
    unit.properties = string_map(t, path, "properties");
    unit.extra = load_extra(t, path);
    if (const toml::table* iommufd = table(t, path, "iommufd")) {
      unit.iommufd = load_unit_iommufd(*iommufd, join(path, "iommufd"));
    }
    load_diagnostics(t, path, "diagnostic", unit.diagnostics);
    return unit;
  }

  ReservedRegion load_region(const toml::table& t, const std::string& path) {
    check_keys(t, path, {"start", "end", "type"});
    ReservedRegion region;
    region.start = hex(t, path, "start", true).value_or(0);
    region.end = hex(t, path, "end", true).value_or(0);
    region.type = required_string(t, path, "type");
    return region;
  }

  Group load_group(const toml::table& t, const std::string& path) {
    check_keys(t, path,
               {"id", "type", "name", "devices", "devices_known", "reserved_regions",
                "reserved_regions_known"});
    Group group;
    group.id = unsigned_of(node(t, path, "id", true), join(path, "id")).value_or(0);
    group.type = string(t, path, "type", false);
    group.name = string(t, path, "name", false);
    group.devices = string_array(t, path, "devices");
    group.devices_known = boolean(t, path, "devices_known", false).value_or(true);
    // A report without the list (or saying so) does not know the group's regions.
    group.reserved_regions_known =
        boolean(t, path, "reserved_regions_known", false).value_or(true) &&
        t.contains("reserved_regions");
    for_each_table(t, path, "reserved_regions", 0, [&](const toml::table& r, const std::string& w) {
      group.reserved_regions.push_back(load_region(r, w));
    });
    return group;
  }

  /// pasid: missing = unknown, false = absent, a table = the capability.
  void load_pasid(const toml::table& t, const std::string& path, PciInfo& pci) {
    const toml::node* n = node(t, path, "pasid", false);
    if (!n) return;
    const std::string where = join(path, "pasid");
    if (const auto* b = n->as_boolean()) {
      if (b->get()) fail(n->source(), where, "expected false or a table, got true");
      pci.pasid.emplace();
      return;
    }
    const auto* cap = typed<toml::table>(n, where, "false or a table");
    if (!cap) return;
    check_keys(*cap, where, {"max_width", "exec", "priv"});
    PasidCapability pasid;
    // Max PASID Width is a 5-bit field of the capability register.
    pasid.max_width = static_cast<int>(integer(*cap, where, "max_width", true, 0, 31).value_or(0));
    pasid.exec = boolean(*cap, where, "exec", true).value_or(false);
    pasid.priv = boolean(*cap, where, "priv", true).value_or(false);
    pci.pasid.emplace(pasid);
  }

  /// A "0x.." value no wider than `max`.
  uint64_t bounded_hex(const toml::table& t, const std::string& path, std::string_view key,
                       uint64_t max) {
    const std::optional<uint64_t> v = hex(t, path, key, true);
    if (v && *v > max) {
      fail(t.get(key)->source(), join(path, key),
           "value " + format_hex(*v) + " is larger than " + format_hex(max));
    }
    return v.value_or(0) & max;
  }

  PciInfo load_pci(const toml::table& t, const std::string& path) {
    check_keys(t, path,
               {"vendor", "device", "class", "header_type", "config_size", "pasid", "ats", "pri"});
    PciInfo pci;
    pci.vendor = static_cast<uint16_t>(bounded_hex(t, path, "vendor", 0xffff));
    pci.device = static_cast<uint16_t>(bounded_hex(t, path, "device", 0xffff));
    pci.class_code = static_cast<uint32_t>(bounded_hex(t, path, "class", 0xffffff));
    pci.header_type =
        static_cast<uint8_t>(integer(t, path, "header_type", true, 0, 0x7f).value_or(0));
    // The reader keeps at most the 4 KiB of PCIe configuration space; 0 is "not known".
    pci.config_size =
        static_cast<uint32_t>(integer(t, path, "config_size", false, 1, 4096).value_or(0));
    load_pasid(t, path, pci);
    pci.ats = boolean(t, path, "ats", false);
    pci.pri = boolean(t, path, "pri", false);
    return pci;
  }

  Device load_device(const toml::table& t, const std::string& path) {
    check_keys(t, path, {"name", "unit", "group", "driver", "driver_known", "pci", "iommufd"});
    Device device;
    device.name = required_string(t, path, "name");
    device.unit = string(t, path, "unit", false);
    device.group = unsigned_of(node(t, path, "group", false), join(path, "group"));
    device.driver = string(t, path, "driver", false);
    device.driver_known = boolean(t, path, "driver_known", false).value_or(true);
    if (const toml::table* pci = table(t, path, "pci"))
      device.pci = load_pci(*pci, join(path, "pci"));
    if (const toml::table* iommufd = table(t, path, "iommufd")) {
      device.iommufd = load_device_iommufd(*iommufd, join(path, "iommufd"));
    }
    return device;
  }

  std::string file_;
  toml_toolkit::Reader reader_;
  /// Why the report is incomplete, when finish() found no [end] and nothing else wrong.
  std::optional<Error> finish_error_;
  bool seen_head_ = false;
  bool ended_ = false;
  std::unordered_map<std::string, std::size_t> once_;  // top-level key -> line
  std::unordered_map<std::string, std::size_t> units_;
  std::unordered_map<std::string, std::size_t> devices_;
  std::unordered_map<uint64_t, std::size_t> groups_;
};

}  // namespace

void write_host_report(const Host& host, std::ostream& out) { ReportWriter(out).write(host); }

namespace {

/// A piece of a report that toml++ parses on its own: the head (schema, [source], [platform])
/// or one top-level table, from its header line to the next. Parsing a report in parts holds
/// one part's toml++ tree at a time, not the whole document's (several times the text).
struct Part {
  std::string_view text;
  std::size_t first_line = 1;
};

/// The header lines iommu-probe writes at the top level. Any other line (even one that names
/// the same table differently) stays inside its part, which toml++ then parses as a whole: the
/// split never changes what a report means, only how much of it is parsed at once. The writer
/// never writes a raw newline inside a string, so such a line is never inside a value.
bool starts_part(std::string_view line) {
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line == "[[unit]]" || line == "[[group]]" || line == "[[device]]" ||
         line == "[[diagnostic]]" || line == "[end]";
}

std::vector<Part> split_report(std::string_view text) {
  std::vector<Part> parts(1);
  std::size_t start = 0;
  std::size_t line = 1;
  for (std::size_t pos = 0; pos < text.size(); ++line) {
    const std::size_t newline = text.find('\n', pos);
    const std::size_t stop = newline == std::string_view::npos ? text.size() : newline;
    if (pos > 0 && starts_part(text.substr(pos, stop - pos))) {
      parts.back().text = text.substr(start, pos - start);
      parts.push_back({{}, line});
      start = pos;
    }
    pos = stop + 1;
  }
  parts.back().text = text.substr(start);
  return parts;
}

/// The number of the file's last line (a final newline ends a line, it starts none).
std::size_t last_line(std::string_view text) {
  std::size_t lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  return text.empty() || text.back() != '\n' ? lines + 1 : std::max<std::size_t>(lines, 1);
}

/// Makes room for the units, groups and devices the [end] table counts, as far as the report
/// has parts for them: growing the vectors one by one would hold up to twice their size.
void reserve(const std::vector<Part>& parts, const toml::table* tail, Host& host) {
  if (!tail) return;
  auto room = [&](std::string_view header, std::string_view key) -> std::size_t {
    const std::size_t have = static_cast<std::size_t>(std::count_if(
        parts.begin(), parts.end(), [&](const Part& p) { return p.text.starts_with(header); }));
    const std::optional<int64_t> said = (*tail)["end"][key].value<int64_t>();
    if (!said || *said < 0) return 0;
    return std::min(have, static_cast<std::size_t>(*said));
  };
  host.units.reserve(room("[[unit]]", "units"));
  host.groups.reserve(room("[[group]]", "groups"));
  host.devices.reserve(room("[[device]]", "devices"));
}

Result<Host> load_parts(std::string_view text, std::string_view file) {
  const std::vector<Part> parts = split_report(text);
  Host host;
  host.backend = "report";
  host.root = std::string(file);
  ReportLoader loader(file);
  // Parses part i, or records why it could not be parsed.
  auto parse = [&](std::size_t i) -> std::optional<toml::table> {
    try {
      return toml::parse(parts[i].text, file);
    } catch (const toml::parse_error& e) {
      loader.parse_failed(e, parts[i].first_line);
      return std::nullopt;
    }
  };
  std::optional<toml::table> head = parse(0);
  if (head) loader.load_part(*head, parts[0].first_line, host);
  if (loader.error()) {
    Error error = *loader.error();
    // A report cut inside its head (a multi-line array) is unparsable there because it is
    // incomplete: say both.
    if (!head && parts.size() == 1) {
      error.message += "; " + incomplete(file, last_line(text)).message;
    }
    return tl::unexpected(std::move(error));
  }
  // The last part first: a report cut short is refused as that, whatever its last part
  // holds, before anything in it is taken for a problem of its own.
  std::optional<toml::table> tail;
  if (parts.size() > 1) {
    tail = parse(parts.size() - 1);
    if (!tail || !tail->contains("end")) return tl::unexpected(incomplete(file, last_line(text)));
  } else if (!head->contains("end")) {
    return tl::unexpected(incomplete(file, last_line(text)));
  }
  reserve(parts, tail ? &*tail : nullptr, host);
  for (std::size_t i = 1; i + 1 < parts.size(); ++i) {
    std::optional<toml::table> root = parse(i);
    if (root) loader.load_part(*root, parts[i].first_line, host);
    if (loader.error()) return tl::unexpected(*loader.error());
  }
  if (tail) loader.load_part(*tail, parts.back().first_line, host);
  loader.finish(last_line(text));
  if (loader.error()) return tl::unexpected(*loader.error());
  return host;
}

}  // namespace

Result<Host> load_host_report(std::string_view text, std::string_view file) {
  if (text.size() > kHostReportMaxBytes) {
    return make_error(std::string(file), "the report is " + std::to_string(text.size()) +
                                             " bytes, more than the " +
                                             std::to_string(kHostReportMaxBytes >> 20) +
                                             " MiB a host report may have");
  }
  try {
    return load_parts(text, file);
  } catch (const std::bad_alloc&) {
    return make_error(std::string(file), "out of memory loading the report (" +
                                             std::to_string(text.size()) + " bytes)");
  } catch (const std::length_error&) {
    return make_error(std::string(file), "out of memory loading the report (" +
                                             std::to_string(text.size()) + " bytes)");
  }
}

}  // namespace caps
