"""Differences between runs or models on the same prompts, with paired intervals.

"Did fine-tuning change the compliance gap?" is a question about gap(after) − gap(before). Two runs
of the same prompt set share their prompts, so the difference is paired by prompt just like a gap
is: each prompt contributes its own difference of differences, and prompt difficulty cancels.
Reading two independent intervals side by side (do they overlap?) throws that pairing away.

A gap difference is the MOVER combination of the two runs' paired gaps
(`monitors.stats.gap_difference_arrays`: each gap the project's one gap method on its trial counts,
combined with the correlation of their per-prompt residuals). A rate difference between two models
(or runs) in one condition is directly a paired gap of their per-prompt counts. Before 2026-12-07 a
gap difference was twice a paired gap between per-prompt averages (t_B + c_A)/2 and (c_B + t_A)/2,
each read as one observation: valid but 1.5x (median) as wide as needed (a probe measured 3.4x a
paired t interval); `benchmarks/coverage_differences.py` measures both.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from monitors.aggregate import metric_series
from monitors.stats import GAP_METHOD, gap_difference_arrays, paired_gap_arrays

DIFFERENCE_METHOD = ("paired by prompt: MOVER of the two paired gaps' intervals with the correlation of their "
                     f"per-prompt residuals (each gap: {GAP_METHOD})")


def _per_prompt(frame: pd.DataFrame, metric: str, by: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per prompt (and `by` column): the metric's sum over the valid trials, and their number."""
    valid = frame[frame["parse_status"] != "error"]
    values = valid.assign(_y=metric_series(valid, metric)).dropna(subset=["_y"])
    grouped = values.groupby(["prompt_id", *by])["_y"]
    if by:
        return grouped.sum().unstack(by), grouped.count().unstack(by)
    return grouped.sum().to_frame(), grouped.count().to_frame()


def _within(frame: pd.DataFrame, within: dict[str, str]) -> pd.DataFrame:
    for axis, value in within.items():
        column = f"cond_{axis}"
        if column not in frame:
            return frame.iloc[0:0]
        frame = frame[frame[column].astype(str) == str(value)]
    return frame


def _clean(x: Any) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def _figures(out: dict[str, Any], n_prompts: int, method: str) -> dict[str, Any]:
    return {"value": _clean(out["value"]), "ci_low": _clean(out["ci_low"]), "ci_high": _clean(out["ci_high"]),
            "p_value": _clean(out["p_value"]), "n_prompts": n_prompts, "method": method}


def gap_difference(base: pd.DataFrame, other: pd.DataFrame, spec: dict[str, str],
                   within: dict[str, str] | None = None) -> dict[str, Any] | None:
    """gap(other) − gap(base) for one gap spec (trials frames of one model each), paired by prompt
    over the prompts both have; None when either side lacks a condition of the gap."""
    axis = f"cond_{spec['axis']}"
    metric = spec.get("metric", "complied")
    sides = []
    for frame in (base, other):
        frame = _within(frame, within or {})
        if axis not in frame or frame.empty:
            return None
        sums, counts = _per_prompt(frame, metric, [axis])
        if spec["treat"] not in sums or spec["control"] not in sums:
            return None
        arms = [spec["treat"], spec["control"]]
        sides.append(sums[arms].add_suffix("_k").join(counts[arms].add_suffix("_m")).dropna())
    joined = sides[0].add_suffix("_a").join(sides[1].add_suffix("_b"), how="inner")
    joined = joined[(joined.filter(like="_m_") > 0).all(axis=1)]
    if joined.empty:
        return None
    col = lambda arm, what, side: joined[f"{spec[arm]}_{what}_{side}"].to_numpy(dtype=float)  # noqa: E731
    out = gap_difference_arrays(col("treat", "k", "b"), col("treat", "m", "b"), col("control", "k", "b"), col("control", "m", "b"),
                                col("treat", "k", "a"), col("treat", "m", "a"), col("control", "k", "a"), col("control", "m", "a"))
    return {**_figures(out, len(joined), DIFFERENCE_METHOD),
            "base_gap": float(out["gap_a"]["value"]), "other_gap": float(out["gap_b"]["value"])}


def rate_difference(base: pd.DataFrame, other: pd.DataFrame, metric: str, condition: str) -> dict[str, Any] | None:
    """rate(other) − rate(base) of `metric` in one condition, paired by prompt."""
    sides = []
    for frame in (base, other):
        frame = frame[frame["condition"] == condition]
        if frame.empty:
            return None
        sums, counts = _per_prompt(frame, metric, [])
        sides.append(sums.rename(columns={"_y": "k"}).join(counts.rename(columns={"_y": "m"})))
    joined = sides[0].add_suffix("_a").join(sides[1].add_suffix("_b"), how="inner")
    joined = joined[(joined["m_a"] > 0) & (joined["m_b"] > 0)]
    if joined.empty:
        return None
    k_a, m_a, k_b, m_b = (joined[c].to_numpy(dtype=float) for c in ("k_a", "m_a", "k_b", "m_b"))
    out = paired_gap_arrays(k_b, m_b, k_a, m_a)
    return {**_figures(out, len(joined), f"paired by prompt ({GAP_METHOD})"),
            "base_rate": float(out["control"].p), "other_rate": float(out["treat"].p)}
