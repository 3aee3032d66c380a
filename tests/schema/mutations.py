# SPDX-License-Identifier: MIT
"""Mutated outputs must fail their schema: schema_test.py mutate.

Every node of the real outputs (each path pattern once, list indices and map keys as *) is
mutated in turn and validated again: an unknown key in every object, an unknown name in every
map, every key deleted, every value of the wrong type, every string replaced by a word, every
hex string made bad, every integer moved just outside its range. What is allowed to pass is
listed below per schema (optional keys, free-text strings, integer ranges); an entry that no
output exercises is an error too, so the lists cannot go stale.
"""
import copy
import os
import re

HEX = re.compile(r"^0x[0-9a-fA-F]+$")
WORD = "zz-not-a-value"
U63 = 2**63 - 1
U64 = 2**64 - 1


class Spec:
    def __init__(self, maps=(), optional=(), free_text=(), ranges=None, loose=(), unchecked=(),
                 augment=None, slim=True):
        self.maps = set(maps)            # objects keyed by names (their keys are *)
        self.optional = set(optional)    # keys that may be left out
        self.free_text = set(free_text)  # strings that may hold any word
        self.ranges = ranges or {}       # every integer: (lowest, highest or None)
        self.loose = set(loose)          # values of several types (a wrong type may pass)
        self.unchecked = set(unchecked)  # strings whose validity depends on a sibling
        self.augment = augment           # adds what no fixture writes, as the writer would
        self.slim = slim                 # False: lists are ordered (prefixItems), keep them whole


WIDTH_ADDRESS = (1, 64)
WIDTH_ID = (0, 32)


def probe_augment(doc):
    """Parts the fixtures never show: a host diagnostic, a named group whose devices could not
    be listed, a device whose driver link could not be read, EFR2 with reserved bits."""
    doc = copy.deepcopy(doc)
    doc["diagnostics"].append({"path": "/proc/cmdline", "severity": "error", "message": "x"})
    group = doc["groups"][0]
    group["name"] = "vfio"
    group["devices_known"] = False
    group["reserved_regions_known"] = False
    doc["devices"][0]["driver_known"] = False
    return doc


def report_augment(doc):
    doc = copy.deepcopy(doc)
    doc["diagnostic"] = [{"path": "/proc/cmdline", "severity": "error", "message": "x"}]
    group = doc["group"][0]
    group["name"] = "vfio"
    group["devices_known"] = False
    group["reserved_regions_known"] = False
    doc["device"][0]["driver_known"] = False
    return doc


def guest_augment(doc):
    """No example names its units (they come from the devices), nor sets every [memory] key."""
    doc = copy.deepcopy(doc)
    doc["viommu"]["units"] = ["dmar0", "dmar1"]
    doc.setdefault("memory", {}).update({"size": 1 << 34, "phys_bits": 46,
                                         "above_4g_start": 1 << 32})
    return doc


