"""An independent coverage grid of the rate and paired-gap intervals:
`python -m benchmarks.coverage_independent [--reps 1000] [--rerun 4000] [--probe]`.

Written from scratch by a reviewer who had not written the intervals or the other coverage
benchmarks, to find cells where they fail. Prompt i has latent logits (zT_i, zC_i) ~ BVN(0, 0, 1, 1,
rho) and rate p_ic = expit(mu_c + sigma z_ic), sigma from the latent-scale ICC (0-0.9), mu_c solved
so the population rate E[p] is the cell's rate exactly; S samples per prompt and condition, and a
"messy" design where samples per prompt vary (1..2S-1), a whole prompt-condition errors w.p. 0.15
and each other trial w.p. 0.05 (error trials stay in the table, as in a sweep). Designs: 3-20 prompts
x 1-20 samples, 50 x 1 and 5, 500 x 1; rates 0.5-98% with and without a gap. Targets: the
population (E[p]; docs/results.md "Truth") and the prompts run (the trial-weighted mean of the drawn
p_i, what `aggregate` reports as `truth`). The tool's intervals come from `clustered_rate_arrays`
and `paired_gap_arrays`; every 10th cell is checked against `monitors.aggregate.summarise` on a
trials table (0 mismatches at 1e-9). `--probe`: rates 0.1-0.3% and 99.8%, and 12-50 prompts x 20-50
samples at 5-20% with strong prompt effects. Flagged cells (under 94.5% or type-I over 5.5%) are run
again on fresh replicates (`--rerun`), so the figures printed carry no selection bias.

Measured (2026-12-07): before the rare-count fix of `wilson_cc_bounds`, 69 rate arm-cells under
93.5% at the prompts-run target (rate 0.5%, 20 samples) and, with `--probe`, 132 of 480 rare-rate
cells at the population target (67.4% at worst: one event on a design effect of 13.7 lifted the lower
bound above the truth). After (8,580 cells x 1,000, ~6 CPU-minutes): rates >= 93.8% (population) and
>= 94.8% (prompts run), gaps >= 94.3%, type-I <= 5.55%, 0 cells failing; `--probe`: rare-rate cells
>= 97.6%. Left: with 50 samples per prompt at 5-20% and latent ICC 0.6-0.8 the rate interval covers
the population rate 91.4-93.5% (misses below: skewed prompt effects on 12-50 prompts); the
prompts-run target is covered there. Exit 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
import zlib
from functools import cache

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit

from monitors.aggregate import summarise
from monitors.stats import clustered_rate_arrays, paired_gap_arrays

GH_X = np.linspace(-12, 12, 24001)  # quadrature grid for E over the standard normal
GH_W = np.exp(-GH_X**2 / 2)
GH_W = GH_W / GH_W.sum()
GAPS = [{"name": "g", "metric": "complied", "axis": "tier", "treat": "free", "control": "paid"}]
TREAT_OF = {0.005: 0.02, 0.02: 0.10, 0.1: 0.2, 0.5: 0.65, 0.98: 0.90}


def sigma_of(icc: float) -> float:
    return math.sqrt(icc / (1 - icc) * math.pi**2 / 3) if icc > 0 else 0.0


@cache
def mu_for(rate: float, sigma: float) -> float:
    if sigma == 0:
        return math.log(rate / (1 - rate))
    return brentq(lambda mu: float(GH_W @ expit(mu + sigma * GH_X)) - rate, -200, 200, xtol=1e-13)


def simulate(cell: dict, reps: int, rng: np.random.Generator):
    P, S, icc, rho = cell["P"], cell["S"], cell["icc"], cell["rho"]
    sig = sigma_of(icc)
    muC, muT = mu_for(cell["rate"], sig), mu_for(cell["treat"], sig)
    z1 = rng.standard_normal((reps, P))
    z2 = rho * z1 + math.sqrt(max(0.0, 1 - rho * rho)) * rng.standard_normal((reps, P))
    p = {"T": expit(muT + sig * z1), "C": expit(muC + sig * z2)}
    planned, valid, k = {}, {}, {}
    for c in ("T", "C"):
        if cell["missing"] == "messy":
            mp = rng.integers(1, 2 * S, size=(reps, P)) if S > 1 else np.ones((reps, P), int)
            dead = rng.random((reps, P)) < 0.15
            mv = np.where(dead, 0, rng.binomial(mp, 0.95))
        else:
            mp = np.full((reps, P), S)
            mv = mp.copy()
        planned[c], valid[c] = mp, mv
        k[c] = rng.binomial(mv, p[c])
    return p, planned, valid, k


def tool_arrays(valid, k):
    out = {}
    for c in ("T", "C"):
        lo, hi, parts = clustered_rate_arrays(k[c].astype(float), valid[c].astype(float))
        out[f"rate{c}"] = (lo, hi, parts.p)
    both = (valid["T"] > 0) & (valid["C"] > 0)
    g = paired_gap_arrays(np.where(both, k["T"], 0).astype(float), np.where(both, valid["T"], 0).astype(float),
                          np.where(both, k["C"], 0).astype(float), np.where(both, valid["C"], 0).astype(float))
    npairs = both.sum(-1)
    nan = npairs == 0
    out["gap"] = (np.where(nan, np.nan, g["ci_low"]), np.where(nan, np.nan, g["ci_high"]),
                  np.where(nan, np.nan, g["p_value"]))
    return out, both


def frame_of(planned, valid, k, r):
    """Replicate r as a sweep's trials table (error trials included)."""
    rows = []
    for c, tier in (("T", "free"), ("C", "paid")):
        for i in range(planned[c].shape[1]):
            mp, mv, kk = int(planned[c][r, i]), int(valid[c][r, i]), int(k[c][r, i])
            for s in range(mp):
                ok = s < mv
                rows.append({"run_id": "x", "scenario": "grid", "model": "m", "condition": f"tier={tier}",
                             "cond_tier": tier, "prompt_id": f"p{i:03d}", "sample": s, "key": f"{tier}-{i}-{s}",
                             "parse_status": "ok" if ok else "error",
                             "compliance_label": ("full" if s < kk else "refusal") if ok else None})
    return pd.DataFrame(rows)


