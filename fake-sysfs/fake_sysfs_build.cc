// SPDX-License-Identifier: MIT
// fake-sysfs-build: turns a line-based host description (*.host) into a fake /sys + /proc tree.
//
// The format is documented in fake-sysfs/README.md. The tool is deliberately dependency-free
// (C++20 + std::filesystem + a few POSIX calls) so fixtures can be rebuilt without the rest of
// the project.

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace fake_sysfs {
namespace fs = std::filesystem;

constexpr std::string_view kDefaultCmdline =
    "BOOT_IMAGE=/boot/vmlinuz-6.1.0-fake root=/dev/mapper/root ro quiet";

/// One parse problem, printed as "file:line: error: message".
struct Problem {
  int line = 0;
  std::string message;
};

/// A device node that `attr` lines attach files to.
struct Attrs {
  std::vector<std::pair<std::string, std::string>> files;  // relative path, content (no "\n")
  std::set<std::string> reserved;                          // names the builder writes itself
};

enum class UnitModel { kIntel, kAmd, kArm, kVirtio };

struct Unit {
  int line = 0;
  std::string name;
  UnitModel model = UnitModel::kIntel;
  std::string pci;       // amd, virtio: the parent PCI function
  std::string platform;  // arm: platform device name
  std::string pdriver;   // arm: platform driver name
  Attrs attrs;
};

struct PasidCap {
  int width = 0;
  bool exec = false;
  bool priv = false;
};

enum class PcieType { kNone, kEndpoint, kRcIep, kRootPort, kUpstream, kDownstream };

struct PciDev {
  int line = 0;
  bool bridge = false;
  std::string bdf;  // DDDD:BB:DD.F
  uint16_t vendor = 0, device = 0;
  uint32_t klass = 0;
  uint8_t revision = 0;
  uint16_t subsys_vendor = 0, subsys_device = 0;
  std::string driver;
  std::optional<int> group;
  std::string unit;
  std::string parent;  // bridge BDF this function sits behind
  std::optional<int> config_size;
  std::optional<PasidCap> pasid;
  bool ats = false;
  bool pri = false;
  std::optional<PcieType> pcie;
  std::optional<int> secondary, subordinate;
  Attrs attrs;
};

struct Region {
  int line = 0;
  uint64_t start = 0, end = 0;
  std::string type;
};

struct Group {
  int line = 0;
  int id = 0;
  std::string type;
  std::vector<Region> regions;
};

struct Host {
  std::string description_name;
  std::vector<std::string> sources;
  std::optional<std::string> cmdline;
  std::optional<std::string> osrelease;
  std::set<std::string> acpi;
  int config_size = 4096;
  std::vector<Unit> units;
  std::vector<PciDev> pcis;
  std::map<int, Group> groups;
};

// ---------------------------------------------------------------------------------------------
// Lexing helpers.

/// Splits a line into tokens: whitespace separated, "double quoted" with \" and \\ escapes, and a
/// '#' at the start of a token begins a comment.
std::optional<std::vector<std::string>> tokenize(std::string_view line, std::string* error) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size() || line[i] == '#') break;
    std::string tok;
    if (line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        char c = line[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && i < line.size()) c = line[i++];
        tok += c;
      }
      if (!closed) {
        *error = "unterminated quoted string";
        return std::nullopt;
      }
      if (i < line.size() && line[i] != ' ' && line[i] != '\t') {
        *error = "junk after closing quote";
        return std::nullopt;
      }
    } else {
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') tok += line[i++];
    }
    out.push_back(std::move(tok));
  }
  return out;
}

