// format_compat_json: schema "iommu-compat/1" through JsonWriter; absent values are null.
#include <string>

#include "common/compat_format.h"
#include "common/json_writer.h"

namespace tools {
namespace {

void string_or_null(JsonWriter& w, const std::string& text) {
  if (text.empty()) {
    w.null();
  } else {
    w.string(text);
  }
}

void number_or_null(JsonWriter& w, int value) {
  if (value <= 0) {
    w.null();
  } else {
    w.integer(value);
  }
}

void write_error(JsonWriter& w, const caps::Error& e) {
  const Place place = split_where(e.where);
  w.begin_object();
  w.key("file");
  string_or_null(w, place.file);
  w.key("line");
  number_or_null(w, place.line);
  w.key("column");
  number_or_null(w, place.column);
  w.key("message");
  w.string(e.message);
  w.end_object();
}

void write_finding(JsonWriter& w, const std::string& file, const caps::Finding& f) {
  w.begin_object();
  w.key("rule");
  w.string(f.rule);
  w.key("outcome");
  w.string(caps::to_string(f.outcome));
  w.key("guest_key");
  string_or_null(w, f.guest_key);
  w.key("file");
  w.string(file);
  w.key("line");
  number_or_null(w, f.pos.line);
  w.key("column");
  number_or_null(w, f.pos.column);
  w.key("unit");
  string_or_null(w, f.unit);
  w.key("evidence");
  string_or_null(w, f.evidence);
  w.key("message");
  w.string(f.message);
  w.key("hint");
  string_or_null(w, f.hint);
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
  for (const caps::Error& e : pair.errors) write_error(w, e);
  w.end_array();
  w.key("findings");
  w.begin_array();
  for (const caps::Finding& f : r.findings) write_finding(w, r.guest, f);
  w.end_array();
  w.end_object();
}

}  // namespace

void format_compat_json(const std::vector<CompatPair>& pairs, std::ostream& out) {
  JsonWriter w(out);
  w.begin_object();
  w.key("schema");
  w.string(kCompatJsonSchema);
  w.key("results");
  w.begin_array();
  for (const CompatPair& pair : pairs) write_pair(w, pair);
  w.end_array();
  const caps::Verdict overall = overall_verdict(pairs);
  w.key("verdict");
  w.string(caps::to_string(overall));
  w.key("exit_code");
  w.integer(caps::exit_code(overall));
  w.end_object();
  w.finish();
}

}  // namespace tools
