"""results.md: the tables per scenario, the issue's targets as ratios
measured in the same run, and the problems seen."""

import platform

from .measure import INGEST_BATCH
from .procs import CORES


def fmt(v, digits=1):
    if v is None:
        return "–"
    if isinstance(v, float) and abs(v) >= 1000:
        digits = 0
    if isinstance(v, float) and digits == 0:
        return "{:,.0f}".format(v)
    return ("{:,.%df}" % digits).format(v)


def find(results, **kw):
    for r in results:
        if all(r.get(k) == v for k, v in kw.items()):
            return r
    return None


def targets(results):
    """The issue's targets, as ratios measured in this run."""
    out = []

    def add(name, ours, ref, limit, better, unit, ref_name):
        if ours is None or ref is None or ref == 0:
            out.append({"target": name, "ssebridge": ours, "reference": ref, "reference_system": ref_name,
                        "ratio": None, "limit": limit, "met": None, "unit": unit})
            return
        ratio = ours / ref
        met = ratio <= limit if better == "lower" else ratio >= limit
        out.append({"target": name, "ssebridge": ours, "reference": ref, "reference_system": ref_name,
                    "ratio": ratio, "limit": limit, "met": met, "unit": unit,
                    "rule": ("ratio ≤ %g" if better == "lower" else "ratio ≥ %g") % limit})

    b5 = find(results, system="ssebridge", scenario="burst", subscribers=5000)
    n5 = find(results, system="nchan", scenario="burst", subscribers=5000)
    add("Burst fan-out N=5,000: CPU per delivery ≤ 0.25 × Nchan",
        b5 and b5.get("cpu_us_per_delivery"), n5 and n5.get("cpu_us_per_delivery"), 0.25, "lower", "µs", "nchan")
    p = find(results, system="ssebridge", scenario="paced", rate=100)
    pn = find(results, system="nchan", scenario="paced", rate=100)
    pb = find(results, system="baseline-send", scenario="paced", rate=100)
    add("Paced 100/s N=5,000: p99 latency ≤ Nchan",
        p and p.get("latency_ms", {}).get("p99"), pn and pn.get("latency_ms", {}).get("p99"), 1.0, "lower", "ms", "nchan")
    add("Paced 100/s N=5,000: CPU per delivery ≤ 1.1 × bare send()",
        p and p.get("cpu_us_per_delivery"), pb and pb.get("cpu_us_per_delivery"), 1.1, "lower", "µs", "baseline-send")
    i = find(results, system="ssebridge", scenario="idle")
    inn = find(results, system="nchan", scenario="idle")
    add("Idle hold: RSS per stream ≤ 0.5 × Nchan",
        i and i.get("rss_per_stream_bytes"), inn and inn.get("rss_per_stream_bytes"), 0.5, "lower", "bytes", "nchan")
    if i and i.get("rss_per_stream_bytes") is not None:
        out.append({"target": "Idle hold: memory per idle stream < 8 KiB (issue 2)",
                    "ssebridge": i["rss_per_stream_bytes"], "reference": 8192, "reference_system": "8 KiB",
                    "ratio": i["rss_per_stream_bytes"] / 8192, "limit": 1.0,
                    "met": i["rss_per_stream_bytes"] < 8192, "unit": "bytes", "rule": "ratio < 1"})
    g = find(results, system="ssebridge", scenario="ingest")
    gn = find(results, system="nchan", scenario="ingest")
    add("Ingest: ≥ 10 × Nchan's HTTP publish rate",
        g and g.get("accepted_per_s"), gn and gn.get("accepted_per_s"), 10.0, "higher", "events/s", "nchan")
    gb = find(results, system="ssebridge (batch %d)" % INGEST_BATCH, scenario="ingest")
    if gb:
        add("Ingest, %d events per gRPC message (not the issue's one-per-message target): "
            "≥ 10 × Nchan's HTTP publish rate" % INGEST_BATCH,
            gb.get("accepted_per_s"), gn and gn.get("accepted_per_s"), 10.0, "higher", "events/s", "nchan")
    # Per-user: CPU per event flat as users grow (10k users ≤ 1.5 × 1k users).
    for rate in sorted({r["rate"] for r in results if r["scenario"] == "peruser"}):
        small = find(results, system="ssebridge", scenario="peruser", rate=rate, users=1000)
        big = find(results, system="ssebridge", scenario="peruser", rate=rate, users=10000)
        if small and big:
            add("Per-user %s events/s: CPU per event at 10k users ≤ 1.5 × at 1k users" % "{:,}".format(rate),
                big.get("cpu_us_per_event"), small.get("cpu_us_per_event"), 1.5, "lower", "µs",
                "ssebridge, 1k users")
    trickle_targets(results, add)
    # Against better-sse: deliveries per server CPU second, every scenario.
    for r in results:
        if r["system"] != "ssebridge" or r["scenario"] not in ("burst", "paced", "ingest"):
            continue
        key = dict(scenario=r["scenario"], system="better-sse")
        if r["scenario"] == "burst":
            key["subscribers"] = r["subscribers"]
        if r["scenario"] == "paced":
            key["rate"] = r["rate"]
        o = find(results, **key)
        what = {"burst": "Burst N=%s" % "{:,}".format(r.get("subscribers", 0)),
                "paced": "Paced %s/s" % r.get("rate"), "ingest": "Ingest"}[r["scenario"]]
        mine = r.get("deliveries_per_cpu_s") or r.get("events_per_cpu_s")
        theirs = o and (o.get("deliveries_per_cpu_s") or o.get("events_per_cpu_s"))
        add("%s: ≥ 5 × better-sse's deliveries per CPU second" % what, mine, theirs, 5.0, "higher",
            "deliveries/CPU-s", "better-sse")
    return out


