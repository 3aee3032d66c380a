#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The manifests under deploy/kubernetes/ are YAML with the fields Kubernetes requires, and the
NodeFeatureRules ask only for features iommu-probe --format nfd writes.

Checked per document: apiVersion, kind, metadata.name (a DNS-1123 subdomain), spec.
DaemonSet (apps/v1): spec.selector.matchLabels, matched by spec.template.metadata.labels;
containers with name and image; every volumeMount names a volume.
NodeFeatureRule (nfd.k8s-sigs.io/v1alpha1, node-feature-discovery api/nfd/v1alpha1/types.go):
spec.rules[] with name and matchFeatures[] of feature + matchExpressions {key: {op, value}},
op one of the MatchOp values, value a list of strings where the op needs one; label names
qualified names. A local.label key must be a name some fixture's nfd golden holds.
Usage: k8s_manifests.py DIR   (needs python3-yaml, a Debian package: tools/setup.sh)
"""
import glob
import os
import re
import sys

import yaml

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
# The MatchOp values and whether the op takes no value (types.go at 76e6cc8cc, v0.20.0-devel:
# MatchAny "" .. MatchIsFalse; Ge, Le and GeLe are newer than Gt, Lt and GtLt).
OPS = {"": True, "In": False, "NotIn": False, "InRegexp": False, "Exists": True,
       "DoesNotExist": True, "Gt": False, "Ge": False, "Lt": False, "Le": False, "GtLt": False,
       "GeLe": False, "IsTrue": True, "IsFalse": True}

errors = []


def need(cond, where, what):
    if not cond:
        errors.append(f"{where}: {what}")
    return cond


def qualified(name):
    prefix, _, rest = name.rpartition("/")
    return (not prefix or DNS1123_SUBDOMAIN.match(prefix)) and len(rest) <= 63 and NAME.match(rest)


def check_daemonset(where, doc):
    need(doc["apiVersion"] == "apps/v1", where, "a DaemonSet is apps/v1")
    spec = doc["spec"]
    match = (spec.get("selector") or {}).get("matchLabels") or {}
    need(match, where, "spec.selector.matchLabels is required")
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    need(all(labels.get(k) == v for k, v in match.items()), where,
         "spec.template.metadata.labels must match spec.selector")
    pod = template.get("spec") or {}
    containers = pod.get("containers") or []
    need(containers, where, "spec.template.spec.containers is required")
    volumes = {v.get("name") for v in pod.get("volumes") or []}
    for c in containers:
        need(c.get("name") and c.get("image"), where, "a container needs name and image")
        for m in c.get("volumeMounts") or []:
            need(m.get("name") in volumes and m.get("mountPath"), where,
                 f"volumeMount {m.get('name')!r} has no volume or mountPath")


def check_rule(where, doc, known):
    need(doc["apiVersion"] == "nfd.k8s-sigs.io/v1alpha1", where,
         "a NodeFeatureRule is nfd.k8s-sigs.io/v1alpha1")
    rules = doc["spec"].get("rules") or []
    need(rules, where, "spec.rules is required")
    for rule in rules:
        need(rule.get("name"), where, "a rule needs a name")
        for label in rule.get("labels") or {}:
            need(qualified(label), where, f"label {label!r} is not a qualified name")
        features = rule.get("matchFeatures") or []
        need(features, where, "a rule needs matchFeatures")
        for f in features:
            need(f.get("feature"), where, "matchFeatures[] needs feature")
            for key, expr in (f.get("matchExpressions") or {}).items():
                op = (expr or {}).get("op")
                if not need(op in OPS, where, f"{key}: op {op!r} is not a MatchOp"):
                    continue
                value = expr.get("value")
                if OPS[op]:
                    need(value is None, where, f"{key}: {op} takes no value")
                else:
                    need(isinstance(value, list) and value and all(isinstance(v, str) for v in value),
                         where, f"{key}: {op} needs a list of strings")
                if f.get("feature") == "local.label":
                    need(key in known, where, f"{key}: iommu-probe --format nfd never writes it")


def main(argv):
    directory = argv[1]
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    known = set()
    for golden in glob.glob(os.path.join(root, "tests", "golden", "*.nfd")):
        for line in open(golden):
            if "=" in line and not line.startswith("#"):
                known.add(line.split("=", 1)[0])
    need(known, "tests/golden", "no nfd goldens")
    kinds = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.yaml"))):
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        for i, doc in enumerate(docs):
            where = f"{os.path.basename(path)}[{i}]"
            if not need(isinstance(doc, dict), where, "not a mapping"):
                continue
            missing = [k for k in ("apiVersion", "kind", "metadata", "spec") if k not in doc]
            if not need(not missing, where, f"missing {missing}"):
                continue
            name = (doc["metadata"] or {}).get("name", "")
            need(isinstance(name, str) and len(name) <= 253 and DNS1123_SUBDOMAIN.match(name),
                 where, f"metadata.name {name!r} is not a DNS-1123 subdomain")
            kind = doc["kind"]
            kinds[kind] = kinds.get(kind, 0) + 1
            if kind == "DaemonSet":
                check_daemonset(where, doc)
            elif kind == "NodeFeatureRule":
                check_rule(where, doc, known)
            else:
                errors.append(f"{where}: kind {kind} is not one this test knows")
    need(kinds.get("DaemonSet") and kinds.get("NodeFeatureRule"), directory,
         "expected a DaemonSet and a NodeFeatureRule")
    for e in errors:
        print("FAIL:", e)
    if not errors:
        print("ok:", ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