SPECS = {
    "probe-json": Spec(
        maps=["/units/*/registers", "/units/*/registers/*/fields",
              "/units/*/registers/*/efr2/fields", "/units/*/properties", "/units/*/extra",
              "/units/*/evidence"],
        optional=["/source", "/groups/*/name", "/groups/*/devices_known", "/groups/*/reserved_regions_known",
                  "/devices/*/driver_known", "/units/*/registers/*/reserved",
                  "/units/*/registers/*/format", "/units/*/registers/*/efr2",
                  "/units/*/registers/*/efr2/reserved"],
        free_text=["/source/sysfs_root", "/units/*/name", "/units/*/properties/*",
                   "/units/*/extra/*", "/units/*/evidence/*", "/units/*/caps/pgtable_formats/*",
                   "/units/*/devices/*", "/units/*/diagnostics/*/path",
                   "/units/*/diagnostics/*/message", "/groups/*/type", "/groups/*/name",
                   "/groups/*/devices/*", "/groups/*/reserved_regions/*/type", "/devices/*/name",
                   "/devices/*/unit", "/devices/*/driver", "/platform/cmdline",
                   "/platform/kernel_release", "/platform/why_no_units/*",
                   "/diagnostics/*/path", "/diagnostics/*/message"],
        ranges={
            "/units/*/caps/input_bits": WIDTH_ADDRESS, "/units/*/caps/output_bits": WIDTH_ADDRESS,
            "/units/*/caps/asid_bits": WIDTH_ID, "/units/*/caps/ssid_bits": WIDTH_ID,
            "/units/*/registers/*/fields/*": (0, U64),
            "/units/*/registers/*/efr2/fields/*": (0, U64),
            "/units/*/extra/*": (None, None),
            "/groups/*/id": (0, U64), "/devices/*/group": (0, U64),
            "/devices/*/pci/header_type": (0, 127), "/devices/*/pci/config_size": (1, 4096),
            "/devices/*/pci/pasid/max_width": (0, 31),
        },
        loose=["/units/*/extra/*"],
        augment=probe_augment),
    "probe-check": Spec(
        slim=False,
        free_text=["/host/root", "/checks/*/title", "/checks/*/detail", "/findings/*/title",
                   "/findings/*/detail", "/findings/*/hint"],
        unchecked=["/checks/*/hint"]),
    "host-report": Spec(
        maps=["/unit/*/register/*/fields", "/unit/*/register/*/efr2/fields",
              "/unit/*/properties", "/unit/*/extra", "/unit/*/evidence"],
        optional=["/source", "/platform", "/unit", "/group", "/device", "/diagnostic",
                  "/platform/acpi_tables", "/platform/cmdline", "/platform/kernel_release",
                  "/platform/why_no_units", "/source/backend", "/source/sysfs_root",
                  "/unit/*/devices", "/unit/*/caps", "/unit/*/evidence", "/unit/*/register",
                  "/unit/*/properties", "/unit/*/extra", "/unit/*/diagnostic",
                  "/unit/*/caps/input_bits", "/unit/*/caps/output_bits", "/unit/*/caps/asid_bits",
                  "/unit/*/caps/ssid_bits", "/unit/*/caps/httu", "/unit/*/caps/stall",
                  "/unit/*/caps/btm", "/unit/*/caps/pgtable_formats", "/unit/*/caps/nested",
                  "/unit/*/caps/ats", "/unit/*/caps/page_requests", "/unit/*/caps/dirty_tracking",
                  "/unit/*/caps/scalable_mode", "/unit/*/register/*/reserved",
                  "/unit/*/register/*/fields", "/unit/*/register/*/format",
                  "/unit/*/register/*/efr2", "/unit/*/register/*/efr2/fields",
                  "/unit/*/register/*/efr2/reserved",
                  "/group/*/type", "/group/*/name", "/group/*/devices", "/group/*/devices_known", "/group/*/reserved_regions_known",
                  "/group/*/reserved_regions", "/device/*/unit", "/device/*/group",
                  "/device/*/driver", "/device/*/driver_known", "/device/*/pci",
                  "/device/*/pci/config_size", "/device/*/pci/pasid", "/device/*/pci/ats",
                  "/device/*/pci/pri"],
        free_text=["/source/backend", "/source/sysfs_root", "/unit/*/name",
                   "/unit/*/properties/*", "/unit/*/extra/*", "/unit/*/evidence/*",
                   "/unit/*/caps/pgtable_formats/*", "/unit/*/devices/*",
                   "/unit/*/diagnostic/*/path", "/unit/*/diagnostic/*/message", "/group/*/type",
                   "/group/*/name", "/group/*/devices/*", "/group/*/reserved_regions/*/type",
                   "/device/*/name", "/device/*/unit", "/device/*/driver", "/platform/cmdline",
                   "/platform/kernel_release", "/platform/why_no_units/*",
                   "/diagnostic/*/path", "/diagnostic/*/message"],
        ranges={
            "/unit/*/caps/input_bits": WIDTH_ADDRESS, "/unit/*/caps/output_bits": WIDTH_ADDRESS,
            "/unit/*/caps/asid_bits": WIDTH_ID, "/unit/*/caps/ssid_bits": WIDTH_ID,
            "/unit/*/register/*/fields/*": (0, U63),
            "/unit/*/register/*/efr2/fields/*": (0, U63),
            "/unit/*/extra/*": (None, None),
            "/group/*/id": (0, U63), "/device/*/group": (0, U63),
            "/device/*/pci/header_type": (0, 127), "/device/*/pci/config_size": (1, 4096),
            "/device/*/pci/pasid/max_width": (0, 31),
            "/end/units": (0, None), "/end/groups": (0, None), "/end/devices": (0, None),
            "/end/diagnostics": (0, None),
        },
        loose=["/unit/*/extra/*"],
        augment=report_augment),
    "compat-json": Spec(
        free_text=["/results/*/guest", "/results/*/host", "/results/*/errors/*/file",
                   "/results/*/errors/*/message", "/results/*/findings/*/guest_key",
                   "/results/*/findings/*/file", "/results/*/findings/*/unit",
                   "/results/*/findings/*/evidence", "/results/*/findings/*/message",
                   "/results/*/findings/*/hint",
                   # check --together: the deployment object
                   "/deployment/host", "/deployment/guests/*", "/deployment/errors/*/file",
                   "/deployment/errors/*/message", "/deployment/findings/*/guests/*/guest",
                   "/deployment/findings/*/guests/*/guest_key", "/deployment/findings/*/unit",
                   "/deployment/findings/*/device", "/deployment/findings/*/evidence",
                   "/deployment/findings/*/message", "/deployment/findings/*/hint"],
        optional=["/deployment"],
        ranges={
            "/exit_code": (0, 3), "/results/*/exit_code": (0, 3),
            "/deployment/exit_code": (0, 5), "/deployment/findings/*/group": (0, None),
            "/deployment/errors/*/line": (1, None), "/deployment/errors/*/column": (1, None),
            "/deployment/findings/*/guests/*/line": (1, None),
            "/deployment/findings/*/guests/*/column": (1, None),
            "/results/*/errors/*/line": (1, None), "/results/*/errors/*/column": (1, None),
            "/results/*/findings/*/line": (1, None), "/results/*/findings/*/column": (1, None),
        }),
    "migrate-json": Spec(
        free_text=["/from", "/to", "/results/*/guest", "/results/*/errors/*/file",
                   "/results/*/errors/*/message", "/results/*/blockers/*/guest_key",
                   "/results/*/blockers/*/unit", "/results/*/blockers/*/also_on/*",
                   "/results/*/blockers/*/message", "/results/*/blockers/*/evidence",
                   "/results/*/blockers/*/source_evidence", "/results/*/blockers/*/hint"],
        ranges={
            "/exit_code": (0, 3), "/results/*/exit_code": (0, 3),
            "/results/*/errors/*/line": (1, None), "/results/*/errors/*/column": (1, None),
            "/results/*/blockers/*/line": (1, None), "/results/*/blockers/*/column": (1, None),
        }),
    "baseline-json": Spec(
        optional=["/guest/input_bits", "/guest/output_bits", "/guest/asid_bits",
                  "/guest/ssid_bits", "/guest/httu", "/guest/stall", "/guest/btm",
                  "/guest/pgtable_format", "/guest/nested", "/guest/ats",
                  "/guest/page_requests", "/guest/dirty_tracking"],
        free_text=["/guest_file", "/guest/pgtable_format", "/notes/*/reason", "/hosts/*/host",
                   "/holding_back/*", "/hosts/*/adds/*/fleet", "/hosts/*/adds/*/host",
                   "/hosts/*/holds_back/*/fleet", "/hosts/*/holds_back/*/without"],
        ranges={
            "/guest/input_bits": WIDTH_ADDRESS, "/guest/output_bits": WIDTH_ADDRESS,
            "/guest/asid_bits": WIDTH_ID, "/guest/ssid_bits": WIDTH_ID,
        }),
    "guest": Spec(
        maps=[],
        optional=["/format", "/device", "/pasid_table", "/pasid_alloc",
                  "/viommu/input_bits", "/viommu/output_bits", "/viommu/asid_bits",
                  "/viommu/ssid_bits", "/viommu/httu", "/viommu/stall", "/viommu/btm",
                  "/viommu/pgtable_format", "/viommu/nested", "/viommu/ats",
                  "/viommu/page_requests", "/viommu/dirty_tracking", "/viommu/units",
                  "/pasid_table/s1dss", "/pasid_alloc/quota", "/stage1",
                  "/stage1/addr_width", "/stage1/sre", "/stage1/eafe", "/stage1/wpe",
                  "/stage1/pgtbl_addr", "/stage1/config", "/stage1/s1fmt", "/stage1/s1cdmax",
                  "/stage1/s1dss", "/stage1/s1_context_ptr", "/stage1/eats", "/vfio", "/vfio/backend",
                  "/memory", "/memory/size",
                  "/memory/phys_bits", "/memory/above_4g_start"],
        free_text=["/viommu/pgtable_format", "/viommu/units/*", "/device/*/bdf"],
        ranges={
            "/format": (1, 1), "/viommu/input_bits": WIDTH_ADDRESS,
            "/viommu/output_bits": WIDTH_ADDRESS, "/viommu/asid_bits": WIDTH_ID,
            "/viommu/ssid_bits": WIDTH_ID, "/pasid_table/version": (0, None),
            "/pasid_table/bytes": (0, None), "/pasid_table/base_ptr": (0, None),
            "/pasid_table/pasid_bits": (0, 255), "/pasid_alloc/min": (0, None),
            "/pasid_alloc/max": (0, None), "/pasid_alloc/count": (0, None),
            "/pasid_alloc/quota": (0, None), "/stage1/addr_width": (0, 64),
            "/stage1/s1cdmax": (0, 31), "/stage1/pgtbl_addr": (0, None),
            "/stage1/s1_context_ptr": (0, None),
            "/pasid_alloc/quota": (0, None), "/memory/size": (1, None),
            "/memory/phys_bits": (1, 64), "/memory/above_4g_start": (4294967296, None),
        },
        augment=guest_augment),
}