template <typename T>
std::optional<T> parse_hex(std::string_view s, int max_digits) {
  if (s.starts_with("0x")) s.remove_prefix(2);
  if (s.empty() || static_cast<int>(s.size()) > max_digits) return std::nullopt;
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

/// A 0x-prefixed 64-bit address, as in reserved_regions.
bool parse_address(std::string_view s, uint64_t* out) {
  if (!s.starts_with("0x")) return false;
  auto v = parse_hex<uint64_t>(s, 16);
  if (!v) return false;
  *out = *v;
  return true;
}

std::optional<int> parse_dec(std::string_view s) {
  int v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

/// DDDD:BB:DD.F, lowercase hex, as the kernel names PCI functions.
bool valid_bdf(std::string_view s) {
  if (s.size() != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  if (s[11] < '0' || s[11] > '7') return false;
  return (std::stoi(std::string(s.substr(8, 2)), nullptr, 16) & 0xe0) == 0;  // device < 32
}

/// A relative path without "..", "." or empty components.
bool valid_rel_path(std::string_view s) {
  if (s.empty() || s.front() == '/' || s.back() == '/') return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) slash = s.size();
    std::string_view part = s.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = slash + 1;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Parser.

class Parser {
 public:
  explicit Parser(Host& host) : host_(host) {}

  void parse(std::istream& in) {
    std::string raw;
    int lineno = 0;
    while (std::getline(in, raw)) {
      ++lineno;
      line_ = lineno;
      if (!raw.empty() && raw.back() == '\r') raw.pop_back();
      parse_line(raw);
    }
    resolve();
  }

  const std::vector<Problem>& problems() const { return problems_; }

 private:
  void fail(std::string msg) { problems_.push_back({line_, std::move(msg)}); }
  void fail_at(int line, std::string msg) { problems_.push_back({line, std::move(msg)}); }

  void parse_line(const std::string& raw) {
    std::string err;
    auto toks = tokenize(raw, &err);
    if (!toks) return fail(err);
    if (toks->empty()) return;
    const std::string& kw = (*toks)[0];
    std::vector<std::string> args(toks->begin() + 1, toks->end());
    if (kw == "cmdline") return parse_cmdline(raw);
    if (kw == "source") return parse_source(args);
    if (kw == "osrelease") return parse_osrelease(args);
    if (kw == "acpi") return parse_acpi(args);
    if (kw == "config-size") return parse_config_size(args);
    if (kw == "unit") return parse_unit(args);
    if (kw == "attr") return parse_attr(args);
    if (kw == "pci") return parse_pci(args, false);
    if (kw == "bridge") return parse_pci(args, true);
    if (kw == "group") return parse_group(args);
    if (kw == "reserved") return parse_reserved(args);
    fail("unknown directive '" + kw + "'");
  }

  void parse_cmdline(const std::string& raw) {
    if (host_.cmdline) return fail("duplicate cmdline");
    std::string_view rest(raw);
    rest.remove_prefix(rest.find("cmdline") + 7);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
    if (rest.empty()) return fail("cmdline needs the kernel command line");
    host_.cmdline = std::string(rest);
  }

  // The kernel release decides version-dependent rules; umockdev redirects /proc/... only
  // when the tree has the file, so a tree without it would show the live host's release.
  void parse_osrelease(const std::vector<std::string>& args) {
    if (host_.osrelease) return fail("duplicate osrelease");
    if (args.size() != 1 || args[0].empty()) return fail("osrelease takes one kernel release");
    host_.osrelease = args[0];
  }

  void parse_source(const std::vector<std::string>& args) {
    if (args.size() != 1) return fail("source takes one \"quoted text\" argument");
    host_.sources.push_back(args[0]);
  }

  void parse_acpi(const std::vector<std::string>& args) {
    if (args.size() != 1) return fail("acpi takes one table name (DMAR, IVRS or IORT)");
    if (args[0] != "DMAR" && args[0] != "IVRS" && args[0] != "IORT")
      return fail("unknown ACPI table '" + args[0] + "' (expected DMAR, IVRS or IORT)");
    host_.acpi.insert(args[0]);
  }

  std::optional<int> config_size_value(const std::string& v) {
    auto n = parse_dec(v);
    if (!n || (*n != 4096 && *n != 256 && *n != 64)) {
      fail("bad config size '" + v + "' (expected 4096, 256 or 64)");
      return std::nullopt;
    }
    return n;
  }

  void parse_config_size(const std::vector<std::string>& args) {
    if (args.size() != 1) return fail("config-size takes one number");
    if (auto n = config_size_value(args[0])) host_.config_size = *n;
  }

  static std::optional<std::pair<std::string, std::string>> split_kv(const std::string& s) {
    size_t eq = s.find('=');
    if (eq == std::string::npos) return std::nullopt;
    return std::make_pair(s.substr(0, eq), s.substr(eq + 1));
  }

  void parse_unit(const std::vector<std::string>& args) {
    if (args.size() < 2) return fail("unit needs a name and a model (intel, amd, arm, virtio)");
    Unit u;
    u.line = line_;
    u.name = args[0];
    if (u.name.find('/') != std::string::npos || u.name.empty() || u.name.front() == '.')
      return fail("bad unit name '" + u.name + "'");
    const std::string& m = args[1];
    if (m == "intel") {
      u.model = UnitModel::kIntel;
    } else if (m == "amd") {
      u.model = UnitModel::kAmd;
    } else if (m == "arm") {
      u.model = UnitModel::kArm;
      u.pdriver = "arm-smmu-v3";
    } else if (m == "virtio") {
      u.model = UnitModel::kVirtio;
    } else {
      return fail("unknown unit model '" + m + "' (expected intel, amd, arm or virtio)");
    }
    for (size_t i = 2; i < args.size(); ++i) {
      auto kv = split_kv(args[i]);
      if (!kv) return fail("expected key=value, got '" + args[i] + "'");
      auto& [k, v] = *kv;
      if (k == "pci" && (u.model == UnitModel::kAmd || u.model == UnitModel::kVirtio)) {
        if (!valid_bdf(v)) return fail("bad PCI address '" + v + "' (expected DDDD:BB:DD.F)");
        u.pci = v;
      } else if (k == "platform" && u.model == UnitModel::kArm) {
        if (!valid_rel_path(v) || v.find('/') != std::string::npos)
          return fail("bad platform device name '" + v + "'");
        u.platform = v;
      } else if (k == "driver" && u.model == UnitModel::kArm) {
        u.pdriver = v;
      } else {
        return fail("unknown key '" + k + "' for a " + m + " unit");
      }
    }
    if ((u.model == UnitModel::kAmd || u.model == UnitModel::kVirtio) && u.pci.empty())
      return fail("a " + m + " unit needs pci=DDDD:BB:DD.F (its parent PCI function)");
    if (u.model == UnitModel::kArm && u.platform.empty())
      return fail("an arm unit needs platform=NAME (its platform device)");
    for (const Unit& o : host_.units)
      if (o.name == u.name)
        return fail("duplicate unit '" + u.name + "' (first at line " + std::to_string(o.line) +
                    ")");
    u.attrs.reserved = {"uevent", "subsystem", "devices", "device", "power"};
    host_.units.push_back(std::move(u));
    current_ = &host_.units.back().attrs;
  }

  void parse_attr(const std::vector<std::string>& args) {
    if (!current_) return fail("attr before any unit, pci or bridge line");
    if (args.size() != 2)
      return fail("attr takes a path and one value (quote values with spaces: \"a b\")");
    const std::string& path = args[0];
    if (!valid_rel_path(path)) return fail("bad attribute path '" + path + "'");
    std::string first = path.substr(0, path.find('/'));
    if (current_->reserved.count(first))
      return fail("attribute path '" + path + "' collides with a file the builder writes");
    for (const auto& [p, v] : current_->files) {
      if (p == path) return fail("duplicate attribute '" + path + "'");
      if (path.starts_with(p + "/") || p.starts_with(path + "/"))
        return fail("attribute '" + path + "' conflicts with '" + p + "' (file vs directory)");
    }
    current_->files.emplace_back(path, args[1]);
  }

  std::optional<PcieType> pcie_type(const std::string& v) {
    if (v == "none") return PcieType::kNone;
    if (v == "endpoint") return PcieType::kEndpoint;
    if (v == "rciep") return PcieType::kRcIep;
    if (v == "root-port") return PcieType::kRootPort;
    if (v == "upstream") return PcieType::kUpstream;
    if (v == "downstream") return PcieType::kDownstream;
    return std::nullopt;
  }

  bool parse_pasid(const std::string& v, PciDev& d) {
    PasidCap cap;
    std::stringstream ss(v);
    std::string part;
    bool first = true;
    while (std::getline(ss, part, ',')) {
      if (first) {
        auto w = parse_dec(part);
        if (!w || *w < 1 || *w > 20) {
          fail("bad PASID width '" + part + "' (expected 1..20)");
          return false;
        }
        cap.width = *w;
        first = false;
      } else if (part == "exec") {
        cap.exec = true;
      } else if (part == "priv") {
        cap.priv = true;
      } else {
        fail("unknown PASID flag '" + part + "' (expected exec or priv)");
        return false;
      }
    }
    if (first) {
      fail("pasid= needs a width");
      return false;
    }
    d.pasid = cap;
    return true;
  }

  // Parses one key=value or flag of a pci/bridge line; false after reporting an error.
  bool parse_pci_option(const std::string& arg, PciDev& d) {
    if (arg == "ats") return d.ats = true;
    if (arg == "pri") return d.pri = true;
    auto kv = split_kv(arg);
    if (!kv) {
      fail("unknown flag '" + arg + "' (expected key=value, ats or pri)");
      return false;
    }
    auto& [k, v] = *kv;
    auto bad = [&](const char* what) {
      fail("bad " + k + " '" + v + "' (expected " + what + ")");
      return false;
    };
    if (k == "vendor" || k == "device") {
      auto x = parse_hex<uint16_t>(v, 4);
      if (!x) return bad("4 hex digits");
      (k == "vendor" ? d.vendor : d.device) = *x;
    } else if (k == "class") {
      auto x = parse_hex<uint32_t>(v, 6);
      if (!x || v.size() != 6) return bad("6 hex digits, class/subclass/prog-if");
      d.klass = *x;
    } else if (k == "revision") {
      auto x = parse_hex<uint8_t>(v, 2);
      if (!x) return bad("2 hex digits");
      d.revision = *x;
    } else if (k == "subsys") {
      auto colon = v.find(':');
      auto sv = parse_hex<uint16_t>(v.substr(0, colon), 4);
      auto sd =
          colon == std::string::npos ? std::nullopt : parse_hex<uint16_t>(v.substr(colon + 1), 4);
      if (!sv || !sd) return bad("VVVV:DDDD");
      d.subsys_vendor = *sv;
      d.subsys_device = *sd;
    } else if (k == "driver") {
      if (v.empty() || v.find('/') != std::string::npos) return bad("a driver name");
      d.driver = v;
    } else if (k == "group") {
      auto g = parse_dec(v);
      if (!g) return bad("a decimal group id");
      d.group = *g;
    } else if (k == "unit") {
      d.unit = v;
    } else if (k == "parent") {
      if (!valid_bdf(v)) return bad("DDDD:BB:DD.F");
      d.parent = v;
    } else if (k == "config") {
      auto n = config_size_value(v);
      if (!n) return false;
      d.config_size = n;
    } else if (k == "pasid") {
      return parse_pasid(v, d);
    } else if (k == "pcie") {
      auto t = pcie_type(v);
      if (!t) return bad("none, endpoint, rciep, root-port, upstream or downstream");
      d.pcie = t;
    } else if ((k == "secondary" || k == "subordinate") && d.bridge) {
      auto x = parse_hex<uint8_t>(v, 2);
      if (!x) return bad("2 hex digits");
      (k == "secondary" ? d.secondary : d.subordinate) = *x;
    } else {
      fail("unknown key '" + k + "' on a " + (d.bridge ? "bridge" : "pci") + " line");
      return false;
    }
    return true;
  }

  void parse_pci(const std::vector<std::string>& args, bool bridge) {
    const char* kw = bridge ? "bridge" : "pci";
    if (args.empty()) return fail(std::string(kw) + " needs a PCI address DDDD:BB:DD.F");
    PciDev d;
    d.line = line_;
    d.bridge = bridge;
    d.bdf = args[0];
    if (!valid_bdf(d.bdf))
      return fail("bad PCI address '" + d.bdf + "' (expected DDDD:BB:DD.F, lowercase hex)");
    if (bridge) {
      d.klass = 0x060400;
      d.driver = "pcieport";
    }
    bool have_vendor = false, have_device = false, have_class = bridge;
    for (size_t i = 1; i < args.size(); ++i) {
      if (!parse_pci_option(args[i], d)) return;
      have_vendor |= args[i].starts_with("vendor=");
      have_device |= args[i].starts_with("device=");
      have_class |= args[i].starts_with("class=");
    }
    if (!have_vendor || !have_device || !have_class)
      return fail(std::string(kw) + " " + d.bdf +
                  " needs vendor=, device=" + (bridge ? "" : " and class="));
    if (d.pri && !d.ats) return fail("pri needs ats (PRI is only meaningful with ATS)");
    for (const PciDev& o : host_.pcis)
      if (o.bdf == d.bdf)
        return fail("duplicate PCI function " + d.bdf + " (first at line " +
                    std::to_string(o.line) + ")");
    d.attrs.reserved = {"uevent",           "subsystem",        "driver", "iommu", "iommu_group",
                        "config",           "vendor",           "device", "class", "revision",
                        "subsystem_vendor", "subsystem_device", "iommu"};
    host_.pcis.push_back(std::move(d));
    current_ = &host_.pcis.back().attrs;
  }

  void parse_group(const std::vector<std::string>& args) {
    if (args.empty()) return fail("group needs a decimal id");
    auto id = parse_dec(args[0]);
    if (!id) return fail("bad group id '" + args[0] + "'");
    Group g;
    g.line = line_;
    g.id = *id;
    g.type = "DMA";
    static const std::set<std::string> kTypes = {"blocked", "identity", "unmanaged",
                                                 "DMA",     "DMA-FQ",   "unknown"};
    for (size_t i = 1; i < args.size(); ++i) {
      auto kv = split_kv(args[i]);
      if (!kv || kv->first != "type") return fail("unknown group option '" + args[i] + "'");
      if (!kTypes.count(kv->second))
        return fail("unknown group type '" + kv->second +
                    "' (expected blocked, identity, unmanaged, DMA, DMA-FQ or unknown)");
      g.type = kv->second;
    }
    if (host_.groups.count(g.id))
      return fail("duplicate group " + args[0] + " (first at line " +
                  std::to_string(host_.groups[g.id].line) + ")");
    host_.groups[g.id] = g;
  }

  void parse_reserved(const std::vector<std::string>& args) {
    if (args.size() != 4) return fail("reserved takes GROUP START END TYPE");
    auto id = parse_dec(args[0]);
    if (!id) return fail("bad group id '" + args[0] + "'");
    auto it = host_.groups.find(*id);
    if (it == host_.groups.end())
      return fail("reserved region for group " + args[0] + ", which is not declared above");
    Region r;
    r.line = line_;
    uint64_t start = 0, end = 0;
    if (!parse_address(args[1], &start) || !parse_address(args[2], &end))
      return fail("reserved region bounds must be 0x-prefixed hex (inclusive end)");
    if (end < start) return fail("reserved region ends before it starts");
    static const std::set<std::string> kTypes = {"direct", "direct-relaxable", "reserved", "msi"};
    if (!kTypes.count(args[3]))
      return fail("unknown region type '" + args[3] +
                  "' (expected direct, direct-relaxable, reserved or msi)");
    r.start = start;
    r.end = end;
    r.type = args[3];
    it->second.regions.push_back(r);
  }

  const PciDev* find_pci(const std::string& bdf) const {
    for (const PciDev& d : host_.pcis)
      if (d.bdf == bdf) return &d;
    return nullptr;
  }

  // Cross-references, checked once everything is read so lines may come in any order.
  void resolve() {
    for (const Unit& u : host_.units) {
      if (!u.pci.empty() && !find_pci(u.pci))
        fail_at(u.line, "unit " + u.name + ": parent PCI function " + u.pci + " is not declared");
    }
    std::set<int> used_groups;
    for (const PciDev& d : host_.pcis) {
      if (!d.unit.empty() && std::none_of(host_.units.begin(), host_.units.end(),
                                          [&](const Unit& u) { return u.name == d.unit; }))
        fail_at(d.line, d.bdf + ": unit '" + d.unit + "' is not declared");
      if (d.group) {
        if (!host_.groups.count(*d.group))
          fail_at(d.line, d.bdf + ": group " + std::to_string(*d.group) + " is not declared");
        used_groups.insert(*d.group);
      }
      if (!d.parent.empty()) {
        const PciDev* p = find_pci(d.parent);
        if (!p)
          fail_at(d.line, d.bdf + ": parent " + d.parent + " is not declared");
        else if (!p->bridge)
          fail_at(d.line, d.bdf + ": parent " + d.parent + " is not a bridge");
        else if (d.bdf.substr(0, 4) != p->bdf.substr(0, 4))
          fail_at(d.line, d.bdf + ": parent " + d.parent + " is in another PCI domain");
      }
      if (d.unit.empty() && d.group)
        fail_at(d.line, d.bdf + ": a device in an IOMMU group needs unit=");
    }
    for (const auto& [id, g] : host_.groups)
      if (!used_groups.count(id))
        fail_at(g.line, "group " + std::to_string(id) + " has no member devices");
    // Parent chains must end at a root bus (no cycles).
    for (const PciDev& d : host_.pcis) {
      const PciDev* p = &d;
      for (size_t hops = 0; p && !p->parent.empty(); ++hops) {
        if (hops > host_.pcis.size()) {
          fail_at(d.line, d.bdf + ": parent chain loops");
          break;
        }
        p = find_pci(p->parent);
      }
    }
  }

  Host& host_;
  int line_ = 0;
  Attrs* current_ = nullptr;  // where attr lines go: the last unit, pci or bridge
  std::vector<Problem> problems_;
};

// ---------------------------------------------------------------------------------------------
// PCI configuration space.

void put16(std::vector<uint8_t>& c, size_t off, uint16_t v) {
  c[off] = v & 0xff;
  c[off + 1] = v >> 8;
}
void put32(std::vector<uint8_t>& c, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) c[off + i] = (v >> (8 * i)) & 0xff;
}

int bus_of(const std::string& bdf) { return std::stoi(bdf.substr(5, 2), nullptr, 16); }

/// Builds the config space bytes (PCI Local Bus 3.0 header, PCIe capability at 0x40, extended
/// capabilities from 0x100 as in include/uapi/linux/pci_regs.h).
std::vector<uint8_t> build_config(const PciDev& d, const Host& host) {
  std::vector<uint8_t> c(4096, 0);
  put16(c, 0x00, d.vendor);
  put16(c, 0x02, d.device);
  put16(c, 0x04, d.driver.empty() ? 0x0000 : 0x0006);  // PCI_COMMAND: MEMORY | MASTER if bound
  PcieType type =
      d.pcie.value_or(d.bridge ? (bus_of(d.bdf) == 0 ? PcieType::kRootPort : PcieType::kDownstream)
                               : (bus_of(d.bdf) == 0 ? PcieType::kRcIep : PcieType::kEndpoint));
  bool has_caps = type != PcieType::kNone;
  put16(c, 0x06, has_caps ? 0x0010 : 0x0000);  // PCI_STATUS_CAP_LIST
  c[0x08] = d.revision;
  c[0x09] = d.klass & 0xff;
  c[0x0a] = (d.klass >> 8) & 0xff;
  c[0x0b] = (d.klass >> 16) & 0xff;
  bool multifunction = std::any_of(host.pcis.begin(), host.pcis.end(), [&](const PciDev& o) {
    return o.bdf != d.bdf && o.bdf.substr(0, 10) == d.bdf.substr(0, 10);
  });
  c[0x0e] = (d.bridge ? 0x01 : 0x00) | (multifunction ? 0x80 : 0x00);
  if (d.bridge) {
    int lo = 0xff, hi = 0;
    for (const PciDev& o : host.pcis) {
      if (o.parent != d.bdf) continue;
      lo = std::min(lo, bus_of(o.bdf));
      hi = std::max(hi, bus_of(o.bdf));
    }
    if (lo > hi) lo = hi = 0;
    c[0x18] = bus_of(d.bdf);               // PCI_PRIMARY_BUS
    c[0x19] = d.secondary.value_or(lo);    // PCI_SECONDARY_BUS
    c[0x1a] = d.subordinate.value_or(hi);  // PCI_SUBORDINATE_BUS
  } else {
    put16(c, 0x2c, d.subsys_vendor);  // PCI_SUBSYSTEM_VENDOR_ID
    put16(c, 0x2e, d.subsys_device);  // PCI_SUBSYSTEM_ID
    c[0x3d] = 0x01;                   // PCI_INTERRUPT_PIN: INTA
  }
  if (has_caps) {
    c[0x34] = 0x40;  // PCI_CAPABILITY_LIST
    c[0x40] = 0x10;  // PCI_CAP_ID_EXP, next = 0
    static constexpr std::array<uint8_t, 6> kPortType = {0, 0x0, 0x9, 0x4, 0x5, 0x6};
    put16(c, 0x42, 0x0002 | (kPortType[static_cast<int>(type)] << 4));  // version 2 + type
  }
  // Extended capabilities: header = ID [15:0], version [19:16], next offset [31:20].
  struct Ext {
    uint16_t id;
    size_t size;
  };
  std::vector<Ext> ext;
  if (d.ats) ext.push_back({0x000f, 0x08});    // PCI_EXT_CAP_ID_ATS
  if (d.pri) ext.push_back({0x0013, 0x10});    // PCI_EXT_CAP_ID_PRI
  if (d.pasid) ext.push_back({0x001b, 0x08});  // PCI_EXT_CAP_ID_PASID
  if (!has_caps && !ext.empty()) ext.clear();  // no PCIe capability: no extended space
  size_t off = 0x100;
  for (size_t i = 0; i < ext.size(); ++i) {
    size_t next = i + 1 < ext.size() ? ((off + ext[i].size + 0xf) & ~size_t{0xf}) : 0;
    put32(c, off, ext[i].id | (1u << 16) | (static_cast<uint32_t>(next) << 20));
    if (ext[i].id == 0x000f) {
      put16(c, off + 0x04, 0x0020);  // ATS cap: page-aligned requests, queue depth 0 (= 32)
    } else if (ext[i].id == 0x0013) {
      put16(c, off + 0x06, 0x0100);  // PRI status: stopped
      put32(c, off + 0x08, 0x200);   // outstanding page request capacity
    } else {
      uint16_t cap = static_cast<uint16_t>(d.pasid->width << 8);  // PCI_PASID_CAP_WIDTH
      if (d.pasid->exec) cap |= 0x02;                             // PCI_PASID_CAP_EXEC
      if (d.pasid->priv) cap |= 0x04;                             // PCI_PASID_CAP_PRIV
      put16(c, off + 0x04, cap);
    }
    off = next;
  }
  c.resize(d.config_size.value_or(host.config_size));
  return c;
}

// ---------------------------------------------------------------------------------------------
// ACPI placeholder tables: a valid 36-byte header (signature, length, revision, checksum, OEM
// fields) plus the table's fixed fields, all zero except DMAR's host address width.

std::string acpi_table(const std::string& sig) {
  std::vector<uint8_t> t(48, 0);
  std::copy(sig.begin(), sig.end(), t.begin());
  put32(t, 4, static_cast<uint32_t>(t.size()));
  t[8] = sig == "DMAR" ? 1 : sig == "IVRS" ? 2 : 0;
  const std::string oem = "FAKE  FAKESYSF";
  std::copy(oem.begin(), oem.end(), t.begin() + 10);
  put32(t, 24, 1);
  std::copy_n("FSB ", 4, t.begin() + 28);
  put32(t, 32, 1);
  if (sig == "DMAR") t[36] = 45;  // host address width - 1 (46-bit)
  uint8_t sum = 0;
  for (uint8_t b : t) sum += b;
  t[9] = static_cast<uint8_t>(0x100 - sum);
  return std::string(t.begin(), t.end());
}

// ---------------------------------------------------------------------------------------------
// Tree writer.

class TreeWriter {
 public:
  explicit TreeWriter(fs::path root) : root_(std::move(root)) {}

  void file(const fs::path& rel, std::string_view content) {
    fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) throw std::runtime_error("cannot write " + p.string());
  }

  void attr(const fs::path& rel, std::string_view value) { file(rel, std::string(value) + "\n"); }

  /// A symlink at `rel` whose text is the path to `target` relative to the link's directory
  /// (both given relative to the tree root), as the kernel writes them.
  void link(const fs::path& rel, const fs::path& target) {
    fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    fs::create_symlink(target.lexically_relative(rel.parent_path()), p);
  }

  void dir(const fs::path& rel) { fs::create_directories(root_ / rel); }

 private:
  fs::path root_;
};

std::string hex(uint64_t v, int width) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%0*llx", width, static_cast<unsigned long long>(v));
  return buf;
}
std::string upper_hex(uint64_t v, int width) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%0*llX", width, static_cast<unsigned long long>(v));
  return buf;
}

