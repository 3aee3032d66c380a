// SPDX-License-Identifier: MIT
// Tests for tools/iommu-probe/probe_format_json: whole outputs for hand-built hosts.
#include "iommu-probe/probe_format_json.h"

#include <sstream>

#include <gtest/gtest.h>

#include "support/sample_hosts.h"

namespace tools {
namespace {

using caps::testing::amd_unit;
using caps::testing::empty_host;
using caps::testing::generic_unit;
using caps::testing::host_with;
using caps::testing::hostile_unit;
using caps::testing::intel_unit;
using caps::testing::sample_host;
using caps::testing::without_units;

std::string json(const caps::Host& host, bool with_source = true) {
  std::ostringstream out;
  format_json(host, out, with_source);
  return out.str();
}

TEST(FormatJson, IntelUnitWithRegisters) {
  EXPECT_EQ(json(host_with(intel_unit())),
            R"({
  "schema": "iommu-probe/1",
  "source": {"backend": "dir", "sysfs_root": "t"},
  "units": [
    {
      "name": "dmar0",
      "model": "intel-vtd",
      "layout": "intel-iommu",
      "caps": {
        "input_bits": 48,
        "output_bits": null,
        "asid_bits": 16,
        "ssid_bits": 20,
        "httu": "access+dirty",
        "stall": null,
        "btm": null,
        "pgtable_formats": ["vtd-ss-39", "vtd-ss-48", "vtd-fs-48"],
        "nested": true,
        "ats": true,
        "page_requests": true,
        "dirty_tracking": true,
        "scalable_mode": true
      },
      "registers": {
        "cap": {
          "raw": "0x9ed008c40780466",
          "fields": {
            "ND": 6,
            "AFL": 0,
            "RWBF": 0,
            "PLMR": 0,
            "PHMR": 0,
            "CM": 0,
            "SAGAW": 6,
            "MGAW": 47,
            "ZLR": 1,
            "FRO": 512,
            "SLLPS": 3,
            "PSI": 1,
            "NFR": 3,
            "MAMV": 9,
            "DWD": 1,
            "DRD": 1,
            "FL1GP": 1,
            "PI": 1,
            "FL5LP": 0,
            "ESIRTPS": 0,
            "ESRTPS": 0
          }
        },
        "ecap": {
          "raw": "0xf0df",
          "fields": {
            "C": 1,
            "QI": 1,
            "DT": 1,
            "PASID": 1
          },
          "reserved": "0x8000000000000000"
        }
      },
      "properties": {
        "address": "0xd37fc000",
        "version": "6:0"
      },
      "extra": {
        "interrupt_remapping": true,
        "large_pages": 3
      },
      "evidence": {
        "input_bits": "cap.MGAW=47, cap.SAGAW=6",
        "ssid_bits": "ecap.PSS=19"
      },
      "devices": [
        "0000:00:02.0",
        "0000:3b:00.0",
        "0000:3b:00.1"
      ],
      "diagnostics": []
    }
  ],
  "groups": [],
  "devices": [],
  "platform": {
    "acpi_tables": [],
    "cmdline": null,
    "kernel_release": null,
    "why_no_units": []
  },
  "diagnostics": []
}
)");
}

TEST(FormatJson, AmdUnitWithEfr2) {
  EXPECT_EQ(json(host_with(amd_unit())),
            R"({
  "schema": "iommu-probe/1",
  "source": {"backend": "dir", "sysfs_root": "t"},
  "units": [
    {
      "name": "ivhd0",
      "model": "amd-vi",
      "layout": "amd-iommu",
      "caps": {
        "input_bits": 64,
        "output_bits": null,
        "asid_bits": 16,
        "ssid_bits": 16,
        "httu": "access",
        "stall": null,
        "btm": null,
        "pgtable_formats": ["amd-v1-6L", "amd-v2-4L"],
        "nested": false,
        "ats": true,
        "page_requests": true,
        "dirty_tracking": false,
        "scalable_mode": null
      },
      "registers": {
        "cap": {
          "raw": "0x19640f",
          "fields": {
            "CapID": 15,
            "IotlbSup": 1
          }
        },
        "features": {
          "raw": "0x25bf732fa2295afe",
          "fields": {
            "PPRSup": 1,
            "GTSup": 1
          },
          "format": "EFR2:EFR",
          "efr2": {
            "raw": "0x10",
            "fields": {
              "GCR3TRPMode": 0
            },
            "reserved": "0x10"
          }
        }
      },
      "properties": {},
      "extra": {
        "snp": false
      },
      "evidence": {},
      "devices": [
        "0000:c0:00.2"
      ],
      "diagnostics": []
    }
  ],
  "groups": [],
  "devices": [],
  "platform": {
    "acpi_tables": [],
    "cmdline": null,
    "kernel_release": null,
    "why_no_units": []
  },
  "diagnostics": []
}
)");
}

TEST(FormatJson, GenericUnitWithUnknowns) {
  EXPECT_EQ(json(host_with(generic_unit())),
            R"({
  "schema": "iommu-probe/1",
  "source": {"backend": "dir", "sysfs_root": "t"},
  "units": [
    {
      "name": "smmu0",
      "model": "arm-smmu-v3",
      "layout": "generic",
      "caps": {
        "input_bits": 48,
        "output_bits": null,
        "asid_bits": 16,
        "ssid_bits": 0,
        "httu": null,
        "stall": "force",
        "btm": true,
        "pgtable_formats": [],
        "nested": null,
        "ats": null,
        "page_requests": null,
        "dirty_tracking": null,
        "scalable_mode": null
      },
      "registers": {},
      "properties": {
        "model": "2",
        "vendor_quirk": "yes"
      },
      "extra": {},
      "evidence": {},
      "devices": [],
      "diagnostics": [
        {"path": "class/iommu/smmu0/arm-smmu-v3/output_bits", "severity": "warning", "message": "not a decimal number: \"4x\""}
      ]
    }
  ],
  "groups": [],
  "devices": [],
  "platform": {
    "acpi_tables": [],
    "cmdline": null,
    "kernel_release": null,
    "why_no_units": []
  },
  "diagnostics": []
}
)");
}

