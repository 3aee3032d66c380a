#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Real QEMU is the judge of its own rules: a generated set of vIOMMU option combinations is
# started with the machine's QEMU (-S, no disk, -display none, TCG, a monitor that quits at
# once), each accepted or refused, and `iommu-compat check --qemu-version X.Y` must refuse
# exactly those QEMU refuses (a `vmm.*` finding that fails) on every combination.
# Usage: qemu_judge_test.py IOMMU-COMPAT  (exit 77, skipped, when no QEMU is installed)
import itertools, json, os, re, shutil, subprocess, sys

compat = sys.argv[1]
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
host = os.path.join(root, "fake-sysfs", "hosts", "intel-icx-2s")


def qemu_version(binary):
    out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"version (\d+)\.(\d+)", out)
    return f"{m.group(1)}.{m.group(2)}" if m else None


def combinations():
    """(binary, [args]) pairs: every product of a small set of values per device."""
    x86, arm = "qemu-system-x86_64", "qemu-system-aarch64"
    out = []
    intel = {"aw-bits": [None, "48", "40"], "intremap": [None, "off"], "eim": [None, "on"],
             "x-scalable-mode": [None, "on"], "x-pasid-mode": [None, "on"],
             "device-iotlb": [None, "on"]}
    for values in itertools.product(*intel.values()):
        opts = [f"{k}={v}" for k, v in zip(intel, values) if v is not None]
        out.append((x86, ["-machine", "q35", "-device", ",".join(["intel-iommu"] + opts)]))
    for extra in (["caching-mode=on", "dma-drain=off", "x-scalable-mode=on"],
                  ["x-flts=on", "x-scalable-mode=on", "aw-bits=48"], ["aw-bits=39"],
                  ["x-scalable-mode=maybe"], ["aw-bits=64"], ["intremap=auto", "eim=off"]):
        out.append((x86, ["-machine", "q35", "-device", ",".join(["intel-iommu"] + extra)]))
    for machine in ("pc", "q35"):
        for device in ("intel-iommu", "amd-iommu", "virtio-iommu-pci"):
            out.append((x86, ["-machine", machine, "-device", device]))
    for opts in ([], ["intremap=on"], ["xtsup=on"], ["device-iotlb=on", "pt=off"]):
        out.append((x86, ["-machine", "q35", "-device", ",".join(["amd-iommu"] + opts)]))
    for opts in (["aw-bits=48"], ["granule=4k"], ["boot-bypass=off"]):
        out.append((x86, ["-machine", "q35", "-device", ",".join(["virtio-iommu-pci"] + opts)]))
    out.append((x86, ["-machine", "q35", "-device", "intel-iommu", "-device", "intel-iommu"]))
    out.append((x86, ["-machine", "q35", "-device", "intel-iommu", "-device", "amd-iommu"]))
    out.append((x86, ["-machine", "q35", "-object", "iommufd,id=fd0", "-device", "intel-iommu"]))
    out.append((x86, ["-machine", "q35", "-smp", "256", "-device", "intel-iommu"]))
    out.append((x86, ["-machine", "q35", "-smp", "8", "-m", "1G", "-cpu", "qemu64,phys-bits=40",
                      "-device", "intel-iommu,aw-bits=48"]))
    out.append((x86, ["-machine", "q35,kernel-irqchip=split", "-device",
                      "intel-iommu,intremap=on,eim=on"]))
    for iommu in ("smmuv3", "none", "virtio"):
        out.append((arm, ["-machine", f"virt,iommu={iommu}", "-cpu", "max"]))
    out.append((arm, ["-machine", "virt", "-cpu", "max", "-device", "arm-smmuv3"]))
    out.append((arm, ["-machine", "virt", "-cpu", "max", "-device", "virtio-iommu-pci"]))
    return out


def qemu_accepts(binary, args):
    """True when QEMU realizes every device and reaches its monitor, which quits at once."""
    run = subprocess.run([binary, "-S", "-nodefaults", "-display", "none", "-accel", "tcg",
                          "-monitor", "stdio", "-serial", "none"] + args,
                         input="quit\n", capture_output=True, text=True, timeout=60)
    return run.returncode == 0, run.stderr.strip().splitlines()[:1]


def compat_refuses(version, binary, args):
    run = subprocess.run([compat, "check", "--format", "json", "--qemu-version", version,
                          "--sysfs-root", host, "--qemu-args",
                          " ".join([binary] + args)], capture_output=True, text=True)
    report = json.loads(run.stdout)
    # A command line iommu-compat cannot use is refused too, unless it only lacks a vIOMMU
    # (nothing to check: QEMU runs such a VM).
    failed = [e["message"] for pair in report["results"] for e in pair["errors"]
              if "no vIOMMU" not in e["message"]]
    failed += [f["rule"] + ": " + f["message"] for pair in report["results"]
              for f in pair["findings"] if f["rule"].startswith("vmm.") and f["outcome"] == "fail"]
    unchecked = [f["message"] for pair in report["results"] for f in pair["findings"]
                 if f["outcome"] == "warning" and "not checked" in f["message"]]
    return bool(failed), failed, unchecked


failures = 0
tested = 0
versions = {}
for binary, args in combinations():
    if shutil.which(binary) is None:
        continue
    version = versions.setdefault(binary, qemu_version(binary))
    accepted, reason = qemu_accepts(binary, args)
    refused, why, unchecked = compat_refuses(version, binary, args)
    tested += 1
    line = f"QEMU {version} {' '.join(args)}"
    if unchecked:
        print(f"FAIL: {line}: iommu-compat did not check {unchecked}")
        failures += 1
    elif accepted == (not refused):
        print(f"ok: {line}: {'accepted' if accepted else 'refused'} by both")
    else:
        print(f"FAIL: {line}: QEMU {'accepted' if accepted else 'refused ' + str(reason)}, "
              f"iommu-compat {'refused ' + str(why) if refused else 'accepted'}")
        failures += 1
# What `suggest --format qemu` prints for this QEMU is accepted by it.
for binary, model, fixture in (("qemu-system-x86_64", "intel-vtd", "intel-icx-2s"),
                               ("qemu-system-x86_64", "amd-vi", "amd-zen4-nested"),
                               ("qemu-system-x86_64", "virtio-iommu", "intel-icx-2s"),
                               ("qemu-system-aarch64", "arm-smmu-v3", "arm-smmuv3-nested")):
    if shutil.which(binary) is None:
        continue
    version = versions.setdefault(binary, qemu_version(binary))
    printed = subprocess.run([compat, "suggest", "--format", "qemu", "--qemu-version", version,
                              "--model", model, "--sysfs-root",
                              os.path.join(root, "fake-sysfs", "hosts", fixture)],
                             capture_output=True, text=True).stdout.splitlines()[0]
    accepted, reason = qemu_accepts(binary, printed.split())
    tested += 1
    if accepted:
        print(f"ok: QEMU {version} accepts the suggestion {printed}")
    else:
        print(f"FAIL: QEMU {version} refuses the suggestion {printed}: {reason}")
        failures += 1
if tested == 0:
    print("skip: no qemu-system-x86_64 or qemu-system-aarch64")
    sys.exit(77)
print(f"{tested} combinations, {failures} disagreements")
sys.exit(1 if failures else 0)