def trickle_targets(results, add):
    """Issue 20, item 1: CPU per event published one at a time, against
    Nchan's HTTP publish at the same N and rate, and against the bridge's
    own at 50,000 events/s (trickle-ref, same N)."""
    for r in results:
        if r["scenario"] != "trickle" or r["system"] != "ssebridge":
            continue
        n, rate = r["subscribers"], r["rate"]
        what = "Trickle N=%s %s/s, %s" % ("{:,}".format(n), "{:,}".format(rate), r["publish_door"])
        nchan = find(results, system="nchan", scenario="trickle", subscribers=n, rate=rate)
        add("%s: CPU per event ≤ 0.5 × Nchan's over HTTP" % what, r.get("cpu_us_per_event"),
            nchan and nchan.get("cpu_us_per_event"), 0.5, "lower", "µs", "nchan, HTTP")
        ref = find(results, system="ssebridge", scenario="trickle-ref", subscribers=n)
        add("%s: CPU per event ≤ 2 × the bridge's at 50,000 events/s" % what,
            r.get("cpu_us_per_event"), ref and ref.get("cpu_us_per_event"), 2.0, "lower", "µs",
            "ssebridge, PublishStream at 50,000/s")


def trickle_section(doc, L):
    rows = [r for r in doc["results"] if r["scenario"] in ("trickle", "trickle-ref")]
    if not rows:
        return
    L.append("## 7. Trickle (one event per request, paced)\n")
    L.append("One publisher on one connection, one event per request, at a fixed rate; "
             "CPU µs/event has `/proc`'s 10 ms tick resolution (read the longer rows), "
             "perf's task-clock is exact for the threads it saw; "
             "`trickle-ref` rows are the bridge at 50,000 events/s through PublishStream "
             "(N=5,000: a 200-event burst at that pace). CPU µs/event = server CPU over "
             "the publishing window / events sent; context switches and syscalls per "
             "event from `perf stat -p` over the same window (`--perf-stat`).\n")
    L.append("| system | row | N | door | target events/s | achieved events/s | delivered | CPU µs/event | perf task-clock µs/event | context switches / event | syscalls / event | p50 / p99 latency (ms) |")
    L.append("|---|---|---:|---|---:|---:|---|---:|---:|---:|---:|---|")
    for r in rows:
        perf = r.get("perf_per_event") or {}
        clock = perf.get("task-clock")   # perf's unit: msec
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s |" % (
            r["system"], r["scenario"], "{:,}".format(r["subscribers"]), r["publish_door"],
            "{:,}".format(r["rate"]), fmt(r.get("achieved_rate"), 0), deliv(r),
            fmt(r.get("cpu_us_per_event"), 1), fmt(clock * 1000 if clock is not None else None, 1),
            fmt(perf.get("context-switches"), 2),
            fmt(perf.get("raw_syscalls:sys_enter"), 1),
            fmt(r.get("latency_ms", {}).get("p50"), 2), fmt(r.get("latency_ms", {}).get("p99"), 2)))
    L.append("")


