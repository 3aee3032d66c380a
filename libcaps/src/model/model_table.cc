// SPDX-License-Identifier: MIT
// Look-ups in the model and layout tables.
#include "model_table.h"

#include <algorithm>
#include <vector>

namespace caps {

namespace {

template <class Pred>
const ModelInfo* find_model_where(Pred pred) {
  auto it = std::find_if(kModels.begin(), kModels.end(), pred);
  return it == kModels.end() ? nullptr : &*it;
}

/// `name(row)` of every row, as list_of() joins them.
template <class Rows, class Name>
std::string list_rows(const Rows& rows, Name name, std::string_view last) {
  std::vector<std::string> items;
  for (const auto& row : rows) items.emplace_back(name(row));
  return list_of(items, last);
}

}  // namespace

std::string list_of(std::span<const std::string> items, std::string_view last) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? last : std::string_view(", ");
    out += items[i];
  }
  return out;
}

const UnitLayout& layout_info(Layout layout) {
  for (const UnitLayout& row : kLayouts) {
    if (row.layout == layout) return row;
  }
  return kLayouts.back();
}

std::string_view to_string(Layout layout) { return layout_info(layout).name; }

const UnitLayout* find_layout(std::string_view name) {
  auto it = std::find_if(kLayouts.begin(), kLayouts.end(),
                         [&](const UnitLayout& row) { return row.name == name; });
  return it == kLayouts.end() ? nullptr : &*it;
}

std::string layout_list() {
  return list_rows(
      kLayouts, [](const UnitLayout& row) { return "\"" + std::string(row.name) + "\""; },
      " or ");
}

const ModelInfo* find_model(std::string_view name) {
  return find_model_where([&](const ModelInfo& m) { return m.name == name; });
}

bool is_known_model(std::string_view model) { return find_model(model) != nullptr; }

std::span<const std::string_view> model_names() { return kModelNames; }

const ModelInfo* model_with_kernel_layout(Layout layout) {
  return find_model_where([&](const ModelInfo& m) {
    return m.kernel_layout != nullptr && m.kernel_layout->layout == layout;
  });
}

const ModelInfo* model_with_generic_number(uint64_t number) {
  return find_model_where([&](const ModelInfo& m) { return m.generic_number == number; });
}

const ModelInfo* model_for_table(PasidTableModel table) {
  return find_model_where([&](const ModelInfo& m) {
    return std::find(m.pasid_tables.begin(), m.pasid_tables.end(), table) !=
           m.pasid_tables.end();
  });
}

bool in_pgtable_family(const ModelInfo& model, std::string_view format) {
  return std::any_of(model.pgtable_families.begin(), model.pgtable_families.end(),
                     [&](std::string_view family) {
                       return family.ends_with('-') ? format.starts_with(family)
                                                    : format == family;
                     });
}

std::string model_list(std::string_view last) {
  return list_rows(kModels, [](const ModelInfo& m) { return m.name; }, last);
}

}  // namespace caps
