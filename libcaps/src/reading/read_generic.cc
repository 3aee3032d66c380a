// SPDX-License-Identifier: MIT
// The generic <model>/<property> layout proposed on the kernel list in 2018: model numbers,
// documented defaults, both pgtable_format shapes, and unknown properties kept as extras.
#include <algorithm>
#include <array>
#include <optional>

#include "libcaps/caps_properties.h"
#include "libcaps/parse.h"
#include "libcaps/reader.h"
#include "model/model_table.h"
#include "read_internal.h"
#include "read_util.h"

namespace caps {

namespace {

/// Reads and parses the generic layout of one unit directory.
class GenericReader {
 public:
  GenericReader(Source& source, Unit& unit, const std::string& dir)
      : source_(source), unit_(unit), dir_(dir) {}

  void read() {
    DirRead listing = source_.list_unit_dir(unit_.name, dir_);
    if (!listing.ok()) {
      add_diagnostic(unit_.diagnostics, unit_path(unit_.name, dir_), Severity::kError,
                     "cannot list: " + describe(listing.status, listing.error));
      return;
    }
    read_model();
    Caps& caps = unit_.caps;
    // By the rows' generic.order, so that problems are reported in the order they always were.
    for (int order = 1; order <= static_cast<int>(kCapsPropertyCount); ++order) {
      for_each_caps_property([&](const auto& property) {
        if (property.generic.order == order) read_property(property);
      });
    }
    if (caps.httu) {
      caps.dirty_tracking = *caps.httu == Httu::kAccessDirty;
      unit_.evidence["dirty_tracking"] = unit_.evidence["httu"];
    }
    read_pgtable_formats(listing);
    if (caps.ssid_bits && *caps.ssid_bits > 20) {
      warn("ssid_bits", "ssid_bits=" + std::to_string(*caps.ssid_bits) +
                            " is beyond the PCIe PASID limit of 20 bits");
    }
    keep_unknown_properties(listing);
  }

 private:
  static std::optional<bool> parse_enabled(std::string_view text) {
    if (text == "enabled") return true;
    if (text == "disabled") return false;
    return std::nullopt;
  }

  /// Optional feature files beyond the proposal take enabled/disabled like btm, or 1/0. (The
  /// proposal's own files are those with a documented default: enabled/disabled only.)
  static std::optional<bool> parse_flag(std::string_view text) {
    if (text == "1") return true;
    if (text == "0") return false;
    return parse_enabled(text);
  }

  /// One property that has a plain file in the layout (generic.name), by its type.
  void read_property(const CapsProperty<int>& p) {
    if (p.generic.name.empty()) return;
    unit_.caps.*p.member = read_width(p.generic.name, p.lo, p.hi, p.generic.if_absent);
  }
  void read_property(const CapsProperty<bool>& p) {
    if (p.generic.name.empty()) return;
    unit_.caps.*p.member =
        read_keyword<bool>(p.generic.name, p.generic.if_absent ? parse_enabled : parse_flag,
                           p.generic.if_absent, p.name);
  }
  void read_property(const CapsProperty<Httu>& p) {
    unit_.caps.*p.member = read_keyword<Httu>(p.generic.name, parse_httu, p.generic.if_absent);
  }
  void read_property(const CapsProperty<Stall>& p) {
    unit_.caps.*p.member = read_keyword<Stall>(p.generic.name, parse_stall, p.generic.if_absent);
  }
  /// A file or a directory: read_pgtable_formats.
  void read_property(const CapsProperty<Formats, std::string>&) {}

  std::string path(std::string_view property) const {
    return unit_path(unit_.name, dir_ + "/" + std::string(property));
  }

  std::string fact(std::string_view property, std::string_view value) const {
    return dir_ + "/" + std::string(property) + "=" + std::string(value);
  }

  void warn(std::string_view property, std::string message) {
    add_diagnostic(unit_.diagnostics, path(property), Severity::kWarning, std::move(message));
  }

  void error(std::string_view property, std::string message) {
    add_diagnostic(unit_.diagnostics, path(property), Severity::kError, std::move(message));
  }

  /// The value of `property`; an absent file is silent (defaults apply), other failures are
  /// reported.
  ValueRead value(std::string_view property, IfMissing if_missing = IfMissing::kSilent) {
    known_.emplace_back(property);
    return read_unit_value(source_, unit_.name, dir_ + "/" + std::string(property),
                           unit_.diagnostics, if_missing);
  }

  void read_model() {
    std::optional<std::string> text = value("model").text;
    bool dir_known = is_known_model(dir_);
    if (!text) {
      if (!dir_known) return;  // is_generic_layout_dir saw a model file that is now gone
      unit_.model = dir_;
      warn("model", "missing; model taken from the directory name " + quote(dir_));
      return;
    }
    unit_.properties["model"] = *text;
    Result<uint64_t> number = parse_dec(*text);
    if (!number) {
      error("model", number.error().message);
      return;
    }
    const ModelInfo* model = model_with_generic_number(*number);
    if (model == nullptr) {
      warn("model", "unknown model number " + std::to_string(*number) +
                        ": a new number announces a mandatory feature this tool does not know");
      return;
    }
    if (model->name != dir_) {
      warn("model", "model number " + std::to_string(*number) + " is " + std::string(model->name) +
                        " but the directory is " + quote(dir_));
      return;
    }
    unit_.model = std::string(model->name);
  }

