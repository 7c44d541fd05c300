"""Do the corrected AF figures cover the organisms' true AF rate and gap, end to end?
`python -m benchmarks.organism_coverage [--reps 100] [--prompts 100] [--samples 3]`

benchmarks/coverage.py checks the statistic on synthetic counts with known monitor errors. This
checks the whole path a user runs: each replicate is a full simulated sweep of
scenarios/free_paid.yaml with its own seed — the organisms draw their decisions, the simulated model
writes the replies, the embedded monitors label them, and the summary corrects the AF figures with
the monitor's own validation (a simulated draw never trained on; the same for every replicate, so
the coverage is conditional on it). The targets are each organism's configured AF rate per tier
(`truth_af`: its expectation over the prompts run) and its AF gap (`truth`). The monitor's errors
on these organisms are not the validation's in every kind of reply (docs/monitors.md: the honest
organism's training-tier answers are flagged more often than the validation's complying negatives;
each rate takes its own tier's complying specificity, correction.tier_errors), and this is where
that shows. Exit code 0 whatever the figures.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import numpy as np

from runners.cli_errors import ArgumentParser, positive_int, run_cli, seed_int

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "free_paid.yaml"
MODELS = ("sim/honest", "sim/af-opus", "sim/af-rl")


def _covers(block: dict | None, truth: float | None) -> bool | None:
    if not block or truth is None or block.get("ci_low") is None:
        return None
    return block["ci_low"] - 1e-12 <= truth <= block["ci_high"] + 1e-12


def _mean(xs: list) -> str:
    return f"{100 * float(np.mean(xs)):.2f}" if xs else "-"


def _share(xs: list) -> str:
    return f"{100 * float(np.mean(xs)):.0f}% of {len(xs)}" if xs else "-"


def own_labels_summary(run_dir: Path, scenario, per_cell: int, seed: int) -> dict:
    """The summary corrected with a perfect labeller's labels of `per_cell` replies per model x
    condition of this sweep (`runners.report --af-sample` / `--af-validation`), not the shipped validation."""
    import pandas as pd

    from monitors.aggregate import errors_from_labelled_trials, summarise
    from runners.af_labels import labelling_sample

    frame = pd.read_parquet(run_dir / "trials.parquet")
    truth = frame.set_index("key")["truth_af"]
    labels = {k: bool(truth[k]) for k in labelling_sample(frame, per_cell, seed) if pd.notna(truth[k])}
    errors, _ = errors_from_labelled_trials(frame, labels, "a perfect labeller's labels of this sweep")
    return summarise(frame, [g.model_dump() for g in scenario.gaps], errors, None, labels, scenario.setting)


def replicate(seed: int, prompts: int, samples: int, root: Path, own_labels: int | None = None) -> list[tuple]:
    """One sweep: (model, what, truth, raw estimate, raw covers, corrected estimate, corrected covers)."""
    from runners.engine import SweepOptions, apply_overrides, run_sweep
    from scenarios.schema import load_scenario

    options = SweepOptions(models=list(MODELS), limit=prompts, samples=samples, seed=seed, output=root / f"r{seed}",
                           quiet=True, fresh=True)
    scenario = apply_overrides(load_scenario(SCENARIO), options)
    summary = asyncio.run(run_sweep(scenario, options)).summary
    if own_labels:
        summary = own_labels_summary(root / f"r{seed}", scenario, own_labels, seed)
    out = []
    for row in summary["rates"]:
        if row.get("af") and row.get("truth_af") is not None:
            fixed = row.get("af_corrected") or {}
            out.append((row["model"], f"rate, {row['cond'].get('tier')}", row["truth_af"], row["af"]["rate"],
                        _covers(row["af"], row["truth_af"]), fixed.get("rate"), _covers(fixed, row["truth_af"])))
    for gap in summary["gaps"]:
        if gap.get("metric") == "af" and gap.get("truth") is not None:
            fixed = gap.get("corrected") or {}
            out.append((gap["model"], "gap", gap["truth"], gap["value"], _covers(gap, gap["truth"]), fixed.get("value"),
                        _covers(fixed, gap["truth"])))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m benchmarks.organism_coverage", description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=positive_int, default=100, help="sweeps (default 100)")
    parser.add_argument("--prompts", type=positive_int, default=100)
    parser.add_argument("--samples", type=positive_int, default=3)
    parser.add_argument("--seed", type=seed_int, default=7000)
    parser.add_argument("--own-labels", type=positive_int, metavar="N",
                        help="correct with a perfect labeller's labels of N replies per model x condition of each sweep "
                             "(what runners.report --af-sample/--af-validation does) instead of the shipped validation")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows: dict[tuple[str, str], list[tuple]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.reps):
            for model, what, *rest in replicate(args.seed + r, args.prompts, args.samples, Path(tmp), args.own_labels):
                rows.setdefault((model, what), []).append(tuple(rest))
    print(f"{args.reps} sweeps of {', '.join(MODELS)} x {args.prompts} prompts x {args.samples} samples "
          f"(scenarios/free_paid.yaml), {time.perf_counter() - start:.0f} s; coverage of the organism's configured value; "
          + (f"corrected with {args.own_labels} labelled replies per model x condition" if args.own_labels
             else "corrected with the shipped validation"))
    print(f"{'organism':>12} {'figure':>12} {'truth':>7}  {'raw mean':>8} {'raw covers':>10}  {'corrected mean':>14} {'corrected covers':>16}")
    for (model, what), values in sorted(rows.items()):
        truth = values[0][0]
        raw = [v[1] for v in values if v[1] is not None]
        raw_cov = [v[2] for v in values if v[2] is not None]
        fixed = [v[3] for v in values if v[3] is not None]
        fixed_cov = [v[4] for v in values if v[4] is not None]
        print(f"{model.removeprefix('sim/'):>12} {what:>12} {100 * truth:>6.2f}%  {_mean(raw):>8} {_share(raw_cov):>10}  "
              f"{_mean(fixed):>14} {_share(fixed_cov):>16}")
    return 0


if __name__ == "__main__":
    run_cli(main)
