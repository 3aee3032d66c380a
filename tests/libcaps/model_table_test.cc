// SPDX-License-Identifier: MIT
// Tests for the model and layout tables: every row is consistent and the look-ups the readers,
// rules and suggestions make give each vendor's facts.
#include "model/model_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "libcaps/guest.h"

namespace caps {
namespace {

TEST(ModelTableTest, NamesAreTheRowsInOrder) {
  ASSERT_EQ(model_names().size(), kModels.size());
  for (size_t i = 0; i < kModels.size(); ++i) {
    EXPECT_EQ(model_names()[i], kModels[i].name);
    EXPECT_EQ(find_model(kModels[i].name), &kModels[i]);
    EXPECT_TRUE(is_known_model(kModels[i].name));
  }
  EXPECT_EQ(model_list(" or "), "intel-vtd, amd-vi, arm-smmu-v3 or virtio-iommu");
  EXPECT_EQ(model_list(", "), "intel-vtd, amd-vi, arm-smmu-v3, virtio-iommu");
  EXPECT_EQ(find_model(kModelUnknown), nullptr);
  EXPECT_FALSE(is_known_model(kModelUnknown));
  EXPECT_FALSE(is_known_model("Intel-VTD"));
}

TEST(ModelTableTest, RowsAreDistinct) {
  std::set<std::string_view> names;
  std::set<uint64_t> numbers;
  std::set<std::string_view> tables;
  for (const ModelInfo& m : kModels) {
    EXPECT_TRUE(names.insert(m.name).second) << m.name;
    EXPECT_TRUE(numbers.insert(m.generic_number).second) << m.name;
    EXPECT_TRUE(tables.insert(m.firmware_table).second) << m.name;
    EXPECT_EQ(model_with_generic_number(m.generic_number), &m);
  }
  EXPECT_EQ(model_with_generic_number(0), nullptr);
  EXPECT_EQ(model_with_generic_number(5), nullptr);
}

TEST(ModelTableTest, KernelLayoutsPointIntoTheLayoutTable) {
  for (const ModelInfo& m : kModels) {
    if (m.kernel_layout == nullptr) continue;
    EXPECT_GE(m.kernel_layout, kLayouts.data()) << m.name;
    EXPECT_LT(m.kernel_layout, kLayouts.data() + kLayouts.size()) << m.name;
    EXPECT_NE(m.kernel_layout->read, nullptr) << m.name;
    EXPECT_EQ(model_with_kernel_layout(m.kernel_layout->layout), &m);
  }
  EXPECT_EQ(model_with_kernel_layout(Layout::kIntelIommu)->name, kModelIntelVtd);
  EXPECT_EQ(model_with_kernel_layout(Layout::kAmdIommu)->name, kModelAmdVi);
  EXPECT_EQ(model_with_kernel_layout(Layout::kGeneric), nullptr);
  EXPECT_EQ(model_with_kernel_layout(Layout::kNone), nullptr);
}

TEST(ModelTableTest, LayoutsNameThemselves) {
  for (const UnitLayout& l : kLayouts) {
    EXPECT_EQ(&layout_info(l.layout), &l);
    EXPECT_EQ(to_string(l.layout), l.name);
    EXPECT_EQ(l.read == nullptr, l.layout == Layout::kNone) << l.name;
  }
  EXPECT_EQ(to_string(Layout::kIntelIommu), "intel-iommu");
  EXPECT_EQ(to_string(Layout::kAmdIommu), "amd-iommu");
  EXPECT_EQ(to_string(Layout::kGeneric), "generic");
  EXPECT_EQ(to_string(Layout::kNone), "none");
  EXPECT_TRUE(layout_info(Layout::kIntelIommu).omits_output_and_stall);
  EXPECT_TRUE(layout_info(Layout::kAmdIommu).omits_output_and_stall);
  EXPECT_FALSE(layout_info(Layout::kGeneric).omits_output_and_stall);
  EXPECT_FALSE(layout_info(Layout::kNone).omits_output_and_stall);
}

TEST(ModelTableTest, PasidTablesBelongToOneModel) {
  EXPECT_EQ(model_for_table(PasidTableModel::kIntel)->name, kModelIntelVtd);
  EXPECT_EQ(model_for_table(PasidTableModel::kAmd)->name, kModelAmdVi);
  EXPECT_EQ(model_for_table(PasidTableModel::kArm1Lvl)->name, kModelArmSmmuV3);
  EXPECT_EQ(model_for_table(PasidTableModel::kArm2Lvl)->name, kModelArmSmmuV3);
  EXPECT_EQ(model_for_table(PasidTableModel::kHost), nullptr);
  for (const ModelInfo& m : kModels) {
    // A model with a PASID table knows its base alignment, and only SMMUv3 has s1dss.
    EXPECT_EQ(m.pasid_tables.empty(), m.table_alignment == 0) << m.name;
    EXPECT_EQ(m.s1dss, m.name == kModelArmSmmuV3) << m.name;
  }
  EXPECT_EQ(find_model(kModelIntelVtd)->table_alignment, 4096u);
  EXPECT_EQ(find_model(kModelAmdVi)->table_alignment, 4096u);
  EXPECT_EQ(find_model(kModelArmSmmuV3)->table_alignment, 64u);
}

TEST(ModelTableTest, PageTableFamilies) {
  const ModelInfo& vtd = *find_model(kModelIntelVtd);
  const ModelInfo& amd = *find_model(kModelAmdVi);
  const ModelInfo& smmu = *find_model(kModelArmSmmuV3);
  const ModelInfo& virtio = *find_model(kModelVirtioIommu);
  EXPECT_TRUE(in_pgtable_family(vtd, "vtd-fs-48"));
  EXPECT_TRUE(in_pgtable_family(vtd, "vtd-ss-57"));
  EXPECT_FALSE(in_pgtable_family(vtd, "amd-v1-6L"));
  EXPECT_TRUE(in_pgtable_family(amd, "amd-v2-4L"));
  EXPECT_TRUE(in_pgtable_family(smmu, "lpae-s1-48"));
  EXPECT_TRUE(in_pgtable_family(smmu, "v7s"));
  EXPECT_FALSE(in_pgtable_family(smmu, "v7s-long"));  // "v7s" is one format, not a prefix
  EXPECT_FALSE(in_pgtable_family(smmu, "vtd-fs-48"));
  EXPECT_FALSE(in_pgtable_family(virtio, "lpae-s1-48"));
  EXPECT_TRUE(virtio.paravirtual);
  EXPECT_EQ(std::count_if(kModels.begin(), kModels.end(),
                          [](const ModelInfo& m) { return m.paravirtual; }),
            1);
}

// platform.cc names every model's firmware table and its vendor, and the firmware switch of
// every model that has one, when a host has no unit and no table: each row must say them.
TEST(ModelTable, EveryModelNamesItsVendorAndAllButParavirtualItsFirmwareSwitch) {
  for (const ModelInfo& model : kModels) {
    EXPECT_FALSE(model.vendor.empty()) << model.name;
    EXPECT_FALSE(model.firmware_table.empty()) << model.name;
    EXPECT_EQ(model.firmware_switch.empty(), model.paravirtual) << model.name;
  }
}

TEST(ModelTable, ListOf) {
  EXPECT_EQ(list_of(std::vector<std::string>{}, " or "), "");
  EXPECT_EQ(list_of(std::vector<std::string>{"a"}, " or "), "a");
  EXPECT_EQ(list_of(std::vector<std::string>{"a", "b", "c"}, " or "), "a, b or c");
  EXPECT_EQ(layout_list(), R"("intel-iommu", "amd-iommu", "generic" or "none")");
}

}  // namespace
}  // namespace caps