def wrong_type(value):
    """A value of another JSON type, one the schemas never accept in its place."""
    if isinstance(value, bool):
        return "true"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return 7
    if value is None:
        return {"unknown_key": 1}
    return "x"  # an array, an object


def nodes(doc, maps):
    """(path, pattern, value) for every node; the root's path is ()."""
    out = []

    def walk(path, pattern, value):
        out.append((path, pattern or "/", value))
        if isinstance(value, dict):
            is_map = (pattern or "/") in maps
            for k in list(value):
                walk(path + (k,), pattern + "/" + ("*" if is_map else k), value[k])
        elif isinstance(value, list):
            for i in range(len(value)):
                walk(path + (i,), pattern + "/*", value[i])

    walk((), "", doc)
    return out


class Slim:
    """A small document to mutate one node in: the node and the objects on the way to it, with
    every list elsewhere cut to its first element (validation of a whole compat document takes
    half a second; the schemas relate no two elements of a list, so the verdict is the same)."""

    def __init__(self):
        self.memo = {}

    def prune(self, value):
        key = id(value)
        if key not in self.memo:
            if isinstance(value, dict):
                out = {k: self.prune(v) for k, v in value.items()}
            elif isinstance(value, list):
                out = [self.prune(value[0])] if value else []
            else:
                out = value
            self.memo[key] = (value, out)  # holds value so its id is not reused
        return self.memo[key][1]

    def shallow(self, value):
        if isinstance(value, dict):
            return {k: self.prune(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.prune(v) for v in value]
        return value

    def view(self, doc, path):
        """(root, container, key, node): container[key] is node, a copy of the node at path."""
        if not path:
            node = self.shallow(doc)
            return node, None, None, node
        root = self.shallow(doc) if isinstance(doc, dict) else [self.prune(doc[path[0]])]
        container, value = root, doc
        for i, step in enumerate(path):
            value = value[step]
            at = step if isinstance(container, dict) else 0
            if i + 1 == len(path):
                node = self.shallow(value)
                container[at] = node
                return root, container, at, node
            if isinstance(value, dict):
                nxt = self.shallow(value)
            else:
                nxt = [None]
            container[at] = nxt
            container = nxt


class Mutator:
    def __init__(self, kind, spec, validator):
        self.kind, self.spec, self.v = kind, spec, validator
        self.done = set()  # (check, pattern)
        self.used = set()  # list entries exercised
        self.count = 0
        self.failures = []

    def expect(self, doc, what, pattern, should_pass):
        self.count += 1
        ok = self.v.is_valid(doc)
        if ok != should_pass:
            verdict = "accepted" if ok else "refused"
            self.failures.append(f"{self.kind}: {pattern}: {what}: {verdict}")

    def once(self, check, pattern):
        if (check, pattern) in self.done:
            return False
        self.done.add((check, pattern))
        return True

    def replace(self, doc, container, key, pattern, value, what, should_pass):
        old = container[key]
        container[key] = value
        self.expect(doc, what, pattern, should_pass)
        container[key] = old

    def pending(self, pattern, value):
        """Whether a check this node would get has not been made yet (each pattern gets each
        check once, at its first value that the check applies to)."""
        spec = self.spec
        checks = [] if pattern == "/" else ["type"]
        if isinstance(value, dict):
            if pattern in spec.maps:
                checks += ["name"] if value else []
            else:
                base = pattern if pattern != "/" else ""
                if any(("delete", base + "/" + k) not in self.done for k in value):
                    return True
                checks.append("key")
        elif isinstance(value, str):
            checks += [] if pattern in spec.unchecked else ["word"]
            checks += ["hex"] if HEX.match(value) and pattern not in spec.free_text else []
        elif isinstance(value, int) and not isinstance(value, bool):
            checks.append("int")
        return any((c, pattern) not in self.done for c in checks)

    def run(self, doc):
        spec = self.spec
        slim = Slim()
        for path, pattern, original in nodes(doc, spec.maps):
            if not self.pending(pattern, original):
                continue
            if spec.slim:
                doc_, container, key, value = slim.view(doc, path)
            else:
                doc_ = copy.deepcopy(doc)
                container, key, value = None, None, doc_
                for step in path:
                    container, key, value = value, step, value[step]
            self.mutate(doc_, container, key, pattern, value)

    def mutate(self, doc, container, key, pattern, value):
        spec = self.spec
        if isinstance(value, dict):
            self.object(doc, pattern, value)
        if container is None:
            return
        if self.once("type", pattern):
            loose = pattern in spec.loose
            self.used.add(("loose", pattern)) if loose else None
            self.replace(doc, container, key, pattern, wrong_type(value),
                         f"wrong type {wrong_type(value)!r}", loose)
        if isinstance(value, str):
            self.string(doc, container, key, pattern, value)
        if isinstance(value, int) and not isinstance(value, bool):
            self.integer(doc, container, key, pattern)

    def object(self, doc, pattern, value):
        spec = self.spec
        is_map = pattern in spec.maps
        if is_map and value and self.once("name", pattern):
            sample = next(iter(value.values()))
            value["unknown key!"] = sample
            self.expect(doc, "unknown name 'unknown key!'", pattern, False)
            del value["unknown key!"]
        if not is_map and self.once("key", pattern):
            value["unknown_key"] = 1
            self.expect(doc, "unknown key 'unknown_key'", pattern, False)
            del value["unknown_key"]
        if is_map:
            return
        for k in list(value):
            child = (pattern if pattern != "/" else "") + "/" + k
            if not self.once("delete", child):
                continue
            optional = child in spec.optional
            self.used.add(("optional", child)) if optional else None
            old = value.pop(k)
            self.expect(doc, "deleted", child, optional)
            value[k] = old

    def string(self, doc, container, key, pattern, value):
        spec = self.spec
        if pattern not in spec.unchecked and self.once("word", pattern):
            free = pattern in spec.free_text
            self.used.add(("free_text", pattern)) if free else None
            self.replace(doc, container, key, pattern, WORD, f"the word {WORD!r}", free)
        if HEX.match(value) and pattern not in spec.free_text and self.once("hex", pattern):
            for bad in ("0xzz", value[2:], "0x" + "1" * 17, "0x", "0x-1", " " + value):
                self.replace(doc, container, key, pattern, bad, f"bad hex {bad!r}", False)

    def integer(self, doc, container, key, pattern):
        if not self.once("int", pattern):
            return
        if pattern not in self.spec.ranges:
            self.failures.append(f"{self.kind}: {pattern}: an integer with no range in mutations.py")
            return
        self.used.add(("ranges", pattern))
        lo, hi = self.spec.ranges[pattern]
        if lo is not None:
            self.replace(doc, container, key, pattern, lo, f"lowest {lo}", True)
            self.replace(doc, container, key, pattern, lo - 1, f"below range {lo - 1}", False)
        if hi is not None:
            self.replace(doc, container, key, pattern, hi, f"highest {hi}", True)
            self.replace(doc, container, key, pattern, hi + 1, f"above range {hi + 1}", False)

    def stale(self):
        out = []
        for name in ("optional", "free_text", "ranges", "loose"):
            for pattern in sorted(getattr(self.spec, name)):
                if (name, pattern) not in self.used:
                    out.append(f"{self.kind}: {name} lists {pattern}, which no output exercised")
        return out


def main(outputs, make_validator):
    failures = []
    total = 0
    for kind, spec in SPECS.items():
        v = make_validator(kind)
        m = Mutator(kind, spec, v)
        docs = 0
        for name, doc in outputs.of(kind):
            if not v.is_valid(doc):
                failures.append(f"{kind}: {name}: the original is not valid")
                continue
            docs += 1
            m.run(doc)
            if spec.augment and docs == 1:
                extra = spec.augment(doc)
                if not v.is_valid(extra):
                    failures.append(f"{kind}: {name}: the augmented document is not valid")
                m.run(extra)
        failures += m.failures + m.stale()
        print(f"{kind}: {m.count} mutations of {docs} documents")
        total += m.count
    for f in failures:
        print("FAIL: " + f)
    print(f"{total} mutations, {len(failures)} failed")
    return 1 if failures else 0
