"""Figures the report shows beyond summary.json: per-category breakdowns and the monitors section.

Pure functions over the trials frame (the columns of trials.csv), so the report and the compare
view compute them the same way and tests can call them directly.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from monitors.aggregate import add_adjusted_p, gap_of, metric_series, monitor_accuracy
from monitors.prompt_rates import rate_by_prompt
from monitors.registry import monitor_kind
from monitors.stats import clustered_rate


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def category_rates(df: pd.DataFrame, metric: str = "complied") -> list[dict[str, Any]]:
    """Rate of `metric` per prompt category and model x condition (valid trials only)."""
    if df.empty or "category" not in df.columns or "compliance_label" not in df.columns:
        return []
    valid = df[(df["parse_status"] != "error") & df["category"].notna()]
    values = valid.assign(_y=metric_series(valid, metric))
    # a column label names only the axes that vary: "sim/af-opus | tier=free"
    varying = [c for c in values.columns if c.startswith("cond_") and values[c].nunique() > 1]
    out = []
    for (model, condition, category), group in values.groupby(["model", "condition", "category"], sort=True):
        r = rate_by_prompt(group, group["_y"])  # a category's trials share prompts: clustered by prompt
        short = ",".join(f"{c.removeprefix('cond_')}={group[c].iloc[0]}" for c in varying) or condition
        out.append({"model": model, "condition": condition, "category": category,
                    "column": f"{model} | {short}", "n": r["n"], "rate": r["rate"],
                    "ci_low": r["ci_low"], "ci_high": r["ci_high"]})
    return out


def category_gaps(df: pd.DataFrame, gaps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each configured gap per model and prompt category, paired by prompt as in the summary, with
    `p_adjusted`: Holm over the categories of one gap, model and combination of the other axes."""
    out = []
    if df.empty or "category" not in df.columns:
        return out
    valid = df[(df["parse_status"] != "error") & df["category"].notna()]
    conds = [c for c in df.columns if c.startswith("cond_")]
    for spec in gaps:
        axis = f"cond_{spec['axis']}"
        if axis not in valid.columns:
            continue
        try:
            frame = valid.assign(_y=metric_series(valid, spec.get("metric", "complied")))
        except KeyError:
            continue
        others = [c for c in conds if c != axis]
        for keys, group in frame.groupby(["model", "category", *others], sort=True):
            gap = gap_of(group, axis, spec["treat"], spec["control"])
            if gap is None:
                continue
            out.append({"name": spec["name"], "model": keys[0], "category": keys[1],
                        "within": ",".join(f"{o.removeprefix('cond_')}={v}" for o, v in zip(others, keys[2:], strict=True)),
                        "n_pairs": gap.n_pairs, "treat_rate": _num(gap.treat_rate), "control_rate": _num(gap.control_rate),
                        "value": _num(gap.value), "ci_low": _num(gap.ci_low), "ci_high": _num(gap.ci_high),
                        "p_value": _num(gap.p_value)})
    # many categories: one of them crosses p < 0.05 by chance; Holm keeps the family-wise error
    add_adjusted_p(out, family=lambda g: (g["name"], g["model"], g["within"]))
    return out


def backend_counts(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Which backend produced which label, per monitor: the 'who labelled what' table."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for record in records:
        for name, verdict in (record.get("monitors") or {}).items():
            counts[(name, str(verdict.get("backend")), str(verdict.get("label")))] += 1
    return [{"monitor": m, "backend": b, "label": label, "n": n} for (m, b, label), n in sorted(counts.items())]


def _kappa(a: np.ndarray, b: np.ndarray) -> float | None:
    n = len(a)
    if n == 0:
        return None
    observed = float((a == b).mean())
    expected = float(a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean()))
    return None if expected >= 1 else (observed - expected) / (1 - expected)


def backend_agreement(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Agreement between backends that judged the same trials.

    Verdicts of one monitor by several backends are stored under `name` and `name@backend` (or
    `name:backend`); every pair of backends that both judged a trial is compared on the flag.
    A verdict where an LLM judge abstained (no usable vote) is no judgement: it is left out of the
    comparison and counted, so a judge that abstained on every trial shows no agreement, not 100%.
    """
    flags: dict[str, dict[str, dict[str, bool]]] = {}
    abstained: dict[tuple[str, str], int] = {}
    prompt_of = {record["key"]: record.get("prompt_id") for record in records}
    for record in records:
        for key, verdict in (record.get("monitors") or {}).items():
            base = monitor_kind(key)
            backend = str(verdict.get("backend"))
            by_trial = flags.setdefault(base, {}).setdefault(backend, {})
            if verdict.get("abstained"):
                abstained[base, backend] = abstained.get((base, backend), 0) + 1
                continue
            by_trial[record["key"]] = bool(verdict.get("flag"))
    out = []
    for monitor, by_backend in flags.items():
        names = sorted(by_backend)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                shared = sorted(set(by_backend[first]) & set(by_backend[second]))
                skipped = abstained.get((monitor, first), 0) + abstained.get((monitor, second), 0)
                if not shared:
                    if skipped:
                        out.append({"monitor": monitor, "first": first, "second": second, "n": 0,
                                    "agreement": None, "ci_low": None, "ci_high": None, "kappa": None,
                                    "abstained": skipped})
                    continue
                a = np.array([by_backend[first][k] for k in shared], dtype=float)
                b = np.array([by_backend[second][k] for k in shared], dtype=float)
                agree = _agreement(a == b, [prompt_of.get(k) for k in shared])
                out.append({"monitor": monitor, "first": first, "second": second, "n": len(shared),
                            "agreement": agree.rate, "ci_low": agree.ci_low, "ci_high": agree.ci_high,
                            "kappa": _kappa(a, b), "abstained": skipped})
    return out


def _agreement(same: np.ndarray, prompts: list[Any]) -> Any:
    """The share of trials two backends agree on, clustered by prompt (agreement on one prompt's
    samples is correlated: a Wilson interval over trials covered 44-53% at 10 samples)."""
    per_prompt = pd.Series(same.astype(float)).groupby(pd.Series([str(p) for p in prompts])).agg(["sum", "count"])
    return clustered_rate(per_prompt["sum"].to_numpy(), per_prompt["count"].to_numpy())


def monitor_validation(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Each monitor against ground truth (simulated organisms), as table rows: the figures of
    summary.json's `monitor_accuracy`, computed by the same function."""
    return [
        {"monitor": name, **{k: v for k, v in fig.items() if k not in ("agreement", "confusion")},
         "agreement": fig["agreement"]["rate"], "agreement_low": fig["agreement"]["ci_low"],
         "agreement_high": fig["agreement"]["ci_high"], **fig["confusion"]}
        for name, fig in monitor_accuracy(df).items()
    ]
