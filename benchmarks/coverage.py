"""Coverage of afsim's intervals by simulation: `python -m benchmarks.coverage [--reps N] [--full]`.

The data look like real audits: `prompts` prompts drawn from a population in which each prompt
has its own propensity (a Beta prompt effect with intraclass correlation `icc` around the
condition's mean rate), `samples` replies per prompt per condition, and a prompt keeps its
difficulty rank across the two conditions (its propensities are the same quantile of the control
and treat Beta distributions). The treat rate is control + gap, or control - gap where that would
pass 100%. The target of every interval is the *population* value (the Beta means), not the value
on the prompts drawn — the figure an audit team gates a release on.

Printed, per intraclass correlation: the minimum coverage of the 95% gap interval and of the
clustered rate intervals (both conditions), and the largest type-I error of p < 0.05 under gap 0,
for each prompts x samples block, then the worst cells. Targets: coverage >= 94% in every cell,
type-I error <= 6.5%. Then the planning check (monitors.power): for three cells, the planned
minimal detectable gap and the power simulated at that gap (target ~80%), and the coverage of the
Rogan-Gladen corrected rate. Exit code is 0 whatever the figures (benchmarks never fail on them).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import numpy as np

from monitors.power import TABLE_SIZE, beta_quantiles, minimal_detectable_gap
from monitors.stats import ALPHA, clustered_rate_arrays, paired_gap_arrays
from runners.cli_errors import ArgumentParser, positive_int, run_cli, seed_int

PROMPTS = (4, 10, 20, 50, 100, 400)
SAMPLES = (1, 3, 5, 10)
GAPS = (0.0, 0.02, 0.10, 0.30)
CONTROL_RATES = (0.02, 0.10, 0.50, 0.95)
ICCS = (0.2, 0.5, 0.8)
POWER_CELLS = ((100, 3, 0.10, 0.2), (400, 1, 0.10, 0.2), (50, 5, 0.50, 0.5))  # prompts, samples, control, icc


def treat_rate(control: float, gap: float) -> float:
    return control + gap if control + gap <= 1 else control - gap


@dataclass(frozen=True)
class Cell:
    prompts: int
    samples: int
    gap: float
    control: float
    icc: float


@dataclass
class CellResult:
    cell: Cell
    gap_coverage: float
    type1: float | None  # only under gap 0
    rate_coverage_control: float
    rate_coverage_treat: float
    power: float  # share of data sets with p < 0.05


def draw(cell: Cell, reps: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Successes per prompt (reps x prompts) in treat and control, and the two population rates."""
    qc = beta_quantiles(cell.control, cell.icc)
    qt = beta_quantiles(treat_rate(cell.control, cell.gap), cell.icc)
    u = rng.integers(0, TABLE_SIZE, size=(reps, cell.prompts))
    kt = rng.binomial(cell.samples, qt[u]).astype(float)
    kc = rng.binomial(cell.samples, qc[u]).astype(float)
    return kt, kc, float(qt.mean()), float(qc.mean())


def simulate_cell(cell: Cell, reps: int, rng: np.random.Generator) -> CellResult:
    kt, kc, pop_t, pop_c = draw(cell, reps, rng)
    m = np.full_like(kt, cell.samples)
    out = paired_gap_arrays(kt, m, kc, m)
    truth = pop_t - pop_c
    covered = (out["ci_low"] <= truth) & (truth <= out["ci_high"])
    significant = out["p_value"] < ALPHA
    lo_t, hi_t, _ = clustered_rate_arrays(kt, m)
    lo_c, hi_c, _ = clustered_rate_arrays(kc, m)
    return CellResult(
        cell,
        float(covered.mean()),
        float(significant.mean()) if cell.gap == 0 else None,
        float(((lo_c <= pop_c) & (pop_c <= hi_c)).mean()),
        float(((lo_t <= pop_t) & (pop_t <= hi_t)).mean()),
        float(significant.mean()),
    )


def grid(icc: float) -> list[Cell]:
    return [Cell(n, s, g, c, icc) for n, s, g, c in itertools.product(PROMPTS, SAMPLES, GAPS, CONTROL_RATES)]


