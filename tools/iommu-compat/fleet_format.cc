// SPDX-License-Identifier: MIT
// Text and JSON for `iommu-compat migrate` and `iommu-compat baseline`.
#include "iommu-compat/fleet_format.h"

#include <string>

#include "common/json_writer.h"
#include "common/terminal_text.h"
#include "iommu-compat/compat_format.h"
#include "iommu-compat/compat_report.h"
#include "libcaps/caps_properties.h"

namespace tools {
namespace {

// ---------------------------------------------------------------------------------------------
// migrate

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

caps::Verdict overall(const std::vector<MigratePair>& pairs) {
  caps::Verdict v = caps::Verdict::kCompatible;
  for (const MigratePair& p : pairs) v = worse_verdict(v, p.verdict());
  return v;
}

void text_blocker(const MigratePair& pair, const caps::Blocker& b, std::ostream& out) {
  const caps::Finding& f = b.target;
  out << "  " << printable(caps::location(pair.guest, f.pos)) << ": "
      << caps::to_string(f.outcome) << " [" << printable(f.rule) << "] "
      << printable_message(f.message) << '\n';
  if (!f.unit.empty()) {
    out << "      target unit: " << printable(f.unit);
    if (!b.also_on.empty()) out << " (also " << printable(joined(b.also_on)) << ")";
    out << '\n';
  }
  if (!f.evidence.empty()) out << "      target: " << printable_message(f.evidence) << '\n';
  out << "      source: " << caps::to_string(b.source);
  if (!b.source_evidence.empty()) out << ": " << printable_message(b.source_evidence);
  out << (b.lost() ? " (lost by moving)" : " (fails there too)") << '\n';
  if (!f.hint.empty()) out << "      hint: " << printable_message(f.hint) << '\n';
}

void text_pair(const MigratePair& pair, std::ostream& out) {
  out << "migrate " << printable(pair.guest) << ": " << printable(pair.from) << " -> "
      << printable(pair.to) << ": " << caps::to_string(pair.verdict()) << '\n';
  for (const caps::Error& e : pair.errors) {
    out << "  error: " << printable_message(e.to_string()) << '\n';
  }
  if (!pair.migration) return;
  const caps::Migration& m = *pair.migration;
  out << "  on the source: " << caps::to_string(m.source.verdict) << '\n';
  out << "  on the target: " << caps::to_string(m.target.verdict) << '\n';
  if (m.blockers.empty()) return;
  std::size_t lost = 0;
  for (const caps::Blocker& b : m.blockers) lost += b.lost() ? 1 : 0;
  out << "  blockers: " << m.blockers.size() << " (" << lost
      << " the source gives and the target lacks)\n";
  for (const caps::Blocker& b : m.blockers) text_blocker(pair, b, out);
}

void json_blocker(JsonWriter& w, const caps::Blocker& b) {
  const caps::Finding& f = b.target;
  w.begin_object();
  w.key("rule");
  w.string(f.rule);
  w.key("guest_key");
  w.string_or_null(f.guest_key);
  w.key("line");
  w.positive_or_null(f.pos.line);
  w.key("column");
  w.positive_or_null(f.pos.column);
  w.key("target");
  w.string(caps::to_string(f.outcome));
  w.key("source");
  w.string(caps::to_string(b.source));
  w.key("lost");
  w.boolean(b.lost());
  w.key("unit");
  w.string_or_null(f.unit);
  w.key("also_on");
  w.begin_array(JsonStyle::kInline);
  for (const std::string& unit : b.also_on) w.string(unit);
  w.end_array();
  w.key("message");
  w.string(f.message);
  w.key("evidence");
  w.string_or_null(f.evidence);
  w.key("source_evidence");
  w.string_or_null(b.source_evidence);
  w.key("hint");
  w.string_or_null(f.hint);
  w.end_object();
}

void json_pair(JsonWriter& w, const MigratePair& pair) {
  w.begin_object();
  w.key("guest");
  w.string(pair.guest);
  w.key("verdict");
  w.string(caps::to_string(pair.verdict()));
  w.key("exit_code");
  w.integer(caps::exit_code(pair.verdict()));
  w.key("source_verdict");
  w.string(caps::to_string(pair.migration ? pair.migration->source.verdict
                                          : caps::Verdict::kBadInput));
  w.key("target_verdict");
  w.string(caps::to_string(pair.migration ? pair.migration->target.verdict
                                          : caps::Verdict::kBadInput));
  w.key("errors");
  w.begin_array();
  for (const caps::Error& e : pair.errors) write_json_error(w, e);
  w.end_array();
  w.key("blockers");
  w.begin_array();
  if (pair.migration) {
    for (const caps::Blocker& b : pair.migration->blockers) json_blocker(w, b);
  }
  w.end_array();
  w.end_object();
}

// ---------------------------------------------------------------------------------------------
// baseline

std::string change_text(const caps::KeyChange& c, const char* other) {
  return c.key + " " + (c.from.empty() ? "(left out)" : c.from) + " -> " +
         (c.to.empty() ? "(left out)" : c.to) + " " + other;
}

void json_changes(JsonWriter& w, const std::vector<caps::KeyChange>& changes, const char* to) {
  w.begin_array();
  for (const caps::KeyChange& c : changes) {
    w.begin_object(JsonStyle::kInline);
    w.key("key");
    w.string(c.key);
    w.key("fleet");
    w.string_or_null(c.from);
    w.key(to);
    w.string_or_null(c.to);
    w.end_object();
  }
  w.end_array();
}

void json_value(JsonWriter& w, int v) { w.integer(v); }
void json_value(JsonWriter& w, bool v) { w.boolean(v); }
void json_value(JsonWriter& w, caps::Httu v) { w.string(caps::to_string(v)); }
void json_value(JsonWriter& w, caps::Stall v) { w.string(caps::to_string(v)); }
void json_value(JsonWriter& w, const std::string& v) { w.string(v); }

}  // namespace

void format_migrate_text(const std::vector<MigratePair>& pairs, std::ostream& out) {
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (i > 0) out << '\n';
    text_pair(pairs[i], out);
  }
  if (pairs.size() > 1) out << "\noverall: " << caps::to_string(overall(pairs)) << '\n';
}

