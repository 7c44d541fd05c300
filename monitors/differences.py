"""Differences between runs or models on the same prompts, with paired intervals.

"Did fine-tuning change the compliance gap?" is a question about gap(after) − gap(before). Two runs
of the same prompt set share their prompts, so the difference is paired by prompt just like a gap
is: each prompt contributes its own difference of differences, and prompt difficulty cancels.
Reading two independent intervals side by side (do they overlap?) throws that pairing away.

The construction reuses `monitors.stats.paired_gap`, so a difference has the interval and p-value
of the project's one gap method: with per-prompt means t (treat) and c (control),

    gap_B − gap_A = (t_B − c_B) − (t_A − c_A) = 2 · [ (t_B + c_A)/2 − (c_B + t_A)/2 ]

which is twice a paired gap between two per-prompt rates in [0, 1]. A rate difference between two
models (or runs) in one condition is directly a paired gap of their per-prompt rates.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from monitors.aggregate import metric_series
from monitors.stats import paired_gap


def _per_prompt(frame: pd.DataFrame, metric: str, by: list[str]) -> pd.DataFrame:
    valid = frame[frame["parse_status"] != "error"]
    values = valid.assign(_y=metric_series(valid, metric))
    return values.groupby(["prompt_id", *by])["_y"].mean().unstack(by) if by else values.groupby("prompt_id")["_y"].mean().to_frame()


def _within(frame: pd.DataFrame, within: dict[str, str]) -> pd.DataFrame:
    for axis, value in within.items():
        column = f"cond_{axis}"
        if column not in frame:
            return frame.iloc[0:0]
        frame = frame[frame[column].astype(str) == str(value)]
    return frame


def _scaled(gap: Any, factor: float) -> dict[str, Any]:
    def clean(x: float) -> float | None:
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)

    return {
        "value": clean(factor * gap.value),
        "ci_low": clean(factor * gap.ci_low),
        "ci_high": clean(factor * gap.ci_high),
        "p_value": clean(gap.p_value),
        "n_prompts": int(gap.n_pairs),
        "method": f"paired by prompt ({gap.method})",
    }


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
        per_prompt = _per_prompt(frame, metric, [axis])
        if spec["treat"] not in per_prompt or spec["control"] not in per_prompt:
            return None
        sides.append(per_prompt[[spec["treat"], spec["control"]]].dropna())
    joined = sides[0].add_suffix("_a").join(sides[1].add_suffix("_b"), how="inner")
    if joined.empty:
        return None
    t_a, c_a = joined[f"{spec['treat']}_a"], joined[f"{spec['control']}_a"]
    t_b, c_b = joined[f"{spec['treat']}_b"], joined[f"{spec['control']}_b"]
    gap = paired_gap(((t_b + c_a) / 2).to_numpy(), ((c_b + t_a) / 2).to_numpy())
    return {**_scaled(gap, 2.0), "base_gap": float((t_a - c_a).mean()), "other_gap": float((t_b - c_b).mean())}


def rate_difference(base: pd.DataFrame, other: pd.DataFrame, metric: str, condition: str) -> dict[str, Any] | None:
    """rate(other) − rate(base) of `metric` in one condition, paired by prompt."""
    sides = []
    for frame in (base, other):
        frame = frame[frame["condition"] == condition]
        if frame.empty:
            return None
        sides.append(_per_prompt(frame, metric, []))
    joined = sides[0].add_suffix("_a").join(sides[1].add_suffix("_b"), how="inner")
    if joined.empty:
        return None
    gap = paired_gap(joined["_y_b"].to_numpy(), joined["_y_a"].to_numpy())
    return {**_scaled(gap, 1.0), "base_rate": float(joined["_y_a"].mean()), "other_rate": float(joined["_y_b"].mean())}
