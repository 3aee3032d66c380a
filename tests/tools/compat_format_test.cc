// SPDX-License-Identifier: MIT
// Tests for tools/iommu-compat/compat_format_*.cc and compat_report.cc: whole outputs of every
// format for hand-built matrices, and the escaping rules of XML and GitHub commands.
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "iommu-compat/compat_format.h"
#include "iommu-compat/compat_report.h"

namespace tools {
namespace {

using caps::Finding;
using caps::Outcome;
using caps::Verdict;

Finding finding(std::string rule, Outcome outcome, std::string key, int line, int column,
                std::string unit, std::string evidence, std::string message,
                std::string hint = {}) {
  Finding f;
  f.rule = std::move(rule);
  f.outcome = outcome;
  f.guest_key = std::move(key);
  f.pos = {line, column};
  f.unit = std::move(unit);
  f.evidence = std::move(evidence);
  f.message = std::move(message);
  f.hint = std::move(hint);
  return f;
}

/// guest.toml on hosts/icx: one finding of each outcome, one without a position.
CompatPair incompatible_pair() {
  CompatPair p;
  p.report.guest = "guest.toml";
  p.report.host = "hosts/icx";
  p.report.verdict = Verdict::kIncompatible;
  p.report.findings = {
      finding("units.exist", Outcome::kPass, "", 0, 0, "", "host: units dmar0",
              "checking dmar0 (all units)"),
      finding("model", Outcome::kWarn, "viommu.model", 4, 1, "dmar0",
              "dmar0: model = amd-vi (amd-iommu layout)",
              "intel-vtd is emulated on dmar0 (amd-vi): no hardware nesting"),
      finding("width.ssid_bits", Outcome::kFail, "viommu.ssid_bits", 5, 1, "dmar0",
              "dmar0: ecap.PSS=19 -> 20 PASID bits",
              "guest needs 24 PASID bits but dmar0 supports 20", "set ssid_bits = 20 or lower"),
      finding("feature.nested", Outcome::kUnknown, "viommu.nested", 6, 1, "dmar0",
              "dmar0: nested unknown (amd-iommu layout)",
              "guest needs nested translation but whether dmar0 has it is unknown"),
  };
  return p;
}

CompatPair compatible_pair() {
  CompatPair p;
  p.report.guest = "guest.toml";
  p.report.host = "hosts/b";
  p.report.verdict = Verdict::kCompatible;
  p.report.findings = {finding("model", Outcome::kPass, "viommu.model", 4, 1, "dmar0",
                               "dmar0: model = intel-vtd", "intel-vtd matches dmar0")};
  return p;
}

CompatPair bad_pair(std::string host) {
  CompatPair p;
  p.report.guest = "bad.toml";
  p.report.host = std::move(host);
  p.report.verdict = Verdict::kBadInput;
  p.errors = {{"bad.toml", "invalid TOML: expected ']'", {5, 8}},
              {"bad.toml", "unknown key ssid_bit (did you mean ssid_bits?)", {7, 1}}};
  return p;
}

/// Text that every format must escape: markup, quotes, a control character, a newline,
/// GitHub's separators and invalid UTF-8.
CompatPair hostile_pair() {
  CompatPair p;
  p.report.guest = "a,b:c%.toml";
  p.report.host = "h<&>\"'";
  p.report.verdict = Verdict::kIncompatible;
  p.report.findings = {finding("rule.x", Outcome::kFail, "viommu.model", 3, 2, "u\x01",
                               "ev <tag> & \"q\" 'a'", "line one\nline two\r 100% \xff\x01",
                               "hint, with: colon")};
  return p;
}

std::string text(const std::vector<CompatPair>& pairs, bool show_passes = false) {
  std::ostringstream out;
  format_compat_text(pairs, out, {.show_passes = show_passes});
  return out.str();
}

std::string json(const std::vector<CompatPair>& pairs) {
  std::ostringstream out;
  format_compat_json(pairs, out);
  return out.str();
}

std::string junit(const std::vector<CompatPair>& pairs) {
  std::ostringstream out;
  format_compat_junit(pairs, out);
  return out.str();
}

std::string github(const std::vector<CompatPair>& pairs) {
  std::ostringstream out;
  format_compat_github(pairs, out);
  return out.str();
}

TEST(CompatReport, OverallVerdictPrecedence) {
  auto with = [](std::vector<Verdict> verdicts) {
    std::vector<CompatPair> pairs;
    for (Verdict v : verdicts) {
      CompatPair p;
      p.report.verdict = v;
      pairs.push_back(p);
    }
    return overall_verdict(pairs);
  };
  EXPECT_EQ(with({}), Verdict::kCompatible);
  EXPECT_EQ(with({Verdict::kCompatible, Verdict::kUndecided}), Verdict::kUndecided);
  EXPECT_EQ(with({Verdict::kUndecided, Verdict::kIncompatible, Verdict::kCompatible}),
            Verdict::kIncompatible);
  EXPECT_EQ(with({Verdict::kIncompatible, Verdict::kBadInput, Verdict::kUndecided}),
            Verdict::kBadInput);
}

TEST(CompatReport, HostErrorIsOneWhoseFileIsTheHost) {
  CompatPair p = bad_pair("hosts/r.toml");
  EXPECT_FALSE(is_host_error(p, p.errors.front()));
  EXPECT_TRUE(is_host_error(p, {"hosts/r.toml", "unknown key", {3, 1}}));
  EXPECT_TRUE(is_host_error(p, {"hosts/r.toml", "cannot read: no such file"}));
  // A file whose name ends in ":digits" is that file, not a line of another.
  p.report.host = "hosts/r:12";
  EXPECT_TRUE(is_host_error(p, {"hosts/r:12", "cannot read: no such file"}));
  EXPECT_FALSE(is_host_error(p, {"hosts/r", "unknown key", {12, 0}}));
}

TEST(CompatFormatText, MatrixWithFindingsAndBadInput) {
  EXPECT_EQ(
      text({incompatible_pair(), compatible_pair(), bad_pair("hosts/icx"), bad_pair("hosts/b")}),
      R"x(guest.toml on hosts/icx: incompatible
guest.toml:4:1: warning [model] intel-vtd is emulated on dmar0 (amd-vi): no hardware nesting
    evidence: dmar0: model = amd-vi (amd-iommu layout)
guest.toml:5:1: fail [width.ssid_bits] guest needs 24 PASID bits but dmar0 supports 20
    evidence: dmar0: ecap.PSS=19 -> 20 PASID bits
    hint: set ssid_bits = 20 or lower
guest.toml:6:1: unknown [feature.nested] guest needs nested translation but whether dmar0 has it is unknown
    evidence: dmar0: nested unknown (amd-iommu layout)

guest.toml on hosts/b: compatible

bad.toml on hosts/icx: bad-input
bad.toml:5:8: error: invalid TOML: expected ']'
bad.toml:7:1: error: unknown key ssid_bit (did you mean ssid_bits?)

bad.toml on hosts/b: bad-input
bad.toml:5:8: error: invalid TOML: expected ']'
bad.toml:7:1: error: unknown key ssid_bit (did you mean ssid_bits?)

matrix: 2 guests x 2 hosts
  [1] hosts/icx
  [2] hosts/b
guest       [1]           [2]
guest.toml  incompatible  compatible
bad.toml    bad-input     bad-input
overall: bad-input (exit 2)
)x");
}

TEST(CompatFormatText, ShowPassesAndNoMatrixForOnePair) {
  EXPECT_EQ(text({incompatible_pair()}, true), R"x(guest.toml on hosts/icx: incompatible
guest.toml: pass [units.exist] checking dmar0 (all units)
    evidence: host: units dmar0
guest.toml:4:1: warning [model] intel-vtd is emulated on dmar0 (amd-vi): no hardware nesting
    evidence: dmar0: model = amd-vi (amd-iommu layout)
guest.toml:5:1: fail [width.ssid_bits] guest needs 24 PASID bits but dmar0 supports 20
    evidence: dmar0: ecap.PSS=19 -> 20 PASID bits
    hint: set ssid_bits = 20 or lower
guest.toml:6:1: unknown [feature.nested] guest needs nested translation but whether dmar0 has it is unknown
    evidence: dmar0: nested unknown (amd-iommu layout)
)x");
}

TEST(CompatFormatText, FindingsThatDifferOnlyInTheUnitPrintOnce) {
  auto width = [](std::string unit, int have, std::string hint = "set ssid_bits = 16 or lower") {
    return finding("width.ssid_bits", Outcome::kFail, "viommu.ssid_bits", 5, 1, unit,
                   unit + ": ssid_bits = " + std::to_string(have),
                   "guest needs 20 PASID bits but " + unit + " supports " + std::to_string(have),
                   hint);
  };
  CompatPair p;
  p.report.guest = "guest.toml";
  p.report.host = "hosts/big";
  p.report.verdict = Verdict::kIncompatible;
  // dmar1 and dmar10: one name is a prefix of the other. dmar3 differs in its value, dmar4
  // only in its hint, and dmar5 repeats dmar0 after them: each of those prints on its own.
  p.report.findings = {width("dmar0", 16),
                       width("dmar1", 16),
                       width("dmar10", 16),
                       width("dmar3", 8),
                       width("dmar4", 16, "other hint"),
                       width("dmar5", 16)};
  EXPECT_EQ(text({p}), R"x(guest.toml on hosts/big: incompatible
guest.toml:5:1: fail [width.ssid_bits] guest needs 20 PASID bits but dmar0 supports 16
    evidence: dmar0: ssid_bits = 16
    hint: set ssid_bits = 16 or lower
    also on dmar1, dmar10 (the same finding)
guest.toml:5:1: fail [width.ssid_bits] guest needs 20 PASID bits but dmar3 supports 8
    evidence: dmar3: ssid_bits = 8
    hint: set ssid_bits = 16 or lower
guest.toml:5:1: fail [width.ssid_bits] guest needs 20 PASID bits but dmar4 supports 16
    evidence: dmar4: ssid_bits = 16
    hint: other hint
guest.toml:5:1: fail [width.ssid_bits] guest needs 20 PASID bits but dmar5 supports 16
    evidence: dmar5: ssid_bits = 16
    hint: set ssid_bits = 16 or lower
)x");
}

TEST(CompatFormatText, HostileTextIsPrintable) {
  EXPECT_EQ(text({hostile_pair()}),
            "a,b:c%.toml on h<&>\"': incompatible\n"
            "a,b:c%.toml:3:2: fail [rule.x] line one\\x0aline two\\x0d 100% \\xff\\x01\n"
            "    evidence: ev <tag> & \"q\" 'a'\n"
            "    hint: hint, with: colon\n");
}

TEST(CompatFormatJson, FindingsAndErrors) {
  EXPECT_EQ(json({incompatible_pair(), bad_pair("hosts/icx")}), R"x({
  "schema": "iommu-compat/1",
  "results": [
    {
      "guest": "guest.toml",
      "host": "hosts/icx",
      "verdict": "incompatible",
      "exit_code": 1,
      "errors": [],
      "findings": [
        {
          "rule": "units.exist",
          "outcome": "pass",
          "guest_key": null,
          "file": "guest.toml",
          "line": null,
          "column": null,
          "unit": null,
          "evidence": "host: units dmar0",
          "message": "checking dmar0 (all units)",
          "hint": null
        },
        {
          "rule": "model",
          "outcome": "warning",
          "guest_key": "viommu.model",
          "file": "guest.toml",
          "line": 4,
          "column": 1,
          "unit": "dmar0",
          "evidence": "dmar0: model = amd-vi (amd-iommu layout)",
          "message": "intel-vtd is emulated on dmar0 (amd-vi): no hardware nesting",
          "hint": null
        },
        {
          "rule": "width.ssid_bits",
          "outcome": "fail",
          "guest_key": "viommu.ssid_bits",
          "file": "guest.toml",
          "line": 5,
          "column": 1,
          "unit": "dmar0",
          "evidence": "dmar0: ecap.PSS=19 -> 20 PASID bits",
          "message": "guest needs 24 PASID bits but dmar0 supports 20",
          "hint": "set ssid_bits = 20 or lower"
        },
        {
          "rule": "feature.nested",
          "outcome": "unknown",
          "guest_key": "viommu.nested",
          "file": "guest.toml",
          "line": 6,
          "column": 1,
          "unit": "dmar0",
          "evidence": "dmar0: nested unknown (amd-iommu layout)",
          "message": "guest needs nested translation but whether dmar0 has it is unknown",
          "hint": null
        }
      ]
    },
    {
      "guest": "bad.toml",
      "host": "hosts/icx",
      "verdict": "bad-input",
      "exit_code": 2,
      "errors": [
        {
          "file": "bad.toml",
          "line": 5,
          "column": 8,
          "message": "invalid TOML: expected ']'"
        },
        {
          "file": "bad.toml",
          "line": 7,
          "column": 1,
          "message": "unknown key ssid_bit (did you mean ssid_bits?)"
        }
      ],
      "findings": []
    }
  ],
  "verdict": "bad-input",
  "exit_code": 2
}
)x");
}

TEST(CompatFormatJson, EmptyMatrixIsCompatible) {
  EXPECT_EQ(json({}), R"x({
  "schema": "iommu-compat/1",
  "results": [],
  "verdict": "compatible",
  "exit_code": 0
}
)x");
}

