"""Publisher and AsyncPublisher beyond publish, against the real bridge with
keys on: the ticket login end to end, PublishBatch with a refused request in
the middle, Admin GetStats (with and without the fleet) / DisconnectUser,
and the same PublishError for every failure."""
import asyncio
import datetime
import http.client
import os
import sys
import tempfile
import unittest
import urllib.parse

import grpc

sys.path.insert(0, os.path.dirname(__file__))
from bridge import Bridge  # noqa: E402

from ssebridge_publisher import (FleetStats, PublishError, Publisher,  # noqa: E402
                                 ReplicaStats)
from ssebridge_publisher.aio import AsyncPublisher  # noqa: E402

PUBLISHER_KEY = "py-calls-publisher-0123456789"
ADMIN_KEY = "py-calls-admin-0123456789abcd"


class ServiceCallsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        pubs = os.path.join(cls.dir.name, "publishers")
        admins = os.path.join(cls.dir.name, "admins")
        with open(pubs, "w") as f:
            f.write(f"app {PUBLISHER_KEY}\n")
        with open(admins, "w") as f:
            f.write(f"ops {ADMIN_KEY}\n")
        cls.bridge = Bridge([f"--publisher_keys_file={pubs}", f"--admin_keys_file={admins}"])

    @classmethod
    def tearDownClass(cls):
        cls.bridge.stop()
        cls.dir.cleanup()

    def test_ticket_login_end_to_end_then_admin(self):
        # The backend mints a ticket for its user...
        with Publisher(self.bridge.target, token=PUBLISHER_KEY) as app:
            ticket = app.issue_ticket("alice", ["orders.*"], ttl_seconds=30)
        self.assertTrue(ticket.ticket)
        self.assertIsNotNone(ticket.expires_at)
        # ...the page opens its stream with it (it works once)...
        qs = urllib.parse.urlencode({"channel": "orders.7", "ticket": ticket.ticket})
        conn = http.client.HTTPConnection("127.0.0.1", self.bridge.http_port, timeout=10)
        self.addCleanup(conn.close)
        conn.request("GET", f"/v1/events?{qs}")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        # ...and an event for alice reaches it.
        with Publisher(self.bridge.target, token=PUBLISHER_KEY) as app:
            ack = app.publish("orders.7", "for alice", user_ids=["alice"])
        body = b""
        while b"for alice" not in body:
            chunk = resp.read1(4096)
            self.assertTrue(chunk, "the stream ended before the event")
            body += chunk
        self.assertIn(f"id: {ack.id}".encode(), body)
        with Publisher(self.bridge.admin_target, token=ADMIN_KEY) as admin:
            stats = admin.get_stats(max_channels=5)
            self.assertEqual(stats.users, 1)
            self.assertEqual(stats.connections, 1)
            self.assertEqual([c.channel for c in stats.channel_stats], ["orders.7"])
            self.assertEqual(admin.disconnect_user("alice"), 1)

    def test_batch_and_errors_sync_and_async(self):
        with Publisher(self.bridge.target, token=PUBLISHER_KEY) as app:
            results = app.publish_batch([{"channel": "b", "data": "1"},
                                         {"channel": "bad channel", "data": "2"},
                                         {"channel": "b", "data": "3"}])
            self.assertEqual([r.ok for r in results], [True, False, True])
            self.assertEqual(results[1].error.code, grpc.StatusCode.INVALID_ARGUMENT)
        # Admin is served on the internal port only.
        with Publisher(self.bridge.admin_target, token=PUBLISHER_KEY) as app_on_admin_port:
            with self.assertRaises(PublishError) as denied:
                app_on_admin_port.get_stats()
            self.assertIn(denied.exception.code, (grpc.StatusCode.PERMISSION_DENIED,
                                                  grpc.StatusCode.UNAUTHENTICATED))
        with Publisher(self.bridge.target, token=ADMIN_KEY) as admin_on_public_port:
            with self.assertRaises(PublishError) as missing:
                admin_on_public_port.get_stats()
            self.assertEqual(missing.exception.code, grpc.StatusCode.UNIMPLEMENTED)
        with Publisher(self.bridge.target) as anonymous:
            with self.assertRaises(PublishError) as unauth:
                anonymous.issue_ticket("alice", ["a"])
            self.assertEqual(unauth.exception.code, grpc.StatusCode.UNAUTHENTICATED)

        async def run():
            async with AsyncPublisher(self.bridge.target, token=PUBLISHER_KEY) as app:
                results = await app.publish_batch([{"channel": "b", "data": "4"}])
                ticket = await app.issue_ticket("bob", ["b"])
                streamed = [r async for r in app.publish_stream(
                    [{"channel": "b", "data": str(i)} for i in range(5)], max_in_flight=2)]
            async with AsyncPublisher(self.bridge.target) as anonymous:
                try:
                    await anonymous.publish("b", "x")
                    code = None
                except PublishError as err:
                    code = err.code
            async with AsyncPublisher("127.0.0.1:1", timeout=2) as down:
                try:
                    await down.get_stats()
                    down_code = None
                except PublishError as err:
                    down_code = err.code
            return results, ticket, streamed, code, down_code

        results, ticket, streamed, code, down_code = asyncio.run(run())
        self.assertTrue(results[0].ok)
        self.assertTrue(ticket.ticket)
        self.assertEqual([r.ok for r in streamed], [True] * 5)
        ids = [int(r.ack.id.rsplit("-", 1)[1]) for r in streamed]
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(code, grpc.StatusCode.UNAUTHENTICATED)
        self.assertEqual(down_code, grpc.StatusCode.UNAVAILABLE)


