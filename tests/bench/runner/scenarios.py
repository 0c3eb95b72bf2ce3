"""Scenarios 1-5: burst and paced fan-out, idle hold, per-user delivery
and ingest. Each returns one result row (a dict) for results.json."""

import math
import time

from .measure import (cpu_block, finish_subscribers, read_lines_until, run_publisher, send,
                      start_subscribers, summarize_subs, warm_up)
from .procs import log, proc_stats
from .report import fmt

def fanout(ctx, system, n, events, rate, label, hard_s=120):
    """Scenarios 1 and 2: n streams on one channel, `events` events."""
    channel = ctx.channel()
    subs = start_subscribers(ctx, system, channel, n, events)
    connect_deadline = time.monotonic() + 30 + n / max(1, system.connect_rate) * 3
    t_connect = time.monotonic()
    ready = read_lines_until(subs, "ready", connect_deadline)
    connect_s = time.monotonic() - t_connect
    warmups = warm_up(ctx, system, channel, subs)
    m_before = system.metrics()
    pids = system.pids()
    comps = system.components()
    comp_before = {k: proc_stats(v) for k, v in comps.items()}
    before = proc_stats(pids)
    pub_args = system.pub_args(channel) + ["--events=%d" % events, "--size=100"]
    if rate:
        duration_ms = int(events / rate * 1000) + 5000
        pub_args += ["--rate=%g" % rate, "--duration_ms=%d" % duration_ms]
    else:
        duration_ms = 90000 if not ctx.args.quick else 20000
        pub_args += ["--duration_ms=%d" % duration_ms]
    pub_args += ["--drain_ms=30000"]
    pub = run_publisher(ctx, pub_args, timeout=duration_ms / 1000 + 45)
    sent = pub.get("sent", 0)
    if sent != events:
        send(subs, "expect %d" % sent)
    # Done when every stream has every event; else after 20 s without a
    # delivery, or hard_s after the publisher finished.
    hard_ms = hard_s * 1000 if not ctx.args.quick else 15000
    send(subs, "stop %d %d" % (20000 if not ctx.args.quick else 5000, hard_ms))
    res = finish_subscribers(subs, time.monotonic() + hard_ms / 1000 + 20)
    after = proc_stats(pids)
    comp_after = {k: proc_stats(v) for k, v in comps.items()}
    m_after = system.metrics()
    res = [r for r in res if r]
    d = summarize_subs(res) if res else {"deliveries": 0, "missing": None}
    d.update({"system": system.name, "scenario": label, "subscribers": n, "events": events,
              "rate": rate, "events_sent": sent, "events_accepted": pub.get("accepted", 0),
              "publish_errors": pub.get("errors", 0), "publish_error_kinds": pub.get("error_kinds", {}),
              "publish_door": system.door, "connect_s": round(connect_s, 2),
              "ready": ready, "workers": len(subs), "warmup_publishes": warmups,
              "publish_server_closes": pub.get("server_closes", 0)})
    deliveries = d.get("deliveries", 0)
    expected = d.get("streams_open", 0) * sent
    d["expected_deliveries"] = expected
    d["all_delivered"] = bool(res) and expected > 0 and deliveries == expected and d.get("streams_failed", 1) == 0
    if pub.get("first_send_ns") and d.get("last_recv_ns"):
        span = (d["last_recv_ns"] - pub["first_send_ns"]) / 1e9
        d["time_to_last_delivery_ms"] = span * 1000
        d["deliveries_per_s"] = deliveries / span if span > 0 else None
        d["publish_span_ms"] = (pub["last_send_ns"] - pub["first_send_ns"]) / 1e6 if pub.get("last_send_ns") else None
    d.update(cpu_block(before, after, deliveries))
    if comps:
        d["cpu_by_process_s"] = {k: round(comp_after[k]["cpu_s"] - comp_before[k]["cpu_s"], 3)
                                 for k in comps}
    if m_before and m_after:
        dw = m_after.get("ssebridge_stream_writes_total", 0) - m_before.get("ssebridge_stream_writes_total", 0)
        dd = m_after.get("ssebridge_events_delivered_total", 0) - m_before.get("ssebridge_events_delivered_total", 0)
        d["bridge_writev_calls"] = dw
        d["bridge_deliveries_metric"] = dd
        d["bridge_deliveries_per_writev"] = (dd / dw) if dw else None
        d["bridge_slow_disconnects"] = m_after.get("ssebridge_slow_consumer_disconnects_total", 0) - m_before.get("ssebridge_slow_consumer_disconnects_total", 0)
    log("  %-18s %-6s N=%-6d E=%-5d rate=%-5s delivered %d/%d  %s  cpu %.2fs  %s µs/delivery  p99 %s ms" % (
        system.name, label, n, events, rate or "burst", deliveries, expected,
        "OK" if d["all_delivered"] else "MISSING",
        d["server_cpu_s"], fmt(d.get("cpu_us_per_delivery"), 2), fmt(d.get("latency_ms", {}).get("p99"), 1)))
    return d


