"""Scenario 6 (issue 3) / the Redis benchmark (issue 5): scenarios 1 and 2
through Redis with two bridge replicas, next to the memory broker (one
replica) at the same N, plus publish throughput (ingest) and end-to-end
latency at a paced rate with one subscriber, for both brokers.

Each configuration is a BridgeGroup (systems.py): a private redis-server
on a free loopback port and the replicas on it, publishes into replica 1,
subscribers split evenly over the replicas (a single subscriber sits on
the replica that does not take the publishes). Server CPU is summed over
every replica and redis-server; each row also keeps the split by process.
"""

import subprocess

from .measure import INGEST_BATCH, INGEST_BATCH_ARGS
from .procs import log
from .scenarios import fanout, ingest
from .systems import BridgeGroup, RedisServer

SCENARIOS = ("redis-burst", "redis-paced", "redis-latency", "redis-ingest")


def redis_available(ctx):
    ok, why = RedisServer.available()
    if not ok:
        return False, why
    try:
        # --helpfull: the broker flags live in bridge/ops/broker_flags.cc, which
        # --help (the main module's flags only) does not list.
        r = subprocess.run([ctx.bridge, "--helpfull"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, "cannot run %s --help: %s" % (ctx.bridge, e)
    if "redis_url" not in r.stdout + r.stderr:
        return False, "%s has no --broker=redis" % ctx.bridge
    return True, ""


def run_redis(ctx, plan, quick, problems):
    """Runs every configuration in plan["configs"] ((broker, replicas)
    pairs) through the same measurements. Returns the result rows; a
    process that died or an exception is appended to `problems`."""
    rows = []
    for broker, replicas in plan["configs"]:
        g = BridgeGroup(ctx, broker, replicas)
        log("== %s" % g.name)
        up = False

        def fresh():
            nonlocal up
            if up and quick:
                return
            if up:
                g.stop()
            g.start()
            up = True

        def keep(row, label, what):
            nonlocal up
            row.update({"scenario": label, "broker": broker, "replicas": replicas,
                        "cpu_counted": ", ".join(g.components())})
            rows.append(row)
            dead = g.dead()
            if dead:
                msg = "%s: %s exited during %s" % (g.name, "; ".join(dead), what)
                log("ERROR " + msg)
                problems.append(msg)
                g.stop()
                up = False

        try:
            for n, events in plan["burst"]:
                fresh()
                keep(fanout(ctx, g, n, events, 0, "redis-burst"), "redis-burst", "burst N=%d" % n)
            for n, rate, events, hard_s in plan["paced"]:
                fresh()
                keep(fanout(ctx, g, n, events, rate, "redis-paced", hard_s), "redis-paced",
                     "paced N=%d %s/s" % (n, rate))
            for rate, events in plan["latency"]:
                fresh()
                keep(fanout(ctx, g, 1, events, rate, "redis-latency", 60), "redis-latency",
                     "latency %s/s" % rate)
            fresh()
            keep(ingest(ctx, g, plan["ingest_ms"], count=plan["ingest_count"]), "redis-ingest",
                 "ingest")
            g.stop()   # restarted with INGEST_BATCH_ARGS (see measure.py)
            up = False
            g.replica_args = INGEST_BATCH_ARGS
            fresh()
            keep(ingest(ctx, g, plan["ingest_ms"], count=plan["ingest_count"], batch=INGEST_BATCH),
                 "redis-ingest", "ingest (batch)")
        except Exception as e:   # one configuration failing must not lose the others
            msg = "%s: %s: %s" % (g.name, type(e).__name__, e)
            log("ERROR " + msg)
            problems.append(msg)
        finally:
            g.stop()
    return rows


NOTE = ("Publishes go through gRPC `PublishStream` into replica 1. *memory ×1* is one "
        "bridge with the embedded broker; *redis ×N* is N bridges on one private "
        "redis-server (no persistence) on 127.0.0.1, the subscribers split evenly over "
        "the replicas (the single subscriber of the latency and ingest rows is on the "
        "replica that does not take the publishes, when there are two). Server CPU "
        "is summed over every replica **and redis-server**; the last column splits it "
        "by process. Everything shares the same 2 cores with the load generator, so "
        "two replicas here compete for the cores one replica had to itself.")
