# SPDX-License-Identifier: MIT
"""The JSON Schemas in schemas/ held to account with a real validator (Debian's python3-jsonschema).

  schema_test.py validate KIND --probe BIN --compat BIN   every output of KIND on every fixture
  schema_test.py mutate --probe BIN --compat BIN          mutated outputs of every kind fail

KIND is probe-json, probe-check, host-report, compat-json or guest. Run from the repository root
by Debian's /usr/bin/python3 with -I (the tests do), so no other jsonschema is picked up. TOML
documents are parsed with tomllib and validated as the JSON they parse to.
"""
import argparse
import copy
import glob
import json
import os
import subprocess
import sys
import tempfile
import tomllib

try:
    import jsonschema
    from jsonschema import Draft202012Validator
except ImportError:
    sys.exit("schema_test: no jsonschema module for %s: install python3-jsonschema" % sys.executable)

HOSTS = sorted(os.path.dirname(p) for p in glob.glob("fake-sysfs/hosts/*/SOURCE"))
# The VM guests' real kernel logs (iommu-probe --from-log): every format of a log's host too.
LOGS = sorted(glob.glob("tests/kernel-log/logs/*.dmesg"))
EXAMPLES = "tools/iommu-compat/examples"
DEPLOYMENTS = "tools/iommu-compat/deployments"
MODELS = ["intel-vtd", "amd-vi", "arm-smmu-v3", "virtio-iommu"]

SCHEMAS = {
    "probe-json": "schemas/iommu-probe.schema.json",
    "probe-check": "schemas/iommu-probe-check.schema.json",
    "host-report": "schemas/host-report.schema.json",
    "compat-json": "schemas/iommu-compat.schema.json",
    "migrate-json": "schemas/iommu-compat-migrate.schema.json",
    "baseline-json": "schemas/iommu-compat-baseline.schema.json",
    "guest": "schemas/guest.schema.json",
}


def validator(kind):
    """The draft 2020-12 validator of KIND's schema, after checking the schema itself."""
    with open(SCHEMAS[kind]) as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema, default=None)
    if cls is not Draft202012Validator:
        sys.exit(f"{SCHEMAS[kind]}: not a draft 2020-12 schema ($schema {schema.get('$schema')!r})")
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def run(argv, ok=(0,)):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode not in ok:
        sys.exit(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr}")
    return p.stdout


