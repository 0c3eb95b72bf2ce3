"""Scenario 7 (issue 20): trickle. Events published one at a time at a few
hundred or thousand per second, where a server's fixed cost per event
(thread hand-offs, wake-ups, per-call framework work) dominates its CPU.

Rows: N subscribers (1 and 5,000) x a rate (100 and 1,000 events/s) x each
publish door: ssebridge's unary Publish, PublishStream and HTTP POST; Nchan's
HTTP publish beside them at the same rates. One publisher, one connection,
one event per request, paced (`loadgen pub --rate`). Reference rows: the
bridge at 50,000 events/s through PublishStream (N=1: as many events as fit
in the run; N=5,000: a burst of 200 sent at that pace, which is as fast as
the fan-out drains). CPU per event = the server's CPU (utime+stime of every
process) over the publishing window / events sent. With --perf-stat, `perf
stat` counts context switches and syscalls of the server's processes over
the same window (per event in the row)."""

import os
import shutil
import subprocess
import time

from .measure import (cpu_block, finish_subscribers, read_lines_until, run_publisher, send,
                      start_subscribers, summarize_subs, warm_up)
from .procs import log, proc_stats
from .report import fmt
from .systems import Ssebridge

DOORS = ("unary", "stream", "http")
DOOR_NAMES = {"unary": "gRPC Publish (unary)", "stream": "gRPC PublishStream",
              "http": "HTTP POST, 1 connection"}
PERF_EVENTS = "task-clock,context-switches,cpu-migrations,raw_syscalls:sys_enter"


def pub_args(system, channel, door, base=None):
    """One connection, one event per request, for `door`. `base`: the
    system's own pub_args (while the warm-up borrows the attribute)."""
    base = base or system.pub_args
    if door == "unary":
        return ["--mode=grpc-unary", "--target=127.0.0.1:%d" % system.grpc_port,
                "--channel=" + channel]
    if door == "stream":
        return base(channel)
    if isinstance(system, Ssebridge):
        return system.http_pub_args(channel, 1)
    return [a for a in base(channel) if not a.startswith("--conns=")] + ["--conns=1"]


def _perf_start(ctx, pids, label):
    if not ctx.args.perf_stat or not shutil.which("perf") or not pids:
        return None
    out = os.path.join(ctx.root_tmp, "perf-%s.txt" % label)
    p = subprocess.Popen(["perf", "stat", "-x", ",", "-e", PERF_EVENTS, "-p",
                          ",".join(str(p) for p in pids), "-o", out],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    time.sleep(0.3)   # attached before the first publish
    return p, out


def _perf_stop(handle):
    """{event: count} from perf stat's CSV (-x ,), or {}."""
    if handle is None:
        return {}
    p, out = handle
    try:
        p.send_signal(2)   # SIGINT: perf prints its counts and exits
        p.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        p.kill()
        p.wait()
    counts = {}
    try:
        with open(out) as f:
            for line in f:
                parts = line.strip().split(",")
                if len(parts) >= 3 and parts[0] and parts[0][0].isdigit():
                    counts[parts[2]] = float(parts[0])
    except OSError:
        pass
    return counts


def trickle(ctx, system, n, rate, events, door, label="trickle", hard_s=60):
    """n streams on one channel; `events` published one at a time at `rate`
    through `door`. Returns the row."""
    channel = ctx.channel()
    subs = start_subscribers(ctx, system, channel, n, events, per_event=False)
    ready = read_lines_until(subs, "ready", time.monotonic() + 30 + n / max(1, system.connect_rate) * 3)
    saved = system.pub_args
    # The warm-up goes through the row's door too (a unary or HTTP row must
    # not be preceded by a gRPC stream).
    system.pub_args = lambda ch, ingest=False: pub_args(system, ch, door, base=saved)
    try:
        warmups = warm_up(ctx, system, channel, subs)
    finally:
        system.pub_args = saved
    pids = system.pids()
    before = proc_stats(pids)
    perf = _perf_start(ctx, pids, "%s-%s-%d-%d-%s" % (label, system.name, n, rate, door))
    duration_ms = int(events / rate * 1000) + 10000
    pub = run_publisher(ctx, pub_args(system, channel, door) + [
        "--events=%d" % events, "--size=100", "--rate=%g" % rate,
        "--duration_ms=%d" % duration_ms, "--drain_ms=20000"], timeout=duration_ms / 1000 + 40)
    sent = pub.get("sent", 0)
    if sent != events:
        send(subs, "expect %d" % sent)
    hard_ms = hard_s * 1000 if not ctx.args.quick else 15000
    send(subs, "stop %d %d" % (5000, hard_ms))
    res = [r for r in finish_subscribers(subs, time.monotonic() + hard_ms / 1000 + 20) if r]
    counts = _perf_stop(perf)
    after = proc_stats(pids)
    d = summarize_subs(res) if res else {"deliveries": 0}
    d.update({"system": system.name, "scenario": label, "subscribers": n, "rate": rate,
              "events": events, "door": door, "publish_door": DOOR_NAMES[door],
              "events_sent": sent, "events_accepted": pub.get("accepted", 0),
              "publish_errors": pub.get("errors", 0),
              "publish_error_kinds": pub.get("error_kinds", {}), "ready": ready,
              "warmup_publishes": warmups})
    deliveries = d.get("deliveries", 0)
    d["expected_deliveries"] = d.get("streams_open", 0) * sent
    d["all_delivered"] = (bool(res) and sent > 0 and deliveries == d["expected_deliveries"]
                          and d.get("streams_failed", 1) == 0)
    if pub.get("first_send_ns") and pub.get("last_send_ns") and sent > 1:
        span = (pub["last_send_ns"] - pub["first_send_ns"]) / 1e9
        d["achieved_rate"] = (sent - 1) / span if span > 0 else None
    d.update(cpu_block(before, after, deliveries))
    d["cpu_us_per_event"] = d["server_cpu_s"] * 1e6 / sent if sent else None
    if counts and sent:
        d["perf_per_event"] = {k: v / sent for k, v in counts.items()}
    log("  %-18s %s N=%-5d rate=%-6s %-7s delivered %d/%d %s  cpu %.2fs  %s µs/event%s" % (
        system.name, label, n, rate, door, deliveries, d["expected_deliveries"],
        "OK" if d["all_delivered"] else "MISSING", d["server_cpu_s"], fmt(d["cpu_us_per_event"], 1),
        "  %.1f cs/event" % d["perf_per_event"].get("context-switches", 0)
        if d.get("perf_per_event") else ""))
    return d


def run_trickle(ctx, system, plan, fresh, check_alive):
    """Every row of the plan for `system` (ssebridge: every door; a peer:
    its HTTP publish), then ssebridge's 50,000 events/s references."""
    rows = []
    bridge = isinstance(system, Ssebridge)
    doors = DOORS if bridge else ("http",)
    for n, rate, events in plan["rows"]:
        for door in doors:
            fresh()
            rows.append(trickle(ctx, system, n, rate, events, door))
            check_alive("trickle N=%d rate=%d %s" % (n, rate, door))
    if bridge:
        for n, rate, events in plan["reference"]:
            fresh()
            rows.append(trickle(ctx, system, n, rate, events, "stream", label="trickle-ref"))
            check_alive("trickle reference N=%d" % n)
    return rows
