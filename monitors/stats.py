"""Interval estimates for rates and paired gaps (Miller, *Adding Error Bars to Evals*, 2024).

- A single rate: Wilson score interval (good coverage near 0 and 1, where evals live).
- A gap between two conditions that share prompts: a *paired* analysis. Each prompt contributes
  one difference (its mean outcome under `treat` minus under `control`, averaging its samples, so
  samples of one prompt are a cluster and never count as independent); the gap is the mean of the
  per-prompt differences, its standard error is the standard error of that mean (the cluster-robust
  SE), the interval uses Student's t with n_prompts - 1 degrees of freedom and the p-value is the
  paired t-test. With one binary outcome per prompt (every difference 0 or ±1) the t interval
  undercovers when discordant prompts are few, so binary pairs always use the exact McNemar
  (binomial) test on discordant pairs and Newcombe's hybrid score interval for paired proportions
  (method 10; the correlation term without the continuity adjustment).
Coverage of these intervals is checked by simulation in tests/test_stats.py.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Rate:
    n: int
    k: int
    rate: float
    ci_low: float
    ci_high: float

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Gap:
    value: float
    ci_low: float
    ci_high: float
    p_value: float
    n_pairs: int  # prompts with trials in both conditions
    se: float
    method: str
    treat_rate: float
    control_rate: float

    def as_dict(self) -> dict:
        return asdict(self)


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return (low, high)


def rate(successes: int, n: int) -> Rate:
    low, high = wilson(successes, n)
    return Rate(n, successes, successes / n if n else math.nan, low, high)


def paired_gap(treat: np.ndarray, control: np.ndarray) -> Gap:
    """Gap between per-prompt mean outcomes; `treat[i]` and `control[i]` belong to prompt i."""
    treat = np.asarray(treat, dtype=float)
    control = np.asarray(control, dtype=float)
    n = len(treat)
    if n == 0:
        return Gap(math.nan, math.nan, math.nan, math.nan, 0, math.nan, "none", math.nan, math.nan)
    diff = treat - control
    value = float(diff.mean())
    binary = np.all(np.isin(treat, (0.0, 1.0))) and np.all(np.isin(control, (0.0, 1.0)))
    if binary:
        return _paired_binary(treat, control)
    se = float(diff.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    if n < 2 or se == 0.0:
        return Gap(value, value, value, 1.0 if value == 0 else math.nan, n, se, "paired-t", float(treat.mean()), float(control.mean()))
    t = t_quantile(0.975, n - 1)
    p_value = t_two_sided_p(value / se, n - 1)
    return Gap(value, value - t * se, value + t * se, p_value, n, se, "paired-t (cluster by prompt)", float(treat.mean()), float(control.mean()))


def _paired_binary(treat: np.ndarray, control: np.ndarray) -> Gap:
    """One sample per prompt: Newcombe's interval (method 10) and the exact McNemar test."""
    n = len(treat)
    b = int(np.sum((treat == 1) & (control == 0)))  # discordant: only treat
    c = int(np.sum((treat == 0) & (control == 1)))  # discordant: only control
    p1, p2 = float(treat.mean()), float(control.mean())
    value = p1 - p2
    l1, u1 = wilson(int(treat.sum()), n)
    l2, u2 = wilson(int(control.sum()), n)
    a = int(np.sum((treat == 1) & (control == 1)))
    d = n - a - b - c
    # correlation term of Newcombe (1998), method 10
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    phi = (a * d - b * c) / math.sqrt(denom) if denom > 0 else 0.0
    phi = max(phi, 0.0) if (a * d - b * c) > 0 else phi
    dl = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    du = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    p_value = 1.0 if b + c == 0 else sign_test_p(b, b + c)
    se = math.sqrt(max(0.0, (b + c) / n - value * value) / n) if n > 1 else math.nan
    return Gap(value, max(-1.0, value - dl), min(1.0, value + du), p_value, n, se, "paired (Newcombe + exact McNemar)", p1, p2)


# scipy.special, imported where used: scipy.stats costs ~1 s of import time, which every CLI
# (including one that only reports a bad flag) would otherwise pay.
def t_quantile(p: float, df: float) -> float:
    from scipy.special import stdtrit

    return float(stdtrit(df, p))


def t_two_sided_p(t: float, df: float) -> float:
    from scipy.special import stdtr

    return float(2 * stdtr(df, -abs(t)))


def sign_test_p(k: int, n: int) -> float:
    """Exact two-sided binomial test of k successes in n at p = 0.5 (the exact McNemar test)."""
    from scipy.special import bdtr

    return 1.0 if n == 0 else float(min(1.0, 2 * bdtr(min(k, n - k), n, 0.5)))


def welch_difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """mean(a) - mean(b) with a Welch 95% interval (unequal variances)."""
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    value = float(a.mean() - b.mean())
    se = math.sqrt(va + vb)
    if se == 0:
        return value, value, value
    df = (va + vb) ** 2 / ((va**2 / (len(a) - 1) if va else 0.0) + (vb**2 / (len(b) - 1) if vb else 0.0))
    half = t_quantile(0.975, df) * se
    return value, value - half, value + half
