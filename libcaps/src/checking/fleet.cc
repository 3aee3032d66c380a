// SPDX-License-Identifier: MIT
// compare_migration() and fleet_baseline(): check() on two hosts and suggest_guest() over a
// fleet and its subsets, compared key by key. No rule or merge of their own.
#include "libcaps/fleet.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libcaps/caps_properties.h"

namespace caps {
namespace {

/// How bad an outcome is, for keeping the worst: pass < warning < unknown < fail.
int severity(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPass:
      return 0;
    case Outcome::kWarn:
      return 1;
    case Outcome::kUnknown:
      return 2;
    case Outcome::kFail:
      return 3;
  }
  return 2;
}

using FactKey = std::pair<std::string, std::string>;  // (rule, guest key)

struct SourceFact {
  Outcome outcome = Outcome::kPass;
  std::string evidence;
};

/// The source's worst outcome per rule and key, with the evidence of the first finding.
std::map<FactKey, SourceFact> source_facts(const Report& source) {
  std::map<FactKey, SourceFact> out;
  for (const Finding& f : source.findings) {
    auto [it, fresh] = out.try_emplace({f.rule, f.guest_key}, SourceFact{f.outcome, f.evidence});
    if (!fresh && severity(f.outcome) > severity(it->second.outcome)) {
      it->second.outcome = f.outcome;
    }
    if (it->second.evidence.empty()) it->second.evidence = f.evidence;
  }
  return out;
}

/// The target's findings of `outcome`, one blocker per rule and key.
void add_blockers(const Report& target, Outcome outcome,
                  const std::map<FactKey, SourceFact>& source, std::vector<Blocker>& out) {
  std::map<FactKey, std::size_t> seen;  // -> index in out
  for (const Finding& f : target.findings) {
    if (f.outcome != outcome) continue;
    const FactKey key{f.rule, f.guest_key};
    if (auto it = seen.find(key); it != seen.end()) {
      Blocker& b = out[it->second];
      if (!f.unit.empty() && f.unit != b.target.unit &&
          std::find(b.also_on.begin(), b.also_on.end(), f.unit) == b.also_on.end()) {
        b.also_on.push_back(f.unit);
      }
      continue;
    }
    seen.emplace(key, out.size());
    Blocker b;
    b.target = f;
    if (auto it = source.find(key); it != source.end()) {
      b.source = it->second.outcome;
      b.source_evidence = it->second.evidence;
    }
    out.push_back(std::move(b));
  }
}

std::string value_text(int v) { return std::to_string(v); }
std::string value_text(bool v) { return v ? "true" : "false"; }
std::string value_text(Httu v) { return std::string(to_string(v)); }
std::string value_text(Stall v) { return std::string(to_string(v)); }
std::string value_text(const std::string& v) { return v; }

template <class T>
std::string value_text(const std::optional<Located<T>>& v) {
  return v ? value_text(v->value) : std::string();
}

}  // namespace

Migration compare_migration(const Guest& guest, const Host& from, const Host& to) {
  Migration m;
  m.source = check(guest, from);
  m.target = check(guest, to);
  m.verdict = m.target.verdict;
  const std::map<FactKey, SourceFact> source = source_facts(m.source);
  add_blockers(m.target, Outcome::kFail, source, m.blockers);
  add_blockers(m.target, Outcome::kUnknown, source, m.blockers);
  return m;
}

std::vector<KeyChange> guest_key_changes(const GuestViommu& a, const GuestViommu& b) {
  std::vector<KeyChange> out;
  for_each_caps_property([&](const auto& property) {
    if (property.guest == nullptr) return;
    std::string from = value_text(a.*property.guest);
    std::string to = value_text(b.*property.guest);
    if (from != to) out.push_back({std::string(property.guest_key), from, to});
  });
  return out;
}

Result<Baseline> fleet_baseline(std::string_view model, const std::vector<Host>& hosts) {
  Result<Suggestion> fleet = suggest_guest(model, hosts);
  if (!fleet) return tl::unexpected(fleet.error());
  Baseline out;
  out.fleet = std::move(*fleet);
  const GuestViommu& base = out.fleet.guest.viommu;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    BaselineHost bh;
    bh.host = hosts[i].root;
    // Each host has a unit (the fleet's suggestion would have failed), so these succeed.
    if (Result<Suggestion> alone = suggest_guest_for(model, std::vector<const Host*>{&hosts[i]})) {
      bh.adds = guest_key_changes(base, alone->guest.viommu);
    }
    if (hosts.size() > 1) {
      std::vector<const Host*> others;
      others.reserve(hosts.size() - 1);
      for (std::size_t j = 0; j < hosts.size(); ++j) {
        if (j != i) others.push_back(&hosts[j]);
      }
      if (Result<Suggestion> rest = suggest_guest_for(model, others)) {
        bh.holds_back = guest_key_changes(base, rest->guest.viommu);
      }
    }
    out.hosts.push_back(std::move(bh));
  }
  return out;
}

}  // namespace caps
