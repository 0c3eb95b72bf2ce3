"""Measurement plumbing shared by the scenarios: the run's temp dirs and
channel names, the load generator's processes (subscribers on stdin/stdout
JSON lines, the publisher as one bounded subprocess), latency histograms
and the CPU block of a result row."""

import json
import math
import os
import selectors
import subprocess
import tempfile
import time

from .procs import PER_WORKER, STARTED, spawn, stop_process

INGEST_BATCH = 100   # events per message for ssebridge's batched ingest row
# The batched row publishes 100-200k events/s: its one subscriber (a load
# generator sharing the cores) falls more than the default --queue_bytes
# (512 KiB) behind and the default disconnect policy ends its stream. The
# row measures ingest, not the consumer, so its bridge gets a deep queue.
INGEST_BATCH_ARGS = ("--queue_bytes=268435456",)


class Context:
    def __init__(self, args):
        self.args = args
        self.bridge = args.bridge
        self.loadgen = args.loadgen
        self.baseline = args.baseline
        self.root_tmp = tempfile.mkdtemp(prefix="ssebridge-bench-")
        os.chmod(self.root_tmp, 0o755)   # nginx workers run as another user
        self.counter = 0

    def tmpdir(self, name):
        self.counter += 1
        d = os.path.join(self.root_tmp, "%02d-%s" % (self.counter, name))
        os.makedirs(d, exist_ok=True)
        return d

    def channel(self):
        self.counter += 1
        return "bench%d_%d" % (os.getpid(), self.counter)


