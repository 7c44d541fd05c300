"""Report generation for a 100k-trial run: seconds to render report.html, and its size.

Builds the run with the real offline sweep (free_paid.yaml: 3 simulated models x 2 tiers x 400
prompts x 42 samples = 100,800 trials, `--no-report`), then times `render_report` alone, which is
what `python -m runners.report RUN_DIR` does. Above 20k trials the transcript data is embedded
gzip-compressed (reports/payload.py) and the browser pages it 50 rows at a time.

    python -m benchmarks.report_100k                 # build (once) and time
    python -m benchmarks.report_100k --run DIR       # time an existing run folder
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(run_dir: Path, samples: int) -> None:
    if (run_dir / "summary.json").exists():
        return
    subprocess.run([sys.executable, "-m", "runners.sweep", "scenarios/free_paid.yaml", "--samples", str(samples),
                    "--output", str(run_dir), "--quiet", "--no-report"], cwd=ROOT, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=Path("/tmp/afsim-report-100k"), help="run folder (built if missing)")
    parser.add_argument("--samples", type=int, default=42, help="samples per prompt when building (42 -> 100,800 trials)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    build(args.run, args.samples)
    built = time.perf_counter() - t0
    # imported after the build, so the timing below excludes the sweep but not report code
    from reports.html import render_report

    t0 = time.perf_counter()
    out = render_report(args.run)
    seconds = time.perf_counter() - t0
    import json

    trials = json.loads((args.run / "summary.json").read_text())["n_trials"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"trials: {trials}")
    print(f"build (sim sweep, skipped if present): {built:.1f} s")
    print(f"report generation: {seconds:.1f} s  ({1e6 * seconds / trials:.0f} us/trial)")
    print(f"report.html: {out.stat().st_size / 1e6:.1f} MB  ({out})")
    print(f"peak memory (renderer process): {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
