"""Before a run: build the release binaries and install the peers."""

import os
import shutil
import subprocess

from .procs import CORES, HERE, ROOT, log

def build(args):
    log("building the release bridge and the bench tools (build/release)")
    subprocess.run(["cmake", "-S", ROOT, "-B", os.path.join(ROOT, "build", "release"),
                    "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], check=True, stdout=subprocess.DEVNULL,
                   timeout=900)
    subprocess.run(["cmake", "--build", os.path.join(ROOT, "build", "release"), "-j%d" % CORES,
                    "--target", "ssebridge", "ssebridge_bench_loadgen", "ssebridge_bench_baseline"],
                   check=True, timeout=1800)


def install_peers(extra=()):
    """Debian packages when missing (root only) and better-sse's npm ci;
    `extra`: more Debian packages (redis-server for scenario 6)."""
    want = ["nginx-light", "libnginx-mod-nchan", "pushpin"] + list(extra)
    missing = []
    for p in want:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True)
        if "install ok installed" not in r.stdout:
            missing.append(p)
    if missing:
        if os.geteuid() != 0:
            log("not root: cannot install %s; those peers are skipped" % " ".join(missing))
        else:
            log("installing %s" % " ".join(missing))
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            subprocess.run(["apt-get", "update", "-qq"], env=env, timeout=600)
            r = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing,
                               env=env, timeout=900, stdout=subprocess.DEVNULL)
            if r.returncode != 0:
                log("apt-get install failed (%d); missing peers are skipped" % r.returncode)
            # The packages' own services are not wanted: the runner starts its own.
            for svc in ("nginx", "pushpin"):
                subprocess.run(["sh", "-c", "command -v systemctl >/dev/null && systemctl stop %s "
                                "2>/dev/null; true" % svc], timeout=60)
    bs = os.path.join(HERE, "peers", "better-sse")
    if shutil.which("node") and shutil.which("npm"):
        if not os.path.isdir(os.path.join(bs, "node_modules", "better-sse")):
            log("npm ci in tests/bench/peers/better-sse")
            r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=bs, timeout=600)
            if r.returncode != 0:
                log("npm ci failed; better-sse is skipped")
    else:
        log("node/npm not found; better-sse is skipped")