class Builder {
 public:
  Builder(const Host& host, TreeWriter& w) : host_(host), w_(w) {}

  void build() {
    for (const PciDev& d : host_.pcis) write_pci(d);
    for (const Unit& u : host_.units) write_unit(u);
    for (const auto& [id, g] : host_.groups) write_group(g);
    for (const std::string& t : host_.acpi)
      w_.file(fs::path("sys/firmware/acpi/tables") / t, acpi_table(t));
    w_.file("proc/cmdline",
            std::string(host_.cmdline.value_or(std::string(kDefaultCmdline))) + "\n");
    if (host_.osrelease) w_.file("proc/sys/kernel/osrelease", *host_.osrelease + "\n");
    write_source();
  }

 private:
  const PciDev& pci(const std::string& bdf) const {
    return *std::find_if(host_.pcis.begin(), host_.pcis.end(),
                         [&](const PciDev& d) { return d.bdf == bdf; });
  }

  fs::path pci_path(const PciDev& d) const {
    if (!d.parent.empty()) return pci_path(pci(d.parent)) / d.bdf;
    return fs::path("sys/devices") / ("pci" + d.bdf.substr(0, 7)) / d.bdf;
  }

  fs::path unit_path(const Unit& u) const {
    switch (u.model) {
      case UnitModel::kIntel:
        return fs::path("sys/devices/virtual/iommu") / u.name;
      case UnitModel::kAmd:
        return pci_path(pci(u.pci)) / "iommu" / u.name;
      case UnitModel::kArm:
        return fs::path("sys/devices/platform") / u.platform / "iommu" / u.name;
      case UnitModel::kVirtio:
        return pci_path(pci(u.pci)) / u.name / "iommu" / u.name;
    }
    return {};
  }