def idle(ctx, system, n):
    """Scenario 3: n idle streams; memory, threads and files per stream."""
    channel = ctx.channel()
    time.sleep(0.5)
    pids = system.pids()
    before = proc_stats(pids)
    subs = start_subscribers(ctx, system, channel, n, 0)
    ready = read_lines_until(subs, "ready", time.monotonic() + 30 + n / max(1, system.connect_rate) * 3)
    time.sleep(2.0)   # let allocators settle
    pids = system.pids()
    after = proc_stats(pids)
    send(subs, "quit")
    res = [r for r in finish_subscribers(subs, time.monotonic() + 20) if r]
    opened = sum(r["open"] for r in res)
    d = {"system": system.name, "scenario": "idle", "subscribers": n, "streams_open": opened,
         "streams_failed": sum(r["failed"] + r["never_opened"] for r in res),
         "closed_early": sum(r["closed_early"] for r in res), "ready": ready,
         "rss_before_bytes": before["rss_bytes"], "rss_after_bytes": after["rss_bytes"],
         "rss_per_stream_bytes": (after["rss_bytes"] - before["rss_bytes"]) / opened if opened else None,
         "threads_before": before["threads"], "threads_after": after["threads"],
         "threads_per_stream": (after["threads"] - before["threads"]) / opened if opened else None,
         "open_files_before": before["open_files"], "open_files_after": after["open_files"],
         "server_processes": after["processes"],
         "server_cpu_s_connecting": round(after["cpu_s"] - before["cpu_s"], 3)}
    d["all_open"] = opened == n and d["closed_early"] == 0
    log("  %-18s idle   N=%-6d open %d  RSS %.1f -> %.1f MiB  %s B/stream  threads %d -> %d" % (
        system.name, n, opened, before["rss_bytes"] / 2**20, after["rss_bytes"] / 2**20,
        fmt(d["rss_per_stream_bytes"], 0), before["threads"], after["threads"]))
    return d


def peruser(ctx, system, users, rate, seconds):
    """Scenario 4: `users` streams, each authenticated as its own user
    (u<i>, a JWT minted by the load generator); every event targets one
    user (u<seq % users>). CPU per event should not grow with the users:
    the hub finds recipients through its user index."""
    channel = ctx.channel()
    per_user = max(1, math.ceil(rate * seconds / users))
    events = per_user * users
    extra = ["--header=Authorization: Bearer {jwt}", "--jwt_secret_file=" + system.jwt_secret_file,
             "--expect=%d" % per_user, "--user_stride=%d" % users]
    subs = start_subscribers(ctx, system, channel, users, events, per_event=False, extra=extra)
    connect_deadline = time.monotonic() + 30 + users / max(1, system.connect_rate) * 3
    ready = read_lines_until(subs, "ready", connect_deadline)
    warmups = warm_up(ctx, system, channel, subs)
    pids = system.pids()
    before = proc_stats(pids)
    duration_ms = int(events / rate * 1000) + 10000
    pub = run_publisher(ctx, system.pub_args(channel) + [
        "--events=%d" % events, "--size=100", "--user_targets=%d" % users,
        "--rate=%g" % rate, "--duration_ms=%d" % duration_ms, "--drain_ms=30000"],
        timeout=duration_ms / 1000 + 45)
    sent = pub.get("sent", 0)
    hard_ms = 60000 if not ctx.args.quick else 15000
    send(subs, "stop %d %d" % (10000 if not ctx.args.quick else 5000, hard_ms))
    res = [r for r in finish_subscribers(subs, time.monotonic() + hard_ms / 1000 + 20) if r]
    after = proc_stats(pids)
    d = summarize_subs(res) if res else {"deliveries": 0}
    d.update({"system": system.name, "scenario": "peruser", "subscribers": users, "users": users,
              "events": events, "rate": rate, "events_sent": sent,
              "events_accepted": pub.get("accepted", 0), "publish_errors": pub.get("errors", 0),
              "publish_error_kinds": pub.get("error_kinds", {}), "publish_door": system.door,
              "ready": ready, "warmup_publishes": warmups})
    deliveries = d.get("deliveries", 0)
    d["expected_deliveries"] = sent   # one recipient per event
    d["foreign_deliveries"] = sum(r.get("foreign", 0) for r in res)
    d["all_delivered"] = (bool(res) and sent == events and deliveries == sent and
                          d["foreign_deliveries"] == 0 and d.get("streams_failed", 1) == 0)
    if pub.get("first_send_ns") and pub.get("last_send_ns"):
        span = (pub["last_send_ns"] - pub["first_send_ns"]) / 1e9
        d["achieved_rate"] = sent / span if span > 0 else None
    d.update(cpu_block(before, after, deliveries))
    d["cpu_us_per_event"] = (d["server_cpu_s"] * 1e6 / sent) if sent else None
    log("  %-18s peruser users=%-6d rate=%-6s delivered %d/%d  %s  cpu %.2fs  %s µs/event  p99 %s ms" % (
        system.name, users, rate, deliveries, sent, "OK" if d["all_delivered"] else "MISSING",
        d["server_cpu_s"], fmt(d.get("cpu_us_per_event"), 2), fmt(d.get("latency_ms", {}).get("p99"), 1)))
    return d


