// SPDX-License-Identifier: MIT
// Reading a whole host: the units, /sys/kernel/iommu_groups, every device behind a unit or in
// a group (its unit, group, driver and PCI capabilities), and the platform facts.
#include <algorithm>
#include <map>
#include <set>

#include "libcaps/parse.h"
#include "libcaps/reader.h"
#include "read_internal.h"
#include "read_util.h"

namespace caps {

namespace {

constexpr std::string_view kGroupsDir = "sys/kernel/iommu_groups";
constexpr std::string_view kPciDevicesDir = "sys/bus/pci/devices";

std::string group_path(uint64_t id, std::string_view rest = {}) {
  std::string path = std::string(kGroupsDir) + "/" + std::to_string(id);
  if (!rest.empty()) path += "/" + std::string(rest);
  return path;
}

/// One line of reserved_regions: "0x%016llx 0x%016llx %s".
std::optional<ReservedRegion> parse_region(std::string_view line, std::string& problem) {
  size_t a = line.find(' ');
  size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
  if (b == std::string_view::npos) {
    problem = "expected \"<start> <end> <type>\", got " + quote(line);
    return std::nullopt;
  }
  Result<uint64_t> start = parse_hex_prefixed(line.substr(0, a));
  Result<uint64_t> end = parse_hex_prefixed(line.substr(a + 1, b - a - 1));
  std::string_view type = line.substr(b + 1);
  if (!start || !end || type.empty() || type.find(' ') != std::string_view::npos) {
    problem = "expected \"<start> <end> <type>\", got " + quote(line);
    return std::nullopt;
  }
  if (*end < *start) {
    problem = "region ends before it starts: " + quote(line);
    return std::nullopt;
  }
  return ReservedRegion{*start, *end, std::string(type)};
}

void read_reserved_regions(Source& source, Group& group, Diagnostics& diagnostics) {
  std::string path = group_path(group.id, "reserved_regions");
  std::optional<std::string> text = read_value(source, path, diagnostics, IfMissing::kSilent);
  if (!text) {
    group.reserved_regions_known = false;
    return;
  }
  std::string_view rest = *text;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (line.empty()) continue;
    std::string problem;
    if (auto region = parse_region(line, problem)) {
      group.reserved_regions.push_back(std::move(*region));
    } else {
      add_diagnostic(diagnostics, path, Severity::kError, problem);
      group.reserved_regions_known = false;
    }
  }
}

/// A group id as the kernel names it: decimal without leading zeros. "07" is not group 7
/// (the kernel never writes it, and reading it as 7 would make two groups of one id, or read
/// group 7's files for a directory of another name).
Result<uint64_t> parse_group_id(std::string_view name) {
  Result<uint64_t> id = parse_dec(name);
  if (id && std::to_string(*id) != name) {
    return make_error("", "not a group id: " + quote(name) +
                              " is not written the kernel's way (decimal, no leading zeros)");
  }
  if (!id) return make_error("", "not a group id: " + id.error().message);
  return id;
}

std::optional<Group> read_group(Source& source, const DirEntry& entry, Diagnostics& diagnostics) {
  Result<uint64_t> id = parse_group_id(entry.name);
  if (!id) {
    add_diagnostic(diagnostics, std::string(kGroupsDir) + "/" + entry.name, Severity::kWarning,
                   id.error().message);
    return std::nullopt;
  }
  Group group;
  group.id = *id;
  group.type = read_value(source, group_path(group.id, "type"), diagnostics, IfMissing::kSilent);
  group.name = read_value(source, group_path(group.id, "name"), diagnostics, IfMissing::kSilent);
  read_reserved_regions(source, group, diagnostics);
  DirRead devices = source.list_dir(group_path(group.id, "devices"));
  if (devices.ok()) {
    for (DirEntry& d : devices.entries) group.devices.push_back(std::move(d.name));
    std::sort(group.devices.begin(), group.devices.end(), device_less);
  } else if (devices.status != ReadStatus::kMissing) {
    group.devices_known = false;
    add_diagnostic(diagnostics, group_path(group.id, "devices"), Severity::kError,
                   "cannot list: " + describe(devices.status, devices.error));
  }
  return group;
}

std::vector<Group> read_groups(Source& source, Diagnostics& diagnostics) {
  std::vector<Group> groups;
  DirRead listing = source.list_dir(kGroupsDir);
  if (listing.status == ReadStatus::kMissing) return groups;
  if (!listing.ok()) {
    add_diagnostic(diagnostics, kGroupsDir, Severity::kError,
                   "cannot list: " + describe(listing.status, listing.error));
    return groups;
  }
  std::set<uint64_t> ids;
  for (const DirEntry& e : listing.entries) {
    auto group = read_group(source, e, diagnostics);
    if (!group) continue;
    // A directory lists a name once; a Source that does not (a broken file system, a copied
    // tree's tool) must not make two groups of one id.
    if (!ids.insert(group->id).second) {
      add_diagnostic(diagnostics, std::string(kGroupsDir) + "/" + e.name, Severity::kWarning,
                     "listed twice; the first is kept");
      continue;
    }
    groups.push_back(std::move(*group));
  }
  std::sort(groups.begin(), groups.end(),
            [](const Group& a, const Group& b) { return a.id < b.id; });
  return groups;
}

/// What a link names: its basename, nothing (no such link), or unknown (unreadable).
struct LinkName {
  std::optional<std::string> name;
  bool known = true;
};

/// The basename of the link `dir`/`name`, read as `link`. A missing link is a fact (no driver,
/// no group); an unreadable or odd one is not, and says so. `directory_means_absent`: a
/// directory there is not a link either (an AMD IOMMU's own PCI function has an iommu/
/// directory holding its ivhdN unit, and no iommu link).
LinkName link_name(Source& source, const LinkRead& link, const std::string& dir,
                   std::string_view name, Diagnostics& diagnostics,
                   bool directory_means_absent = false) {
  if (link.status == ReadStatus::kMissing) return {};
  const auto path = [&] { return dir + "/" + std::string(name); };
  if (link.status == ReadStatus::kNotRegular && directory_means_absent &&
      source.list_dir(path()).ok()) {
    return {};
  }
  if (!link.ok()) {
    add_diagnostic(diagnostics, path(), Severity::kWarning,
                   "cannot read link: " + describe(link.status, link.error));
    return {std::nullopt, false};
  }
  std::string base = link_basename(link.target);
  if (base.empty() || base == "." || base == "..") {
    add_diagnostic(diagnostics, path(), Severity::kWarning,
                   "odd link target " + quote(link.target));
    return {std::nullopt, false};
  }
  return {base, true};
}

/// Where a device was seen: the directory to read its links and config from, and what the
/// listing that named it says.
struct Sighting {
  std::string dir;
  std::optional<std::string> unit;
  std::optional<uint64_t> group;
};

Device read_device(Source& source, const std::string& name, const Sighting& seen,
                   const ReadOptions& options, Diagnostics& diagnostics) {
  Device device;
  device.name = name;
  static constexpr std::string_view kLinks[] = {"iommu", "iommu_group", "driver"};
  const std::vector<LinkRead> links = source.read_links(seen.dir, kLinks);
  device.unit = link_name(source, links[0], seen.dir, kLinks[0], diagnostics, true).name;
  if (!device.unit) device.unit = seen.unit;
  if (auto group = link_name(source, links[1], seen.dir, kLinks[1], diagnostics).name) {
    Result<uint64_t> id = parse_group_id(*group);
    if (id) {
      device.group = *id;
    } else {
      add_diagnostic(diagnostics, seen.dir + "/iommu_group", Severity::kWarning,
                     "link does not name a group: " + id.error().message);
    }
  }
  if (!device.group) device.group = seen.group;
  LinkName driver = link_name(source, links[2], seen.dir, kLinks[2], diagnostics);
  device.driver = driver.name;
  device.driver_known = driver.known;
  if (!options.read_pci_config) return device;

  std::string config_path = seen.dir + "/config";
  FileOpen opened = source.open_file(config_path, kConfigLimit);
  if (opened.status == ReadStatus::kMissing) return device;  // not a PCI device
  const PciConfigRead config =
      opened.ok() ? read_pci_config(*opened.file) : PciConfigRead{opened.status, {}, opened.error};
  if (!config.ok()) {
    add_diagnostic(diagnostics, config_path, Severity::kWarning,
                   "cannot read PCI config: " + describe(config.status, config.error));
    return device;
  }
  const size_t size = config.info.config_size;
  if (size < 64) {
    add_diagnostic(diagnostics, config_path, Severity::kWarning,
                   "PCI config is only " + std::to_string(size) +
                       " bytes; expected at least the 64-byte header");
    return device;
  }
  // pci_read_config() (drivers/pci/pci-sysfs.c) gives 64 bytes (128 for CardBus) to non-root
  // and cfg_size, 256 or 4096, to root; any other size is a cut copy.
  if (size != 64 && size != 128 && size != 256 && size < kConfigLimit) {
    add_diagnostic(diagnostics, config_path, Severity::kWarning,
                   "PCI config is " + std::to_string(size) +
                       " bytes, not a size the kernel gives (64 or 128 to non-root, 256 or "
                       "4096 to root): its extended capabilities are unknown");
  }
  device.pci = config.info;
  return device;
}

std::vector<Device> read_devices(Source& source, const Host& host, const ReadOptions& options,
                                 Diagnostics& diagnostics) {
  // Group listings come first: a device in a group is reachable through it even when no
  // unit links it (and every device behind a unit is normally in a group).
  std::map<std::string, Sighting> seen;
  for (const Group& g : host.groups) {
    for (const std::string& d : g.devices) {
      seen.emplace(d, Sighting{group_path(g.id, "devices/" + d), std::nullopt, g.id});
    }
  }
  for (const Unit& u : host.units) {
    for (const std::string& d : u.devices) {
      auto [it, inserted] =
          seen.emplace(d, Sighting{unit_path(u.name, "devices/" + d), u.name, std::nullopt});
      if (!inserted && !it->second.unit) it->second.unit = u.name;
    }
  }
  // Every PCI function, also those behind no unit (the IOMMU's own function, or every device
  // when the IOMMU is off): a guest may name one, and "not behind an IOMMU" is the answer
  // then, not "no such device".
  DirRead pci = source.list_dir(kPciDevicesDir);
  if (pci.ok()) {
    for (const DirEntry& e : pci.entries) {
      seen.emplace(
          e.name, Sighting{std::string(kPciDevicesDir) + "/" + e.name, std::nullopt, std::nullopt});
    }
  } else if (pci.status != ReadStatus::kMissing) {
    add_diagnostic(diagnostics, kPciDevicesDir, Severity::kWarning,
                   "cannot list: " + describe(pci.status, pci.error));
  }
  std::vector<Device> devices;
  devices.reserve(seen.size());
  for (const auto& [name, sighting] : seen) {
    devices.push_back(read_device(source, name, sighting, options, diagnostics));
  }
  const auto less = [](const Device& a, const Device& b) { return device_less(a.name, b.name); };
  // The map's byte order is already device order for PCI addresses, nearly every name: then
  // there is nothing to sort, and moving thousands of devices through std::sort costs more
  // than the check. Strictly ascending means no two are equivalent, so the result is the same.
  const bool ascending =
      std::adjacent_find(devices.begin(), devices.end(), [&](const Device& a, const Device& b) {
        return !less(a, b);
      }) == devices.end();
  if (!ascending) std::sort(devices.begin(), devices.end(), less);
  return devices;
}

}  // namespace

