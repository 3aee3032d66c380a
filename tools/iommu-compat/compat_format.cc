// SPDX-License-Identifier: MIT
// make_compat_formatter: the --format name to its formatter.
#include "iommu-compat/compat_format.h"

namespace tools {

std::unique_ptr<CompatFormatter> make_compat_formatter(std::string_view format, std::ostream& out,
                                                       const CompatTextOptions& options) {
  if (format == "json") return make_compat_json_formatter(out);
  if (format == "junit") return make_compat_junit_formatter(out);
  if (format == "github") return make_compat_github_formatter(out);
  return make_compat_text_formatter(out, options);
}

}  // namespace tools
