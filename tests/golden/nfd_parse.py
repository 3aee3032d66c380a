#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Parses NFD feature files (iommu-probe --format nfd) by Node Feature Discovery's own rules
and fails on anything NFD would drop, warn about or misread.

The rules are those of kubernetes-sigs/node-feature-discovery at v0.20.0-devel-4-g76e6cc8cc
(commit 76e6cc8cc0d54b8bce037098b72611ffdf66ef5a):
- source/local/local.go: getFileContent refuses files over MaxFeatureFileSize (65536 bytes)
  and splits on "\\n"; files whose name starts with "." are skipped (getFeaturesFromFiles).
  parseFeatureFile trims each line; empty lines are skipped; a line starting with "#" is a
  comment, and a directive when it starts with "# +" (parseDirectives: "expiry-time=<RFC3339>",
  "no-label", "no-feature"; any other key is an error). Other lines split on the first "=":
  name=value, a line without "=" is name=true; a later line with the same name overrides.
  Lines after an expired "# +expiry-time=" are dropped.
- pkg/nfd-worker/nfd-worker.go GetFeatureLabels: local names are not mangled, then checked
  with k8s validation.IsQualifiedName and values with validation.IsValidLabelValue (an invalid
  one is ignored).
- pkg/apis/nfd/validate/validate.go Label: a name without a namespace is refused unless the
  master adds feature.node.kubernetes.io/ (nfd-master.go, without DisableAutoPrefix); a
  namespace kubernetes.io or *.kubernetes.io must be feature.node.kubernetes.io,
  profile.node.kubernetes.io or a *.feature.node / *.profile.node subdomain of it.
This checker is stricter than NFD where a file of ours must be: it requires "=" on every
feature line, no duplicate names and an explicit namespace.

Usage: nfd_parse.py [--doc docs/nfd.md] FILE...
         prints each file's label count; exit 1 on the first problem. With --doc, every name
         must match a row of the doc's feature table, and every row must match a name of FILEs.
       nfd_parse.py --self-test
"""
import datetime
import re
import sys

MAX_FEATURE_FILE_SIZE = 65536
NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")  # k8s qualifiedNameFmt
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class Invalid(Exception):
    pass


def check_name(key):
    if "/" not in key:
        raise Invalid(f"{key!r}: no namespace (NFD would add feature.node.kubernetes.io/ "
                      "only without the DisableAutoPrefix gate)")
    ns, name = key.split("/", 1)
    if len(ns) > 253 or not DNS1123_SUBDOMAIN.match(ns):
        raise Invalid(f"{key!r}: namespace is not a DNS-1123 subdomain")
    if len(name) > 63 or not NAME.match(name):
        raise Invalid(f"{key!r}: name is not a qualified name (<= 63 of [A-Za-z0-9._-], "
                      "alphanumeric ends)")
    if ns == "kubernetes.io" or ns.endswith(".kubernetes.io"):
        if ns not in ("feature.node.kubernetes.io", "profile.node.kubernetes.io") and not (
                ns.endswith(".feature.node.kubernetes.io")
                or ns.endswith(".profile.node.kubernetes.io")):
            raise Invalid(f"{key!r}: namespace {ns} is denied")


def check_value(key, value):
    if len(value) > 63 or (value and not NAME.match(value)):
        raise Invalid(f"{key!r}: value {value!r} is not a valid label value")


def parse(data):
    """The labels NFD's local source takes from `data` (bytes)."""
    if len(data) > MAX_FEATURE_FILE_SIZE:
        raise Invalid(f"file size {len(data)} > {MAX_FEATURE_FILE_SIZE}")
    labels = {}
    expired = False
    for raw in data.split(b"\n"):
        line = raw.decode("utf-8").strip()
        if not line:
            continue
        if line.startswith("#"):
            if line.startswith("# +"):
                key, _, value = line[3:].partition("=")
                if key == "expiry-time":
                    value = value.strip()
                    if not RFC3339.match(value):
                        raise Invalid(f"expiry-time {value!r} is not RFC3339")
                    when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
                    expired = when < datetime.datetime.now(datetime.timezone.utc)
                elif key not in ("no-label", "no-feature"):
                    raise Invalid(f"unknown directive {key!r}")
            continue
        if expired:
            continue
        if "=" not in line:
            raise Invalid(f"{line!r}: no '=' (NFD would read it as {line}=true)")
        key, value = line.split("=", 1)
        if key in labels:
            raise Invalid(f"{key!r} given twice")
        check_name(key)
        check_value(key, value)
        labels[key] = value
    return labels


