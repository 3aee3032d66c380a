// SPDX-License-Identifier: MIT
// format_compat_junit: JUnit XML (the common Ant/Jenkins dialect, schemas/junit.xsd), one
// <testsuite> per guest x host pair. No time attributes: the output is deterministic.
#include <string>

#include "iommu-compat/compat_format.h"
#include "libcaps/parse.h"

namespace tools {
namespace {

/// Whether XML 1.0 allows code point `c` (the Char production).
bool is_xml_char(char32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/// The code point of the valid UTF-8 sequence of `length` bytes at `text[pos]`.
char32_t decode(std::string_view text, size_t pos, size_t length) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  if (length == 1) return byte(0);
  char32_t c = byte(0) & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) c = (c << 6) | (byte(i) & 0x3F);
  return c;
}

std::string attr(std::string_view name, std::string_view value) {
  return " " + std::string(name) + "=\"" + xml_escape(value) + "\"";
}

std::string attr(std::string_view name, int value) {
  return " " + std::string(name) + "=\"" + std::to_string(value) + "\"";
}

/// The testcase body: what was checked and why (the failure's text, else its system-out).
std::string details(const std::string& guest, const caps::Finding& f) {
  std::string out = caps::location(guest, f.pos) + ": " + std::string(caps::to_string(f.outcome)) +
                    " [" + f.rule + "] " + f.message + "\n";
  if (!f.guest_key.empty()) out += "guest key: " + f.guest_key + "\n";
  if (!f.evidence.empty()) out += "evidence: " + f.evidence + "\n";
  if (!f.hint.empty()) out += "hint: " + f.hint + "\n";
  return out;
}

void write_finding(const std::string& guest, const caps::Finding& f, std::ostream& out) {
  const std::string name = f.unit.empty() ? f.rule : f.rule + " (" + f.unit + ")";
  out << "    <testcase" << attr("classname", guest) << attr("name", name) << ">\n";
  const std::string body = xml_escape(details(guest, f), XmlContext::kContent);
  if (f.outcome == caps::Outcome::kFail) {
    out << "      <failure" << attr("message", f.message) << attr("type", "fail") << ">" << body
        << "</failure>\n";
    out << "    </testcase>\n";
    return;
  }
  if (f.outcome == caps::Outcome::kUnknown) {
    out << "      <skipped" << attr("message", f.message) << "/>\n";
  }
  out << "      <system-out>" << body << "</system-out>\n";
  out << "    </testcase>\n";
}

void write_error(const std::string& guest, const caps::Error& e, std::ostream& out) {
  const std::string text = e.to_string();
  out << "    <testcase" << attr("classname", guest) << attr("name", "bad-input") << ">\n";
  out << "      <error" << attr("message", text) << attr("type", "bad-input") << ">"
      << xml_escape(text, XmlContext::kContent) << "</error>\n";
  out << "    </testcase>\n";
}

void write_suite(const CompatPair& pair, std::ostream& out) {
  const caps::Report& r = pair.report;
  const Tally t = tally(pair);
  const int tests = static_cast<int>(r.findings.size()) + t.errors;
  out << "  <testsuite" << attr("name", r.guest + " on " + r.host) << attr("tests", tests)
      << attr("failures", t.fail) << attr("errors", t.errors) << attr("skipped", t.unknown)
      << ">\n";
  out << "    <properties>\n";
  out << "      <property" << attr("name", "guest") << attr("value", r.guest) << "/>\n";
  out << "      <property" << attr("name", "host") << attr("value", r.host) << "/>\n";
  out << "      <property" << attr("name", "verdict") << attr("value", caps::to_string(r.verdict))
      << "/>\n";
  out << "    </properties>\n";
  for (const caps::Error& e : pair.errors) write_error(r.guest, e, out);
  for (const caps::Finding& f : r.findings) write_finding(r.guest, f, out);
  out << "  </testsuite>\n";
}

/// The deployment of `check --together` as one more <testsuite>, "deployment on HOST", with
/// a testcase per deployment finding (classname "deployment").
void write_deployment_suite(const CompatDeployment& d, std::ostream& out) {
  const caps::DeploymentReport& r = d.report;
  int fail = 0;
  int unknown = 0;
  for (const caps::DeploymentFinding& f : r.findings) {
    fail += f.outcome == caps::Outcome::kFail;
    unknown += f.outcome == caps::Outcome::kUnknown;
  }
  const int errors = static_cast<int>(d.errors.size());
  const int tests = static_cast<int>(r.findings.size()) + errors;
  out << "  <testsuite" << attr("name", "deployment on " + r.host) << attr("tests", tests)
      << attr("failures", fail) << attr("errors", errors) << attr("skipped", unknown) << ">\n";
  out << "    <properties>\n";
  out << "      <property" << attr("name", "host") << attr("value", r.host) << "/>\n";
  for (const std::string& g : r.guests) {
    out << "      <property" << attr("name", "guest") << attr("value", g) << "/>\n";
  }
  out << "      <property" << attr("name", "verdict") << attr("value", caps::to_string(r.verdict))
      << "/>\n";
  out << "    </properties>\n";
  for (const caps::Error& e : d.errors) write_error("deployment", e, out);
  for (const caps::DeploymentFinding& f : r.findings) {
    std::string name = f.rule;
    if (f.group) name += " (group " + std::to_string(*f.group) + ")";
    if (!f.unit.empty()) name += " (" + f.unit + ")";
    std::string body = std::string(caps::to_string(f.outcome)) + " [" + f.rule + "] " +
                       f.message + "\n";
    for (const caps::DeploymentPlace& p : f.places) {
      body += "guest: " + caps::location(p.guest, p.pos) +
              (p.guest_key.empty() ? "" : " (" + p.guest_key + ")") + "\n";
    }
    if (!f.evidence.empty()) body += "evidence: " + f.evidence + "\n";
    if (!f.hint.empty()) body += "hint: " + f.hint + "\n";
    out << "    <testcase" << attr("classname", "deployment") << attr("name", name) << ">\n";
    const std::string text = xml_escape(body, XmlContext::kContent);
    if (f.outcome == caps::Outcome::kFail) {
      out << "      <failure" << attr("message", f.message) << attr("type", "fail") << ">" << text
          << "</failure>\n";
    } else {
      if (f.outcome == caps::Outcome::kUnknown) {
        out << "      <skipped" << attr("message", f.message) << "/>\n";
      }
      out << "      <system-out>" << text << "</system-out>\n";
    }
    out << "    </testcase>\n";
  }
  out << "  </testsuite>\n";
}

}  // namespace