class StatsFleetTest(unittest.TestCase):
    """get_stats(fleet=True) on a bridge of its own, so the idle numbers are
    known: with --broker=memory the fleet is this replica alone, and its one
    entry and the total are the top-level numbers."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        pubs = os.path.join(cls.dir.name, "publishers")
        admins = os.path.join(cls.dir.name, "admins")
        with open(pubs, "w") as f:
            f.write(f"app {PUBLISHER_KEY}\n")
        with open(admins, "w") as f:
            f.write(f"ops {ADMIN_KEY}\n")
        cls.bridge = Bridge([f"--publisher_keys_file={pubs}", f"--admin_keys_file={admins}"])

    @classmethod
    def tearDownClass(cls):
        cls.bridge.stop()
        cls.dir.cleanup()

    def assert_fleet_of_one(self, stats):
        self.assertIsInstance(stats.fleet, FleetStats)
        self.assertEqual(stats.fleet.error, "")
        self.assertEqual(len(stats.fleet.replicas), 1)
        here, total = stats.fleet.replicas[0], stats.fleet.total
        numbers = ("connections", "grpc_subscribers", "channels", "users", "published")
        for field in numbers:
            self.assertEqual(getattr(here, field), getattr(stats, field), field)
            self.assertEqual(getattr(total, field), getattr(stats, field), field)
        self.assertEqual(here.replica, stats.replica)
        self.assertEqual(stats.replica, "")  # --broker=memory names no replica
        # Taken for this answer: just now, as an aware UTC datetime.
        age = datetime.datetime.now(datetime.timezone.utc) - here.reported_at
        self.assertLess(abs(age.total_seconds()), 60)
        self.assertEqual(total, ReplicaStats("", *[getattr(stats, f) for f in numbers], None))

    def test_fleet_idle_then_after_a_publish_sync_and_async(self):
        with Publisher(self.bridge.admin_target, token=ADMIN_KEY) as admin:
            idle = admin.get_stats(fleet=True)
            self.assertEqual((idle.published, idle.connections), (0, 0))
            self.assert_fleet_of_one(idle)
            self.assertIsNone(admin.get_stats().fleet)
            # Bad input is refused here, before any call, as before.
            with self.assertRaises(ValueError):
                admin.get_stats(max_channels=-1, fleet=True)
            with self.assertRaises(TypeError):
                admin.get_stats(fleet="false")
        with Publisher(self.bridge.target, token=PUBLISHER_KEY) as app:
            app.publish("fleet", "x")

        async def run():
            async with AsyncPublisher(self.bridge.admin_target, token=ADMIN_KEY) as admin:
                with_fleet = await admin.get_stats(max_channels=1, fleet=True)
                without = await admin.get_stats(max_channels=1)
                try:
                    await admin.get_stats(max_channels=-1, fleet=True)
                    refused = None
                except ValueError as err:
                    refused = err
            return with_fleet, without, refused

        after, without, refused = asyncio.run(run())
        self.assertEqual(after.published, 1)
        self.assertEqual(after.fleet.replicas[0].published, 1)
        self.assert_fleet_of_one(after)
        self.assertIsNone(without.fleet)
        self.assertEqual(without.published, 1)
        self.assertIsNotNone(refused)


if __name__ == "__main__":
    unittest.main()
