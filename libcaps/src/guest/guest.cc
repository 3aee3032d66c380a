// SPDX-License-Identifier: MIT
// parse_guest and write_guest: the guest file (TOML, format 1) read with toml++ — its syntax:
// keys, types, positions — with validate_guest's checks of the values (guest_validate.cc), every
// problem collected with its line and column; and written back deterministically.
#include "libcaps/guest.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "guest_keys.h"
#include "guest_validate.h"
#include "libcaps/caps_properties.h"
#include "libcaps/parse.h"
#include "libcaps/string_literal.h"
#include "text/toml_toolkit.h"

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

std::string_view to_string(Stage1Type type) {
  return type == Stage1Type::kArmSmmuV3 ? "arm_smmuv3" : "vtd_s1";
}

std::string_view to_string(SteConfig config) {
  switch (config) {
    case SteConfig::kAbort:
      return "abort";
    case SteConfig::kBypass:
      return "bypass";
    case SteConfig::kS1Trans:
      return "s1-trans";
    case SteConfig::kS2Trans:
      return "s2-trans";
    case SteConfig::kNested:
      return "nested";
  }
  return "abort";
}

std::string_view to_string(S1Fmt format) {
  switch (format) {
    case S1Fmt::kLinear:
      return "linear";
    case S1Fmt::kTwoLevel4k:
      return "2lvl-4k";
    case S1Fmt::kTwoLevel64k:
      return "2lvl-64k";
  }
  return "linear";
}

std::string_view to_string(Eats eats) {
  switch (eats) {
    case Eats::kAbort:
      return "abort";
    case Eats::kTrans:
      return "trans";
    case Eats::kSplit:
      return "split";
  }
  return "abort";
}

namespace {

SourcePos to_pos(const toml::source_region& region) { return toml_toolkit::position(region); }

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
  explicit GuestParser(std::string_view file)
      : file_(file), reader_(file, toml_toolkit::Article::kWith) {}

  tl::expected<Guest, std::vector<Error>> parse(std::string_view text);

 private:
  void error(SourcePos pos, std::string message) { reader_.error(pos, std::move(message)); }

  bool refuse_hostile(std::string_view text);
  /// Adds validate_guest's problems (see guest_problems) to the syntax's, in one list.
  void validate(const Guest& guest);
  void read_top(const toml::table& top, Guest& guest);
  void read_viommu(Scope& scope, GuestViommu& viommu);
  void read_devices(const Found& found, std::vector<GuestDevice>& devices);
  GuestPasidTable read_pasid_table(Scope& scope);
  GuestPasidAlloc read_pasid_alloc(Scope& scope);
  GuestStage1 read_stage1(Scope& scope);
  GuestVfio read_vfio(Scope& scope);
  GuestMemory read_memory(Scope& scope);

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
  /// A [viommu] key that is a normalized property (see caps_properties.h), by its type.
  std::optional<Located<int>> get_property(const Scope& scope, const CapsProperty<int>& p);
  std::optional<Located<Httu>> get_property(const Scope& scope, const CapsProperty<Httu>& p);
  std::optional<Located<Stall>> get_property(const Scope& scope, const CapsProperty<Stall>& p);
  std::optional<Located<bool>> get_property(const Scope& scope, const CapsProperty<bool>& p);
  std::optional<Located<std::string>> get_property(const Scope& scope,
                                                   const CapsProperty<Formats, std::string>& p);

  std::string file_;
  toml_toolkit::Reader reader_;
  /// Key paths the syntax left unread (missing or of the wrong type), already reported: what
  /// validate_guest would say about their empty values is not said again.
  std::unordered_set<std::string> unread_;
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
      validate(guest);
    } catch (const toml::parse_error& e) {
      // The only exception toml++ throws; it must not cross the library API.
      error(to_pos(e.source()), toml_toolkit::syntax_message(e));
    }
  }
  if (!reader_.failed()) return guest;

  std::vector<toml_toolkit::Problem> problems = reader_.take_sorted_errors();
  std::vector<Error> out;
  out.reserve(problems.size());
  for (toml_toolkit::Problem& p : problems) {
    out.push_back({file_, std::move(p.message), p.pos});
  }
  return tl::unexpected(std::move(out));
}