std::string xml_escape(std::string_view text, XmlContext context) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t length = caps::utf8_sequence_length(text, pos);
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      pos += caps::utf8_invalid_length(text, pos);
      continue;
    }
    const char32_t c = decode(text, pos, length);
    const std::string_view bytes = text.substr(pos, length);
    pos += length;
    if (!is_xml_char(c)) continue;
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\t':
        out += context == XmlContext::kAttribute ? "&#9;" : "\t";
        break;
      case '\n':
        out += context == XmlContext::kAttribute ? "&#10;" : "\n";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        out += bytes;
    }
  }
  return out;
}

namespace {

class JunitFormatter : public CompatFormatter {
 public:
  explicit JunitFormatter(std::ostream& out) : out_(out) {}
  void add(const CompatPair& pair) override {
    begin();
    write_suite(pair, out_);
  }
  void add_deployment(const CompatDeployment& deployment) override {
    begin();
    write_deployment_suite(deployment, out_);
  }
  void finish() override {
    begin();
    out_ << "</testsuites>\n";
  }

 private:
  void begin() {
    if (begun_) return;
    begun_ = true;
    out_ << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out_ << "<testsuites" << attr("name", "iommu-compat") << ">\n";
  }

  std::ostream& out_;
  bool begun_ = false;
};

}  // namespace

std::unique_ptr<CompatFormatter> make_compat_junit_formatter(std::ostream& out) {
  return std::make_unique<JunitFormatter>(out);
}

void format_compat_junit(const std::vector<CompatPair>& pairs, std::ostream& out) {
  JunitFormatter f(out);
  for (const CompatPair& pair : pairs) f.add(pair);
  f.finish();
}

}  // namespace tools
