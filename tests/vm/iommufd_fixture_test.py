#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The recorded iommufd hosts (fake-sysfs/hosts/*-iommufd-*, written by the VM tier's iommufd
cases, docs/iommufd-replay.md) hold together without a VM: each replayed device is a vfio cdev
of a PCI function of the tree, bound to vfio-pci, whose `iommu` link names the unit; the VT-d
registers IOMMU_GET_HW_INFO returned equal the unit's sysfs cap/ecap and the DMAR line of the
kernel log beside the tree; the SMMUv3 ID registers are what QEMU 7.2 builds and agree with the
arm-smmu-v3 line of the log. Runs in the ordinary suite (no label), so the fixtures stay true.

Usage: iommufd_fixture_test.py FIXTURE_DIR...
"""
import os
import re
import sys

sys.dont_write_bytecode = True  # the import must not write __pycache__ into the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_capture as cc  # noqa: E402  (parse_replay, the QEMU 7.2 SMMUv3 values, ok/fail)


def unit_of(tree, bdf):
    link = os.path.join(tree, "sys", "bus", "pci", "devices", bdf, "iommu")
    return os.path.basename(os.readlink(link)) if os.path.islink(link) else None


def cdev_map(tree):
    out = {}
    devs = os.path.join(tree, "sys", "bus", "pci", "devices")
    for bdf in sorted(os.listdir(devs)):
        vd = os.path.join(devs, bdf, "vfio-dev")
        if os.path.isdir(vd):
            for c in os.listdir(vd):
                out[c] = bdf
    return out


def check_host(tree):
    name = os.path.basename(os.path.normpath(tree))
    replay = os.path.join(tree, "iommufd.replay")
    if not os.path.isfile(replay):
        cc.fail(f"{name}: no iommufd.replay")
        return
    rep = cc.parse_replay(cc.read(replay))
    dmesg = cc.read(os.path.join(tree, "dmesg")) if os.path.isfile(os.path.join(tree, "dmesg")) else ""
    (cc.ok if dmesg else cc.fail)(f"{name}: the guest's kernel log is beside the tree")
    (cc.ok if rep["iommu"].get("open") == "OK" else cc.fail)(f"{name}: /dev/iommu opened")
    cdevs = cdev_map(tree)
    (cc.ok if cdevs and len(rep["devices"]) == len(cdevs) else cc.fail)(
        f"{name}: {len(rep['devices'])} devices replayed, {len(cdevs)} vfio cdevs in the tree")
    for d in rep["devices"]:
        bdf = cdevs.get(d["cdev"])
        (cc.ok if bdf and bdf == d["bdf"] else cc.fail)(
            f"{name}: {d['cdev']} is the cdev of {bdf} in the tree (recorded {d['bdf']})")
        if not bdf:
            continue
        drv = os.path.join(tree, "sys", "bus", "pci", "devices", bdf, "driver")
        (cc.ok if os.path.islink(drv) and os.path.basename(os.readlink(drv)) == "vfio-pci" else cc.fail)(
            f"{name}: {bdf} is bound to vfio-pci")
        unit = unit_of(tree, bdf)
        if d.get("hw_info") != "OK" or not unit:
            cc.fail(f"{name}: {bdf} has hw_info {d.get('hw_info')} and unit {unit}")
            continue
        data = bytes.fromhex(d["data"])
        if d["type"] == "1":
            base = os.path.join(tree, "sys", "class", "iommu", unit, "intel-iommu")
            cap = int.from_bytes(data[8:16], "little")
            ecap = int.from_bytes(data[16:24], "little")
            scap = int(cc.read(os.path.join(base, "cap")), 16)
            secap = int(cc.read(os.path.join(base, "ecap")), 16)
            (cc.ok if (cap, ecap) == (scap, secap) else cc.fail)(
                f"{name}: {bdf} GET_HW_INFO cap/ecap {cap:#x}/{ecap:#x}, sysfs {unit} {scap:#x}/{secap:#x}")
            m = re.search(rf"DMAR: {unit}: reg_base_addr \w+ ver \S+ cap (\w+) ecap (\w+)", dmesg)
            (cc.ok if m and (int(m.group(1), 16), int(m.group(2), 16)) == (cap, ecap) else cc.fail)(
                f"{name}: the log's {unit} line has the same cap/ecap")
        elif d["type"] == "2":
            w = cc.le_words(d["data"], 4)
            idr = w[2:8]
            want = [cc.SMMUV3_IDR0, cc.SMMUV3_IDR1, 0, cc.SMMUV3_IDR3, 0, cc.SMMUV3_IDR5]
            (cc.ok if idr == want and w[9] == cc.SMMUV3_AIDR else cc.fail)(
                f"{name}: {bdf} IDR0-5 {[hex(x) for x in idr]} AIDR {w[9]:#x} are QEMU 7.2's")
            (cc.ok if unit.startswith("smmu3.") else cc.fail)(f"{name}: {bdf} is served by {unit}")
            # IDR5.OAS 4 = 44 bits (SMMUv3 spec 6.3.6), which the driver prints as oas.
            m = re.search(r"arm-smmu-v3 \S+: ias (\d+)-bit, oas (\d+)-bit", dmesg)
            oas = {0: 32, 1: 36, 2: 40, 3: 42, 4: 44, 5: 48, 6: 52}.get(idr[5] & 7)
            (cc.ok if m and int(m.group(2)) == oas else cc.fail)(
                f"{name}: the log's oas {m.group(2) if m else '?'}-bit is IDR5.OAS's {oas}")
        else:
            cc.fail(f"{name}: {bdf} out_data_type {d['type']}")


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    for tree in sys.argv[1:]:
        print(f"== {tree}")
        check_host(tree)
    return 1 if cc.failures else 0


if __name__ == "__main__":
    sys.exit(main())