def markdown(doc):
    R = doc["results"]
    L = []
    L.append("# ssebridge benchmark results\n")
    L.append("Generated by `%s` on %s (%d cores, Linux %s), %s mode, in %.0f s. "
             "All systems ran on 127.0.0.1 one after another on this shared machine; "
             "compare ratios within this run, not absolute numbers across runs.\n" % (
                 doc["command"], doc["date"], CORES, platform.release(), doc["mode"], doc["elapsed_s"]))
    L.append("Server CPU is utime+stime from `/proc/PID/stat` summed over every process of "
             "the system (nginx master + workers; pushpin's runner, condure, zurl, proxy, "
             "handler), taken after all streams are open and again after the last delivery. "
             "Latency is publish call → SSE bytes read by the client (CLOCK_MONOTONIC "
             "stamped into each 100-byte payload). The load generator shares the 2 cores.\n")
    L.append("## Systems\n")
    L.append("| system | publish door | configuration |")
    L.append("|---|---|---|")
    for s in doc["systems"]:
        L.append("| %s | %s | %s |" % (s["name"], s["door"], s["note"] if s["available"] else "skipped: " + s["why"]))
    L.append("")
    burst = [r for r in R if r["scenario"] == "burst"]
    if burst:
        L.append("## 1. Burst fan-out (1 channel, a burst of events to N subscribers)\n")
        L.append("| system | N | events | delivered | deliveries/s | time to last (ms) | CPU µs/delivery | deliveries per CPU-s | p50 / p99 / max latency (ms) | first→last spread p50 / max (ms) |")
        L.append("|---|---:|---:|---|---:|---:|---:|---:|---|---|")
        for r in burst:
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s / %s | %s / %s |" % (
                r["system"], "{:,}".format(r["subscribers"]), r["events_sent"], deliv(r),
                fmt(r.get("deliveries_per_s"), 0), fmt(r.get("time_to_last_delivery_ms"), 0),
                fmt(r.get("cpu_us_per_delivery"), 2), fmt(r.get("deliveries_per_cpu_s"), 0),
                fmt(r.get("latency_ms", {}).get("p50"), 1), fmt(r.get("latency_ms", {}).get("p99"), 1),
                fmt(r.get("latency_ms", {}).get("max"), 1),
                fmt(r.get("spread_ms", {}).get("p50"), 1), fmt(r.get("spread_ms", {}).get("max"), 1)))
        L.append("\n![deliveries/s and p99 latency against subscribers](plot.svg)\n")
    paced = [r for r in R if r["scenario"] == "paced"]
    if paced:
        L.append("## 2. Paced fan-out (N subscribers, events at a fixed rate)\n")
        L.append("Publishers keep a bounded number of publishes in flight (4 HTTP requests; "
                 "1,000 on ssebridge's gRPC stream), so a system that cannot keep up slows its "
                 "publisher down: *sent / planned* and the achieved rate "
                 "show how much of the target rate it took. Latencies are measured from the "
                 "publish call, so they hide that backlog.\n")
        L.append("| system | N | target events/s | sent / planned | achieved events/s | delivered | p50 / p99 / max latency (ms) | CPU µs/delivery | deliveries per CPU-s |")
        L.append("|---|---:|---:|---:|---:|---|---|---:|---:|")
        for r in paced:
            span = r.get("publish_span_ms") or 0
            achieved = (r["events_sent"] - 1) / (span / 1000.0) if span > 0 and r["events_sent"] > 1 else None
            L.append("| %s | %s | %s | %s / %s | %s | %s | %s / %s / %s | %s | %s |" % (
                r["system"], "{:,}".format(r["subscribers"]), r["rate"], r["events_sent"], r["events"],
                fmt(achieved, 0), deliv(r),
                fmt(r.get("latency_ms", {}).get("p50"), 2), fmt(r.get("latency_ms", {}).get("p99"), 2),
                fmt(r.get("latency_ms", {}).get("max"), 1),
                fmt(r.get("cpu_us_per_delivery"), 2), fmt(r.get("deliveries_per_cpu_s"), 0)))
        L.append("")
    idl = [r for r in R if r["scenario"] == "idle"]
    if idl:
        L.append("## 3. Idle hold\n")
        L.append("| system | streams open | RSS before → after (MiB) | RSS per stream (KiB) | threads before → after | open files after | processes |")
        L.append("|---|---:|---|---:|---|---:|---:|")
        for r in idl:
            L.append("| %s | %s / %s | %.1f → %.1f | %s | %d → %d | %d | %d |" % (
                r["system"], "{:,}".format(r["streams_open"]), "{:,}".format(r["subscribers"]),
                r["rss_before_bytes"] / 2**20, r["rss_after_bytes"] / 2**20,
                fmt(r["rss_per_stream_bytes"] / 1024 if r["rss_per_stream_bytes"] is not None else None, 1),
                r["threads_before"], r["threads_after"], r["open_files_after"], r["server_processes"]))
        L.append("\nRSS counts user-space memory only; the kernel's socket buffers are not in it.\n")
    L.append("## 4. Per-user delivery\n")
    L.append(doc["notes"].get("peruser", "not run") + "\n")
    pu = [r for r in R if r["scenario"] == "peruser"]
    if pu:
        L.append("| system | users (one stream each) | target events/s | achieved events/s | delivered | foreign | CPU µs/event | p50 / p99 latency (ms) |")
        L.append("|---|---:|---:|---:|---|---:|---:|---|")
        for r in pu:
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s / %s |" % (
                r["system"], "{:,}".format(r["users"]), "{:,}".format(r["rate"]),
                fmt(r.get("achieved_rate"), 0), deliv(r), r.get("foreign_deliveries", 0),
                fmt(r.get("cpu_us_per_event"), 2),
                fmt(r.get("latency_ms", {}).get("p50"), 2), fmt(r.get("latency_ms", {}).get("p99"), 2)))
        L.append("")
    ing = [r for r in R if r["scenario"] == "ingest"]
    if ing:
        L.append("## 5. Ingest (one publisher, one subscriber)\n")
        L.append("| system | publish door | accepted events/s | delivered | CPU µs/event | p99 latency (ms) |")
        L.append("|---|---|---:|---|---:|---:|")
        for r in ing:
            L.append("| %s | %s | %s | %s / %s | %s | %s |" % (
                r["system"], r["publish_door"], fmt(r.get("accepted_per_s"), 0),
                "{:,}".format(r["delivered"]), "{:,}".format(r["events_accepted"]),
                fmt(r.get("cpu_us_per_event"), 2), fmt(r.get("latency_ms", {}).get("p99"), 1)))
        L.append("")
    redis_section(doc, L)
    trickle_section(doc, L)
    if doc["targets"]:
        L.append("## Targets (ratios from this run)\n")
        L.append("| target | ssebridge | reference | ratio | met |")
        L.append("|---|---:|---:|---:|---|")
        for t in doc["targets"]:
            u = t["unit"]
            L.append("| %s | %s %s | %s %s (%s) | %s | %s |" % (
                t["target"], fmt(t["ssebridge"], 2), u, fmt(t["reference"], 2), u, t["reference_system"],
                fmt(t["ratio"], 3), {True: "**yes**", False: "**no**", None: "n/a (not measured)"}[t["met"]]))
        L.append("")
    if doc.get("problems"):
        L.append("## Problems seen\n")
        for p in doc["problems"]:
            L.append("- " + p)
        L.append("")
    return "\n".join(L)


