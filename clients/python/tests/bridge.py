"""Test helpers: the real ssebridge binary on ephemeral loopback ports, and
an SSE reader over a real HTTP connection (http.client)."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def bridge_binary() -> str:
    path = os.environ.get("SSEBRIDGE_BINARY") or os.path.join(REPO, "build", "release", "ssebridge")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"ssebridge binary not found at {path}; build it or set SSEBRIDGE_BINARY")
    return path


class Bridge:
    """Starts the bridge, learns its ports from the "listening" log line and
    keeps draining its stderr. stop() sends SIGTERM (SIGKILL after 20 s)."""

    def __init__(self, flags=(), binary=None, env=None, prefix=(), flags_from_env=False):
        """``binary``: another ssebridge (an installed package's); ``env``:
        SSEBRIDGE_* settings added to the environment; ``flags_from_env``:
        the addresses and ports come from ``env`` instead of flags;
        ``prefix``: a command that execs the bridge (e.g. setpriv)."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("SSEBRIDGE_")}
        env = {**base, **(env or {})}
        ports = () if flags_from_env else (
            "--http_address=127.0.0.1", "--http_port=0",
            "--grpc_address=127.0.0.1", "--grpc_port=0",
            "--admin_address=127.0.0.1", "--admin_port=0")
        args = [*prefix, binary or bridge_binary(), *ports, *flags]
        self.proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.log = []
        self.http_port = self.grpc_port = 0
        self.admin_port = -1  # the internal listener (/metrics); -1: off
        self._listening = threading.Event()
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()
        if not self._listening.wait(20) or not self.grpc_port:
            self.stop()
            raise RuntimeError("bridge did not start:\n" + "\n".join(self.log))
        self.target = f"127.0.0.1:{self.grpc_port}"
        # The internal port: /metrics and the gRPC Admin service.
        self.admin_target = f"127.0.0.1:{self.admin_port}"

    def _drain(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.log.append(line)
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if obj.get("msg") == "listening" and obj.get("http_port") and obj.get("grpc_port"):
                self.http_port, self.grpc_port = obj["http_port"], obj["grpc_port"]
                self.admin_port = obj.get("admin_port", -1)
                self._listening.set()
        self._listening.set()  # exited before listening

    def freeze(self, timeout=10.0):
        """SIGSTOP, then wait until every thread has stopped: a group stop
        completes only once the thread picked for the signal gets a CPU, and
        until then another thread may still read and answer a request."""
        self.proc.send_signal(signal.SIGSTOP)
        task_dir = f"/proc/{self.proc.pid}/task"
        deadline = time.monotonic() + timeout
        while True:
            states = []
            for tid in os.listdir(task_dir):
                try:
                    with open(f"{task_dir}/{tid}/stat") as f:
                        text = f.read()
                except OSError:
                    continue
                states.append(text[text.rindex(")") + 2])
            if states and all(s in "Tt" for s in states):
                return
            if time.monotonic() > deadline:
                raise AssertionError("the bridge did not stop after SIGSTOP")
            time.sleep(0.001)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._drainer.join(5)
        self.proc.stderr.close()
        return self.proc.returncode


class SseReader:
    """GET /v1/events for some channels; parses events in a thread."""

    def __init__(self, http_port, channels):
        qs = urllib.parse.urlencode([("channel", c) for c in channels])
        self.conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)
        self.conn.request("GET", f"/v1/events?{qs}")
        self._sock = self.conn.sock  # getresponse() may drop conn.sock
        self.resp = self.conn.getresponse()
        if self.resp.status != 200:
            raise RuntimeError(f"GET /v1/events answered {self.resp.status}: {self.resp.read()!r}")
        if not self.resp.getheader("Content-Type", "").startswith("text/event-stream"):
            raise RuntimeError("not an event stream")
        self.events = []
        self._cond = threading.Condition()
        self._opened = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._opened.wait(10):
            raise RuntimeError("the stream sent nothing")

    def _read(self):
        block = {"data": []}
        try:
            while True:
                raw = self.resp.readline()
                if not raw:
                    return
                self._opened.set()
                line = raw.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if block["data"]:
                        with self._cond:
                            self.events.append({"id": block.get("id"),
                                                "event": block.get("event", "message"),
                                                "data": "\n".join(block["data"])})
                            self._cond.notify_all()
                    block = {"data": []}
                    continue
                if line.startswith(":"):
                    continue
                field, _, value = line.partition(":")
                if value.startswith(" "):
                    value = value[1:]
                if field == "data":
                    block["data"].append(value)
                elif field in ("id", "event"):
                    block[field] = value
        except (OSError, ValueError, AttributeError):
            # AttributeError: close() from the test thread raced this read.
            return

    def wait_for(self, count, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.events) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"got {len(self.events)} SSE events, wanted {count}")
                self._cond.wait(left)
            return list(self.events)

    def close(self):
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.resp.close()
        self.conn.close()


def seq_of(event_id: str) -> int:
    m = re.fullmatch(r"[0-9a-z]+-(\d+)", event_id)
    if not m:
        raise AssertionError(f"not an event id: {event_id!r}")
    return int(m.group(1))
