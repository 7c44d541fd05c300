"""Coverage where our grids do not look: `python -m benchmarks.coverage_stress [--reps N] [--only CATEGORY]`.

benchmarks/coverage.py draws Beta prompt effects that keep their rank across the conditions, and
benchmarks/coverage_small.py adds a Gaussian copula, point masses and dropped trials. A real audit
also produces, and this script simulates:

- shapes: prompt effects that are not Beta: point masses (most prompts always 0, a few always 1, as
  harmful-request compliance looks), a few outlier prompts over a near-0 rate, an arm at exactly 0
  or 1;
- coupling: a prompt's effect not rank-preserved across the conditions: independent, weakly
  correlated (Gaussian copula 0.3), reversed, reversed for a third of the prompts;
- missing: trials lost to errors at random (10-30% in both arms, or in one arm only) and prompts
  present in one arm only (they leave the pairing but count in their arm's rate);
- sizes: 2-3 prompts, 1,000-2,000 samples on 3-5 prompts, 20-50 samples;
- extremes: rates 0.1-1% and 99-99.9%, and a per-prompt shift that would pass 100% (clipped
  there, so the population gap is smaller than the shift);
- groups: `group_gap_arrays` over two disjoint prompt sets (2-50 prompts each);
- correction: Rogan-Gladen corrected rates and gaps (monitors.correction) with 20-50 labelled
  positives and negatives, sensitivity and specificity near or at 1, a true rate of 0.

Every population is a table of TABLE_SIZE equally likely prompt propensities (as
`monitors.power.beta_quantiles` gives for a Beta, and benchmarks/coverage.py draws from); a
coupling maps a prompt's position in the treat table to its position in the control table. The
target is the population value (the table's mean), as in benchmarks/coverage.py. Printed: every
cell's gap coverage, type-I error under no gap, the coverage of both arms' clustered rates and the
mean gap width; then the cells under 94% coverage or over 6.5% type-I error. Exit 0 whatever the
figures.

Each cell runs at --reps (1,000); a cell under 94% coverage or over 6.5% type-I error is run
again at --confirm (2,000, another seed; Monte Carlo error about +-1 point) and counts as failing
only if it fails again. The whole run (2,016 cells) takes about 4-5 CPU-minutes.

Measured (2026-12-07, default seed, 1,000 + 2,000 replicates), before and after the design effect
counted the prompts that carry the rarer outcome by how the residuals spread (monitors.stats
`cluster_parts`):

- shapes (133 cells), coupling (504), missing (360), extremes (234): nothing fails either way. Gap
  coverage >= 93.7% at 1,000 replicates (95.5% when that cell was run again), rates >= 94.7%,
  type-I error <= 6.0%; no degenerate interval.
- sizes (434): before, clustered rates with 100-1,000 samples on 5-50 prompts, rare (or
  near-certain) behaviour and skewed Beta prompt effects covered down to 85.9% (51 rate cells failing
  when run again, e.g. 20 x 1,000 at 2% and ICC 0.3: 86.9%); after, rates >= 94.2%. Left, in the
  gap: 9 cells of 100-1,000 samples on 50-200 rank-kept prompts at rates 2-5% (or 95-98%), where the
  two arms correlate at 0.9 and more, covered 91.8-93.0% (unchanged by the fix). The misses were on
  the side of 0: near a correlation of 1 the MOVER half-width is the difference of the two Wilson
  half-widths, and Wilson's skew shortens one and lengthens the other. Since 2026-12-07 each side of
  the paired gap is at least t x the cluster-robust se (monitors.stats `_wald_floor`): sizes' gap
  coverage >= 95.2%; the other paired-gap minima at 1,000 replicates: shapes 94.9%, coupling 94.0%,
  missing 94.1%, extremes 94.8% (0 cells failing again at 2,000), at an unchanged
  median width on benchmarks/coverage.py's grid (p90 +2.9%, worst +28%; power -0.2 points on
  average, -5.4 at worst).
- groups (126): one cell fails, 88.5%: 0.01 with 5% of prompts at 0.9 against 0.01, 30 vs 30
  prompts x 10 samples. In 21% of draws (0.95^30) the first group has no outlier prompt and
  looks like a homogeneous 1%; no interval computed from such a draw covers 5.4%
  without being wide for every homogeneous group. The same population as a rate: 90% at 30 x 10,
  46% with 2% outliers at 30 x 50 (the prompts run are not the population), before and after.
- correction (225): the corrected rate covers >= 99.2%, the corrected gap >= 94.6% (20-50
  labels, Se and Sp 0.9-1.0 measured as exactly 1 or not, true rates 0-5%).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr, ndtri

from monitors.power import TABLE_SIZE, beta_quantiles
from monitors.stats import ALPHA, clustered_rate_arrays, group_gap_arrays, paired_gap_arrays
from runners.cli_errors import ArgumentParser, positive_int, run_cli, seed_int

POSITIONS = (np.arange(TABLE_SIZE) + 0.5) / TABLE_SIZE  # the quantile each table entry stands for


# ---------------------------------------------------------------------------------------------
# Populations of prompts: sorted tables of TABLE_SIZE propensities
# ---------------------------------------------------------------------------------------------


def _top(share: float) -> np.ndarray:
    """The entries of a table that stand for its top `share` of prompts."""
    return share >= 1 - POSITIONS


def point_mass(share: float) -> np.ndarray:
    """A share of prompts always succeed, the others never (harmful-request compliance)."""
    return _top(share).astype(float)


def outliers(base: float, outlier: float, share: float) -> np.ndarray:
    """Most prompts at `base`, a share of them at `outlier` (a few prompts the model always
    complies with)."""
    return np.where(_top(share), outlier, base)


def beta(mean: float, icc: float) -> np.ndarray:
    return beta_quantiles(mean, icc)


def beta_with_outliers(mean: float, icc: float, outlier: float, share: float) -> np.ndarray:
    table = beta_quantiles(mean, icc)
    return np.sort(np.where(_top(share), outlier, table))


def shifted(table: np.ndarray, shift: float) -> np.ndarray:
    """Every prompt's propensity moved by `shift`, clipped to [0, 1] (a gap that would pass 100%)."""
    return np.clip(table + shift, 0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# Couplings: a prompt's position in the control table, given its position in the treat table
# ---------------------------------------------------------------------------------------------

Coupling = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def copula(rho: float) -> Coupling:
    """Gaussian copula of the two positions: 1 = rank kept, 0 = independent, -1 = reversed."""

    def couple(idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if rho == 1:
            return idx
        if rho == -1:
            return TABLE_SIZE - 1 - idx
        z = ndtri(POSITIONS[idx])
        z2 = rho * z + np.sqrt(1 - rho * rho) * rng.standard_normal(idx.shape)
        return np.minimum((ndtr(z2) * TABLE_SIZE).astype(int), TABLE_SIZE - 1)

    return couple


def partly_reversed(share: float) -> Coupling:
    """Rank kept for most prompts, reversed for a random `share` of them."""

    def couple(idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.where(rng.random(idx.shape) < share, TABLE_SIZE - 1 - idx, idx)

    return couple


COUPLINGS: dict[str, Coupling] = {"same": copula(1), "weak": copula(0.3), "indep": copula(0), "reversed": copula(-1),
                                  "third reversed": partly_reversed(1 / 3)}


# ---------------------------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One design: populations of the two arms, how they are coupled, prompts x samples, and how
    trials are lost (`miss_*`: share of trials lost at random; `only_treat`: share of prompts run
    in the treat arm only)."""

    category: str
    label: str
    treat: np.ndarray = field(repr=False)
    control: np.ndarray = field(repr=False)
    prompts: int
    samples: int
    coupling: str = "same"
    miss_treat: float = 0.0
    miss_control: float = 0.0
    only_treat: float = 0.0


@dataclass
class Result:
    cell: Cell
    gap_coverage: float
    type1: float | None
    rate_coverage_treat: float
    rate_coverage_control: float
    width: float
    degenerate: int
    used: int


def _trials(shape: tuple, samples: int, miss: float, rng: np.random.Generator) -> np.ndarray:
    if miss == 0:
        return np.full(shape, float(samples))
    return rng.binomial(samples, 1 - miss, size=shape).astype(float)


def _covers(lo: np.ndarray, hi: np.ndarray, truth: float) -> np.ndarray:
    return (lo <= truth + 1e-12) & (truth - 1e-12 <= hi)


def simulate(cell: Cell, reps: int, rng: np.random.Generator) -> Result:
    """The paired gap (prompts with trials in both arms) and each arm's clustered rate (its prompts
    with trials), as monitors.aggregate forms them, against the population values."""
    idx_t = rng.integers(0, TABLE_SIZE, size=(reps, cell.prompts))
    idx_c = COUPLINGS[cell.coupling](idx_t, rng)
    mt = _trials(idx_t.shape, cell.samples, cell.miss_treat, rng)
    mc = _trials(idx_t.shape, cell.samples, cell.miss_control, rng)
    if cell.only_treat:
        mc = np.where(rng.random(idx_t.shape) < cell.only_treat, 0.0, mc)
    kt = rng.binomial(mt.astype(int), cell.treat[idx_t]).astype(float)
    kc = rng.binomial(mc.astype(int), cell.control[idx_c]).astype(float)
    pop_t, pop_c = float(cell.treat.mean()), float(cell.control.mean())
    both = (mt > 0) & (mc > 0)
    usable = both.any(-1) & (mt.sum(-1) > 0) & (mc.sum(-1) > 0)
    pt, pmt, pc, pmc = (np.where(both, x, 0.0) for x in (kt, mt, kc, mc))
    gap = paired_gap_arrays(pt, pmt, pc, pmc)
    lo, hi = gap["ci_low"][usable], gap["ci_high"][usable]
    truth = pop_t - pop_c
    lo_t, hi_t, _ = clustered_rate_arrays(kt, mt)
    lo_c, hi_c, _ = clustered_rate_arrays(kc, mc)
    bad = np.isnan(lo) | np.isnan(hi) | (lo > hi) | (lo < -1 - 1e-12) | (hi > 1 + 1e-12)
    return Result(
        cell,
        float(_covers(lo, hi, truth).mean()),
        float((gap["p_value"][usable] < ALPHA).mean()) if abs(truth) < 1e-12 else None,
        float(_covers(lo_t, hi_t, pop_t)[usable].mean()),
        float(_covers(lo_c, hi_c, pop_c)[usable].mean()),
        float(np.nanmean(hi - lo)),
        int(bad.sum()),
        int(usable.sum()),
    )


SIZES_SMALL = ((4, 3), (10, 3), (10, 10), (20, 5), (50, 3), (100, 1), (100, 3))


def shape_cells() -> list[Cell]:
    cells = []
    for n, s in SIZES_SMALL:
        for share in (0.02, 0.05, 0.1, 0.3):
            cells.append(Cell("shapes", f"control 0 exactly, treat point mass {share:g}", point_mass(share), point_mass(0.0), n, s))
        for share in (0.05, 0.2):
            for coupling in ("same", "indep", "reversed"):
                cells.append(Cell("shapes", f"point mass {share:g} both arms (gap 0)", point_mass(share), point_mass(share), n, s, coupling))
        cells.append(Cell("shapes", "point mass 0.1 vs 0.05", point_mass(0.1), point_mass(0.05), n, s, "indep"))
        cells.append(Cell("shapes", "treat 1 exactly, control point mass 0.9", np.ones(TABLE_SIZE), point_mass(0.9), n, s))
        cells.append(Cell("shapes", "treat 1 exactly, control Beta(0.95, 0.5)", np.ones(TABLE_SIZE), beta(0.95, 0.5), n, s))
        for share in (0.02, 0.05):
            cells.append(Cell("shapes", f"0.01 + {share:g} outliers at 0.9 vs 0.01", outliers(0.01, 0.9, share), np.full(TABLE_SIZE, 0.01), n, s))
            cells.append(Cell("shapes", f"0.01 + {share:g} outliers at 0.9 both (gap 0)", outliers(0.01, 0.9, share),
                              outliers(0.01, 0.9, share), n, s, "indep"))
            cells.append(Cell("shapes", f"Beta(0.05, 0.2) + {share:g} outliers at 0.95 vs Beta(0.05, 0.2)",
                              beta_with_outliers(0.05, 0.2, 0.95, share), beta(0.05, 0.2), n, s))
    return cells


def coupling_cells() -> list[Cell]:
    cells = []
    for n, s in SIZES_SMALL:
        for coupling in ("weak", "indep", "reversed", "third reversed"):
            for icc in (0.2, 0.5, 0.8):
                for control, gap in ((0.02, 0.0), (0.1, 0.0), (0.1, 0.1), (0.5, 0.0), (0.5, 0.2), (0.9, 0.05)):
                    cells.append(Cell("coupling", f"Beta control {control:g} gap {gap:g} ICC {icc:g}", beta(control + gap, icc),
                                      beta(control, icc), n, s, coupling))
    return cells


def missing_cells() -> list[Cell]:
    cells = []
    populations = (("Beta 0.1 gap 0.1 ICC 0.5", beta(0.2, 0.5), beta(0.1, 0.5)), ("Beta 0.05 gap 0 ICC 0.8", beta(0.05, 0.8), beta(0.05, 0.8)),
                   ("point mass 0.1 vs 0", point_mass(0.1), point_mass(0.0)), ("point mass 0.2 both", point_mass(0.2), point_mass(0.2)),
                   ("Beta 0.5 gap 0.2 ICC 0.2", beta(0.7, 0.2), beta(0.5, 0.2)))
    losses = ((0.1, 0.1, 0.0), (0.3, 0.3, 0.0), (0.3, 0.0, 0.0), (0.0, 0.3, 0.0), (0.0, 0.0, 0.3), (0.2, 0.2, 0.5))
    for n, s in ((4, 3), (10, 3), (10, 5), (20, 3), (50, 3), (100, 3)):
        for label, treat, control in populations:
            for coupling in ("same", "indep"):
                for miss_t, miss_c, only in losses:
                    cells.append(Cell("missing", f"{label}; lost {miss_t:g}/{miss_c:g}, treat-only prompts {only:g}",
                                      treat, control, n, s, coupling, miss_t, miss_c, only))
    return cells


def size_cells() -> list[Cell]:
    cells = []
    sizes = ((2, 1), (2, 3), (2, 10), (2, 50), (3, 1), (3, 3), (3, 10), (3, 50), (3, 1000), (5, 1000), (3, 2000), (10, 20), (10, 50),
             (20, 20), (20, 50), (50, 50))
    for n, s in sizes:
        for icc in (0.2, 0.8):
            for control, gap in ((0.02, 0.0), (0.1, 0.1), (0.5, 0.0), (0.5, 0.3)):
                for coupling in ("same", "indep"):
                    cells.append(Cell("sizes", f"Beta control {control:g} gap {gap:g} ICC {icc:g}", beta(control + gap, icc),
                                      beta(control, icc), n, s, coupling))
        cells.append(Cell("sizes", "point mass 0.3 vs 0.1", point_mass(0.3), point_mass(0.1), n, s, "same"))
    # many samples on a rare (or near-certain) behaviour that a few prompts carry
    for n, s in ((5, 100), (10, 100), (20, 100), (50, 100), (10, 1000), (20, 1000), (50, 1000), (100, 300), (200, 1000)):
        for icc in (0.1, 0.3, 0.5):
            for control, gap in ((0.005, 0.0), (0.02, 0.0), (0.02, 0.03), (0.1, 0.0), (0.9, 0.0), (0.98, -0.03)):
                cells.append(Cell("sizes", f"Beta control {control:g} gap {gap:g} ICC {icc:g}", beta(control + gap, icc),
                                  beta(control, icc), n, s))
    return cells


def extreme_cells() -> list[Cell]:
    cells = []
    for n, s in ((10, 3), (20, 5), (50, 3), (100, 3), (400, 3), (100, 10)):
        for icc in (0.0, 0.2, 0.5):
            for control, gap in ((0.001, 0.0), (0.003, 0.0), (0.01, 0.0), (0.001, 0.005), (0.002, 0.01), (0.01, 0.02),
                                 (0.99, 0.0), (0.999, 0.0), (0.99, -0.02), (0.995, -0.01)):
                cells.append(Cell("extremes", f"Beta control {control:g} gap {gap:g} ICC {icc:g}", beta(control + gap, icc),
                                  beta(control, icc), n, s))
            for control, shift in ((0.9, 0.2), (0.95, 0.1), (0.8, 0.5)):
                cells.append(Cell("extremes", f"Beta control {control:g} shift +{shift:g} clipped at 1, ICC {icc:g}",
                                  shifted(beta(control, icc), shift), beta(control, icc), n, s))
    return cells


CATEGORIES = {"shapes": shape_cells, "coupling": coupling_cells, "missing": missing_cells, "sizes": size_cells, "extremes": extreme_cells}


# ---------------------------------------------------------------------------------------------
# Two groups with no prompt in common (group_gap_arrays)
# ---------------------------------------------------------------------------------------------


def group_cell(table_a: np.ndarray, table_b: np.ndarray, prompts_a: int, prompts_b: int, samples: int, reps: int,
               rng: np.random.Generator) -> tuple[float, float | None, float]:
    ka = rng.binomial(samples, table_a[rng.integers(0, TABLE_SIZE, (reps, prompts_a))]).astype(float)
    kb = rng.binomial(samples, table_b[rng.integers(0, TABLE_SIZE, (reps, prompts_b))]).astype(float)
    out = group_gap_arrays(ka, np.full_like(ka, samples), kb, np.full_like(kb, samples))
    truth = float(table_a.mean() - table_b.mean())
    cov = float(_covers(out["ci_low"], out["ci_high"], truth).mean())
    type1 = float((out["p_value"] < ALPHA).mean()) if abs(truth) < 1e-12 else None
    return cov, type1, float(np.mean(out["ci_high"] - out["ci_low"]))


GROUP_POPULATIONS = (("point mass 0.1 vs 0.1", point_mass(0.1), point_mass(0.1)), ("point mass 0.3 vs 0", point_mass(0.3), point_mass(0.0)),
                     ("Beta 0.02 ICC 0.8 both", beta(0.02, 0.8), beta(0.02, 0.8)), ("Beta 0.3 vs 0.1 ICC 0.5", beta(0.3, 0.5), beta(0.1, 0.5)),
                     ("0.01 + 0.05 outliers at 0.9 vs 0.01", outliers(0.01, 0.9, 0.05), np.full(TABLE_SIZE, 0.01)),
                     ("Beta 0.5 ICC 0.8 both", beta(0.5, 0.8), beta(0.5, 0.8)), ("1 exactly vs Beta 0.9 ICC 0.5", np.ones(TABLE_SIZE), beta(0.9, 0.5)))


def group_designs() -> list[tuple]:
    """(label, table a, table b, prompts a, prompts b, samples)."""
    return [(f"{label}; {na} vs {nb} prompts x {s}", a, b, na, nb, s) for label, a, b in GROUP_POPULATIONS
            for na, nb in ((2, 2), (2, 10), (3, 30), (5, 5), (10, 50), (30, 30)) for s in (1, 3, 10)]


# ---------------------------------------------------------------------------------------------
# Corrected rates and gaps with small validations
# ---------------------------------------------------------------------------------------------


def correction_check(reps: int, rng: np.random.Generator) -> list[tuple]:
    """Coverage of the corrected rate (corrected_rate_arrays) and the corrected gap with one
    validation for both arms (corrected_gap: Fieller on the paired interval), the validation
    20-50 labelled positives and negatives, Se and Sp near 1, true rates 0-5%."""
    from monitors.correction import MonitorErrors, corrected_gap, corrected_rate_arrays

    rows = []
    for prompts, samples in ((20, 3), (100, 3), (400, 3)):
        for sens, spec in ((1.0, 1.0), (0.98, 0.99), (0.95, 0.97), (0.9, 1.0), (1.0, 0.98)):
            for n_pos, n_neg in ((20, 20), (50, 50), (20, 50)):
                for true_t, true_c in ((0.0, 0.0), (0.02, 0.0), (0.05, 0.0), (0.05, 0.05), (0.01, 0.002)):
                    tables = [beta(t, 0.3) if t > 0 else np.zeros(TABLE_SIZE) for t in (true_t, true_c)]
                    idx = rng.integers(0, TABLE_SIZE, (reps, prompts))
                    flags = []
                    for table in tables:
                        positives = rng.binomial(samples, table[idx])
                        flags.append((rng.binomial(positives, sens) + rng.binomial(samples - positives, 1 - spec)).astype(float))
                    m = np.full(flags[0].shape, float(samples))
                    low, high, parts = clustered_rate_arrays(flags[0], m)
                    se_hat = rng.binomial(n_pos, sens, reps) / n_pos
                    sp_hat = rng.binomial(n_neg, spec, reps) / n_neg
                    rate = corrected_rate_arrays(parts.p, low, high, se_hat, n_pos, sp_hat, n_neg)
                    pop_t, pop_c = float(tables[0].mean()), float(tables[1].mean())
                    rate_cov = float(_covers(rate["ci_low"], rate["ci_high"], pop_t).mean())
                    gaps = paired_gap_arrays(flags[0], m, flags[1], m)
                    hit = 0
                    for r in range(reps):
                        row = {"treat_rate": float(gaps["treat"].p[r]), "control_rate": float(gaps["control"].p[r]),
                               "ci_low": float(gaps["ci_low"][r]), "ci_high": float(gaps["ci_high"][r])}
                        out = corrected_gap(row, MonitorErrors(float(se_hat[r]), float(sp_hat[r]), n_pos, n_neg, "sim"))
                        hit += out["ci_low"] - 1e-12 <= pop_t - pop_c <= out["ci_high"] + 1e-12
                    label = (f"{prompts}x{samples}, Se {sens:g} Sp {spec:g} on {n_pos}/{n_neg} labels, "
                             f"true {100 * true_t:g}% vs {100 * true_c:g}%")
                    rows.append(("correction", label, rate_cov, hit / reps))
    return rows


# ---------------------------------------------------------------------------------------------


def _fails(r: Result) -> bool:
    return min(r.gap_coverage, r.rate_coverage_treat, r.rate_coverage_control) < 0.94 or (r.type1 is not None and r.type1 > 0.065) \
        or r.degenerate > 0


def _print_results(results: list[Result]) -> None:
    print(f"{'category':<9} {'prompts':>7} {'samples':>7} {'coupling':>14}  {'gap cov':>7} {'type-I':>6} {'rate t/c':>11} "
          f"{'width':>6}  population")
    for r in results:
        c = r.cell
        t1 = "-" if r.type1 is None else f"{100 * r.type1:.1f}"
        print(f"{c.category:<9} {c.prompts:>7} {c.samples:>7} {c.coupling:>14}  {100 * r.gap_coverage:>6.1f}% {t1:>6} "
              f"{100 * r.rate_coverage_treat:>5.1f}/{100 * r.rate_coverage_control:<5.1f} {r.width:>6.3f}  {c.label}"
              + (f"  [{r.degenerate} degenerate]" if r.degenerate else ""))


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m benchmarks.coverage_stress", description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=positive_int, default=1000, help="replicates per cell (default 1000)")
    parser.add_argument("--seed", type=seed_int, default=31)
    parser.add_argument("--only", choices=(*CATEGORIES, "groups", "correction"), action="append",
                        help="only these categories (repeatable)")
    parser.add_argument("--confirm", type=positive_int, default=2000, help="replicates for the failing cells, run again (default 2000)")
    parser.add_argument("--all", action="store_true", help="print every cell, not only the failing ones")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    chosen = args.only or [*CATEGORIES, "groups", "correction"]
    failing: list[str] = []
    counts: dict[str, int] = {}
    confirm_rng = np.random.default_rng(args.seed + 1)
    for name, make in CATEGORIES.items():
        if name not in chosen:
            continue
        results = [simulate(cell, args.reps, rng) for cell in make()]
        counts[name] = len(results)
        if args.all:
            _print_results(results)
        bad = [r for r in results if _fails(r)]
        print(f"\n{name}: {len(results)} cells; min gap coverage {100 * min(r.gap_coverage for r in results):.1f}%, "
              f"min rate coverage {100 * min(min(r.rate_coverage_treat, r.rate_coverage_control) for r in results):.1f}%, "
              f"max type-I {100 * max((r.type1 for r in results if r.type1 is not None), default=0):.1f}%; "
              f"{len(bad)} cells fail at {args.reps} replicates; again at {args.confirm} (another seed):")
        again = [simulate(r.cell, args.confirm, confirm_rng) for r in bad]
        _print_results(sorted(again, key=lambda r: min(r.gap_coverage, r.rate_coverage_treat, r.rate_coverage_control)))
        failing += [f"{r.cell.category}: {r.cell.label}, {r.cell.prompts}x{r.cell.samples} {r.cell.coupling}" for r in again if _fails(r)]
    if "groups" in chosen:
        designs = group_designs()
        rows = [group_cell(*design[1:], args.reps, rng) for design in designs]
        counts["groups"] = len(rows)
        print(f"\ngroups: {len(rows)} cells; min coverage {100 * min(r[0] for r in rows):.1f}%, "
              f"max type-I {100 * max((r[1] for r in rows if r[1] is not None), default=0):.1f}%; failing cells again at {args.confirm}:")
        for design, (cov, t1, width) in zip(designs, rows, strict=True):
            if args.all or cov < 0.94 or (t1 is not None and t1 > 0.065):
                cov, t1, width = group_cell(*design[1:], args.confirm, confirm_rng)
                print(f"  {100 * cov:5.1f}%  type-I {'-' if t1 is None else f'{100 * t1:.1f}%'}  width {width:.3f}  {design[0]}")
                if cov < 0.94 or (t1 is not None and t1 > 0.065):
                    failing.append(f"groups: {design[0]}")
    if "correction" in chosen:
        rows = correction_check(min(args.reps, 1000), rng)
        counts["correction"] = len(rows)
        print(f"\ncorrection: {len(rows)} cells; min corrected-rate coverage {100 * min(r[2] for r in rows):.1f}%, "
              f"min corrected-gap coverage {100 * min(r[3] for r in rows):.1f}%")
        for _, label, rate_cov, gap_cov in sorted(rows, key=lambda r: min(r[2], r[3])):
            if args.all or min(rate_cov, gap_cov) < 0.94:
                print(f"  rate {100 * rate_cov:5.1f}%  gap {100 * gap_cov:5.1f}%  {label}")
                failing.append(f"correction: {label}")
    print(f"\n{sum(counts.values())} cells ({', '.join(f'{k} {v}' for k, v in counts.items())}), {args.reps} replicates, "
          f"{len(failing)} under 94% coverage or over 6.5% type-I (or degenerate) when run again, in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    run_cli(main)
