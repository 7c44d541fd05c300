"""The embedded (simulated) sweep at 1k, 10k and 100k trials: speed, linearity and peak memory.

Each size runs in a fresh subprocess, so its peak RSS is its own and the wall time includes
interpreter start-up and imports, as a user sees it (`--no-report`: the report has its own
benchmark). Inside, the simulated model and the monitors are timed separately, so the rest — cue
building, the LangGraph scenario graph, parsing, records and the store — is printed as *harness
overhead per trial*: the cost of the tool itself, which a real run pays on top of its API calls.

    python -m benchmarks.sim_sweep              # 1k, 10k, 100k
    python -m benchmarks.sim_sweep --sizes 1000 # CI size
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runners.cli_errors import ArgumentParser, positive_int, run_cli

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "free_paid.yaml"
PER_SAMPLE = 6  # free_paid.yaml: 3 models x 2 tiers per prompt and sample


def _shape(n: int) -> tuple[int, int]:
    """(limit, samples) giving at least n trials from free_paid.yaml's 400 prompts."""
    samples = max(1, math.ceil(n / (400 * PER_SAMPLE)))
    limit = min(400, math.ceil(n / (PER_SAMPLE * samples)))
    return limit, samples


def _timed(owner: object, name: str, bucket: dict[str, float]) -> None:
    original = getattr(owner, name)

    if _is_coroutine(original):
        async def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                bucket[name] = bucket.get(name, 0.0) + time.perf_counter() - t0
    else:
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                bucket[name] = bucket.get(name, 0.0) + time.perf_counter() - t0

    setattr(owner, name, wrapper)


def _is_coroutine(fn: object) -> bool:
    import inspect

    return inspect.iscoroutinefunction(fn)


def run_one(n: int, out: Path) -> dict:
    """One size, in this process (called in a child)."""
    started = time.perf_counter()
    import asyncio

    from monitors.registry import MonitorSuite
    from runners.engine import SweepOptions, apply_overrides, run_sweep
    from runners.providers.sim.provider import SimProvider
    from scenarios.schema import load_scenario

    imported = time.perf_counter()
    buckets: dict[str, float] = {}
    _timed(SimProvider, "generate_sync", buckets)
    _timed(MonitorSuite, "classify_batch", buckets)
    limit, samples = _shape(n)
    options = SweepOptions(limit=limit, samples=samples, output=out, fresh=True, quiet=True)
    scenario = apply_overrides(load_scenario(SCENARIO), options)
    result = asyncio.run(run_sweep(scenario, options))
    total = time.perf_counter() - started
    trials = result.planned
    in_trials = result.timings["trials_s"]
    model_s = buckets.get("generate_sync", 0.0)
    monitor_s = buckets.get("classify_batch", 0.0)
    return {
        "trials": trials,
        "wall_s": total,
        "import_s": imported - started,
        "trials_s": in_trials,
        "aggregate_s": result.timings["aggregate_s"],
        "model_ms_per_trial": 1000 * model_s / trials,
        "monitor_ms_per_trial": 1000 * monitor_s / trials,
        "harness_ms_per_trial": 1000 * (in_trials - model_s - monitor_s) / trials,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m benchmarks.sim_sweep", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=positive_int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--one", type=positive_int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.out)))
        return 0

    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    print(f"{'trials':>8} {'wall s':>8} {'trials/s':>9} {'ms/trial':>9} {'harness ms':>11} "
          f"{'model ms':>9} {'monitor ms':>11} {'aggregate s':>12} {'peak MB':>8}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            # taskset pins the child to one core: the target is "on one core"
            cmd = [sys.executable, "-m", "benchmarks.sim_sweep", "--one", str(n), "--out", str(Path(tmp) / f"run{n}")]
            if _has_taskset():
                cmd = ["taskset", "-c", "0", *cmd]
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=SCENARIO.parent.parent)
            if done.returncode != 0:
                print(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "benchmark child failed")
                return 1
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"{row['trials']:>8} {row['wall_s']:>8.2f} {row['trials'] / row['wall_s']:>9.0f} "
                  f"{1000 * row['wall_s'] / row['trials']:>9.3f} {row['harness_ms_per_trial']:>11.3f} "
                  f"{row['model_ms_per_trial']:>9.3f} {row['monitor_ms_per_trial']:>11.3f} "
                  f"{row['aggregate_s']:>12.2f} {row['peak_rss_mb']:>8.0f}")
    ten_k = [r for r in rows if 9_000 <= r["trials"] <= 11_000]
    if ten_k:
        verdict = "meets" if ten_k[0]["wall_s"] < 10 else "MISSES"
        print(f"\n10k trials end to end: {ten_k[0]['wall_s']:.2f} s ({verdict} the < 10 s target)")
    if len(rows) >= 2:
        # the two largest sizes: the smallest run's trial phase is dominated by one-off warm-up
        # (model load, first-batch imports), which says nothing about growth
        first, last = rows[-2], rows[-1]
        per_first = first["trials_s"] / first["trials"]
        per_last = last["trials_s"] / last["trials"]
        print(f"cost per trial, {last['trials']} vs {first['trials']} trials: x{per_last / per_first:.2f} "
              "(1.0 = linear)")
    return 0


def _has_taskset() -> bool:
    from shutil import which

    return which("taskset") is not None


if __name__ == "__main__":
    run_cli(main)