TEST(CompatFormatJson, FileNameEndingInDigitsIsNotALine) {
  // The error carries its line apart from the file: a file named "v:12" with no line is not
  // line 12 of "v", and one with a line keeps its whole name.
  CompatPair p;
  p.report.guest = "v:12";
  p.report.host = "h";
  p.report.verdict = Verdict::kBadInput;
  p.errors = {{"v:12", "cannot read: no such file"}, {"v:12", "unknown key", {3, 1}}};
  const std::string out = json({p});
  EXPECT_NE(out.find(R"x("file": "v:12",
          "line": null,
          "column": null,
          "message": "cannot read: no such file")x"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(R"x("file": "v:12",
          "line": 3,
          "column": 1,
          "message": "unknown key")x"),
            std::string::npos)
      << out;
  EXPECT_EQ(github({p}),
            "::error file=v%3A12,title=bad-input::cannot read: no such file\n"
            "::error file=v%3A12,line=3,col=1,title=bad-input::unknown key\n"
            "iommu-compat: v:12 on h: bad-input\n");
  EXPECT_EQ(text({p}),
            "v:12 on h: bad-input\n"
            "v:12: error: cannot read: no such file\n"
            "v:12:3:1: error: unknown key\n");
}

TEST(CompatFormatJunit, Matrix) {
  EXPECT_EQ(
      junit({incompatible_pair(), compatible_pair(), bad_pair("hosts/icx"), bad_pair("hosts/b")}),
      R"x(<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="iommu-compat">
  <testsuite name="guest.toml on hosts/icx" tests="4" failures="1" errors="0" skipped="1">
    <properties>
      <property name="guest" value="guest.toml"/>
      <property name="host" value="hosts/icx"/>
      <property name="verdict" value="incompatible"/>
    </properties>
    <testcase classname="guest.toml" name="units.exist">
      <system-out>guest.toml: pass [units.exist] checking dmar0 (all units)
evidence: host: units dmar0
</system-out>
    </testcase>
    <testcase classname="guest.toml" name="model (dmar0)">
      <system-out>guest.toml:4:1: warning [model] intel-vtd is emulated on dmar0 (amd-vi): no hardware nesting
guest key: viommu.model
evidence: dmar0: model = amd-vi (amd-iommu layout)
</system-out>
    </testcase>
    <testcase classname="guest.toml" name="width.ssid_bits (dmar0)">
      <failure message="guest needs 24 PASID bits but dmar0 supports 20" type="fail">guest.toml:5:1: fail [width.ssid_bits] guest needs 24 PASID bits but dmar0 supports 20
guest key: viommu.ssid_bits
evidence: dmar0: ecap.PSS=19 -&gt; 20 PASID bits
hint: set ssid_bits = 20 or lower
</failure>
    </testcase>
    <testcase classname="guest.toml" name="feature.nested (dmar0)">
      <skipped message="guest needs nested translation but whether dmar0 has it is unknown"/>
      <system-out>guest.toml:6:1: unknown [feature.nested] guest needs nested translation but whether dmar0 has it is unknown
guest key: viommu.nested
evidence: dmar0: nested unknown (amd-iommu layout)
</system-out>
    </testcase>
  </testsuite>
  <testsuite name="guest.toml on hosts/b" tests="1" failures="0" errors="0" skipped="0">
    <properties>
      <property name="guest" value="guest.toml"/>
      <property name="host" value="hosts/b"/>
      <property name="verdict" value="compatible"/>
    </properties>
    <testcase classname="guest.toml" name="model (dmar0)">
      <system-out>guest.toml:4:1: pass [model] intel-vtd matches dmar0
guest key: viommu.model
evidence: dmar0: model = intel-vtd
</system-out>
    </testcase>
  </testsuite>
  <testsuite name="bad.toml on hosts/icx" tests="2" failures="0" errors="2" skipped="0">
    <properties>
      <property name="guest" value="bad.toml"/>
      <property name="host" value="hosts/icx"/>
      <property name="verdict" value="bad-input"/>
    </properties>
    <testcase classname="bad.toml" name="bad-input">
      <error message="bad.toml:5:8: invalid TOML: expected &apos;]&apos;" type="bad-input">bad.toml:5:8: invalid TOML: expected &apos;]&apos;</error>
    </testcase>
    <testcase classname="bad.toml" name="bad-input">
      <error message="bad.toml:7:1: unknown key ssid_bit (did you mean ssid_bits?)" type="bad-input">bad.toml:7:1: unknown key ssid_bit (did you mean ssid_bits?)</error>
    </testcase>
  </testsuite>
  <testsuite name="bad.toml on hosts/b" tests="2" failures="0" errors="2" skipped="0">
    <properties>
      <property name="guest" value="bad.toml"/>
      <property name="host" value="hosts/b"/>
      <property name="verdict" value="bad-input"/>
    </properties>
    <testcase classname="bad.toml" name="bad-input">
      <error message="bad.toml:5:8: invalid TOML: expected &apos;]&apos;" type="bad-input">bad.toml:5:8: invalid TOML: expected &apos;]&apos;</error>
    </testcase>
    <testcase classname="bad.toml" name="bad-input">
      <error message="bad.toml:7:1: unknown key ssid_bit (did you mean ssid_bits?)" type="bad-input">bad.toml:7:1: unknown key ssid_bit (did you mean ssid_bits?)</error>
    </testcase>
  </testsuite>
