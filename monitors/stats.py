"""The public statistics of afsim: rates, paired gaps, multiplicity and error-corrected rates.

Other tools import this module; its functions are pure and documented with what they take and
return. One interval method per statistic, and every p-value comes from *inverting the same
interval* (the p-value is the largest alpha whose (1 - alpha) interval still contains 0), so
"the 95% interval excludes 0" and "p < 0.05" always agree. docs/results.md explains the choices;
benchmarks/coverage.py measures their coverage by simulation over prompts x samples x rates x gaps
with prompt heterogeneity (Beta prompt effects), and tests/test_stats.py keeps a few hard cells.

Statistics (Miller, *Adding Error Bars to Evals*, 2024, for the why):

- `rate(k, n)`: one rate over independent trials, Wilson score interval.
- `clustered_rate(successes, trials)`: one rate over prompts that each have several samples. The
  samples of a prompt are correlated (a hard prompt is hard every time), so the Wilson interval is
  computed (with continuity correction, which keeps coverage above nominal at rates near 0 or 1
  with tens of trials) on the *effective* sample size n / deff, where the design effect deff is the ratio of the
  cluster-robust variance of the rate to its binomial variance (never below 1), and the Wilson
  critical value is Student's t with n_prompts - 1 degrees of freedom (few clusters estimate deff
  poorly). With one sample per prompt this is the plain Wilson interval.
- `paired_gap(treat, control, ...)`: rate(treat) - rate(control) over the same prompts, paired by
  prompt and clustered by prompt: the MOVER combination (Newcombe 1998 method 10; Zou & Donner
  2008) of the two clustered Wilson intervals with the correlation of the two rates estimated from
  the per-prompt residuals (a positive one continuity-corrected as in Newcombe's method 10 where
  prompts are few). It never has zero width (each Wilson interval has positive width for
  any finite n), stays inside [-1, 1], and its p-value is its own test inversion.
- `group_gap_arrays(...)`: rate(a) - rate(b) for two groups with no trial in common (items of two
  areas, trials grouped by what the model said), each clustered by prompt, combined by MOVER as
  independent, its p-value by inverting that interval as the paired gap's is.
- `holm` / `benjamini_hochberg`: adjusted p-values for families of gaps (category breakdowns,
  many-gap tables, audit rules that span several gaps).
- `corrected_rate` / `corrected_gap`: Rogan-Gladen estimates that account for a monitor's errors,
  with intervals that include the uncertainty of its sensitivity and specificity
  (monitors/correction.py holds the method).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

Z95 = 1.959963984540054
ALPHA = 0.05
# the largest critical value the test inversion searches; a bound that has not reached 0 there
# gets the tail probability of this value (about 1e-80 under the normal), never exactly 0
Q_MAX = 19.0


@dataclass(frozen=True, slots=True)
class Rate:
    """A rate with its 95% interval. `n` trials, `k` successes; `n_prompts` clusters (None when the
    trials were treated as independent), `design_effect` the variance inflation the interval used
    (1.0 = independent trials), `method` names the interval."""

    n: int
    k: int
    rate: float
    ci_low: float
    ci_high: float
    n_prompts: int | None = None
    design_effect: float = 1.0
    method: str = "wilson"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Gap:
    """rate(treat) - rate(control) over shared prompts, with its 95% interval and the p-value of
    the same construction. `n_pairs` prompts with trials in both conditions; `se` the
    cluster-robust standard error (for reading, not used by the interval); `design_effect` per arm
    (treat, control)."""

    value: float
    ci_low: float
    ci_high: float
    p_value: float
    n_pairs: int
    se: float
    method: str
    treat_rate: float
    control_rate: float
    correlation: float = 0.0
    design_effect_treat: float = 1.0
    design_effect_control: float = 1.0
    n_eff_treat: float = math.nan
    n_eff_control: float = math.nan
    df: float = math.inf

    def as_dict(self) -> dict:
        return asdict(self)


GAP_METHOD = ("paired MOVER of clustered Wilson intervals (by prompt), each side at least t x the cluster-robust se; "
              "p from test inversion")
RATE_METHOD = "continuity-corrected Wilson on the design-effect-adjusted n (clustered by prompt)"


# --------------------------------------------------------------------------------------------
# Distribution functions (scipy.special, imported where used: scipy.stats costs ~1 s of import
# time, which every CLI, including one that only reports a bad flag, would otherwise pay)
# --------------------------------------------------------------------------------------------


def t_two_sided_p(t: float, df: float) -> float:
    from scipy.special import stdtr

    return float(2 * stdtr(df, -abs(t)))


def sign_test_p(k: int, n: int) -> float:
    """Exact two-sided binomial test of k successes in n at p = 0.5 (the exact McNemar test)."""
    from scipy.special import bdtr

    return 1.0 if n == 0 else float(min(1.0, 2 * bdtr(min(k, n - k), n, 0.5)))


def critical_value(df: np.ndarray | float, alpha: float = ALPHA) -> np.ndarray:
    """Two-sided critical value: Student's t with `df` degrees of freedom (inf = normal)."""
    from scipy.special import stdtrit

    df = np.asarray(df, dtype=float)
    return np.where(np.isinf(df), Z95 if alpha == ALPHA else _z(alpha), stdtrit(np.where(np.isinf(df), 1.0, df), 1 - alpha / 2))


