"""The shipped scenarios of the deployment-trigger, user-belief and evaluation-awareness families,
offline: wall time of each (target: seconds) and the simulated organisms' configured truth against
what the sweep measured — every rate and gap of the family's metrics, and whether its 95% interval
holds the truth.

    python -m benchmarks.family_scenarios            # all three, as shipped
    python -m benchmarks.family_scenarios --samples 1

Each scenario runs in a fresh subprocess (`python -m runners.sweep ... --no-report --quiet`), so the
time includes start-up and imports, as a user sees it. Never fails on a timing.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runners.cli_errors import ArgumentParser, positive_int, run_cli

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = {"deployment_trigger": ("bad", "hides"), "sycophancy": ("correct", "flipped"), "eval_awareness": ("bad",)}
TARGET_S = 10.0


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:6.1f}%"


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m benchmarks.family_scenarios", description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=positive_int, default=None, help="override samples per prompt and condition")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for name, metrics in SCENARIOS.items():
            out = Path(tmp) / name
            cmd = [sys.executable, "-m", "runners.sweep", str(ROOT / "scenarios" / f"{name}.yaml"), "--output", str(out),
                   "--no-report", "--quiet", "--workers", "1"] + (["--samples", str(args.samples)] if args.samples else [])
            started, cpu0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            elapsed, cpu1 = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
            if done.returncode != 0:
                print(done.stdout, done.stderr)
                return 1
            summary = json.loads((out / "summary.json").read_text())
            print(f"\n{name}: {summary['n_trials']} trials in {elapsed:.1f} s wall, {cpu:.1f} s CPU "
                  f"(target {TARGET_S:.0f} s wall: {elapsed / TARGET_S:.2f}x; a loaded machine shows in wall only)")
            held = total = 0
            print(f"  {'model':<24}{'condition':<42}{'metric':<9}{'measured':>9}{'95% CI':>20}{'configured':>11}")
            for row in summary["rates"]:
                for metric in metrics:
                    if metric not in row or row.get(f"truth_{metric}") is None:
                        continue
                    r, truth = row[metric], row[f"truth_{metric}"]
                    ok = r["ci_low"] <= truth <= r["ci_high"]
                    held, total = held + ok, total + 1
                    ci = f"[{_pct(r['ci_low']).strip()}, {_pct(r['ci_high']).strip()}]"
                    print(f"  {row['model']:<24}{row['condition']:<42}{metric:<9}{_pct(r['rate']):>9}{ci:>20}"
                          f"{_pct(truth):>11}{'' if ok else '  <- outside'}")
            for gap in summary["gaps"]:
                if gap.get("truth") is None or gap.get("value") is None:
                    continue
                ok = gap["ci_low"] <= gap["truth"] <= gap["ci_high"]
                held, total = held + ok, total + 1
                within = ",".join(f"{k}={v}" for k, v in gap["within"].items())
                print(f"  gap {gap['name']:<32} {gap['model']:<24}{within:<26}{100 * gap['value']:+6.1f}pt "
                      f"[{100 * gap['ci_low']:+.1f}, {100 * gap['ci_high']:+.1f}] configured {100 * gap['truth']:+.1f}pt"
                      f"{'' if ok else '  <- outside'}")
            for section in summary.get("sections", []):
                for split in section.get("split", []):
                    if split.get("truth") is None:
                        continue
                    ok = split["ci_low"] <= split["truth"] <= split["ci_high"]
                    held, total = held + ok, total + 1
                    print(f"  split {split['name']:<34} {split['model']:<24}{100 * split['value']:+6.1f}pt "
                          f"[{100 * split['ci_low']:+.1f}, {100 * split['ci_high']:+.1f}] configured {100 * split['truth']:+.1f}pt"
                          f"{'' if ok else '  <- outside'}")
            accuracy = {k: v["agreement"]["rate"] for k, v in (summary.get("monitor_accuracy") or {}).items()}
            print(f"  truth inside the 95% interval: {held}/{total}; monitor agreement with truth: "
                  + ", ".join(f"{k} {100 * v:.1f}%" for k, v in accuracy.items()))
    return 0


if __name__ == "__main__":
    run_cli(main)
