// SPDX-License-Identifier: MIT
// iommu-compat's output formats over a guest x host matrix: text for people, JSON for scripts
// (schema "iommu-compat/1"), JUnit XML and GitHub Actions workflow commands for CI. Each is
// deterministic: pairs in the order given, findings in rule order, no timestamps.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "iommu-compat/compat_report.h"

namespace tools {

/// The JSON schema name of format_compat_json's output.
inline constexpr const char* kCompatJsonSchema = "iommu-compat/1";

struct CompatTextOptions {
  /// List passing findings too (--show-passes); by default only fail, unknown and warning.
  bool show_passes = false;
};

/// Writes a matrix one pair at a time, as results arrive: memory is bounded by one pair's
/// report, not by the matrix. Every format_compat_* function below is this over a vector.
class CompatFormatter {
 public:
  virtual ~CompatFormatter() = default;
  /// The next pair, in matrix order (every host of a guest before the next guest).
  virtual void add(const CompatPair& pair) = 0;
  /// The deployment of `check --together`, once, after the last pair and before finish().
  /// A run without --together never calls it, and its output is as before.
  virtual void add_deployment(const CompatDeployment& deployment) = 0;
  /// Ends the document; call once, after the last pair.
  virtual void finish() = 0;
};

/// The formatter for `format` ("text", "json", "junit" or "github"; anything else is text)
/// writing to `out`, which must outlive it.
std::unique_ptr<CompatFormatter> make_compat_formatter(std::string_view format, std::ostream& out,
                                                       const CompatTextOptions& options = {});

/// The formatters make_compat_formatter chooses from.
std::unique_ptr<CompatFormatter> make_compat_text_formatter(std::ostream& out,
                                                            const CompatTextOptions& options);
std::unique_ptr<CompatFormatter> make_compat_json_formatter(std::ostream& out);
std::unique_ptr<CompatFormatter> make_compat_junit_formatter(std::ostream& out);
std::unique_ptr<CompatFormatter> make_compat_github_formatter(std::ostream& out);

/// Per pair a header "guest on host: verdict", then its input errors or findings as
/// "file:line:col: outcome [rule] message" with indented evidence and hint lines (consecutive
/// findings that differ only in the unit they name print once, with an "also on" line); when
/// there is more than one pair, a guest x host matrix of verdicts and the overall verdict
/// (the one part kept for the whole run: a verdict per pair).
void format_compat_text(const std::vector<CompatPair>& pairs, std::ostream& out,
                        const CompatTextOptions& options = {});

/// One JSON document: {schema, results: [{guest, host, verdict, exit_code, errors,
/// findings}], verdict, exit_code}. Every finding is listed, passes included.
void format_compat_json(const std::vector<CompatPair>& pairs, std::ostream& out);

class JsonWriter;
/// One error as every iommu-compat JSON document writes it: {file, line, column, message},
/// absent parts null.
void write_json_error(JsonWriter& w, const caps::Error& e);

/// JUnit XML: one <testsuite> per pair, with its counts, and one <testcase> per finding
/// (failure for fail, skipped for unknown) or input error (error). The <testsuites> root has
/// no totals: they would be known only after the last pair, and the root comes first. Text is
/// escaped and characters XML 1.0 forbids are dropped.
void format_compat_junit(const std::vector<CompatPair>& pairs, std::ostream& out);

/// GitHub Actions workflow commands: one ::error (fail) or ::warning (unknown, warning)
/// annotation per finding that did not pass, at the guest file's line; one ::error per
/// distinct input error (a guest's once, not once per host; a host's once per run); and a plain
/// verdict line per pair.
void format_compat_github(const std::vector<CompatPair>& pairs, std::ostream& out);

/// Where escaped XML text goes: an attribute value keeps tab and newline only as character
/// references (a parser normalizes literal ones to spaces); element content keeps them as is.
enum class XmlContext { kAttribute, kContent };

/// `text` valid for XML 1.0: & < > " ' escaped, carriage return as a character reference,
/// other characters XML 1.0 forbids dropped, bytes that are not UTF-8 replaced by U+FFFD.
std::string xml_escape(std::string_view text, XmlContext context = XmlContext::kAttribute);

/// A GitHub workflow command's message: % CR LF percent-encoded.
std::string github_escape_data(std::string_view text);

/// A GitHub workflow command's property value: as data, plus ':' and ','.
std::string github_escape_property(std::string_view text);

}  // namespace tools
