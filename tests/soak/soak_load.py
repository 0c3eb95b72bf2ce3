#!/usr/bin/env python3
"""Soak load for a running ssebridge: holds N SSE streams, publishes at a fixed
rate over HTTP (keep-alive POST /v1/publish), churns connections (close one,
reopen it with Last-Event-ID), and every --sample seconds writes one CSV row:
the bridge's RSS and open fds (/proc/<pid>), the streams held, the events
received and the publish-to-receive latency percentiles (each payload carries
its CLOCK_MONOTONIC send time). Standard library only; one asyncio loop.

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


class Stream:
    """One held SSE stream on one channel."""

    def __init__(self, args, stats, channel):
        self.args, self.stats, self.channel = args, stats, channel
        self.last_id = ""
        self.task = None
        self.closing = False

    async def run(self):
        headers = ""
        if self.last_id:
            headers = f"Last-Event-ID: {self.last_id}\r\n"
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.args.http_port)
        except OSError:
            self.stats.open_errors += 1
            return
        try:
            writer.write((f"GET /v1/events?channel={self.channel} HTTP/1.1\r\n"
                          f"Host: 127.0.0.1\r\nAccept: text/event-stream\r\n{headers}\r\n")
                         .encode())
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            if not head.startswith(b"HTTP/1.1 200"):
                self.stats.open_errors += 1
                return
            self.stats.opens += 1
            event_id, event_type = "", ""
            while True:
                line = await reader.readline()
                if not line:
                    break
                if line.startswith(b"data: "):
                    if event_type != "ssebridge.reset":
                        parts = line[6:].split(b" ")
                        if len(parts) == 2 and parts[0] == b"soak":
                            sent_ns = int(parts[1])
                            self.stats.latencies_ms.append((time.monotonic_ns() - sent_ns) / 1e6)
                            self.stats.received += 1
                elif line.startswith(b"id: "):
                    event_id = line[4:].strip().decode()
                elif line.startswith(b"event: "):
                    event_type = line[7:].strip().decode()
                    if event_type == "ssebridge.reset":
                        self.stats.resets += 1
                elif line == b"\n":
                    if event_id:
                        self.last_id = event_id
                    event_id, event_type = "", ""
            if not self.closing:
                self.stats.unexpected_closes += 1
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError,
                asyncio.LimitOverrunError):
            if not self.closing:
                self.stats.unexpected_closes += 1
        finally:
            writer.close()

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


async def publisher(args, stats, stop_at):
    reader, writer = await asyncio.open_connection("127.0.0.1", args.http_port)
    interval = 1.0 / args.rate
    next_at = time.monotonic()
    seq = 0
    while time.monotonic() < stop_at:
        channel = f"soak{seq % args.channels}"
        body = f'{{"channel":"{channel}","data":"soak {time.monotonic_ns()}"}}'.encode()
        writer.write((f"POST /v1/publish HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
                     .encode() + body)
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for h in head.split(b"\r\n"):
            if h.lower().startswith(b"content-length:"):
                length = int(h.split(b":")[1])
        await reader.readexactly(length)
        if head.startswith(b"HTTP/1.1 200"):
            stats.published += 1
        else:
            stats.publish_errors += 1
        seq += 1
        next_at += interval
        delay = next_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -1:
            next_at = time.monotonic()  # fell behind by a second: do not burst
    writer.close()


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
    print(f"soak: {stats.opens}/{args.streams} streams open", flush=True)

    start = time.monotonic()
    stop_at = start + args.minutes * 60
    tasks = [asyncio.ensure_future(publisher(args, stats, stop_at)),
             asyncio.ensure_future(churner(args, streams, stop_at))]
    with open(args.csv, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["t_s", "rss_bytes", "open_fds", "streams_held", "published",
                      "publish_errors", "received", "p50_ms", "p99_ms", "max_ms",
                      "opens", "open_errors", "unexpected_closes", "resets"])
        while time.monotonic() < stop_at:
            await asyncio.sleep(min(args.sample, max(0.0, stop_at - time.monotonic())))
            lat = sorted(stats.latencies_ms)
            stats.latencies_ms = []
            rss, fds = read_rss_fds(args.pid)
            held = sum(1 for s in streams if s.task is not None and not s.task.done())
            row = [round(time.monotonic() - start, 1), rss, fds, held, stats.published,
                   stats.publish_errors, stats.received, round(percentile(lat, 50), 2),
                   round(percentile(lat, 99), 2), round(lat[-1], 2) if lat else float("nan"),
                   stats.opens, stats.open_errors, stats.unexpected_closes, stats.resets]
            out.writerow(row)
            f.flush()
            print("soak: t=%ss rss=%.1fMiB fds=%d held=%d pub=%d recv=%d p99=%sms" %
                  (row[0], rss / 1048576, fds, held, row[4], row[6], row[8]), flush=True)
    for t in tasks:
        await t
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
