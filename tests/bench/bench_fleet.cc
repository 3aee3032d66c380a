// SPDX-License-Identifier: MIT
// bench_fleet: a fleet's whole matrix, streamed over hosts. 10,000 host reports (the fixture
// hosts of fake-sysfs/hosts, varied) x 1,000 guests (the example guests and suggestions for the
// fixtures, varied): parse each report, decide it against every guest, explain the pairs that
// are not compatible, drop it. Memory holds the guests and one host; the pairs are never held.
// Prints numbers; asserts nothing.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "bench_util.h"
#include "libcaps/check.h"
#include "libcaps/guest.h"
#include "libcaps/host_report.h"
#include "libcaps/model.h"
#include "libcaps/reader.h"
#include "libcaps/source.h"
#include "libcaps/suggest.h"

namespace bench {
namespace {

using Rng = std::mt19937_64;

int pick(Rng& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
bool chance(Rng& rng, double p) { return std::bernoulli_distribution(p)(rng); }
template <class T>
const T& pick_of(Rng& rng, const std::vector<T>& items) {
  return items[static_cast<std::size_t>(pick(rng, 0, static_cast<int>(items.size()) - 1))];
}

struct Options {
  int hosts = 10000;
  int guests = 1000;
  int explain_every = 1;  // explain the pairs of every K-th host (1: all)
  std::string source_dir = IOMMU_SOURCE_DIR;
};

// ---------------------------------------------------------------------------------------------
// Inputs: the fixtures read once, then each host varied from one of them on demand.

std::vector<caps::Host> read_fixtures(const std::string& source_dir) {
  std::vector<std::string> dirs;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir + "/fake-sysfs/hosts")) {
    if (entry.is_directory() && std::filesystem::exists(entry.path() / "SOURCE")) {
      dirs.push_back(entry.path().string());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  std::vector<caps::Host> out;
  for (const std::string& dir : dirs) {
    auto source = caps::open_dir_source(dir);
    if (!source) continue;
    caps::Host host = caps::read_host(**source);
    if (!host.units.empty()) out.push_back(std::move(host));
  }
  return out;
}

/// Fixture `index % n`, varied: narrower widths, features lost, drivers rebound, so no two
/// hosts of the same fixture need be equal. The text is what load_host_report parses.
std::string host_report(const std::vector<caps::Host>& fixtures, int index) {
  Rng rng(static_cast<uint64_t>(index) * 7919 + 1);
  caps::Host host = fixtures[static_cast<std::size_t>(index) % fixtures.size()];
  host.backend = "report";
  host.root = "/srv/fleet/host" + std::to_string(index) + ".toml";
  for (caps::Unit& unit : host.units) {
    caps::Caps& c = unit.caps;
    if (c.ssid_bits && *c.ssid_bits > 0 && chance(rng, 0.2)) {
      c.ssid_bits = pick_of(rng, std::vector<int>{0, 16, 19});
    }
    if (c.input_bits && chance(rng, 0.2)) c.input_bits = std::min(*c.input_bits, 39);
    if (c.nested && chance(rng, 0.15)) c.nested = false;
    if (c.ats && chance(rng, 0.1)) c.ats = false;
    if (c.page_requests && chance(rng, 0.1)) c.page_requests = false;
    if (c.dirty_tracking && chance(rng, 0.1)) c.dirty_tracking = false;
  }
  for (caps::Device& device : host.devices) {
    if (device.driver && chance(rng, 0.3)) {
      device.driver = pick_of(rng, std::vector<std::string>{"vfio-pci", "mlx5_core", "nvme"});
    }
  }
  std::ostringstream out;
  caps::write_host_report(host, out);
  return std::move(out).str();
}

template <class T>
caps::Located<T> at(T value) {
  return caps::Located<T>{std::move(value), {}};
}

/// The guests: the example guest files that parse, and a suggestion per fixture and model;
/// then `count` variations of them (widths, features, devices of a fixture host), as text.
std::vector<std::string> guest_texts(const std::vector<caps::Host>& fixtures,
                                     const std::string& source_dir, int count) {
  std::vector<caps::Guest> bases;
  for (const auto& entry :
       std::filesystem::directory_iterator(source_dir + "/tools/iommu-compat/examples")) {
    if (entry.path().extension() != ".toml") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    if (auto guest = caps::parse_guest(text.str(), entry.path().filename().string())) {
      bases.push_back(std::move(*guest));
    }
  }
  for (const caps::Host& host : fixtures) {
    for (std::string_view model : caps::model_names()) {
      if (auto s = caps::suggest_guest(model, std::vector<caps::Host>{host})) {
        bases.push_back(std::move(s->guest));
      }
    }
  }
  std::sort(bases.begin(), bases.end(),
            [](const caps::Guest& a, const caps::Guest& b) { return a.file < b.file; });
  Rng rng(20261202);
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    caps::Guest g = bases[static_cast<std::size_t>(i) % bases.size()];
    caps::GuestViommu& v = g.viommu;
    if (chance(rng, 0.3)) v.ssid_bits = at(pick_of(rng, std::vector<int>{0, 8, 16, 20}));
    if (g.pasid_table && v.ssid_bits) g.pasid_table->pasid_bits.value = v.ssid_bits->value;
    if (chance(rng, 0.3)) v.input_bits = at(pick_of(rng, std::vector<int>{39, 48, 57}));
    if (chance(rng, 0.2)) v.nested = at(chance(rng, 0.5));
    if (chance(rng, 0.2)) v.ats = at(chance(rng, 0.7));
    if (chance(rng, 0.1)) v.dirty_tracking = at(chance(rng, 0.5));
    if (g.devices.empty() && chance(rng, 0.3)) {
      const caps::Host& host = pick_of(rng, fixtures);
      if (!host.devices.empty()) g.devices.push_back({at(pick_of(rng, host.devices).name)});
    }
    out.push_back(caps::write_guest(g));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

/// This thread's CPU time in milliseconds: on a shared machine wall time measures the
/// scheduler as much as the work, so every phase is timed both ways.
double cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

struct Stamp {
  Clock::time_point wall = Clock::now();
  double cpu = cpu_ms();
};

struct Phase {
  double ms = 0;
  double cpu = 0;
  void add(const Stamp& start) {
    ms += ms_since(start.wall);
    cpu += cpu_ms() - start.cpu;
  }
};

int run(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::cerr << "bench_fleet: " << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--hosts") {
      o.hosts = std::max(1, std::atoi(next()));
    } else if (arg == "--guests") {
      o.guests = std::max(1, std::atoi(next()));
    } else if (arg == "--explain-every") {
      o.explain_every = std::max(1, std::atoi(next()));
    } else if (arg == "--source-dir") {
      o.source_dir = next();
    } else {
      std::cerr << "usage: bench_fleet [--hosts N] [--guests M] [--explain-every K] "
                   "[--source-dir DIR]\n";
      return 2;
    }
  }

  Stamp start;
  const std::vector<caps::Host> fixtures = read_fixtures(o.source_dir);
  if (fixtures.empty()) {
    std::cerr << "bench_fleet: no fixture host with units under " << o.source_dir << '\n';
    return 1;
  }
  const std::vector<std::string> texts = guest_texts(fixtures, o.source_dir, o.guests);
  const double setup_ms = ms_since(start.wall);

  Phase parse_guests;
  start = Stamp();
  std::vector<caps::Guest> guests;
  guests.reserve(texts.size());
  std::size_t guest_bytes = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    guest_bytes += texts[i].size();
    auto guest = caps::parse_guest(texts[i], "guest" + std::to_string(i) + ".toml");
    if (!guest) {
      std::cerr << "bench_fleet: guest " << i << ": " << guest.error().front().to_string() << '\n';
      return 1;
    }
    guests.push_back(std::move(*guest));
  }
  parse_guests.add(start);

