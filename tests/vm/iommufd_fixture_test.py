#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The recorded iommufd hosts (fake-sysfs/hosts/*-iommufd-*, written by the VM tier's iommufd
cases, docs/iommufd-replay.md) hold together without a VM: each replayed device is a vfio cdev
of a PCI function of the tree, bound to vfio-pci, whose `iommu` link names the unit; the VT-d
registers IOMMU_GET_HW_INFO returned equal the unit's sysfs cap/ecap and the DMAR line of the
kernel log beside the tree; the SMMUv3 ID registers are what QEMU 7.2 builds and agree with the
arm-smmu-v3 line of the log. Runs in the ordinary suite (no label), so the fixtures stay true.

Usage: iommufd_fixture_test.py [--probe IOMMU-PROBE] FIXTURE_DIR...
With --probe, also the probe on each tree with its recorded answers, and iommu-compat (beside
it) on guests of the unit's kind.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

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


def check_host(tree, probe=None):
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
            m = cc.SMMU_OAS_LINE.search(dmesg)
            oas = {0: 32, 1: 36, 2: 40, 3: 42, 4: 44, 5: 48, 6: 52}.get(idr[5] & 7)
            (cc.ok if m and int(m.group(1)) == oas else cc.fail)(
                f"{name}: the log's oas {m.group(1) if m else '?'}-bit is IDR5.OAS's {oas}")
        else:
            cc.fail(f"{name}: {bdf} out_data_type {d['type']}")
    if probe:
        check_probe(tree, name, probe)


def check_probe(tree, name, probe):
    """iommu-probe on the tree with the recorded answers (issue 11's done-when, without a VM):
    each unit a device answered for has a known model and its widths; without the answers an
    SMMUv3 has no width and a guest of its kind is undecided; with them (the host report the
    probe writes) it is compatible or incompatible."""
    replay = os.path.join(tree, "iommufd.replay")
    base = [probe, "--backend", "dir", "--sysfs-root", tree]
    with_answers = subprocess.run(base + ["--iommufd-replay", replay, "--format", "json"],
                                  capture_output=True, text=True)
    without = subprocess.run(base + ["--format", "json"], capture_output=True, text=True)
    if with_answers.returncode != 0 or without.returncode != 0:
        cc.fail(f"{name}: iommu-probe exited {with_answers.returncode}/{without.returncode}: "
                f"{with_answers.stderr}{without.stderr}")
        return
    units = json.loads(with_answers.stdout)["units"]
    bare = {u["name"]: u for u in json.loads(without.stdout)["units"]}
    models = set()
    for u in units:
        if not u.get("iommufd"):
            continue
        models.add(u["model"])
        caps = u["caps"]
        need = ("input_bits", "output_bits") if u["model"] == "arm-smmu-v3" else ("input_bits",)
        (cc.ok if u["model"] in cc.IOMMUFD_GUESTS and all(caps[k] is not None for k in need)
         else cc.fail)(f"{name}: {u['name']} with the recorded answers: model {u['model']}, "
                       f"input_bits {caps['input_bits']}, output_bits {caps['output_bits']}")
        if u["model"] == "arm-smmu-v3":
            b = bare.get(u["name"], {}).get("caps", {})
            (cc.ok if b.get("input_bits") is None and b.get("output_bits") is None else cc.fail)(
                f"{name}: {u['name']} without them has no width (sysfs publishes none): {b}")
    (cc.ok if models else cc.fail)(f"{name}: a unit carries the recorded answers ({models})")
    compat = os.path.join(os.path.dirname(probe), "iommu-compat")
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "host.toml")
        with open(report, "w") as f:
            r = subprocess.run(base + ["--iommufd-replay", replay, "--format", "toml"], stdout=f,
                               stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            cc.fail(f"{name}: iommu-probe --format toml exited {r.returncode}: {r.stderr}")
            return
        for model in sorted(models & set(cc.IOMMUFD_GUESTS)):
            for guest in cc.IOMMUFD_GUESTS[model]:
                verdicts = []
                for host in (["--host", report], ["--sysfs-root", tree]):
                    r = subprocess.run([compat, "check", "--format", "json"] + host +
                                       [os.path.join(cc.EXAMPLES, guest)],
                                       capture_output=True, text=True)
                    try:
                        verdicts.append(json.loads(r.stdout)["results"][0]["verdict"])
                    except (ValueError, KeyError, IndexError):
                        verdicts.append(f"no JSON ({r.stderr.strip()})")
                decided = verdicts[0] in ("compatible", "incompatible")
                # Without the answers an SMMUv3 guest cannot be decided: the widths are unknown.
                expect_bare = "undecided" if model == "arm-smmu-v3" else verdicts[0]
                (cc.ok if decided and verdicts[1] == expect_bare else cc.fail)(
                    f"{name}: {guest}: {verdicts[0]} with the recorded answers, "
                    f"{verdicts[1]} on the tree alone")


def main():
    args = sys.argv[1:]
    probe = None
    if args[:1] == ["--probe"] and len(args) > 1:
        probe, args = args[1], args[2:]
    if not args:
        print(__doc__)
        return 2
    for tree in args:
        print(f"== {tree}")
        check_host(tree, probe)
    return 1 if cc.failures else 0


if __name__ == "__main__":
    sys.exit(main())