  std::optional<int> read_width(std::string_view property, int lo, int hi,
                                std::optional<int> fallback) {
    ValueRead read = value(property);
    const std::optional<std::string>& text = read.text;
    std::string key(property);
    if (!text) {
      if (!fallback || !read.absent()) return std::nullopt;
      unit_.evidence[key] = "no " + dir_ + "/" + key + ": default " + std::to_string(*fallback);
      return fallback;
    }
    Result<uint64_t> parsed = parse_dec(*text);
    if (!parsed) {
      error(property, parsed.error().message);
      return std::nullopt;
    }
    if (*parsed < static_cast<uint64_t>(lo) || *parsed > static_cast<uint64_t>(hi)) {
      error(property, "out of range: " + std::to_string(*parsed) + " (expected " +
                          std::to_string(lo) + ".." + std::to_string(hi) + ")");
      return std::nullopt;
    }
    unit_.evidence[key] = fact(property, *text);
    return static_cast<int>(*parsed);
  }

  template <class T>
  std::optional<T> read_keyword(std::string_view property,
                                std::optional<T> (*parse)(std::string_view),
                                std::optional<T> fallback, std::string_view cap_name = {}) {
    std::string key(cap_name.empty() ? property : cap_name);
    ValueRead read = value(property);
    if (!read.text) {
      // A default applies only when the file is truly absent, not when it was unreadable.
      if (!fallback || !read.absent()) return std::nullopt;
      unit_.evidence[key] = "no " + dir_ + "/" + std::string(property) + ": default";
      return fallback;
    }
    std::optional<T> parsed = parse(*read.text);
    if (!parsed) {
      error(property, "unknown value " + quote(*read.text));
      return std::nullopt;
    }
    unit_.evidence[key] = fact(property, *read.text);
    return parsed;
  }

  void read_pgtable_formats(const DirRead& listing) {
    constexpr std::string_view kProperty = "pgtable_format";
    known_.emplace_back(kProperty);
    auto entry = std::find_if(listing.entries.begin(), listing.entries.end(),
                              [&](const DirEntry& e) { return e.name == kProperty; });
    if (entry == listing.entries.end()) return;  // no default: the formats stay unknown
    if (entry->type != EntryType::kDir) {
      // The plain-file shape: one preferred format.
      std::optional<std::string> text =
          read_unit_value(source_, unit_.name, dir_ + "/" + std::string(kProperty),
                          unit_.diagnostics, IfMissing::kWarn)
              .text;
      if (!text) return;
      if (text->empty()) {
        error(kProperty, "empty");
        return;
      }
      unit_.caps.pgtable_formats = std::vector<std::string>{*text};
      unit_.evidence["pgtable_formats"] = fact(kProperty, *text);
      return;
    }
    DirRead formats = source_.list_unit_dir(unit_.name, dir_ + "/" + std::string(kProperty));
    if (!formats.ok()) {
      error(kProperty, "cannot list: " + describe(formats.status, formats.error));
      return;
    }
    std::vector<std::string> names;
    for (const DirEntry& e : formats.entries) names.push_back(e.name);
    std::sort(names.begin(), names.end(), natural_less);
    std::string joined;
    for (const std::string& n : names) joined += (joined.empty() ? "" : ",") + n;
    unit_.evidence["pgtable_formats"] = dir_ + "/pgtable_format/{" + joined + "}";
    unit_.caps.pgtable_formats = std::move(names);
  }

  /// Files the proposal does not name are optional features added later: keep them.
  void keep_unknown_properties(const DirRead& listing) {
    for (const DirEntry& e : listing.entries) {
      if (std::find(known_.begin(), known_.end(), e.name) != known_.end()) continue;
      if (!is_valid_utf8(e.name)) {
        // JSON and TOML can only name it with U+FFFD in place of the bad bytes, and two such
        // names could then collide; a kernel attribute is never named like this.
        warn(e.name, "property name is not valid UTF-8; ignored");
        continue;
      }
      if (e.type == EntryType::kDir) {
        DirRead sub = source_.list_unit_dir(unit_.name, dir_ + "/" + e.name);
        std::string joined;
        for (const DirEntry& s : sub.entries) joined += (joined.empty() ? "" : ",") + s.name;
        unit_.properties[e.name + "/"] = joined;
        continue;
      }
      if (auto text = read_unit_value(source_, unit_.name, dir_ + "/" + e.name, unit_.diagnostics,
                                      IfMissing::kWarn)
                          .text) {
        unit_.properties[e.name] = *text;
      }
    }
  }

  Source& source_;
  Unit& unit_;
  std::string dir_;
  std::vector<std::string> known_;
};

}  // namespace

bool is_generic_layout_dir(Source& source, std::string_view unit, std::string_view dir) {
  if (is_known_model(dir)) return true;
  FileRead model = source.read_unit_file(unit, std::string(dir) + "/model", kAttrLimit);
  return model.status != ReadStatus::kMissing && model.status != ReadStatus::kNotRegular;
}

void read_generic(Source& source, Unit& unit, const std::string& dir) {
  GenericReader(source, unit, dir).read();
}

}  // namespace caps