def ingest(ctx, system, duration_ms, http_door=False, count=0, batch=0, http_conns=8,
           http_batch=0):
    """Scenario 5: one publisher as fast as it goes, one subscriber. With
    `batch`, ssebridge's PublishBatchStream carries that many events per
    message (a separate row: the issue's target is one event per message).
    The HTTP door publishes over `http_conns` kept-alive connections; with
    `http_batch`, that many events per POST (a JSON array)."""
    channel = ctx.channel()
    cap = 4000000
    subs = start_subscribers(ctx, system, channel, 1, cap, per_event=False)
    ready = read_lines_until(subs, "ready", time.monotonic() + 20)
    if http_door:
        saved = system.pub_args
        system.pub_args = lambda ch, ingest=False: system.http_pub_args(ch, 1)
    try:
        warm_up(ctx, system, channel, subs)
    finally:
        if http_door:
            system.pub_args = saved
    pids = system.pids()
    comps = system.components()
    comp_before = {k: proc_stats(v) for k, v in comps.items()}
    before = proc_stats(pids)
    if http_door:
        args = system.http_pub_args(channel, http_conns)
        door = "HTTP POST /v1/publish, %d connection%s" % (http_conns, "" if http_conns == 1 else "s")
        if http_batch:
            args.append("--http_batch=%d" % http_batch)
            door += ", %d events per POST (JSON array)" % http_batch
    elif batch:
        args = ["--mode=grpc-batch-stream", "--target=127.0.0.1:%d" % system.grpc_port,
                "--channel=" + channel, "--batch=%d" % batch, "--window=%d" % (20 * batch)]
        door = "gRPC PublishBatchStream (%d events/message), --queue_bytes=256 MiB" % batch
    else:
        args = system.pub_args(channel, ingest=True)
        door = system.door
    args += ["--events=%d" % (count or cap), "--duration_ms=%d" % duration_ms, "--drain_ms=20000",
             "--size=100"]
    pub = run_publisher(ctx, args, timeout=duration_ms / 1000 + 40)
    sent = pub.get("sent", 0)
    send(subs, "expect %d" % pub.get("accepted", 0))
    send(subs, "stop 5000 60000")
    res = [r for r in finish_subscribers(subs, time.monotonic() + 80) if r]
    after = proc_stats(pids)
    comp_after = {k: proc_stats(v) for k, v in comps.items()}
    delivered = sum(r["deliveries"] for r in res)
    if http_door:
        suffix = " (HTTP batch %d)" % http_batch if http_batch else " (HTTP)"
        if http_conns == 1:
            suffix = suffix[:-1] + ", 1 conn)"
    else:
        suffix = " (batch %d)" % batch if batch else ""
    d = {"system": system.name + suffix, "scenario": "ingest",
         "publish_door": door, "duration_ms": duration_ms, "events_sent": sent,
         "events_accepted": pub.get("accepted", 0), "publish_errors": pub.get("errors", 0),
         "publish_error_kinds": pub.get("error_kinds", {}),
         "accepted_per_s": pub.get("accepted_per_s"), "delivered": delivered,
         "publish_server_closes": pub.get("server_closes", 0),
         "ready": ready}
    d["all_delivered"] = bool(res) and delivered == pub.get("accepted", -1) and sent > 0
    d["duplicates"] = sum(r["duplicates"] for r in res)
    d["out_of_order"] = sum(r["out_of_order"] for r in res)
    c = cpu_block(before, after, pub.get("accepted", 0))
    d["server_cpu_s"] = c["server_cpu_s"]
    d["cpu_us_per_event"] = c["cpu_us_per_delivery"]
    d["events_per_cpu_s"] = c["deliveries_per_cpu_s"]
    if comps:
        d["cpu_by_process_s"] = {k: round(comp_after[k]["cpu_s"] - comp_before[k]["cpu_s"], 3)
                                 for k in comps}
    if res:
        d["latency_ms"] = summarize_subs(res)["latency_ms"]
    log("  %-18s ingest %s: %s accepted/s, delivered %d/%d %s" % (
        d["system"], door, fmt(d["accepted_per_s"], 0), delivered, pub.get("accepted", 0),
        "OK" if d["all_delivered"] else "MISSING"))
    return d
