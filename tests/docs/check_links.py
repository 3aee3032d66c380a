#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks the relative links of Markdown files: each must name a file or directory that exists
inside the repository, and a #fragment into a Markdown file must name one of its headings (the
slug GitHub gives it) or an explicit HTML anchor. Links with a scheme (https:, mailto:) are not
followed. Code spans and fenced code blocks are skipped, as GitHub renders no links there.

Usage: check_links.py ROOT FILE.md...   (FILE relative to ROOT or absolute)
Prints one line per broken link, "file:line: target: why", and exits 1 if there is any."""
import os
import re
import sys
import urllib.parse

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
# [text](target) and ![alt](target); the target may be <...> and may carry a "title".
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"
                    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
REFDEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HTML_ANCHOR = re.compile(r"<a\s[^>]*(?:name|id)\s*=\s*[\"']([^\"']+)[\"']", re.I)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def strip_code_spans(line):
    """The line with every `code span` blanked out (same length, so columns stay)."""
    out = []
    i = 0
    while i < len(line):
        if line[i] == "`":
            run = len(line[i:]) - len(line[i:].lstrip("`"))
            ticks = "`" * run
            end = line.find(ticks, i + run)
            while end != -1 and end + run < len(line) and line[end + run] == "`":
                end = line.find(ticks, end + run + 1)
            if end == -1:
                out.append(line[i:i + run])
                i += run
                continue
            out.append(" " * (end + run - i))
            i = end + run
            continue
        out.append(line[i])
        i += 1
    return "".join(out)


def prose_lines(text):
    """(line number, line) for every line outside fenced code blocks."""
    fence = None
    for number, line in enumerate(text.split("\n"), 1):
        m = FENCE.match(line)
        if fence is None:
            if m:
                fence = m.group(1)
                continue
            yield number, line
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and \
                line.strip() == m.group(1):
            fence = None


def slug(heading):
    """GitHub's anchor for a heading: rendered text, lowercased, punctuation dropped, spaces
    to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links -> their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("`", "").replace("*", "")
    text = text.strip().lower()
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def anchors(text):
    """Every anchor a Markdown file defines: heading slugs (duplicates numbered -1, -2, ... as
    GitHub does) and <a name/id> anchors."""
    found = set()
    counts = {}
    previous = None
    for _, line in prose_lines(text):
        heading = None
        m = ATX.match(line)
        if m:
            heading = m.group(2)
        elif previous is not None and previous.strip() and SETEXT.match(line) and \
                not ATX.match(previous) and not previous.lstrip().startswith(("-", "*", ">", "|")):
            heading = previous.strip()
        if heading is not None:
            base = slug(heading)
            n = counts.get(base, 0)
            counts[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
        for a in HTML_ANCHOR.finditer(line):
            found.add(a.group(1).lower())
        previous = line
    return found


def links(text):
    """(line number, target) of every link outside code."""
    for number, line in prose_lines(text):
        prose = strip_code_spans(line)
        for m in INLINE.finditer(prose):
            yield number, m.group(1)
        m = REFDEF.match(prose)
        if m:
            yield number, m.group(1)


def check(root, path, anchor_cache):
    problems = []
    root = os.path.realpath(root)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    shown = os.path.relpath(path, root)
    for number, target in links(text):
        if target.startswith("<") and target.endswith(">"):
            target = target[1:-1]
        if not target or SCHEME.match(target) or target.startswith("//"):
            continue
        file_part, _, fragment = target.partition("#")
        file_part = urllib.parse.unquote(file_part.split("?", 1)[0])
        if file_part.startswith("/"):
            resolved = os.path.join(root, file_part.lstrip("/"))
        elif file_part:
            resolved = os.path.join(os.path.dirname(path), file_part)
        else:
            resolved = path
        resolved = os.path.realpath(resolved)
        where = f"{shown}:{number}: {target}"
        if resolved != root and not resolved.startswith(root + os.sep):
            problems.append(f"{where}: points outside the repository")
            continue
        if not os.path.exists(resolved):
            problems.append(f"{where}: {os.path.relpath(resolved, root)} does not exist")
            continue
        if not fragment or not resolved.endswith(".md") or not os.path.isfile(resolved):
            continue
        if resolved not in anchor_cache:
            with open(resolved, encoding="utf-8") as f:
                anchor_cache[resolved] = anchors(f.read())
        if urllib.parse.unquote(fragment).lower() not in anchor_cache[resolved]:
            problems.append(f"{where}: no heading #{fragment} in {os.path.relpath(resolved, root)}")
    return problems


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    root = argv[1]
    cache = {}
    problems = []
    for name in argv[2:]:
        path = name if os.path.isabs(name) else os.path.join(root, name)
        problems += check(root, path, cache)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
