#!/usr/bin/env python3
"""Writes the Debian package's man page and /etc/default file from the
bridge's own `--help`, so both list exactly the flags the binary has:

    gen_docs.py <ssebridge binary> <version> <out dir>

<out dir>/ssebridge.1.gz  man page (roff, gzip -n: reproducible)
<out dir>/ssebridge.default  every SSEBRIDGE_* variable, commented out,
                              with its help text and default
"""
import gzip
import re
import subprocess
import sys


def flags(binary):
    """[(name, help, default)] parsed from abseil's --help layout."""
    out = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    # Abseil wraps each flag over indented lines; join them back.
    text = re.sub(r"\n {6,}", " ", out)
    found = []
    for m in re.finditer(r"^    --(\w+) \((.*)\); default: (.*);$", text, re.M):
        found.append((m.group(1), m.group(2), m.group(3)))
    if not found:
        sys.exit(f"gen_docs: no flags in `{binary} --help`")
    return out, found


def man_escape(s):
    return s.replace("\\", "\\\\").replace("-", "\\-").replace("'", "\\(aq")


def man_page(version, usage, found):
    head = usage.split("\n  Flags from", 1)[0].strip()
    summary = head.split("\n", 1)[0].split(": ", 1)[-1]
    lines = [
        f'.TH SSEBRIDGE 1 "" "ssebridge {version}" "User Commands"',
        ".SH NAME",
        f"ssebridge \\- {man_escape(summary)}",
        ".SH SYNOPSIS",
        ".B ssebridge",
        "[\\fB\\-\\-flag\\fR=\\fIvalue\\fR ...]",
        ".SH DESCRIPTION",
        man_escape("Backends publish over gRPC (proto: /usr/share/ssebridge/proto) or "
                   "POST /v1/publish; browsers receive Server-Sent Events on "
                   "GET /v1/events. Every flag can also be set as "
                   "SSEBRIDGE_<FLAG_NAME_IN_CAPITALS> in the environment; the "
                   "command line wins. --version prints the version, commit and "
                   "build type."),
        ".SH OPTIONS",
    ]
    for name, help_text, default in found:
        lines += [".TP", f"\\fB\\-\\-{man_escape(name)}\\fR (default: {man_escape(default)})",
                  man_escape(help_text)]
    lines += [
        ".SH FILES",
        ".TP", "/etc/default/ssebridge",
        man_escape("SSEBRIDGE_* settings read by the systemd unit ssebridge.service."),
        ".SH SEE ALSO",
        "/usr/share/doc/ssebridge/README.md",
        "",
    ]
    return "\n".join(lines)


def default_file(version, found):
    lines = [
        f"# Settings of ssebridge {version}, read by the systemd unit",
        "# (EnvironmentFile=). One line per flag: SSEBRIDGE_<FLAG>=value, no",
        "# quotes needed. Commented lines show the default. After a change:",
        "#   systemctl restart ssebridge",
        "# Key files the bridge reads must be readable by the ssebridge user.",
        "",
    ]
    for name, help_text, default in found:
        value = default[1:-1] if default.startswith('"') and default.endswith('"') else default
        lines.append(f"# {help_text}")
        lines.append(f"#SSEBRIDGE_{name.upper()}={value}")
        lines.append("")
    return "\n".join(lines)


def main():
    binary, version, out_dir = sys.argv[1:4]
    usage, found = flags(binary)
    with open(f"{out_dir}/ssebridge.1.gz", "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw,
                           mtime=0) as gz:
            gz.write(man_page(version, usage, found).encode())
    with open(f"{out_dir}/ssebridge.default", "w") as f:
        f.write(default_file(version, found))


if __name__ == "__main__":
    main()
