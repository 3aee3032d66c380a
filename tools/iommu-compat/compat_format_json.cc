// SPDX-License-Identifier: MIT
// format_compat_json: schema "iommu-compat/1" through JsonWriter; absent values are null.
#include <cstdint>
#include <optional>
#include <string>

#include "common/json_writer.h"
#include "iommu-compat/compat_format.h"

namespace tools {

void write_json_error(JsonWriter& w, const caps::Error& e) {
  w.begin_object();
  w.key("file");
  w.string_or_null(e.where);
  w.key("line");
  w.positive_or_null(e.pos.line);
  w.key("column");
  w.positive_or_null(e.pos.column);
  w.key("message");
  w.string(e.message);
  w.end_object();
}

namespace {

void write_finding(JsonWriter& w, const std::string& file, const caps::Finding& f) {
  w.begin_object();
  w.key("rule");
  w.string(f.rule);
  w.key("outcome");
  w.string(caps::to_string(f.outcome));
  w.key("guest_key");
  w.string_or_null(f.guest_key);
  w.key("file");
  w.string(file);
  w.key("line");
  w.positive_or_null(f.pos.line);
  w.key("column");
  w.positive_or_null(f.pos.column);
  w.key("unit");
  w.string_or_null(f.unit);
  w.key("evidence");
  w.string_or_null(f.evidence);
  w.key("message");
  w.string(f.message);
  w.key("hint");
  w.string_or_null(f.hint);
  w.end_object();
}

void write_pair(JsonWriter& w, const CompatPair& pair) {
  const caps::Report& r = pair.report;
  w.begin_object();
  w.key("guest");
  w.string(r.guest);
  w.key("host");
  w.string(r.host);
  w.key("verdict");
  w.string(caps::to_string(r.verdict));
  w.key("exit_code");
  w.integer(caps::exit_code(r.verdict));
  w.key("errors");
  w.begin_array();
  for (const caps::Error& e : pair.errors) write_json_error(w, e);
  w.end_array();
  w.key("findings");
  w.begin_array();
  for (const caps::Finding& f : r.findings) write_finding(w, r.guest, f);
  w.end_array();
  w.end_object();
}

void write_deployment(JsonWriter& w, const CompatDeployment& d) {
  const caps::DeploymentReport& r = d.report;
  w.begin_object();
  w.key("host");
  w.string(r.host);
  w.key("guests");
  w.begin_array();
  for (const std::string& g : r.guests) w.string(g);
  w.end_array();
  w.key("verdict");
  w.string(caps::to_string(r.verdict));
  w.key("exit_code");
  w.integer(deployment_exit_code(r.verdict));
  w.key("errors");
  w.begin_array();
  for (const caps::Error& e : d.errors) write_json_error(w, e);
  w.end_array();
  w.key("findings");
  w.begin_array();
  for (const caps::DeploymentFinding& f : r.findings) {
    w.begin_object();
    w.key("rule");
    w.string(f.rule);
    w.key("outcome");
    w.string(caps::to_string(f.outcome));
    w.key("guests");
    w.begin_array();
    for (const caps::DeploymentPlace& p : f.places) {
      w.begin_object();
      w.key("guest");
      w.string(p.guest);
      w.key("guest_key");
      w.string_or_null(p.guest_key);
      w.key("line");
      w.positive_or_null(p.pos.line);
      w.key("column");
      w.positive_or_null(p.pos.column);
      w.end_object();
    }
    w.end_array();
    w.key("unit");
    w.string_or_null(f.unit);
    w.key("group");
    if (f.group) {
      w.unsigned_integer(*f.group);
    } else {
      w.null();
    }
    w.key("device");
    w.string_or_null(f.device);
    w.key("evidence");
    w.string_or_null(f.evidence);
    w.key("message");
    w.string(f.message);
    w.key("hint");
    w.string_or_null(f.hint);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

/// The document's head is written with the first pair (or at the end, when there is none),
/// its tail with finish(); in between one pair at a time.
class JsonFormatter : public CompatFormatter {
 public:
  explicit JsonFormatter(std::ostream& out) : w_(out) {}
  void add(const CompatPair& pair) override {
    begin();
    write_pair(w_, pair);
    overall_ = worse_verdict(overall_, pair.report.verdict);
  }
  void add_deployment(const CompatDeployment& deployment) override {
    begin();
    w_.end_array();  // results
    results_ended_ = true;
    w_.key("deployment");
    write_deployment(w_, deployment);
    deployment_ = deployment.report.verdict;
  }
  void finish() override {
    begin();
    if (!results_ended_) w_.end_array();
    w_.key("verdict");
    w_.string(caps::to_string(deployment_ ? together_verdict(overall_, *deployment_) : overall_));
    w_.key("exit_code");
    w_.integer(deployment_ ? together_exit_code(overall_, *deployment_)
                           : caps::exit_code(overall_));
    w_.end_object();
    w_.finish();
  }

 private:
  void begin() {
    if (begun_) return;
    begun_ = true;
    w_.begin_object();
    w_.key("schema");
    w_.string(kCompatJsonSchema);
    w_.key("results");
    w_.begin_array();
  }

  JsonWriter w_;
  bool begun_ = false;
  bool results_ended_ = false;
  std::optional<caps::Verdict> deployment_;
  caps::Verdict overall_ = caps::Verdict::kCompatible;
};

}  // namespace

std::unique_ptr<CompatFormatter> make_compat_json_formatter(std::ostream& out) {
  return std::make_unique<JsonFormatter>(out);
}

void format_compat_json(const std::vector<CompatPair>& pairs, std::ostream& out) {
  JsonFormatter f(out);
  for (const CompatPair& pair : pairs) f.add(pair);
  f.finish();
}

}  // namespace tools
