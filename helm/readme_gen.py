#!/usr/bin/env python3
"""Writes the values table of helm/ssebridge/README.md from values.yaml.

Each value's description is the comment block right above its key in
values.yaml. A value is a key whose schema entry (values.schema.json) has no
"properties" of its own (a scalar, a list, a free-form map such as
podSecurityContext); a key whose entry has properties is a section, and its
comment, if any, is the section's note. A value without a comment is an
error: the README documents every value.

  helm/readme_gen.py          rewrite the table between the README's markers
  helm/readme_gen.py --check  exit 1, saying why, if a value is undocumented
                              or the README is not what this would write
"""
import json
import os
import re
import sys

import yaml

CHART = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ssebridge")
BEGIN = "<!-- values:begin (written by helm/readme_gen.py from values.yaml; do not edit) -->"
END = "<!-- values:end -->"
KEY = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_-]*):(\s.*)?$")


def schema_node(schema, path):
    node = schema
    for key in path:
        props = node.get("properties", {})
        if key not in props:
            return {}
        node = props[key]
    return node


def documented_keys(values_text):
    """[(path tuple, description or None)] in file order."""
    out, stack, comment = [], [], []
    for line in values_text.splitlines():
        stripped = line.strip()
        if not stripped:
            comment = []
            continue
        if stripped.startswith("#"):
            comment.append(re.sub(r"^#\s?", "", stripped))
            continue
        m = KEY.match(line)
        if not m or stripped.startswith("-"):
            comment = []
            continue
        indent = len(m.group(1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = tuple(k for _, k in stack) + (m.group(2),)
        stack.append((indent, m.group(2)))
        out.append((path, " ".join(comment).strip() or None))
        comment = []
    return out


def lookup(values, path):
    for key in path:
        if not isinstance(values, dict) or key not in values:
            return None, False
        values = values[key]
    return values, True


def table(values_text, values, schema):
    """(markdown lines, [undocumented value paths])."""
    rows, missing = [], []
    for path, text in documented_keys(values_text):
        # Keys inside a value (a free-form map's or list's content) are the
        # value's default, not values of their own.
        if any(not schema_node(schema, path[:i]).get("properties") for i in range(1, len(path))):
            continue
        node = schema_node(schema, path)
        value, found = lookup(values, path)
        if not found:
            continue
        name = ".".join(path)
        if node.get("properties") and isinstance(value, dict):
            if text:
                rows.append(f"| **`{name}`** | | {md(text)} |")
            continue
        if not text:
            missing.append(name)
            continue
        rows.append(f"| `{name}` | `{md(json.dumps(value, ensure_ascii=False))}` | {md(text)} |")
    return ["| Value | Default | Description |", "| --- | --- | --- |", *rows], missing


def md(text):
    return text.replace("|", "\\|")


def render(readme_text, table_lines):
    if BEGIN not in readme_text or END not in readme_text:
        raise SystemExit(f"README.md lacks the markers {BEGIN} ... {END}")
    head, rest = readme_text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + BEGIN + "\n" + "\n".join(table_lines) + "\n" + END + tail


def main():
    with open(os.path.join(CHART, "values.yaml")) as f:
        values_text = f.read()
    with open(os.path.join(CHART, "values.schema.json")) as f:
        schema = json.load(f)
    readme_path = os.path.join(CHART, "README.md")
    with open(readme_path) as f:
        readme = f.read()
    lines, missing = table(values_text, yaml.safe_load(values_text), schema)
    if missing:
        print("values.yaml: these values have no comment above their key (the README's "
              "description):\n  " + "\n  ".join(missing), file=sys.stderr)
        return 1
    wanted = render(readme, lines)
    if "--check" in sys.argv[1:]:
        if wanted != readme:
            print("helm/ssebridge/README.md is stale: run helm/readme_gen.py", file=sys.stderr)
            return 1
        return 0
    if wanted != readme:
        with open(readme_path, "w") as f:
            f.write(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
