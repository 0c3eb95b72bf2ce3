#!/usr/bin/env python3
"""The bridge's flags, read from its own --helpfull, and docs/flags.md made
from them.

A flag is declared once, with its help text, in bridge/ops/flags.cc (or the
file of the part it configures); everything a reader or a tool needs is
derived from the binary:

    scripts/flag_reference.py build/release/ssebridge          # rewrite docs/flags.md
    scripts/flag_reference.py --check build/release/ssebridge  # exit 1 when stale

tests/helm imports bridge_flags() to check the chart's schema, and checks
that docs/flags.md is current and that the README names no flag the bridge
lacks.
"""
import os
import re
import subprocess
import sys

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(SOURCE_DIR, "docs", "flags.md")


def bridge_flags(binary):
    """{name: (help, default text, defining file)} of the flags defined under bridge/."""
    r = subprocess.run([binary, "--helpfull"], capture_output=True, text=True, timeout=30)
    in_bridge, source, entry = False, None, None
    entries = []
    for line in r.stdout.splitlines():
        if line.startswith("Try --helpfull"):
            break  # absl's closing hint, after the last group (which may be ours)
        if not line.strip():
            entry = None
            continue
        header = re.match(r"\s*Flags from (\S+):$", line)
        if header:
            source = header.group(1)
            in_bridge = re.search(r"(^|/)bridge/", source) is not None
            entry = None
            continue
        start = re.match(r"\s+--(\w+) \((.*)$", line)
        if start:
            entry = [start.group(1), start.group(2), source] if in_bridge else None
            if entry:
                entries.append(entry)
        elif entry is not None:
            entry[1] += " " + line.strip()
    flags = {}
    for name, text, src in entries:
        m = re.match(r"(.*)\); default: (.*?);( currently: .*;)?$", text.strip())
        if not m:
            raise AssertionError(f"cannot parse --helpfull entry of --{name}: {text!r}")
        flags[name] = (m.group(1), m.group(2), src)
    return flags


def render(flags):
    out = [
        "# Flags",
        "",
        "Every flag of `ssebridge`, generated from its `--helpfull` by",
        "`scripts/flag_reference.py` (a test fails when this page is stale).",
        "Each flag has an environment twin `SSEBRIDGE_<NAME>`; the command line",
        "wins. Durations are written like `10s`, `250ms`, `1h`.",
        "",
        "| flag | environment | default | meaning |",
        "|---|---|---|---|",
    ]
    for name in sorted(flags):
        help_text, default, _ = flags[name]
        shown = default if default not in ('""',) else "(empty)"
        cell = help_text.replace("|", "\\|")
        out.append(f"| `--{name}` | `SSEBRIDGE_{name.upper()}` | `{shown}` | {cell} |")
    return "\n".join(out) + "\n"


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    if len(args) != 1:
        print("usage: scripts/flag_reference.py [--check] path/to/ssebridge", file=sys.stderr)
        return 2
    text = render(bridge_flags(args[0]))
    if check:
        with open(REFERENCE) as f:
            if f.read() != text:
                print("docs/flags.md is stale: run scripts/flag_reference.py " + args[0],
                      file=sys.stderr)
                return 1
        return 0
    with open(REFERENCE, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
