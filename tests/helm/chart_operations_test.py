"""The operator-facing parts of the chart: the admin listener kept inside the
cluster, autoscaling targets, the PDB, HTTPRoute timeouts, and every
extension point (values/operations.yaml sets them all at once). Every
rendered object is also checked against its Kubernetes or CRD schema by
helm_tool (the validator is shown to fail here)."""
import unittest

from helm_tool import HelmTestCase, container, flags_of, of_kind, one

REDIS = ["config.broker=redis", "config.redis_url=redis://r:6379/0"]


class AdminPortTest(HelmTestCase):
    def test_admin_port_is_internal_only(self):
        for service_type in ("ClusterIP", "NodePort", "LoadBalancer"):
            with self.subTest(service_type=service_type):
                objects = self.helm.render(["ingress.yaml", "httproute.yaml"],
                                           [f"service.type={service_type}"])
                main = objects[("Service", "rel-ssebridge")]
                self.assertNotIn("admin", [p["name"] for p in main["spec"]["ports"]])
                self.assertNotIn(9090, [p["port"] for p in main["spec"]["ports"]])
                admin = objects[("Service", "rel-ssebridge-admin")]
                self.assertEqual(admin["spec"]["type"], "ClusterIP")
                self.assertEqual(admin["spec"]["ports"],
                                 [{"name": "admin", "port": 9090, "targetPort": "admin",
                                   "protocol": "TCP"}])
                ingress = one(objects, "Ingress")
                backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"]
                            for p in r["http"]["paths"]}
                self.assertEqual(backends, {"rel-ssebridge"})
                route = one(objects, "HTTPRoute")
                self.assertEqual({b["name"] for r in route["spec"]["rules"] for b in r["backendRefs"]},
                                 {"rel-ssebridge"})

    def test_admin_port_follows_config_and_must_differ(self):
        # config.admin_port comes with the admin listener's flag; extraArgs
        # cannot move the port the chart derives, so the chart's value is it.
        objects = self.helm.render(sets=["adminService.port=9999"])
        self.assertEqual(objects[("Service", "rel-ssebridge-admin")]["spec"]["ports"][0]["port"], 9999)
        ports = {p["name"]: p["containerPort"] for p in container(objects)["ports"]}
        self.assertEqual(ports["admin"], int(flags_of(objects)["admin_port"]))
        for port in ("8080", "50051"):
            with self.subTest(port=port):
                err = self.helm.refusal(sets=[f"config.http_port={9090 if port == '8080' else 8080}",
                                              f"config.grpc_port={9090 if port == '50051' else 50051}"])
                self.assertIn("config.admin_port (9090) must differ", err)


class AutoscalingAndDisruptionTest(HelmTestCase):
    def hpa_metrics(self, sets):
        hpa = one(self.helm.render(sets=REDIS + ["autoscaling.enabled=true", *sets]),
                  "HorizontalPodAutoscaler")
        return [(m["type"], m.get("resource", {}).get("name") or m["pods"]["metric"]["name"])
                for m in hpa["spec"]["metrics"]]

    def test_hpa_targets_are_options(self):
        self.assertEqual(self.hpa_metrics([]), [("Resource", "cpu")])
        self.assertEqual(self.hpa_metrics(["autoscaling.targetMemoryUtilizationPercentage=80"]),
                         [("Resource", "cpu"), ("Resource", "memory")])
        self.assertEqual(self.hpa_metrics(["autoscaling.targetCPUUtilizationPercentage=null",
                                           "autoscaling.streams.enabled=true"]),
                         [("Pods", "ssebridge_streams")])
        err = self.helm.refusal(sets=REDIS + ["autoscaling.enabled=true",
                                              "autoscaling.targetCPUUtilizationPercentage=null"])
        self.assertIn("autoscaling.enabled needs a target", err)

    def test_pdb_min_available_or_max_unavailable(self):
        base = REDIS + ["replicaCount=3"]
        pdb = one(self.helm.render(sets=base), "PodDisruptionBudget")["spec"]
        self.assertEqual((pdb.get("minAvailable"), pdb.get("maxUnavailable")), (None, 1))
        pdb = one(self.helm.render(sets=base + ["podDisruptionBudget.minAvailable=2",
                                                "podDisruptionBudget.maxUnavailable=null"]),
                  "PodDisruptionBudget")["spec"]
        self.assertEqual((pdb.get("minAvailable"), pdb.get("maxUnavailable")), (2, None))
        pdb = one(self.helm.render(sets=base + [("--set-string", "podDisruptionBudget.maxUnavailable=50%")]),
                  "PodDisruptionBudget")["spec"]
        self.assertEqual(pdb["maxUnavailable"], "50%")
        err = self.helm.refusal(sets=base + ["podDisruptionBudget.minAvailable=2"])
        self.assertIn("give minAvailable or maxUnavailable, not both", err)


