"""Tests of ssebridge_publisher against the real bridge binary: real gRPC to
publish, real HTTP (http.client) to read the SSE stream.

Run: PYTHONPATH=<generated stubs>:clients/python SSEBRIDGE_BINARY=... \
     /usr/bin/python3 -m unittest discover -s clients/python/tests -v
"""

import datetime
import json
import os
import signal
import sys
import tempfile
import threading
import time
import unittest

import grpc

sys.path.insert(0, os.path.dirname(__file__))
from bridge import Bridge, SseReader, seq_of  # noqa: E402

from ssebridge_publisher import Event, PublishError, Publisher, Tls  # noqa: E402


class PublishTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bridge = Bridge()
        cls.pub = Publisher(cls.bridge.target)

    @classmethod
    def tearDownClass(cls):
        cls.pub.close()
        cls.assert_exit_ok(cls.bridge.stop())

    @staticmethod
    def assert_exit_ok(code):
        if code != 0:
            raise AssertionError(f"bridge exited with {code}")

    def test_publish_reaches_an_sse_subscriber(self):
        sse = SseReader(self.bridge.http_port, ["tasks"])
        try:
            ack = self.pub.publish("tasks", {"id": 1}, event="taskDone")
            self.assertRegex(ack.id, r"^[0-9a-z]+-\d+$")
            self.assertEqual(ack.subscribers, 1)
            self.assertFalse(ack.replayed)
            now = datetime.datetime.now(datetime.timezone.utc)
            self.assertLess(abs((now - ack.published_at).total_seconds()), 60)
            [ev] = sse.wait_for(1)
            self.assertEqual(ev, {"id": ack.id, "event": "taskDone", "data": '{"id":1}'})
        finally:
            sse.close()

    def test_data_kinds(self):
        sse = SseReader(self.bridge.http_port, ["kinds"])
        try:
            self.pub.publish("kinds", "plain text")
            self.pub.publish("kinds", "h\u00e9".encode("utf-8"))
            self.pub.publish("kinds", [1, "two"])
            events = sse.wait_for(3)
            self.assertEqual([e["data"] for e in events], ["plain text", "h\u00e9", '[1,"two"]'])
            self.assertEqual({e["event"] for e in events}, {"message"})
        finally:
            sse.close()

    def test_idempotency_key_replays(self):
        first = self.pub.publish("idem", "x", idempotency_key="py-k1")
        again = self.pub.publish("idem", "x", idempotency_key="py-k1")
        self.assertFalse(first.replayed)
        self.assertTrue(again.replayed)
        self.assertEqual(again.id, first.id)

    def test_bad_channel_raises_invalid_argument(self):
        with self.assertRaises(PublishError) as cm:
            self.pub.publish("no spaces", "x")
        self.assertEqual(cm.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("channel", cm.exception.message)
        self.assertIn("INVALID_ARGUMENT", str(cm.exception))

    def test_bad_arguments_are_refused_before_sending(self):
        with self.assertRaisesRegex(ValueError, "channel"):
            self.pub.publish("", "x")
        with self.assertRaisesRegex(TypeError, "user_ids"):
            self.pub.publish("a", "x", user_ids="u1")
        with self.assertRaisesRegex(ValueError, "target"):
            Publisher("")
        with self.assertRaisesRegex(ValueError, "token"):
            Publisher("127.0.0.1:1", token="a\nb")
        with self.assertRaisesRegex(ValueError, "max_in_flight"):
            self.pub.publish_stream([], max_in_flight=0)
        with self.assertRaisesRegex(TypeError, "tls"):
            Publisher("127.0.0.1:1", tls="yes")

    def test_unreachable_bridge_raises(self):
        with Publisher("127.0.0.1:1", timeout=2) as dead:
            with self.assertRaises(PublishError) as cm:
                dead.publish("a", "x")
        self.assertIn(cm.exception.code,
                      (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED))

    def test_tls_against_a_plaintext_port_fails(self):
        with Publisher(self.bridge.target, tls=Tls(), timeout=3) as tls_pub:
            with self.assertRaises(PublishError) as cm:
                tls_pub.publish("a", "x")
        self.assertIn(cm.exception.code,
                      (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED))


class PublishStreamTest(unittest.TestCase):
    def setUp(self):
        self.bridge = Bridge()
        self.pub = Publisher(self.bridge.target)

    def tearDown(self):
        if self.bridge.proc.poll() is None:
            self.bridge.proc.send_signal(signal.SIGCONT)
        self.pub.close()
        self.bridge.stop()

    def test_results_match_requests_in_order_and_all_arrive(self):
        sse = SseReader(self.bridge.http_port, ["load"])
        try:
            n = 300
            events = (Event(channel="load", event="n", data={"i": i}) for i in range(n))
            results = list(self.pub.publish_stream(events, max_in_flight=5))
            self.assertEqual(len(results), n)
            for i, r in enumerate(results):
                self.assertTrue(r.ok, r.error)
                self.assertEqual(r.request.data, {"i": i})
            for a, b in zip(results, results[1:]):
                self.assertLess(seq_of(a.ack.id), seq_of(b.ack.id))
            got = sse.wait_for(n)
            self.assertEqual([e["id"] for e in got], [r.ack.id for r in results])
            self.assertEqual([json.loads(e["data"]) for e in got], [{"i": i} for i in range(n)])
        finally:
            sse.close()

    def test_a_bad_request_fails_alone(self):
        results = list(self.pub.publish_stream([
            {"channel": "ok", "data": "1"},
            {"channel": "ok", "data": "2", "event": "ssebridge.fake"},
            {"channel": "ok", "data": ""},
            {"channel": "ok", "data": "4"},
        ]))
        self.assertEqual([r.ok for r in results], [True, False, False, True])
        self.assertEqual(results[1].error.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("event", results[1].error.message)
        self.assertIn("data", results[2].error.message)
        self.assertLess(seq_of(results[0].ack.id), seq_of(results[3].ack.id))

    def test_a_malformed_item_stops_the_stream_with_a_clear_error(self):
        seen = []
        with self.assertRaisesRegex(TypeError, "expected an Event or a dict"):
            for r in self.pub.publish_stream([{"channel": "m", "data": "1"}, 42]):
                seen.append(r)
        self.assertEqual(len(seen), 1)
        self.assertTrue(seen[0].ok)

    def test_the_window_bounds_what_is_read_from_the_source(self):
        pulled = []
        frozen = threading.Event()

        def source():
            for i in range(50):
                if i == 8:
                    # The rest is read only once the bridge cannot answer,
                    # so nothing is in flight when it stops (a fast bridge
                    # would otherwise answer all 50 before the freeze).
                    frozen.wait(10)
                pulled.append(i)
                yield Event(channel="bp", data=str(i))

        results = []
        stream = self.pub.publish_stream(source(), max_in_flight=4)
        consumer = threading.Thread(target=lambda: results.extend(stream))
        consumer.start()
        deadline = time.monotonic() + 5
        while len(results) < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(len(results), 8)
        self.bridge.freeze()  # no answers from now on
        frozen.set()
        deadline = time.monotonic() + 5
        while len(pulled) < len(results) + 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        answered, read = len(results), len(pulled)
        # Everything read is answered or one of at most four in flight, and
        # with the bridge stopped nothing more is read.
        self.assertEqual(answered, 8)
        self.assertEqual(read, answered + 4)
        self.assertLess(read, 50)
        time.sleep(0.3)
        self.assertEqual((len(results), len(pulled)), (answered, read))
        self.bridge.proc.send_signal(signal.SIGCONT)
        consumer.join(10)
        self.assertEqual(len(results), 50)
        self.assertTrue(all(r.ok for r in results))
        self.assertEqual([r.request.data for r in results], [str(i) for i in range(50)])

    def test_stream_failure_reports_what_got_no_answer(self):
        stream = self.pub.publish_stream(
            (Event(channel="gone", data=str(i)) for i in range(100)), max_in_flight=3)
        self.assertTrue(next(stream).ok)
        self.bridge.freeze()
        time.sleep(0.2)
        self.bridge.proc.kill()
        self.bridge.proc.wait()
        with self.assertRaises(PublishError) as cm:
            list(stream)
        self.assertEqual(cm.exception.code, grpc.StatusCode.UNAVAILABLE)
        self.assertTrue(1 <= len(cm.exception.unacked) <= 3, cm.exception.unacked)


class AuthTest(unittest.TestCase):
    KEY = "python-test-key-0123456789"
    LIMITED = "python-limited-key-0123456789"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        keys = os.path.join(cls.tmp.name, "publishers")
        with open(keys, "w") as f:
            f.write(f"tasks {cls.KEY}\nlimited {cls.LIMITED} billing*\n")
        cls.bridge = Bridge([f"--publisher_keys_file={keys}"])

    @classmethod
    def tearDownClass(cls):
        cls.bridge.stop()
        cls.tmp.cleanup()

    def test_no_token_is_unauthenticated_and_the_key_publishes(self):
        with Publisher(self.bridge.target) as anon:
            with self.assertRaises(PublishError) as cm:
                anon.publish("tasks", "x")
            self.assertEqual(cm.exception.code, grpc.StatusCode.UNAUTHENTICATED)
        with Publisher(self.bridge.target, token=self.KEY) as pub:
            self.assertRegex(pub.publish("tasks", "x").id, r"-\d+$")

    def test_stream_with_a_bad_token_raises_unauthenticated(self):
        with Publisher(self.bridge.target, token="wrong-key-0123456789") as pub:
            with self.assertRaises(PublishError) as cm:
                list(pub.publish_stream([Event("tasks", "x")]))
            self.assertEqual(cm.exception.code, grpc.StatusCode.UNAUTHENTICATED)

    def test_a_channel_not_granted_fails_that_request_only(self):
        with Publisher(self.bridge.target, token=self.LIMITED) as pub:
            results = list(pub.publish_stream([Event("tasks", "x"), Event("billing.eu", "y")]))
        self.assertEqual(results[0].error.code, grpc.StatusCode.PERMISSION_DENIED)
        self.assertIn("tasks", results[0].error.message)
        self.assertTrue(results[1].ok)


if __name__ == "__main__":
    unittest.main()