  const Unit& unit(const std::string& name) const {
    return *std::find_if(host_.units.begin(), host_.units.end(),
                         [&](const Unit& u) { return u.name == name; });
  }

  void write_attrs(const fs::path& dir, const Attrs& a) {
    for (const auto& [p, v] : a.files) w_.attr(dir / p, v);
  }

  void write_driver(const std::string& bus, const std::string& drv, const fs::path& dev,
                    const std::string& name) {
    // The kernel's driver directory also has bind/unbind/uevent, all write-only, so a snapshot
    // never holds them; the link back to the device keeps the directory non-empty.
    fs::path ddir = fs::path("sys/bus") / bus / "drivers" / drv;
    w_.link(dev / "driver", ddir);
    w_.link(ddir / name, dev);
  }

  void write_pci(const PciDev& d) {
    fs::path dir = pci_path(d);
    std::ostringstream ue;
    if (!d.driver.empty()) ue << "DRIVER=" << d.driver << "\n";
    ue << "PCI_CLASS=" << upper_hex(d.klass, 4) << "\n"
       << "PCI_ID=" << upper_hex(d.vendor, 4) << ":" << upper_hex(d.device, 4) << "\n"
       << "PCI_SUBSYS_ID=" << upper_hex(d.subsys_vendor, 4) << ":" << upper_hex(d.subsys_device, 4)
       << "\n"
       << "PCI_SLOT_NAME=" << d.bdf << "\n"
       << "MODALIAS=pci:v" << upper_hex(d.vendor, 8) << "d" << upper_hex(d.device, 8) << "sv"
       << upper_hex(d.subsys_vendor, 8) << "sd" << upper_hex(d.subsys_device, 8) << "bc"
       << upper_hex(d.klass >> 16, 2) << "sc" << upper_hex((d.klass >> 8) & 0xff, 2) << "i"
       << upper_hex(d.klass & 0xff, 2) << "\n";
    w_.file(dir / "uevent", ue.str());
    w_.attr(dir / "vendor", "0x" + hex(d.vendor, 4));
    w_.attr(dir / "device", "0x" + hex(d.device, 4));
    w_.attr(dir / "class", "0x" + hex(d.klass, 6));
    w_.attr(dir / "revision", "0x" + hex(d.revision, 2));
    w_.attr(dir / "subsystem_vendor", "0x" + hex(d.subsys_vendor, 4));
    w_.attr(dir / "subsystem_device", "0x" + hex(d.subsys_device, 4));
    std::vector<uint8_t> cfg = build_config(d, host_);
    w_.file(dir / "config", std::string(cfg.begin(), cfg.end()));
    w_.link(dir / "subsystem", "sys/bus/pci");
    w_.link(fs::path("sys/bus/pci/devices") / d.bdf, dir);
    // The root bus (pciDDDD:BB) is a device too (empty uevent), so libudev finds parents.
    if (d.parent.empty()) w_.file(dir.parent_path() / "uevent", "");
    if (!d.driver.empty()) write_driver("pci", d.driver, dir, d.bdf);
    if (d.group)
      w_.link(dir / "iommu_group", fs::path("sys/kernel/iommu_groups") / std::to_string(*d.group));
    if (!d.unit.empty()) {
      const Unit& u = unit(d.unit);
      w_.link(dir / "iommu", unit_path(u));
      w_.link(unit_path(u) / "devices" / d.bdf, dir);
    }
    write_attrs(dir, d.attrs);
  }

