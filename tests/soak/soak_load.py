#!/usr/bin/env python3
"""Soak load for a running ssebridge: holds N SSE streams, publishes at a fixed
rate over HTTP (keep-alive POST /v1/publish), churns connections (close one,
reopen it with Last-Event-ID), and every --sample seconds writes one CSV row:
the bridge's RSS and open fds (/proc/<pid>), the streams held, the events
received and the publish-to-receive latency percentiles (each payload carries
its CLOCK_MONOTONIC send time). Each channel has one publishing worker and
numbers its events; every stream checks that what it reads, across its
reconnects, continues that numbering with no gap and no repeat.
Standard library only; one asyncio loop.

Bounded: stops after --minutes; every connection is closed on exit.
"""
import argparse
import asyncio
import csv
import os
import random
import sys
import time


def read_rss_fds(pid):
    rss = -1
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss, fds


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, int(round(p / 100.0 * (len(sorted_values) - 1))))
    return sorted_values[k]


class Stats:
    def __init__(self):
        self.latencies_ms = []
        self.received = 0
        self.published = 0
        self.publish_errors = 0
        self.opens = 0
        self.open_errors = 0
        self.unexpected_closes = 0
        self.resets = 0  # ssebridge.reset events (a cursor the bridge lost)
        self.gaps = 0  # events a stream never got (a jump in its channel's numbering)
        self.duplicates = 0  # events a stream got twice or out of order
        self.open_reasons = {}

    def open_error(self, reason):
        self.open_errors += 1
        self.open_reasons[reason] = self.open_reasons.get(reason, 0) + 1


class Stream:
    """One held SSE stream on one channel."""

    def __init__(self, args, stats, channel):
        self.args, self.stats, self.channel = args, stats, channel
        self.last_id = ""
        self.last_n = None  # the channel's number of the last event read
        self.task = None
        self.closing = False

    async def run(self):
        # Like EventSource: reconnect (with Last-Event-ID) after a failed
        # open or an unexpected close, until told to close.
        while True:
            ok = await self.connect_once()
            if self.closing:
                return
            await asyncio.sleep(1.0 if not ok else 0.2)

    async def connect_once(self):
        """Opens the stream and reads it until it ends. False when it could
        not be opened (counted with its reason)."""
        headers = ""
        if self.last_id:
            headers = f"Last-Event-ID: {self.last_id}\r\n"
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.args.http_port)
        except OSError as e:
            self.stats.open_error(f"connect: {e.strerror or e}")
            return False
        try:
            writer.write((f"GET /v1/events?channel={self.channel} HTTP/1.1\r\n"
                          f"Host: 127.0.0.1\r\nAccept: text/event-stream\r\n{headers}\r\n")
                         .encode())
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError) as e:
                self.stats.open_error(f"head: {type(e).__name__}")
                return False
            if not head.startswith(b"HTTP/1.1 200"):
                self.stats.open_error("status " + head.split(b"\r\n")[0].decode())
                return False
            self.stats.opens += 1
            event_id, event_type, event_n = "", "", None
            while True:
                line = await reader.readline()
                if not line:
                    break
                if line.startswith(b"data: "):
                    if event_type != "ssebridge.reset":
                        parts = line[6:].split(b" ")
                        if len(parts) == 3 and parts[0] == b"soak":
                            sent_ns, n = int(parts[1]), int(parts[2])
                            self.stats.latencies_ms.append((time.monotonic_ns() - sent_ns) / 1e6)
                            self.stats.received += 1
                            event_n = n
                elif line.startswith(b"id: "):
                    event_id = line[4:].strip().decode()
                elif line.startswith(b"event: "):
                    event_type = line[7:].strip().decode()
                    if event_type == "ssebridge.reset":
                        self.stats.resets += 1
                        self.last_n = None  # the numbering starts over from here
                elif line == b"\n":
                    # Dispatched: the cursor and the order check move
                    # together, so a stream cut mid-event (churn) resumes
                    # before that event and reads it once more, not twice.
                    if event_id:
                        self.last_id = event_id
                    if event_n is not None:
                        self.check_order(event_n)
                    event_id, event_type, event_n = "", "", None
            if not self.closing:
                self.stats.unexpected_closes += 1
            return True
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            if not self.closing:
                self.stats.unexpected_closes += 1
            return True
        finally:
            writer.close()

    def check_order(self, n):
        # The first event a stream ever reads sets where it joined; from then
        # on, reconnects included, each event must be the next one.
        if self.last_n is not None:
            if n <= self.last_n:
                self.stats.duplicates += 1
                return
            self.stats.gaps += n - self.last_n - 1
        self.last_n = n

    def start(self):
        self.closing = False
        self.task = asyncio.ensure_future(self.run())

    async def restart(self):
        self.closing = True
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        self.start()


