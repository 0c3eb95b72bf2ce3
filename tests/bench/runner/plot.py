"""plot.svg: deliveries/s and p99 latency against subscribers (burst
fan-out), one line per system, as a hand-written SVG."""

import math

COLORS = {"ssebridge": "#d62728", "nchan": "#1f77b4", "pushpin": "#2ca02c",
          "better-sse": "#9467bd", "baseline-send": "#7f7f7f", "baseline-coalesced": "#bcbd22"}


def svg_plot(burst, path):
    """Two panels: deliveries/s and p99 latency against subscribers (burst)."""
    systems = []
    for r in burst:
        if r["system"] not in systems:
            systems.append(r["system"])
    ns = sorted({r["subscribers"] for r in burst})
    W, H = 980, 430
    pw, ph = 380, 300
    panels = [("Burst fan-out: deliveries/s", "deliveries_per_s", 60),
              ("Burst fan-out: p99 publish→receive latency (ms)", "p99", 550)]
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
           'font-family="sans-serif" font-size="12">' % (W, H, W, H),
           '<rect width="100%" height="100%" fill="white"/>']

    def val(r, key):
        return r.get("latency_ms", {}).get("p99") if key == "p99" else r.get(key)

    def x_of(n, x0):
        if len(ns) == 1:
            return x0 + pw / 2
        lo, hi = math.log10(ns[0]), math.log10(ns[-1])
        return x0 + 20 + (math.log10(n) - lo) / (hi - lo) * (pw - 40)

    for title, key, x0 in panels:
        y0 = 50
        vals = [val(r, key) for r in burst if val(r, key)]
        if not vals:
            continue
        lo = 10 ** math.floor(math.log10(min(vals)))
        hi = 10 ** math.ceil(math.log10(max(vals)))
        if hi <= lo:
            hi = lo * 10

        def y_of(v):
            return y0 + ph - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * ph

        out.append('<text x="%d" y="30" font-size="14" font-weight="bold">%s</text>' % (x0, title))
        out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>' % (x0, y0, pw, ph))
        e = math.log10(lo)
        while e <= math.log10(hi) + 1e-9:
            y = y_of(10 ** e)
            out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (x0, x0 + pw, y, y))
            v = 10 ** e
            label = ("%g" % v) if v < 1e4 else ("1e%d" % round(e))
            out.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (x0 - 4, y + 4, label))
            e += 1
        for n in ns:
            x = x_of(n, x0)
            out.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#eee"/>' % (x, x, y0, y0 + ph))
            out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x, y0 + ph + 16, "{:,}".format(n)))
        out.append('<text x="%d" y="%d" text-anchor="middle">subscribers (log scale)</text>' % (x0 + pw / 2, y0 + ph + 34))
        for s in systems:
            pts = [(x_of(r["subscribers"], x0), y_of(val(r, key))) for r in sorted(
                (r for r in burst if r["system"] == s and val(r, key)), key=lambda r: r["subscribers"])]
            if not pts:
                continue
            color = COLORS.get(s, "#000")
            dash = ' stroke-dasharray="5,4"' if s.startswith("baseline") else ""
            out.append('<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>' % (
                color, dash, " ".join("%.1f,%.1f" % p for p in pts)))
            for x, y in pts:
                out.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>' % (x, y, color))
    lx = 60
    for s in systems:
        color = COLORS.get(s, "#000")
        out.append('<rect x="%d" y="%d" width="14" height="4" fill="%s"/>' % (lx, H - 28, color))
        out.append('<text x="%d" y="%d">%s</text>' % (lx + 18, H - 22, s))
        lx += 30 + 8 * len(s)
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