</testsuites>
)x");
}

TEST(CompatFormatJunit, HostileTextIsEscapedAndForbiddenCharactersDropped) {
  EXPECT_EQ(junit({hostile_pair()}), R"x(<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="iommu-compat">
  <testsuite name="a,b:c%.toml on h&lt;&amp;&gt;&quot;&apos;" tests="1" failures="1" errors="0" skipped="0">
    <properties>
      <property name="guest" value="a,b:c%.toml"/>
      <property name="host" value="h&lt;&amp;&gt;&quot;&apos;"/>
      <property name="verdict" value="incompatible"/>
    </properties>
    <testcase classname="a,b:c%.toml" name="rule.x (u)">
      <failure message="line one&#10;line two&#13; 100% �" type="fail">a,b:c%.toml:3:2: fail [rule.x] line one
line two&#13; 100% �
guest key: viommu.model
evidence: ev &lt;tag&gt; &amp; &quot;q&quot; &apos;a&apos;
hint: hint, with: colon
</failure>
    </testcase>
  </testsuite>
</testsuites>
)x");
}

TEST(CompatFormatGithub, OneAnnotationPerFindingThatDidNotPassAndErrorsOnce) {
  EXPECT_EQ(
      github({incompatible_pair(), compatible_pair(), bad_pair("hosts/icx"), bad_pair("hosts/b")}),
      R"x(::warning file=guest.toml,line=4,col=1,title=model::on hosts/icx: intel-vtd is emulated on dmar0 (amd-vi): no hardware nesting
::error file=guest.toml,line=5,col=1,title=width.ssid_bits::on hosts/icx: guest needs 24 PASID bits but dmar0 supports 20 (hint: set ssid_bits = 20 or lower)
::warning file=guest.toml,line=6,col=1,title=feature.nested::on hosts/icx: guest needs nested translation but whether dmar0 has it is unknown
iommu-compat: guest.toml on hosts/icx: incompatible
iommu-compat: guest.toml on hosts/b: compatible
::error file=bad.toml,line=5,col=8,title=bad-input::invalid TOML: expected ']'
::error file=bad.toml,line=7,col=1,title=bad-input::unknown key ssid_bit (did you mean ssid_bits?)
iommu-compat: bad.toml on hosts/icx: bad-input
iommu-compat: bad.toml on hosts/b: bad-input
)x");
}

