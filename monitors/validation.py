"""Monitor validation against labels: the figures `monitors.evaluate` prints and the report shows.

Pure functions over plain lists, so the HTML report and the CLI compute the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties count half); None with one class only."""
    pairs = sorted(zip(scores, labels, strict=True), key=lambda p: p[0])
    n_pos = sum(1 for _, y in pairs if y)
    n_neg = len(pairs) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        mid_rank = (i + j + 1) / 2.0  # ranks are 1-based
        rank_sum += mid_rank * sum(1 for k in range(i, j) if pairs[k][1])
        i = j
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


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
        "auroc": auroc(scores, labels),
        "confusion": c,
        "at_max_fpr": at_fpr,
    }