  void write_unit(const Unit& u) {
    fs::path dir = unit_path(u);
    w_.file(dir / "uevent", "SUBSYSTEM=iommu\n");
    w_.link(dir / "subsystem", "sys/class/iommu");
    w_.link(fs::path("sys/class/iommu") / u.name, dir);
    if (u.model != UnitModel::kIntel) w_.link(dir / "device", dir.parent_path().parent_path());
    if (u.model == UnitModel::kArm) {
      fs::path pdir = dir.parent_path().parent_path();
      // Several units may share one platform device; write its files once.
      if (written_platform_.insert(u.platform).second) {
        w_.file(pdir.parent_path() / "uevent", "");  // sys/devices/platform is a device
        w_.file(pdir / "uevent", "DRIVER=" + u.pdriver + "\nMODALIAS=platform:" + u.pdriver + "\n");
        w_.attr(pdir / "modalias", "platform:" + u.pdriver);
        w_.link(pdir / "subsystem", "sys/bus/platform");
        w_.link(fs::path("sys/bus/platform/devices") / u.platform, pdir);
        write_driver("platform", u.pdriver, pdir, u.platform);
      }
    }
    if (u.model == UnitModel::kVirtio) {
      fs::path vdir = dir.parent_path().parent_path();
      w_.file(vdir / "uevent", "DRIVER=virtio_iommu\nMODALIAS=virtio:d00000017v00001AF4\n");
      w_.attr(vdir / "device", "0x0017");
      w_.attr(vdir / "vendor", "0x1af4");
      w_.link(vdir / "subsystem", "sys/bus/virtio");
      w_.link(fs::path("sys/bus/virtio/devices") / u.name, vdir);
      write_driver("virtio", "virtio_iommu", vdir, u.name);
    }
    write_attrs(dir, u.attrs);
  }

