// SPDX-License-Identifier: MIT
// check_deployment: many guests on one host as one deployment (docs/rules.md, "Deployment
// rules"). Each rule sees every guest at once; none changes a per-pair verdict.
//
// Why a group belongs to one VM. The kernel lets one user open an IOMMU group:
// vfio_group_fops_open() in drivers/vfio/group.c returns -EBUSY when group->opened_file is
// set ("Do we need multiple instances of the group open? Seems not."), so a second QEMU process
// cannot open /dev/vfio/<group> while the first holds it. With the iommufd/cdev path the first
// bind claims DMA ownership of the whole group for its iommufd context
// (iommu_device_claim_dma_owner() in drivers/iommu/iommu.c), and a bind from another context
// fails with -EBUSY. Inside one QEMU, vfio_get_group() in hw/vfio/container.c refuses a group
// whose devices sit in two guest address spaces: "group %d used in multiple address spaces".
// Either way the earlier guest keeps the group and the later one does not start.
//
// Why PASIDs are shared. Since Linux 6.4 the host allocates PASIDs from one host-wide IDA:
// iommu_alloc_global_pasid() in drivers/iommu/iommu.c takes them from iommu_global_pasid_ida in
// IOMMU_FIRST_GLOBAL_PASID (1) .. dev->iommu->max_pasids - 1, where max_pasids is bounded by
// the unit's PASID width. So every guest whose devices a unit serves draws from 1 .. 2^bits - 1
// of that unit, and the per-VM quota ([pasid_alloc] quota) bounds each guest on its own.
#include "libcaps/deployment.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "check_rules.h"

namespace caps {

std::vector<std::string> DeploymentFinding::guests() const {
  std::vector<std::string> out;
  out.reserve(places.size());
  for (const DeploymentPlace& p : places) out.push_back(p.guest);
  return out;
}

namespace {

constexpr std::string_view kDeviceShared = "deploy.device_shared";
constexpr std::string_view kGroupShared = "deploy.group_shared";
constexpr std::string_view kGroupSplit = "deploy.group_split";
constexpr std::string_view kPasidQuota = "deploy.pasid_quota";
constexpr std::string_view kPasidBudget = "deploy.pasid_budget";

constexpr std::string_view kRuleIds[] = {kDeviceShared, kGroupShared, kGroupSplit, kPasidQuota,
                                         kPasidBudget};

using rules::join;
using rules::str;

std::string device_key(size_t index) { return "device[" + std::to_string(index) + "].bdf"; }

/// Guests as messages name them: the file, and "#n" after it when the same name is given twice.
std::vector<std::string> labels_of(std::span<const Guest> guests) {
  std::map<std::string, int> count;
  for (const Guest& g : guests) ++count[g.file];
  std::vector<std::string> out;
  for (size_t i = 0; i < guests.size(); ++i) {
    const std::string& name = guests[i].file;
    out.push_back(count[name] > 1 ? name + " #" + std::to_string(i + 1) : name);
  }
  return out;
}

/// One guest's claim on a device: which guest, and which [[device]] of it.
struct Claim {
  size_t guest = 0;
  size_t index = 0;  // in guest.devices
};

class Builder {
 public:
  Builder(std::span<const Guest> guests, const Host& host)
      : guests_(guests), host_(host), labels_(labels_of(guests)) {
    for (const Device& d : host.devices) devices_.emplace(d.name, &d);
    for (const Group& g : host.groups) groups_.emplace(g.id, &g);
    for (size_t g = 0; g < guests.size(); ++g) {
      for (size_t i = 0; i < guests[g].devices.size(); ++i) {
        const std::string& bdf = guests[g].devices[i].bdf.value;
        claims_[bdf].push_back({g, i});
        if (bdf_order_.insert(bdf).second) bdfs_.push_back(bdf);
      }
    }
  }

  std::vector<DeploymentFinding> run() {
    device_shared();
    group_shared_and_split();
    pasid_quota();
    pasid_budget();
    return std::move(out_);
  }

