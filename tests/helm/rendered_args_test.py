"""The real bridge started with the args the chart renders: proof that every
rendered flag exists and that the Secret layout the chart mounts is one the
bridge reads. Ports are rewritten to 0 (the bridge logs the ones it got) and
both servers listen on loopback only."""
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from helm_tool import (SOURCE_DIR, HelmTestCase, bridge_binary, bridge_has_flag, container,
                       free_loopback_port, one)

ADMIN_FLAGS = ("admin_port", "admin_address")


def rewrite_for_loopback(args):
    """The args with every listener on loopback: the public ones on port 0
    (the bridge logs the ones it got), the admin one on a free port chosen
    here. A binary built before the admin listener (--admin_port) existed
    gets the chart's args without the admin flags."""
    out = []
    admin = bridge_has_flag("admin_port")
    for arg in args:
        name = arg[2:].partition("=")[0]
        if name in ("http_port", "grpc_port"):
            arg = f"--{name}=0"
        elif name in ADMIN_FLAGS:
            continue
        out.append(arg)
    out += ["--http_address=127.0.0.1", "--grpc_address=127.0.0.1"]
    if admin:
        out += [f"--admin_port={free_loopback_port()}", "--admin_address=127.0.0.1"]
    return out


class BridgeRun:
    """The bridge with the given args; learns its ports from its "listening"
    log line."""

    def __init__(self, args):
        binary = bridge_binary()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SSEBRIDGE_")}
        self.proc = subprocess.Popen([binary, *args], env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.log = []
        self.http_port = self.grpc_port = 0
        admin = [a for a in args if a.startswith("--admin_port=")]
        self.admin_port = int(admin[-1].partition("=")[2]) if admin else None
        listening = threading.Event()

        def drain():
            for line in self.proc.stderr:
                self.log.append(line.rstrip("\n"))
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if obj.get("msg") == "listening":
                    self.http_port, self.grpc_port = obj["http_port"], obj["grpc_port"]
                    self.admin_port = obj.get("admin_port", 0)
                    listening.set()
            listening.set()

        self.drainer = threading.Thread(target=drain, daemon=True)
        self.drainer.start()
        if not listening.wait(20) or not self.http_port:
            self.kill()
            raise AssertionError("bridge did not start with the rendered args " + " ".join(args) +
                                 ":\n" + "\n".join(self.log))

    def get(self, path, data=None, headers=None, port=None):
        req = urllib.request.Request(f"http://127.0.0.1:{port or self.http_port}{path}",
                                     data=data, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def terminate(self, timeout):
        """SIGTERM, as the kubelet sends it after preStop; the exit code and
        seconds it took."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"bridge still running {timeout}s after SIGTERM")
        self.drainer.join(5)
        self.proc.stderr.close()
        return code, time.monotonic() - start

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.drainer.join(5)
        self.proc.stderr.close()


def grpc_health_check(port):
    """grpc.health.v1.Health/Check with service "", as the kubelet's gRPC
    probe sends it; the raw HealthCheckResponse bytes (Debian's grpcio has
    no grpc_health module, and the messages are one field each)."""
    import grpc  # Debian's python3-grpcio, as the Python client's tests use
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check")
        return check(b"", timeout=10)


def dockerfile_healthcheck():
    with open(os.path.join(SOURCE_DIR, "Dockerfile")) as f:
        text = re.sub(r"\\\n", " ", f.read())
    m = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])\s*$", text, re.M)
    return json.loads(m.group(1))


class RenderedArgsTest(HelmTestCase):
    def test_default_values_start_a_healthy_bridge_that_drains_within_the_grace_period(self):
        objects = self.helm.render()
        pod = one(objects, "Deployment")["spec"]["template"]["spec"]
        args = container(objects)["args"]
        bridge = BridgeRun(rewrite_for_loopback(args))
        try:
            self.assertEqual(bridge.get("/healthz")[0], 200)
            self.assertEqual(bridge.get("/readyz")[0], 200)
            # The HPA's custom metric is a gauge the bridge really exports.
            hpa = one(self.helm.render(sets=["config.broker=redis", "config.redis_url=redis://r:6379/0",
                                             "autoscaling.enabled=true",
                                             "autoscaling.streams.enabled=true"]),
                      "HorizontalPodAutoscaler")
            metric = [m for m in hpa["spec"]["metrics"] if m["type"] == "Pods"][0]["pods"]["metric"]["name"]
            # /metrics is on the internal listener only.
            self.assertEqual(bridge.get("/metrics")[0], 404)
            status, metrics = bridge.get("/metrics", port=bridge.admin_port)
            self.assertEqual(status, 200)
            self.assertIn(f"# TYPE {metric} gauge", metrics)
            # What probes.readiness.type=grpc asks: grpc.health.v1 Check of
            # the server as a whole (service ""), answered SERVING (1).
            self.assertEqual(grpc_health_check(bridge.grpc_port), b"\x08\x01")
            # The image's HEALTHCHECK command works against a live bridge.
            check = dockerfile_healthcheck()
            env = dict(os.environ, SSEBRIDGE_HTTP_PORT=str(bridge.http_port))
            self.assertEqual(subprocess.run(check, env=env, timeout=10).returncode, 0)
        finally:
            grace = pod["terminationGracePeriodSeconds"]
            sleep = int(container(objects)["lifecycle"]["preStop"]["exec"]["command"][1])
            code, took = bridge.terminate(grace - sleep)
        self.assertEqual(code, 0, "\n".join(bridge.log))
        self.assertLess(took, grace - sleep)
        # ... and fails once nothing listens there.
        self.assertNotEqual(subprocess.run(check, env=env, timeout=10,
                                           stderr=subprocess.DEVNULL).returncode, 0)

    def test_secrets_as_the_chart_mounts_them_turn_auth_on(self):
        # tls.yaml's gRPC certificates are placeholders; the rest is real.
        objects = self.helm.render(["tls.yaml"], ["secrets.grpcTls.cert=", "secrets.grpcTls.key=",
                                                  "secrets.grpcTls.clientCa=",
                                                  "secrets.grpcTls.requireClientCert=false"])
        root = tempfile.mkdtemp(prefix="ssebridge-helm-mounts-")
        try:
            pod = one(objects, "Deployment")["spec"]["template"]["spec"]
            secret_of = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
            for mount in container(objects)["volumeMounts"]:
                if mount["name"] not in secret_of:
                    continue
                secret = objects[("Secret", secret_of[mount["name"]])]
                folder = root + mount["mountPath"]
                os.makedirs(folder)
                for key, b64 in secret["data"].items():
                    with open(os.path.join(folder, key), "wb") as f:
                        f.write(base64.b64decode(b64))
            args = [a.replace("=/etc/ssebridge/", f"={root}/etc/ssebridge/")
                    for a in container(objects)["args"]]
            self.assertTrue(any("--jwt_keys_file=" in a for a in args))
            bridge = BridgeRun(rewrite_for_loopback(args))
            try:
                body = json.dumps({"channel": "billing.invoices", "data": "{}"}).encode()
                status, reply = bridge.get("/v1/publish", body)
                self.assertEqual(status, 401, reply)
                # billing's key is sha256("test"), limited to billing*.
                status, reply = bridge.get("/v1/publish", body, {"Authorization": "Bearer test"})
                self.assertEqual(status, 200, reply)
                other = json.dumps({"channel": "orders", "data": "{}"}).encode()
                status, reply = bridge.get("/v1/publish", other, {"Authorization": "Bearer test"})
                self.assertEqual(status, 403, reply)
                # JWT keys loaded: a private channel wants a credential.
                self.assertEqual(bridge.get("/v1/events?channel=orders")[0], 401)
            finally:
                code, _ = bridge.terminate(30)
            self.assertEqual(code, 0)
        finally:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