Host read_host(Source& source, const ReadOptions& options) {
  Host host;
  host.backend = std::string(source.backend());
  host.root = source.root();

  DirRead listing = source.list_units();
  for (Diagnostic& d : source.take_diagnostics()) host.diagnostics.push_back(std::move(d));
  bool class_dir_exists = listing.status != ReadStatus::kMissing;
  if (!listing.ok() && class_dir_exists) {
    add_diagnostic(host.diagnostics, "sys/class/iommu", Severity::kError,
                   "cannot list: " + describe(listing.status, listing.error));
  }
  std::vector<std::string> names;
  for (DirEntry& e : listing.entries) names.push_back(std::move(e.name));
  std::sort(names.begin(), names.end(), natural_less);

  std::set<std::string> wanted(options.units.begin(), options.units.end());
  if (!wanted.empty()) {
    for (const std::string& w : wanted) {
      if (std::find(names.begin(), names.end(), w) == names.end()) {
        add_diagnostic(host.diagnostics, unit_path(w, ""), Severity::kError, "no such unit");
      }
    }
    std::erase_if(names, [&](const std::string& n) { return !wanted.count(n); });
  }
  for (const std::string& name : names) host.units.push_back(read_unit(source, name));

  host.groups = read_groups(source, host.diagnostics);
  host.devices = read_devices(source, host, options, host.diagnostics);
  if (!wanted.empty()) {
    // A unit selection shows only that unit's devices and the groups they are in.
    std::set<uint64_t> groups;
    std::erase_if(host.devices, [&](const Device& d) {
      bool keep = d.unit && wanted.count(*d.unit);
      if (keep && d.group) groups.insert(*d.group);
      return !keep;
    });
    std::erase_if(host.groups, [&](const Group& g) { return !groups.count(g.id); });
  }
  read_platform(source, host, class_dir_exists, wanted.empty());
  return host;
}

}  // namespace caps
