"""Monitor validation against labels: the figures `monitors.evaluate` prints and the report shows.

Pure functions over plain lists, so the HTML report and the CLI compute the same numbers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties count half): the mean of the positives' placement
    values. None with one class only, or when a score is NaN (it has no rank)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    if len(s) != len(y):
        raise ValueError(f"auroc: {len(s)} scores for {len(y)} labels")
    if not y.any() or y.all() or np.isnan(s).any():
        return None
    return float(_placements(s, y)[0].mean())


def _auroc_variance(theta: float, n_pos: int, n_neg: int) -> float:
    """Hanley-McNeil variance of an AUROC of `theta`, with both group sizes replaced by their mean
    (Newcombe 2006, method 5): symmetric in the two groups, and defined at every theta."""
    half = (n_pos + n_neg) / 2.0
    q1, q2 = theta / (2.0 - theta), 2.0 * theta * theta / (1.0 + theta)
    return (theta * (1 - theta) + (half - 1) * (q1 - theta * theta) + (half - 1) * (q2 - theta * theta)) / (n_pos * n_neg)


def _placements(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's placement values: per positive, the share of negatives scored below it; per negative,
    the share of positives scored above it (ties count half). Their means are the AUROC."""
    pos, neg = scores[labels], scores[~labels]
    sp, sn = np.sort(pos), np.sort(neg)
    below = (np.searchsorted(sn, pos, "left") + np.searchsorted(sn, pos, "right")) / (2.0 * len(neg))
    above = 1.0 - (np.searchsorted(sp, neg, "left") + np.searchsorted(sp, neg, "right")) / (2.0 * len(pos))
    return below, above


def auroc_interval(scores: Sequence[float], labels: Sequence[bool], level: float = 0.95) -> list[float] | None:
    """Interval of the AUROC of `scores` against `labels`: every theta with
    (AUROC - theta)^2 <= q^2 * max(V_N(theta), V_D * theta(1 - theta) / (A(1 - A))), where V_N is
    Newcombe's (2006, method 5) variance at theta, V_D DeLong's variance from the placement values,
    and q Student's t quantile with the Welch-Satterthwaite degrees of freedom of DeLong's two parts.

    Why this one: labelled sets for a monitor are small (23 real excerpts; a 30-reply sample of one's
    own run), and the usual intervals fail there: a percentile bootstrap covered 86-92% at 15 positives
    / 8 negatives, a Wald interval collapses at 1.0. Newcombe's score interval alone covers when
    positives and negatives spread alike, but its variance knows only the sizes: with a few positives
    spread 3x as wide as many negatives (5-8 against 60-200, the shape of a run's own sample with few
    alignment-faking replies) it covered 80-93%. DeLong's variance sees the spread, and the t quantile
    pays for estimating it from five or eight placements; together (max of the two variances, t) the
    interval covers 94.2-99.8% in every cell of `python -m benchmarks.coverage --auroc-only --reps 4000`
    (spreads 1x and 3x, 5-200 positives, 8-200 negatives, AUROC 0.6-0.99; 95.2-99.4% at equal spreads),
    at about a fifth more width on average (Newcombe alone: 79-100% at 1,000 replicates). Without the t
    quantile (z) it reached 89-90% there. Scaling DeLong's variance by theta(1 - theta) keeps the score
    inversion defined at 0 and 1."""
    from scipy.optimize import brentq
    from scipy.stats import t as student_t

    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    if len(s) != len(y) or np.isnan(s).any():  # an infinite score still has a rank; NaN has none
        return None
    m, n = int(y.sum()), int((~y).sum())
    if m == 0 or n == 0:
        return None
    below, above = _placements(s, y)
    value = float(below.mean())
    c10 = below.var(ddof=1) / m if m > 1 else 0.0
    c01 = above.var(ddof=1) / n if n > 1 else 0.0
    den = (c10 * c10 / (m - 1) if m > 1 else 0.0) + (c01 * c01 / (n - 1) if n > 1 else 0.0)
    df = (c10 + c01) ** 2 / den if den > 0 else max(min(m, n) - 1, 1)
    q = float(student_t.ppf(0.5 + level / 2.0, max(df, 1.0)))
    a0 = min(max(value, 1e-6), 1.0 - 1e-6)
    delong = (c10 + c01) / (a0 * (1.0 - a0))
    gap = lambda t: (value - t) ** 2 - q * q * max(_auroc_variance(t, m, n), delong * t * (1.0 - t))  # noqa: E731
    eps = 1e-9  # at 0 or 1 the variance vanishes too, so the value itself is a root: seek the other
    lo = brentq(gap, 0.0, value - eps) if value > eps and gap(0.0) > 0 else 0.0
    hi = brentq(gap, value + eps, 1.0) if value < 1 - eps and gap(1.0) > 0 else 1.0
    return [round(float(lo), 4), round(float(hi), 4)]