  void write_group(const Group& g) {
    fs::path dir = fs::path("sys/kernel/iommu_groups") / std::to_string(g.id);
    w_.attr(dir / "type", g.type);
    std::vector<Region> regions = g.regions;
    std::stable_sort(regions.begin(), regions.end(),
                     [](const Region& a, const Region& b) { return a.start < b.start; });
    std::string text;
    for (const Region& r : regions)
      text += "0x" + hex(r.start, 16) + " 0x" + hex(r.end, 16) + " " + r.type + "\n";
    w_.file(dir / "reserved_regions", text);
    for (const PciDev& d : host_.pcis)
      if (d.group == g.id) w_.link(dir / "devices" / d.bdf, pci_path(d));
  }

  void write_source() {
    std::string text =
        "# Where the values in this tree came from.\n"
        "generated-by: fake-sysfs-build (fake-sysfs/fake_sysfs_build.cc)\n"
        "description: fake-sysfs/hosts/" +
        host_.description_name + "\n";
    if (!host_.cmdline) text += "cmdline: builder default (no cmdline line in the description)\n";
    for (const std::string& s : host_.sources) text += "source: " + s + "\n";
    w_.file("SOURCE", text);
  }

  const Host& host_;
  TreeWriter& w_;
  std::set<std::string> written_platform_;
};