void format_migrate_json(const std::vector<MigratePair>& pairs, std::ostream& out) {
  JsonWriter w(out);
  w.begin_object();
  w.key("schema");
  w.string(kMigrateJsonSchema);
  w.key("from");
  w.string(pairs.empty() ? std::string() : pairs.front().from);
  w.key("to");
  w.string(pairs.empty() ? std::string() : pairs.front().to);
  w.key("results");
  w.begin_array();
  for (const MigratePair& pair : pairs) json_pair(w, pair);
  w.end_array();
  const caps::Verdict v = overall(pairs);
  w.key("verdict");
  w.string(caps::to_string(v));
  w.key("exit_code");
  w.integer(caps::exit_code(v));
  w.end_object();
  w.finish();
}

void format_baseline_text(const caps::Baseline& baseline, std::ostream& out) {
  out << caps::write_guest(baseline.fleet.guest) << "\n# baseline by iommu-compat of:\n";
  for (const caps::BaselineHost& h : baseline.hosts) out << "#   " << printable(h.host) << '\n';
  if (!baseline.fleet.notes.empty()) out << "# left out or limited:\n";
  for (const caps::SuggestNote& note : baseline.fleet.notes) {
    out << "#   " << printable(note.key) << ": " << printable_message(note.reason) << '\n';
  }
  out << "# per host: what it alone supports beyond the fleet (adds), and what the fleet would\n"
         "# gain without it (holds back):\n";
  std::vector<std::string> holding;
  for (const caps::BaselineHost& h : baseline.hosts) {
    out << "#   " << printable(h.host) << '\n';
    if (h.adds.empty()) out << "#     adds nothing\n";
    for (const caps::KeyChange& c : h.adds) {
      out << "#     adds " << printable(change_text(c, "on this host")) << '\n';
    }
    for (const caps::KeyChange& c : h.holds_back) {
      out << "#     holds back " << printable(change_text(c, "without it")) << '\n';
    }
    if (!h.holds_back.empty()) holding.push_back(h.host);
  }
  if (holding.empty()) {
    out << "# no single host holds the fleet back\n";
  } else {
    out << "# holding the fleet back: " << printable(joined(holding)) << '\n';
  }
}

void format_baseline_json(const caps::Baseline& baseline, std::ostream& out) {
  const caps::Guest& guest = baseline.fleet.guest;
  JsonWriter w(out);
  w.begin_object();
  w.key("schema");
  w.string(kBaselineJsonSchema);
  w.key("model");
  w.string(guest.viommu.model.value);
  w.key("guest");
  w.begin_object();
  w.key("model");
  w.string(guest.viommu.model.value);
  caps::for_each_caps_property([&](const auto& property) {
    if (property.guest == nullptr) return;
    const auto& value = guest.viommu.*property.guest;
    if (!value) return;
    w.key(property.guest_key);
    json_value(w, value->value);
  });
  w.end_object();
  w.key("guest_file");
  w.string(caps::write_guest(guest));
  w.key("notes");
  w.begin_array();
  for (const caps::SuggestNote& note : baseline.fleet.notes) {
    w.begin_object(JsonStyle::kInline);
    w.key("key");
    w.string(note.key);
    w.key("reason");
    w.string(note.reason);
    w.end_object();
  }
  w.end_array();
  w.key("hosts");
  w.begin_array();
  for (const caps::BaselineHost& h : baseline.hosts) {
    w.begin_object();
    w.key("host");
    w.string(h.host);
    w.key("adds");
    json_changes(w, h.adds, "host");
    w.key("holds_back");
    json_changes(w, h.holds_back, "without");
    w.end_object();
  }
  w.end_array();
  w.key("holding_back");
  w.begin_array(JsonStyle::kInline);
  for (const caps::BaselineHost& h : baseline.hosts) {
    if (!h.holds_back.empty()) w.string(h.host);
  }
  w.end_array();
  w.end_object();
  w.finish();
}

}  // namespace tools
