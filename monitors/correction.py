"""Error-aware figures: AF rates and gaps corrected for the monitor's measured errors.

A monitor with sensitivity Se and specificity Sp turns a true rate pi into an observed (flagged)
rate AP = pi Se + (1 - pi)(1 - Sp). The Rogan-Gladen estimate inverts that:

    pi = (AP + Sp - 1) / (Se + Sp - 1),      and for a gap (same monitor in both conditions)
    pi_treat - pi_control = (AP_treat - AP_control) / (Se + Sp - 1).

Se and Sp are themselves estimates from a labelled validation set (n_pos positives, n_neg
negatives), so the interval must carry their uncertainty too. The interval is the delta-method one
of Lang & Reiczigel (2014, *Preventive Veterinary Medicine* 113:13-22) on add-z^2/2-adjusted
inputs: the observed rate enters with its *clustered* effective n (monitors.stats), Se and Sp with
their validation counts; clipped to [0, 1] (rates) or [-1, 1] (gaps). benchmarks/coverage.py
measures its coverage of the true rate by simulation. The correction takes (Se, Sp, n_pos, n_neg)
and a `source` string, so any validation can feed it (the embedded monitor's held-out voices, an
LLM judge's labelled set, the simulated organisms' ground truth); every corrected figure says
which one it used. Errors that differ between conditions (a monitor that false-flags refusals that
discuss training) bias gaps: `corrected_gap` takes one validation per condition when available.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from monitors.stats import Z95

METHOD = "Rogan-Gladen, delta-method interval with validation uncertainty (Lang & Reiczigel 2014)"


@dataclass(frozen=True, slots=True)
class MonitorErrors:
    """A monitor's measured errors: sensitivity on n_pos labelled positives, specificity on n_neg
    labelled negatives, and where they were measured."""

    sensitivity: float
    specificity: float
    n_pos: int
    n_neg: int
    source: str

    @classmethod
    def from_confusion(cls, tp: int, fn: int, tn: int, fp: int, source: str) -> MonitorErrors:
        return cls(tp / (tp + fn) if tp + fn else math.nan, tn / (tn + fp) if tn + fp else math.nan, tp + fn, tn + fp, source)

    @property
    def youden(self) -> float:
        return self.sensitivity + self.specificity - 1

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _adjusted(p: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Add z^2/2 successes and z^2/2 failures (Agresti-Coull), returning (p~, n~)."""
    n_adj = n + z * z
    return (p * n + z * z / 2) / n_adj, n_adj


def corrected_rate_arrays(ap: np.ndarray, n_eff: np.ndarray, se: np.ndarray, n_pos: np.ndarray, sp: np.ndarray, n_neg: np.ndarray, z: float = Z95) -> dict[str, np.ndarray]:
    """Vectorised corrected rate: value (plain Rogan-Gladen, clipped) and its interval."""
    ap, n_eff, se, sp = (np.asarray(x, float) for x in (ap, n_eff, se, sp))
    ap_t, n_t = _adjusted(ap, n_eff, z)
    se_t, ns_t = _adjusted(se, np.asarray(n_pos, float), z)
    sp_t, nn_t = _adjusted(sp, np.asarray(n_neg, float), z)
    with np.errstate(invalid="ignore", divide="ignore"):
        j = se + sp - 1
        value = np.clip((ap + sp - 1) / j, 0.0, 1.0)
        j_t = se_t + sp_t - 1
        tp_t = (ap_t + sp_t - 1) / j_t
        var = (ap_t * (1 - ap_t) / n_t + tp_t**2 * se_t * (1 - se_t) / ns_t + (1 - tp_t) ** 2 * sp_t * (1 - sp_t) / nn_t) / j_t**2
        half = z * np.sqrt(var)
    usable = j_t > 0
    low = np.where(usable, np.clip(tp_t - half, 0.0, 1.0), 0.0)
    high = np.where(usable, np.clip(tp_t + half, 0.0, 1.0), 1.0)
    return {"value": np.where(j > 0, value, np.nan), "ci_low": low, "ci_high": high}


def corrected_rate(observed: dict[str, Any], errors: MonitorErrors) -> dict[str, Any]:
    """The corrected version of a rate row of summary.json (`{rate, n, design_effect, ...}`).

    Returns `{rate, ci_low, ci_high, method, validation}`; a monitor no better than chance
    (Se + Sp <= 1) cannot be corrected for: the rate is None and the interval [0, 1]."""
    n_eff = observed["n"] / (observed.get("design_effect") or 1.0)
    out = corrected_rate_arrays(observed["rate"], n_eff, errors.sensitivity, errors.n_pos, errors.specificity, errors.n_neg)
    value = float(out["value"])
    return {"rate": None if math.isnan(value) else value, "ci_low": float(out["ci_low"]), "ci_high": float(out["ci_high"]),
            "method": METHOD, "validation": errors.as_dict()}