/// Every directory must hold something: git cannot keep empty ones, so a checked-in tree would
/// silently differ from a freshly built one.
std::optional<fs::path> find_empty_dir(const fs::path& root) {
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    if (it->is_symlink() || !it->is_directory()) continue;
    if (fs::is_empty(it->path())) return it->path().lexically_relative(root);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Atomic replacement of OUTDIR.

fs::path make_temp_beside(const fs::path& out, const char* tag) {
  std::string tmpl = out.string() + tag + "XXXXXX";
  if (!mkdtemp(tmpl.data()))
    throw fs::filesystem_error("cannot create temporary directory", fs::path(tmpl),
                               std::error_code(errno, std::generic_category()));
  return tmpl;
}

int run(const fs::path& description, fs::path out) {
  std::ifstream in(description);
  if (!in) {
    std::cerr << "fake-sysfs-build: cannot open " << description.string() << "\n";
    return 1;
  }
  Host host;
  host.description_name = description.filename().string();
  Parser parser(host);
  parser.parse(in);
  if (!parser.problems().empty()) {
    std::vector<Problem> problems = parser.problems();
    std::stable_sort(problems.begin(), problems.end(),
                     [](const Problem& a, const Problem& b) { return a.line < b.line; });
    for (const Problem& p : problems)
      std::cerr << description.string() << ":" << p.line << ": error: " << p.message << "\n";
    return 1;
  }
  while (out.has_relative_path() && !out.has_filename()) out = out.parent_path();  // "dir/"
  fs::path tmp;
  try {
    tmp = make_temp_beside(out, ".tmp.");
    fs::permissions(tmp, fs::perms(0755));
    TreeWriter writer(tmp);
    Builder(host, writer).build();
    if (auto empty = find_empty_dir(tmp))
      throw std::runtime_error("internal error: empty directory " + empty->string());
    if (fs::exists(fs::symlink_status(out))) {
      fs::path old = make_temp_beside(out, ".old.");
      fs::rename(out, old / "tree");
      fs::rename(tmp, out);
      fs::remove_all(old);
    } else {
      fs::rename(tmp, out);
    }
  } catch (const std::exception& e) {
    std::cerr << "fake-sysfs-build: " << e.what() << "\n";
    std::error_code ec;
    if (!tmp.empty()) fs::remove_all(tmp, ec);
    return 1;
  }
  return 0;
}

}  // namespace fake_sysfs

int main(int argc, char** argv) {
  const char* usage =
      "usage: fake-sysfs-build DESCRIPTION.host OUTDIR\n"
      "Builds a fake sysfs/procfs tree from a host description (see fake-sysfs/README.md).\n"
      "OUTDIR is replaced atomically.\n";
  if (argc == 2 && (std::string_view(argv[1]) == "-h" || std::string_view(argv[1]) == "--help")) {
    std::cout << usage;
    return 0;
  }
  if (argc != 3 || argv[1][0] == '\0' || argv[2][0] == '\0') {
    std::cerr << usage;
    return 2;
  }
  return fake_sysfs::run(argv[1], argv[2]);
}
