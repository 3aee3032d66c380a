// SPDX-License-Identifier: MIT
// Host reports: the TOML form of a Host that iommu-probe writes and iommu-compat loads as a host.
#pragma once

#include <cstddef>
#include <ostream>
#include <string_view>

#include "libcaps/model.h"
#include "libcaps/result.h"

namespace caps {

/// The schema name written in every host report. Version 2 added the [end] table that proves
/// a report complete; version 1 reports ("iommu-probe/1") are refused: they cannot show it.
inline constexpr std::string_view kHostReportSchema = "iommu-probe/2";

/// The largest report load_host_report accepts. A real host's report is well under 1 MiB
/// (a 10,000-unit report with every register is 21 MB); loading holds the text and about 3.6
/// bytes of model per byte of report, since the report is parsed one table at a time.
inline constexpr std::size_t kHostReportMaxBytes = std::size_t{64} << 20;

/// Writes `host` as a host report: every unit, group, device and diagnostic, with unknown
/// values left out (TOML has no null), then an [end] table counting them. Deterministic: the
/// same host gives the same bytes.
void write_host_report(const Host& host, std::ostream& out);

/// Loads a host report. `file` is used in messages, which name the file, line, column and key.
/// The loaded host has backend "report" and root = `file`, and gives the same verdicts as
/// the tree the report was written from. Refused: a report without its [end] table or whose
/// counts differ (cut short or edited), a version 1 report, two units, devices or groups of
/// the same name or id, a report larger than kHostReportMaxBytes, and running out of memory.
Result<Host> load_host_report(std::string_view text, std::string_view file);

}  // namespace caps