def self_test():
    good = b"# c\n\nfeature.node.kubernetes.io/iommu.present=true\n  x.example.com/a=1  \n"
    assert parse(good) == {"feature.node.kubernetes.io/iommu.present": "true",
                           "x.example.com/a": "1"}
    for bad in (b"feature.node.kubernetes.io/iommu.httu=access+dirty\n",
                b"iommu.present=true\n",
                b"node.kubernetes.io/x=1\n",
                b"feature.node.kubernetes.io/x\n",
                b"feature.node.kubernetes.io/x=1\nfeature.node.kubernetes.io/x=2\n",
                b"feature.node.kubernetes.io/" + b"a" * 64 + b"=1\n",
                b"# +expiry-time=tomorrow\n",
                b"# +expire=2030-01-01T00:00:00Z\n",
                b"#" * (MAX_FEATURE_FILE_SIZE + 1)):
        try:
            parse(bad)
        except Invalid:
            continue
        raise AssertionError(f"accepted {bad[:80]!r}")
    assert parse(b"# +expiry-time=2000-01-01T00:00:00Z\nfeature.node.kubernetes.io/x=1\n") == {}
    print("self-test: ok")


PREFIX = "feature.node.kubernetes.io/"
PLACEHOLDERS = {"[<model>.]": r"(?:[a-z0-9-]+\.)?", "<model>": r"[a-z0-9-]+",
                "<format>": r"[A-Za-z0-9._-]+"}


def doc_rows(path):
    """The feature table of docs/nfd.md as (row text, regex of the names it documents)."""
    rows = []
    for line in open(path, encoding="utf-8"):
        if not line.startswith("| `iommu."):
            continue
        first = line.split("|")[1]
        tokens = re.findall(r"`([^`]+)`", first)
        regex = ""
        rest = tokens[0]
        while rest:
            for ph, rx in PLACEHOLDERS.items():
                if rest.startswith(ph):
                    regex += rx
                    rest = rest[len(ph):]
                    break
            else:
                if rest.startswith("<p>"):
                    regex += "(?:" + "|".join(re.escape(t) for t in tokens[1:]) + ")"
                    rest = rest[3:]
                else:
                    regex += re.escape(rest[0])
                    rest = rest[1:]
        rows.append((tokens[0], re.compile("^" + regex + "$")))
    return rows


def main(argv):
    if argv[1:] == ["--self-test"]:
        self_test()
        return 0
    rows = None
    if len(argv) > 2 and argv[1] == "--doc":
        rows = doc_rows(argv[2])
        argv = argv[:1] + argv[3:]
        if not rows:
            print("no feature table in the doc")
            return 1
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    used = set()
    for path in argv[1:]:
        with open(path, "rb") as f:
            try:
                labels = parse(f.read())
            except Invalid as e:
                print(f"{path}: {e}")
                return 1
        if not labels:
            print(f"{path}: no labels")
            return 1
        for key in labels if rows is not None else ():
            name = key[len(PREFIX):] if key.startswith(PREFIX) else key
            matching = [text for text, rx in rows if rx.match(name)]
            if not matching:
                print(f"{path}: {name} is not in the doc's feature table")
                return 1
            used.update(matching)
        print(f"{path}: {len(labels)} labels")
    for text, _ in rows or ():
        if text not in used:
            print(f"the doc's row {text} matches no name of the files")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