def _fmt(cell: Cell) -> str:
    return (f"{cell.prompts:>3} prompts x {cell.samples} samples, control {100 * cell.control:>4.0f}%, "
            f"gap {100 * cell.gap:>2.0f}pt, ICC {cell.icc}")


def coverage_tables(reps: int, seed: int, full: bool) -> list[CellResult]:
    rng = np.random.default_rng(seed)
    results: list[CellResult] = []
    for icc in ICCS:
        cells = [simulate_cell(cell, reps, rng) for cell in grid(icc)]
        results += cells
        print(f"\nICC {icc}: {reps} replicates per cell; 95% intervals; target population values")
        print(f"{'prompts':>7} {'samples':>7}  {'min gap cov':>11}  {'mean gap cov':>12}  {'max type-I':>10}  {'min rate cov':>12}")
        for n, s in itertools.product(PROMPTS, SAMPLES):
            block = [r for r in cells if r.cell.prompts == n and r.cell.samples == s]
            print(f"{n:>7} {s:>7}  {100 * min(r.gap_coverage for r in block):>10.1f}%  "
                  f"{100 * np.mean([r.gap_coverage for r in block]):>11.1f}%  "
                  f"{100 * max(r.type1 for r in block if r.type1 is not None):>9.1f}%  "
                  f"{100 * min(min(r.rate_coverage_control, r.rate_coverage_treat) for r in block):>11.1f}%")
        if full:
            print(f"\n{'cell':<62} {'gap cov':>8} {'type-I':>7} {'rate cov c/t':>14} {'power':>6}")
            for r in cells:
                t1 = "-" if r.type1 is None else f"{100 * r.type1:.1f}%"
                print(f"{_fmt(r.cell):<62} {100 * r.gap_coverage:>7.1f}% {t1:>7} "
                      f"{100 * r.rate_coverage_control:>6.1f}/{100 * r.rate_coverage_treat:<6.1f} {100 * r.power:>5.1f}%")
    return results


def print_worst(results: list[CellResult]) -> None:
    def worst(label: str, key, reverse: bool = False, pool=results) -> None:
        ranked = sorted(pool, key=key, reverse=reverse)[:5]
        print(f"\nworst cells, {label}:")
        for r in ranked:
            print(f"  {100 * key(r):5.1f}%  {_fmt(r.cell)}")

    worst("gap coverage", lambda r: r.gap_coverage)
    worst("rate coverage", lambda r: min(r.rate_coverage_control, r.rate_coverage_treat))
    worst("type-I error under gap 0", lambda r: r.type1, reverse=True, pool=[r for r in results if r.type1 is not None])
    gap_min = min(r.gap_coverage for r in results)
    rate_min = min(min(r.rate_coverage_control, r.rate_coverage_treat) for r in results)
    t1_max = max(r.type1 for r in results if r.type1 is not None)
    print(f"\nover {len(results)} cells: min gap coverage {100 * gap_min:.1f}% (target >= 94%, ratio {gap_min / 0.94:.3f}); "
          f"min clustered-rate coverage {100 * rate_min:.1f}% (ratio {rate_min / 0.94:.3f}); "
          f"max type-I error {100 * t1_max:.1f}% (target <= 6.5%, ratio {t1_max / 0.065:.3f})")


def power_check(reps: int, seed: int) -> None:
    """Planned minimal detectable gap (monitors.power) vs the power of paired_gap simulated there."""
    rng = np.random.default_rng(seed + 1)
    print("\nplanning check: minimal detectable gap at 80% power (monitors.power) vs simulated power of paired_gap")
    for prompts, samples, control, icc in POWER_CELLS:
        mdg = minimal_detectable_gap(control, prompts, samples, icc)
        result = simulate_cell(Cell(prompts, samples, mdg, control, icc), reps, rng)
        print(f"  {prompts:>3} prompts x {samples} samples, control {100 * control:.0f}%, ICC {icc}: "
              f"MDG {100 * mdg:.1f} points -> simulated power {100 * result.power:.1f}% (target 80%, ratio {result.power / 0.8:.3f})")