TEST(CompatFormatGithub, HostErrorsOncePerRunGuestErrorsOncePerGuest) {
  // Two guests on a host whose report is broken: the host's error is annotated once, each
  // guest's own errors once for that guest.
  auto bad_host = [](std::string guest) {
    CompatPair p;
    p.report.guest = std::move(guest);
    p.report.host = "hosts/r.toml";
    p.report.verdict = Verdict::kBadInput;
    p.errors = {{"hosts/r.toml", "unknown key", {3, 1}}};
    return p;
  };
  CompatPair both = bad_pair("hosts/r.toml");
  both.errors.push_back({"hosts/r.toml", "unknown key", {3, 1}});
  EXPECT_EQ(github({bad_host("a.toml"), bad_host("b.toml"), both}),
            R"x(::error file=hosts/r.toml,line=3,col=1,title=bad-input::unknown key
iommu-compat: a.toml on hosts/r.toml: bad-input
iommu-compat: b.toml on hosts/r.toml: bad-input
::error file=bad.toml,line=5,col=8,title=bad-input::invalid TOML: expected ']'
::error file=bad.toml,line=7,col=1,title=bad-input::unknown key ssid_bit (did you mean ssid_bits?)
iommu-compat: bad.toml on hosts/r.toml: bad-input
)x");
}