def _z(alpha: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(1 - alpha / 2))


def two_sided_p(q: np.ndarray, df: np.ndarray | float) -> np.ndarray:
    """The alpha whose critical value is q (inverse of `critical_value`)."""
    from scipy.special import ndtr, stdtr

    q = np.asarray(q, dtype=float)
    df = np.broadcast_to(np.asarray(df, dtype=float), q.shape)
    normal = 2 * ndtr(-q)
    student = 2 * stdtr(np.where(np.isinf(df), 1.0, df), -q)
    return np.where(np.isinf(df), normal, student)


# --------------------------------------------------------------------------------------------
# Vectorised cores (last axis = prompts; any leading axes = independent data sets). The public
# functions below and benchmarks/coverage.py call these, so the benchmark measures this code.
# --------------------------------------------------------------------------------------------


def wilson_bounds(p: np.ndarray, n: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score bounds for a proportion p observed on (effective) n trials, critical value q."""
    p, n, q = np.broadcast_arrays(np.asarray(p, float), np.asarray(n, float), np.asarray(q, float))
    with np.errstate(invalid="ignore", divide="ignore"):
        q2n = q * q / n
        denom = 1 + q2n
        centre = (p + q2n / 2) / denom
        half = q * np.sqrt(p * (1 - p) / n + q2n / (4 * n)) / denom
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def wilson_cc_bounds(p: np.ndarray, n: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score bounds with continuity correction (Newcombe 1998, method 4). Used for single
    rates: plain Wilson dips to ~90% coverage at rates near 0 or 1 with tens of trials, the
    corrected one stays above nominal there at a small cost in width."""
    p, n, q = np.broadcast_arrays(np.asarray(p, float), np.asarray(n, float), np.asarray(q, float))
    q2 = q * q
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = 2 * (n + q2)
        lo = (2 * n * p + q2 - 1 - q * np.sqrt(np.maximum(q2 - 2 - 1 / n + 4 * p * (n * (1 - p) + 1), 0.0))) / denom
        hi = (2 * n * p + q2 + 1 + q * np.sqrt(np.maximum(q2 + 2 - 1 / n + 4 * p * (n * (1 - p) - 1), 0.0))) / denom
    # The formula is for whole counts. On an effective count below one half (a design effect that
    # shrinks one event to 0.07) its root's argument turns negative and the clamp above lifted the
    # lower bound: 1 event in 160 trials of 8 prompts gave 0.31% at a design effect of 13.7, 0.02%
    # at 1 (an independent grid covered a true 0.3% in 68% of runs). The bound's own zero is at
    # n p = 1/2, so at or below it the bound is 0 (and 1 for n (1 - p) on the other side).
    lo = np.where((p <= 0) | (n * p <= 0.5), 0.0, lo)
    hi = np.where((p >= 1) | (n * (1 - p) <= 0.5), 1.0, hi)
    return np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)


@dataclass(frozen=True)
class ClusterParts:
    """What the intervals need from one arm: rate, trials, effective n, design effect, the
    per-prompt residuals (k_i - p m_i) and the degrees of freedom of the critical value."""

    p: np.ndarray
    trials: np.ndarray
    n_eff: np.ndarray
    deff: np.ndarray
    resid: np.ndarray
    df: np.ndarray
    n_prompts: np.ndarray