class RoutesTest(HelmTestCase):
    def timeouts(self, values_files=(), sets=()):
        route = one(self.helm.render(["httproute.yaml", *values_files], sets), "HTTPRoute")
        return route["spec"]["rules"][0].get("timeouts")

    def test_httproute_timeouts_can_be_removed(self):
        self.assertEqual(self.timeouts(), {"request": "3600s", "backendRequest": "3600s"})
        self.assertIsNone(self.timeouts(sets=["httpRoute.timeouts=null"]))
        self.assertEqual(self.timeouts(sets=["httpRoute.timeouts.backendRequest=null"]),
                         {"request": "3600s"})
        self.assertEqual(self.timeouts(sets=["httpRoute.timeouts.request=10m"]),
                         {"request": "10m", "backendRequest": "3600s"})
        self.helm.refusal(["httproute.yaml"], [("--set-string", "httpRoute.timeouts.request=1 hour")])


class ExtensionPointsTest(HelmTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.objects = cls.helm.render(["operations.yaml"])

    def test_pod_extensions(self):
        deploy = one(self.objects, "Deployment")
        self.assertEqual(deploy["spec"]["minReadySeconds"], 10)
        pod = deploy["spec"]["template"]
        self.assertEqual(pod["metadata"]["labels"]["team"], "realtime")
        self.assertEqual(pod["metadata"]["annotations"]["example.com/owner"], "realtime")
        spec = pod["spec"]
        self.assertEqual([c["name"] for c in spec["initContainers"]], ["wait-for-redis"])
        self.assertEqual([c["name"] for c in spec["containers"]], ["ssebridge", "log-shipper"])
        c = container(self.objects)
        self.assertEqual(c["env"], [{"name": "TZ", "value": "UTC"}])
        self.assertEqual(c["envFrom"], [{"configMapRef": {"name": "bridge-env"}}])
        self.assertIn({"name": "certs", "mountPath": "/etc/ssl/extra", "readOnly": True},
                      c["volumeMounts"])
        self.assertIn({"name": "certs", "configMap": {"name": "ca-bundle"}}, spec["volumes"])
        spread = spec["topologySpreadConstraints"]
        self.assertEqual([s["topologyKey"] for s in spread],
                         ["kubernetes.io/hostname", "topology.kubernetes.io/zone"])
        # Without its own selector a constraint gets the release's pods'.
        self.assertEqual(spread[0]["labelSelector"]["matchLabels"],
                         deploy["spec"]["selector"]["matchLabels"])
        self.assertEqual(spread[1]["labelSelector"]["matchLabels"],
                         {"app.kubernetes.io/name": "ssebridge"})

    def test_service_extensions(self):
        main = self.objects[("Service", "rel-ssebridge")]
        self.assertEqual(main["metadata"]["labels"]["exposure"], "public")
        spec = main["spec"]
        self.assertEqual(spec["loadBalancerIP"], "203.0.113.10")
        self.assertEqual(spec["loadBalancerSourceRanges"], ["198.51.100.0/24"])
        self.assertEqual(spec["externalTrafficPolicy"], "Local")
        self.assertEqual({p["name"]: p["nodePort"] for p in spec["ports"]},
                         {"http": 30080, "grpc": 30051})
        admin = self.objects[("Service", "rel-ssebridge-admin")]
        self.assertEqual(admin["metadata"]["labels"]["exposure"], "internal")
        self.assertEqual(admin["spec"]["ports"][0]["port"], 9191)
        self.assertNotIn("nodePort", admin["spec"]["ports"][0])
        # ClusterIP ignores nodePorts (the API server would refuse them).
        plain = self.helm.render(sets=["service.nodePorts.http=30080"])
        self.assertNotIn("nodePort", plain[("Service", "rel-ssebridge")]["spec"]["ports"][0])

    def test_monitoring_and_route_extensions(self):
        monitor = one(self.objects, "ServiceMonitor")
        self.assertEqual(monitor["metadata"]["namespace"], "monitoring")
        self.assertEqual(monitor["spec"]["namespaceSelector"], {"matchNames": ["demo"]})
        endpoint = monitor["spec"]["endpoints"][0]
        self.assertEqual((endpoint["interval"], endpoint["scrapeTimeout"]), ("15s", "5s"))
        self.assertEqual(endpoint["relabelings"][0]["targetLabel"], "node")
        self.assertEqual(endpoint["metricRelabelings"][0]["action"], "drop")
        rule = one(self.objects, "PrometheusRule")
        self.assertEqual(rule["metadata"]["namespace"], "monitoring")
        rules = rule["spec"]["groups"][0]["rules"]
        self.assertEqual(rules[-1]["record"], "ssebridge:streams:sum")
        self.assertIn("> 0.9 * 20000", [r for r in rules if r.get("alert") == "SSEBridgeStreamsNearLimit"][0]["expr"])
        self.assertTrue(all(r["labels"]["team"] == "realtime" for r in rules if "alert" in r))
        self.assertEqual(one(self.objects, "ConfigMap")["metadata"]["annotations"],
                         {"grafana_folder": "Realtime"})
        self.assertEqual(one(self.objects, "Ingress")["metadata"]["labels"]["exposure"], "public")
        self.assertEqual(one(self.objects, "HTTPRoute")["metadata"]["labels"]["exposure"], "public")
        self.assertEqual(one(self.objects, "PodDisruptionBudget")["spec"]["minAvailable"], 2)
        hpa = one(self.objects, "HorizontalPodAutoscaler")
        self.assertEqual([m.get("resource", {}).get("name") for m in hpa["spec"]["metrics"]],
                         ["memory", None])
        policy = one(self.objects, "NetworkPolicy")
        self.assertEqual(policy["spec"]["ingress"][2]["from"][0]["namespaceSelector"]["matchLabels"],
                         {"kubernetes.io/metadata.name": "monitoring"})

    def test_every_kind_the_chart_makes_is_validated_and_the_validator_can_fail(self):
        kinds = {k for k, _ in self.objects}
        self.assertEqual(kinds, {"ConfigMap", "Deployment", "HTTPRoute", "HorizontalPodAutoscaler",
                                 "Ingress", "NetworkPolicy", "Pod", "PodDisruptionBudget",
                                 "PrometheusRule", "Service", "ServiceAccount", "ServiceMonitor"})
        broken = []
        for (kind, _), obj in self.objects.items():
            obj = dict(obj)
            if kind == "Deployment":
                obj["spec"] = dict(obj["spec"], replicas="three")
            elif kind == "ServiceMonitor":
                obj["spec"] = dict(obj["spec"], endpoints=[{"port": 9090}])
            elif kind == "PrometheusRule":
                obj["spec"] = {"groups": [{"rules": []}]}  # a group needs a name
            elif kind == "HTTPRoute":
                obj["spec"] = dict(obj["spec"], parentRefs=[{"namespace": "x"}])
            else:
                continue
            broken.append(obj)
        errors = self.helm.schema_errors(broken)
        self.assertEqual(sorted(k for k, _, _ in errors),
                         ["Deployment", "HTTPRoute", "PrometheusRule", "ServiceMonitor"], errors)
        self.assertEqual(self.helm.schema_errors([{"apiVersion": "example.com/v1", "kind": "Widget",
                                                   "metadata": {"name": "w"}}])[0][0], "Widget")

    def test_schema_refuses_bad_extension_values(self):
        for sets in (["service.nodePorts.http=99999"],
                     ["initContainers[0].name=x"],  # no image
                     [("--set-string", "service.loadBalancerSourceRanges[0]=anywhere")],
                     ["serviceMonitor.namespace=Bad_Namespace"],
                     [("--set-json", "prometheusRule.streamsNearLimitRatio=1.5")],
                     ["extraContainers[0].name=ssebridge", "extraContainers[0].image=x"]):
            with self.subTest(sets=sets):
                self.helm.refusal(sets=sets)


if __name__ == "__main__":
    unittest.main()