def check(cell, planned, valid, k, out, n):
    """The DataFrame entry point (summarise) must give the array path's intervals."""
    bad = 0
    for r in range(min(n, planned["T"].shape[0])):
        summ = summarise(frame_of(planned, valid, k, r), GAPS)
        rates = {row["cond"]["tier"]: row["complied"] for row in summ["rates"]}
        for c, tier in (("T", "free"), ("C", "paid")):
            lo, hi, _ = out[f"rate{c}"]
            rr = rates.get(tier)
            got = (np.nan, np.nan) if rr is None or rr.get("ci_low") is None else (rr["ci_low"], rr["ci_high"])
            if not np.allclose(got, (lo[r], hi[r]), atol=1e-9, equal_nan=True):
                bad += 1
                print("MISMATCH rate", cell, r, c, got, lo[r], hi[r], file=sys.stderr)
        gl, gh, gp = out["gap"]
        gaps = summ["gaps"]
        got = (np.nan, np.nan, np.nan) if not gaps or gaps[0].get("ci_low") is None else (
            gaps[0]["ci_low"], gaps[0]["ci_high"], gaps[0]["p_value"])
        if not np.allclose(got, (gl[r], gh[r], gp[r]), atol=1e-9, equal_nan=True):
            bad += 1
            print("MISMATCH gap", cell, r, got, gl[r], gh[r], gp[r], file=sys.stderr)
    return bad


def measure(cell: dict, reps: int, seed_extra: int = 0, n_check: int = 0) -> dict:
    seed = zlib.crc32(json.dumps(cell, sort_keys=True).encode()) + 7919 * seed_extra
    rng = np.random.default_rng(seed)
    p, planned, valid, k = simulate(cell, reps, rng)
    out, both = tool_arrays(valid, k)
    res = {"reps": reps}
    if n_check:
        res["check_mismatch"] = check(cell, planned, valid, k, out, n_check)
    truth_pop = {"T": cell["treat"], "C": cell["rate"]}
    run = {}
    for c in ("T", "C"):
        with np.errstate(invalid="ignore", divide="ignore"):
            run[c] = (valid[c] * p[c]).sum(-1) / valid[c].sum(-1)
            run[f"pair{c}"] = (np.where(both, valid[c], 0) * p[c]).sum(-1) / np.where(both, valid[c], 0).sum(-1)

    def cover(lo, hi, target):
        ok = ~np.isnan(lo)
        n = int(ok.sum())
        lo_, hi_, t_ = lo[ok], hi[ok], np.broadcast_to(target, lo.shape)[ok]
        return {"n": n, "cov": float(np.mean((lo_ <= t_) & (t_ <= hi_))) if n else math.nan,
                "miss_low": float(np.mean(hi_ < t_)) if n else math.nan,  # interval entirely below target
                "miss_high": float(np.mean(lo_ > t_)) if n else math.nan,
                "width_mean": float(np.mean(hi_ - lo_)) if n else math.nan,
                "width_median": float(np.median(hi_ - lo_)) if n else math.nan}

    for c in ("T", "C"):
        lo, hi, _ = out[f"rate{c}"]
        res[f"rate{c}_pop"] = cover(lo, hi, truth_pop[c])
        res[f"rate{c}_run"] = cover(lo, hi, run[c])
    gl, gh, gp = out["gap"]
    res["gap_pop"] = cover(gl, gh, truth_pop["T"] - truth_pop["C"])
    res["gap_run"] = cover(gl, gh, run["pairT"] - run["pairC"])
    ok = ~np.isnan(gp)
    res["reject"] = float(np.mean(gp[ok] < 0.05)) if ok.any() else math.nan
    res["no_interval"] = int((~ok).sum())
    res["mean_pairs"] = float(both.sum(-1).mean())
    return res


