// SPDX-License-Identifier: MIT
// format_json: the model, member by member, through JsonWriter; unknown values are null.
#include "iommu-probe/probe_format_json.h"

#include <optional>
#include <string>
#include <variant>

#include "common/json_writer.h"
#include "libcaps/caps_properties.h"

namespace tools {

namespace {

using caps::Caps;
using caps::Device;
using caps::Diagnostics;
using caps::Group;
using caps::Host;
using caps::PciInfo;
using caps::Register;
using caps::RegisterFile;
using caps::Unit;

/// "0x" + lowercase hex, zero-padded to at least `digits` digits (as printf "0x%0*" PRIx64).
std::string hex(uint64_t value, int digits = 1) {
  char buf[2 + 16];
  char* const end = buf + sizeof buf;
  char* at = end;
  int written = 0;
  do {
    *--at = "0123456789abcdef"[value & 0xf];
    value >>= 4;
    ++written;
  } while (value != 0);
  for (; written < digits && written < 16; ++written) *--at = '0';
  *--at = 'x';
  *--at = '0';
  return std::string(at, end);
}

void optional_bool(JsonWriter& w, const std::optional<bool>& value) {
  if (value) {
    w.boolean(*value);
  } else {
    w.null();
  }
}

void optional_string(JsonWriter& w, const std::optional<std::string>& value) {
  if (value) {
    w.string(*value);
  } else {
    w.null();
  }
}

void string_array(JsonWriter& w, const std::vector<std::string>& items, JsonStyle style) {
  w.begin_array(style);
  for (const std::string& item : items) w.string(item);
  w.end_array();
}

void string_map(JsonWriter& w, const std::map<std::string, std::string>& map) {
  w.begin_object();
  for (const auto& [name, value] : map) {
    w.key(name);
    w.string(value);
  }
  w.end_object();
}

void caps_value(JsonWriter& w, int value) { w.integer(value); }
void caps_value(JsonWriter& w, bool value) { w.boolean(value); }
void caps_value(JsonWriter& w, caps::Httu value) { w.string(caps::to_string(value)); }
void caps_value(JsonWriter& w, caps::Stall value) { w.string(caps::to_string(value)); }
void caps_value(JsonWriter& w, const std::vector<std::string>& value) {
  string_array(w, value, JsonStyle::kInline);
}

/// Every property of the table, null when unknown.
void write_caps(JsonWriter& w, const Caps& caps) {
  w.begin_object();
  caps::for_each_caps_property([&](const auto& property) {
    w.key(property.name);
    if (const auto& value = caps.*property.member) {
      caps_value(w, *value);
    } else {
      w.null();
    }
  });
  w.end_object();
}

/// {"raw", "fields", "reserved"?}, without closing the object so callers can add members.
void begin_register(JsonWriter& w, const Register& reg) {
  w.begin_object();
  w.key("raw");
  w.string(hex(reg.raw));
  w.key("fields");
  w.begin_object();
  for (const caps::Field& field : reg.fields) {
    w.key(field.name);
    w.unsigned_integer(field.value);
  }
  w.end_object();
  if (reg.reserved != 0) {
    w.key("reserved");
    w.string(hex(reg.reserved));
  }
}

void write_registers(JsonWriter& w, const std::vector<RegisterFile>& files) {
  w.begin_object();
  for (const RegisterFile& file : files) {
    w.key(file.file);
    begin_register(w, file.main);
    if (!file.format.empty()) {
      w.key("format");
      w.string(file.format);
    }
    if (file.second) {
      w.key("efr2");
      begin_register(w, *file.second);
      w.end_object();
    }
    w.end_object();
  }
  w.end_object();
}

void write_extra(JsonWriter& w, const std::map<std::string, caps::Scalar>& extra) {
  w.begin_object();
  for (const auto& [name, value] : extra) {
    w.key(name);
    if (const bool* b = std::get_if<bool>(&value)) {
      w.boolean(*b);
    } else if (const int64_t* i = std::get_if<int64_t>(&value)) {
      w.integer(*i);
    } else {
      w.string(std::get<std::string>(value));
    }
  }
  w.end_object();
}

void write_diagnostics(JsonWriter& w, const Diagnostics& diagnostics) {
  w.begin_array();
  for (const caps::Diagnostic& d : diagnostics) {
    w.begin_object(JsonStyle::kInline);
    w.key("path");
    w.string(d.path);
    w.key("severity");
    w.string(caps::to_string(d.severity));
    w.key("message");
    w.string(d.message);
    w.end_object();
  }
  w.end_array();
}

void write_unit(JsonWriter& w, const Unit& unit) {
  w.begin_object();
  w.key("name");
  w.string(unit.name);
  w.key("model");
  w.string(unit.model);
  w.key("layout");
  w.string(caps::to_string(unit.layout));
  w.key("caps");
  write_caps(w, unit.caps);
  w.key("registers");
  write_registers(w, unit.registers);
  w.key("properties");
  string_map(w, unit.properties);
  w.key("extra");
  write_extra(w, unit.extra);
  w.key("evidence");
  string_map(w, unit.evidence);
  w.key("devices");
  string_array(w, unit.devices, JsonStyle::kBlock);
  w.key("diagnostics");
  write_diagnostics(w, unit.diagnostics);
  if (unit.iommufd) {  // only when iommufd answered for this unit (docs/iommufd.md)
    const caps::IommufdUnitInfo& info = *unit.iommufd;
    w.key("iommufd");
    w.begin_object();
    w.key("device");
    w.string(info.device);
    w.key("data_type");
    w.unsigned_integer(info.data_type);
    w.key("data_type_name");
    w.string(caps::iommufd_data_type_name(info.data_type));
    w.key("data_len");
    w.unsigned_integer(info.data_len);
    w.key("data");
    w.string(info.data);
    w.key("fields");
    w.begin_object();
    for (const caps::Field& field : info.fields) {
      w.key(field.name);
      w.string(hex(field.value));
    }
    w.end_object();
    w.key("registers");
    w.begin_object();
    for (const Register& reg : info.registers) {
      w.key(reg.name);
      begin_register(w, reg);
      w.end_object();
    }
    w.end_object();
    w.key("matches_sysfs");
    optional_bool(w, info.matches_sysfs);
    w.end_object();
  }
  w.end_object();
}

void write_group(JsonWriter& w, const Group& group) {
  w.begin_object();
  w.key("id");
  w.unsigned_integer(group.id);
  w.key("type");
  optional_string(w, group.type);
  if (group.name) {
    w.key("name");
    w.string(*group.name);
  }
  w.key("devices");
  string_array(w, group.devices, JsonStyle::kBlock);
  if (!group.devices_known) {  // only when false, like "name": rare, and absent means known
    w.key("devices_known");
    w.boolean(false);
  }
  if (!group.reserved_regions_known) {  // only when false, like devices_known
    w.key("reserved_regions_known");
    w.boolean(false);
  }
  w.key("reserved_regions");
  w.begin_array();
  for (const caps::ReservedRegion& region : group.reserved_regions) {
    w.begin_object(JsonStyle::kInline);
    w.key("start");
    w.string(hex(region.start));
    w.key("end");
    w.string(hex(region.end));
    w.key("type");
    w.string(region.type);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

/// null: extended config space unknown; false: no PASID capability; else the capability.
void write_pasid(JsonWriter& w, const std::optional<std::optional<caps::PasidCapability>>& pasid) {
  if (!pasid) {
    w.null();
    return;
  }
  if (!*pasid) {
    w.boolean(false);
    return;
  }
  const caps::PasidCapability& cap = **pasid;
  w.begin_object(JsonStyle::kInline);
  w.key("max_width");
  w.integer(cap.max_width);
  w.key("exec");
  w.boolean(cap.exec);
  w.key("priv");
  w.boolean(cap.priv);
  w.end_object();
}

void write_pci(JsonWriter& w, const PciInfo& pci) {
  w.begin_object();
  w.key("vendor");
  w.string(hex(pci.vendor, 4));
  w.key("device");
  w.string(hex(pci.device, 4));
  w.key("class");
  w.string(hex(pci.class_code, 6));
  w.key("header_type");
  w.integer(pci.header_type);
  w.key("config_size");  // null: not known (a host report that did not record it)
  if (pci.config_size != 0) {
    w.integer(pci.config_size);
  } else {
    w.null();
  }
  w.key("pasid");
  write_pasid(w, pci.pasid);
  w.key("ats");
  optional_bool(w, pci.ats);
  w.key("pri");
  optional_bool(w, pci.pri);
  w.end_object();
}

void write_device(JsonWriter& w, const Device& device) {
  w.begin_object();
  w.key("name");
  w.string(device.name);
  w.key("unit");
  optional_string(w, device.unit);
  w.key("group");
  if (device.group) {
    w.unsigned_integer(*device.group);
  } else {
    w.null();
  }
  w.key("driver");
  optional_string(w, device.driver);
  if (!device.driver_known) {  // "driver": null alone means unbound
    w.key("driver_known");
    w.boolean(false);
  }
  w.key("pci");
  if (device.pci) {
    write_pci(w, *device.pci);
  } else {
    w.null();
  }
  if (device.iommufd) {  // only for vfio-pci functions iommufd was asked about
    const caps::IommufdDeviceInfo& info = *device.iommufd;
    w.key("iommufd");
    w.begin_object();
    w.key("cdev");
    w.string(info.cdev);
    w.key("capabilities");
    if (info.capabilities) {
      w.string(hex(*info.capabilities));
    } else {
      w.null();
    }
    // The capability bits by name (iommufd.h enum iommufd_hw_capabilities); null: not reported.
    auto bit = [&](std::string_view name, uint64_t mask) {
      w.key(name);
      if (info.capabilities) {
        w.boolean((*info.capabilities & mask) != 0);
      } else {
        w.null();
      }
    };
    bit("dirty_tracking", 1u << 0);
    bit("pasid_exec", 1u << 1);
    bit("pasid_priv", 1u << 2);
    w.key("max_pasid_log2");
    if (info.max_pasid_log2) {
      w.integer(*info.max_pasid_log2);
    } else {
      w.null();
    }
    w.key("error");
    if (info.error.empty()) {
      w.null();
    } else {
      w.string(info.error);
    }
    w.end_object();
  }
  w.end_object();
}

void write_platform(JsonWriter& w, const caps::Platform& platform) {
  w.begin_object();
  w.key("acpi_tables");
  string_array(w, platform.acpi_tables, JsonStyle::kInline);
  w.key("cmdline");
  optional_string(w, platform.cmdline);
  w.key("kernel_release");
  optional_string(w, platform.kernel_release);
  w.key("why_no_units");
  string_array(w, platform.why_no_units, JsonStyle::kBlock);
  w.end_object();
}

}  // namespace

void format_json(const Host& host, std::ostream& out, bool with_source) {
  JsonWriter w(out);
  w.begin_object();
  w.key("schema");
  w.string(kProbeJsonSchema);
  if (with_source) {
    w.key("source");
    w.begin_object(JsonStyle::kInline);
    w.key("backend");
    w.string(host.backend);
    w.key("sysfs_root");
    w.string(host.root);
    w.end_object();
  }
  w.key("units");
  w.begin_array();
  for (const Unit& unit : host.units) write_unit(w, unit);
  w.end_array();
  w.key("groups");
  w.begin_array();
  for (const Group& group : host.groups) write_group(w, group);
  w.end_array();
  w.key("devices");
  w.begin_array();
  for (const Device& device : host.devices) write_device(w, device);
  w.end_array();
  w.key("platform");
  write_platform(w, host.platform);
  w.key("diagnostics");
  write_diagnostics(w, host.diagnostics);
  if (host.iommufd.state != "not-asked" || !host.iommufd.reason.empty()) {
    w.key("iommufd");
    w.begin_object(JsonStyle::kInline);
    w.key("state");
    w.string(host.iommufd.state);
    w.key("reason");
    w.string(host.iommufd.reason);
    w.key("via");
    w.string(host.iommufd.via);
    w.end_object();
  }
  w.end_object();
  w.finish();
}

}  // namespace tools