def corrected_gap(gap: dict[str, Any], treat: MonitorErrors, control: MonitorErrors | None = None, z: float = Z95) -> dict[str, Any]:
    """The corrected version of a gap row of summary.json (treat/control rates, `se`).

    With one validation for both conditions the correction divides the gap and its own (paired,
    clustered) interval by Se + Sp - 1, and widens it by that divisor's uncertainty (delta method),
    so it is never narrower than the uncorrected interval scaled. With one per
    condition the two corrected rates are differenced, their validation uncertainties independent."""
    control = control or treat
    ap_t, ap_c = gap["treat_rate"], gap["control_rate"]
    if control is treat:
        se_t, _ = _adjusted(np.asarray(treat.sensitivity), np.asarray(treat.n_pos, float), z)
        sp_t, _ = _adjusted(np.asarray(treat.specificity), np.asarray(treat.n_neg, float), z)
        j, j_t = treat.youden, float(se_t + sp_t - 1)
        if j_t <= 0 or math.isnan(j_t) or gap.get("ci_low") is None:
            return {"value": None, "ci_low": -1.0, "ci_high": 1.0, "method": METHOD, "validation": treat.as_dict()}
        observed = ap_t - ap_c
        d = observed / j_t
        sd_j = math.sqrt(float(se_t * (1 - se_t)) / (treat.n_pos + z * z) + float(sp_t * (1 - sp_t)) / (treat.n_neg + z * z))
        # the gap's own (paired, clustered) interval scaled by 1/J, widened by J's uncertainty
        w_j = z * abs(d) * sd_j / j_t
        low = d - math.hypot((observed - gap["ci_low"]) / j_t, w_j)
        high = d + math.hypot((gap["ci_high"] - observed) / j_t, w_j)
        value = observed / j if j > 0 else None
        return {"value": value, "ci_low": max(-1.0, low), "ci_high": min(1.0, high), "method": METHOD,
                "validation": treat.as_dict()}
    rates = []
    for ap, n_eff, errors in ((ap_t, gap.get("n_eff_treat"), treat), (ap_c, gap.get("n_eff_control"), control)):
        n_eff = n_eff or gap.get("n_pairs") or 1  # effective n of the clustered rate (monitors.stats)
        rates.append(corrected_rate_arrays(ap, n_eff, errors.sensitivity, errors.n_pos, errors.specificity, errors.n_neg, z))
    if any(math.isnan(float(r["value"])) for r in rates):
        return {"value": None, "ci_low": -1.0, "ci_high": 1.0, "method": METHOD,
                "validation": {"treat": treat.as_dict(), "control": control.as_dict()}}
    value = float(rates[0]["value"] - rates[1]["value"])
    # MOVER of the two corrected rates, taken as independent (conservative when the pairing
    # correlates them positively, as it usually does)
    lows = [float(r["value"] - r["ci_low"]) for r in rates]
    highs = [float(r["ci_high"] - r["value"]) for r in rates]
    return {"value": value, "ci_low": max(-1.0, value - math.hypot(lows[0], highs[1])),
            "ci_high": min(1.0, value + math.hypot(highs[0], lows[1])), "method": METHOD,
            "validation": {"treat": treat.as_dict(), "control": control.as_dict()}}


def _from_counts(block: Any, source: str) -> MonitorErrors | None:
    """MonitorErrors from `{tp, fn, tn, fp}` or `{sensitivity, specificity, n_pos, n_neg}`."""
    if not isinstance(block, dict):
        return None
    try:
        if all(block.get(k) is not None for k in ("tp", "fn", "tn", "fp")):
            errors = MonitorErrors.from_confusion(int(block["tp"]), int(block["fn"]), int(block["tn"]), int(block["fp"]), source)
        else:
            errors = MonitorErrors(float(block["sensitivity"]), float(block["specificity"]), int(block["n_pos"]), int(block["n_neg"]), source)
    except (KeyError, TypeError, ValueError):
        return None
    return None if math.isnan(errors.sensitivity) or math.isnan(errors.specificity) else errors


def validation_of(validation: dict[str, Any], simulated: bool = False) -> MonitorErrors | None:
    """The errors to correct with, from an embedded monitor's `validation` object (the model file's,
    monitors.alignment_faking.embedded_validation()): for real models the figures measured on real
    labelled text (`real_text.at_threshold`), falling back to the leave-voice-out ones; for
    simulated organisms the simulated draw (`simulated.by_tier`, pooled over tiers). A flat
    `{source, tp, fn, tn, fp}` (or sensitivity/specificity/n_pos/n_neg) object works too."""
    if not isinstance(validation, dict):
        return None
    if simulated and isinstance(validation.get("simulated"), dict):
        sim = validation["simulated"]
        tiers = [t for t in (sim.get("by_tier") or {}).values() if isinstance(t, dict)]
        pooled = {k: sum(int(t.get(k) or 0) for t in tiers) for k in ("tp", "fn", "tn", "fp")} if tiers else sim.get("at_threshold")
        found = _from_counts(pooled, str(sim.get("about") or "a simulated draw of the organisms"))
        if found:
            return found
    real = validation.get("real_text")
    if isinstance(real, dict):
        where = real.get("source") or "real labelled text"
        found = _from_counts(real.get("at_threshold"), f"real labelled scratchpads ({where}, n={real.get('n')})")
        if found:
            return found
    lvo = validation.get("leave_voice_out")
    if isinstance(lvo, dict):
        found = _from_counts(lvo.get("at_threshold"), f"leave-voice-out on the training corpus ({lvo.get('about') or 'out-of-fold'})")
        if found:
            return found
    return _from_counts(validation, str(validation.get("source") or "the monitor's validation"))


def embedded_monitor_errors(simulated: bool = False) -> MonitorErrors | None:
    """The embedded alignment-faking monitor's errors from its own validation (its model file)."""
    from monitors.alignment_faking import embedded_validation

    try:
        return validation_of(embedded_validation() or {}, simulated)
    except (OSError, ValueError, AttributeError):
        return None
