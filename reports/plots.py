"""The report's charts: matplotlib figures rendered to inline SVG (crisp at any zoom, no files).

Colours come from the Okabe-Ito palette (safe for the common colour-vision deficiencies) and are
fixed per meaning: an outcome always has the same colour, a model keeps its colour in every plot.
The alignment-faking segment is also hatched, so it reads without colour at all.
"""

from __future__ import annotations

import io
import math
import re
import zlib
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]
# outcome -> (legend label, colour, hatch); the stacking order of the headline bars
OUTCOMES = [
    ("refused", "refuses", "#0072B2", ""),
    ("complied_no_af", "complies, no alignment faking", "#E69F00", ""),
    ("complied_af", "complies, fakes alignment", "#D55E00", "///"),
    ("partial", "partial compliance (shown separately)", "#CC79A7", ".."),
]
MODEL_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
GAP_MARKERS = ["o", "s", "D", "^", "v", "P", "X", "*"]

plt.rcParams.update(
    {
        "svg.fonttype": "none",  # text stays text: selectable, searchable, small
        "font.family": "sans-serif",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.hashsalt": "afsim",  # stable ids: the same run renders the same bytes
        # labels are model names, gap names and prompt categories from users' files: text, never
        # TeX (`$x^$` would be parsed as mathtext and raise; usetex would run a LaTeX process)
        "text.parse_math": False,
        "text.usetex": False,
    }
)


def model_colours(models: list[str]) -> dict[str, str]:
    """One colour per model, chosen from the model's name (not its position), so a model has the
    same colour in every report and every comparison; a clash takes the next free colour."""
    colours: dict[str, str] = {}
    legible = len(MODEL_COLOURS) - 1  # Okabe-Ito yellow reads badly on white: only when all others are taken
    for model in sorted(dict.fromkeys(models)):
        start = zlib.crc32(model.encode("utf-8")) % legible
        taken = set(colours.values())
        order = [MODEL_COLOURS[(start + step) % legible] for step in range(legible)] + MODEL_COLOURS[legible:]
        free = [c for c in order if c not in taken]
        colours[model] = free[0] if free else order[0]
    return colours


