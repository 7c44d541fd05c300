"""The monitors the cue families add (scenarios/families/): found by name, not listed here.

A family names its monitors; each is a module `monitors/<name>.py` with `classify(parsed) ->
Verdict` (or `classify_trials(trials, parsed)` when it needs the trial, e.g. a reference answer),
and optionally `METRICS` (metric -> how to read it off trials.csv), `TRUTH_OF` (metric -> the
configured-probability column of simulated runs), `TRUTH_COLUMN` (what its flag is scored against)
and `sections(summary, df, read_metric)` (its report sections). The three original monitors keep their own code
paths (monitors/registry.py, monitors/aggregate.py), so their figures do not move.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from types import ModuleType
from typing import Any

import pandas as pd

from scenarios.families import monitor_names

ORIGINAL = ("compliance", "alignment_faking", "supervisor_gaming")


@cache
def added() -> tuple[str, ...]:
    """The monitor names the families add to the original three."""
    return tuple(name for name in monitor_names() if name not in ORIGINAL)


@cache
def module(name: str) -> ModuleType:
    if name not in added():
        raise KeyError(f"no family monitor {name!r}; expected one of {list(added())}")
    return importlib.import_module(f"{__package__}.{name}")


def present(df: pd.DataFrame) -> list[ModuleType]:
    """The added monitors whose verdicts are in this frame."""
    return [module(name) for name in added() if f"{name}_flag" in df.columns]


def metrics(df: pd.DataFrame) -> dict[str, Callable[[pd.DataFrame], pd.Series]]:
    return {k: v for m in present(df) for k, v in getattr(m, "METRICS", {}).items()}


def truth_of(df: pd.DataFrame) -> dict[str, str]:
    return {k: v for m in present(df) for k, v in getattr(m, "TRUTH_OF", {}).items()}


def truth_columns(df: pd.DataFrame) -> dict[str, str]:
    """monitor name -> the ground-truth column its flag is scored against."""
    return {m.__name__.rpartition(".")[2]: m.TRUTH_COLUMN for m in present(df) if hasattr(m, "TRUTH_COLUMN")}


def sections(df: pd.DataFrame, summary: dict[str, Any],
             read_metric: Callable[[pd.DataFrame, str], pd.Series]) -> list[dict[str, Any]]:
    """Each present monitor's report sections; `read_metric` (monitors.aggregate.metric_series) is
    passed in so a family can read any metric without importing the aggregation back."""
    return [s for m in present(df) if hasattr(m, "sections") for s in m.sections(summary, df, read_metric)]
