"""What the chart ships for operators, checked against the real thing:

- the PrometheusRule passes `promtool check rules`, and `promtool test rules`
  (alert_rules_test.yaml) fires each alert on synthetic series that break
  its threshold and not on healthy ones;
- every metric the rules and the Grafana dashboard query is one the bridge
  exports (read from a real scrape, or registered in bridge/metrics_wiring.cc
  for the Redis broker only);
- a real scrape of /metrics passes `promtool check metrics`, with the
  process_* families present and plausible;
- the `helm test` pod's script, run against a real bridge on loopback,
  publishes one event and reads it back, and fails when it cannot.

promtool comes from Debian's prometheus package (scripts/setup-deps.sh).
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

import yaml

from helm_tool import CHART, HERE, SOURCE_DIR, HelmTestCase, container, one
# The module, not its names: a TestCase imported by name would run here too.
import rendered_args_test


def promtool(*args, stdin=None, cwd=None):
    if shutil.which("promtool") is None:
        raise AssertionError("promtool not found: install Debian's prometheus package "
                             "(scripts/setup-deps.sh)")
    return subprocess.run(["promtool", *args], input=stdin, capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def metric_names(promql):
    """Names of the ssebridge_* and process_* series a PromQL text selects."""
    return set(re.findall(r"\b((?:ssebridge|process)_[a-z0-9_]+)", promql))


def family_of(name, families):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in families:
            return name[: -len(suffix)]
    return name


class MonitoringTest(HelmTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        args = rendered_args_test.rewrite_for_loopback(container(cls.helm.render())["args"])
        cls.bridge = rendered_args_test.BridgeRun(args)
        # A publish, so the publish counters and histogram have moved.
        body = json.dumps({"channel": "warmup", "data": "{}"}).encode()
        assert cls.bridge.get("/v1/publish", body)[0] == 200
        status, cls.metrics_text = cls.bridge.get("/metrics", port=cls.bridge.admin_port)
        assert status == 200, status

    @classmethod
    def tearDownClass(cls):
        cls.bridge.terminate(30)
        super().tearDownClass()

    def rules(self, values_files=(), sets=()):
        objects = self.helm.render(values_files, ["prometheusRule.enabled=true", *sets])
        return {"groups": one(objects, "PrometheusRule")["spec"]["groups"]}

    def test_rules_pass_promtool_check_and_unit_tests(self):
        work = tempfile.mkdtemp(prefix="ssebridge-rules-")
        try:
            with open(os.path.join(work, "rules.yaml"), "w") as f:
                yaml.safe_dump(self.rules(), f)
            shutil.copy(os.path.join(HERE, "alert_rules_test.yaml"), work)
            r = promtool("check", "rules", "rules.yaml", cwd=work)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("SUCCESS: 8 rules found", r.stdout)
            r = promtool("test", "rules", "alert_rules_test.yaml", cwd=work)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            # The unit tests can fail: a threshold the series do not break.
            with open(os.path.join(work, "rules.yaml"), "w") as f:
                yaml.safe_dump(self.rules(sets=[("--set-json",
                                                  "prometheusRule.streamsNearLimitRatio=0.99")]), f)
            r = promtool("test", "rules", "alert_rules_test.yaml", cwd=work)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("SSEBridgeStreamsNearLimit", r.stdout + r.stderr)
            # The operations values (extra rules, other namespace) check too.
            with open(os.path.join(work, "rules.yaml"), "w") as f:
                yaml.safe_dump(self.rules(["operations.yaml"]), f)
            r = promtool("check", "rules", "rules.yaml", cwd=work)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("SUCCESS: 9 rules found", r.stdout)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_streams_alert_follows_max_connections(self):
        expr = [r["expr"] for r in self.rules(sets=["config.max_connections=5000"])["groups"][0]["rules"]
                if r.get("alert") == "SSEBridgeStreamsNearLimit"][0]
        self.assertIn("> 0.9 * 5000", expr)

    def exported_families(self):
        # Every broker registers the same families (Broker::metrics()), so a
        # memory broker's scrape names them all.
        return set(re.findall(r"^# TYPE (\S+) ", self.metrics_text, re.M))

    def test_every_exported_family_is_documented(self):
        with open(os.path.join(SOURCE_DIR, "docs", "metrics.md")) as f:
            documented = set(re.findall(r"`((?:ssebridge|process)_[a-z_]+)`", f.read()))
        self.assertEqual(sorted(self.exported_families() - documented), [],
                         "docs/metrics.md does not describe these families")

    def test_rules_and_dashboard_query_metrics_the_bridge_exports(self):
        families = self.exported_families()
        self.assertIn("ssebridge_streams", families)
        queried = set()
        for rule in self.rules()["groups"][0]["rules"]:
            queried |= metric_names(rule["expr"])
        with open(os.path.join(CHART, "dashboards", "ssebridge.json")) as f:
            dashboard = json.load(f)
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                queried |= metric_names(target["expr"])
        self.assertGreaterEqual(len(queried), 20)
        unknown = sorted(n for n in queried if family_of(n, families) not in families)
        self.assertEqual(unknown, [], "queried but not exported by the bridge")

    def test_dashboard_configmap_for_the_grafana_sidecar(self):
        objects = self.helm.render(sets=["grafanaDashboard.enabled=true"])
        cm = one(objects, "ConfigMap")
        self.assertEqual(cm["metadata"]["labels"]["grafana_dashboard"], "1")
        dashboard = json.loads(cm["data"]["ssebridge.json"])
        self.assertEqual(dashboard["uid"], "ssebridge")
        titles = {p["title"] for p in dashboard["panels"]}
        for want in ("Open streams", "Refused streams", "Publish latency", "Broker ready",
                     "Slow-consumer disconnects and drops", "Connected users"):
            self.assertIn(want, titles)

    def test_real_scrape_passes_promtool_check_metrics(self):
        r = promtool("check", "metrics", stdin=self.metrics_text)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # ... and promtool's check can fail: a counter without _total.
        bad = "# HELP x_things Things.\n# TYPE x_things counter\nx_things 1\n"
        self.assertNotEqual(promtool("check", "metrics", stdin=bad).returncode, 0)
        values = dict(re.findall(r"^(process_[a-z_]+) (\S+)$", self.metrics_text, re.M))
        self.assertEqual(sorted(values), sorted([
            "process_cpu_seconds_total", "process_max_fds", "process_open_fds",
            "process_resident_memory_bytes", "process_start_time_seconds",
            "process_virtual_memory_bytes"]))
        self.assertGreater(float(values["process_resident_memory_bytes"]), 1 << 20)
        self.assertGreaterEqual(float(values["process_open_fds"]), 3)
        self.assertGreaterEqual(float(values["process_max_fds"]), float(values["process_open_fds"]))
        self.assertLess(abs(float(values["process_start_time_seconds"]) - time.time()), 600)

    def helm_test_script(self, sets=()):
        objects = self.helm.render(sets=sets)
        pod = [o for (k, _), o in objects.items() if k == "Pod"][0]
        self.assertEqual(pod["metadata"]["annotations"]["helm.sh/hook"], "test")
        c = pod["spec"]["containers"][0]
        self.assertEqual(c["command"], ["/bin/bash", "-c"])
        self.assertEqual(c["image"], container(objects)["image"])
        # Not a bridge pod to the release's Service, PDB or NetworkPolicy.
        selector = one(objects, "Deployment")["spec"]["selector"]["matchLabels"]
        self.assertFalse(all(pod["metadata"]["labels"].get(k) == v for k, v in selector.items()))
        self.assertTrue(c["securityContext"]["readOnlyRootFilesystem"])
        return c["args"][0], {e["name"]: e.get("value") for e in c["env"]}

    def run_helm_test(self, script, env, port):
        env = dict(os.environ, **{k: v for k, v in env.items() if v is not None})
        env.update(SSE_HOST="127.0.0.1", SSE_PORT=str(port))
        return subprocess.run(["/bin/bash", "-c", script], env=env, capture_output=True,
                              text=True, timeout=60)

    def test_helm_test_pod_publishes_and_reads_back_over_sse(self):
        script, env = self.helm_test_script()
        self.assertEqual(env["SSE_HOST"], "rel-ssebridge.demo.svc")
        self.assertEqual(env["SSE_PORT"], "8080")
        r = self.run_helm_test(script, env, self.bridge.http_port)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("readyz: HTTP/1.1 200", r.stdout)
        self.assertRegex(r.stdout, r"received: data: .*helm-test-")

    def test_helm_test_pod_fails_when_the_event_does_not_come_back(self):
        script, env = self.helm_test_script(["helmTest.timeoutSeconds=2"])
        # The stream reads one channel, the publish goes to another.
        broken = script.replace('"{\\"channel\\":\\"$channel\\"', '"{\\"channel\\":\\"elsewhere\\"')
        self.assertNotEqual(broken, script)
        r = self.run_helm_test(broken, env, self.bridge.http_port)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("did not arrive", r.stdout)
        # Nothing listening: it fails at once.
        r = self.run_helm_test(script, env, 1)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)

    def test_helm_test_credentials_come_from_a_secret(self):
        objects = self.helm.render(sets=["helmTest.existingSecret=creds"])
        pod = [o for (k, _), o in objects.items() if k == "Pod"][0]
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in pod["spec"]["containers"][0]["env"]
                if "valueFrom" in e}
        self.assertEqual(refs["PUBLISHER_TOKEN"]["name"], "creds")
        self.assertEqual(refs["SUBSCRIBER_TOKEN"]["key"], "subscriber-token")
        none = self.helm.render(sets=["helmTest.enabled=false"])
        self.assertEqual([k for k, _ in none if k == "Pod"], [])


if __name__ == "__main__":
    unittest.main()
