"""False-significant category gaps of the honest organism: `python -m benchmarks.multiplicity [--runs N]`.

The honest organism has no gap in any category. A report that lists a compliance gap and an AF
gap per prompt category (15 categories in the built-in prompt set) gives many chances to see one
"significant" by chance. This runs the free/paid scenario on `sim/honest` with 3 samples per
prompt under N seeds and prints the share of runs in which at least one category gap has p < 0.05,
unadjusted and after the Holm adjustment the report uses (reports.analysis.category_gaps).
Target after adjustment: at most 5% per family (one gap over the categories).
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from pathlib import Path

from reports.analysis import category_gaps
from runners.cli_errors import ArgumentParser, positive_int, run_cli
from runners.store import ResultStore
from runners.sweep import main as sweep_main

GAPS = [
    {"name": "compliance_gap", "metric": "complied", "axis": "tier", "treat": "free", "control": "paid"},
    {"name": "af_gap", "metric": "af", "axis": "tier", "treat": "free", "control": "paid"},
]


def one_run(seed: int, samples: int, limit: int, folder: Path) -> list[dict]:
    out = folder / f"run{seed}"
    with contextlib.redirect_stdout(io.StringIO()):
        sweep_main(["scenarios/free_paid.yaml", "--model", "sim/honest", "--samples", str(samples), "--limit", str(limit),
                    "--seed", str(seed), "--output", str(out), "--quiet", "--no-report", "--cache-dir", str(folder / "cache")])
    return category_gaps(ResultStore(out / "trials.sqlite").frame(), GAPS)


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m benchmarks.multiplicity", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=positive_int, default=100)
    parser.add_argument("--samples", type=positive_int, default=3)
    parser.add_argument("--limit", type=positive_int, default=400)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    raw = {g["name"]: 0 for g in GAPS}
    adjusted = {g["name"]: 0 for g in GAPS}
    any_raw = any_adjusted = 0
    families = 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.runs):
            rows = one_run(seed, args.samples, args.limit, Path(tmp))
            families = len({r["category"] for r in rows})
            for name in raw:
                mine = [r for r in rows if r["name"] == name]
                raw[name] += any((r["p_value"] or 1) < 0.05 for r in mine)
                adjusted[name] += any((r["p_adjusted"] or 1) < 0.05 for r in mine)
            any_raw += any((r["p_value"] or 1) < 0.05 for r in rows)
            any_adjusted += any((r["p_adjusted"] or 1) < 0.05 for r in rows)
    n = args.runs
    print(f"sim/honest, {args.limit} prompts x {args.samples} samples, {families} categories, {n} runs "
          f"({time.perf_counter() - start:.0f} s): runs with at least one category gap at p < 0.05")
    for name in raw:
        print(f"  {name:<15} unadjusted {100 * raw[name] / n:5.1f}%   Holm-adjusted {100 * adjusted[name] / n:5.1f}% "
              f"(target <= 5%, ratio {adjusted[name] / n / 0.05:.2f})")
    print(f"  {'either gap':<15} unadjusted {100 * any_raw / n:5.1f}%   Holm-adjusted {100 * any_adjusted / n:5.1f}%")
    return 0


if __name__ == "__main__":
    run_cli(main)