void GuestParser::validate(const Guest& guest) {
  for (GuestProblem& p : guest_problems(guest)) {
    if (!unread_.contains(p.path)) error(p.pos, std::move(p.message));
  }
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
  return toml_toolkit::join(scope.path, key);
}

void GuestParser::check_keys(Scope& scope, std::span<const std::string_view> known) {
  for (const toml_toolkit::Reader::UnknownKey& unknown :
       reader_.unknown_keys(*scope.table, known)) {
    std::string message = "unknown key `" + std::string(unknown.key) + "` " + scope.label;
    if (unknown.near) {
      message += "; did you mean `" + std::string(*unknown.near) + "`?";
      scope.suggested.push_back(*unknown.near);
    }
    error(unknown.pos, std::move(message));
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
  const toml::table* table = reader_.typed_at<toml::table>(found.node, found.pos, path, "a table");
  if (table == nullptr) return std::nullopt;
  return Scope{table, std::move(path), std::move(label), to_pos(table->source()), {}};
}

std::optional<Located<int64_t>> GuestParser::get_int(const Scope& scope, std::string_view key,
                                                     GuestRange range, Need need) {
  // What the Guest member holds: the whole range for unsigned and file-level values, else an
  // int. validate_guest checks the range itself.
  const bool wide = range.lo == std::numeric_limits<int64_t>::min() ||
                    (range.lo == 0 && range.hi == kGuestUnsignedRange.hi);
  const GuestRange fits =
      wide ? range : GuestRange{std::numeric_limits<int>::min(), std::numeric_limits<int>::max()};
  Found found = find(scope, key, need);
  if (found.node == nullptr) return std::nullopt;
  std::string path = key_path(scope, key);
  const auto* integer =
      reader_.typed_at<toml::value<int64_t>>(found.node, found.pos, path, "an integer");
  if (integer == nullptr) return std::nullopt;
  int64_t value = integer->get();
  if (value >= fits.lo && value <= fits.hi) return Located<int64_t>{value, found.pos};
  if (fits.lo == 0 && fits.hi == kGuestUnsignedRange.hi) {
    error(found.pos, path + ": expected a non-negative integer, got " + std::to_string(value));
  } else {
    // Beyond what the Guest can hold: said as validate_guest says a value out of its range.
    error(found.pos, range_message(path, range, value));
  }
  return std::nullopt;
}

std::optional<Located<bool>> GuestParser::get_bool(const Scope& scope, std::string_view key) {
  Found found = find(scope, key, Need::kOptional);
  if (found.node == nullptr) return std::nullopt;
  const auto* boolean =
      reader_.typed_at<toml::value<bool>>(found.node, found.pos, key_path(scope, key), "a boolean");
  if (boolean == nullptr) return std::nullopt;
  return Located<bool>{boolean->get(), found.pos};
}

std::optional<Located<std::string>> GuestParser::get_string(const Scope& scope,
                                                            std::string_view key, Need need) {
  Found found = find(scope, key, need);
  if (found.node == nullptr) return std::nullopt;
  std::string path = key_path(scope, key);
  const auto* string =
      reader_.typed_at<toml::value<std::string>>(found.node, found.pos, path, "a string");
  if (string == nullptr) return std::nullopt;
  return Located<std::string>{string->get(), found.pos};
}

std::optional<Located<std::string>> GuestParser::get_choice(
    const Scope& scope, std::string_view key, std::span<const std::string_view> choices,
    Need need) {
  std::optional<Located<std::string>> string = get_string(scope, key, need);
  if (!string) return std::nullopt;
  if (std::find(choices.begin(), choices.end(), string->value) != choices.end()) return string;
  const std::string path = key_path(scope, key);
  error(string->pos, string->value.empty() ? empty_string_message(path)
                                           : not_one_of(path, string->value, choices));
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
  const toml::array* array =
      reader_.typed_at<toml::array>(found.node, found.pos, path, "an array of strings");
  if (array == nullptr) return std::nullopt;
  // An empty list is validate_guest's to refuse. The elements are checked here too, where
  // each has its own position (validate_guest knows only the list's).
  Located<std::vector<std::string>> units{{}, found.pos};
  units.value.reserve(array->size());
  // Views of the toml++ strings, which outlive this function's loop: a list of 100,000 names
  // is checked for repeats in linear time.
  UnitsCheck check;
  bool ok = true;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    std::string element_path = path + "[" + std::to_string(i) + "]";
    SourcePos pos = to_pos(element.source());
    const auto* string =
        reader_.typed_at<toml::value<std::string>>(&element, pos, element_path, "a string");
    if (string == nullptr) {
      ok = false;
    } else if (std::optional<std::string> problem = check.add(string->get())) {
      error(pos, element_path + ": " + *problem);
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

  // A model read from the file has a position: without one, it was missing or not a string
  // (or [viommu] not a table), which is said already.
  if (guest.viommu.model.pos.line == 0) unread_.insert("viommu.model");

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
  if (Found stage1 = find(scope, "stage1", Need::kOptional); stage1.node != nullptr) {
    if (std::optional<Scope> sub = sub_table(stage1, "stage1", "in [stage1]")) {
      guest.stage1 = read_stage1(*sub);
    }
  }
  if (Found vfio = find(scope, "vfio", Need::kOptional); vfio.node != nullptr) {
    if (std::optional<Scope> sub = sub_table(vfio, "vfio", "in [vfio]")) {
      guest.vfio = read_vfio(*sub);
    }
  }
  if (Found memory = find(scope, "memory", Need::kOptional); memory.node != nullptr) {
    if (std::optional<Scope> sub = sub_table(memory, "memory", "in [memory]")) {
      guest.memory = read_memory(*sub);
    }
  }
}

void GuestParser::read_viommu(Scope& scope, GuestViommu& viommu) {
  check_keys(scope, kGuestViommuKeys);
  if (auto model = get_string(scope, "model", Need::kRequired)) {
    viommu.model = std::move(*model);
  }
  for_each_caps_property([&](const auto& property) {
    if (property.guest != nullptr) viommu.*property.guest = get_property(scope, property);
  });
  viommu.units = get_units(scope);
}

std::optional<Located<int>> GuestParser::get_property(const Scope& scope,
                                                      const CapsProperty<int>& p) {
  return narrow<int>(get_int(scope, p.guest_key, {p.lo, p.hi}));
}
std::optional<Located<Httu>> GuestParser::get_property(const Scope& scope,
                                                       const CapsProperty<Httu>& p) {
  return get_enum(scope, p.guest_key, kGuestHttuValues);
}
std::optional<Located<Stall>> GuestParser::get_property(const Scope& scope,
                                                        const CapsProperty<Stall>& p) {
  return get_enum(scope, p.guest_key, kGuestStallValues);
}
std::optional<Located<bool>> GuestParser::get_property(const Scope& scope,
                                                       const CapsProperty<bool>& p) {
  return get_bool(scope, p.guest_key);
}
std::optional<Located<std::string>> GuestParser::get_property(
    const Scope& scope, const CapsProperty<Formats, std::string>& p) {
  return get_string(scope, p.guest_key);
}

void GuestParser::read_devices(const Found& found, std::vector<GuestDevice>& devices) {
  const toml::array* array = reader_.typed_at<toml::array>(found.node, found.pos, "device",
                                                           "an array of tables ([[device]])");
  if (array == nullptr) return;
  devices.reserve(array->size());
  for (size_t i = 0; i < array->size(); ++i) {
    std::string path = "device[" + std::to_string(i) + "]";
    const toml::node& element = *array->get(i);
    // One device per element, read or not, so that validate_guest's device[i] is the file's.
    GuestDevice& device = devices.emplace_back();
    std::optional<Scope> scope =
        sub_table({&element, to_pos(element.source())}, path, "in [[device]]");
    std::optional<Located<std::string>> bdf;
    if (scope) {
      check_keys(*scope, kGuestDeviceKeys);
      bdf = get_string(*scope, "bdf", Need::kRequired);
    }
    if (bdf) {
      device.bdf = std::move(*bdf);
    } else {
      unread_.insert(path + ".bdf");
    }
  }
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

GuestStage1 GuestParser::read_stage1(Scope& scope) {
  check_keys(scope, kGuestStage1Keys);
  GuestStage1 stage1;
  stage1.pos = scope.pos;
  if (auto type = get_enum(scope, "type", kGuestStage1Types, Need::kRequired)) {
    stage1.type = *type;
  } else {
    unread_.insert("stage1.type");
  }
  stage1.addr_width = narrow<int>(get_int(scope, "addr_width", kGuestAddressWidthRange));
  stage1.sre = get_bool(scope, "sre");
  stage1.eafe = get_bool(scope, "eafe");
  stage1.wpe = get_bool(scope, "wpe");
  stage1.pgtbl_addr = narrow<uint64_t>(get_int(scope, "pgtbl_addr", kGuestUnsignedRange));
  stage1.config = get_enum(scope, "config", kGuestSteConfigs);
  stage1.s1fmt = get_enum(scope, "s1fmt", kGuestS1Fmts);
  stage1.s1cdmax = narrow<int>(get_int(scope, "s1cdmax", kGuestS1CdMaxRange));
  stage1.s1dss = get_enum(scope, "s1dss", kGuestS1dssValues);
  stage1.s1_context_ptr =
      narrow<uint64_t>(get_int(scope, "s1_context_ptr", kGuestUnsignedRange));
  stage1.eats = get_enum(scope, "eats", kGuestEatsValues);
  return stage1;
}

GuestVfio GuestParser::read_vfio(Scope& scope) {
  check_keys(scope, kGuestVfioKeys);
  GuestVfio vfio;
  vfio.pos = scope.pos;
  vfio.backend = get_choice(scope, "backend", kGuestVfioBackends);
  vfio.confidential = get_choice(scope, "confidential", kGuestConfidentialKinds);
  vfio.migration = get_bool(scope, "migration");
  return vfio;
}

GuestMemory GuestParser::read_memory(Scope& scope) {
  check_keys(scope, kGuestMemoryKeys);
  GuestMemory memory;
  memory.pos = scope.pos;
  // Non-negative here; validate_guest checks the ranges of kGuestMemorySizeRange and friends.
  memory.size = narrow<uint64_t>(get_int(scope, "size", kGuestUnsignedRange));
  memory.phys_bits = narrow<int>(get_int(scope, "phys_bits", kGuestPhysBitsRange));
  memory.above_4g_start = narrow<uint64_t>(get_int(scope, "above_4g_start", kGuestUnsignedRange));
  return memory;
}

/// A TOML basic string.
std::string toml_string(std::string_view text) { return string_literal(text); }

template <class T>
void put(std::string& out, std::string_view key, const std::optional<Located<T>>& located) {
  if (!located) return;
  out += std::string(key) + " = ";
  if constexpr (std::is_same_v<T, bool>) {
    out += located->value ? "true" : "false";
  } else if constexpr (std::is_same_v<T, int>) {
    out += std::to_string(located->value);
  } else if constexpr (std::is_same_v<T, uint64_t>) {
    out += format_hex(located->value);
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
  for_each_caps_property([&](const auto& property) {
    if (property.guest != nullptr) put(out, property.guest_key, v.*property.guest);
  });
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

  if (const std::optional<GuestStage1>& t = guest.stage1) {
    out += "\n[stage1]\n";
    out += "type = " + toml_string(to_string(t->type.value)) + "\n";
    put(out, "addr_width", t->addr_width);
    put(out, "sre", t->sre);
    put(out, "eafe", t->eafe);
    put(out, "wpe", t->wpe);
    put(out, "pgtbl_addr", t->pgtbl_addr);
    put(out, "config", t->config);
    put(out, "s1fmt", t->s1fmt);
    put(out, "s1cdmax", t->s1cdmax);
    put(out, "s1dss", t->s1dss);
    put(out, "s1_context_ptr", t->s1_context_ptr);
    put(out, "eats", t->eats);
  }

  if (const std::optional<GuestVfio>& f = guest.vfio) {
    out += "\n[vfio]\n";
    put(out, "backend", f->backend);
    put(out, "confidential", f->confidential);
    put(out, "migration", f->migration);
  }

  if (const std::optional<GuestMemory>& m = guest.memory) {
    out += "\n[memory]\n";
    if (m->size) out += "size = " + format_hex(m->size->value) + "\n";
    put(out, "phys_bits", m->phys_bits);
    if (m->above_4g_start) out += "above_4g_start = " + format_hex(m->above_4g_start->value) + "\n";
  }
  return out;
}

}  // namespace caps
