#!/usr/bin/env python3
"""Plots benchmarks/scale-results.jsonl (written by mixed.sh) as an SVG, no dependencies.

    python3 benches/scale/plot.py [RESULTS] [OUT.svg] [LABEL]

Left: polls answered as % of offered, and punches stored as % of generated, per device count.
Right: poll p99 (ms) and server RSS (MB). Only rows with LABEL (default: the last row's label)
and one instance are plotted; the last row per device count wins.
"""
import json
import sys

results = sys.argv[1] if len(sys.argv) > 1 else "benchmarks/scale-results.jsonl"
out = sys.argv[2] if len(sys.argv) > 2 else "benchmarks/scale.svg"
rows = [json.loads(l) for l in open(results) if l.strip()]
label = sys.argv[3] if len(sys.argv) > 3 else rows[-1].get("label", "")
by_count = {}
for r in rows:
    if r.get("label", "") == label and r["instances"] == 1:
        by_count[r["devices"]] = r
points = [by_count[k] for k in sorted(by_count)]
if not points:
    sys.exit(f"no rows with label {label!r}")

W, H, M = 420, 300, 50


def panel(x0, title, series, ymax):
    """series: [(name, colour, [(devices, value)])]; returns SVG elements."""
    xs = [p["devices"] for p in points]
    xmax = max(xs) * 1.05
    sx = lambda v: x0 + M + (W - 2 * M) * v / xmax
    sy = lambda v: H - M - (H - 2 * M) * v / ymax
    el = [f'<text x="{x0 + W / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>',
          f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(xmax)}" y2="{sy(0)}" stroke="black"/>',
          f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(0)}" y2="{sy(ymax)}" stroke="black"/>']
    for x in xs:
        el.append(f'<text x="{sx(x)}" y="{H - M + 16}" text-anchor="middle" font-size="10">{x:,}</text>')
    for i in range(5):
        v = ymax * i / 4
        el.append(f'<text x="{sx(0) - 4}" y="{sy(v) + 3}" text-anchor="end" font-size="10">{v:,.0f}</text>')
    el.append(f'<text x="{x0 + W / 2}" y="{H - 8}" text-anchor="middle" font-size="11">devices</text>')
    for i, (name, colour, pts) in enumerate(series):
        path = " ".join(f"{sx(x)},{sy(min(y, ymax))}" for x, y in pts)
        el.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in pts:
            el.append(f'<circle cx="{sx(x)}" cy="{sy(min(y, ymax))}" r="3" fill="{colour}"/>')
        el.append(f'<text x="{x0 + M + 10}" y="{40 + 14 * i}" font-size="11" fill="{colour}">{name}</text>')
    return el


pct = lambda a, b: 100 * a / b if b else 0
left = panel(0, "share served (%)", [
    ("polls answered / offered", "#1f77b4", [(p["devices"], pct(p["polls_answered"], p["polls_offered"])) for p in points]),
    ("punches stored / generated", "#2ca02c", [(p["devices"], pct(p["stored"], p["generated"])) for p in points]),
], 110)
p99 = max(max(p["poll_p99_ms"] for p in points), 50)
rss = max(max(p["server_rss_peak_mb"] for p in points), 200)
right = panel(W, "poll p99 (ms) and server RSS (MB)", [
    ("poll p99 ms", "#d62728", [(p["devices"], p["poll_p99_ms"]) for p in points]),
    ("server RSS MB", "#9467bd", [(p["devices"], p["server_rss_peak_mb"]) for p in points]),
], max(p99, rss) * 1.1)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W}" height="{H}" font-family="sans-serif">',
       '<rect width="100%" height="100%" fill="white"/>', *left, *right, '</svg>']
open(out, "w").write("\n".join(svg) + "\n")
print(f"wrote {out} ({len(points)} device counts, label {label!r})")