def cells():
    ps = [(P, S) for P in (3, 5, 8, 12, 20) for S in (1, 2, 3, 5, 10, 20)] + [(50, 1), (50, 5), (500, 1)]
    latent = [(0.0, 1.0)] + [(icc, rho) for icc in (0.1, 0.3, 0.6, 0.9) for rho in (1.0, 0.9, 0.3)]
    for (P, S), rate, gap, (icc, rho), missing in itertools.product(ps, TREAT_OF, (0, 1), latent, ("none", "messy")):
        yield {"P": P, "S": S, "rate": rate, "treat": TREAT_OF[rate] if gap else rate, "icc": icc, "rho": rho,
               "missing": missing}


def probe_cells():
    """Second pass, after the main grid: (a) rates below the grid's 0.5% (and their mirror near 1), where the
    main grid's prompts-run failures pointed; (b) more samples at 10-20% rates with strong prompt effects,
    where the main grid's population coverage leaned to one side."""
    for P, S, rate, icc, missing in itertools.product((3, 5, 8, 12, 20), (5, 10, 20), (0.001, 0.002, 0.003, 0.998),
                                                     (0.0, 0.3, 0.6, 0.9), ("none", "messy")):
        yield {"P": P, "S": S, "rate": rate, "treat": rate, "icc": icc, "rho": 0.9, "missing": missing}
    for P, S, rate, icc, missing in itertools.product((12, 20, 30, 50), (20, 50), (0.05, 0.1, 0.2), (0.6, 0.8, 0.9),
                                                     ("none", "messy")):
        yield {"P": P, "S": S, "rate": rate, "treat": rate, "icc": icc, "rho": 0.9, "missing": missing}


def flagged(res, lo=0.945, hi=0.055):
    keys = ["rateT_pop", "rateC_pop", "gap_pop", "rateT_run", "rateC_run", "gap_run"]
    return any(res[k]["cov"] < lo for k in keys if res[k]["n"]) or res["reject"] > hi


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--rerun", type=int, default=4000)
    ap.add_argument("--check", type=int, default=3, help="replicates checked against summarise() in every 10th cell")
    ap.add_argument("--out", help="also write every cell's figures as JSON")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--probe", action="store_true", help="the second-pass cells (probe_cells), --reps each, no rerun")
    a = ap.parse_args()
    t0 = time.process_time()
    results, mism = [], 0
    for j, cell in enumerate(probe_cells() if a.probe else cells()):
        if a.limit and j >= a.limit:
            break
        res = measure(cell, a.reps, 0, a.check if j % 10 == 0 else 0)
        mism += res.get("check_mismatch", 0)
        if flagged(res) and not a.probe:
            res["rerun"] = measure(cell, a.rerun, 1)
        results.append({"cell": cell, **res})
        if j % 200 == 0:
            print(j, f"{time.process_time() - t0:.0f}s cpu", file=sys.stderr, flush=True)
    data = {"results": results, "mismatches": mism, "cpu_s": time.process_time() - t0}
    if a.out:
        with open(a.out, "w") as handle:
            json.dump(data, handle)
    report(data)


KEYS = ["rateT_pop", "rateC_pop", "gap_pop", "rateT_run", "rateC_run", "gap_run"]


def _final(r: dict) -> dict:
    """A flagged cell's figures are those of its fresh rerun."""
    return r.get("rerun") or r


def _se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 1e-12) / n)


def _name(c: dict) -> str:
    return (f"P={c['P']:>3} S={c['S']:>2} C={c['rate']:.3f} T={c['treat']:.3f} icc={c['icc']} rho={c['rho']} "
            f"{c['missing']}")


def report(d: dict) -> None:
    """The minimum coverage per target, the largest type-I error and every failing cell."""
    rows = d["results"]
    print("cells", len(rows), "summarise() mismatches", d["mismatches"], "cpu", round(d["cpu_s"]), "s")
    for k in KEYS:
        vals = [(_final(r)[k]["cov"], r) for r in rows if _final(r)[k]["n"]]
        if not vals:
            continue
        m, worst = min(vals, key=lambda x: x[0])
        print(f"{k:10s} min {100 * m:.1f}% ({_name(worst['cell'])}); mean {100 * sum(v for v, _ in vals) / len(vals):.1f}%")
    null = [_final(r)["reject"] for r in rows if r["cell"]["treat"] == r["cell"]["rate"]]
    print("type-I max", max(null) if null else "-")
    print("\nfailing cells (coverage < 93.5% or type-I > 6.5%; +-1 MC SE; w = mean width)")
    for r in rows:
        f = _final(r)
        msgs = [f"{k} {100 * f[k]['cov']:.1f}+-{100 * _se(f[k]['cov'], f[k]['n']):.1f} (miss below "
                f"{100 * f[k]['miss_low']:.1f} above {100 * f[k]['miss_high']:.1f}) w={f[k]['width_mean']:.3f}"
                for k in KEYS if f[k]["n"] and f[k]["cov"] < 0.935]
        if r["cell"]["treat"] == r["cell"]["rate"] and f["reject"] > 0.065:
            msgs.append(f"type-I {100 * f['reject']:.1f}+-{100 * _se(f['reject'], f['gap_pop']['n']):.1f}")
        if msgs:
            print(_name(r["cell"]), f"reps={f['reps']} pairs={f['mean_pairs']:.1f}", "|", "; ".join(msgs))


if __name__ == "__main__":
    main()
