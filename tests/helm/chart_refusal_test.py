"""Values the chart refuses: by values.schema.json (types, unknown keys) and
by the template's own rules (_validate.tpl), each with a message naming what
to set."""
import unittest

from helm_tool import HelmTestCase


class RefusalTest(HelmTestCase):
    def assert_refused(self, sets, *needles, files=()):
        message = self.helm.refusal(files, sets)
        for needle in needles:
            self.assertIn(needle, message)

    def test_memory_broker_refuses_several_replicas(self):
        self.assert_refused(["replicaCount=2"], "replicaCount: 2 with the memory broker",
                            "config.broker=redis", "config.redis_url", "--broker=redis")

    def test_memory_broker_refuses_an_hpa(self):
        self.assert_refused(["autoscaling.enabled=true"], "autoscaling.enabled with the memory broker",
                            "config.broker=redis")

    def test_redis_broker_needs_a_url(self):
        self.assert_refused(["config.broker=redis", "replicaCount=2"], "needs config.redis_url")
        # and with one, several replicas render
        self.helm.render(sets=["config.broker=redis", "config.redis_url=redis://r:6379/0",
                               "replicaCount=2"])

    def test_redis_sentinels_instead_of_a_url(self):
        # sentinels alone are enough for several replicas ...
        objects = self.helm.render(sets=["config.broker=redis",
                                         "config.redis_sentinels=s0:26379\\,s1:26380",
                                         "replicaCount=2"])
        args = [a for o in objects.values() if o.get("kind") == "Deployment"
                for c in o["spec"]["template"]["spec"]["containers"] for a in c.get("args", [])]
        self.assertIn("--redis_sentinels=s0:26379,s1:26380", args)
        # ... and a URL naming another server beside them is refused, naming both
        self.assert_refused(["config.broker=redis", "config.redis_sentinels=s0:26379",
                             "config.redis_url=redis://r:6379/0"],
                            "config.redis_sentinels", "config.redis_url")

    def test_front_doors_need_their_targets(self):
        self.assert_refused(["ingress.enabled=true"], "ingress.hosts")
        self.assert_refused(["httpRoute.enabled=true"], "httpRoute.parentRefs")

    def test_grpc_probe_is_refused_with_grpc_tls(self):
        self.assert_refused(["probes.readiness.type=grpc"], "cannot speak TLS",
                            "probes.readiness.type=http", files=["tls.yaml"])
        self.assert_refused(["probes.readiness.type=grpc", "config.grpc_tls_cert_file=/c",
                             "config.grpc_tls_key_file=/k"], "cannot speak TLS")

    def test_a_flag_set_twice_is_refused(self):
        self.assert_refused(["config.publisher_keys_file=/x"],
                            "config.publisher_keys_file is set by secrets", files=["tls.yaml"])

    def test_secret_inconsistencies(self):
        self.assert_refused(["secrets.jwt.files.k=v"], "keysFile")
        self.assert_refused(["secrets.jwt.files.k=v", "secrets.jwt.keysFile=other"],
                            '"other" is not one of secrets.jwt.files')
        self.assert_refused(["secrets.jwt.keysFile=k"], "need secrets.jwt.existingSecret or secrets.jwt.files")
        self.assert_refused(["secrets.grpcTls.cert=x"], "cert and key go together")
        self.assert_refused(["secrets.grpcTls.requireClientCert=true"], "mTLS needs")
        self.assert_refused(["secrets.publisherKeys.existingSecret=s", "secrets.publisherKeys.content=x"],
                            "not both")

    def test_bad_durations_and_ports(self):
        self.assert_refused(["config.shutdown_deadline=inf"], "config.shutdown_deadline",
                            "not a finite duration")
        self.assert_refused(["config.grpc_port=8080"], "must differ")
        self.assert_refused(["autoscaling.enabled=true", "config.broker=redis",
                             "config.redis_url=redis://r:6379/0", "autoscaling.minReplicas=5",
                             "autoscaling.maxReplicas=2"], "minReplicas")


class SchemaTest(HelmTestCase):
    """values.schema.json: wrong types and unknown keys are errors."""

    def assert_schema_refuses_each(self, cases):
        """cases: [(sets, needle)]; each must fail the schema naming needle."""
        messages = self.helm.refusals([((), sets) for sets, _ in cases])
        for (sets, needle), message in zip(cases, messages):
            with self.subTest(sets=sets):
                self.assertIn("schema", message)
                self.assertIn(needle, message)

    def test_wrong_types(self):
        cases = [
            (["replicaCount=two"], "/replicaCount"),
            (["config.http_port=eighty"], "/config/http_port"),
            (["config.heartbeat=15"], "/config/heartbeat"),      # a duration needs its unit
            (["config.heartbeat=15 seconds"], "/config/heartbeat"),
            (["config.jwt_require_exp=yes"], "/config/jwt_require_exp"),
            (["config.publish_rate_limit=fast"], "/config/publish_rate_limit"),
            (["config.max_connections=0"], "/config/max_connections"),
            (["config.http_port=70000"], "/config/http_port"),
            (["config.broker=kafka"], "/config/broker"),
            (["config.redis_url=tcp://redis:6379"], "/config/redis_url"),
            (["ingress.controller=istio"], "/ingress/controller"),
            (["probes.readiness.type=tcp"], "/probes/readiness/type"),
            (["service.httpPort=http"], "/service/httpPort"),
            (["shutdown.preStopSleepSeconds=-1"], "/shutdown/preStopSleepSeconds"),
            (["extraArgs[0]=not-a-flag"], "/extraArgs/0"),
        ]
        self.assert_schema_refuses_each(cases)

    def test_unknown_keys(self):
        cases = [
            (["replicas=2"], "'replicas'"),
            (["config.no_such_flag=1"], "'no_such_flag'"),
            (["config.http-port=8080"], "'http-port'"),
            (["secrets.jwt.keyfile=k"], "'keyfile'"),
            (["ingress.host=x"], "'host'"),
            (["serviceMonitor.intervall=30s"], "'intervall'"),
            (["autoscaling.streams.target=5"], "'target'"),
            (["networkPolicy.egress.allow=true"], "'allow'"),
            (["shutdown.deadline=10s"], "'deadline'"),
        ]
        self.assert_schema_refuses_each([(sets, f"additional properties {key}") for sets, key in cases])


if __name__ == "__main__":
    unittest.main()
