"""helm lint and helm template over the default values and the files in
values/, asserting on the rendered objects."""
import base64
import glob
import os
import unittest

from helm_tool import VALUES_DIR, HelmTestCase, container, flags_of, of_kind, one


class ChartRenderTest(HelmTestCase):
    def test_lint_passes_for_defaults_and_every_values_file(self):
        files = sorted(glob.glob(os.path.join(VALUES_DIR, "*.yaml")))
        self.assertGreaterEqual(len(files), 8)
        for values, r in zip([None, *files], self.helm.lint_all([None, *files])):
            with self.subTest(values=values and os.path.basename(values)):
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_defaults_are_hardened(self):
        objects = self.helm.render()
        pod = one(objects, "Deployment")["spec"]["template"]["spec"]
        self.assertEqual(pod["securityContext"]["runAsNonRoot"], True)
        self.assertEqual(pod["securityContext"]["runAsUser"], 65532)
        self.assertEqual(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault")
        self.assertFalse(pod["automountServiceAccountToken"])
        sc = container(objects)["securityContext"]
        self.assertTrue(sc["readOnlyRootFilesystem"])
        self.assertFalse(sc["allowPrivilegeEscalation"])
        self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
        self.assertEqual(sc["runAsUser"], 65532)
        res = container(objects)["resources"]
        for kind in ("requests", "limits"):
            self.assertIn("cpu", res[kind])
            self.assertIn("memory", res[kind])

    def test_defaults_probe_the_health_routes(self):
        c = container(self.helm.render())
        self.assertEqual(c["startupProbe"]["httpGet"], {"path": "/healthz", "port": "http"})
        self.assertEqual(c["livenessProbe"]["httpGet"], {"path": "/healthz", "port": "http"})
        self.assertEqual(c["readinessProbe"]["httpGet"], {"path": "/readyz", "port": "http"})
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        self.assertEqual(ports, {"http": 8080, "grpc": 50051, "admin": 9090})
        self.assertEqual(flags_of(self.helm.render())["admin_port"], "9090")
        self.assertEqual(flags_of(self.helm.render())["admin_address"], "0.0.0.0")

    def test_defaults_render_one_replica_without_pdb_hpa_ingress_or_secret(self):
        objects = self.helm.render()
        deploy = one(objects, "Deployment")
        self.assertEqual(deploy["spec"]["replicas"], 1)
        self.assertEqual(deploy["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 0)
        for kind in ("PodDisruptionBudget", "HorizontalPodAutoscaler", "Ingress", "HTTPRoute",
                     "Secret", "ServiceMonitor", "NetworkPolicy"):
            self.assertEqual(of_kind(objects, kind), [], kind)
        flags = flags_of(objects)
        self.assertEqual(flags["broker"], "memory")
        self.assertEqual(flags["writer_threads"], "1")  # from resources.limits.cpu "1"
        service = objects[("Service", "rel-ssebridge")]
        self.assertEqual({p["name"]: p["port"] for p in service["spec"]["ports"]},
                         {"http": 8080, "grpc": 50051})
        self.assertEqual({p["name"]: p["targetPort"] for p in service["spec"]["ports"]},
                         {"http": "http", "grpc": "grpc"})

    def test_grace_period_is_prestop_plus_drain_deadline_plus_margin(self):
        c = container(self.helm.render())
        self.assertEqual(c["lifecycle"]["preStop"]["exec"]["command"], ["/bin/sleep", "5"])
        self.assertEqual(one(self.helm.render(), "Deployment")["spec"]["template"]["spec"]
                         ["terminationGracePeriodSeconds"], 5 + 10 + 5)
        cases = [("1m30s", 3, 2, 95), ("1.5s", 0, 0, 2), ("250ms", 1, 1, 3), ("1h", 5, 5, 3610)]
        for deadline, sleep, margin, want in cases:
            with self.subTest(deadline=deadline):
                objects = self.helm.render(sets=[f"config.shutdown_deadline={deadline}",
                                                 f"shutdown.preStopSleepSeconds={sleep}",
                                                 f"shutdown.graceMarginSeconds={margin}"])
                pod = one(objects, "Deployment")["spec"]["template"]["spec"]
                self.assertEqual(pod["terminationGracePeriodSeconds"], want)
                self.assertEqual(flags_of(objects)["shutdown_deadline"], deadline)
        native = container(self.helm.render(sets=["shutdown.sleepAction=true"]))
        self.assertEqual(native["lifecycle"]["preStop"], {"sleep": {"seconds": 5}})

    def test_redis_multi_replica(self):
        objects = self.helm.render(["redis-multi.yaml"])
        deploy = one(objects, "Deployment")
        self.assertEqual(deploy["spec"]["replicas"], 3)
        pod = deploy["spec"]["template"]["spec"]
        self.assertEqual(pod["terminationGracePeriodSeconds"], 10 + 30 + 7)
        flags = flags_of(objects)
        self.assertEqual(flags["broker"], "redis")
        self.assertEqual(flags["redis_url"], "redis://redis-master.data.svc:6380/2")
        self.assertEqual(flags["redis_password_file"], "/etc/ssebridge/redis/password")
        self.assertEqual(flags["history_size"], "5000")
        self.assertEqual(flags["publish_rate_limit"], "2.5")
        self.assertEqual(flags["jwt_require_exp"], "true")
        self.assertEqual(flags["channel_policies"], "dash.*=latest-only,*=disconnect")
        secret = objects[("Secret", "rel-ssebridge-redis-password")]
        self.assertEqual(base64.b64decode(secret["data"]["password"]), b"not-a-real-password")
        mounts = {m["name"]: m for m in container(objects)["volumeMounts"]}
        self.assertEqual(mounts["redis-password"]["mountPath"], "/etc/ssebridge/redis")
        self.assertTrue(mounts["redis-password"]["readOnly"])
        pdb = one(objects, "PodDisruptionBudget")
        self.assertEqual(pdb["spec"]["maxUnavailable"], 1)
        self.assertEqual(pdb["spec"]["selector"]["matchLabels"],
                         deploy["spec"]["selector"]["matchLabels"])
        self.assertIn("requiredDuringSchedulingIgnoredDuringExecution",
                      pod["affinity"]["podAntiAffinity"])
        self.assertEqual(pod["topologySpreadConstraints"][0]["topologyKey"],
                         "topology.kubernetes.io/zone")
        no_pdb = self.helm.render(["redis-multi.yaml"], ["podDisruptionBudget.enabled=false"])
        self.assertEqual(of_kind(no_pdb, "PodDisruptionBudget"), [])

    def test_checksums_roll_pods_on_config_and_secret_changes(self):
        def annotations(sets=()):
            return one(self.helm.render(["tls.yaml"], sets), "Deployment")["spec"]["template"][
                "metadata"]["annotations"]
        base = annotations()
        rotated = annotations(["secrets.adminKeys.content=ops rotated-key"])
        reconfigured = annotations(["config.heartbeat=30s"])
        self.assertNotEqual(base["checksum/secret"], rotated["checksum/secret"])
        self.assertEqual(base["checksum/config"], rotated["checksum/config"])
        self.assertNotEqual(base["checksum/config"], reconfigured["checksum/config"])
        self.assertEqual(base["checksum/secret"], reconfigured["checksum/secret"])

    def test_hpa_pdb_and_servicemonitor(self):
        objects = self.helm.render(["hpa.yaml"])
        self.assertNotIn("replicas", one(objects, "Deployment")["spec"])
        hpa = one(objects, "HorizontalPodAutoscaler")
        self.assertEqual((hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]), (2, 8))
        metrics = {m["type"]: m for m in hpa["spec"]["metrics"]}
        self.assertEqual(metrics["Resource"]["resource"]["target"]["averageUtilization"], 60)
        self.assertEqual(metrics["Pods"]["pods"]["metric"]["name"], "ssebridge_streams")
        self.assertEqual(metrics["Pods"]["pods"]["target"]["averageValue"], "4000")
        self.assertEqual(one(objects, "PodDisruptionBudget")["spec"]["maxUnavailable"], 1)
        monitor = one(objects, "ServiceMonitor")
        self.assertEqual(monitor["apiVersion"], "monitoring.coreos.com/v1")
        self.assertEqual(monitor["metadata"]["labels"]["release"], "kube-prometheus-stack")
        self.assertEqual(monitor["metadata"]["namespace"], "demo")
        self.assertEqual(monitor["spec"]["endpoints"][0]["port"], "admin")
        self.assertEqual(monitor["spec"]["endpoints"][0]["path"], "/metrics")
        # It selects the admin Service, and only that one.
        selected = [s for s in of_kind(objects, "Service")
                    if all(s["metadata"]["labels"].get(k) == v
                           for k, v in monitor["spec"]["selector"]["matchLabels"].items())]
        self.assertEqual([s["metadata"]["name"] for s in selected], ["rel-ssebridge-admin"])

    def test_grpc_probe_and_separate_grpc_service(self):
        objects = self.helm.render(["grpc-probe.yaml"])
        probe = container(objects)["readinessProbe"]
        self.assertEqual(probe["grpc"], {"port": 50051})
        self.assertNotIn("httpGet", probe)
        main = objects[("Service", "rel-ssebridge")]
        grpc = objects[("Service", "rel-ssebridge-grpc")]
        self.assertEqual(main["spec"]["type"], "LoadBalancer")
        self.assertEqual([p["name"] for p in main["spec"]["ports"]], ["http"])
        self.assertEqual(grpc["spec"]["type"], "ClusterIP")
        self.assertEqual([(p["name"], p["port"], p["targetPort"]) for p in grpc["spec"]["ports"]],
                         [("grpc", 50051, "grpc")])

    def test_networkpolicy(self):
        objects = self.helm.render(["networkpolicy.yaml"])
        policy = one(objects, "NetworkPolicy")
        self.assertEqual(policy["spec"]["policyTypes"], ["Ingress", "Egress"])
        http_rule, grpc_rule, admin_rule = policy["spec"]["ingress"]
        self.assertEqual(admin_rule["ports"], [{"port": "admin", "protocol": "TCP"}])
        self.assertEqual(admin_rule["from"], [{"podSelector": {}}])
        # httpFrom is set: the helm test pod is let in beside it.
        test_pod = [o for (k, _), o in objects.items() if k == "Pod"][0]
        self.assertEqual(http_rule["from"][-1]["podSelector"]["matchLabels"],
                         {k: v for k, v in test_pod["metadata"]["labels"].items()
                          if k.startswith("app.kubernetes.io/") and k != "app.kubernetes.io/managed-by"})
        self.assertEqual(http_rule["ports"], [{"port": "http", "protocol": "TCP"}])
        self.assertIn("namespaceSelector", http_rule["from"][0])
        self.assertEqual(grpc_rule["from"], [{"podSelector": {"matchLabels": {"role": "publisher"}}}])
        egress_ports = [p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]]
        self.assertEqual(sorted(egress_ports), [53, 53, 6390])
        default_grpc = one(self.helm.render(sets=["networkPolicy.enabled=true"]), "NetworkPolicy")
        self.assertEqual(default_grpc["spec"]["ingress"][1]["from"], [{"podSelector": {}}])
        self.assertNotIn("egress", default_grpc["spec"])


if __name__ == "__main__":
    unittest.main()
