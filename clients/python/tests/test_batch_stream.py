"""publish_batch_stream (BatchPublisher.PublishBatchStream) of Publisher and
AsyncPublisher against the real bridge: batches answered in order with a
Result per event, a refused event reported in its own Result as publish
reports errors, the window counting batches, and a clean end."""
import asyncio
import json
import os
import signal
import sys
import unittest

import grpc

sys.path.insert(0, os.path.dirname(__file__))
from bridge import Bridge, SseReader, seq_of  # noqa: E402

from ssebridge_publisher import Event, PublishError, Publisher, Result  # noqa: E402
from ssebridge_publisher.aio import AsyncPublisher  # noqa: E402


def batch(b, n=4, channel="bs"):
    return [Event(channel=channel, event="n", data={"b": b, "i": i}) for i in range(n)]


class BatchStreamTest(unittest.TestCase):
    def setUp(self):
        self.bridge = Bridge()
        self.pub = Publisher(self.bridge.target)

    def tearDown(self):
        if self.bridge.proc.poll() is None:
            self.bridge.proc.send_signal(signal.SIGCONT)
        self.pub.close()
        self.bridge.stop()

    def check_in_order(self, answers, batches, sse):
        self.assertEqual(len(answers), len(batches))
        flat = []
        for answer, sent in zip(answers, batches):
            self.assertIsInstance(answer, list)
            self.assertEqual([r.request for r in answer], list(sent))
            for r in answer:
                self.assertIsInstance(r, Result)
                self.assertTrue(r.ok, r.error)
                flat.append(r)
        for a, b in zip(flat, flat[1:]):
            self.assertLess(seq_of(a.ack.id), seq_of(b.ack.id))
        got = sse.wait_for(len(flat))
        self.assertEqual([e["id"] for e in got], [r.ack.id for r in flat])
        self.assertEqual([json.loads(e["data"]) for e in got], [r.request.data for r in flat])

    def test_batches_are_answered_in_order_with_a_result_per_event(self):
        sse = SseReader(self.bridge.http_port, ["bs"])
        try:
            batches = [batch(b) for b in range(20)]
            pulled = []

            def source():
                for b in batches:
                    pulled.append(b)
                    yield b

            answers = []
            stream = self.pub.publish_batch_stream(source(), max_in_flight=2)
            for answer in stream:
                # The window counts batches: at most two read ahead of the answers.
                self.assertLessEqual(len(pulled), len(answers) + 1 + 2)
                answers.append(answer)
            self.check_in_order(answers, batches, sse)
        finally:
            sse.close()

    def test_a_refused_event_fails_alone_and_the_stream_carries_on(self):
        sse = SseReader(self.bridge.http_port, ["ok"])
        try:
            answers = list(self.pub.publish_batch_stream([
                [{"channel": "ok", "data": "1"},
                 {"channel": "no spaces allowed", "data": "2"},
                 {"channel": "ok", "data": "3"}],
                [],
                [Event(channel="ok", data=str(i)) for i in range(1001)],
                [{"channel": "ok", "data": "4"}],
            ]))
            self.assertEqual([len(a) for a in answers], [3, 0, 1001, 1])
            mixed = answers[0]
            self.assertEqual([r.ok for r in mixed], [True, False, True])
            err = mixed[1].error
            self.assertIsInstance(err, PublishError)
            self.assertEqual(err.code, grpc.StatusCode.INVALID_ARGUMENT)
            self.assertIn("channel", err.message)
            self.assertTrue(str(err).startswith("INVALID_ARGUMENT: "))
            self.assertIsNone(mixed[1].ack)
            # Over 1,000: every event refused, none published.
            self.assertTrue(all(r.error.code == grpc.StatusCode.INVALID_ARGUMENT
                                for r in answers[2]))
            self.assertTrue(answers[3][0].ok)
            self.assertLess(seq_of(mixed[2].ack.id), seq_of(answers[3][0].ack.id))
            self.assertEqual([e["data"] for e in sse.wait_for(3)], ["1", "3", "4"])
        finally:
            sse.close()

    def test_a_malformed_batch_stops_the_stream_with_a_clear_error(self):
        seen = []
        with self.assertRaisesRegex(TypeError, "sequence of Event or dict"):
            for answer in self.pub.publish_batch_stream([[{"channel": "m", "data": "1"}],
                                                         {"channel": "m", "data": "2"}]):
                seen.append(answer)
        self.assertEqual(len(seen), 1)
        self.assertTrue(seen[0][0].ok)
        with self.assertRaises(ValueError):
            self.pub.publish_batch_stream([], max_in_flight=0)

    def test_stream_failure_reports_the_events_that_got_no_answer(self):
        stream = self.pub.publish_batch_stream((batch(b, 2, "gone") for b in range(100)),
                                               max_in_flight=3)
        self.assertTrue(all(r.ok for r in next(stream)))
        self.bridge.freeze()
        self.bridge.proc.kill()
        self.bridge.proc.wait()
        with self.assertRaises(PublishError) as cm:
            list(stream)
        self.assertEqual(cm.exception.code, grpc.StatusCode.UNAVAILABLE)
        unacked = cm.exception.unacked
        self.assertTrue(2 <= len(unacked) <= 6 and len(unacked) % 2 == 0, unacked)
        self.assertTrue(all(isinstance(e, Event) for e in unacked))

    def test_asyncio_batch_stream(self):
        sse = SseReader(self.bridge.http_port, ["bs"])

        async def main():
            async with AsyncPublisher(self.bridge.target) as pub:
                async def source():
                    for b in range(10):
                        yield batch(b)
                answers = [a async for a in pub.publish_batch_stream(source(),
                                                                     max_in_flight=2)]
                mixed = [a async for a in pub.publish_batch_stream(
                    [[{"channel": "bs-other", "data": "x"},
                      {"channel": "bad channel", "data": "y"}]])]
                with self.assertRaises(ValueError):
                    pub.publish_batch_stream([], max_in_flight=0)
                return answers, mixed

        try:
            answers, mixed = asyncio.run(main())
            self.check_in_order(answers, [batch(b) for b in range(10)], sse)
            self.assertEqual([r.ok for r in mixed[0]], [True, False])
            self.assertEqual(mixed[0][1].error.code, grpc.StatusCode.INVALID_ARGUMENT)
            self.assertIn("channel", mixed[0][1].error.message)
        finally:
            sse.close()


if __name__ == "__main__":
    unittest.main()
