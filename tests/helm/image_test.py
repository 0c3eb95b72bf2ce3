"""The Dockerfile agrees with the rest of the project (Docker cannot run here,
so the image is checked by reading it):

- the build stage installs only packages scripts/setup-deps.sh installs;
- the runtime stage installs exactly the packages that own the shared
  libraries `ldd` finds for the built binary (all covered, nothing extra);
- non-root user 65532, both ports of the chart exposed, a HEALTHCHECK, and
  the binary as the entrypoint (the chart passes flags as args).
"""
import json
import os
import re
import subprocess
import unittest

import yaml

from helm_tool import CHART, SOURCE_DIR, bridge_binary


def setup_deps_packages():
    with open(os.path.join(SOURCE_DIR, "scripts", "setup-deps.sh")) as f:
        text = f.read()
    body = re.search(r"^PACKAGES=\((.*?)^\)", text, re.S | re.M).group(1)
    return {tok for line in body.splitlines() for tok in line.split("#", 1)[0].split()}


def dockerfile_stages():
    """{stage name: {"from": image, "lines": [instruction, ...]}}."""
    with open(os.path.join(SOURCE_DIR, "Dockerfile")) as f:
        text = re.sub(r"\\\n", " ", f.read())
    stages, current = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?$", line, re.I)
        if m:
            current = m.group(2) or str(len(stages))
            stages[current] = {"from": m.group(1), "lines": []}
        else:
            stages[current]["lines"].append(line)
    return stages


def apt_installed(lines):
    packages = set()
    for line in lines:
        if not line.startswith("RUN "):
            continue
        for command in line[4:].split("&&"):
            words = command.split()
            if words[:2] == ["apt-get", "install"]:
                packages |= {w for w in words[2:] if not w.startswith("-")}
    return packages


def spellings(path):
    """A library's path as dpkg may have recorded it (merged /usr)."""
    out = {path, os.path.realpath(path)}
    for p in list(out):
        if p.startswith("/usr/lib/"):
            out.add(p[len("/usr"):])
        elif p.startswith("/lib"):
            out.add("/usr" + p)
    return out


def linked_packages(binary):
    """The Debian packages owning the libraries ldd resolves for binary."""
    r = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True)
    paths = []
    for line in r.stdout.splitlines():
        if "not found" in line:
            raise AssertionError("ldd: " + line.strip())
        m = re.search(r"=>\s+(/\S+)", line) or re.match(r"\s*(/\S+)", line)
        if m:
            paths.append(m.group(1))
    # One dpkg-query for every spelling: each call reads the whole database.
    queried = sorted(set().union(*(spellings(p) for p in paths)))
    r = subprocess.run(["dpkg-query", "-S", *queried], capture_output=True, text=True)
    owner = {}
    for line in r.stdout.splitlines():
        if line.startswith("diversion"):
            continue
        packages, _, path = line.partition(": ")
        owner[path.strip()] = packages.split(",")[0].split(":")[0].strip()
    found = set()
    for p in paths:
        owners = {owner[s] for s in spellings(p) if s in owner}
        if not owners:
            raise AssertionError(f"no Debian package owns {p}: the image could not install it")
        found |= owners
    return found


class ImageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stages = dockerfile_stages()

    def test_stages_are_bookworm_slim(self):
        self.assertEqual(list(self.stages), ["build", "runtime"])
        for stage in self.stages.values():
            self.assertEqual(stage["from"], "debian:bookworm-slim")

    def test_build_packages_come_from_setup_deps(self):
        build = apt_installed(self.stages["build"]["lines"])
        self.assertIn("libgrpc++-dev", build)  # the parser found the list
        extra = sorted(build - setup_deps_packages())
        self.assertEqual(extra, [], "the Dockerfile's build stage installs packages "
                         "scripts/setup-deps.sh does not")

    def test_runtime_packages_are_what_the_binary_links(self):
        binary = bridge_binary()
        runtime = apt_installed(self.stages["runtime"]["lines"])
        linked = linked_packages(binary)
        self.assertIn("libc6", linked)  # ldd and dpkg-query answered
        self.assertEqual(sorted(linked - runtime), [],
                         "add these to the Dockerfile's runtime stage: the binary links them")
        self.assertEqual(sorted(runtime - linked), [],
                         "the Dockerfile's runtime stage installs packages the binary does not link")

    def test_runs_as_65532_exposes_the_chart_ports_and_checks_health(self):
        runtime = self.stages["runtime"]["lines"]
        self.assertIn("USER 65532:65532", runtime)
        with open(os.path.join(CHART, "values.yaml")) as f:
            config = yaml.safe_load(f)["config"]
        exposed = [l for l in runtime if l.startswith("EXPOSE ")]
        self.assertEqual(exposed, [f"EXPOSE {config['http_port']} {config['grpc_port']}"])
        healthcheck = [l for l in runtime if l.startswith("HEALTHCHECK ")]
        self.assertEqual(len(healthcheck), 1)
        command = json.loads(healthcheck[0].split(" CMD ", 1)[1])
        self.assertEqual(command[:2], ["/bin/bash", "-c"])
        self.assertIn("/healthz", command[2])
        self.assertIn('ENTRYPOINT ["/usr/local/bin/ssebridge"]', runtime)

    def test_dockerignore_keeps_build_trees_out(self):
        with open(os.path.join(SOURCE_DIR, ".dockerignore")) as f:
            entries = {l.strip() for l in f if l.strip() and not l.startswith("#")}
        for entry in (".git", "build", "**/build", "**/node_modules"):
            self.assertIn(entry, entries)


if __name__ == "__main__":
    unittest.main()
