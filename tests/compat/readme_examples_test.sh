#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's example sessions, run as written: every code block line that starts with `$ `
# is a command (build/tools/TOOL and a bare tool name both mean the tool under test), and the
# lines after it, up to the next command or the end of the block, are what it prints. Those
# lines must be the output's first lines, exactly; a line that starts with `...` skips ahead,
# and the lines after it must follow later in the output, in order. An example whose tool
# printed something else fails here, so the README cannot show stale output.
# Usage: tests/compat/readme_examples_test.sh IOMMU-COMPAT IOMMU-PROBE
compat=$(realpath "$1")
probe=$(realpath "$2")
. "$(dirname "$0")/lib.sh"

python3 - README.md "$compat" "$probe" <<'EOF'
import shlex, subprocess, sys

readme, compat, probe = sys.argv[1:4]
tools = {"iommu-compat": compat, "iommu-probe": probe}
examples = []  # (line number, command, expected lines)
in_block = False
current = None  # the expected lines of the latest command in this block
for number, line in enumerate(open(readme, encoding="utf-8"), 1):
    line = line.rstrip("\n")
    if line.startswith("```"):
        in_block = not in_block
        current = None
        continue
    if not in_block:
        continue
    if line.startswith("$ "):
        current = []
        examples.append((number, line[2:], current))
    elif current is not None:
        current.append(line)

failures = 0
if not examples:
    print("FAIL: README.md has no example session (a line starting with `$ ` in a code block)")
    sys.exit(1)
for number, command, expected in examples:
    argv = shlex.split(command)
    tool = argv[0].split("/")[-1]
    if tool not in tools:
        print(f"FAIL: README.md:{number}: unknown tool in `{command}`")
        failures += 1
        continue
    run = subprocess.run([tools[tool]] + argv[1:], capture_output=True, text=True)
    actual = run.stdout.split("\n")
    position = 0
    anchored = True  # before the first `...`, lines must match from the output's start
    problem = None
    for want in expected:
        if want.startswith("..."):
            anchored = False
            continue
        if anchored:
            if position >= len(actual) or actual[position] != want:
                got = actual[position] if position < len(actual) else "(end of output)"
                problem = f"line {position + 1} is {got!r}, README shows {want!r}"
                break
            position += 1
        else:
            try:
                position = actual.index(want, position) + 1
            except ValueError:
                problem = f"README shows {want!r}, which the output lacks after line {position}"
                break
    if problem:
        print(f"FAIL: README.md:{number}: `{command}`: {problem}")
        failures += 1
    else:
        print(f"ok: README.md:{number}: `{command}` (exit {run.returncode})")
print(f"{len(examples) - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
EOF