def _total(x: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Sum over prompts (the last axis); with `weights`, each column stands for that many prompts."""
    if weights is None:
        return x.sum(-1)
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:  # the same counts in every data set: one matrix-vector product
        return weights @ x
    return np.einsum("...i,...i->...", x, weights)


def cluster_parts(successes: np.ndarray, trials: np.ndarray, weights: np.ndarray | None = None) -> ClusterParts:
    """Rate and design effect of per-prompt counts (arrays of shape (..., prompts)).

    `weights` (same shape, optional): column i stands for weights[i] prompts with the same counts;
    the figures are those of the data set with each column repeated that often (monitors.power
    simulates large designs as counts of each outcome pair, a few columns however many prompts).

    The design effect is the cluster-robust (sandwich, with the n/(n-1) small-sample factor)
    variance of the ratio estimate divided by its binomial variance, floored at 1. When the rate
    is 0 or 1 the data carry no information about clustering: deff is the mean number of samples
    per prompt (the worst case, samples of a prompt identical), so an all-zero run of 20 prompts x
    5 samples is read as 20 independent observations, not 100; with one or two prompts showing the
    rarer outcome (or, with many samples, holding nearly all of it) they carry little, and deff
    leans that way (by 2/3, 1/3).
    """
    k = np.asarray(successes, dtype=float)
    m = np.asarray(trials, dtype=float)
    total = _total(m, weights)
    n_prompts = _total(m > 0, weights)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = _total(k, weights) / total
        resid = k - p[..., None] * m
        robust = _total(resid**2, weights) / (total**2) * n_prompts / np.maximum(n_prompts - 1, 1)
        binomial = p * (1 - p) / total
        worst = np.maximum(total / np.maximum(n_prompts, 1), 1.0)
        deff = np.where(binomial > 0, np.maximum(robust / binomial, 1.0), worst)
    # Only the prompts that show the rarer outcome tell the residuals anything about clustering: with
    # one or two of them one event looks binomial however unequal the prompts are (1 event in 10
    # prompts x 10 samples read as 100 independent trials gave [0.03%, 8.3%] where 0 events gave [0, 40%],
    # and 92% coverage at rate 0.1 with strong prompt effects). So the design effect moves toward the
    # worst case as those prompts get fewer: all of it with none, 2/3 with one, 1/3 with two. With many
    # samples every prompt shows both outcomes, yet one or two prompts can still carry the residuals
    # (a rare behaviour that a few prompts elicit often): they count as the carriers then, by their
    # effective number (benchmarks/coverage_stress.py: 20 prompts x 1,000 samples at a rate of 2% and
    # ICC 0.3 covered 87% when every prompt showing an event counted).
    spread = effective_prompts(resid, n_prompts, weights)
    carriers = np.fmin(np.minimum(_total(k > 0, weights), _total((m - k) > 0, weights)), spread)
    thin = np.clip(1 - carriers / THIN_CARRIERS, 0.0, 1.0)
    deff = np.maximum(deff, 1 + (worst - 1) * thin)
    clustered = total > n_prompts  # some prompt has more than one trial
    deff = np.where(clustered, deff, 1.0)
    df = np.where(clustered, _df_of(spread, n_prompts), np.inf)
    return ClusterParts(p, total, total / deff, deff, resid, df, n_prompts)


DF_FLOOR = 6
CORRELATION_PAIRS = 10  # pairs up to which a positive correlation gets the full continuity correction
THIN_CARRIERS = 3  # prompts with the rarer outcome below which the design effect leans to the worst case


def effective_df(resid: np.ndarray, n_prompts: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Degrees of freedom of the critical value: the effective number of clusters
    (sum r^2)^2 / sum r^4 minus 1 (Satterthwaite; Carter, Schnepel & Steigerwald 2017), at most
    n_prompts - 1 and at least min(n_prompts - 1, DF_FLOOR).

    When a few prompts carry all the variation (strong prompt effects, a behaviour seen on a few
    prompts) the design effect rests on those few and the critical value says so. The floor keeps
    rare events from being penalised twice: the Wilson score construction already handles few
    events (its variance comes from the hypothesised rate, not from the residuals), so two
    positives out of 300 trials give [0.1%, 3.4%], not [0%, 29%] as t with 1 df would."""
    return _df_of(effective_prompts(resid, n_prompts, weights), n_prompts)


def effective_prompts(resid: np.ndarray, n_prompts: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """The effective number of prompts the residuals are spread over, (sum r^2)^2 / sum r^4: n_prompts
    when they are equal, 1 when one prompt carries them all (n_prompts when every residual is 0)."""
    r2 = resid * resid  # squared once: resid**4 was ~40% of a planner simulation
    s2 = _total(r2, weights)
    s4 = _total(r2 * r2, weights)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s4 > 0, s2 * s2 / np.where(s4 > 0, s4, 1.0), n_prompts)


def _df_of(spread: np.ndarray, n_prompts: np.ndarray) -> np.ndarray:
    top = np.maximum(n_prompts - 1, 1)
    return np.clip(spread - 1, np.minimum(top, DF_FLOOR), top)


def _mover_bounds(a: ClusterParts, b: ClusterParts, phi: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    l1, u1 = wilson_bounds(a.p, a.n_eff, q)
    l2, u2 = wilson_bounds(b.p, b.n_eff, q)
    d = a.p - b.p
    lo = d - np.sqrt(np.maximum(0.0, (a.p - l1) ** 2 - 2 * phi * (a.p - l1) * (u2 - b.p) + (u2 - b.p) ** 2))
    hi = d + np.sqrt(np.maximum(0.0, (u1 - a.p) ** 2 - 2 * phi * (u1 - a.p) * (b.p - l2) + (b.p - l2) ** 2))
    return np.clip(lo, -1.0, 1.0), np.clip(hi, -1.0, 1.0)


def _mover_p_value(a: ClusterParts, b: ClusterParts, phi: np.ndarray, df: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                   alpha: float) -> np.ndarray:
    """The p-value of the MOVER interval (lo, hi) by test inversion: bisect for the critical value q*
    at which the bound on the side of 0 touches 0, and p = the alpha of q* at `df` degrees of freedom.
    Shared by the paired and the independent-groups gap so that each p-value is its own interval's."""
    d = a.p - b.p
    upper_side = d > 0  # the lower bound is the one that can cross 0
    q_lo = np.zeros_like(d)
    q_hi = np.full_like(d, Q_MAX)
    for _ in range(45):
        mid = (q_lo + q_hi) / 2
        l_mid, h_mid = _mover_bounds(a, b, phi, mid)
        excludes = np.where(upper_side, l_mid > 0, h_mid < 0)
        q_lo = np.where(excludes, mid, q_lo)
        q_hi = np.where(excludes, q_hi, mid)
    p = np.where(d == 0, 1.0, two_sided_p(q_lo, df))
    # the bisection's last bit must not contradict the interval: "excludes 0" <=> "p < alpha"
    excl = (lo > 0) | (hi < 0)
    return np.where(excl, np.minimum(p, np.nextafter(alpha, 0)), np.maximum(p, alpha))


def _floored(lo: Any, hi: Any, value: Any, se: Any, q: Any) -> tuple[np.ndarray, np.ndarray]:
    """The interval (lo, hi) with each side at least q x se from `value`, inside [-1, 1]: the Wald
    floor of a paired gap (`_wald_floor`), at the interval's own level or another (`_gap_bounds`,
    `gap_interval`)."""
    with np.errstate(invalid="ignore"):
        half = np.where(np.isfinite(se), np.asarray(q) * se, 0.0)
    return np.clip(np.fmin(lo, value - half), -1.0, 1.0), np.clip(np.fmax(hi, value + half), -1.0, 1.0)


def _wald_floor(d: np.ndarray, se: np.ndarray, df: np.ndarray, q: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                p: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each side of the paired gap's interval at least t x the cluster-robust standard error of the
    per-prompt differences from the estimate, and the p-value the larger of the two tests' (the
    interval excludes 0 only when both do, so "excludes 0" <=> "p < alpha" still holds).

    Why: with many samples on many prompts that keep their rank, the two arms correlate at 0.9 and
    more, and near a correlation of 1 the MOVER half-width is the difference of the two arms' Wilson
    half-widths, which Wilson's skew shortens on the side of 0: 100-1,000 samples on 50-200 prompts
    at rates of 2-5% (or 95-98%) covered 91.8-93.0% (benchmarks/coverage_stress.py). There the
    differences of many prompts are close to normal and t x se covers; where MOVER is the wider of
    the two (few prompts, rare events, zero spread) the floor changes nothing."""
    lo, hi = _floored(lo, hi, d, se, q)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_wald = np.where(se > 0, two_sided_p(np.abs(d) / np.where(se > 0, se, 1.0), df), np.where(d == 0, 1.0, 0.0))
    p = np.maximum(p, p_wald)  # as before the floor, a NaN p (none arises today: no data gives 1) would stay NaN
    excl = (lo > 0) | (hi < 0)
    p = np.where(excl, np.minimum(p, np.nextafter(alpha, 0)), np.maximum(p, alpha))
    return lo, hi, p


def paired_gap_arrays(k_treat: np.ndarray, m_treat: np.ndarray, k_control: np.ndarray, m_control: np.ndarray, alpha: float = ALPHA,
                      weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Vectorised paired gap: value, ci_low, ci_high, p_value (and parts) for arrays whose last
    axis is the prompts (a prompt is paired by position in the four arrays). `weights`: as in
    `cluster_parts`, column i stands for weights[i] prompts with the same four counts."""
    a = cluster_parts(k_treat, m_treat, weights)
    b = cluster_parts(k_control, m_control, weights)
    pairs = np.minimum(a.n_prompts, b.n_prompts)
    with np.errstate(invalid="ignore", divide="ignore"):
        ss = np.sqrt(_total(a.resid**2, weights) * _total(b.resid**2, weights))
        phi = np.where(ss > 0, _total(a.resid * b.resid, weights) / np.where(ss > 0, ss, 1.0), 0.0)
        # With few prompts that agree across the arms the raw correlation is 1 or near it, and the
        # MOVER width collapses to the difference of the two arms' half-widths (zero at equal rates)
        # though the gap lives in the prompts that disagree: 4 prompts covered 88%, 2 pairs 76%. So a
        # positive correlation gets Newcombe's continuity correction (method 10: ad - bc - n/2) in
        # full where it was made for, one sample per prompt (a paired 2 x 2 table: 20 such prompts
        # covered 91% with less), and up to 10 pairs; with s samples per prompt the shares are s
        # times finer and the correction fades as max((10 / pairs)^2, 1 / s^2): near a correlation of
        # 1 a small cut widens the interval a lot (in full at 50 prompts x 5 samples: -8 points of power)
        samples = np.maximum(a.trials / np.maximum(a.n_prompts, 1), b.trials / np.maximum(b.n_prompts, 1))
        fade = np.maximum(np.minimum(1.0, (CORRELATION_PAIRS / np.maximum(pairs, 1)) ** 2), 1 / np.maximum(samples, 1) ** 2)
        shrink = fade / (2 * np.maximum(pairs, 1) * np.sqrt(a.p * (1 - a.p) * b.p * (1 - b.p)))
        phi = np.where(phi > 0, np.maximum(phi - np.nan_to_num(shrink, nan=1.0, posinf=1.0), 0.0), phi)
    with np.errstate(invalid="ignore", divide="ignore"):
        diff_resid = a.resid / a.trials[..., None] - b.resid / b.trials[..., None]
    df = effective_df(diff_resid, pairs, weights)
    q95 = critical_value(df, alpha)
    lo, hi = _mover_bounds(a, b, phi, q95)
    d = a.p - b.p
    p = _mover_p_value(a, b, phi, df, lo, hi, alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        var_a = _total(a.resid**2, weights) / a.trials**2
        var_b = _total(b.resid**2, weights) / b.trials**2
        cov = _total(a.resid * b.resid, weights) / (a.trials * b.trials)
        n = np.minimum(a.n_prompts, b.n_prompts)
        se = np.sqrt(np.maximum(var_a + var_b - 2 * cov, 0.0) * n / np.maximum(n - 1, 1))
    lo, hi, p = _wald_floor(d, se, df, q95, lo, hi, p, alpha)
    return {"value": d, "ci_low": lo, "ci_high": hi, "p_value": p, "se": se, "phi": phi,
            "treat": a, "control": b, "df": df}


def _gap_bounds(gap: dict[str, Any], alpha: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A paired gap's interval (`paired_gap_arrays`' output) at another level (one per data set, as
    small as 1e-300: the lower tail's quantile keeps its precision), from its parts."""
    from scipy.special import ndtri, stdtrit

    df = np.asarray(gap["df"], dtype=float)
    tail = np.asarray(alpha, dtype=float) / 2
    q = -np.where(np.isinf(df), ndtri(tail), stdtrit(np.where(np.isinf(df), 1.0, df), tail))
    lo, hi = _mover_bounds(gap["treat"], gap["control"], gap["phi"], q)
    return _floored(lo, hi, gap["value"], gap["se"], q)


def gap_difference_arrays(k_tb: np.ndarray, m_tb: np.ndarray, k_cb: np.ndarray, m_cb: np.ndarray,
                          k_ta: np.ndarray, m_ta: np.ndarray, k_ca: np.ndarray, m_ca: np.ndarray,
                          alpha: float = ALPHA) -> dict[str, np.ndarray]:
    """gap(B) - gap(A), the gap of each the paired gap (`paired_gap_arrays`) of its treat and control
    counts, on the same prompts (the last axis, in the same order in all eight arrays): "the
    compliance gap after fine-tuning minus before". The interval is the MOVER combination of the two
    gaps' intervals (Zou & Donner 2008) with the correlation of the two gaps' per-prompt residuals;
    a positive correlation is used in part only, fading in from 10 prompts as 1 - 10/prompts (from 4
    prompts it is the two gaps' noise, and taken whole it made 4 prompts of strongly clustered data
    cover 92.4%). The p-value inverts the interval (bisection on the level), so "excludes 0" <=> p < alpha.

    Why not the construction used before (twice the paired gap between the per-prompt averages
    (t_B + c_A)/2 and (c_B + t_A)/2, one observation per prompt): it reads a mix of two rates as one
    binomial, whose variance p(1 - p) exceeds the mix's, so it covered 98.9-100% with a type-I error of
    at most 1.1% and intervals 1.5x (median) as wide as needed. Measured by
    benchmarks/coverage_differences.py (504 cells of 4-200 prompts x 1-10 samples, ICC 0.05-0.7,
    rates 0-99%, one model run twice or two models, 2,000 data sets each): coverage >= 94.9%, type-I
    error <= 5.1%, median width 0.65x the old (p10 0.39x, p90 0.76x), power 30.5% -> 38.3% on average."""
    gb = paired_gap_arrays(k_tb, m_tb, k_cb, m_cb, alpha)
    ga = paired_gap_arrays(k_ta, m_ta, k_ca, m_ca, alpha)

    def contrast(g: dict[str, Any]) -> np.ndarray:  # each prompt's residual of the gap estimate
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.nan_to_num(g["treat"].resid / g["treat"].trials[..., None]
                                 - g["control"].resid / g["control"].trials[..., None])

    eb, ea = contrast(gb), contrast(ga)
    ss = np.sqrt((eb * eb).sum(-1) * (ea * ea).sum(-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(ss > 0, (eb * ea).sum(-1) / np.where(ss > 0, ss, 1.0), 0.0)
    prompts = np.minimum(gb["treat"].n_prompts, ga["treat"].n_prompts)
    r = np.where(r > 0, r * np.clip(1 - CORRELATION_PAIRS / np.maximum(prompts, 1), 0.0, 1.0), r)
    vb, va = gb["value"], ga["value"]
    d = vb - va

    def bounds(level: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lb, ub = _gap_bounds(gb, level)
        la, ua = _gap_bounds(ga, level)
        lo = d - np.sqrt(np.maximum(0.0, (vb - lb) ** 2 + (ua - va) ** 2 - 2 * r * (vb - lb) * (ua - va)))
        hi = d + np.sqrt(np.maximum(0.0, (ub - vb) ** 2 + (va - la) ** 2 - 2 * r * (ub - vb) * (va - la)))
        return np.clip(lo, -2.0, 2.0), np.clip(hi, -2.0, 2.0)

    lo, hi = bounds(alpha)
    # the p-value: the level at which the bound on the side of 0 reaches 0 (log-scale bisection)
    low_exp, high_exp = np.full(np.shape(d), -300.0), np.zeros(np.shape(d))
    for _ in range(60):
        mid = (low_exp + high_exp) / 2
        l_mid, h_mid = bounds(10.0 ** mid)
        excludes = np.where(d > 0, l_mid > 0, h_mid < 0)
        low_exp, high_exp = np.where(excludes, low_exp, mid), np.where(excludes, mid, high_exp)
    p = np.where((d == 0) | np.isnan(d), 1.0, 10.0 ** high_exp)
    excl = (lo > 0) | (hi < 0)
    p = np.where(excl, np.minimum(p, np.nextafter(alpha, 0)), np.maximum(p, alpha))
    return {"value": d, "ci_low": lo, "ci_high": hi, "p_value": p, "correlation": r, "n_prompts": prompts,
            "gap_b": gb, "gap_a": ga}


def group_gap_arrays(k_a: np.ndarray, m_a: np.ndarray, k_b: np.ndarray, m_b: np.ndarray, alpha: float = ALPHA,
                     phi: np.ndarray | float = 0.0) -> dict[str, np.ndarray]:
    """rate(a) - rate(b) for two groups of trials, no trial in both (items of two areas, trials grouped
    by what the model said), each group clustered by prompt: the MOVER combination of the two
    clustered Wilson intervals with correlation `phi` (0: independent groups), inside [-1, 1], and
    its p-value by inverting it (`_mover_p_value`). Arrays' last axis = the prompts of that group;
    the two groups may have different prompts (and lengths).

    A group whose items all agree still has a Wilson interval of positive width on its effective
    n, so it adds uncertainty (a Welch interval on item means took none from it: 86-93% coverage
    with 3 items against 10). The critical value is Student's t with the Satterthwaite effective
    number of prompts over both groups' residuals, less 2 (Welch's df; as `effective_df`)."""
    a = cluster_parts(k_a, m_a)
    b = cluster_parts(k_b, m_b)
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.concatenate([a.resid / a.trials[..., None], b.resid / b.trials[..., None]], axis=-1)
    df = effective_df(np.nan_to_num(scaled), a.n_prompts + b.n_prompts - 1)
    phi = np.broadcast_to(np.asarray(phi, dtype=float), np.shape(a.p))
    lo, hi = _mover_bounds(a, b, phi, critical_value(df, alpha))
    p = _mover_p_value(a, b, phi, df, lo, hi, alpha)
    return {"value": a.p - b.p, "ci_low": lo, "ci_high": hi, "p_value": p, "df": df, "a": a, "b": b}


def clustered_rate_arrays(successes: np.ndarray, trials: np.ndarray, alpha: float = ALPHA) -> tuple[np.ndarray, np.ndarray, ClusterParts]:
    """Vectorised clustered Wilson bounds (last axis = prompts)."""
    parts = cluster_parts(successes, trials)
    lo, hi = wilson_cc_bounds(parts.p, parts.n_eff, critical_value(parts.df, alpha))
    return lo, hi, parts


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of k successes in n independent trials; (nan, nan) when n = 0."""
    if n == 0:
        return (math.nan, math.nan)
    low, high = wilson_bounds(k / n, n, z)
    return (0.0 if k == 0 else float(low), 1.0 if k == n else float(high))


def rate(successes: int, n: int) -> Rate:
    """A rate over n independent trials (e.g. a monitor's agreement over labelled rows): Wilson
    95% interval. For trials that share prompts use `clustered_rate`."""
    low, high = wilson(successes, n)
    return Rate(n, successes, successes / n if n else math.nan, low, high)


def clustered_rate(successes: Sequence[float] | np.ndarray, trials: Sequence[float] | np.ndarray, alpha: float = ALPHA) -> Rate:
    """A rate over prompts with possibly several samples each.

    successes[i], trials[i]: the successes and trials of prompt i (trials may differ between
    prompts, e.g. when error trials were dropped). Returns a `Rate` whose interval is Wilson on the
    design-effect-adjusted n with a t critical value (effective number of prompts - 1 df) and
    continuity correction; with one trial per prompt it is the continuity-corrected Wilson interval.
    The rate itself is total successes / total trials. Successes may be fractional (a prompt's
    share times its trials): for values in [0, 1] the binomial variance bounds the true one, so
    the interval stays valid.
    """
    k = np.asarray(successes, dtype=float)
    m = np.asarray(trials, dtype=float)
    keep = m > 0
    k, m = k[keep], m[keep]
    total, hits = int(m.sum()), int(round(k.sum()))
    if total == 0:
        return Rate(0, 0, math.nan, math.nan, math.nan, 0, 1.0, RATE_METHOD)
    lo, hi, parts = clustered_rate_arrays(k, m, alpha)
    return Rate(total, hits, float(parts.p), float(lo), float(hi), int(len(k)), float(parts.deff), RATE_METHOD)


def paired_gap(
    treat: Sequence[float] | np.ndarray,
    control: Sequence[float] | np.ndarray,
    n_treat: Sequence[float] | np.ndarray | None = None,
    n_control: Sequence[float] | np.ndarray | None = None,
    alpha: float = ALPHA,
) -> Gap:
    """rate(treat) - rate(control) over shared prompts, paired and clustered by prompt.

    treat[i], control[i]: prompt i's mean outcome (share of its trials that succeeded) under each
    condition; n_treat[i], n_control[i]: its number of trials there (default 1 each: one sample per
    prompt). Returns a `Gap` with the (1 - alpha) interval (MOVER of clustered Wilson intervals,
    each side at least t x the cluster-robust se of the per-prompt differences, inside [-1, 1], never
    zero width) and the p-value from inverting that interval, so the interval
    excludes 0 exactly when p < alpha. The value is the difference of trial-weighted rates (with
    equal samples per prompt: the mean per-prompt difference).
    """
    t = np.asarray(treat, dtype=float)
    c = np.asarray(control, dtype=float)
    mt = np.ones_like(t) if n_treat is None else np.asarray(n_treat, dtype=float)
    mc = np.ones_like(c) if n_control is None else np.asarray(n_control, dtype=float)
    keep = (mt > 0) & (mc > 0) & ~np.isnan(t) & ~np.isnan(c)
    t, c, mt, mc = t[keep], c[keep], mt[keep], mc[keep]
    n = len(t)
    if n == 0:
        return Gap(math.nan, math.nan, math.nan, math.nan, 0, math.nan, "none", math.nan, math.nan)
    out = paired_gap_arrays(t * mt, mt, c * mc, mc, alpha)
    return Gap(
        float(out["value"]), float(out["ci_low"]), float(out["ci_high"]), float(out["p_value"]), n,
        float(out["se"]), GAP_METHOD, float(out["treat"].p), float(out["control"].p), float(out["phi"]),
        float(out["treat"].deff), float(out["control"].deff), float(out["treat"].n_eff),
        float(out["control"].n_eff), float(out["df"]),
    )


def gap_interval(gap: Gap | dict, alpha: float) -> tuple[float, float]:
    """The interval of a computed gap at another level (e.g. alpha / k for k simultaneous gaps),
    from the parts a `Gap` (or its summary.json row) keeps: the two rates, their effective n, the
    correlation, the degrees of freedom, the value and its standard error. Same construction as
    `paired_gap`."""
    get = gap.get if isinstance(gap, dict) else lambda key: getattr(gap, key)
    df = get("df")
    df = math.inf if df is None else float(df)
    parts = [ClusterParts(np.asarray(get(f"{arm}_rate"), float), np.nan, np.asarray(get(f"n_eff_{arm}"), float),
                          np.nan, np.zeros(1), np.asarray(df), np.nan) for arm in ("treat", "control")]
    q = critical_value(df, alpha)
    lo, hi = _mover_bounds(parts[0], parts[1], np.asarray(get("correlation") or 0.0, float), q)
    value, se = get("value"), get("se")
    if value is not None and se is not None:  # `_wald_floor`'s sides
        lo, hi = _floored(lo, hi, float(value), float(se), q)
    return float(lo), float(hi)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values (family-wise error control; None/nan stay None).

    Reject every hypothesis whose adjusted p is below alpha and the chance of any false rejection in
    the family stays below alpha, whatever the dependence between the tests.
    """
    idx = [i for i, p in enumerate(p_values) if p is not None and not math.isnan(p)]
    out: list[float | None] = [None] * len(p_values)
    m = len(idx)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda j: p_values[j])):
        running = max(running, min(1.0, (m - rank) * float(p_values[i])))
        out[i] = running
    return out


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate; None/nan stay None)."""
    idx = [i for i, p in enumerate(p_values) if p is not None and not math.isnan(p)]
    out: list[float | None] = [None] * len(p_values)
    m = len(idx)
    running = 1.0
    for rank, i in reversed(list(enumerate(sorted(idx, key=lambda j: p_values[j])))):
        running = min(running, float(p_values[i]) * m / (rank + 1))
        out[i] = min(1.0, running)
    return out