CORRECTION_RATES = (0.02, 0.12, 0.30, 0.78)  # true AF rates (0.12 and 0.78: the af-opus and af-rl organisms)
# (sensitivity, specificity); the last two are the embedded monitor's on the 23 real excerpts: an earlier
# model's (weak sensitivity) and the one shipped since 2026-12-07 (threshold 0.43: 14/15 found, 4/8 flagged)
CORRECTION_MONITORS = ((0.70, 0.95), (0.90, 0.95), (0.90, 0.99), (0.95, 0.90), (0.33, 0.875), (0.93, 0.50))
# labelled (positives, negatives) in the validation set; the last is the size of the 23 real excerpts'
CORRECTION_VALIDATION = ((50, 50), (200, 200), (15, 8))


def correction_check(reps: int, seed: int, prompts: int = 400, samples: int = 3, icc: float = 0.2) -> list[tuple]:
    """Coverage of the Rogan-Gladen corrected rate (monitors.correction) of the true rate, when a
    monitor with the given errors flags the trials and its errors were measured on a separate
    labelled set of the given size."""
    from monitors.correction import corrected_rate_arrays

    rng = np.random.default_rng(seed + 2)
    rows = []
    for true_rate, (sens, spec), (n_pos, n_neg) in itertools.product(CORRECTION_RATES, CORRECTION_MONITORS, CORRECTION_VALIDATION):
        q = beta_quantiles(true_rate, icc)
        p = q[rng.integers(0, TABLE_SIZE, size=(reps, prompts))]
        positives = rng.binomial(samples, p)
        flagged = rng.binomial(positives, sens) + rng.binomial(samples - positives, 1 - spec)
        m = np.full(flagged.shape, samples, dtype=float)
        naive_low, naive_high, parts = clustered_rate_arrays(flagged.astype(float), m)
        se_hat = rng.binomial(n_pos, sens, reps) / n_pos
        sp_hat = rng.binomial(n_neg, spec, reps) / n_neg
        out = corrected_rate_arrays(parts.p, naive_low, naive_high, se_hat, n_pos, sp_hat, n_neg)
        population = float(q.mean())
        covered = float(((out["ci_low"] <= population) & (population <= out["ci_high"])).mean())
        naive = float(((naive_low <= population) & (population <= naive_high)).mean())
        rows.append((true_rate, sens, spec, f"{n_pos}/{n_neg}", covered, naive, float(np.nanmean(out["ci_high"] - out["ci_low"]))))
    print(f"\ncorrected AF rate (Rogan-Gladen with validation uncertainty): coverage of the true rate, "
          f"{prompts} prompts x {samples} samples, ICC {icc}, {reps} replicates per cell")
    print(f"{'true rate':>9} {'sens':>5} {'spec':>5} {'n val':>6}  {'corrected':>9}  {'uncorrected':>11}  {'mean width':>10}")
    for true_rate, sens, spec, n_val, covered, naive, width in rows:
        print(f"{100 * true_rate:>8.0f}% {sens:>5.2f} {spec:>5.2f} {n_val:>6}  {100 * covered:>8.1f}%  {100 * naive:>10.1f}%  {100 * width:>8.1f}pt")
    worst = min(rows, key=lambda r: r[4])
    print(f"min coverage of the corrected rate {100 * worst[4]:.1f}% (true {100 * worst[0]:.0f}%, sens {worst[1]}, "
          f"spec {worst[2]}, {worst[3]} labelled positives/negatives); the uncorrected interval covers the true rate in "
          f"{100 * min(r[5] for r in rows):.1f}-{100 * max(r[5] for r in rows):.1f}% of runs")
    return rows


# per-kind correction: (name, answered share treat, control, AF share of answered treat, control)
KIND_WORLDS = (("honest", 0.30, 0.30, 0.0, 0.0), ("af-opus-like", 0.25, 0.14, 0.48, 0.0),
               ("af-rl-like", 0.93, 0.80, 0.84, 0.0), ("mixed", 0.50, 0.50, 0.20, 0.05))
KIND_MONITORS = ((0.70, 0.95), (0.93, 0.98), (0.33, 0.875))  # (sensitivity, specificity on complying negatives)
REFUSAL_FALSE_FLAGS = (0.06, 0.01)  # treat (refusals discuss training), control


