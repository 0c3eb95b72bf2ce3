"""The systems under test that are built here: ssebridge and the bare
send() baseline. The peers (Nchan, Pushpin, better-sse) are in peers.py."""

import os
import re
import subprocess
import urllib.request

from .procs import descendants, spawn, stop_process, wait_log_json

class System:
    name = "?"
    door = "HTTP POST"
    pub_conns = 4         # HTTP publishers: keep-alive connections
    pub_pipeline = 1
    connect_rate = 4000   # new streams per second, all generator processes together
    max_pending = 200     # per generator process: connects awaiting response headers
    note = ""

    def __init__(self, ctx):
        self.ctx = ctx
        self.proc = None
        self.http_port = None
        self.tmp = None

    def available(self):
        return True, ""

    def start(self):
        raise NotImplementedError

    def pids(self):
        return descendants(self.proc.pid) if self.proc and self.proc.poll() is None else []

    def stop(self):
        stop_process(self.proc)
        self.proc = None

    def sub_path(self, channel):
        raise NotImplementedError

    def pub_args(self, channel, ingest=False):
        raise NotImplementedError

    def extra(self):
        return {}


class Ssebridge(System):
    name = "ssebridge"
    door = "gRPC PublishStream"
    note = "memory broker, --writer_threads=0 (one per core), defaults otherwise"
    jwt_secret_file = None   # set: JWT auth on (the per-user scenario)

    def start(self):
        self.tmp = self.ctx.tmpdir("ssebridge")
        self.log = os.path.join(self.tmp, "ssebridge.log")
        cmd = [self.ctx.bridge, "--http_address=127.0.0.1", "--http_port=0",
               "--grpc_address=127.0.0.1", "--grpc_port=0", "--heartbeat=15s",
               "--max_connections=19000", "--log_level=info"]
        if self.jwt_secret_file:
            # Per-user scenario: streams authenticate with JWTs; the gRPC
            # port is loopback-only, so the publisher goes without a key.
            cmd += ["--jwt_secret_file=" + self.jwt_secret_file, "--allow_anonymous_publish"]
        self.proc = spawn(cmd, stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        info = wait_log_json(self.log, '"listening"', 20, self.proc)
        self.http_port, self.grpc_port = info["http_port"], info["grpc_port"]

    def sub_path(self, channel):
        return "/v1/events?channel=" + channel

    def pub_args(self, channel, ingest=False):
        return ["--mode=grpc-stream", "--target=127.0.0.1:%d" % self.grpc_port,
                "--channel=" + channel, "--window=1000"]

    def http_pub_args(self, channel, conns):
        return ["--mode=http", "--format=bridge", "--port=%d" % self.http_port,
                "--path=/v1/publish", "--channel=" + channel, "--conns=%d" % conns]

    def metrics(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.http_port, timeout=5) as r:
                text = r.read().decode()
        except OSError:
            return {}
        out = {}
        for line in text.splitlines():
            m = re.match(r"^(ssebridge_[a-z_]+)\s+([0-9.eE+-]+)$", line)
            if m:
                out[m.group(1)] = float(m.group(2))
        return out


class Baseline(System):
    door = "HTTP POST (pipelined)"
    pub_conns = 1
    pub_pipeline = 64
    connect_rate = 5000

    def __init__(self, ctx, mode):
        super().__init__(ctx)
        self.mode = mode
        self.name = "baseline-" + mode
        self.note = ("one send() per delivery" if mode == "send"
                     else "one send() per stream per batch of publishes")

    def start(self):
        self.tmp = self.ctx.tmpdir(self.name)
        self.log = os.path.join(self.tmp, "baseline.log")
        self.proc = spawn([self.ctx.baseline, "--mode=" + self.mode, "--http_port=0"],
                          stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        self.http_port = wait_log_json(self.log, '"listening"', 10, self.proc)["http_port"]

    def sub_path(self, channel):
        return "/sub?channel=" + channel

    def pub_args(self, channel, ingest=False):
        return ["--mode=http", "--format=baseline", "--port=%d" % self.http_port, "--path=/pub",
                "--channel=" + channel, "--conns=%d" % self.pub_conns,
                "--pipeline=%d" % self.pub_pipeline]