TEST(FormatJson, HostileNamesStayValidJson) {
  EXPECT_EQ(json(host_with(hostile_unit())),
            R"({
  "schema": "iommu-probe/1",
  "source": {"backend": "dir", "sysfs_root": "t"},
  "units": [
    {
      "name": "evil\"\\\u000a\u001b[2J�",
      "model": "unknown",
      "layout": "none",
      "caps": {
        "input_bits": null,
        "output_bits": null,
        "asid_bits": null,
        "ssid_bits": null,
        "httu": null,
        "stall": null,
        "btm": null,
        "pgtable_formats": null,
        "nested": null,
        "ats": null,
        "page_requests": null,
        "dirty_tracking": null,
        "scalable_mode": null
      },
      "registers": {},
      "properties": {
        "": "empty key",
        "we ird.key\"": "line1\u000aline2\u0009\u0001"
      },
      "extra": {
        "neg": -5,
        "text": "\u007fé"
      },
      "evidence": {},
      "devices": [],
      "diagnostics": []
    }
  ],
  "groups": [],
  "devices": [],
  "platform": {
    "acpi_tables": [],
    "cmdline": null,
    "kernel_release": null,
    "why_no_units": []
  },
  "diagnostics": []
}
)");
}

TEST(FormatJson, GroupsDevicesPlatformAndDiagnostics) {
  EXPECT_EQ(json(without_units(sample_host())),
            R"({
  "schema": "iommu-probe/1",
  "source": {"backend": "dir", "sysfs_root": "fake-sysfs/hosts/sample"},
  "units": [],
  "groups": [
    {
      "id": 3,
      "type": "DMA-FQ",
      "devices": [
        "0000:00:02.0"
      ],
      "reserved_regions": [
        {"start": "0xfee00000", "end": "0xfeefffff", "type": "msi"},
        {"start": "0x7b800000", "end": "0x7fffffff", "type": "direct"}
      ]
    },
    {
      "id": 12,
      "type": null,
      "name": "weird group",
      "devices": [
        "0000:3b:00.0",
        "0000:3b:00.1"
      ],
      "reserved_regions": []
    },
    {
      "id": 20,
      "type": "identity",
      "devices": [
        "0000:00:1f.0"
      ],
      "reserved_regions": []
    }
  ],
  "devices": [
    {
      "name": "0000:00:02.0",
      "unit": "dmar0",
      "group": 3,
      "driver": "i915",
      "pci": {
        "vendor": "0x8086",
        "device": "0x9a49",
        "class": "0x030000",
        "header_type": 0,
        "config_size": null,
        "pasid": {"max_width": 20, "exec": true, "priv": true},
        "ats": true,
        "pri": true
      }
    },
    {
      "name": "0000:00:1f.0",
      "unit": null,
      "group": 20,
      "driver": "lpc_ich",
      "pci": null
    },
    {
      "name": "0000:c0:00.2",
      "unit": "ivhd0",
      "group": null,
      "driver": null,
      "pci": null
    },
    {
      "name": "0000:3b:00.0",
      "unit": "dmar0",
      "group": 12,
      "driver": null,
      "pci": {
        "vendor": "0x8086",
        "device": "0x1572",
        "class": "0x020000",
        "header_type": 0,
        "config_size": null,
        "pasid": null,
        "ats": null,
        "pri": null
      }
    },
    {
      "name": "0000:3b:00.1",
      "unit": "dmar0",
      "group": 12,
      "driver": "i40e",
      "pci": {
        "vendor": "0x8086",
        "device": "0x1572",
        "class": "0x020000",
        "header_type": 1,
        "config_size": null,
        "pasid": false,
        "ats": false,
        "pri": false
      }
    }
  ],
  "platform": {
    "acpi_tables": ["DMAR", "IVRS"],
    "cmdline": "BOOT_IMAGE=/vmlinuz intel_iommu=on",
    "kernel_release": null,
    "why_no_units": []
  },
  "diagnostics": [
    {"path": "kernel/iommu_groups/12/type", "severity": "warning", "message": "missing, group type unknown"},
    {"path": "/proc/cmdline", "severity": "error", "message": "permission denied"}
  ]
}
)");
}

TEST(FormatJson, WithoutSourceForBackendParity) {
  EXPECT_EQ(json(empty_host(), false),
            R"({
  "schema": "iommu-probe/1",
  "units": [],
  "groups": [],
  "devices": [],
  "platform": {
    "acpi_tables": [],
    "cmdline": null,
    "kernel_release": null,
    "why_no_units": [
      "no DMAR, IVRS or IORT table in /sys/firmware/acpi/tables",
      "kernel command line has intel_iommu=off"
    ]
  },
  "diagnostics": []
}
)");
}

TEST(FormatJson, SameHostGivesTheSameBytes) {
  const caps::Host host = sample_host();
  EXPECT_EQ(json(host), json(host));
  EXPECT_EQ(json(host), json(caps::Host(host)));
}

TEST(FormatJson, SourceIsTheOnlyDifferenceBetweenBackends) {
  caps::Host dir = sample_host();
  caps::Host udev = dir;
  udev.backend = "udev";
  udev.root = "/";
  EXPECT_NE(json(dir), json(udev));
  EXPECT_EQ(json(dir, false), json(udev, false));
}

}  // namespace
}  // namespace tools