class Outputs:
    """Every output of one kind: (name, document) pairs, documents parsed from JSON or TOML."""

    def __init__(self, probe, compat, work):
        self.probe, self.compat, self.work = probe, compat, work

    def probe_json(self):
        for host in HOSTS:
            for extra in ([], ["--registers"], ["--no-pci-config"]):
                out = run([self.probe, "--sysfs-root", host, "--format", "json"] + extra)
                yield f"{host} json {' '.join(extra)}", json.loads(out)
        for log in LOGS:
            out = run([self.probe, "--from-log", log, "--format", "json"])
            yield f"{log} json", json.loads(out)

    def probe_check(self):
        for host in HOSTS:
            out = run([self.probe, "--sysfs-root", host, "--check", "--format", "json"], ok=(0, 1, 3))
            yield f"{host} --check json", json.loads(out)
        for log in LOGS:
            out = run([self.probe, "--from-log", log, "--check", "--format", "json"], ok=(0, 1, 3))
            yield f"{log} --check json", json.loads(out)

    def reports(self):
        """Host reports written to files (the compat check loads them)."""
        for host in HOSTS:
            for extra in ([], ["--no-pci-config"]):
                path = os.path.join(self.work, os.path.basename(host) + "".join(extra) + ".toml")
                run([self.probe, "--sysfs-root", host, "--format", "toml", "--output", path] + extra)
                yield path
        for log in LOGS:
            path = os.path.join(self.work, os.path.basename(log) + ".toml")
            run([self.probe, "--from-log", log, "--format", "toml", "--output", path])
            yield path

    def host_report(self):
        for path in self.reports():
            with open(path, "rb") as f:
                yield path, tomllib.load(f)

    def compat_json(self):
        trees = [a for host in HOSTS for a in ("--sysfs-root", host)]
        toml_guests = sorted(glob.glob(f"{EXAMPLES}/*.toml"))
        out = run([self.compat, "check", "--format", "json"] + trees + toml_guests, ok=(0, 1, 2, 3))
        yield "example guests x fixture trees", json.loads(out)
        reports = [a for path in self.reports() for a in ("--host", path)]
        vmm = sorted(glob.glob(f"{EXAMPLES}/*.qemu") + glob.glob(f"{EXAMPLES}/*.xml") +
                     glob.glob(f"{EXAMPLES}/*.args"))
        out = run([self.compat, "check", "--format", "json"] + reports + vmm, ok=(0, 1, 2, 3))
        yield "VMM examples x fixture reports", json.loads(out)
        # check --together: each deployment example on its host report, and a deployment that
        # is bad-input (a guest that does not parse).
        lab = f"{DEPLOYMENTS}/lab-host.toml"
        for case in sorted(glob.glob(f"{DEPLOYMENTS}/*/")):
            guests = sorted(glob.glob(f"{case}*"))
            out = run([self.compat, "check", "--format", "json", "--together", "--host", lab]
                      + guests, ok=(0, 1, 2, 3, 5))
            yield f"deployment {os.path.basename(case.rstrip('/'))}", json.loads(out)
        out = run([self.compat, "check", "--format", "json", "--together", "--host", lab,
                   f"{EXAMPLES}/bad-syntax.toml", f"{DEPLOYMENTS}/split-group/web.toml"], ok=(2,))
        yield "deployment with a bad guest", json.loads(out)
        # A host that cannot be loaded: an error without a position.
        out = run([self.compat, "check", "--format", "json", "--host", "/nonexistent.toml",
                   toml_guests[0]], ok=(2,))
        yield "a missing report", json.loads(out)

    def migrate_json(self):
        """Every example guest moved from each host with units to the next and back (a ring:
        every host is a source and a target twice), plus a bad guest and a missing host."""
        with_units = [h for h in HOSTS if os.path.isdir(f"{h}/sys/class/iommu")]
        guests = sorted(p for p in glob.glob(f"{EXAMPLES}/*.toml")
                        if not os.path.basename(p).startswith("bad-"))
        ring = list(zip(with_units, with_units[1:] + with_units[:1]))
        for a, b in ring + [(b, a) for a, b in ring]:
            if True:
                out = run([self.compat, "migrate", "--format", "json", "--from", a, "--to", b]
                          + guests, ok=(0, 1, 3))
                yield f"migrate {a} -> {b}", json.loads(out)
        out = run([self.compat, "migrate", "--format", "json", "--from", with_units[0], "--to",
                   "/nonexistent.toml", f"{EXAMPLES}/bad-values.toml"], ok=(2,))
        yield "migrate to a missing report", json.loads(out)

    def baseline_json(self):
        """Every model over all hosts with units, and over each host alone; and two hosts of
        which one holds the other back (the fixtures together have no single such host)."""
        with_units = [h for h in HOSTS if os.path.isdir(f"{h}/sys/class/iommu")]
        out = run([self.compat, "baseline", "--format", "json", "fake-sysfs/hosts/intel-icx-2s",
                   "fake-sysfs/hosts/intel-client"])
        yield "baseline of a large and a small host", json.loads(out)
        for model in MODELS:
            out = run([self.compat, "baseline", "--format", "json", "--model", model] + with_units)
            yield f"baseline {model} of all", json.loads(out)
            for host in with_units:
                out = run([self.compat, "baseline", "--format", "json", "--model", model, host])
                yield f"baseline {model} of {host}", json.loads(out)

    def guest(self):
        """Good guest files: the examples that are not bad-*, suggest's and convert's output."""
        for path in sorted(glob.glob(f"{EXAMPLES}/*.toml")):
            if not os.path.basename(path).startswith("bad-"):
                with open(path, "rb") as f:
                    yield path, tomllib.load(f)
        with_units = [h for h in HOSTS if os.path.isdir(f"{h}/sys/class/iommu")]
        for model in MODELS:
            for host in with_units:
                out = run([self.compat, "suggest", "--model", model, "--sysfs-root", host])
                yield f"suggest {model} {host}", tomllib.loads(out)
        for path in sorted(glob.glob(f"{EXAMPLES}/*")):
            name = os.path.basename(path)
            if name.endswith(".md") or name.startswith("bad-") or name.endswith(".args"):
                continue
            out = run([self.compat, "convert", "--to", "toml", path], ok=(0, 1))
            yield f"convert {name}", tomllib.loads(out)

    def bad_guests(self):
        """The bad-* examples that are TOML: the schema must refuse each, as the parser does."""
        for path in sorted(glob.glob(f"{EXAMPLES}/bad-*.toml")):
            with open(path, "rb") as f:
                try:
                    yield path, tomllib.load(f)
                except tomllib.TOMLDecodeError:
                    continue  # bad-syntax: not TOML at all

    def of(self, kind):
        return getattr(self, kind.replace("-", "_"))()


def describe(error):
    return "/" + "/".join(str(p) for p in error.absolute_path) + ": " + error.message[:300]


def validate(kind, outputs):
    v = validator(kind)
    count = failures = 0
    for name, doc in outputs.of(kind):
        count += 1
        errors = list(v.iter_errors(doc))
        if errors:
            failures += 1
            print(f"FAIL: {name}: not valid against {SCHEMAS[kind]}")
            for e in errors[:10]:
                print("  " + describe(e))
    if kind == "guest":
        for name, doc in outputs.bad_guests():
            count += 1
            if v.is_valid(doc):
                failures += 1
                print(f"FAIL: {name}: the parser refuses it but {SCHEMAS[kind]} accepts it")
    if count == 0:
        print(f"FAIL: no {kind} output to validate")
        return 1
    print(f"{kind}: {count} documents checked against {SCHEMAS[kind]}, {failures} failed "
          f"(jsonschema {version()}, {sys.executable})")
    return 1 if failures else 0


def version():
    from importlib.metadata import version as v
    return v("jsonschema")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=list(SCHEMAS) + ["mutate"])
    parser.add_argument("--probe", required=True)
    parser.add_argument("--compat", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        outputs = Outputs(os.path.abspath(args.probe), os.path.abspath(args.compat), work)
        if args.what == "mutate":
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves it out
            sys.dont_write_bytecode = True  # no __pycache__ in the source tree
            import mutations
            return mutations.main(outputs, validator)
        return validate(args.what, outputs)


if __name__ == "__main__":
    sys.exit(main())
