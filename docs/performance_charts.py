"""Draws the performance page's charts from a committed JSON file of benchmark ratios.

The docs build calls draw() (docs/conf.py); on its own: python3 docs/performance_charts.py JSON DIR.
Nothing here runs a benchmark.

The input format ("concert-cpp performance ratios, version 1") is one object:

    {"measured": "2026-11-25", "source": "how it was measured",
     "charts": [{"name": "async", "title": "...",
                 "bars": [{"label": "...", "ratio": 0.88,   (optional if low and high are given)
                           "low": 0.85, "high": 0.91,   (optional: the range over runs)
                           "target": 3,                 (optional: the project's goal)
                           "better": "lower"}]}]}       ("lower" or "higher")

Each ratio is concert against a peer or a physical limit measured in the same run, as
docs/performance.md explains. To refresh it from Google Benchmark, run the benchmarks with
--benchmark_format=json and compute each ratio from the two "real_time" (latency) or
"items_per_second" (throughput) values it compares.

Each chart becomes <DIR>/performance-<name>.png: one horizontal bar per ratio on a log scale,
drawn from parity (1), the range as an error bar, the target as a black tick. A bar with only a
range is drawn at the range's geometric middle. A bar is green when it meets its target (or,
without a target, is on the better side of parity), else orange.
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


def _ratio(bar):
    return bar["ratio"] if "ratio" in bar else (bar["low"] * bar["high"]) ** 0.5


def _meets(bar):
    goal = bar.get("target", 1)
    return _ratio(bar) <= goal if bar["better"] == "lower" else _ratio(bar) >= goal


def draw_chart(chart, path):
    bars = chart["bars"]
    figure, axes = plt.subplots(figsize=(10, 0.5 * len(bars) + 1.2), dpi=100)
    rows = range(len(bars))
    ratios = [_ratio(b) for b in bars]
    errors = [[r - b.get("low", r) for r, b in zip(ratios, bars)],
              [b.get("high", r) - r for r, b in zip(ratios, bars)]]
    colours = ["#2e8b57" if _meets(b) else "#e07b00" for b in bars]
    axes.barh(rows, [r - 1 for r in ratios], left=1, color=colours)
    axes.errorbar(ratios, rows, xerr=errors, fmt="none", ecolor="black", capsize=3, linewidth=1)
    right = max([b.get("high", r) for r, b in zip(ratios, bars)] + [b.get("target", 1) for b in bars])
    for row, ratio, bar in zip(rows, ratios, bars):
        if "target" in bar:
            axes.plot([bar["target"]] * 2, [row - 0.4, row + 0.4], color="black", linewidth=2)
        shown = f"{ratio:g}" if "ratio" in bar else f"{bar['low']:g}-{bar['high']:g}"
        axes.annotate(f"{shown} ({bar['better']} is better)", (right * 1.15, row), va="center",
                      fontsize=8, annotation_clip=False)
    axes.axvline(1, color="grey", linestyle="--", linewidth=1)
    axes.set_xscale("log")
    left = min([b.get("low", r) for r, b in zip(ratios, bars)] + [b.get("target", 1) for b in bars])
    axes.set_xlim(min(left, 1) / 1.3, right * 1.1)
    axes.set_yticks(list(rows), [b["label"] for b in bars], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("ratio (log scale); black tick: target; dashed: parity")
    axes.set_title(chart["title"], fontsize=10)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def draw(json_path, out_dir):
    with open(json_path, encoding="utf-8") as f:
        results = json.load(f)
    os.makedirs(out_dir, exist_ok=True)
    for chart in results["charts"]:
        draw_chart(chart, os.path.join(out_dir, f"performance-{chart['name']}.png"))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: performance_charts.py RESULTS.json OUTPUT_DIR")
    draw(sys.argv[1], sys.argv[2])
