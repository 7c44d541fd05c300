"""`make bench` / `python -m benchmarks.run_all [--small]`: every benchmark, one after another.

Each prints its own figures and the ratio against its target; none of them fails on a timing
(machines differ), they fail only when the work itself fails. `--small` runs CI-sized versions.
"""

from __future__ import annotations

import subprocess
import sys

from runners.cli_errors import ArgumentParser, run_cli

FULL = [
    ["benchmarks.sim_sweep"],
    ["benchmarks.monitor_throughput"],
    ["benchmarks.monitor_robustness"],
    ["benchmarks.degenerate_replies"],
    ["benchmarks.api_sweep"],
    ["benchmarks.report_100k", "--browser"],
    ["benchmarks.family_scenarios"],
]
SMALL = {
    "benchmarks.sim_sweep": ["--sizes", "1000", "2000"],
    "benchmarks.monitor_throughput": ["--n", "2000"],
    "benchmarks.degenerate_replies": ["--mb", "1"],
    "benchmarks.api_sweep": ["--small"],
    "benchmarks.report_100k": ["--samples", "1", "--run", "/tmp/afsim-report-small"],
    "benchmarks.family_scenarios": ["--samples", "1"],
}


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m benchmarks.run_all", description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="CI sizes (seconds, not minutes)")
    args = parser.parse_args(argv)
    failed = []
    for module, *rest in FULL:
        extra = SMALL.get(module, []) if args.small else rest
        print(f"\n== {module} {' '.join(extra)}".rstrip(), flush=True)
        done = subprocess.run([sys.executable, "-m", module, *extra])
        if done.returncode != 0:
            failed.append(module)
    if failed:
        print(f"\nbenchmarks that failed to run: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    run_cli(main)