 private:
  DeploymentPlace place(size_t guest, std::string key, SourcePos pos) const {
    return {guests_[guest].file, std::move(key), pos};
  }
  DeploymentPlace device_place(const Claim& c) const {
    return place(c.guest, device_key(c.index), guests_[c.guest].devices[c.index].bdf.pos);
  }
  DeploymentFinding& add(std::string_view rule, Outcome outcome) {
    DeploymentFinding& f = out_.emplace_back();
    f.rule = std::string(rule);
    f.outcome = outcome;
    return f;
  }
  const Device* device(const std::string& bdf) const {
    auto it = devices_.find(bdf);
    return it == devices_.end() ? nullptr : it->second;
  }
  const Group* group(uint64_t id) const {
    auto it = groups_.find(id);
    return it == groups_.end() ? nullptr : it->second;
  }
  std::string group_evidence(const Device* d) const {
    if (!d) return "host: no device";
    std::string out = "host: " + d->name;
    if (d->group) out += " in group " + str(*d->group);
    if (d->driver) out += ", bound to " + *d->driver;
    return out;
  }

  // ---------------------------------------------------------------------------------------
  // deploy.device_shared: a device in two guests.
  void device_shared() {
    size_t shared = 0;
    for (const std::string& bdf : bdfs_) {
      const std::vector<Claim>& claims = claims_.at(bdf);
      if (claims.size() < 2) continue;
      ++shared;
      const Claim& first = claims.front();
      for (size_t k = 1; k < claims.size(); ++k) {
        const Claim& later = claims[k];
        DeploymentFinding& f = add(kDeviceShared, Outcome::kFail);
        f.places = {device_place(first), device_place(later)};
        f.device = bdf;
        const Device* d = device(bdf);
        if (d && d->group) f.group = *d->group;
        f.evidence = group_evidence(d);
        f.message = bdf + " is assigned to both " + labels_[first.guest] + " and " +
                    labels_[later.guest] + ": a device goes to one VM, so " +
                    labels_[later.guest] + " cannot open it while " + labels_[first.guest] +
                    " runs";
        f.hint = "assign " + bdf + " to one of them only";
      }
    }
    if (shared == 0 && !bdfs_.empty()) {
      DeploymentFinding& f = add(kDeviceShared, Outcome::kPass);
      f.evidence = str(static_cast<uint64_t>(bdfs_.size())) + " devices assigned";
      f.message = "no device is assigned to two guests";
    }
  }

