"""`python -m runners.report RUN_DIR`: re-render a run's summary and report from its store.

Makes no model calls: everything comes from the stored trials and the scenario as run.
"""

from __future__ import annotations

from pathlib import Path

from runners.cli_errors import ArgumentParser, UsageError, run_cli
from runners.engine import STORE_NAME, write_run_files
from runners.store import ResultStore
from scenarios.schema import Scenario, load_scenario


def run_keys(run_dir: Path, scenario: Scenario) -> set[str]:
    """The trials this run counts. A store may hold more (an earlier --limit, --seed or --model
    written to the same folder), so the keys come from the scenario as run, planned again."""
    from runners.engine import plan_trials
    from scenarios.prompt_sets import load_prompts

    prompts = load_prompts(scenario.prompts, scenario.limit)
    return {trial.key for trial in plan_trials(scenario, prompts, run_dir.name)}


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m runners.report", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    args = parser.parse_args(argv)
    if not (args.run_dir / STORE_NAME).exists():
        raise UsageError(f"{args.run_dir}: not a run folder (no {STORE_NAME})")
    scenario = load_scenario(args.run_dir / "scenario.yaml")
    store = ResultStore(args.run_dir / STORE_NAME)
    try:
        simulated = bool((store.meta("run") or {}).get("simulated"))
        write_run_files(args.run_dir, scenario, store, run_keys(args.run_dir, scenario), simulated)
    finally:
        store.close()
    from reports.html import render_report

    print(f"report: {render_report(args.run_dir)}")
    return 0


if __name__ == "__main__":
    run_cli(main)