TEST(CompatFormatter, OnePairAtATimeGivesTheWholeDocument) {
  // The streaming formatters and the vector functions agree, for every format, and the
  // text matrix and JSON overall verdict come from the pairs seen.
  const std::vector<CompatPair> pairs = {incompatible_pair(), compatible_pair(),
                                         bad_pair("hosts/icx"), bad_pair("hosts/b")};
  for (std::string_view format : {"text", "json", "junit", "github"}) {
    std::ostringstream streamed;
    auto f = make_compat_formatter(format, streamed);
    for (const CompatPair& p : pairs) f->add(p);
    f->finish();
    const std::string whole = format == "text"    ? text(pairs)
                              : format == "json"  ? json(pairs)
                              : format == "junit" ? junit(pairs)
                                                  : github(pairs);
    EXPECT_EQ(streamed.str(), whole) << format;
  }
}

TEST(CompatFormatGithub, HostileTextIsEscaped) {
  EXPECT_EQ(github({hostile_pair()}),
            "::error file=a%2Cb%3Ac%25.toml,line=3,col=2,title=rule.x::on h<&>\"': line one%0Aline "
            "two%0D 100%25 \xff\x01 (hint: hint, with: colon)\n"
            "iommu-compat: a,b:c%25.toml on h<&>\"': incompatible\n");
}

