// SPDX-License-Identifier: MIT
// parse_guest and write_guest: the guest file (TOML, format 1) read with toml++, every problem
// collected with its line and column, and written back deterministically.
#include "libcaps/guest.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "guest_keys.h"
#include "libcaps/parse.h"

namespace caps {

std::string_view to_string(PasidTableModel model) {
  switch (model) {
    case PasidTableModel::kHost:
      return "host";
    case PasidTableModel::kArm1Lvl:
      return "arm-1lvl";
    case PasidTableModel::kArm2Lvl:
      return "arm-2lvl";
    case PasidTableModel::kAmd:
      return "amd";
    case PasidTableModel::kIntel:
      return "intel";
  }
  return "host";
}

std::string_view to_string(S1dss s1dss) {
  switch (s1dss) {
    case S1dss::kTerminate:
      return "terminate";
    case S1dss::kBypass:
      return "bypass";
    case S1dss::kSsid0:
      return "ssid0";
  }
  return "terminate";
}

namespace {

/// Optimal string alignment distance: Levenshtein plus adjacent transpositions, so the typo
/// `bfd` is one edit from `bdf`.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

/// The known word nearest to `word` when it is close enough to be a typo of it: one edit for
/// words of up to 3 characters, two up to 9, three beyond. Ties go to the earlier known word.
std::optional<std::string_view> nearest(std::string_view word,
                                        std::span<const std::string_view> known) {
  // Words much longer than any key are not typos; this also bounds the work on hostile keys.
  if (word.size() > 64) return std::nullopt;
  size_t limit = word.size() <= 3 ? 1 : word.size() <= 9 ? 2 : 3;
  std::optional<std::string_view> best;
  size_t best_distance = limit + 1;
  for (std::string_view candidate : known) {
    size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view word, std::span<const std::string_view> known) {
  std::optional<std::string_view> near = nearest(word, known);
  if (!near) return "";
  return "; did you mean `" + std::string(*near) + "`?";
}

/// "a string", "an integer", ... for "expected X, got Y".
std::string_view type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "a value";
}

SourcePos to_pos(const toml::source_region& region) {
  return {static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
}

/// Where to report something about a table that may not have been written: its header, else
/// the top of the file.
SourcePos or_file_start(SourcePos pos) { return pos.line > 0 ? pos : SourcePos{1, 1}; }

std::string join(std::span<const std::string_view> words, std::string_view separator) {
  std::string out;
  for (std::string_view word : words) {
    if (!out.empty()) out += separator;
    out += word;
  }
  return out;
}

/// One table being read: the table, how messages name its keys and where its header is.
struct Scope {
  const toml::table* table = nullptr;
  std::string path;   // "viommu", "device[1]", "" at top level
  std::string label;  // "in [viommu]", "in [[device]]", "at top level"
  SourcePos pos;      // of the header
  /// Known keys an unknown key was taken for: not reported missing again.
  std::vector<std::string_view> suggested;
};

/// A key found in a scope: its node and the key's position.
struct Found {
  const toml::node* node = nullptr;
  SourcePos pos;
};

enum class Need { kOptional, kRequired };

/// Reads one guest file, collecting every problem before giving up.
class GuestParser {
 public:
  explicit GuestParser(std::string_view file) : file_(file) {}

  tl::expected<Guest, std::vector<Error>> parse(std::string_view text);

 private:
  struct Pending {
    SourcePos pos;
    std::string message;
  };

  void error(SourcePos pos, std::string message) {
    errors_.push_back({or_file_start(pos), std::move(message)});
  }

  bool refuse_hostile(std::string_view text);
  void read_top(const toml::table& top, Guest& guest);
  void read_viommu(Scope& scope, GuestViommu& viommu);
  void read_devices(const Found& found, std::vector<GuestDevice>& devices);
  bool check_device_name(const Located<std::string>& bdf, const std::string& path);
  GuestPasidTable read_pasid_table(Scope& scope);
  GuestPasidAlloc read_pasid_alloc(Scope& scope);

  std::optional<Scope> sub_table(const Found& found, std::string path, std::string label);
  void check_keys(Scope& scope, std::span<const std::string_view> known);
  Found find(const Scope& scope, std::string_view key, Need need);
  static std::string key_path(const Scope& scope, std::string_view key);

  std::optional<Located<int64_t>> get_int(const Scope& scope, std::string_view key,
                                          GuestRange range, Need need = Need::kOptional);
  std::optional<Located<bool>> get_bool(const Scope& scope, std::string_view key);
  std::optional<Located<std::string>> get_string(const Scope& scope, std::string_view key,
                                                 Need need = Need::kOptional);
  std::optional<Located<std::string>> get_choice(const Scope& scope, std::string_view key,
                                                 std::span<const std::string_view> choices,
                                                 Need need = Need::kOptional);
  template <class E, size_t N>
  std::optional<Located<E>> get_enum(const Scope& scope, std::string_view key,
                                     const std::array<E, N>& all, Need need = Need::kOptional);
  std::optional<Located<std::vector<std::string>>> get_units(const Scope& scope);

  std::string file_;
  std::vector<Pending> errors_;
};

template <class T>
Located<T> narrow(const Located<int64_t>& located) {
  return {static_cast<T>(located.value), located.pos};
}

template <class T>
std::optional<Located<T>> narrow(const std::optional<Located<int64_t>>& located) {
  if (!located) return std::nullopt;
  return narrow<T>(*located);
}

tl::expected<Guest, std::vector<Error>> GuestParser::parse(std::string_view text) {
  Guest guest;
  guest.file = file_;
  if (!refuse_hostile(text)) {
    try {
      toml::table top = toml::parse(text, std::string_view(file_));
      read_top(top, guest);
    } catch (const toml::parse_error& e) {
      // The only exception toml++ throws; it must not cross the library API.
      std::string description(e.description());
      if (!description.empty())
        description[0] =
            static_cast<char>(std::tolower(static_cast<unsigned char>(description[0])));
      if (!description.empty() && description.back() == '.') description.pop_back();
      error(to_pos(e.source()), "invalid TOML: " + description);
    }
  }
  if (errors_.empty()) return guest;

  // toml++ tables iterate in key order, not file order: report in file order.
  std::stable_sort(errors_.begin(), errors_.end(), [](const Pending& a, const Pending& b) {
    return std::pair(a.pos.line, a.pos.column) < std::pair(b.pos.line, b.pos.column);
  });
  std::vector<Error> out;
  out.reserve(errors_.size());
  for (Pending& p : errors_) {
    out.push_back({file_ + ":" + std::to_string(p.pos.line) + ":" + std::to_string(p.pos.column),
                   std::move(p.message)});
  }
  return tl::unexpected(std::move(out));
}

/// Refuses input toml++ cannot take safely (see kGuestMaxDots) before it parses it. Strings and
/// comments are skipped with TOML's own lexical rules, so dots in values and prose don't count.
bool GuestParser::refuse_hostile(std::string_view text) {
  if (text.size() > kGuestMaxBytes) {
    error({1, 1}, "file is too large: " + std::to_string(text.size()) + " bytes (at most " +
                      std::to_string(kGuestMaxBytes) + ")");
    return true;
  }
  enum class In { kCode, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral };
  In in = In::kCode;
  bool escaped = false;
  size_t dots = 0;
  SourcePos pos{1, 1};
  for (size_t i = 0; i < text.size(); ++i) {
    std::string_view rest = text.substr(i);
    char c = text[i];
    size_t skip = 0;  // further bytes of a three-quote delimiter
    if (escaped) {
      escaped = false;
    } else if (in == In::kCode) {
      if (c == '#') {
        in = In::kComment;
      } else if (rest.starts_with("\"\"\"")) {
        in = In::kMultiBasic;
        skip = 2;
      } else if (rest.starts_with("'''")) {
        in = In::kMultiLiteral;
        skip = 2;
      } else if (c == '"') {
        in = In::kBasic;
      } else if (c == '\'') {
        in = In::kLiteral;
      } else if (c == '.' && ++dots > kGuestMaxDots) {
        error(pos, "too deeply dotted: more than " + std::to_string(kGuestMaxDots) +
                       " '.' outside strings and comments");
        return true;
      }
    } else if (in == In::kComment) {
      if (c == '\n') in = In::kCode;
    } else if (in == In::kBasic) {
      if (c == '\\') escaped = true;
      if (c == '"' || c == '\n') in = In::kCode;
    } else if (in == In::kLiteral) {
      if (c == '\'' || c == '\n') in = In::kCode;
    } else if (in == In::kMultiBasic) {
      if (c == '\\') {
        escaped = true;
      } else if (rest.starts_with("\"\"\"")) {
        in = In::kCode;
        skip = 2;
      }
    } else if (rest.starts_with("'''")) {  // In::kMultiLiteral
      in = In::kCode;
      skip = 2;
    }
    for (size_t k = 0; k <= skip; ++k) {
      if (text[i + k] == '\n') {
        pos = {pos.line + 1, 1};
      } else {
        ++pos.column;
      }
    }
    i += skip;
  }
  return false;
}

std::string GuestParser::key_path(const Scope& scope, std::string_view key) {
  if (scope.path.empty()) return std::string(key);
  return scope.path + "." + std::string(key);
}

void GuestParser::check_keys(Scope& scope, std::span<const std::string_view> known) {
  for (auto&& [key, node] : *scope.table) {
    if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
    std::string message = "unknown key `" + std::string(key.str()) + "` " + scope.label;
    if (std::optional<std::string_view> near = nearest(key.str(), known)) {
      message += "; did you mean `" + std::string(*near) + "`?";
      scope.suggested.push_back(*near);
    }
    error(to_pos(key.source()), std::move(message));
  }
}

Found GuestParser::find(const Scope& scope, std::string_view key, Need need) {
  auto it = scope.table->find(key);
  if (it != scope.table->end()) return {&it->second, to_pos(it->first.source())};
  bool suggested =
      std::find(scope.suggested.begin(), scope.suggested.end(), key) != scope.suggested.end();
  if (need == Need::kRequired && !suggested) {
    error(scope.pos, "missing required key `" + std::string(key) + "` " + scope.label);
  }
  return {};
}

std::optional<Scope> GuestParser::sub_table(const Found& found, std::string path,
                                            std::string label) {
  const toml::table* table = found.node->as_table();
  if (table == nullptr) {
    error(found.pos,
          path + ": expected a table, got " + std::string(type_name(found.node->type())));
    return std::nullopt;
  }
  return Scope{table, std::move(path), std::move(label), to_pos(table->source()), {}};
}

std::optional<Located<int64_t>> GuestParser::get_int(const Scope& scope, std::string_view key,
                                                     GuestRange range, Need need) {
  Found found = find(scope, key, need);
  if (found.node == nullptr) return std::nullopt;
  const toml::value<int64_t>* integer = found.node->as_integer();
  std::string path = key_path(scope, key);
  if (integer == nullptr) {
    error(found.pos,
          path + ": expected an integer, got " + std::string(type_name(found.node->type())));
    return std::nullopt;
  }
  int64_t value = integer->get();
  if (value >= range.lo && value <= range.hi) return Located<int64_t>{value, found.pos};
  if (range.lo == 0 && range.hi == kGuestUnsignedRange.hi) {
    error(found.pos, path + ": expected a non-negative integer, got " + std::to_string(value));
  } else {
    error(found.pos, path + ": expected " + std::to_string(range.lo) + ".." +
                         std::to_string(range.hi) + ", got " + std::to_string(value));
  }
  return std::nullopt;
}

std::optional<Located<bool>> GuestParser::get_bool(const Scope& scope, std::string_view key) {
  Found found = find(scope, key, Need::kOptional);
  if (found.node == nullptr) return std::nullopt;
  if (const toml::value<bool>* boolean = found.node->as_boolean()) {
    return Located<bool>{boolean->get(), found.pos};
  }
  error(found.pos, key_path(scope, key) + ": expected a boolean, got " +
                       std::string(type_name(found.node->type())));
  return std::nullopt;
}

std::optional<Located<std::string>> GuestParser::get_string(const Scope& scope,
                                                            std::string_view key, Need need) {
  Found found = find(scope, key, need);
  if (found.node == nullptr) return std::nullopt;
  const toml::value<std::string>* string = found.node->as_string();
  std::string path = key_path(scope, key);
  if (string == nullptr) {
    error(found.pos,
          path + ": expected a string, got " + std::string(type_name(found.node->type())));
    return std::nullopt;
  }
  if (string->get().empty()) {
    error(found.pos, path + ": expected a non-empty string");
    return std::nullopt;
  }
  return Located<std::string>{string->get(), found.pos};
}

std::optional<Located<std::string>> GuestParser::get_choice(
    const Scope& scope, std::string_view key, std::span<const std::string_view> choices,
    Need need) {
  std::optional<Located<std::string>> string = get_string(scope, key, need);
  if (!string) return std::nullopt;
  if (std::find(choices.begin(), choices.end(), string->value) != choices.end()) return string;
  error(string->pos, key_path(scope, key) + ": `" + string->value + "` is not one of " +
                         join(choices, " | ") + did_you_mean(string->value, choices));
  return std::nullopt;
}

template <class E, size_t N>
std::optional<Located<E>> GuestParser::get_enum(const Scope& scope, std::string_view key,
                                                const std::array<E, N>& all, Need need) {
  std::array<std::string_view, N> names;
  std::transform(all.begin(), all.end(), names.begin(), [](E e) { return to_string(e); });
  std::optional<Located<std::string>> choice = get_choice(scope, key, names, need);
  if (!choice) return std::nullopt;
  size_t index = std::find(names.begin(), names.end(), choice->value) - names.begin();
  return Located<E>{all[index], choice->pos};
}

std::optional<Located<std::vector<std::string>>> GuestParser::get_units(const Scope& scope) {
  Found found = find(scope, "units", Need::kOptional);
  if (found.node == nullptr) return std::nullopt;
  std::string path = key_path(scope, "units");
  const toml::array* array = found.node->as_array();
  if (array == nullptr) {
    error(found.pos, path + ": expected an array of strings, got " +
                         std::string(type_name(found.node->type())));
    return std::nullopt;
  }
  if (array->empty()) {
    error(found.pos, path + ": expected a non-empty array (leave `units` out to check every unit)");
    return std::nullopt;
  }
  Located<std::vector<std::string>> units{{}, found.pos};
  units.value.reserve(array->size());
  // Views of the toml++ strings, which outlive this function's loop: a list of 100,000 names
  // is checked for repeats in linear time.
  std::unordered_set<std::string_view> seen;
  bool ok = true;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    std::string element_path = path + "[" + std::to_string(i) + "]";
    SourcePos pos = to_pos(element.source());
    const toml::value<std::string>* string = element.as_string();
    if (string == nullptr) {
      error(pos,
            element_path + ": expected a string, got " + std::string(type_name(element.type())));
      ok = false;
    } else if (string->get().empty()) {
      error(pos, element_path + ": expected a non-empty string");
      ok = false;
    } else if (!seen.insert(string->get()).second) {
      error(pos, element_path + ": `" + string->get() + "` is listed twice");
      ok = false;
    } else {
      units.value.push_back(string->get());
    }
  }
  if (!ok) return std::nullopt;
  return units;
}

void GuestParser::read_top(const toml::table& top, Guest& guest) {
  Scope scope{&top, "", "at top level", {1, 1}, {}};
  check_keys(scope, kGuestTopKeys);

  GuestRange any{std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
  if (std::optional<Located<int64_t>> format = get_int(scope, "format", any)) {
    if (format->value != kGuestFormat) {
      error(format->pos, "format: unsupported format " + std::to_string(format->value) +
                             " (this version reads format " + std::to_string(kGuestFormat) + ")");
    }
    guest.format = static_cast<int>(kGuestFormat);
  }

  Found viommu = find(scope, "viommu", Need::kOptional);
  if (viommu.node == nullptr) {
    // Said already when an unknown key was taken for `viommu`.
    bool suggested = std::find(scope.suggested.begin(), scope.suggested.end(), "viommu") !=
                     scope.suggested.end();
    if (!suggested) error({1, 1}, "missing required key `model` in [viommu]");
  } else if (std::optional<Scope> sub = sub_table(viommu, "viommu", "in [viommu]")) {
    guest.viommu_pos = sub->pos;
    read_viommu(*sub, guest.viommu);
  }

  if (Found devices = find(scope, "device", Need::kOptional); devices.node != nullptr) {
    read_devices(devices, guest.devices);
  }
  if (Found table = find(scope, "pasid_table", Need::kOptional); table.node != nullptr) {
    if (std::optional<Scope> sub = sub_table(table, "pasid_table", "in [pasid_table]")) {
      guest.pasid_table = read_pasid_table(*sub);
    }
  }
  if (Found alloc = find(scope, "pasid_alloc", Need::kOptional); alloc.node != nullptr) {
    if (std::optional<Scope> sub = sub_table(alloc, "pasid_alloc", "in [pasid_alloc]")) {
      guest.pasid_alloc = read_pasid_alloc(*sub);
    }
  }
}

void GuestParser::read_viommu(Scope& scope, GuestViommu& viommu) {
  check_keys(scope, kGuestViommuKeys);
  if (auto model = get_choice(scope, "model", kGuestViommuModels, Need::kRequired)) {
    viommu.model = std::move(*model);
  }
  viommu.input_bits = narrow<int>(get_int(scope, "input_bits", kGuestAddressBitsRange));
  viommu.output_bits = narrow<int>(get_int(scope, "output_bits", kGuestAddressBitsRange));
  viommu.asid_bits = narrow<int>(get_int(scope, "asid_bits", kGuestAsidBitsRange));
  viommu.ssid_bits = narrow<int>(get_int(scope, "ssid_bits", kGuestSsidBitsRange));
  viommu.httu = get_enum(scope, "httu", kGuestHttuValues);
  viommu.stall = get_enum(scope, "stall", kGuestStallValues);
  viommu.btm = get_bool(scope, "btm");
  viommu.pgtable_format = get_string(scope, "pgtable_format");
  viommu.nested = get_bool(scope, "nested");
  viommu.ats = get_bool(scope, "ats");
  viommu.page_requests = get_bool(scope, "page_requests");
  viommu.dirty_tracking = get_bool(scope, "dirty_tracking");
  viommu.units = get_units(scope);
}

void GuestParser::read_devices(const Found& found, std::vector<GuestDevice>& devices) {
  const toml::array* array = found.node->as_array();
  if (array == nullptr) {
    error(found.pos, "device: expected an array of tables ([[device]]), got " +
                         std::string(type_name(found.node->type())));
    return;
  }
  std::map<std::string, SourcePos> seen;
  for (size_t i = 0; i < array->size(); ++i) {
    std::string path = "device[" + std::to_string(i) + "]";
    const toml::node& element = *array->get(i);
    std::optional<Scope> scope =
        sub_table({&element, to_pos(element.source())}, path, "in [[device]]");
    if (!scope) continue;
    check_keys(*scope, kGuestDeviceKeys);
    std::optional<Located<std::string>> bdf = get_string(*scope, "bdf", Need::kRequired);
    if (!bdf || !check_device_name(*bdf, path + ".bdf")) continue;
    auto [first, inserted] = seen.emplace(bdf->value, bdf->pos);
    if (!inserted) {
      error(bdf->pos, path + ".bdf: `" + bdf->value + "` is assigned twice (first at line " +
                          std::to_string(first->second.line) + ")");
      continue;
    }
    devices.push_back({std::move(*bdf)});
  }
}

bool is_hex(std::string_view text, size_t min_digits, size_t max_digits) {
  if (text.size() < min_digits || text.size() > max_digits) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

/// DDDD:BB:DD.F as sysfs names PCI devices: lowercase hex, domain of 4 or more digits (VMD
/// domains start at 0x10000), device 00-1f, function 0-7.
bool is_pci_address(std::string_view name) {
  size_t dot = name.rfind('.');
  size_t colon2 = name.rfind(':');
  if (dot == std::string_view::npos || colon2 == std::string_view::npos || colon2 == 0)
    return false;
  size_t colon1 = name.rfind(':', colon2 - 1);
  if (colon1 == std::string_view::npos || dot < colon2) return false;
  std::string_view domain = name.substr(0, colon1);
  std::string_view bus = name.substr(colon1 + 1, colon2 - colon1 - 1);
  std::string_view device = name.substr(colon2 + 1, dot - colon2 - 1);
  std::string_view function = name.substr(dot + 1);
  if (!is_hex(domain, 4, 8) || !is_hex(bus, 2, 2) || !is_hex(device, 2, 2)) return false;
  if (device[0] > '1') return false;
  return function.size() == 1 && function[0] >= '0' && function[0] <= '7';
}

/// A [[device]] is a PCI address or, for VFIO platform devices, a platform device name (no ':'),
/// checked only for characters a sysfs name cannot hold.
bool GuestParser::check_device_name(const Located<std::string>& bdf, const std::string& path) {
  const std::string& name = bdf.value;
  if (name.find(':') == std::string::npos) {
    bool sysfs_name = std::none_of(name.begin(), name.end(), [](char c) {
      return c == '/' || static_cast<unsigned char>(c) <= ' ' || c == '\x7f';
    });
    if (sysfs_name) return true;
    error(bdf.pos,
          path + ": `" + name + "` is neither a PCI address DDDD:BB:DD.F nor a device name");
    return false;
  }
  if (is_pci_address(name)) return true;
  if (std::count(name.begin(), name.end(), ':') == 1 && is_pci_address("0000:" + name)) {
    error(bdf.pos, path + ": `" + name + "` has no PCI domain; write `0000:" + name + "`");
    return false;
  }
  error(bdf.pos, path + ": `" + name +
                     "` is not a PCI address DDDD:BB:DD.F (lowercase hex, device 00-1f, "
                     "function 0-7)");
  return false;
}

GuestPasidTable GuestParser::read_pasid_table(Scope& scope) {
  check_keys(scope, kGuestPasidTableKeys);
  GuestPasidTable table;
  table.pos = scope.pos;
  auto version = get_int(scope, "version", kGuestUnsignedRange, Need::kRequired);
  auto bytes = get_int(scope, "bytes", kGuestUnsignedRange, Need::kRequired);
  auto model = get_enum(scope, "model", kGuestPasidTableModels, Need::kRequired);
  auto base_ptr = get_int(scope, "base_ptr", kGuestUnsignedRange, Need::kRequired);
  auto pasid_bits = get_int(scope, "pasid_bits", kGuestPasidBitsRange, Need::kRequired);
  if (version) table.version = narrow<uint64_t>(*version);
  if (bytes) table.bytes = narrow<uint64_t>(*bytes);
  if (model) table.model = *model;
  if (base_ptr) table.base_ptr = narrow<uint64_t>(*base_ptr);
  if (pasid_bits) table.pasid_bits = narrow<int>(*pasid_bits);
  table.s1dss = get_enum(scope, "s1dss", kGuestS1dssValues);
  return table;
}

GuestPasidAlloc GuestParser::read_pasid_alloc(Scope& scope) {
  check_keys(scope, kGuestPasidAllocKeys);
  GuestPasidAlloc alloc;
  alloc.pos = scope.pos;
  auto min = get_int(scope, "min", kGuestUnsignedRange, Need::kRequired);
  auto max = get_int(scope, "max", kGuestUnsignedRange, Need::kRequired);
  auto count = get_int(scope, "count", kGuestUnsignedRange, Need::kRequired);
  auto quota = get_int(scope, "quota", kGuestUnsignedRange);
  if (min) alloc.min = narrow<uint64_t>(*min);
  if (max) alloc.max = narrow<uint64_t>(*max);
  if (count) alloc.count = narrow<uint64_t>(*count);
  alloc.quota = quota ? narrow<uint64_t>(*quota) : Located<uint64_t>{kGuestDefaultQuota, {}};
  return alloc;
}

/// A TOML basic string. Strings are UTF-8 (parse_guest only produces UTF-8); control characters
/// are escaped.
std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == '\x7f') {
          static constexpr char kHex[] = "0123456789ABCDEF";
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

template <class T>
void put(std::string& out, std::string_view key, const std::optional<Located<T>>& located) {
  if (!located) return;
  out += std::string(key) + " = ";
  if constexpr (std::is_same_v<T, bool>) {
    out += located->value ? "true" : "false";
  } else if constexpr (std::is_same_v<T, int>) {
    out += std::to_string(located->value);
  } else if constexpr (std::is_same_v<T, std::string>) {
    out += toml_string(located->value);
  } else {
    out += toml_string(to_string(located->value));
  }
  out += "\n";
}

}  // namespace

tl::expected<Guest, std::vector<Error>> parse_guest(std::string_view text, std::string_view file) {
  return GuestParser(file).parse(text);
}

std::string write_guest(const Guest& guest) {
  std::string out = "# iommu-compat guest description (format 1)\n";
  out += "format = " + std::to_string(guest.format) + "\n";

  const GuestViommu& v = guest.viommu;
  out += "\n[viommu]\n";
  out += "model = " + toml_string(v.model.value) + "\n";
  put(out, "input_bits", v.input_bits);
  put(out, "output_bits", v.output_bits);
  put(out, "asid_bits", v.asid_bits);
  put(out, "ssid_bits", v.ssid_bits);
  put(out, "httu", v.httu);
  put(out, "stall", v.stall);
  put(out, "btm", v.btm);
  put(out, "pgtable_format", v.pgtable_format);
  put(out, "nested", v.nested);
  put(out, "ats", v.ats);
  put(out, "page_requests", v.page_requests);
  put(out, "dirty_tracking", v.dirty_tracking);
  if (v.units) {
    out += "units = [";
    for (size_t i = 0; i < v.units->value.size(); ++i) {
      out += (i == 0 ? "" : ", ") + toml_string(v.units->value[i]);
    }
    out += "]\n";
  }

  for (const GuestDevice& device : guest.devices) {
    out += "\n[[device]]\nbdf = " + toml_string(device.bdf.value) + "\n";
  }

  if (const std::optional<GuestPasidTable>& t = guest.pasid_table) {
    out += "\n[pasid_table]\n";
    out += "version = " + std::to_string(t->version.value) + "\n";
    out += "bytes = " + std::to_string(t->bytes.value) + "\n";
    out += "model = " + toml_string(to_string(t->model.value)) + "\n";
    out += "base_ptr = " + format_hex(t->base_ptr.value) + "\n";
    out += "pasid_bits = " + std::to_string(t->pasid_bits.value) + "\n";
    put(out, "s1dss", t->s1dss);
  }

  if (const std::optional<GuestPasidAlloc>& a = guest.pasid_alloc) {
    out += "\n[pasid_alloc]\n";
    out += "min = " + std::to_string(a->min.value) + "\n";
    out += "max = " + std::to_string(a->max.value) + "\n";
    out += "count = " + std::to_string(a->count.value) + "\n";
    out += "quota = " + std::to_string(a->quota.value) + "\n";
  }
  return out;
}

}  // namespace caps