  Phase generate, parse, decide, explain;
  std::map<caps::Verdict, std::size_t> verdicts;
  std::size_t host_bytes = 0, explained = 0, findings = 0, units = 0;
  double rss_at_tenth = 0;
  const std::size_t per_host = guests.size();
  std::vector<caps::Verdict> verdict_row(per_host);  // one host's verdicts, reused
  for (int h = 0; h < o.hosts; ++h) {
    start = Stamp();
    const std::string text = host_report(fixtures, h);
    generate.add(start);
    host_bytes += text.size();

    start = Stamp();
    caps::Result<caps::Host> host = caps::load_host_report(text, "host.toml");
    parse.add(start);
    if (!host) {
      std::cerr << "bench_fleet: host " << h << ": " << host.error().to_string() << '\n';
      return 1;
    }
    units += host->units.size();

    start = Stamp();
    for (std::size_t g = 0; g < per_host; ++g) verdict_row[g] = caps::decide(guests[g], *host).verdict;
    decide.add(start);
    for (caps::Verdict v : verdict_row) ++verdicts[v];

    if (h % o.explain_every == 0) {
      start = Stamp();
      for (std::size_t g = 0; g < per_host; ++g) {
        if (verdict_row[g] == caps::Verdict::kCompatible) continue;
        findings += caps::check(guests[g], *host, {.passes = false}).findings.size();
        ++explained;
      }
      explain.add(start);
    }
    if (h + 1 == std::max(1, o.hosts / 10)) rss_at_tenth = peak_rss_mib();
  }
  keep(findings);

