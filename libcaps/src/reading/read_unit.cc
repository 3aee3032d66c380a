// SPDX-License-Identifier: MIT
// Reading one unit: which layout of the layout table describes it, the intel-iommu and amd-iommu
// readers, the model of a unit that publishes no capabilities, and the unit's devices/ links.
// The generic layout lives in read_generic.cc.
#include <algorithm>
#include <array>

#include "libcaps/decode.h"
#include "libcaps/parse.h"
#include "libcaps/reader.h"
#include "model/model_table.h"
#include "read_internal.h"
#include "read_util.h"

namespace caps {

namespace {

/// Subdirectories every class device may have that describe no hardware, and the kernel
/// layouts' directories (never a generic model directory).
bool is_infrastructure_dir(std::string_view name) {
  if (name == "devices" || name == "power") return true;
  return std::any_of(kModels.begin(), kModels.end(), [&](const ModelInfo& m) {
    return m.kernel_layout != nullptr && m.kernel_layout->name == name;
  });
}

/// Reads a bare-hex register file and decodes it; nullopt (with a diagnostic) when the
/// file is missing, unreadable or not a register value.
std::optional<RegisterFile> read_register(Source& source, Unit& unit, std::string_view dir,
                                          std::string_view file, const RegisterSpec& spec) {
  std::string rel = std::string(dir) + "/" + std::string(file);
  std::optional<std::string> text =
      read_unit_value(source, unit.name, rel, unit.diagnostics, IfMissing::kError).text;
  if (!text) return std::nullopt;
  Result<uint64_t> raw = parse_hex(*text);
  if (!raw) {
    add_diagnostic(unit.diagnostics, unit_path(unit.name, rel), Severity::kError,
                   raw.error().message);
    return std::nullopt;
  }
  return RegisterFile{std::string(file), decode(spec, *raw), std::nullopt, ""};
}

void apply(Unit& unit, Normalized normalized, std::string_view dir) {
  unit.caps = std::move(normalized.caps);
  unit.evidence = std::move(normalized.evidence);
  unit.extra = std::move(normalized.extra);
  for (Diagnostic& d : normalized.diagnostics) {
    if (d.path.empty()) d.path = display_path(unit_path(unit.name, dir));
    unit.diagnostics.push_back(std::move(d));
  }
}

const Register* find_register(const Unit& unit, std::string_view file) {
  for (const RegisterFile& r : unit.registers) {
    if (r.file == file) return &r.main;
  }
  return nullptr;
}

/// Keeps a plain property file's value; `check` validates it (an error message or empty).
void read_property(Source& source, Unit& unit, std::string_view dir, std::string_view file,
                   std::string (*check)(std::string_view, std::string&)) {
  std::string rel = std::string(dir) + "/" + std::string(file);
  std::optional<std::string> text =
      read_unit_value(source, unit.name, rel, unit.diagnostics, IfMissing::kWarn).text;
  if (!text) return;
  std::string path = unit_path(unit.name, rel);
  std::string value = *text;
  std::string problem = check(*text, value);
  if (!problem.empty()) {
    add_diagnostic(unit.diagnostics, path, Severity::kError, problem);
    return;
  }
  unit.properties[std::string(file)] = std::move(value);
}

/// version: "%d:%d" (VER_REG major:minor, each 0..15).
std::string check_version(std::string_view text, std::string&) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || !parse_dec(text.substr(0, colon)) ||
      !parse_dec(text.substr(colon + 1))) {
    return "expected <major>:<minor>, got " + quote(text);
  }
  return "";
}

/// address: bare hex; shown with 0x like every other hex value in the model.
std::string check_address(std::string_view text, std::string& value) {
  Result<uint64_t> parsed = parse_hex(text);
  if (!parsed) return parsed.error().message;
  value = format_hex(*parsed);
  return "";
}

std::string check_decimal(std::string_view text, std::string&) {
  Result<uint64_t> parsed = parse_dec(text);
  return parsed ? "" : parsed.error().message;
}

}  // namespace

void read_intel_layout(Source& source, Unit& unit, const std::string& dir) {
  for (auto [file, spec] : {std::pair{"cap", &vtd_cap_spec()}, {"ecap", &vtd_ecap_spec()}}) {
    // Set reserved bits stay in the register (Register::reserved), not in a diagnostic:
    // real parts set bits no public source names (EFR bit 5 on Zen 4), so a warning on every
    // such host would be noise.
    if (auto reg = read_register(source, unit, dir, file, *spec)) {
      unit.registers.push_back(std::move(*reg));
    }
  }
  read_property(source, unit, dir, "version", check_version);
  read_property(source, unit, dir, "address", check_address);
  read_property(source, unit, dir, "domains_supported", check_decimal);
  read_property(source, unit, dir, "domains_used", check_decimal);
  apply(unit, normalize_vtd(find_register(unit, "cap"), find_register(unit, "ecap")), dir);

  // domains_supported is the kernel's cap_ndoms(): it must agree with CAP.ND.
  auto domains = unit.properties.find("domains_supported");
  const Register* cap = find_register(unit, "cap");
  if (domains != unit.properties.end() && cap != nullptr) {
    uint64_t nd = cap->field("ND").value_or(0);
    uint64_t expected = nd < 7 ? uint64_t{1} << (4 + 2 * nd) : 0;
    if (expected != 0 && std::to_string(expected) != domains->second) {
      add_diagnostic(unit.diagnostics, unit_path(unit.name, dir + "/domains_supported"),
                     Severity::kWarning,
                     "disagrees with cap.ND=" + std::to_string(nd) + " (" +
                         std::to_string(expected) + " domains)");
    }
  }
}