  // ---------------------------------------------------------------------------------------
  // deploy.group_shared: two guests in one group. deploy.group_split: a guest takes part of a
  // group and leaves the rest to no guest, where no other VM can have it.
  void group_shared_and_split() {
    // The groups the guests use, in the order their first device was given, with each
    // guest's members of it.
    std::vector<uint64_t> order;
    std::map<uint64_t, std::vector<std::pair<size_t, std::vector<Claim>>>> holders;
    for (const std::string& bdf : bdfs_) {
      const Device* d = device(bdf);
      if (!d || !d->group) continue;  // device.exists / device.group report it per pair
      auto [it, added] = holders.try_emplace(*d->group);
      if (added) order.push_back(*d->group);
      for (const Claim& c : claims_.at(bdf)) {
        auto held = std::find_if(it->second.begin(), it->second.end(),
                                 [&](const auto& h) { return h.first == c.guest; });
        if (held == it->second.end()) {
          it->second.push_back({c.guest, {}});
          held = std::prev(it->second.end());
        }
        held->second.push_back(c);
      }
    }
    for (uint64_t id : order) {
      auto& list = holders.at(id);
      std::stable_sort(list.begin(), list.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      const Group* g = group(id);
      const std::string name = "group " + str(id);
      auto members_of = [&](const std::vector<Claim>& claims) {
        std::vector<std::string> out;
        for (const Claim& c : claims) out.push_back(guests_[c.guest].devices[c.index].bdf.value);
        return out;
      };
      auto evidence = [&] {
        if (!g) return name + ": members not described";
        return name + ": " + join(g->devices, ", ");
      };
      const auto& [owner, owner_claims] = list.front();
      const std::vector<std::string> owner_members = members_of(owner_claims);
      bool conflict = false;
      for (size_t k = 1; k < list.size(); ++k) {
        const auto& [other, other_claims] = list[k];
        // A claim on a device the owner has too is device_shared's; here the other members.
        std::vector<Claim> own;
        for (const Claim& c : other_claims) {
          const std::string& bdf = guests_[c.guest].devices[c.index].bdf.value;
          if (std::find(owner_members.begin(), owner_members.end(), bdf) == owner_members.end())
            own.push_back(c);
        }
        if (own.empty()) continue;
        conflict = true;
        DeploymentFinding& f = add(kGroupShared, Outcome::kFail);
        f.places = {device_place(owner_claims.front()), device_place(own.front())};
        f.group = id;
        f.device = guests_[own.front().guest].devices[own.front().index].bdf.value;
        f.evidence = evidence();
        f.message = name + " belongs to one VM but " + labels_[owner] + " assigns " +
                    join(owner_members, ", ") + " and " + labels_[other] + " assigns " +
                    join(members_of(own), ", ") + ": VFIO gives the group to " + labels_[owner] +
                    " and refuses " + labels_[other];
        f.hint = "give every device of " + name + " to one guest, or move " +
                 join(members_of(own), ", ") +
                 " into a group of its own (a slot or switch port with ACS)";
      }
      // Held by several guests through the same devices only: device_shared's, no pass here.
      if (!conflict && list.size() == 1) {
        DeploymentFinding& f = add(kGroupShared, Outcome::kPass);
        f.places = {device_place(owner_claims.front())};
        f.group = id;
        f.evidence = evidence();
        f.message = name + " is used by " + labels_[owner] + " only";
      }
      // Members no guest of the deployment assigns, while the owner takes the group.
      if (!g || !g->devices_known) continue;
      std::vector<std::string> stranded;
      for (const std::string& member : g->devices) {
        if (claims_.find(member) == claims_.end()) stranded.push_back(member);
      }
      if (stranded.empty() || g->devices.size() < 2) {
        if (g->devices.size() >= 2) {
          DeploymentFinding& f = add(kGroupSplit, Outcome::kPass);
          f.places = {device_place(owner_claims.front())};
          f.group = id;
          f.evidence = evidence();
          f.message = "every member of " + name + " is assigned";
        }
        continue;
      }
      DeploymentFinding& f = add(kGroupSplit, Outcome::kWarn);
      f.places = {device_place(owner_claims.front())};
      f.group = id;
      f.device = stranded.front();
      f.evidence = evidence();
      f.message = name + " is split: " + labels_[owner] + " takes it with " +
                  join(owner_members, ", ") + ", so " + join(stranded, ", ") +
                  ", in no guest, cannot be given to another VM while " + labels_[owner] +
                  " runs";
      f.hint = "assign " + join(stranded, ", ") + " to " + labels_[owner] +
               " too, or leave them unused on purpose";
    }
  }

  // ---------------------------------------------------------------------------------------
  // deploy.pasid_quota: each guest within its own quota.
  void pasid_quota() {
    for (size_t g = 0; g < guests_.size(); ++g) {
      const auto& alloc = guests_[g].pasid_alloc;
      if (!alloc) continue;
      const uint64_t count = alloc->count.value;
      const uint64_t quota = alloc->quota.value;
      const SourcePos pos = rules::pos_or(alloc->count.pos, alloc->pos);
      DeploymentFinding& f = add(kPasidQuota, count <= quota ? Outcome::kPass : Outcome::kFail);
      f.places = {place(g, "pasid_alloc.count", pos)};
      f.evidence = labels_[g] + ": count = " + str(count) + ", quota = " + str(quota);
      if (count <= quota) {
        f.message = labels_[g] + " allocates " + str(count) + " PASIDs, within its quota of " +
                    str(quota);
      } else {
        f.message = labels_[g] + " overflows its own quota: " + str(count) +
                    " PASIDs asked, quota " + str(quota);
        f.hint = "set count = " + str(quota) + " or lower in " + labels_[g] + ", or raise quota";
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // deploy.pasid_budget: the PASIDs all guests allocate fit the units' spaces together.

  /// What one guest draws from the host's PASID space: lo..hi, count of them, and the unit
  /// whose width sets hi (empty when the guest's own max does).
  struct Draw {
    size_t guest = 0;
    uint64_t lo = 0;
    uint64_t hi = 0;
    uint64_t count = 0;
    const Unit* limit = nullptr;
  };

  void pasid_budget() {
    std::vector<Draw> draws;
    for (size_t g = 0; g < guests_.size(); ++g) {
      const Guest& guest = guests_[g];
      const auto& alloc = guest.pasid_alloc;
      if (!alloc || alloc->count.value == 0) continue;
      const SourcePos pos = rules::pos_or(alloc->count.pos, alloc->pos);
      // The units the guest's PASIDs are used on: the ones check() selects for it
      // (viommu.units, else the units behind its devices, else every unit).
      const rules::Context ctx = rules::make_context(guest, host_, true);
      Draw draw{g, std::max<uint64_t>(alloc->min.value, 1), alloc->max.value, alloc->count.value,
                nullptr};
      const Unit* unknown = nullptr;
      for (const Unit* unit : ctx.selection.units) {
        const std::optional<int>& bits = unit->caps.ssid_bits;
        if (!bits) {
          unknown = unit;
          break;
        }
        const uint64_t top = *bits <= 0 ? 0 : rules::largest_in(std::min(*bits, 63));
        if (top <= draw.hi) {  // a unit as tight as the guest's own max names itself
          draw.hi = top;
          draw.limit = unit;
        }
      }
      if (unknown) {
        DeploymentFinding& f = add(kPasidBudget, Outcome::kUnknown);
        f.places = {place(g, "pasid_alloc.count", pos)};
        f.unit = unknown->name;
        f.evidence = rules::unit_evidence(*unknown, "ssid_bits", unknown->caps.ssid_bits);
        f.message = "whether the " + str(draw.count) + " PASIDs of " + labels_[g] +
                    " fit beside the other guests' is unknown: ssid_bits of " + unknown->name +
                    " is unknown";
        continue;
      }
      if (ctx.selection.units.empty() || draw.hi < draw.lo) continue;  // per-pair rules fail
      draws.push_back(draw);
    }
    if (draws.empty()) return;
    // Hall's condition for PASIDs drawn from intervals: every window [a, b] must hold the
    // counts of the guests whose whole range lies in it. Windows from the ranges' ends suffice.
    std::set<uint64_t> los;
    std::set<uint64_t> his;
    for (const Draw& d : draws) {
      los.insert(d.lo);
      his.insert(d.hi);
    }
    // For each window top b (ascending), the guests whose range ends at or below it, by range
    // start descending; windows [a, b] for a descending then take them in that order, so each
    // b costs one pass: O(tops x (guests + starts)), not a sum per window.
    std::vector<const Draw*> by_lo;
    for (const Draw& d : draws) by_lo.push_back(&d);
    std::stable_sort(by_lo.begin(), by_lo.end(),
                     [](const Draw* x, const Draw* y) { return x->lo > y->lo; });
    std::vector<std::set<size_t>> reported;
    bool failed = false;
    for (uint64_t b : his) {
      std::vector<const Draw*> below;
      for (const Draw* d : by_lo) {
        if (d->hi <= b) below.push_back(d);
      }
      size_t taken = 0;
      uint64_t sum = 0;
      for (auto a = los.rbegin(); a != los.rend(); ++a) {
        if (*a > b) continue;
        while (taken < below.size() && below[taken]->lo >= *a) sum += below[taken++]->count;
        const uint64_t room = b - *a + 1;
        if (sum <= room || taken < 2) continue;  // one guest alone: pasid_alloc.count
        std::vector<const Draw*> in(below.begin(), below.begin() + static_cast<long>(taken));
        std::sort(in.begin(), in.end(),
                  [](const Draw* x, const Draw* y) { return x->guest < y->guest; });
        std::set<size_t> who;
        for (const Draw* d : in) who.insert(d->guest);
        // Once for a set of guests (a wider window with the same guests says the same).
        if (std::any_of(reported.begin(), reported.end(), [&](const std::set<size_t>& r) {
              return std::includes(who.begin(), who.end(), r.begin(), r.end());
            }))
          continue;
        reported.push_back(who);
        failed = true;
        add_overflow(in, *a, b, sum, room);
      }
    }
    if (failed) return;
    // Passes: per unit that bounds a guest, the guests drawing below its top.
    std::map<std::string, std::pair<const Unit*, std::vector<const Draw*>>> by_unit;
    for (const Draw& d : draws) {
      const std::string key = d.limit ? d.limit->name : std::string();
      by_unit[key].first = d.limit;
      by_unit[key].second.push_back(&d);
    }
    for (const auto& [unit_name, entry] : by_unit) {
      const auto& [unit, list] = entry;
      uint64_t sum = 0;
      std::vector<std::string> names;
      for (const Draw* d : list) {
        sum += d->count;
        names.push_back(labels_[d->guest] + " " + str(d->count));
      }
      DeploymentFinding& f = add(kPasidBudget, Outcome::kPass);
      for (const Draw* d : list) f.places.push_back(pasid_place(*d));
      f.unit = unit_name;
      f.evidence = unit ? rules::unit_evidence(*unit, "ssid_bits", unit->caps.ssid_bits)
                        : std::string("guests' own pasid_alloc ranges");
      f.message = "the PASIDs the guests allocate fit together (" + join(names, ", ") + "; " +
                  str(sum) + " in all)" + (unit ? " in " + unit->name + "'s PASID space" : "");
    }
  }

  DeploymentPlace pasid_place(const Draw& d) const {
    const auto& alloc = *guests_[d.guest].pasid_alloc;
    return place(d.guest, "pasid_alloc.count", rules::pos_or(alloc.count.pos, alloc.pos));
  }

  void add_overflow(const std::vector<const Draw*>& in, uint64_t a, uint64_t b, uint64_t sum,
                    uint64_t room) {
    // The unit whose width sets the window's top, when one does.
    const Unit* unit = nullptr;
    for (const Draw* d : in) {
      if (d->hi == b && d->limit) unit = d->limit;
    }
    DeploymentFinding& f = add(kPasidBudget, Outcome::kFail);
    std::vector<std::string> shares;
    std::vector<std::string> over;
    uint64_t running = 0;
    for (const Draw* d : in) {
      f.places.push_back(pasid_place(*d));
      shares.push_back(labels_[d->guest] + " " + str(d->count));
      running += d->count;
      if (running > room) over.push_back(labels_[d->guest]);
    }
    if (unit) f.unit = unit->name;
    const std::string space =
        unit ? unit->name + "'s PASID space " + str(a) + ".." + str(b)
             : "PASIDs " + str(a) + ".." + str(b);
    f.evidence = (unit ? rules::unit_evidence(*unit, "ssid_bits", unit->caps.ssid_bits) + "; "
                       : std::string()) +
                 "PASIDs are allocated host-wide (iommu_alloc_global_pasid)";
    f.message = space + " holds " + str(room) + " PASIDs but " + join(shares, ", ") +
                " allocate " + str(sum) + " from it: " + join(over, ", ") + " overflow" +
                (over.size() == 1 ? "s" : "") + " it by " + str(sum - room);
    f.hint = "lower count so the guests' counts add up to " + str(room) +
             " or fewer, or place " + over.back() + " on another host";
  }

  std::span<const Guest> guests_;
  const Host& host_;
  std::vector<std::string> labels_;
  std::unordered_map<std::string, const Device*> devices_;
  std::unordered_map<uint64_t, const Group*> groups_;
  std::unordered_map<std::string, std::vector<Claim>> claims_;  // by bdf, in guest order
  std::set<std::string> bdf_order_;
  std::vector<std::string> bdfs_;  // every bdf given, in first-given order
  std::vector<DeploymentFinding> out_;
};

}  // namespace

DeploymentReport check_deployment(std::span<const Guest> guests, const Host& host,
                                  const CheckOptions& options) {
  DeploymentReport report;
  report.host = host.root;
  for (const Guest& g : guests) report.guests.push_back(g.file);
  std::vector<DeploymentFinding> findings = Builder(guests, host).run();
  // Rule order, then the order each rule found them in.
  std::stable_sort(findings.begin(), findings.end(),
                   [](const DeploymentFinding& a, const DeploymentFinding& b) {
                     auto rank = [](const std::string& rule) {
                       return std::find(std::begin(kRuleIds), std::end(kRuleIds), rule) -
                              std::begin(kRuleIds);
                     };
                     return rank(a.rule) < rank(b.rule);
                   });
  bool fail = false;
  bool unknown = false;
  for (const DeploymentFinding& f : findings) {
    fail = fail || f.outcome == Outcome::kFail;
    unknown = unknown || f.outcome == Outcome::kUnknown;
  }
  report.verdict = fail ? Verdict::kIncompatible
                   : unknown ? Verdict::kUndecided
                             : Verdict::kCompatible;
  if (!options.passes) {
    std::erase_if(findings, [](const DeploymentFinding& f) { return f.outcome == Outcome::kPass; });
  }
  report.findings = std::move(findings);
  return report;
}

std::span<const std::string_view> deployment_rule_ids() { return kRuleIds; }

}  // namespace caps