  const double pairs = static_cast<double>(o.hosts) * static_cast<double>(per_host);
  const double explained_hosts = (o.hosts + o.explain_every - 1) / o.explain_every;
  const double explain_all_ms = explain.ms * o.hosts / explained_hosts;
  std::printf("fleet: %d host reports (%zu units, %.1f MiB of TOML; from %zu fixtures), "
              "%zu guests (%.1f KiB); %.0f pairs\n",
              o.hosts, units, host_bytes / 1048576.0, fixtures.size(), per_host,
              guest_bytes / 1024.0, pairs);
  std::printf("verdicts:");
  for (const auto& [v, n] : verdicts) std::printf(" %s %zu", std::string(caps::to_string(v)).c_str(), n);
  std::printf("\n\n%-46s %10s %10s %14s\n", "phase", "wall ms", "CPU ms", "CPU per item");
  std::printf("%-46s %10.1f\n", "setup: read fixtures, make guests (untimed)", setup_ms);
  auto row = [](const char* what, const Phase& p, double items, const char* note) {
    std::printf("%-46s %10.1f %10.1f %11.3f us%s\n", what, p.ms, p.cpu,
                items > 0 ? 1000 * p.cpu / items : 0.0, note);
  };
  row("generate host reports (not the tools' work)", generate, o.hosts, "");
  row("parse: parse_guest x guests", parse_guests, static_cast<double>(per_host), "");
  row("parse: load_host_report x hosts", parse, o.hosts, "");
  row("decide: decide() x pairs", decide, pairs, "");
  row("explain: check(passes=false), not compatible", explain, static_cast<double>(explained),
      o.explain_every > 1 ? "  (sampled hosts)" : "");
  std::printf("explained %zu pairs (%zu findings)\n", explained, findings);
  if (o.explain_every > 1) {
    std::printf("%-46s %10.1f %10.1f\n", "explain, extrapolated to every host", explain_all_ms,
                explain.cpu * o.hosts / explained_hosts);
  }
  const double parse_all = parse.cpu + parse_guests.cpu;
  std::printf("\ngoal: the matrix decided in less CPU time than parsing the inputs: decide %.1f ms, "
              "parse %.1f ms (reports %.1f + guests %.1f): x%.2f, %s\n",
              decide.cpu, parse_all, parse.cpu, parse_guests.cpu, decide.cpu / parse_all,
              decide.cpu < parse_all ? "met" : "NOT met");
  std::printf("per host: parse %.1f us, decide its %zu guests %.1f us\n", 1000 * parse.cpu / o.hosts,
              per_host, 1000 * decide.cpu / o.hosts);
  std::printf("peak RSS: %.1f MiB after %d hosts, %.1f MiB at the end\n", rss_at_tenth,
              std::max(1, o.hosts / 10), peak_rss_mib());
  return 0;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) { return bench::run(argc, argv); }