async def publish_once(conn, args, body):
    """One POST on the keep-alive connection conn[0:2] (reopened when the
    server closed it: cpp-httplib serves a few requests per connection).
    The HTTP status, or 0 when the connection failed twice."""
    for _ in range(2):
        if conn[0] is None:
            conn[0], conn[1] = await asyncio.open_connection("127.0.0.1", args.http_port)
        reader, writer = conn
        try:
            writer.write((f"POST /v1/publish HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          f"Content-Type: application/json\r\n"
                          f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            length, close = 0, False
            for h in head.split(b"\r\n"):
                lower = h.lower()
                if lower.startswith(b"content-length:"):
                    length = int(h.split(b":")[1])
                elif lower.startswith(b"connection:") and b"close" in lower:
                    close = True
            await reader.readexactly(length)
            if close:
                writer.close()
                conn[0] = conn[1] = None
            return int(head.split(b" ")[1])
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            writer.close()
            conn[0] = conn[1] = None
    return 0


async def publisher(args, stats, stop_at, worker, workers):
    """One of `workers` keep-alive connections, each publishing rate/workers
    events/s (a single connection would cap the rate at 1/round-trip)."""
    conn = [None, None]
    interval = workers / args.rate
    next_at = time.monotonic() + worker * interval / workers
    seq = worker
    numbers = {}  # this worker is the only one publishing to these channels
    while time.monotonic() < stop_at:
        channel = f"soak{seq % args.channels}"
        n = numbers.get(channel, 0)
        body = f'{{"channel":"{channel}","data":"soak {time.monotonic_ns()} {n}"}}'.encode()
        if await publish_once(conn, args, body) == 200:
            stats.published += 1
            numbers[channel] = n + 1
        else:
            stats.publish_errors += 1
        seq += workers
        next_at += interval
        delay = next_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -1:
            next_at = time.monotonic()  # fell behind by a second: do not burst
    if conn[1] is not None:
        conn[1].close()


async def churner(args, streams, stop_at):
    if args.churn <= 0:
        return
    while time.monotonic() < stop_at:
        for s in random.sample(streams, min(args.churn, len(streams))):
            await s.restart()
        await asyncio.sleep(1.0)


async def main_async(args):
    stats = Stats()
    streams = [Stream(args, stats, f"soak{i % args.channels}") for i in range(args.streams)]
    # Open at a bounded rate so the accept queue is not the thing measured.
    for i, s in enumerate(streams):
        s.start()
        if i % 200 == 199:
            await asyncio.sleep(0.05)
    open_deadline = time.monotonic() + 120
    while stats.opens < args.streams and time.monotonic() < open_deadline:
        await asyncio.sleep(0.1)
    print(f"soak: {stats.opens}/{args.streams} streams open; failed opens (retried): "
          f"{stats.open_reasons or 0}", flush=True)

    start = time.monotonic()
    stop_at = start + args.minutes * 60
    # A channel's events must come from one worker, in order: the workers
    # split the channels, so their count divides --channels.
    workers = max(1, min(16, int(args.rate // 20)))
    while args.channels % workers:
        workers -= 1
    tasks = [asyncio.ensure_future(publisher(args, stats, stop_at, w, workers))
             for w in range(workers)]
    tasks.append(asyncio.ensure_future(churner(args, streams, stop_at)))
    with open(args.csv, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["t_s", "rss_bytes", "open_fds", "streams_held", "published",
                      "publish_errors", "received", "p50_ms", "p99_ms", "max_ms",
                      "opens", "open_errors", "unexpected_closes", "resets",
                      "gaps", "duplicates"])
        while time.monotonic() < stop_at:
            await asyncio.sleep(min(args.sample, max(0.0, stop_at - time.monotonic())))
            lat = sorted(stats.latencies_ms)
            stats.latencies_ms = []
            rss, fds = read_rss_fds(args.pid)
            held = sum(1 for s in streams if s.task is not None and not s.task.done())
            row = [round(time.monotonic() - start, 1), rss, fds, held, stats.published,
                   stats.publish_errors, stats.received, round(percentile(lat, 50), 2),
                   round(percentile(lat, 99), 2), round(lat[-1], 2) if lat else float("nan"),
                   stats.opens, stats.open_errors, stats.unexpected_closes, stats.resets,
                   stats.gaps, stats.duplicates]
            out.writerow(row)
            f.flush()
            print("soak: t=%ss rss=%.1fMiB fds=%d held=%d pub=%d recv=%d p99=%sms" %
                  (row[0], rss / 1048576, fds, held, row[4], row[6], row[8]), flush=True)
    for t in tasks:
        await t
    if stats.open_reasons:
        print(f"soak: failed opens (retried): {stats.open_reasons}", flush=True)
    for s in streams:
        s.closing = True
        if s.task is not None:
            s.task.cancel()
    await asyncio.gather(*[s.task for s in streams if s.task], return_exceptions=True)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--http-port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True, help="the bridge's PID")
    p.add_argument("--minutes", type=float, default=30)
    p.add_argument("--streams", type=int, default=5000)
    p.add_argument("--rate", type=float, default=200, help="events published per second")
    p.add_argument("--churn", type=int, default=10, help="connections replaced per second")
    p.add_argument("--channels", type=int, default=100,
                   help="streams and events are spread over this many channels")
    p.add_argument("--sample", type=float, default=10, help="seconds between CSV rows")
    p.add_argument("--csv", required=True)
    args = p.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
