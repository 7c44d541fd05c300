"""Does the planner's 80% hold from 100 prompts up? `python -m benchmarks.planner_power [--reps N] [--sizes]`

monitors.power promises that a gap it plans is found with 80% power by the product's own interval
(monitors.stats.paired_gap). benchmarks/coverage.py checks three cells; this checks the grid where
the normal formula was trusted: control rates {0.5, 1, 2, 5, 20, 50}% x prompts {100, 200, 400, 1000}
x samples {1, 3} x ICC {0.2, 0.5} (96 cells). Per cell: the planner's minimal detectable gap, the
normal formula's (`monitors.power.analytic_mdg`, what the planner used there before 2026-12-07),
and the power of paired_gap at each, re-simulated independently (benchmarks.coverage.simulate_cell:
numpy binomials with another seed, not the planner's shared uniforms). `--sizes` adds the other
question the planner answers: for the gap the planner calls detectable at a cell's prompts (rounded
up to 0.1 point), the prompts it says that gap needs, and the power simulated at that size.

Printed: every cell, then min / median power at the planner's gap and at the formula's, the worst
five cells, and how much larger the planner's gaps are than the formula's (the prompts a gap needs
grow about as the square of that). Target: >= 78% in every cell (80% less Monte Carlo error: with
4,000 replicates a cell's 95% error is +-1.2 points). Exit code 0 whatever the figures.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np

from benchmarks.coverage import Cell, simulate_cell
from monitors.power import analytic_mdg, minimal_detectable_gap, prompts_needed
from runners.cli_errors import ArgumentParser, positive_int, run_cli, seed_int

CONTROL_RATES = (0.005, 0.01, 0.02, 0.05, 0.20, 0.50)
PROMPTS = (100, 200, 400, 1000)
SAMPLES = (1, 3)
ICCS = (0.2, 0.5)
TARGET = 0.78


def _cell(control: float, prompts: int, samples: int, icc: float) -> str:
    return f"control {100 * control:>4.1f}%, {prompts:>4} prompts x {samples} samples, ICC {icc}"


def gap_check(reps: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    print(f"planned minimal detectable gap (80% power) vs power of paired_gap simulated there, {reps} replicates per cell")
    print(f"{'cell':<50} {'formula':>8} {'power':>6}  {'planner':>8} {'power':>6} {'s/gap':>6}")
    for control, prompts, samples, icc in itertools.product(CONTROL_RATES, PROMPTS, SAMPLES, ICCS):
        start = time.perf_counter()
        planned = minimal_detectable_gap(control, prompts, samples, icc)
        seconds = time.perf_counter() - start
        formula = analytic_mdg(control, prompts, samples, icc)
        at_planned = simulate_cell(Cell(prompts, samples, planned, control, icc), reps, rng).power
        at_formula = simulate_cell(Cell(prompts, samples, formula, control, icc), reps, rng).power
        rows.append({"cell": (control, prompts, samples, icc), "planned": planned, "formula": formula,
                     "power": at_planned, "power_formula": at_formula, "seconds": seconds})
        print(f"{_cell(control, prompts, samples, icc):<50} {100 * formula:>6.2f}pt {100 * at_formula:>5.1f}%  "
              f"{100 * planned:>6.2f}pt {100 * at_planned:>5.1f}% {seconds:>6.2f}", flush=True)
    summarise(rows)
    return rows


def summarise(rows: list[dict]) -> None:
    powers = [r["power"] for r in rows]
    formula = [r["power_formula"] for r in rows]
    ratio = [r["planned"] / r["formula"] for r in rows]
    seconds = [r["seconds"] for r in rows]
    print("\nworst cells at the planner's gap:")
    for r in sorted(rows, key=lambda r: r["power"])[:5]:
        print(f"  {100 * r['power']:5.1f}%  {_cell(*r['cell'])}  (gap {100 * r['planned']:.2f} points)")
    print(f"\nover {len(rows)} cells: power at the planner's gap min {100 * min(powers):.1f}%, median "
          f"{100 * float(np.median(powers)):.1f}%, max {100 * max(powers):.1f}% (target >= {100 * TARGET:.0f}%, "
          f"ratio of the min {min(powers) / TARGET:.3f}); cells below target: {sum(p < TARGET for p in powers)}")
    print(f"at the normal formula's gap: min {100 * min(formula):.1f}%, median {100 * float(np.median(formula)):.1f}%, "
          f"cells below target: {sum(p < TARGET for p in formula)}")
    print(f"planner's gap / formula's gap: median {float(np.median(ratio)):.3f}, max {max(ratio):.3f} "
          f"(prompts needed grow about as its square: median {float(np.median(ratio)) ** 2:.2f}x, max {max(ratio) ** 2:.2f}x)")
    print(f"seconds per planned gap: median {float(np.median(seconds)):.2f}, max {max(seconds):.2f}")


def size_check(reps: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed + 1)
    rows = []
    print(f"\nplanned size: prompts the planner says a gap needs vs power of paired_gap simulated there, {reps} replicates per cell")
    print(f"{'cell the gap came from':<50} {'gap':>7} {'prompts':>8} {'power':>6} {'s/plan':>6}")
    for control, prompts, samples, icc in itertools.product(CONTROL_RATES, PROMPTS, SAMPLES, ICCS):
        gap = math.ceil(1000 * minimal_detectable_gap(control, prompts, samples, icc)) / 1000
        start = time.perf_counter()
        needed = prompts_needed(gap, control, samples, icc)
        seconds = time.perf_counter() - start
        power = simulate_cell(Cell(needed, samples, gap, control, icc), reps, rng).power
        rows.append({"cell": (control, prompts, samples, icc), "gap": gap, "prompts": needed, "power": power, "seconds": seconds})
        print(f"{_cell(control, prompts, samples, icc):<50} {100 * gap:>5.1f}pt {needed:>8} {100 * power:>5.1f}% {seconds:>6.2f}", flush=True)
    powers = [r["power"] for r in rows]
    print(f"\nover {len(rows)} plans: power at the planned size min {100 * min(powers):.1f}%, median "
          f"{100 * float(np.median(powers)):.1f}% (target >= {100 * TARGET:.0f}%); cells below target: "
          f"{sum(p < TARGET for p in powers)}; seconds per plan: median {float(np.median([r['seconds'] for r in rows])):.2f}, "
          f"max {max(r['seconds'] for r in rows):.2f}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m benchmarks.planner_power", description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=positive_int, default=4000, help="replicates per simulated power (default 4000)")
    parser.add_argument("--seed", type=seed_int, default=2026)
    parser.add_argument("--sizes", action="store_true", help="also check the planned number of prompts for a gap")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    gap_check(args.reps, args.seed)
    if args.sizes:
        size_check(args.reps, args.seed)
    print(f"\n{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    run_cli(main)