def read_lines_until(procs, want, deadline):
    """Reads, from each process's stdout, lines until one is a JSON object
    with key `want`; returns those objects (None where none came in time).
    Bytes after that line stay buffered on the process for the next call."""
    out = [None] * len(procs)
    bufs = {i: getattr(p, "_bench_buf", b"") for i, p in enumerate(procs)}
    pending = set(range(len(procs)))

    def scan(i):
        while b"\n" in bufs[i]:
            line, bufs[i] = bufs[i].split(b"\n", 1)
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and want in obj:
                out[i] = obj
                pending.discard(i)
                return

    sel = selectors.DefaultSelector()
    for i, p in enumerate(procs):
        scan(i)
        if i in pending:
            os.set_blocking(p.stdout.fileno(), False)
            sel.register(p.stdout, selectors.EVENT_READ, i)
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=max(0.0, min(1.0, deadline - time.monotonic()))):
            i = key.data
            try:
                chunk = os.read(key.fileobj.fileno(), 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                sel.unregister(key.fileobj)
                pending.discard(i)
                continue
            bufs[i] += chunk
            scan(i)
            if i not in pending:
                sel.unregister(key.fileobj)
    sel.close()
    for i, p in enumerate(procs):
        p._bench_buf = bufs[i]
    return out


def read_final(procs, deadline):
    """The result object ({"role":...}) each generator process prints last."""
    return read_lines_until(procs, "role", deadline)


def send(procs, line):
    for p in procs:
        try:
            p.stdin.write((line + "\n").encode())
            p.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass


def start_subscribers(ctx, system, channel, n, events, per_event=True, timeout_ms=600000,
                      extra=()):
    ports = system.sub_ports()
    # At most PER_WORKER streams per generator process; with several ports
    # (replicas) the same number of processes on each, so an even split.
    workers = max(1, math.ceil(n / PER_WORKER))
    if len(ports) > 1 and n >= len(ports):
        workers = math.ceil(workers / len(ports)) * len(ports)
    procs = []
    rate = max(50, system.connect_rate // workers)
    for w in range(workers):
        k = n // workers + (1 if w < n % workers else 0)
        errlog = open(os.path.join(ctx.root_tmp, "sub-%s-%d.log" % (channel, w)), "w")
        cmd = [ctx.loadgen, "sub", "--host=127.0.0.1", "--port=%d" % ports[w % len(ports)],
               "--path=" + system.sub_path(channel), "--conns=%d" % k,
               "--first_index=%d" % (w * PER_WORKER), "--source=127.0.0.%d" % (2 + w),
               "--connect_rate=%d" % rate, "--max_pending=%d" % system.max_pending,
               "--events=%d" % events,
               "--per_event=%d" % (1 if per_event else 0), "--timeout_ms=%d" % timeout_ms]
        cmd += list(extra)
        procs.append(spawn(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errlog))
    return procs


def finish_subscribers(procs, deadline):
    res = read_final(procs, deadline)
    for p in procs:
        stop_process(p, grace=2.0)
        if p in STARTED:
            STARTED.remove(p)
    return res


def merge_hist(hists):
    buckets = {}
    count = 0
    mx = 0
    total = 0
    for h in hists:
        if not h:
            continue
        for lb, c in h["buckets"]:
            buckets[lb] = buckets.get(lb, 0) + c
        count += h["count"]
        mx = max(mx, h["max_us"])
        total += h["sum_us"]
    return {"buckets": sorted(buckets.items()), "count": count, "max_us": mx, "sum_us": total}


def percentile_us(h, q):
    if not h or h["count"] == 0:
        return None
    rank = q * h["count"]
    seen = 0
    for lb, c in h["buckets"]:
        seen += c
        if seen >= rank:
            return lb
    return h["max_us"]


def ms(us):
    return None if us is None else us / 1000.0


def summarize_subs(subs):
    d = {
        "streams_open": sum(s["open"] for s in subs),
        "streams_failed": sum(s["failed"] + s["never_opened"] for s in subs),
        "closed_early": sum(s["closed_early"] for s in subs),
        "deliveries": sum(s["deliveries"] for s in subs),
        "missing": sum(s["missing"] for s in subs),
        "duplicates": sum(s["duplicates"] for s in subs),
        "out_of_order": sum(s["out_of_order"] for s in subs),
        "complete_streams": sum(s["complete_streams"] for s in subs),
        "first_recv_ns": min((s["first_recv_ns"] for s in subs if s["first_recv_ns"]), default=0),
        "last_recv_ns": max((s["last_recv_ns"] for s in subs), default=0),
        "loadgen_cpu_s": round(sum(s["cpu_user_s"] + s["cpu_sys_s"] for s in subs), 3),
        "connect_s": None,
        "errors": {},
    }
    for s in subs:
        for k, v in s["errors"].items():
            d["errors"][k] = d["errors"].get(k, 0) + v
    h = merge_hist([s["latency"] for s in subs])
    d["latency_ms"] = {"p50": ms(percentile_us(h, 0.50)), "p90": ms(percentile_us(h, 0.90)),
                       "p99": ms(percentile_us(h, 0.99)), "max": ms(h["max_us"] if h["count"] else None),
                       "mean": (h["sum_us"] / h["count"] / 1000.0) if h["count"] else None}
    # Per event: first -> last subscriber.
    if subs and "event_first_ns" in subs[0]:
        n = len(subs[0]["event_first_ns"])
        spreads = []
        for e in range(n):
            firsts = [s["event_first_ns"][e] for s in subs if s["event_count"][e] > 0]
            lasts = [s["event_last_ns"][e] for s in subs if s["event_count"][e] > 0]
            if firsts:
                spreads.append(max(lasts) - min(firsts))
        spreads.sort()
        if spreads:
            d["spread_ms"] = {"p50": spreads[len(spreads) // 2] / 1e6,
                              "p99": spreads[min(len(spreads) - 1, int(len(spreads) * 0.99))] / 1e6,
                              "max": spreads[-1] / 1e6}
    return d


def run_publisher(ctx, args, timeout):
    cmd = [ctx.loadgen, "pub"] + args
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"role": "pub", "sent": 0, "accepted": 0, "errors": 1,
                "error_kinds": {"publisher timed out": 1}, "first_send_ns": 0, "last_ack_ns": 0}
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    return {"role": "pub", "sent": 0, "accepted": 0, "errors": 1,
            "error_kinds": {"publisher failed: " + r.stderr.strip()[-200:]: 1},
            "first_send_ns": 0, "last_ack_ns": 0}


def cpu_block(before, after, deliveries):
    cpu = after["cpu_s"] - before["cpu_s"]
    return {
        "server_cpu_s": round(cpu, 3),
        "cpu_us_per_delivery": (cpu * 1e6 / deliveries) if deliveries else None,
        "deliveries_per_cpu_s": (deliveries / cpu) if cpu > 0 else None,
        "rss_before_bytes": before["rss_bytes"], "rss_after_bytes": after["rss_bytes"],
        "threads_before": before["threads"], "threads_after": after["threads"],
        "open_files_before": before["open_files"], "open_files_after": after["open_files"],
        "server_processes": after["processes"],
    }


def warm_up(ctx, system, channel, subs):
    """Publishes "warmup" events (not measured) until every open stream has
    one: then every subscription is attached. Returns how many it took."""
    warm = [None] * len(subs)
    for attempt in range(1, 11):
        pub = system.pub_args(channel) + ["--events=1", "--raw_data=warmup", "--duration_ms=5000",
                                          "--drain_ms=5000"]
        run_publisher(ctx, pub, timeout=15)
        todo = [i for i, w in enumerate(warm) if w is None]
        got = read_lines_until([subs[i] for i in todo], "warm", time.monotonic() + 1.0 * attempt)
        for i, g in zip(todo, got):
            warm[i] = g
        if all(w is not None for w in warm):
            return attempt
    raise RuntimeError("%s: streams did not all get the warm-up event after 10 tries" % system.name)
