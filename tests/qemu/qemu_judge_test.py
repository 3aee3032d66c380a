#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Real QEMU is the judge of its own rules: a generated set of vIOMMU option combinations is
# started with the machine's QEMU (-S, no disk, -display none, TCG, a monitor that quits at
# once), each accepted or refused, and `iommu-compat check --qemu-version X.Y` must refuse
# exactly those QEMU refuses (a `vmm.*` finding that fails) on every combination.
# Usage: qemu_judge_test.py IOMMU-COMPAT  (exit 77, skipped, when no QEMU is installed)
#        qemu_judge_test.py IOMMU-COMPAT --chroot MAKE-CHROOT VERSION
#   runs the QEMU of the chroot MAKE-CHROOT prints (made once per machine, Debian 13's QEMU
#   10.0), which must be release VERSION; a chroot that cannot be made fails the test (never a
#   skip). IOMMU_QEMU_TIMEOUT: seconds one QEMU start may take (default 120).
import itertools, json, os, re, shutil, subprocess, sys, time

compat = sys.argv[1]
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
host = os.path.join(root, "fake-sysfs", "hosts", "intel-icx-2s")
timeout = float(os.environ.get("IOMMU_QEMU_TIMEOUT", "120"))
started = time.monotonic()

# How to start a QEMU binary: the machine's own, or the chroot's under chroot(8). chroot rather
# than the chroot's ld.so with --library-path: QEMU then finds its firmware (/usr/share/qemu,
# /usr/share/seabios), its modules and its data exactly where Debian 13 put them, with no -L or
# QEMU_MODULE_DIR overrides that could let the machine's 7.2 files leak in; debootstrap needed
# root anyway, and CI runs as root.
prefix = []
want_version = None
if len(sys.argv) > 2:
    if len(sys.argv) != 5 or sys.argv[2] != "--chroot":
        sys.exit("usage: qemu_judge_test.py IOMMU-COMPAT [--chroot MAKE-CHROOT VERSION]")
    t0 = time.monotonic()
    made = subprocess.run([sys.argv[3]], stdout=subprocess.PIPE, text=True)
    if made.returncode != 0:
        print(f"FAIL: cannot make the QEMU {sys.argv[4]} chroot ({sys.argv[3]} exited "
              f"{made.returncode}): QEMU {sys.argv[4]} is not judged")
        sys.exit(1)
    chroot_dir = made.stdout.strip().splitlines()[-1]
    if os.geteuid() != 0:
        print(f"FAIL: chroot(8) into {chroot_dir} needs root: QEMU {sys.argv[4]} is not judged")
        sys.exit(1)
    print(f"chroot {chroot_dir} ready in {time.monotonic() - t0:.1f} s")
    prefix = ["chroot", chroot_dir]
    want_version = sys.argv[4]


def have(binary):
    if prefix:
        return os.access(os.path.join(prefix[1], "usr", "bin", binary), os.X_OK)
    return shutil.which(binary) is not None


def qemu_version(binary):
    out = subprocess.run(prefix + [binary, "--version"], capture_output=True, text=True).stdout
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
    # x-flts (10.0): needs scalable mode, then aw-bits 48 only (its default when not given).
    for extra in (["x-flts=on"], ["x-flts=on", "x-scalable-mode=on"],
                  ["x-flts=on", "x-scalable-mode=on", "aw-bits=39"],
                  ["x-flts=on", "x-scalable-mode=on", "x-pasid-mode=on"],
                  ["x-flts=on", "x-scalable-mode=on", "caching-mode=on", "device-iotlb=on"],
                  ["x-flts=on", "x-scalable-mode=on", "dma-drain=off"],
                  ["x-flts=off", "x-scalable-mode=on", "aw-bits=39"], ["x-flts=maybe"]):
        out.append((x86, ["-machine", "q35", "-device", ",".join(["intel-iommu"] + extra)]))
    for machine in ("pc", "q35"):
        for device in ("intel-iommu", "amd-iommu", "virtio-iommu-pci"):
            out.append((x86, ["-machine", machine, "-device", device]))
    for opts in ([], ["intremap=on"], ["xtsup=on"], ["device-iotlb=on", "pt=off"]):
        out.append((x86, ["-machine", "q35", "-device", ",".join(["amd-iommu"] + opts)]))
    for opts in (["aw-bits=48"], ["granule=4k"], ["boot-bypass=off"], ["aw-bits=31"],
                 ["aw-bits=64"], ["aw-bits=65"], ["granule=host"], ["granule=2k"]):
        out.append((x86, ["-machine", "q35", "-device", ",".join(["virtio-iommu-pci"] + opts)]))
    out.append((x86, ["-machine", "q35", "-device", "intel-iommu", "-device", "intel-iommu"]))
    out.append((x86, ["-machine", "q35", "-device", "intel-iommu", "-device", "amd-iommu"]))
    out.append((x86, ["-machine", "q35", "-object", "iommufd,id=fd0", "-device", "intel-iommu"]))
    out.append((x86, ["-machine", "q35", "-smp", "256", "-device", "intel-iommu"]))
    # Above 255 vCPUs: x2APIC interrupt remapping (eim, xtsup), and TCG's x2APIC from 9.0.
    out.append((x86, ["-machine", "q35", "-smp", "256", "-device", "intel-iommu,intremap=on,eim=on"]))
    out.append((x86, ["-machine", "q35", "-smp", "256", "-device", "amd-iommu"]))
    out.append((x86, ["-machine", "q35", "-smp", "256", "-device", "amd-iommu,xtsup=on"]))
    out.append((x86, ["-machine", "q35", "-device", "intel-iommu,intremap=on,eim=on"]))
    # From 9.0 TCG has x2APIC, but only in a CPU model that has it (apic_common_set_id).
    for cpu in ("max", "qemu64,+x2apic", "qemu64,x2apic=on", "max,x2apic=off", "qemu64"):
        for device in ("intel-iommu,intremap=on,eim=on", "intel-iommu,eim=off",
                       "amd-iommu,xtsup=on", "amd-iommu"):
            out.append((x86, ["-machine", "q35", "-smp", "256", "-cpu", cpu, "-device", device]))
    out.append((x86, ["-machine", "q35", "-smp", "8", "-m", "1G", "-cpu", "qemu64,phys-bits=40",
                      "-device", "intel-iommu,aw-bits=48"]))
    out.append((x86, ["-machine", "q35,kernel-irqchip=split", "-device",
                      "intel-iommu,intremap=on,eim=on"]))
    for iommu in ("smmuv3", "none", "virtio"):
        out.append((arm, ["-machine", f"virt,iommu={iommu}", "-cpu", "max"]))
    out.append((arm, ["-machine", "virt", "-cpu", "max", "-device", "arm-smmuv3"]))
    out.append((arm, ["-machine", "virt", "-cpu", "max", "-device", "virtio-iommu-pci"]))
    return out