def settings_phrase(settings: Any, n: Any = None) -> tuple[str, list[str]]:
    """("all from setting animal_welfare", ["animal_welfare"]): which settings labelled rows come from, as a
    model file states them (`validation.real_text.settings`, counts by name), for the terminal line, the
    report and the corrected figures' source alike. A name that is not a plain identifier (a damaged
    file) is never echoed: its rows are counted as from no named setting."""
    if not isinstance(settings, dict):
        return "", []
    named = {k: v for k, v in settings.items() if plain_setting(k) and isinstance(v, int) and not isinstance(v, bool) and v > 0}
    if not named:
        return "", []
    names = sorted(named)
    which = f"setting{'s' if len(names) > 1 else ''} {', '.join(names)}"
    total = sum(named.values())
    rows = n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else sum(
        v for v in settings.values() if isinstance(v, int) and not isinstance(v, bool) and v > 0)
    return (f"all from {which}" if total == rows else f"{total} from {which}"), names


_PLAIN_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


def plain_setting(name: Any) -> str | None:
    """`name` when it is a plain setting identifier ("helpful_only"), else None: what may be echoed."""
    return name if isinstance(name, str) and _PLAIN_NAME.fullmatch(name) else None


def confusion(predicted: Sequence[bool], labels: Sequence[bool]) -> dict[str, int]:
    tp = sum(1 for p, y in zip(predicted, labels, strict=True) if p and y)
    fp = sum(1 for p, y in zip(predicted, labels, strict=True) if p and not y)
    fn = sum(1 for p, y in zip(predicted, labels, strict=True) if not p and y)
    return {"tp": tp, "fp": fp, "fn": fn, "tn": len(labels) - tp - fp - fn}


def threshold_for_fpr(scores: Sequence[float], labels: Sequence[bool], max_fpr: float) -> float | None:
    """The lowest threshold (flag when score >= t) whose false-positive rate is <= max_fpr."""
    negatives = sorted((s for s, y in zip(scores, labels, strict=True) if not y), reverse=True)
    if not negatives:
        return None
    allowed = int(max_fpr * len(negatives) + 1e-9)  # negatives we may flag
    candidates = sorted(set(scores), reverse=True)
    best = None
    for t in candidates:
        if sum(1 for s in negatives if s >= t) <= allowed:
            best = t
        else:
            break
    if best is None:  # even the top score lets too many negatives through: flag nothing
        return float(np.nextafter(max(scores), np.inf))
    return float(best)


