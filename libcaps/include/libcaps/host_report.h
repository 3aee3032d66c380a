// Host reports: the TOML form of a Host that iommu-probe writes and iommu-compat loads as a host.
#pragma once

#include <ostream>
#include <string_view>

#include "libcaps/model.h"
#include "libcaps/result.h"

namespace caps {

/// The schema name written in every host report.
inline constexpr std::string_view kHostReportSchema = "iommu-probe/1";

/// Writes `host` as a host report: every unit, group, device and diagnostic, with unknown
/// values left out (TOML has no null). Deterministic: the same host gives the same bytes.
void write_host_report(const Host& host, std::ostream& out);

/// Loads a host report. `file` is used in messages, which name the file, line, column and key.
/// The loaded host has backend "report" and root = `file`, and gives the same verdicts as
/// the tree the report was written from.
Result<Host> load_host_report(std::string_view text, std::string_view file);

}  // namespace caps
