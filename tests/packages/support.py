"""Shared by the package tests: the repository, its VERSION, the bridge of
this build on loopback ports (clients/python/tests/bridge.py) and scratch
directories that go away with the test."""
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.environ.get("SSEBRIDGE_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("SSEBRIDGE_BUILD_DIR") or os.path.join(REPO, "build", "release")
sys.path.insert(0, os.path.join(REPO, "clients", "python", "tests"))

from bridge import Bridge, SseReader, bridge_binary  # noqa: E402,F401


def version():
    with open(os.path.join(REPO, "VERSION")) as f:
        return f.read().strip()


def scratch(test):
    """A temporary directory removed when the test ends."""
    path = tempfile.mkdtemp(prefix="ssebridge-pkg-")
    test.addCleanup(shutil.rmtree, path, True)
    return path


def run(args, timeout=600, **kwargs):
    """Runs a command; on failure the assertion shows its output."""
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kwargs)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {r.returncode}:\n"
                             f"{r.stdout}\n{r.stderr}")
    return r.stdout
