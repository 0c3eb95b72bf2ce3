#!/usr/bin/env python3
"""Judges and plots a soak CSV (tests/soak/soak_load.py): after the warm-up
(--warmup seconds), RSS must not trend upward faster than --rss-slope MiB per
minute and must stay within --rss-band % of its post-warm-up mean; open fds
within --fd-band % of theirs; every sample's p99 latency under --p99-ms; no
failed publish or open; no event missing or repeated on any stream. Prints
one line per criterion and PASS/FAIL; exit status 0 only on PASS. The PNG
needs python3-matplotlib (setup-deps soak)."""
import argparse
import csv
import math
import sys


def slope_per_minute(ts, ys):
    n = len(ts)
    if n < 2:
        return 0.0
    mt, my = sum(ts) / n, sum(ys) / n
    den = sum((t - mt) ** 2 for t in ts)
    if den == 0:
        return 0.0
    return sum((t - mt) * (y - my) for t, y in zip(ts, ys)) / den * 60.0


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("csv")
    p.add_argument("--png", default="")
    p.add_argument("--warmup", type=float, default=60)
    p.add_argument("--rss-slope", type=float, default=1.0, help="MiB per minute")
    p.add_argument("--rss-band", type=float, default=10.0, help="percent")
    p.add_argument("--fd-band", type=float, default=2.0, help="percent")
    p.add_argument("--p99-ms", type=float, default=250.0)
    p.add_argument("--rate", type=float, default=0,
                   help="the requested publish rate: the achieved one must be >= 90%% of it "
                        "(else the load generator, not the bridge, was the limit)")
    a = p.parse_args()

    rows = list(csv.DictReader(open(a.csv)))
    if not rows:
        print("soak: FAIL (no samples)")
        return 1
    t = [float(r["t_s"]) for r in rows]
    rss = [int(r["rss_bytes"]) / 1048576.0 for r in rows]
    fds = [int(r["open_fds"]) for r in rows]
    p99 = [float(r["p99_ms"]) for r in rows]
    steady = [i for i, x in enumerate(t) if x > a.warmup] or list(range(len(t)))
    st = [t[i] for i in steady]
    srss = [rss[i] for i in steady]
    sfds = [fds[i] for i in steady]
    last = rows[-1]

    checks = []
    slope = slope_per_minute(st, srss)
    checks.append((slope <= a.rss_slope,
                   f"RSS slope after {a.warmup:.0f}s: {slope:+.2f} MiB/min (limit {a.rss_slope})"))
    mean_rss = sum(srss) / len(srss)
    rss_dev = max(abs(x - mean_rss) for x in srss) / mean_rss * 100
    checks.append((rss_dev <= a.rss_band,
                   f"RSS within {rss_dev:.1f}% of {mean_rss:.1f} MiB (limit {a.rss_band}%)"))
    mean_fd = sum(sfds) / len(sfds)
    fd_dev = max(abs(x - mean_fd) for x in sfds) / mean_fd * 100
    checks.append((fd_dev <= a.fd_band,
                   f"open fds within {fd_dev:.2f}% of {mean_fd:.0f} (limit {a.fd_band}%)"))
    worst = max((x for x in p99 if not math.isnan(x)), default=float("nan"))
    checks.append((not math.isnan(worst) and worst <= a.p99_ms,
                   f"worst 10-s p99 publish->receive: {worst:.1f} ms (limit {a.p99_ms} ms)"))
    errors = int(last["publish_errors"]) + int(last["open_errors"])
    checks.append((errors == 0, f"failed publishes + opens: {errors}"))
    if a.rate > 0:
        achieved = int(last["published"]) / max(t[-1], 1e-9)
        checks.append((achieved >= 0.9 * a.rate,
                       f"publish rate achieved: {achieved:.0f}/s of {a.rate:.0f}/s"))
    checks.append((int(last["resets"]) == 0, f"ssebridge.reset events: {last['resets']}"))
    if "gaps" in last:  # CSVs from before the per-stream order check lack these
        checks.append((int(last["gaps"]) == 0 and int(last["duplicates"]) == 0,
                       f"per-stream order: {last['gaps']} missing, {last['duplicates']} repeated"))
    print(f"soak: {len(rows)} samples over {t[-1]:.0f}s, {last['published']} published, "
          f"{last['received']} received, {last['opens']} opens, "
          f"{last['unexpected_closes']} unexpected closes")
    for ok, text in checks:
        print(("  ok   " if ok else "  FAIL ") + text)
    passed = all(ok for ok, _ in checks)

    if a.png:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("soak: no PNG (python3-matplotlib missing; scripts/setup-deps.sh soak)")
        else:
            fig, axes = plt.subplots(3, 1, figsize=(9, 9), sharex=True)
            axes[0].plot(t, rss, marker=".")
            axes[0].set_ylabel("bridge RSS (MiB)")
            axes[1].plot(t, fds, marker=".", color="tab:orange")
            axes[1].set_ylabel("bridge open fds")
            axes[2].plot(t, p99, marker=".", color="tab:red")
            axes[2].axhline(a.p99_ms, linestyle="--", color="grey")
            axes[2].set_ylabel("p99 latency (ms)")
            axes[2].set_xlabel("seconds")
            for ax in axes:
                ax.axvline(a.warmup, linestyle=":", color="grey")
                ax.grid(True, alpha=0.3)
            fig.suptitle("ssebridge soak: " + ("PASS" if passed else "FAIL"))
            fig.tight_layout()
            fig.savefig(a.png, dpi=90)
            print(f"soak: plot {a.png}")
    print("soak: PASS" if passed else "soak: FAIL")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