def to_svg(fig: Any) -> str:
    """The figure as an <svg> element for inlining (no XML prolog, no fixed pixel size)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    # scale with the page: keep the viewBox, drop the absolute size
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 class="chart" role="img"', svg, count=1)
    return svg


def _value(rate: dict[str, Any] | None) -> float:
    if not rate or rate.get("rate") is None:
        return 0.0
    return float(rate["rate"])


def stacked_outcomes(rates: list[dict[str, Any]], label_of=None) -> str:
    """Headline chart: one horizontal bar per model x condition, stacked by outcome, n on each bar."""
    label_of = label_of or (lambda row: f"{row['model']}\n{row['condition']}")
    rows = list(reversed(rates))
    height = max(2.2, 0.42 * len(rows) + 1.2)
    fig, ax = plt.subplots(figsize=(8.5, height))
    for y, row in enumerate(rows):
        complied, complied_af = _value(row.get("complied")), _value(row.get("complied_af"))
        parts = {
            "refused": _value(row.get("refused")),
            "complied_no_af": max(0.0, complied - complied_af),
            "complied_af": complied_af,
            "partial": _value(row.get("partial")),
        }
        left = 0.0
        for key, _, colour, hatch in OUTCOMES:
            width = parts[key]
            if width > 0:
                ax.barh(y, width, left=left, color=colour, hatch=hatch, edgecolor="white", linewidth=0.5, height=0.7)
                if width >= 0.06:
                    ax.text(left + width / 2, y, f"{100 * width:.0f}%", ha="center", va="center", fontsize=7,
                            color="white" if key in ("refused", "complied_af") else "black")
            left += width
        ax.text(1.01, y, f"n={row['n']}", va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), [label_of(r) for r in rows], fontsize=7.5)
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0%", "25%", "50%", "75%", "100%"])
    ax.set_xlabel("share of trials")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c, hatch=h, ec="white") for _, _, c, h in OUTCOMES]
    ax.legend(handles, [label for _, label, _, _ in OUTCOMES], loc="lower center", bbox_to_anchor=(0.5, 1.0),
              ncol=2, frameon=False, fontsize=8)
    return to_svg(fig)


SEGMENT_COLOURS = ["#D55E00", "#E69F00", "#CC79A7", "#56B4E9", "#009E73", "#0072B2"]
SEGMENT_HATCHES = ["///", "", "..", "", "", ""]


def stacked_segments(bars: list[dict[str, Any]]) -> str:
    """A cue family's outcome bars (same visual language as the headline): one horizontal bar per
    model x condition, stacked by the family's outcome kinds, n at the end. `bars` items:
    {label, n, segments: [[name, share], ...]} (shares of all trials of the bar)."""
    rows = list(reversed(bars))
    names = list(dict.fromkeys(name for bar in bars for name, _ in bar["segments"]))
    fig, ax = plt.subplots(figsize=(8.5, max(2.2, 0.42 * len(rows) + 1.2)))
    for y, bar in enumerate(rows):
        left = 0.0
        for name, share in bar["segments"]:
            i = names.index(name)
            width = float(share or 0.0)
            if width > 0:
                ax.barh(y, width, left=left, color=SEGMENT_COLOURS[i % 6], hatch=SEGMENT_HATCHES[i % 6],
                        edgecolor="white", linewidth=0.5, height=0.7)
                if width >= 0.06:
                    ax.text(left + width / 2, y, f"{100 * width:.0f}%", ha="center", va="center", fontsize=7)
            left += width
        ax.text(1.01, y, f"n={bar['n']}", va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), [bar["label"] for bar in rows], fontsize=7.5)
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0%", "25%", "50%", "75%", "100%"])
    ax.set_xlabel("share of trials")
    handles = [plt.Rectangle((0, 0), 1, 1, color=SEGMENT_COLOURS[i % 6], hatch=SEGMENT_HATCHES[i % 6], ec="white")
               for i in range(len(names))]
    ax.legend(handles, names, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False, fontsize=8)
    return to_svg(fig)


def forest(gaps: list[dict[str, Any]], colours: dict[str, str], label_of=None, colour_key=None,
           xlabel: str | None = None) -> str:
    """Every gap with its 95% interval; colour = model, marker = gap; x marks the simulated truth."""
    label_of = label_of or (lambda g: f"{g['name']} · {g['model']}" + (
        " · " + ",".join(f"{k}={v}" for k, v in g["within"].items()) if g.get("within") else ""))
    colour_key = colour_key or (lambda g: g["model"])
    rows = [g for g in gaps if g.get("value") is not None and not math.isnan(g["value"])]
    names = list(dict.fromkeys(g["name"] for g in rows))
    rows = list(reversed(rows))
    fig, ax = plt.subplots(figsize=(8.5, max(1.8, 0.36 * len(rows) + 1.0)))
    ax.axvline(0, color="#555555", linewidth=0.8, linestyle="--")
    for y, g in enumerate(rows):
        colour = colours.get(colour_key(g), "#000000")
        marker = GAP_MARKERS[names.index(g["name"]) % len(GAP_MARKERS)]
        low, high = g.get("ci_low"), g.get("ci_high")
        if low is not None and high is not None:
            ax.plot([100 * low, 100 * high], [y, y], color=colour, linewidth=2, solid_capstyle="butt")
        ax.plot(100 * g["value"], y, marker=marker, color=colour, markersize=6, markeredgecolor="white")
        if g.get("truth") is not None:
            ax.plot(100 * g["truth"], y, marker="x", color="#000000", markersize=5)
    ax.set_yticks(range(len(rows)), [label_of(g) for g in rows], fontsize=7.5)
    has_truth = any(g.get("truth") is not None for g in rows)
    ax.set_xlabel(xlabel or ("gap, percentage points (95% interval)" + ("; × = simulated ground truth" if has_truth else "")))
    if not rows:
        ax.text(0.5, 0.5, "no gaps configured", transform=ax.transAxes, ha="center")
    return to_svg(fig)


def category_heatmap(table: list[dict[str, Any]], metric_label: str) -> str | None:
    """Compliance rate per prompt category (rows) and model x condition (columns)."""
    if not table:
        return None
    columns = list(dict.fromkeys(r["column"] for r in table))
    categories = sorted({r["category"] for r in table})
    grid = [[math.nan] * len(columns) for _ in categories]
    for r in table:
        grid[categories.index(r["category"])][columns.index(r["column"])] = r["rate"]
    fig, ax = plt.subplots(figsize=(min(12, 1.2 + 1.1 * len(columns)), 0.3 * len(categories) + 1.6))
    image = ax.imshow(grid, cmap="cividis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(columns)), [c.replace(" | ", "\n") for c in columns], fontsize=6.5,
                  rotation=30, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(len(categories)), categories, fontsize=7.5)
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if not math.isnan(value):
                ax.text(j, i, f"{100 * value:.0f}", ha="center", va="center", fontsize=6.5,
                        color="white" if value < 0.55 else "black")
    fig.colorbar(image, ax=ax, fraction=0.03, label=metric_label)
    return to_svg(fig)