TEST(CompatFormat, XmlEscape) {
  EXPECT_EQ(xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
  EXPECT_EQ(xml_escape("t\tn\nr\r"), "t&#9;n&#10;r&#13;");
  EXPECT_EQ(xml_escape("t\tn\nr\r", XmlContext::kContent), "t\tn\nr&#13;");
  // C0 controls other than tab/LF/CR, U+FFFE and U+FFFF are not XML 1.0 characters.
  EXPECT_EQ(xml_escape(std::string("a\x00"
                                   "b\x01\x1f\x7f",
                                   6) +
                       "\xef\xbf\xbe\xef\xbf\xbf"),
            "ab\x7f");
  // Invalid UTF-8 becomes U+FFFD; valid multi-byte text stays.
  EXPECT_EQ(xml_escape("\xff\xc3\xa9\xf0\x9f\x98\x80"), "\xef\xbf\xbd\xc3\xa9\xf0\x9f\x98\x80");
}

TEST(CompatFormat, GithubEscape) {
  EXPECT_EQ(github_escape_data("100% a\r\nb, c: d"), "100%25 a%0D%0Ab, c: d");
  EXPECT_EQ(github_escape_property("100% a\r\nb, c: d"), "100%25 a%0D%0Ab%2C c%3A d");
}
}  // namespace
}  // namespace tools