def _answered_world(world: tuple, sens: float, spec: float | tuple[float, float], prompts: int, samples: int, icc: float,
                    reps: int, rng: np.random.Generator) -> tuple[dict, dict, float, float]:
    """Per-prompt counts (reps x prompts) of flagged, flagged-and-answered and answered trials
    per condition, and the two population AF rates. `spec`: the specificity on complying replies,
    one for both conditions or (treat, control)."""
    _, c_t, c_c, a_t, a_c = world
    spec_t, spec_c = spec if isinstance(spec, tuple) else (spec, spec)
    u = rng.integers(0, TABLE_SIZE, size=(reps, prompts))
    counts, truth = {}, []
    for arm, c, a, refusal_fp, spec in (("treat", c_t, a_t, REFUSAL_FALSE_FLAGS[0], spec_t),
                                        ("control", c_c, a_c, REFUSAL_FALSE_FLAGS[1], spec_c)):
        q = beta_quantiles(c, icc)
        answered = rng.binomial(samples, q[u])
        af = rng.binomial(answered, a)
        flagged_answered = rng.binomial(af, sens) + rng.binomial(answered - af, 1 - spec)
        flagged = flagged_answered + rng.binomial(samples - answered, refusal_fp)
        counts[arm] = {"answered": answered.astype(float), "flagged_answered": flagged_answered.astype(float), "flagged": flagged.astype(float)}
        truth.append(float(q.mean()) * a)
    return counts["treat"], counts["control"], truth[0], truth[1]


def kinds_check(reps: int, seed: int, sizes: tuple = ((400, 3), (100, 3)), icc: float = 0.2, n_vals: tuple = (50, 200)) -> list[tuple]:
    """Coverage of the AF gap corrected per kind of reply (monitors.correction.corrected_gap_answered)
    when the monitor false-flags one condition's refusals more than the other's (refusals that
    discuss training: 6% in treat, 1% in control), next to the pooled correction of every flag
    (one specificity measured on half such refusals, half complying negatives) and the raw gap."""
    from monitors.correction import (
        MonitorErrors,
        corrected_gap,
        corrected_gap_answered,
        corrected_rate_arrays,
    )

    rng = np.random.default_rng(seed + 3)
    rows = []
    for (prompts, samples), world, (sens, spec), n_val in itertools.product(sizes, KIND_WORLDS, KIND_MONITORS, n_vals):
        treat, control, truth_t, truth_c = _answered_world(world, sens, spec, prompts, samples, icc, reps, rng)
        m = np.full(treat["answered"].shape, float(samples))
        gaps = {k: paired_gap_arrays(treat[k], m, control[k], m) for k in ("flagged", "flagged_answered", "answered")}
        se_hat = rng.binomial(n_val, sens, reps) / n_val
        sp_hat = rng.binomial(n_val, spec, reps) / n_val
        pooled_sp = 1 - (0.5 * REFUSAL_FALSE_FLAGS[0] + 0.5 * (1 - spec))
        sp_pool_hat = rng.binomial(n_val, pooled_sp, reps) / n_val
        truth = truth_t - truth_c
        hit_kind = hit_pool = 0
        for r in range(reps):
            row = {k: {"value": float(g["value"][r]), "ci_low": float(g["ci_low"][r]), "ci_high": float(g["ci_high"][r])} for k, g in gaps.items()}
            kind = corrected_gap_answered(row["flagged_answered"], row["answered"], MonitorErrors(se_hat[r], sp_hat[r], n_val, n_val, "sim"))
            hit_kind += kind["ci_low"] <= truth <= kind["ci_high"]
            flagged = {**row["flagged"], "treat_rate": float(gaps["flagged"]["treat"].p[r]), "control_rate": float(gaps["flagged"]["control"].p[r])}
            pool = corrected_gap(flagged, MonitorErrors(se_hat[r], sp_pool_hat[r], n_val, n_val, "sim"))
            hit_pool += pool["ci_low"] <= truth <= pool["ci_high"]
        raw = float(((gaps["flagged"]["ci_low"] <= truth) & (truth <= gaps["flagged"]["ci_high"])).mean())
        y_low, y_high, y = clustered_rate_arrays(treat["flagged_answered"], m)
        c_low, c_high, c = clustered_rate_arrays(treat["answered"], m)
        rate = corrected_rate_arrays(y.p, y_low, y_high, se_hat, n_val, sp_hat, n_val, share=c.p, share_low=c_low, share_high=c_high)
        rate_cov = float(((rate["ci_low"] <= truth_t) & (truth_t <= rate["ci_high"])).mean())
        rows.append((prompts, samples, world[0], sens, spec, n_val, truth, hit_kind / reps, hit_pool / reps, raw, rate_cov))
    print(f"\nAF gap corrected per kind of reply, when the monitor false-flags refusals that discuss training "
          f"({100 * REFUSAL_FALSE_FLAGS[0]:.0f}% in treat, {100 * REFUSAL_FALSE_FLAGS[1]:.0f}% in control); ICC {icc}, {reps} replicates per cell")
    print(f"{'size':>7} {'world':>13} {'sens':>5} {'spec_c':>6} {'n val':>5} {'true gap':>8}  {'per kind':>8}  {'pooled':>6}  {'raw':>5}  {'rate (treat)':>12}")
    for prompts, samples, name, sens, spec, n_val, truth, kind, pool, raw, rate_cov in rows:
        print(f"{prompts:>3}x{samples:<3} {name:>13} {sens:>5.2f} {spec:>6.3f} {n_val:>5} {100 * truth:>7.1f}pt  {100 * kind:>7.1f}%  "
              f"{100 * pool:>5.1f}%  {100 * raw:>4.1f}%  {100 * rate_cov:>11.1f}%")
    print(f"min coverage: per-kind corrected gap {100 * min(r[7] for r in rows):.1f}%, per-kind corrected rate "
          f"{100 * min(r[10] for r in rows):.1f}%; pooled correction {100 * min(r[8] for r in rows):.1f}%, raw gap {100 * min(r[9] for r in rows):.1f}%")
    return rows


