"""The systems under test that are built here: ssebridge and the bare
send() baseline. The peers (Nchan, Pushpin, better-sse) are in peers.py."""

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

from .procs import descendants, free_port, spawn, stop_process, wait_log_json, wait_port


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

    def sub_ports(self):
        """HTTP ports the subscribers are spread over (generator process w
        connects to sub_ports()[w % len])."""
        return [self.http_port]

    def components(self):
        """{label: pids} for a CPU split by process (none: one total)."""
        return {}

    def metrics(self):
        return {}

    def extra(self):
        return {}


class Ssebridge(System):
    name = "ssebridge"
    door = "gRPC PublishStream"
    note = "memory broker, --writer_threads=0 (one per core), defaults otherwise"
    jwt_secret_file = None   # set: JWT auth on (the per-user scenario)
    extra_args = ()          # e.g. the Redis broker's flags (BridgeGroup)

    def start(self):
        self.tmp = self.ctx.tmpdir("ssebridge")
        self.log = os.path.join(self.tmp, "ssebridge.log")
        cmd = [self.binary(), "--http_address=127.0.0.1", "--http_port=0",
               "--grpc_address=127.0.0.1", "--grpc_port=0", "--heartbeat=15s",
               "--max_connections=19000", "--log_level=info"]
        if self.has_admin_listener():
            cmd += ["--admin_address=127.0.0.1", "--admin_port=0"]
        if self.jwt_secret_file:
            # Per-user scenario: streams authenticate with JWTs; the gRPC
            # port is loopback-only, so the publisher goes without a key.
            cmd += ["--jwt_secret_file=" + self.jwt_secret_file, "--allow_anonymous_publish"]
        cmd += list(self.extra_args)
        self.proc = spawn(cmd, stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        info = wait_log_json(self.log, '"listening"', 20, self.proc)
        self.http_port, self.grpc_port = info["http_port"], info["grpc_port"]
        # /metrics: on the admin listener; a build from before it had one
        # (a --compare-bridge) serves it on the HTTP port.
        self.admin_port = info.get("admin_port") or self.http_port

    def binary(self):
        return self.ctx.bridge

    def has_admin_listener(self):
        """Whether the binary knows --admin_port: a --compare-bridge built
        before the admin listener existed refuses the flag and exits."""
        if getattr(self, "_has_admin", None) is None:
            try:
                r = subprocess.run([self.binary(), "--helpfull"], capture_output=True,
                                   text=True, timeout=20)
                self._has_admin = "admin_port" in (r.stdout + r.stderr)
            except (OSError, subprocess.SubprocessError):
                self._has_admin = True   # as before: the flags are passed
        return self._has_admin

    def wait_ready(self, timeout):
        """Until /readyz answers 200 (the Redis broker: connected)."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("ssebridge exited (%s) before it was ready; see %s" % (
                    self.proc.returncode, self.log))
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % self.http_port,
                                            timeout=2) as r:
                    if r.status == 200:
                        return
            except urllib.error.HTTPError as e:
                last = "HTTP %d" % e.code
            except OSError as e:
                last = str(e)
            time.sleep(0.1)
        raise RuntimeError("ssebridge not ready within %ss (/readyz: %s); see %s" % (
            timeout, last, self.log))

    def sub_path(self, channel):
        return "/v1/events?channel=" + channel

    def pub_args(self, channel, ingest=False):
        args = ["--mode=grpc-stream", "--target=127.0.0.1:%d" % self.grpc_port,
                "--channel=" + channel, "--window=1000"]
        if ingest:
            # A publisher in a hurry lets gRPC coalesce its frames: every
            # event is still its own message with its own answer, but only
            # every 32nd write flushes (WriteOptions::set_buffer_hint).
            args.append("--hint_every=32")
        return args

    def http_pub_args(self, channel, conns):
        return ["--mode=http", "--format=bridge", "--port=%d" % self.http_port,
                "--path=/v1/publish", "--channel=" + channel, "--conns=%d" % conns]

    def metrics(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.admin_port, timeout=5) as r:
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


class RedisServer:
    """A private redis-server on a free loopback port: no snapshots, no AOF,
    its working directory in the run's temp dir, stopped by PID."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.proc = None
        self.port = None

    @staticmethod
    def available():
        if not shutil.which("redis-server"):
            return False, "redis-server is not installed (Debian: apt-get install redis-server)"
        return True, ""

    def start(self):
        self.tmp = self.ctx.tmpdir("redis")
        self.port = free_port()
        self.log = os.path.join(self.tmp, "redis.log")
        self.proc = spawn(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                           "--save", "", "--appendonly", "no", "--daemonize", "no",
                           "--dir", self.tmp, "--logfile", ""],
                          stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        wait_port(self.port, 10, self.proc)
        deadline = time.monotonic() + 10
        while True:   # listening is not loaded: wait for +PONG
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as c:
                    c.sendall(b"PING\r\n")
                    if c.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not answer PING within 10 s; see %s" % self.log)
            time.sleep(0.1)

    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    def pids(self):
        return [self.proc.pid] if self.proc and self.proc.poll() is None else []

    def stop(self):
        stop_process(self.proc)
        self.proc = None


class BridgeGroup(System):
    """Scenario 6: `replicas` ssebridge processes, on a private Redis
    (broker "redis") or alone (broker "memory", one replica). Publishes go to
    replica 1; subscribers are spread over every replica, the first slice on
    the last replica so that a single subscriber is on one that does not take
    the publishes. CPU is summed over every replica and redis-server."""

    door = "gRPC PublishStream (replica 1)"

    def __init__(self, ctx, broker, replicas):
        super().__init__(ctx)
        self.broker, self.n_replicas = broker, replicas
        self.name = "ssebridge %s ×%d" % (broker, replicas)
        self.note = ("%d replica%s on one private redis-server; CPU = replicas + redis-server" % (
            replicas, "s" if replicas > 1 else "") if broker == "redis" else "memory broker, one process")
        self.redis = None
        self.replicas = []
        self.replica_args = ()   # more flags for every replica

    def start(self):
        extra = list(self.replica_args)
        if self.broker == "redis":
            self.redis = RedisServer(self.ctx)
            self.redis.start()
            extra += ["--broker=redis", "--redis_url=" + self.redis.url(),
                      "--redis_prefix=bench%d" % os.getpid()]
        for _ in range(self.n_replicas):
            r = Ssebridge(self.ctx)
            r.extra_args = extra
            self.replicas.append(r)
            r.start()
        for r in self.replicas:
            r.wait_ready(20)
        self.proc = self.replicas[0].proc
        self.log = self.replicas[0].log
        self.http_port, self.grpc_port = self.replicas[0].http_port, self.replicas[0].grpc_port

    def dead(self):
        """Descriptions of the processes of the group that have exited."""
        out = ["replica %d (exit %s, log %s)" % (i + 1, r.proc.returncode, r.log)
               for i, r in enumerate(self.replicas) if r.proc is not None and r.proc.poll() is not None]
        if self.redis and self.redis.proc is not None and self.redis.proc.poll() is not None:
            out.append("redis-server (exit %s, log %s)" % (self.redis.proc.returncode, self.redis.log))
        return out

    def components(self):
        c = {"replica %d" % (i + 1): r.pids() for i, r in enumerate(self.replicas)}
        if self.redis:
            c["redis-server"] = self.redis.pids()
        return c

    def pids(self):
        return [p for pids in self.components().values() for p in pids]

    def sub_ports(self):
        return [r.http_port for r in reversed(self.replicas)]

    def stop(self):
        for r in self.replicas:
            r.stop()
        self.replicas = []
        if self.redis:
            self.redis.stop()
            self.redis = None
        self.proc = None

    def sub_path(self, channel):
        return self.replicas[0].sub_path(channel)

    def pub_args(self, channel, ingest=False):
        return self.replicas[0].pub_args(channel, ingest)

    def http_pub_args(self, channel, conns):
        return self.replicas[0].http_pub_args(channel, conns)

    def metrics(self):
        out = {}
        for r in self.replicas:
            for k, v in r.metrics().items():
                out[k] = out.get(k, 0) + v
        return out


class SsebridgeCompare(Ssebridge):
    """Another build of ssebridge (--compare-bridge), same flags: read its
    rows against "ssebridge" in the same run for a before/after ratio."""
    name = "ssebridge-compare"

    def __init__(self, ctx, path):
        super().__init__(ctx)
        self.path = path

    def binary(self):
        return self.path

    def available(self):
        if not os.access(self.path, os.X_OK):
            return False, "%s is not an executable" % self.path
        return True, ""