def help_options(binary, device):
    """{option: default} of `-device DEVICE,help`, for the options that show a default."""
    out = subprocess.run(prefix + [binary, "-device", device + ",help"], capture_output=True,
                         text=True).stdout
    options = {}
    for m in re.finditer(r"^  ([\w-]+)=<[^>]*>.*\(default: \"?([^\")]*)\"?\)$", out, re.M):
        options[m.group(1)] = {"true": "on", "false": "off"}.get(m.group(2), m.group(2))
    return options


# Options every -device has, and virtio-pci's own (not the vIOMMU's): never judged here.
kGenericOptions = {"addr", "bus", "romfile", "rombar", "multifunction", "failover_pair_id",
                   "acpi-index", "x-max-bounce-buffer-size", "romsize", "busnr", "class"}


def option_combinations(binary):
    """Each vIOMMU option this QEMU lists, set to its default: QEMU accepts it, so iommu-compat
    must know the option in this release (an unknown one is "not checked", a failure here)."""
    out = []
    generic = set(help_options(binary, "virtio-balloon-pci")) | kGenericOptions
    for device in ("intel-iommu", "amd-iommu", "virtio-iommu-pci"):
        for option, default in sorted(help_options(binary, device).items()):
            if option in generic or not re.fullmatch(r"[\w.-]+", default):
                continue
            out.append((binary, ["-machine", "q35", "-device", f"{device},{option}={default}"]))
    return out


def qemu_accepts(binary, args):
    """True when QEMU realizes every device and reaches its monitor, which quits at once."""
    run = subprocess.run(prefix + [binary, "-S", "-nodefaults", "-display", "none", "-accel", "tcg",
                          "-monitor", "stdio", "-serial", "none"] + args,
                         input="quit\n", capture_output=True, text=True, timeout=timeout)
    # QEMU's own message ("qemu-system-x86_64: -device ...: reason"), not an assertion's header.
    lines = run.stderr.strip().splitlines()
    return run.returncode == 0, ([l for l in lines if l.startswith(binary + ":")] or lines)[:1]


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
judged = combinations()
if have("qemu-system-x86_64"):
    judged += option_combinations("qemu-system-x86_64")
for binary, args in judged:
    if not have(binary):
        if prefix:
            print(f"FAIL: the chroot has no {binary}")
            failures += 1
        continue
    version = versions.setdefault(binary, qemu_version(binary))
    if want_version is not None and version != want_version:
        print(f"FAIL: the chroot's {binary} is QEMU {version}, not {want_version}")
        sys.exit(1)
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
    if not have(binary):
        if prefix:
            print(f"FAIL: the chroot has no {binary}")
            failures += 1
        continue
    version = versions.setdefault(binary, qemu_version(binary))
    if want_version is not None and version != want_version:
        print(f"FAIL: the chroot's {binary} is QEMU {version}, not {want_version}")
        sys.exit(1)
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
print(f"{tested} combinations, {failures} disagreements, "
      f"{time.monotonic() - started:.1f} s for QEMU {', '.join(sorted(set(versions.values())))}")
sys.exit(1 if failures else 0)