def evaluate(scores: Sequence[float], labels: Sequence[bool], threshold: float = 0.5, max_fpr: float = 0.05) -> dict[str, Any]:
    """Precision, recall, F1, accuracy, AUROC, confusion at `threshold`, and the max-FPR threshold."""
    labels = [bool(y) for y in labels]
    predicted = [s >= threshold for s in scores]
    c = confusion(predicted, labels)
    precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else None
    recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else (0.0 if precision is not None and recall is not None else None)
    n = len(labels)
    area = auroc(scores, labels)
    fpr_t = threshold_for_fpr(scores, labels, max_fpr)
    at_fpr = None
    if fpr_t is not None:
        c2 = confusion([s >= fpr_t for s in scores], labels)
        at_fpr = {
            "threshold": fpr_t,
            "max_fpr": max_fpr,
            "fpr": c2["fp"] / (c2["fp"] + c2["tn"]) if c2["fp"] + c2["tn"] else None,
            "recall": c2["tp"] / (c2["tp"] + c2["fn"]) if c2["tp"] + c2["fn"] else None,
            "confusion": c2,
        }
    return {
        "n": n,
        "n_positive": sum(labels),
        "threshold": threshold,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy": (c["tp"] + c["tn"]) / n if n else None,
        "auroc": area,
        "auroc_ci": auroc_interval(scores, labels),
        "confusion": c,
        "at_max_fpr": at_fpr,
    }


def _wilson(k: int, n: int) -> list[float] | None:
    from monitors.stats import wilson

    return [round(x, 4) for x in wilson(k, n)] if n else None


def sensitivity_specificity(predicted: Sequence[bool], labels: Sequence[bool]) -> dict[str, Any]:
    """Sensitivity and specificity with their counts and Wilson 95% intervals.

    The counts are the point: an error-corrected rate (Rogan–Gladen) needs them to carry the
    monitor's own uncertainty into its interval, not just the two proportions.
    """
    c = confusion(predicted, labels)
    pos, neg = c["tp"] + c["fn"], c["tn"] + c["fp"]
    return {
        **c,
        "sensitivity": round(c["tp"] / pos, 4) if pos else None,
        "sensitivity_ci": _wilson(c["tp"], pos),
        "specificity": round(c["tn"] / neg, 4) if neg else None,
        "specificity_ci": _wilson(c["tn"], neg),
    }


def flag_rates_by_kind(flags: Sequence[bool], kinds: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Share flagged per kind of record (n, flagged, rate, Wilson 95% interval), e.g. the
    false-positive rate on refusals that discuss training separately from complying replies:
    errors that differ between conditions bias gaps (DESIGN §10)."""
    out: dict[str, dict[str, Any]] = {}
    for kind in sorted(set(kinds)):
        idx = [i for i, k in enumerate(kinds) if k == kind]
        k = sum(1 for i in idx if flags[i])
        out[kind] = {"n": len(idx), "flagged": k, "rate": round(k / len(idx), 4), "ci": _wilson(k, len(idx))}
    return out


def pair_accuracy(scores: Sequence[float], labels: Sequence[bool], pairs: Sequence[Any],
                  threshold: float | None = None) -> dict[str, Any] | None:
    """How often the positive of a contrast pair outscores its negative (ties count half).

    A contrast pair is two scratchpads on one request in one voice that discuss training alike and
    differ in *why* the decision is made. AUROC over a whole set can be high on vocabulary alone;
    within a pair the vocabulary is shared, so this share says whether the score follows the motive.
    Only pair ids with exactly one positive and one negative count; `None` ids are not pairs."""
    members: dict[Any, list[int]] = {}
    for i, p in enumerate(pairs):
        if p is not None:
            members.setdefault(p, []).append(i)
    right = 0.0
    both = 0
    n = skipped = 0
    for idx in members.values():
        if len(idx) != 2 or bool(labels[idx[0]]) == bool(labels[idx[1]]):
            skipped += 1
            continue
        pos, neg = (idx[0], idx[1]) if labels[idx[0]] else (idx[1], idx[0])
        n += 1
        right += 1.0 if scores[pos] > scores[neg] else 0.5 if scores[pos] == scores[neg] else 0.0
        if threshold is not None and scores[pos] >= threshold > scores[neg]:
            both += 1
    if not n:
        return None
    out: dict[str, Any] = {"n_pairs": n, "ranked_right": right, "share": round(right / n, 4), "not_pairs": skipped}
    if threshold is not None:
        out.update(both_right_at_threshold=both, both_right_share=round(both / n, 4))
    return out
