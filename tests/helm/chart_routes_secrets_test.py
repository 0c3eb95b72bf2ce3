"""The chart's front doors (Ingress per controller, HTTPRoute), its Secrets
(created from values or existing) and NOTES.txt."""
import base64
import unittest

from helm_tool import HelmTestCase, container, flags_of, of_kind, one

NGINX_SSE = {
    "nginx.ingress.kubernetes.io/proxy-buffering": "off",
    "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
    "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
}


class RoutesTest(HelmTestCase):
    def test_ingress_defaults_to_sse_safe_nginx_and_routes_only_the_stream(self):
        ingress = one(self.helm.render(["ingress.yaml"]), "Ingress")
        annotations = ingress["metadata"]["annotations"]
        for k, v in NGINX_SSE.items():
            self.assertEqual(annotations[k], v, k)
        self.assertEqual(annotations["cert-manager.io/cluster-issuer"], "letsencrypt")
        rule = ingress["spec"]["rules"][0]
        self.assertEqual(rule["host"], "events.example.com")
        paths = rule["http"]["paths"]
        self.assertEqual([(p["path"], p["pathType"]) for p in paths], [("/v1/events", "Exact")])
        self.assertEqual(paths[0]["backend"]["service"], {"name": "rel-ssebridge", "port": {"number": 8080}})
        self.assertEqual(ingress["spec"]["tls"][0]["secretName"], "events-example-com-tls")

    def test_each_controller_gets_its_own_annotation_set(self):
        want = {
            "traefik": {},
            "haproxy": {"haproxy.org/timeout-server": "3600s"},
            "contour": {"projectcontour.io/response-timeout": "3600s"},
            "none": {},
        }
        for controller, expected in want.items():
            with self.subTest(controller=controller):
                ingress = one(self.helm.render(["ingress.yaml"], [f"ingress.controller={controller}"]),
                              "Ingress")
                annotations = dict(ingress["metadata"]["annotations"])
                annotations.pop("cert-manager.io/cluster-issuer")
                self.assertEqual(annotations, expected)

    def test_user_annotations_win_over_the_controller_set(self):
        ingress = one(self.helm.render(["ingress.yaml"], [
            ("--set-string", "ingress.annotations.nginx\\.ingress\\.kubernetes\\.io/proxy-read-timeout=7200")]),
            "Ingress")
        self.assertEqual(ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"],
                         "7200")

    def test_publish_path_only_with_publisher_credentials(self):
        refusal = self.helm.refusal(["ingress.yaml"], ["ingress.publishPath=true"])
        self.assertIn("secrets.publisherKeys", refusal)
        ingress = one(self.helm.render(["ingress.yaml", "tls.yaml"], ["ingress.publishPath=true"]), "Ingress")
        self.assertEqual([p["path"] for p in ingress["spec"]["rules"][0]["http"]["paths"]],
                         ["/v1/events", "/v1/publish"])

    def test_httproute_has_hour_long_timeouts(self):
        route = one(self.helm.render(["httproute.yaml"]), "HTTPRoute")
        self.assertEqual(route["apiVersion"], "gateway.networking.k8s.io/v1")
        self.assertEqual(route["spec"]["parentRefs"], [{"name": "public-gateway", "namespace": "gateway-system"}])
        self.assertEqual(route["spec"]["hostnames"], ["events.example.com"])
        rule = route["spec"]["rules"][0]
        self.assertEqual(rule["timeouts"], {"request": "3600s", "backendRequest": "3600s"})
        self.assertEqual(rule["matches"], [{"path": {"type": "Exact", "value": "/v1/events"}}])
        self.assertEqual(rule["backendRefs"], [{"name": "rel-ssebridge", "port": 8080}])