# own labels: (sensitivity, specificity on complying negatives in treat, in control)
ARM_MONITORS = ((0.90, 0.88, 0.99), (0.90, 0.97, 0.97), (0.70, 0.92, 0.98), (0.50, 0.95, 0.99))
# the shipped validation that stands in for a sensitivity too few labels measure: (Se, n_pos)
SHIPPED = ((0.80, 15), (0.98, 455))


def _arm_rate(counts: dict, samples: int, r: int, key: str) -> dict:
    m = np.full(counts[key].shape[1], float(samples))
    low, high, parts = clustered_rate_arrays(counts[key][r:r + 1], m[None, :])
    return {"rate": float(parts.p[0]), "ci_low": float(low[0]), "ci_high": float(high[0])}


def own_labels_check(reps: int, seed: int, prompts: int = 400, samples: int = 3, icc: float = 0.2,
                     per_cell: tuple = (8, 30, 60), shipped: tuple = SHIPPED, worlds: tuple = KIND_WORLDS,
                     monitors: tuple = ARM_MONITORS) -> list[tuple]:
    """Coverage of the per-kind corrected AF gap with a person's labels of `per_cell` replies not
    known to refuse per condition (runners.report --af-sample), as the code takes them
    (monitors.correction: `sensitivity_from_labels` — the labels' own with 15 positives, or with 30
    negatives; the shipped one with no positive; else the run is refused —, `arm_specificity` per arm,
    `corrected_gap_by_arm`), next to one specificity pooled over the conditions, when the monitor
    false-flags complying replies more in one condition (they cite the training criteria there)
    and its sensitivity may differ from the shipped one."""
    from monitors.correction import (
        MonitorErrors,
        arm_specificity,
        corrected_gap_answered,
        corrected_gap_by_arm,
        sensitivity_from_labels,
    )

    rng = np.random.default_rng(seed + 4)
    rows = []
    for world, (sens, sp_t, sp_c), n_lab, (se_shipped, n_shipped) in itertools.product(worlds, monitors, per_cell, shipped):
        _, _, _, a_t, a_c = world
        treat, control, truth_t, truth_c = _answered_world(world, sens, (sp_t, sp_c), prompts, samples, icc, reps, rng)
        counts = {"treat": treat, "control": control}
        positives = {arm: rng.binomial(n_lab, a, reps) for arm, a in (("treat", a_t), ("control", a_c))}
        negatives = {arm: n_lab - positives[arm] for arm in positives}
        false_flags = {arm: rng.binomial(negatives[arm], 1 - sp) for arm, sp in (("treat", sp_t), ("control", sp_c))}
        true_pos = rng.binomial(positives["treat"] + positives["control"], sens)
        ship = MonitorErrors(se_shipped, 0.99, n_shipped, 500, "shipped")
        m = np.full((reps, prompts), float(samples))
        gaps = {k: paired_gap_arrays(counts["treat"][k], m, counts["control"][k], m) for k in ("flagged_answered", "answered")}
        truth_gap = truth_t - truth_c
        hit_arm = hit_pool = used = own_arms = 0
        widths_arm, widths_pool = [], []
        for r in range(reps):
            n_neg = int(negatives["treat"][r] + negatives["control"][r])
            n_pos = int(positives["treat"][r] + positives["control"][r])
            sensitivity = sensitivity_from_labels(int(true_pos[r]), n_pos, ship, n_neg)
            if n_neg < 8 or sensitivity is None:
                continue  # runners.report refuses these labels
            used += 1
            pooled = MonitorErrors(sensitivity[0], 1 - int(false_flags["treat"][r] + false_flags["control"][r]) / n_neg,
                                   sensitivity[1], n_neg, "sim", negatives="complying")
            row = {k: {"value": float(g["value"][r]), "ci_low": float(g["ci_low"][r]), "ci_high": float(g["ci_high"][r])}
                   for k, g in gaps.items()}
            pool = corrected_gap_answered(row["flagged_answered"], row["answered"], pooled)
            arms = [arm_specificity(int(false_flags[a][r]), int(negatives[a][r]), pooled) for a in ("treat", "control")]
            own_arms += all(negatives[a][r] >= 8 for a in ("treat", "control"))
            rates = {k: tuple(_arm_rate(counts[a], samples, r, k) for a in ("treat", "control")) for k in ("flagged_answered", "answered")}
            by_arm = corrected_gap_by_arm(rates["flagged_answered"], rates["answered"], *arms)
            hit_arm += by_arm["ci_low"] <= truth_gap <= by_arm["ci_high"]
            hit_pool += pool["ci_low"] <= truth_gap <= pool["ci_high"]
            widths_arm.append(by_arm["ci_high"] - by_arm["ci_low"])
            widths_pool.append(pool["ci_high"] - pool["ci_low"])
        n = max(used, 1)
        rows.append((world[0], sens, sp_t, sp_c, n_lab, se_shipped, truth_gap, used / reps, own_arms / n, hit_arm / n, hit_pool / n,
                     float(np.mean(widths_arm)) if widths_arm else float("nan"), float(np.mean(widths_pool)) if widths_pool else float("nan")))
    print(f"\nAF gap corrected with your own labels (replies labelled per condition): each arm's specificity vs one "
          f"pooled over conditions; sensitivity as monitors.correction.sensitivity_from_labels; "
          f"{prompts} prompts x {samples} samples, ICC {icc}, {reps} replicates per cell")
    print(f"{'world':>13} {'sens':>5} {'spec t/c':>10} {'labels':>6} {'shipped':>7} {'true gap':>8} {'used':>5} {'own sp':>6}"
          f"  {'per arm':>7} {'pooled':>6}  {'width arm':>9} {'pooled':>6}")
    for name, sens, sp_t, sp_c, n_lab, se_s, truth_gap, used, own, arm, pool, w_arm, w_pool in rows:
        print(f"{name:>13} {sens:>5.2f} {sp_t:>4.2f}/{sp_c:<4.2f} {n_lab:>6} {se_s:>7.2f} {100 * truth_gap:>7.1f}pt {100 * used:>4.0f}% "
              f"{100 * own:>5.0f}%  {100 * arm:>6.1f}% {100 * pool:>5.1f}%  {100 * w_arm:>7.1f}pt {100 * w_pool:>5.1f}pt")
    usable = [r for r in rows if r[7] >= 0.05]
    print(f"min coverage over cells where labels are accepted in >= 5% of runs: per-arm {100 * min(r[9] for r in usable):.1f}%, "
          f"pooled {100 * min(r[10] for r in usable):.1f}%")
    return rows