def deliv(r):
    exp = r.get("expected_deliveries", 0)
    got = r.get("deliveries", 0)
    s = "{:,} / {:,}".format(got, exp)
    if r.get("all_delivered"):
        return s
    extra = []
    if r.get("streams_failed"):
        extra.append("%d streams failed" % r["streams_failed"])
    if r.get("closed_early"):
        extra.append("%d closed early" % r["closed_early"])
    return s + " **MISSING**" + (" (" + ", ".join(extra) + ")" if extra else "")


def cpu_split(r):
    """CPU seconds per process ("replica 1 0.41 / redis-server 0.12")."""
    c = r.get("cpu_by_process_s")
    return " / ".join("%s %.2f" % (k, v) for k, v in c.items()) if c else "–"


def cpu_split_per_event(r):
    """CPU µs per accepted event by process ("replica 1 9.1 / redis-server
    3.2"): how much of an event each process pays, so the bridge's and
    redis-server's shares of ingest can be read apart."""
    c, n = r.get("cpu_by_process_s"), r.get("events_accepted")
    if not c or not n:
        return "–"
    return " / ".join("%s %.2f" % (k, v * 1e6 / n) for k, v in c.items())


def redis_section(doc, L):
    """## 6. Through Redis: fan-out, end-to-end latency and ingest rows of
    every broker configuration, side by side."""
    L.append("## 6. Through Redis\n")
    L.append(doc["notes"].get("redis", "not run") + "\n")
    R = doc["results"]
    fan = [r for r in R if r["scenario"] in ("redis-burst", "redis-paced")]
    if fan:
        L.append("### Fan-out: scenarios 1 (burst) and 2 (paced)\n")
        L.append("| system | scenario | N | events (target/s) | delivered | deliveries/s | p50 / p99 / max latency (ms) | CPU µs/delivery, replicas + redis-server | CPU s by process |")
        L.append("|---|---|---:|---|---|---:|---|---:|---|")
        for r in fan:
            L.append("| %s | %s | %s | %s%s | %s | %s | %s / %s / %s | %s | %s |" % (
                r["system"], r["scenario"][len("redis-"):], "{:,}".format(r["subscribers"]),
                "{:,}".format(r["events_sent"]), " (%s/s)" % r["rate"] if r["rate"] else "", deliv(r),
                fmt(r.get("deliveries_per_s"), 0),
                fmt(r.get("latency_ms", {}).get("p50"), 2), fmt(r.get("latency_ms", {}).get("p99"), 2),
                fmt(r.get("latency_ms", {}).get("max"), 1),
                fmt(r.get("cpu_us_per_delivery"), 2), cpu_split(r)))
        L.append("")
    lat = [r for r in R if r["scenario"] == "redis-latency"]
    if lat:
        L.append("### End-to-end latency: one subscriber, paced publishes\n")
        L.append("| system | target events/s | achieved events/s | delivered | p50 / p90 / p99 / max latency (ms) | CPU µs/event, replicas + redis-server | CPU s by process |")
        L.append("|---|---:|---:|---|---|---:|---|")
        for r in lat:
            span = r.get("publish_span_ms") or 0
            achieved = (r["events_sent"] - 1) / (span / 1000.0) if span > 0 and r["events_sent"] > 1 else None
            lm = r.get("latency_ms", {})
            L.append("| %s | %s | %s | %s | %s / %s / %s / %s | %s | %s |" % (
                r["system"], "{:,}".format(r["rate"]), fmt(achieved, 0), deliv(r),
                fmt(lm.get("p50"), 2), fmt(lm.get("p90"), 2), fmt(lm.get("p99"), 2),
                fmt(lm.get("max"), 1), fmt(r.get("cpu_us_per_delivery"), 2), cpu_split(r)))
        L.append("")
    ing = [r for r in R if r["scenario"] == "redis-ingest"]
    if ing:
        L.append("### Ingest: one publisher as fast as accepted, one subscriber\n")
        L.append("| system | publish door | accepted events/s | delivered | CPU µs/event, replicas + redis-server | CPU µs/event by process | p99 latency (ms) | CPU s by process |")
        L.append("|---|---|---:|---|---:|---|---:|---|")
        for r in ing:
            L.append("| %s | %s | %s | %s / %s%s | %s | %s | %s | %s |" % (
                r["system"], r["publish_door"], fmt(r.get("accepted_per_s"), 0),
                "{:,}".format(r["delivered"]), "{:,}".format(r["events_accepted"]),
                "" if r.get("all_delivered") else " **MISSING**",
                fmt(r.get("cpu_us_per_event"), 2), cpu_split_per_event(r),
                fmt(r.get("latency_ms", {}).get("p99"), 1), cpu_split(r)))
        L.append("")