class SecretsTest(HelmTestCase):
    def test_secrets_created_from_values_are_mounted_and_flagged(self):
        objects = self.helm.render(["tls.yaml"])
        secrets = {name: s for (kind, name), s in objects.items() if kind == "Secret"}
        self.assertEqual(sorted(secrets), ["rel-ssebridge-admin-keys", "rel-ssebridge-grpc-tls",
                                           "rel-ssebridge-jwt", "rel-ssebridge-publisher-keys"])
        jwt = secrets["rel-ssebridge-jwt"]["data"]
        self.assertEqual(base64.b64decode(jwt["jwt-keys"]), b"shared HS256 hs.secret\n")
        tls = secrets["rel-ssebridge-grpc-tls"]
        self.assertEqual(tls["type"], "kubernetes.io/tls")
        self.assertEqual(sorted(tls["data"]), ["ca.crt", "tls.crt", "tls.key"])
        flags = flags_of(objects)
        self.assertEqual(flags["jwt_keys_file"], "/etc/ssebridge/jwt/jwt-keys")
        self.assertEqual(flags["publisher_keys_file"], "/etc/ssebridge/publishers/publishers")
        self.assertEqual(flags["admin_keys_file"], "/etc/ssebridge/admins/admins")
        self.assertEqual(flags["grpc_tls_cert_file"], "/etc/ssebridge/grpc-tls/tls.crt")
        self.assertEqual(flags["grpc_tls_key_file"], "/etc/ssebridge/grpc-tls/tls.key")
        self.assertEqual(flags["grpc_tls_client_ca_file"], "/etc/ssebridge/grpc-tls/ca.crt")
        self.assertNotIn("jwt_secret_file", flags)
        pod = one(objects, "Deployment")["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod["volumes"] if "secret" in v}
        self.assertEqual({n: v["secret"]["secretName"] for n, v in volumes.items()}, {
            "jwt": "rel-ssebridge-jwt", "publisher-keys": "rel-ssebridge-publisher-keys",
            "admin-keys": "rel-ssebridge-admin-keys", "grpc-tls": "rel-ssebridge-grpc-tls"})
        for v in volumes.values():
            self.assertEqual(v["secret"]["defaultMode"], 0o440)
        mounts = [m for m in container(objects)["volumeMounts"] if m["name"] in volumes]
        self.assertEqual(len(mounts), 4)
        self.assertTrue(all(m["readOnly"] for m in mounts))
        # TLS on the gRPC port: no h2c hint to meshes and proxies.
        grpc_port = [p for p in objects[("Service", "rel-ssebridge")]["spec"]["ports"]
                     if p["name"] == "grpc"][0]
        self.assertNotIn("appProtocol", grpc_port)

    def test_existing_secrets_are_used_as_they_are(self):
        objects = self.helm.render(["existing-secrets.yaml"])
        self.assertEqual(of_kind(objects, "Secret"), [])
        pod = one(objects, "Deployment")["spec"]["template"]["spec"]
        volumes = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        self.assertEqual(volumes, {"jwt": "bridge-jwt", "publisher-keys": "bridge-publishers",
                                   "admin-keys": "bridge-admins", "grpc-tls": "bridge-grpc-tls",
                                   "redis-password": "redis-auth"})
        flags = flags_of(objects)
        self.assertEqual(flags["jwt_secret_file"], "/etc/ssebridge/jwt/secret")
        self.assertEqual(flags["publisher_keys_file"], "/etc/ssebridge/publishers/keys.txt")
        self.assertEqual(flags["admin_keys_file"], "/etc/ssebridge/admins/admins")
        self.assertEqual(flags["redis_password_file"], "/etc/ssebridge/redis/redis-password")
        self.assertNotIn("grpc_tls_client_ca_file", flags)
        mtls = flags_of(self.helm.render(["existing-secrets.yaml"], ["secrets.grpcTls.requireClientCert=true"]))
        self.assertEqual(mtls["grpc_tls_client_ca_file"], "/etc/ssebridge/grpc-tls/ca.crt")


    def test_redis_tls_from_values_or_an_existing_secret(self):
        tls = ["config.redis_url=rediss://redis.example:6380/0",
               "secrets.redisTls.ca=CA PEM", "secrets.redisTls.cert=CERT PEM",
               "secrets.redisTls.key=KEY PEM"]
        objects = self.helm.render(["redis-multi.yaml"], tls)
        secret = objects[("Secret", "rel-ssebridge-redis-tls")]
        self.assertEqual(sorted(secret["data"]), ["ca.crt", "tls.crt", "tls.key"])
        self.assertEqual(base64.b64decode(secret["data"]["ca.crt"]), b"CA PEM")
        flags = flags_of(objects)
        self.assertEqual(flags["redis_tls_ca_file"], "/etc/ssebridge/redis-tls/ca.crt")
        self.assertEqual(flags["redis_tls_cert_file"], "/etc/ssebridge/redis-tls/tls.crt")
        self.assertEqual(flags["redis_tls_key_file"], "/etc/ssebridge/redis-tls/tls.key")
        pod = one(objects, "Deployment")["spec"]["template"]["spec"]
        volumes = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        self.assertEqual(volumes["redis-tls"], "rel-ssebridge-redis-tls")
        # An existing Secret: only its CA unless it holds a client certificate.
        existing = ["config.redis_url=rediss://redis.example:6380/0",
                    "secrets.redisTls.existingSecret=redis-ca"]
        objects = self.helm.render(["redis-multi.yaml"], existing)
        self.assertNotIn(("Secret", "rel-ssebridge-redis-tls"), objects)
        flags = flags_of(objects)
        self.assertEqual(flags["redis_tls_ca_file"], "/etc/ssebridge/redis-tls/ca.crt")
        self.assertNotIn("redis_tls_cert_file", flags)
        flags = flags_of(self.helm.render(["redis-multi.yaml"],
                                          existing + ["secrets.redisTls.clientCert=true"]))
        self.assertEqual(flags["redis_tls_key_file"], "/etc/ssebridge/redis-tls/tls.key")
        # Refused at render time, naming the value.
        for sets, message in [
                (["secrets.redisTls.ca=CA PEM"], "needs config.redis_url to be rediss://"),
                (tls[:1] + ["secrets.redisTls.cert=CERT PEM"], "cert and key go together"),
                (existing + ["secrets.redisTls.ca=CA PEM"], "not both")]:
            error = self.helm.refusal(["redis-multi.yaml"], sets)
            self.assertIn(message, error)


class NotesTest(HelmTestCase):
    def test_notes_say_how_to_subscribe_and_publish(self):
        notes = self.helm.notes()
        self.assertIn("curl -N 'http://127.0.0.1:8080/v1/events?channel=", notes)
        self.assertIn("curl -X POST http://rel-ssebridge.demo.svc:8080/v1/publish", notes)
        self.assertIn("grpcurl -plaintext", notes)
        self.assertIn("port-forward svc/rel-ssebridge-admin 9090:9090", notes)
        self.assertIn("helm test rel -n demo", notes)
        self.assertIn("ssebridge.v1.Publisher/Publish", notes)
        self.assertIn("runs open (dev", notes)

    def test_notes_follow_ingress_tls_and_auth(self):
        notes = self.helm.notes(["ingress.yaml", "tls.yaml"])
        self.assertIn("curl -N 'https://events.example.com/v1/events?channel=", notes)
        self.assertIn("grpcurl -cacert", notes)
        self.assertIn("authorization: Bearer <publisher key>", notes)
        self.assertNotIn("runs open", notes)


if __name__ == "__main__":
    unittest.main()