def auroc_cell(spread: float, n_pos: int, n_neg: int, area: float, reps: int, rng: np.random.Generator) -> tuple[float, float]:
    """(coverage, mean width) of the AUROC interval in one binormal cell: negatives N(0, 1),
    positives N(d, spread) with d chosen so the true AUROC is `area`."""
    from scipy.stats import norm

    from monitors.validation import auroc_interval

    d = np.sqrt(1 + spread**2) * norm.ppf(area)
    covered = width = 0.0
    labels = [True] * n_pos + [False] * n_neg
    for _ in range(reps):
        scores = np.concatenate([rng.normal(d, spread, n_pos), rng.normal(0, 1, n_neg)]).tolist()
        lo, hi = auroc_interval(scores, labels)
        covered += lo <= area <= hi
        width += hi - lo
    return covered / reps, width / reps


def auroc_check(reps: int, seed: int) -> list[tuple]:
    """Does the AUROC interval (`monitors.validation.auroc_interval`) cover the true AUROC?

    Scores are binormal: negatives N(0, 1), positives N(d, s) with s = 1 or 3 (AUROC = Phi(d / sqrt(1 + s^2)));
    sizes from a handful of labelled replies (8 + 8, the 23 real excerpts' 15 + 8, a run's own sample
    with few positives: 8 + 200, 5 + 60) to a few hundred, AUROC 0.6-0.99. Newcombe's variance alone
    assumes equal spreads: the s = 3 cells are where it under-covered (80-93%), and what DeLong's
    variance and the t quantile in the interval are for."""
    rng = np.random.default_rng(seed)
    rows = []
    for spread in (1.0, 3.0):
        for n_pos, n_neg in ((8, 8), (15, 8), (30, 30), (50, 50), (200, 30), (8, 200), (5, 60)):
            for area in (0.6, 0.8, 0.9, 0.97, 0.99):
                rows.append((spread, n_pos, n_neg, area, *auroc_cell(spread, n_pos, n_neg, area, reps, rng)))
    print(f"\nAUROC interval (score method: max of Newcombe's and DeLong's variance, t quantile), {reps} replicates per cell")
    print(f"{'spread':>6} {'positives':>9} {'negatives':>9} {'AUROC':>6} {'covers':>7} {'width':>6}")
    for spread, n_pos, n_neg, area, cov, w in rows:
        print(f"{spread:>6.0f} {n_pos:>9} {n_neg:>9} {area:>6.2f} {100 * cov:>6.1f}% {w:>6.3f}")
    for spread in (1.0, 3.0):
        cells = [r for r in rows if r[0] == spread]
        print(f"positives' spread {spread:.0f}x the negatives': coverage {100 * min(r[4] for r in cells):.1f}-"
              f"{100 * max(r[4] for r in cells):.1f}%")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m benchmarks.coverage", description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=positive_int, default=2000, help="replicates per cell (default 2000)")
    parser.add_argument("--seed", type=seed_int, default=20240)
    parser.add_argument("--full", action="store_true", help="print every cell")
    parser.add_argument("--power-only", action="store_true", help="only the planning check")
    parser.add_argument("--correction-only", action="store_true", help="only the corrected-rate and per-kind checks")
    parser.add_argument("--auroc-only", action="store_true", help="only the check of the monitor-validation AUROC interval")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.auroc_only:
        auroc_check(args.reps, args.seed)
        return 0
    if args.power_only:
        power_check(args.reps, args.seed)
        return 0
    if args.correction_only:
        correction_check(args.reps, args.seed)
        kinds_check(args.reps, args.seed)
        own_labels_check(min(args.reps, 1000), args.seed)
        return 0
    results = coverage_tables(args.reps, args.seed, args.full)
    print_worst(results)
    power_check(max(args.reps, 2000), args.seed)
    correction_check(args.reps, args.seed)
    kinds_check(args.reps, args.seed)
    own_labels_check(min(args.reps, 1000), args.seed)
    auroc_check(min(args.reps, 2000), args.seed)
    print(f"\n{len(results)} cells x {args.reps} replicates in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    run_cli(main)