void read_amd_layout(Source& source, Unit& unit, const std::string& dir) {
  if (auto reg = read_register(source, unit, dir, "cap", amd_cap_spec())) {
    unit.registers.push_back(std::move(*reg));
  }
  const std::string features_file = dir + "/features";
  std::string path = unit_path(unit.name, features_file);
  bool order_known = true;
  if (auto text =
          read_unit_value(source, unit.name, features_file, unit.diagnostics, IfMissing::kError)
              .text) {
    Result<AmdFeatures> features = parse_amd_features(*text);
    if (!features) {
      add_diagnostic(unit.diagnostics, path, Severity::kError, features.error().message);
    } else {
      for (Diagnostic& d : features->diagnostics) {
        add_diagnostic(unit.diagnostics, path, d.severity, std::move(d.message));
      }
      RegisterFile file{"features", decode(amd_efr_spec(), features->efr), std::nullopt,
                        features->format};
      if (features->efr2) file.second = decode(amd_efr2_spec(), *features->efr2);
      order_known = features->order_known();
      unit.registers.push_back(std::move(file));
    }
  }
  const Register* cap = find_register(unit, "cap");
  const Register* efr = nullptr;
  const Register* efr2 = nullptr;
  for (const RegisterFile& r : unit.registers) {
    if (r.file != "features") continue;
    efr = &r.main;
    if (r.second) efr2 = &*r.second;
  }
  if (!order_known && efr != nullptr && efr2 != nullptr) {
    apply(unit, normalize_amd_either_order(cap, *efr, *efr2), dir);
    return;
  }
  apply(unit, normalize_amd(cap, efr, efr2), dir);
}

namespace {

void read_devices(Source& source, Unit& unit) {
  DirRead listing = source.list_unit_dir(unit.name, "devices");
  if (listing.status == ReadStatus::kMissing) return;  // no devices/ at all: none linked
  if (!listing.ok()) {
    add_diagnostic(unit.diagnostics, unit_path(unit.name, "devices"), Severity::kError,
                   "cannot list: " + describe(listing.status, listing.error));
    return;
  }
  for (DirEntry& e : listing.entries) unit.devices.push_back(std::move(e.name));
  std::sort(unit.devices.begin(), unit.devices.end(), device_less);
}

/// The driver of the unit's parent device (class/iommu/<unit>/device/driver), if the link
/// is there and readable. A unit without one is nothing to report: the name may still tell.
std::optional<std::string> parent_driver(Source& source, const Unit& unit) {
  LinkRead link = source.read_link(unit_path(unit.name, "device/driver"));
  if (!link.ok()) return std::nullopt;
  std::string driver = link_basename(link.target);
  if (driver.empty() || driver == "." || driver == "..") return std::nullopt;
  return driver;
}

/// The model of a unit that publishes no capabilities, from what the kernel does give: the
/// driver its parent device is bound to, else the name the driver gave the unit. The
/// capabilities stay unknown; Unit::evidence["model"] says how the model was found.
void infer_model(Source& source, Unit& unit) {
  if (std::optional<std::string> driver = parent_driver(source, unit)) {
    for (const ModelInfo& model : kModels) {
      if (model.parent_driver.empty() || *driver != model.parent_driver) continue;
      unit.model = std::string(model.name);
      unit.evidence["model"] = "device/driver -> " + *driver + ": model = " + unit.model +
                               " (no capabilities published)";
      return;
    }
  }
  for (const ModelInfo& model : kModels) {
    if (model.unit_name_prefix.empty() || !unit.name.starts_with(model.unit_name_prefix)) {
      continue;
    }
    unit.model = std::string(model.name);
    unit.evidence["model"] = "named " + std::string(model.unit_name_prefix) + "* (" +
                             std::string(model.unit_name_source) + "): model = " + unit.model +
                             " (no capabilities published)";
    return;
  }
}

}  // namespace

Unit read_unit(Source& source, const std::string& name) {
  Unit unit;
  unit.name = name;
  DirRead top = source.list_unit_dir(name, "");
  if (!top.ok()) {
    add_diagnostic(unit.diagnostics, unit_path(name, ""), Severity::kError,
                   "cannot list unit directory: " + describe(top.status, top.error));
    return unit;
  }
  auto has = [&](std::string_view dir) {
    return std::any_of(top.entries.begin(), top.entries.end(),
                       [&](const DirEntry& e) { return e.name == dir; });
  };
  // The layouts that describe the unit, each with the directory it is read from.
  std::vector<std::pair<const UnitLayout*, std::string>> layouts;
  for (const ModelInfo& m : kModels) {
    if (m.kernel_layout != nullptr && has(m.kernel_layout->name)) {
      layouts.emplace_back(m.kernel_layout, m.kernel_layout->name);
    }
  }
  const UnitLayout& generic = layout_info(Layout::kGeneric);
  for (const DirEntry& e : top.entries) {
    if (e.type == EntryType::kDir && !is_infrastructure_dir(e.name) &&
        is_generic_layout_dir(source, name, e.name)) {
      layouts.emplace_back(&generic, e.name);
    }
  }
  if (layouts.size() > 1) {
    std::string list;
    for (const auto& [layout, dir] : layouts) list += (list.empty() ? "" : ", ") + dir;
    add_diagnostic(unit.diagnostics, unit_path(name, ""), Severity::kWarning,
                   "several layouts describe this unit (" + list + "); using " + layouts[0].second);
  }
  if (layouts.empty()) {
    unit.layout = Layout::kNone;
    infer_model(source, unit);
  } else {
    const auto& [layout, dir] = layouts[0];
    unit.layout = layout->layout;
    if (const ModelInfo* model = model_with_kernel_layout(layout->layout)) {
      unit.model = std::string(model->name);
    }
    layout->read(source, unit, dir);
  }
  read_devices(source, unit);
  return unit;
}

}  // namespace caps
