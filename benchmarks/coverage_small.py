"""Coverage where audits are small: `python -m benchmarks.coverage_small [--reps N] [--which rates|gaps|both]`.

A second grid, written by a reviewer independently of benchmarks/coverage.py and kept because it
found what that one missed (2026-12-07: gap intervals covering 74-89% with 2-10 pairs, rates 92%
with strong prompt effects). It differs from the first grid in how the data are made:

- prompt propensities from Beta(mu c, (1 - mu) c) with concentration c in {0 (every sample of a
  prompt the same), 0.5, 2, inf (no prompt effect)} for gaps (and 1, 5 for rates), true rates
  0.005-0.995;
- the two arms' propensities of a prompt linked by a Gaussian copula with correlation rho in {0.7, 0}
  (the first grid keeps a prompt's rank exactly);
- 4-50 prompts, 1-10 samples, error trials (20% of samples dropped) and "unequal" arms: the control
  arm run on only max(2, prompts / 3) of the prompts, so 2-16 pairs;
- trial counts per prompt shaped as a sweep's (monitors.aggregate pairs a gap over the prompts with
  trials in both arms; a rate uses every prompt of its arm).

Printed: cells, the minimum and mean coverage, the cells below 93% and 94%, the worst five, the
largest type-I error under no gap, and degenerate intervals (NaN, outside the range, zero width
while outcomes vary). Exit 0 whatever the figures. Full grid at 2,000 replicates: ~1 min (rates),
~5 min (gaps) on one core.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
from scipy.special import betaincinv, ndtr

from monitors.stats import clustered_rate_arrays, paired_gap_arrays
from runners.cli_errors import ArgumentParser, positive_int, run_cli, seed_int

INF = float("inf")


def props(mu: float, conc: float, u: np.ndarray) -> np.ndarray:
    if conc == 0:
        return (u < mu).astype(float)
    if conc == INF:
        return np.full(u.shape, mu)
    return betaincinv(mu * conc, (1 - mu) * conc, u)


def trials(shape: tuple, samples: int, err: float, rng: np.random.Generator) -> np.ndarray:
    if err == 0:
        return np.full(shape, float(samples))
    return rng.binomial(samples, 1 - err, size=shape).astype(float)


def _summary(lo: np.ndarray, hi: np.ndarray, truth: float, est: np.ndarray, k: np.ndarray, m: np.ndarray,
             bounds: tuple[float, float]) -> dict:
    ok = ~np.isnan(est)
    lo, hi, k, m = lo[ok], hi[ok], k[ok], m[ok]
    varies = (k.sum(-1) > 0) & (k.sum(-1) < m.sum(-1))
    return {
        "cov": float(((lo <= truth) & (truth <= hi)).mean()),
        "width": float(np.nanmean(hi - lo)),
        "degenerate": int((np.isnan(lo) | np.isnan(hi) | (lo < bounds[0] - 1e-12) | (hi > bounds[1] + 1e-12)
                           | (lo > hi) | ((hi - lo <= 1e-12) & varies)).sum()),
    }


def rate_cell(mu: float, conc: float, n: int, s: int, err: float, reps: int, rng: np.random.Generator) -> dict:
    p = props(mu, conc, rng.random((reps, n)))
    m = trials((reps, n), s, err, rng)
    k = rng.binomial(m.astype(int), p).astype(float)
    lo, hi, parts = clustered_rate_arrays(k, m)
    return _summary(lo, hi, mu, parts.p, k, m, (0.0, 1.0))


def gap_cell(mu_c: float, gap: float, conc: float, n: int, s: int, rho: float, design: str, reps: int,
             rng: np.random.Generator) -> dict:
    mu_t = mu_c + gap if mu_c + gap <= 0.995 else mu_c - gap
    z1 = rng.standard_normal((reps, n))
    z2 = rho * z1 + np.sqrt(1 - rho * rho) * rng.standard_normal((reps, n))
    pt, pc = props(mu_t, conc, ndtr(z1)), props(mu_c, conc, ndtr(z2))
    err = 0.2 if design == "unequal" else 0.0
    mt, mc = trials((reps, n), s, err, rng), trials((reps, n), s, err, rng)
    if design == "unequal":
        mc[:, max(2, n // 3):] = 0
    kt = rng.binomial(mt.astype(int), pt).astype(float)
    kc = rng.binomial(mc.astype(int), pc).astype(float)
    both = (mt > 0) & (mc > 0)
    kt, mt, kc, mc = (np.where(both, x, 0.0) for x in (kt, mt, kc, mc))
    has = both.any(-1)
    out = paired_gap_arrays(kt, mt, kc, mc)
    res = _summary(out["ci_low"], out["ci_high"], mu_t - mu_c, np.where(has, out["value"], np.nan),
                   np.concatenate([kt, kc], -1), np.concatenate([mt, mc], -1), (-1.0, 1.0))
    res["type1"] = float((out["p_value"][has] < 0.05).mean()) if gap == 0 else None
    return res


RATE_GRID = ((0.005, 0.01, 0.03, 0.1, 0.3, 0.5, 0.9, 0.97, 0.995), (0, 0.5, 1, 2, 5, INF), (4, 6, 10, 20, 50),
             (1, 3, 5, 10), (0.0, 0.2))
GAP_GRID = ((0.005, 0.02, 0.1, 0.5, 0.95), (0.0, 0.03, 0.1, 0.3), (0, 0.5, 2, INF), (4, 6, 10, 20, 50), (1, 3, 10),
            (0.7, 0.0), ("balanced", "unequal"))


def _report(name: str, rows: list[tuple[tuple, dict]]) -> None:
    cov = np.array([r["cov"] for _, r in rows])
    print(f"\n{name}: {len(rows)} cells; coverage min {100 * cov.min():.1f}%, mean {100 * cov.mean():.1f}%; "
          f"below 93%: {(cov < 0.93).sum()}, below 94%: {(cov < 0.94).sum()}; "
          f"degenerate intervals: {sum(r['degenerate'] for _, r in rows)}")
    for cell, r in sorted(rows, key=lambda x: x[1]["cov"])[:5]:
        print(f"  {100 * r['cov']:5.1f}%  width {r['width']:.3f}  {cell}")
    t1 = [(r["type1"], cell) for cell, r in rows if r.get("type1") is not None]
    if t1:
        worst = max(t1, key=lambda x: x[0])
        print(f"  largest type-I error under no gap: {100 * worst[0]:.1f}% {worst[1]} (target <= 6.5%)")


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m benchmarks.coverage_small", description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=positive_int, default=2000)
    parser.add_argument("--seed", type=seed_int, default=12)
    parser.add_argument("--which", choices=("rates", "gaps", "both"), default="both")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    if args.which in ("rates", "both"):
        print("rates: (rate, concentration, prompts, samples, error share)")
        _report("rates", [(c, rate_cell(*c, args.reps, rng)) for c in itertools.product(*RATE_GRID)])
    if args.which in ("gaps", "both"):
        print("gaps: (control rate, gap, concentration, prompts, samples, rho, design)")
        _report("gaps", [(c, gap_cell(*c, args.reps, rng)) for c in itertools.product(*GAP_GRID)])
    print(f"\n{args.reps} replicates per cell in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    run_cli(main)
