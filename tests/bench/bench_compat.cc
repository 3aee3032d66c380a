// SPDX-License-Identifier: MIT
// bench_compat: what iommu-compat's work costs at scale: parsing 100 host reports and 1,000
// guest files from memory, then checking all 100,000 pairs; then one 10,000-unit report and a
// guest naming 100,000 units. Prints numbers; asserts nothing.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "bench_util.h"
#include "libcaps/check.h"
#include "libcaps/decode.h"
#include "libcaps/guest.h"
#include "libcaps/host_report.h"
#include "libcaps/model.h"

namespace bench {
namespace {

constexpr int kHosts = 100;
constexpr int kGuests = 1000;

using Rng = std::mt19937_64;

/// A uniform pick in [lo, hi].
int pick(Rng& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
bool chance(Rng& rng, double p) { return std::bernoulli_distribution(p)(rng); }

template <class T>
const T& pick_of(Rng& rng, const std::vector<T>& items) {
  return items[static_cast<std::size_t>(pick(rng, 0, static_cast<int>(items.size()) - 1))];
}

std::string hex(uint64_t value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(value));
  return buf;
}

std::string bdf(int bus, int function) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0000:%02x:00.%d", bus, function);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Synthetic hosts: units built from real register values (shared/reference/real-registers.md)
// through the library's own decoders and normalizers, so they look like what read_host makes.

struct VtdValues {
  uint64_t cap;
  uint64_t ecap;
  const char* version;
};

const std::vector<VtdValues> kVtd = {
    {0xd2008c40660462, 0xf050da, "1:0"},          // client, graphics unit
    {0x1c0000c40660462, 0x19e2ff0505e, "1:0"},    // client, main unit with PASID
    {0xc0000020660462, 0xf0101a, "1:0"},          // older client
    {0x8d2078c106f0466, 0xf020df, "1:0"},         // Skylake-SP class
    {0x9ed008c40780466, 0x3ef9ea6f050df, "6:0"},  // newer Xeon, scalable mode (PASID, PRS set)
};

struct AmdValues {
  uint32_t cap;
  const char* features;
};

const std::vector<AmdValues> kAmd = {
    {0x190b640f, "58f77ef22294a5a:0"},    // Zen 2/3 class
    {0x190b640f, "a5bf7320a2294aee:1d"},  // Zen 4 server with SEV-SNP
    {0x190b640f, "800000853"},            // older APU, EFR only
};

void apply(caps::Unit& unit, caps::Normalized normalized) {
  unit.caps = std::move(normalized.caps);
  unit.evidence = std::move(normalized.evidence);
  unit.extra = std::move(normalized.extra);
  for (caps::Diagnostic& d : normalized.diagnostics) {
    if (d.path.empty()) d.path = "sys/class/iommu/" + unit.name;
    unit.diagnostics.push_back(std::move(d));
  }
}

caps::Unit intel_unit(Rng& rng, const std::string& name) {
  const VtdValues& v = pick_of(rng, kVtd);
  caps::Unit u;
  u.name = name;
  u.model = std::string(caps::kModelIntelVtd);
  u.layout = caps::Layout::kIntelIommu;
  u.registers.push_back({"cap", caps::decode(caps::vtd_cap_spec(), v.cap), std::nullopt, ""});
  u.registers.push_back({"ecap", caps::decode(caps::vtd_ecap_spec(), v.ecap), std::nullopt, ""});
  apply(u, caps::normalize_vtd(&u.registers[0].main, &u.registers[1].main));
  u.properties = {{"address", hex(0xaa3fc000 + 0x1000 * static_cast<uint64_t>(pick(rng, 0, 64)))},
                  {"domains_supported", "65536"},
                  {"domains_used", std::to_string(pick(rng, 1, 9))},
                  {"version", v.version}};
  return u;
}

caps::Unit amd_unit(Rng& rng, const std::string& name) {
  const AmdValues& v = pick_of(rng, kAmd);
  caps::Unit u;
  u.name = name;
  u.model = std::string(caps::kModelAmdVi);
  u.layout = caps::Layout::kAmdIommu;
  caps::Result<caps::AmdFeatures> features = caps::parse_amd_features(v.features);
  if (!features) {
    std::cerr << "bench_compat: error: " << features.error().to_string() << '\n';
    std::exit(1);
  }
  u.registers.push_back({"cap", caps::decode(caps::amd_cap_spec(), v.cap), std::nullopt, ""});
  caps::RegisterFile f{"features", caps::decode(caps::amd_efr_spec(), features->efr), std::nullopt,
                       features->format};
  if (features->efr2) f.second = caps::decode(caps::amd_efr2_spec(), *features->efr2);
  u.registers.push_back(std::move(f));
  const caps::RegisterFile& ff = u.registers[1];
  apply(u, caps::normalize_amd(&u.registers[0].main, &ff.main, ff.second ? &*ff.second : nullptr));
  return u;
}

/// An SMMUv3 described in the generic layout, like fake-sysfs/hosts/arm-smmuv3-generic.
caps::Unit arm_unit(Rng& rng, const std::string& name) {
  caps::Unit u;
  u.name = name;
  u.model = std::string(caps::kModelArmSmmuV3);
  u.layout = caps::Layout::kGeneric;
  caps::Caps& c = u.caps;
  c.input_bits = pick_of(rng, std::vector<int>{48, 52});
  c.output_bits = pick_of(rng, std::vector<int>{44, 48, 52});
  c.asid_bits = pick_of(rng, std::vector<int>{8, 16});
  c.ssid_bits = pick_of(rng, std::vector<int>{0, 16, 20});
  c.httu = pick_of(rng, std::vector<caps::Httu>{caps::Httu::kNone, caps::Httu::kAccess,
                                                caps::Httu::kAccessDirty});
  c.stall = pick_of(rng, std::vector<caps::Stall>{caps::Stall::kDisabled, caps::Stall::kEnabled,
                                                  caps::Stall::kForce});
  c.btm = chance(rng, 0.5);
  c.pgtable_formats = chance(rng, 0.5) ? std::vector<std::string>{"lpae-64"}
                                       : std::vector<std::string>{"lpae-32", "lpae-64"};
  if (chance(rng, 0.7)) c.nested = chance(rng, 0.7);
  if (chance(rng, 0.7)) c.ats = true;
  if (chance(rng, 0.5)) c.page_requests = chance(rng, 0.5);
  if (chance(rng, 0.5)) c.dirty_tracking = *c.httu == caps::Httu::kAccessDirty;
  u.properties = {{"model", "2"}};
  for (const char* key : {"asid_bits", "ssid_bits", "input_bits", "output_bits"}) {
    u.evidence[key] = "arm-smmu-v3/" + std::string(key);
  }
  return u;
}

caps::PciInfo pci_info(Rng& rng, bool bridge) {
  caps::PciInfo p;
  p.vendor = bridge ? 0x8086 : pick_of(rng, std::vector<uint16_t>{0x15b3, 0x8086, 0x144d});
  p.device = bridge ? 0x347a : static_cast<uint16_t>(pick(rng, 0x1000, 0x1fff));
  p.class_code = bridge ? 0x060400 : pick_of(rng, std::vector<uint32_t>{0x020000, 0x010802});
  p.header_type = bridge ? 1 : 0;
  if (chance(rng, 0.2)) return p;  // only the first 256 bytes readable: extended caps unknown
  p.ats = chance(rng, 0.6);
  p.pri = *p.ats && chance(rng, 0.5);
  p.pasid = chance(rng, 0.4)
                ? std::optional<caps::PasidCapability>(caps::PasidCapability{
                      pick_of(rng, std::vector<int>{16, 20}), chance(rng, 0.5), chance(rng, 0.5)})
                : std::nullopt;
  return p;
}

/// Host `index`: 2-8 units of one vendor (every seventh host mixes vendors), 2-4 devices behind
/// each unit, groups of one device or (on every third unit) all of the unit's devices.
caps::Host make_host(int index, Rng& rng) {
  caps::Host host;
  host.backend = "dir";
  host.root = "/srv/hosts/host" + std::to_string(index);
  const int vendor = index % 3;
  const int units = 2 + index % 7;
  uint64_t next_group = 0;
  for (int u = 0; u < units; ++u) {
    const int kind = index % 7 == 6 ? u % 3 : vendor;
    caps::Unit unit = kind == 0   ? intel_unit(rng, "dmar" + std::to_string(u))
                      : kind == 1 ? amd_unit(rng, "ivhd" + std::to_string(u))
                                  : arm_unit(rng, "smmu3.0x" + hex(0x9050000 + 0x100000 * u));
    const bool shared_group = u % 3 == 2;
    const int devices = pick(rng, 2, 4);
    for (int d = 0; d < devices; ++d) {
      caps::Device dev;
      dev.name = bdf(0x10 * (u + 1), d);
      dev.unit = unit.name;
      dev.group = shared_group ? next_group : next_group + static_cast<uint64_t>(d);
      if (chance(rng, 0.8)) {
        dev.driver = pick_of(rng, std::vector<std::string>{"vfio-pci", "mlx5_core", "nvme"});
      }
      dev.pci = pci_info(rng, d == 0);
      unit.devices.push_back(dev.name);
      host.devices.push_back(std::move(dev));
    }
    const int groups = shared_group ? 1 : devices;
    for (int g = 0; g < groups; ++g) {
      caps::Group group;
      group.id = next_group + static_cast<uint64_t>(g);
      group.type = pick_of(rng, std::vector<std::string>{"DMA", "DMA-FQ", "identity"});
      for (int d = 0; d < devices; ++d) {
        if (shared_group || d == g) group.devices.push_back(bdf(0x10 * (u + 1), d));
      }
      group.reserved_regions.push_back({0xfee00000, 0xfeefffff, "msi"});
      host.groups.push_back(std::move(group));
    }
    next_group += static_cast<uint64_t>(groups);
    host.units.push_back(std::move(unit));
  }
  std::sort(host.units.begin(), host.units.end(), [](const caps::Unit& a, const caps::Unit& b) {
    return caps::natural_less(a.name, b.name);
  });
  std::sort(host.devices.begin(), host.devices.end(),
            [](const caps::Device& a, const caps::Device& b) {
              return caps::natural_less(a.name, b.name);
            });
  host.platform.acpi_tables = {vendor == 0 ? "DMAR" : vendor == 1 ? "IVRS" : "IORT"};
  host.platform.cmdline = "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro iommu.strict=0";
  return host;
}

// ---------------------------------------------------------------------------------------------
// Synthetic guests: every model, widths around the hosts' limits, optional features, devices
// that some hosts have and others do not, PASID tables and allocations.

template <class T>
caps::Located<T> at(T value) {
  return caps::Located<T>{std::move(value), {}};
}

caps::Guest make_guest(int index, Rng& rng) {
  caps::Guest g;
  g.file = "guest" + std::to_string(index) + ".toml";
  caps::GuestViommu& v = g.viommu;
  const std::string model =
      pick_of(rng, std::vector<std::string>{"intel-vtd", "intel-vtd", "amd-vi", "arm-smmu-v3",
                                            "arm-smmu-v3", "virtio-iommu"});
  const bool arm = model == "arm-smmu-v3";
  v.model = at(model);
  if (chance(rng, 0.8)) v.input_bits = at(pick_of(rng, std::vector<int>{39, 39, 48, 57}));
  if (arm && chance(rng, 0.7)) v.output_bits = at(pick_of(rng, std::vector<int>{44, 48}));
  if (chance(rng, 0.5)) v.asid_bits = at(pick_of(rng, std::vector<int>{8, 16}));
  const int ssid_bits = pick_of(rng, std::vector<int>{0, 0, 0, 0, 0, 0, 8, 16, 20});
  if (ssid_bits > 0 || chance(rng, 0.3)) v.ssid_bits = at(ssid_bits);
  if (chance(rng, 0.2)) {
    v.httu = at(pick_of(rng, std::vector<caps::Httu>{caps::Httu::kNone, caps::Httu::kAccess,
                                                     caps::Httu::kAccessDirty}));
  }
  if (arm && chance(rng, 0.5)) {
    v.stall =
        at(pick_of(rng, std::vector<caps::Stall>{caps::Stall::kDisabled, caps::Stall::kEnabled}));
  }
  if (arm && chance(rng, 0.5)) v.btm = at(chance(rng, 0.5));
  if (chance(rng, 0.2)) {
    v.pgtable_format =
        at(model == "intel-vtd"
               ? std::string(pick_of(rng, std::vector<std::string>{"vtd-fs-48", "vtd-ss-48"}))
           : arm ? std::string("lpae-64")
                 : std::string("amd-v1"));
  }
  if (chance(rng, 0.6)) v.nested = at(chance(rng, 0.3));
  if (chance(rng, 0.5)) v.ats = at(chance(rng, 0.7));
  if (chance(rng, 0.3)) v.page_requests = at(chance(rng, 0.5));
  if (chance(rng, 0.3)) v.dirty_tracking = at(chance(rng, 0.5));
  if (chance(rng, 0.1)) v.units = at(std::vector<std::string>{"dmar1"});

  const int devices = pick_of(rng, std::vector<int>{0, 0, 0, 1, 1, 2});
  std::set<std::string> assigned;  // a device assigned twice is a guest error
  while (static_cast<int>(assigned.size()) < devices) {
    const std::string name = bdf(0x10 * pick(rng, 1, 4), pick(rng, 0, 2));
    if (assigned.insert(name).second) g.devices.push_back({at(name)});
  }

  const int pasid_bits = ssid_bits;
  if (ssid_bits > 0 && chance(rng, 0.5)) {
    caps::GuestPasidTable t;
    t.version = at<uint64_t>(chance(rng, 0.95) ? 1 : 2);
    t.bytes = at<uint64_t>(32);
    t.model = at(model == "intel-vtd" ? caps::PasidTableModel::kIntel
                 : model == "amd-vi"  ? caps::PasidTableModel::kAmd
                 : arm                ? caps::PasidTableModel::kArm2Lvl
                                      : caps::PasidTableModel::kHost);
    t.base_ptr = at<uint64_t>(chance(rng, 0.9) ? 0x7f000000 : 0x7f000040);
    t.pasid_bits = at(pasid_bits);
    if (arm) t.s1dss = at(caps::S1dss::kSsid0);
    g.pasid_table = t;
  }
  if (ssid_bits > 0 && chance(rng, 0.5)) {
    caps::GuestPasidAlloc a;
    a.min = at<uint64_t>(1);
    a.max = at<uint64_t>((uint64_t{1} << pasid_bits) - 1);
    a.count = at<uint64_t>(pick_of(rng, std::vector<uint64_t>{64, 64, 200, 2000}));
    a.quota = at<uint64_t>(1000);
    g.pasid_alloc = a;
  }
  return g;
}

// ---------------------------------------------------------------------------------------------

struct Inputs {
  std::vector<std::string> host_texts;
  std::vector<std::string> host_names;
  std::vector<std::string> guest_texts;
  std::vector<std::string> guest_names;
};

Inputs make_inputs() {
  Rng rng(20240601);
  Inputs in;
  for (int i = 0; i < kHosts; ++i) {
    std::ostringstream out;
    caps::write_host_report(make_host(i, rng), out);
    in.host_texts.push_back(std::move(out).str());
    in.host_names.push_back("host" + std::to_string(i) + ".toml");
  }
  for (int i = 0; i < kGuests; ++i) {
    in.guest_texts.push_back(caps::write_guest(make_guest(i, rng)));
    in.guest_names.push_back("guest" + std::to_string(i) + ".toml");
  }
  return in;
}

struct Parsed {
  std::vector<caps::Host> hosts;
  std::vector<caps::Guest> guests;
  double hosts_ms = 0;
  double guests_ms = 0;
};

/// Loads every report and parses every guest from memory; exits on the first failure, since
/// inputs the library wrote itself must read back.
Parsed parse_all(const Inputs& in) {
  Parsed p;
  p.hosts.reserve(in.host_texts.size());
  p.guests.reserve(in.guest_texts.size());
  Clock::time_point start = Clock::now();
  for (std::size_t i = 0; i < in.host_texts.size(); ++i) {
    caps::Result<caps::Host> host = caps::load_host_report(in.host_texts[i], in.host_names[i]);
    if (!host) {
      std::cerr << "bench_compat: error: " << host.error().to_string() << '\n';
      std::exit(1);
    }
    p.hosts.push_back(std::move(*host));
  }
  p.hosts_ms = ms_since(start);
  start = Clock::now();
  for (std::size_t i = 0; i < in.guest_texts.size(); ++i) {
    auto guest = caps::parse_guest(in.guest_texts[i], in.guest_names[i]);
    if (!guest) {
      std::cerr << "bench_compat: error: " << in.guest_names[i] << ": "
                << guest.error().front().to_string() << '\n';
      std::exit(1);
    }
    p.guests.push_back(std::move(*guest));
  }
  p.guests_ms = ms_since(start);
  return p;
}

struct CheckTally {
  std::map<caps::Verdict, std::size_t> verdicts;
  std::map<std::string_view, std::size_t> failed_rules;  // rule id -> checks it failed in
  std::size_t findings = 0;
};

/// Decides every guest against every host: the verdicts a matrix shows.
double decide_all(const Parsed& p, CheckTally* tally) {
  std::size_t incompatible = 0;
  const std::span<const std::string_view> ids = caps::rule_ids();
  const Clock::time_point start = Clock::now();
  for (const caps::Host& host : p.hosts) {
    for (const caps::Guest& guest : p.guests) {
      const caps::Decision decision = caps::decide(guest, host);
      incompatible += decision.verdict == caps::Verdict::kIncompatible;
      if (tally == nullptr) continue;
      ++tally->verdicts[decision.verdict];
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (decision.failed[i]) ++tally->failed_rules[ids[i]];
      }
    }
  }
  const double ms = ms_since(start);
  keep(incompatible);
  return ms;
}

/// Checks every guest against every host, building each kept finding's text.
double check_all(const Parsed& p, const caps::CheckOptions& options, CheckTally* tally) {
  std::size_t findings = 0;
  const Clock::time_point start = Clock::now();
  for (const caps::Host& host : p.hosts) {
    for (const caps::Guest& guest : p.guests) {
      findings += caps::check(guest, host, options).findings.size();
    }
  }
  const double ms = ms_since(start);
  keep(findings);
  if (tally != nullptr) tally->findings = findings;
  return ms;
}

/// Issue 8's sizes: loading a 10,000-unit host report, and parsing and deciding a guest that
/// names 100,000 units on that host (quadratic until the look-ups were indexed).
void scale() {
  Rng rng(8);
  caps::Host host;
  host.root = "scale";
  for (int i = 0; i < 10000; ++i) host.units.push_back(intel_unit(rng, "dmar" + std::to_string(i)));
  std::ostringstream out;
  caps::write_host_report(host, out);
  const std::string report = out.str();
  Clock::time_point start = Clock::now();
  const caps::Result<caps::Host> loaded = caps::load_host_report(report, "scale.toml");
  const double load_ms = ms_since(start);
  std::string guest = "format = 1\n[viommu]\nmodel = \"intel-vtd\"\nunits = [\"dmar0\"";
  for (int i = 1; i < 100000; ++i) guest += ",\"u" + std::to_string(i) + "\"";
  guest += "]\n";
  start = Clock::now();
  const auto parsed = caps::parse_guest(guest, "scale-guest.toml");
  const double parse_ms = ms_since(start);
  if (!loaded || !parsed) {
    std::printf("\nscale: %s\n", !loaded ? loaded.error().to_string().c_str()
                                         : parsed.error().front().to_string().c_str());
    return;
  }
  start = Clock::now();
  const caps::Decision decision = caps::decide(*parsed, *loaded);
  const double decide_ms = ms_since(start);
  std::printf(
      "\nscale (issue 8): load_host_report of 10,000 units (%.1f MB) %.0f ms; parse_guest of "
      "100,000 unit names (%.0f KiB) %.0f ms; decide() of it on that host %.0f ms (%s)\n",
      report.size() / 1e6, load_ms, guest.size() / 1024.0, parse_ms, decide_ms,
      std::string(caps::to_string(decision.verdict)).c_str());
}

int run(int argc, char** argv) {
  const int parse_runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
  const int check_runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  const Inputs in = make_inputs();
  std::size_t host_bytes = 0;
  std::size_t guest_bytes = 0;
  for (const std::string& t : in.host_texts) host_bytes += t.size();
  for (const std::string& t : in.guest_texts) guest_bytes += t.size();

  std::vector<double> parse_ms, hosts_ms, guests_ms;
  Parsed parsed = parse_all(in);  // warm-up; keeps the parsed inputs for checking
  for (int i = 0; i < parse_runs; ++i) {
    const Parsed p = parse_all(in);
    hosts_ms.push_back(p.hosts_ms);
    guests_ms.push_back(p.guests_ms);
    parse_ms.push_back(p.hosts_ms + p.guests_ms);
  }

  CheckTally tally;
  decide_all(parsed, &tally);  // warm-up, and the verdict mix
  check_all(parsed, {}, &tally);
  std::vector<double> decide_ms, problems_ms, check_ms;
  for (int i = 0; i < check_runs; ++i) {
    decide_ms.push_back(decide_all(parsed, nullptr));
    problems_ms.push_back(check_all(parsed, {.passes = false}, nullptr));
    check_ms.push_back(check_all(parsed, {}, nullptr));
  }

  const Summary parse = summarize(parse_ms);
  const Summary hosts = summarize(hosts_ms);
  const Summary guests = summarize(guests_ms);
  const Summary decide = summarize(decide_ms);
  const Summary problems = summarize(problems_ms);
  const Summary check = summarize(check_ms);
  const double pairs = static_cast<double>(kHosts) * kGuests;
  std::size_t units = 0;
  for (const caps::Host& h : parsed.hosts) units += h.units.size();

  std::printf("inputs: %d host reports (%zu units, %.1f KiB of TOML), %d guests (%.1f KiB)\n",
              kHosts, units, host_bytes / 1024.0, kGuests, guest_bytes / 1024.0);
  std::printf("verdicts over %.0f pairs:", pairs);
  for (const auto& [verdict, n] : tally.verdicts) {
    std::printf(" %s %zu", std::string(caps::to_string(verdict)).c_str(), n);
  }
  std::printf("; %.1f findings per check\nrules failed most often (checks):",
              static_cast<double>(tally.findings) / pairs);
  std::vector<std::pair<std::size_t, std::string_view>> failed;
  for (const auto& [rule, n] : tally.failed_rules) failed.push_back({n, rule});
  std::sort(failed.rbegin(), failed.rend());
  for (std::size_t i = 0; i < failed.size() && i < 6; ++i) {
    std::printf(" %s %zu", std::string(failed[i].second).c_str(), failed[i].first);
  }
  std::printf("\n\n");

  auto row = [](const char* what, const Summary& s) {
    std::printf("%-52s %10.2f %10.2f\n", what, s.best, s.median);
  };
  std::printf("%-52s %10s %10s\n", "ms (best / median)", "best", "median");
  row("parse: load_host_report x100", hosts);
  row("parse: parse_guest x1000", guests);
  row("parse total (1,100 inputs)", parse);
  row("check: decide() x100,000 pairs (verdicts)", decide);
  row("check: check(passes = false) x100,000 (problem text)", problems);
  row("check: check() x100,000 (every finding's text)", check);
  auto us = [&](const Summary& s) { return 1000 * s.median / pairs; };
  std::printf(
      "\nchecks per second (median): decide %.0f (%.2f us), check without passes %.0f "
      "(%.2f us), check %.0f (%.2f us)\n",
      pairs / (decide.median / 1000), us(decide), pairs / (problems.median / 1000), us(problems),
      pairs / (check.median / 1000), us(check));
  const double host_us = 1000 * hosts.median / kHosts;
  const double guest_us = 1000 * guests.median / kGuests;
  std::printf("per input: load_host_report %.1f us, parse_guest %.1f us\n", host_us, guest_us);
  auto verdict = [&](const Summary& s) {
    return std::printf("x%.2f: %s", s.median / parse.median,
                       s.median < parse.median ? "met" : "NOT met");
  };
  std::printf(
      "\ngoal \"checking must cost less than parsing the inputs\" over the matrix "
      "(100,000 checks vs 1,100 parses, %.1f ms):\n  verdicts (decide): %.1f ms, ",
      parse.median, decide.median);
  verdict(decide);
  std::printf("\n  with problem text (check, passes = false): %.1f ms, ", problems.median);
  verdict(problems);
  std::printf("\n  with every finding's text (check): %.1f ms, ", check.median);
  verdict(check);
  std::printf(
      "\nper run of iommu-compat (one host report + one guest): check %.2f us vs parse "
      "%.1f us (x%.3f)\n",
      us(check), host_us + guest_us, us(check) / (host_us + guest_us));
  std::printf("peak RSS: %.1f MiB\n", peak_rss_mib());
  scale();
  return 0;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) { return bench::run(argc, argv); }
