"""One version, reported everywhere: the VERSION file is what
`ssebridge --version`, the ssebridge_build_info gauge, the start-up log line
and every client package say; the commit is the checkout's, or "unknown"
where there is no git."""
import json
import os
import re
import subprocess
import tempfile
import unittest
import urllib.request

from support import REPO, Bridge, bridge_binary, run, version

VERSION_LINE = re.compile(r"^ssebridge (\S+) \(commit ([0-9a-f]{7,40}|unknown), (\S+)\)$")


def git_commit_of(source_dir):
    """What cmake/BuildInfo.cmake finds for source_dir (message() -> stderr)."""
    r = subprocess.run(["cmake", f"-DSOURCE_DIR={source_dir}", "-P",
                        os.path.join(REPO, "cmake", "BuildInfo.cmake")],
                       capture_output=True, text=True, check=True)
    return r.stderr.strip()


class VersionTest(unittest.TestCase):
    def version_line(self):
        out = run([bridge_binary(), "--version"]).strip()
        m = VERSION_LINE.match(out)
        self.assertIsNotNone(m, f"--version printed {out!r}")
        return m.groups()

    def test_version_flag_reports_version_commit_and_build_type(self):
        v, commit, build_type = self.version_line()
        self.assertEqual(v, version())
        self.assertRegex(build_type, r"^(Debug|Release|RelWithDebInfo|MinSizeRel)(\+\w+)?$")
        if commit != "unknown" and os.path.exists(os.path.join(REPO, ".git")):
            # The commit is one git knows (a later commit re-configures).
            run(["git", "-C", REPO, "cat-file", "-e", f"{commit}^{{commit}}"])

    def test_commit_is_unknown_without_git_and_the_head_in_a_checkout(self):
        with tempfile.TemporaryDirectory() as empty:
            self.assertEqual(git_commit_of(empty), "unknown")
        if os.path.exists(os.path.join(REPO, ".git")):
            head = run(["git", "-C", REPO, "rev-parse", "--short=12", "HEAD"]).strip()
            self.assertEqual(git_commit_of(REPO), head)
            # A directory inside the checkout is not a checkout of its own.
            self.assertEqual(git_commit_of(os.path.join(REPO, "bridge")), "unknown")

    def test_metric_and_log_line_say_the_same(self):
        v, commit, build_type = self.version_line()
        bridge = Bridge()
        self.addCleanup(bridge.stop)
        listening = next(json.loads(l) for l in bridge.log if '"listening"' in l)
        self.assertEqual((listening["version"], listening["commit"], listening["build_type"]),
                         (v, commit, build_type))
        with urllib.request.urlopen(f"http://127.0.0.1:{bridge.admin_port}/metrics",
                                    timeout=10) as r:
            text = r.read().decode()
        self.assertIn("# TYPE ssebridge_build_info gauge", text)
        self.assertIn(f'ssebridge_build_info{{version="{v}",commit="{commit}",'
                      f'build_type="{build_type}"}} 1', text)

    def test_client_packages_carry_the_same_version(self):
        v = version()
        with open(os.path.join(REPO, "clients", "node", "package.json")) as f:
            self.assertEqual(json.load(f)["version"], v)
        with open(os.path.join(REPO, "CHANGELOG.md")) as f:
            self.assertIn(f"## {v}", f.read(), "CHANGELOG.md has no entry for VERSION")
        with open(os.path.join(REPO, "Dockerfile")) as f:
            args = re.findall(r"^ARG SSEBRIDGE_VERSION=(\S+)$", f.read(), re.M)
        self.assertEqual(args, [v], "the image's version label default")
        # Python and C++ read VERSION at build time (setup.py, CMake's project());
        # their package tests check the built artefact.


if __name__ == "__main__":
    unittest.main()
